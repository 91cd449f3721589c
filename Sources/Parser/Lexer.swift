/// One word of a line, with where it starts. The language is line-based and words are
/// separated by spaces or tabs; `:` is a word of its own so `c1:` and `c1 :` read alike.
public struct Token: Sendable, CustomStringConvertible {
    public var text: String
    public var range: SourceRange

    public var description: String { text }
}

enum Lexer {
    /// The words of one line, comments removed.
    static func tokens(of line: String, number: Int) -> [Token] {
        var tokens: [Token] = []
        var current = String.UnicodeScalarView()
        var start = 0
        var column = 0
        func flush() {
            if !current.isEmpty {
                tokens.append(Token(text: String(current), range: SourceRange(line: number, column: start, length: current.count)))
                current = String.UnicodeScalarView()
            }
        }
        for scalar in line.unicodeScalars {
            column += 1
            switch scalar {
            case "#":
                flush()
                return tokens
            case " ", "\t", "\r", "\u{0B}", "\u{0C}":
                flush()
            case ":":
                flush()
                tokens.append(Token(text: ":", range: SourceRange(line: number, column: column, length: 1)))
            default:
                if current.isEmpty { start = column }
                current.append(scalar)
            }
        }
        flush()
        return tokens
    }

    static func isName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, isLetter(first) || first == "_" else { return false }
        return text.unicodeScalars.allSatisfy { isLetter($0) || isDigit($0) || $0 == "_" || $0 == "." }
    }

    static func isDigit(_ s: Unicode.Scalar) -> Bool { s >= "0" && s <= "9" }
    static func isLetter(_ s: Unicode.Scalar) -> Bool { (s >= "a" && s <= "z") || (s >= "A" && s <= "Z") }

    static func isAllDigits(_ text: Substring) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy(isDigit)
    }

    /// A decimal as the language writes it: `0.5`, `1e-4`, `-0.1`, `2`. No `inf`, `nan` or hex.
    static func isDecimal(_ text: String) -> Bool {
        var scalars = Substring(text).unicodeScalars[...]
        if scalars.first == "-" || scalars.first == "+" { scalars = scalars.dropFirst() }
        let mantissa = scalars.prefix { $0 != "e" && $0 != "E" }
        let exponent = scalars.dropFirst(mantissa.count)
        let parts = String(String.UnicodeScalarView(mantissa)).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.allSatisfy({ $0.isEmpty || isAllDigits($0) }),
              parts.contains(where: { !$0.isEmpty }) else { return false }
        if exponent.isEmpty { return true }
        var digits = exponent.dropFirst()
        if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
        return isAllDigits(Substring(String(String.UnicodeScalarView(digits))))
    }
}

/// Levenshtein distance, for "did you mean" notes.
public func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.lowercased().unicodeScalars), b = Array(b.lowercased().unicodeScalars)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var row = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = row
    }
    return previous[b.count]
}

/// The closest candidate, when it is close enough to be what was meant.
public func closestMatch(to word: String, among candidates: [String]) -> String? {
    guard word.unicodeScalars.count <= 64 else { return nil }
    let limit = max(1, min(3, word.count / 3 + 1))
    let scored = candidates.map { ($0, editDistance(word, $0)) }.filter { $0.1 <= limit }
    return scored.min { $0.1 < $1.1 }?.0
}
