// Names in generated code. Layer and network names may contain dots, may be keywords of the
// target language, may start with a digit once sanitised (a network's name defaults to the
// file's base name, which can be anything) and may collide after sanitising (`a.b`, `a_b`).
// An `IdentifierTable` hands out identifiers that are valid, not reserved and distinct.

public enum TargetLanguage: Sendable {
    case c
    case swift
}

/// C99's keywords, C11's, and the few macros of the standard headers the generated C
/// includes that a layer name could spell.
let cKeywords: Set<String> = [
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
    "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
    "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
    "volatile", "while", "_Bool", "_Complex", "_Imaginary", "_Alignas", "_Alignof", "_Atomic",
    "_Generic", "_Noreturn", "_Static_assert", "_Thread_local", "bool", "true", "false", "NULL",
    "alignas", "alignof", "static_assert", "thread_local", "typeof", "asm", "fortran",
]

/// Swift's keywords (declarations, statements, expressions, types) and the contextual ones
/// that cannot name a member without backticks.
let swiftKeywords: Set<String> = [
    "associatedtype", "borrowing", "class", "consuming", "deinit", "enum", "extension", "fileprivate",
    "func", "import", "init", "inout", "internal", "let", "nonisolated", "open", "operator", "private",
    "precedencegroup", "protocol", "public", "rethrows", "static", "struct", "subscript", "typealias",
    "var", "break", "case", "catch", "continue", "default", "defer", "do", "else", "fallthrough", "for",
    "guard", "if", "in", "repeat", "return", "throw", "switch", "where", "while", "Any", "as", "await",
    "false", "is", "nil", "self", "Self", "super", "throws", "true", "try", "Type", "Protocol",
    "async", "actor", "some", "any", "get", "set", "willSet", "didSet", "macro", "package", "_",
]

public struct IdentifierTable: Sendable {
    public let language: TargetLanguage
    private var used: Set<String>
    private var nextSuffix: [String: Int] = [:]

    /// `reserved`: names the generated code uses itself; no identifier handed out equals one.
    public init(language: TargetLanguage, reserved: Set<String> = []) {
        self.language = language
        self.used = reserved.union(language == .c ? cKeywords : swiftKeywords)
    }

    /// A valid, unused identifier for `name`: sanitised, then `_2`, `_3`… until it is free.
    public mutating func make(_ name: String) -> String {
        let base = IdentifierTable.sanitize(name, for: language)
        var candidate = base
        // Start where the last clash of this base stopped, so n equal names take O(n).
        var counter = nextSuffix[base] ?? 2
        while used.contains(candidate) {
            candidate = "\(base)_\(counter)"
            counter += 1
        }
        if candidate != base { nextSuffix[base] = counter }
        used.insert(candidate)
        return candidate
    }

    /// Every character outside [A-Za-z0-9_] becomes `_`; a leading digit, or a leading
    /// underscore that would make a reserved C identifier (`_X`, `__x`), gets an `n` in front;
    /// a keyword gets a `_` behind. Never empty.
    public static func sanitize(_ name: String, for language: TargetLanguage) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in name.unicodeScalars {
            let isWordCharacter = (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z")
                || (scalar >= "0" && scalar <= "9") || scalar == "_"
            scalars.append(isWordCharacter ? scalar : "_")
        }
        var result = String(scalars)
        if result.isEmpty { result = "unnamed" }
        let first = result.unicodeScalars.first!
        if first >= "0" && first <= "9" { result = "n" + result }
        if result.hasPrefix("_") {
            let second = result.unicodeScalars.dropFirst().first
            if second == nil || second == "_" || (second! >= "A" && second! <= "Z") { result = "n" + result }
        }
        let keywords = language == .c ? cKeywords : swiftKeywords
        if keywords.contains(result) { result += "_" }
        return result
    }

    /// `inception3a.b2_reduce` → `inception3aB2Reduce`: words split at `.`, `_` and anything
    /// not a letter or digit, the first lower-cased at its start, the others capitalised.
    public static func camelCase(_ name: String, upperFirst: Bool) -> String {
        var words: [String] = []
        var current = ""
        for scalar in name.unicodeScalars {
            let isAlphanumeric = (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || (scalar >= "0" && scalar <= "9")
            if isAlphanumeric {
                current.unicodeScalars.append(scalar)
            } else if !current.isEmpty {
                words.append(current)
                current = ""
            }
        }
        if !current.isEmpty { words.append(current) }
        return words.enumerated().map { index, word in
            let head = String(word.prefix(1)), tail = String(word.dropFirst())
            if index == 0 && !upperFirst { return head.lowercased() + tail }
            return head.uppercased() + tail
        }.joined()
    }
}

/// Text that is safe inside a C `/* … */` comment or a Swift `//` comment: no `*/` or `/*`
/// (which would end or, in Swift, nest a block comment), no line breaks or other control
/// characters, no trigraph-forming `??`, no backslashes (line splicing), ASCII only.
public func commentText(_ text: String) -> String {
    var scalars = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
        if scalar.value < 0x20 || scalar.value == 0x7F {
            scalars.append(" ")
        } else if scalar.value > 0x7E || scalar == "\\" {
            scalars.append("?")
        } else {
            scalars.append(scalar)
        }
    }
    var result = String(scalars)
    // Repeat until stable: "*/" can reappear when "**//" loses one pair.
    while result.contains("*/") || result.contains("/*") || result.contains("??") {
        result = result.replacing("*/", with: "* /").replacing("/*", with: "/ *").replacing("??", with: "? ?")
    }
    return result
}
