/// One word of a line, with where it starts. The language is line-based and words are
/// separated by spaces or tabs; `:` is a word of its own so `c1:` and `c1 :` read alike.
public struct Token: Sendable, CustomStringConvertible {
    public var text: String
    public var range: SourceRange

    public var description: String { text }
}

enum Lexer {
    /// The words of one line, comments removed. Every byte that ends or splits a word is
    /// ASCII, so this walks the bytes; columns count scalars (bytes that start one).
    static func tokens(of line: String, number: Int) -> [Token] {
        var tokens: [Token] = []
        tokens.reserveCapacity(8)  // a layer line's words, without growing
        let bytes = line.utf8
        var wordStart: String.Index?
        var start = 0
        var length = 0
        var column = 0
        var index = bytes.startIndex
        func flush(at end: String.Index) {
            if let from = wordStart {
                tokens.append(Token(text: String(Substring(line.utf8[from..<end])), range: SourceRange(line: number, column: start, length: length)))
                wordStart = nil
            }
        }
        while index != bytes.endIndex {
            let byte = bytes[index]
            let startsScalar = byte & 0xC0 != 0x80
            if startsScalar { column += 1 }
            switch byte {
            case UInt8(ascii: "#"):
                flush(at: index)
                return tokens
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), 0x0B, 0x0C:
                flush(at: index)
            case UInt8(ascii: ":"):
                flush(at: index)
                tokens.append(Token(text: ":", range: SourceRange(line: number, column: column, length: 1)))
            default:
                if wordStart == nil {
                    wordStart = index
                    start = column
                    length = 0
                }
                if startsScalar { length += 1 }
            }
            index = bytes.index(after: index)
        }
        flush(at: index)
        return tokens
    }

    /// `[A-Za-z_][A-Za-z0-9_.-]*`: PyTorch module paths, regnet's `block1-0` among them. A
    /// name never starts with a digit, a sign or a dot, so it is never read as a number.
    static func isName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, isLetter(first) || first == "_" else { return false }
        return text.unicodeScalars.allSatisfy { isLetter($0) || isDigit($0) || $0 == "_" || $0 == "." || $0 == "-" }
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
