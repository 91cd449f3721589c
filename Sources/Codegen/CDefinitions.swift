// The names a piece of fixed C (Sources/Codegen/C) takes at file scope, read from its text so
// the list of names a layer must not take cannot drift from the C. It understands the C
// those files are written in, not all of C: macros (`#define X`), configuration macros tested
// with `defined(CNNC_…)` / `#ifndef CNNC_…`, functions, file-scope variables, typedef names
// (including `(*name)` function pointers) and the constants of an anonymous `enum { … }`.

enum CDefinitions {
    /// File-scope names defined in `text`; names starting with `_` (the implementation's) are left out.
    static func names(in text: String) -> Set<String> {
        var names = Set<String>()
        var lineTokens: [Token] = []
        var code: [Token] = []
        for token in tokens(of: text) {
            if token.text == "\n" {
                preprocessorNames(lineTokens, into: &names)
                lineTokens = []
            } else if lineTokens.first?.text == "#" || (lineTokens.isEmpty && token.text == "#") {
                lineTokens.append(token)
            } else {
                code.append(token)
            }
        }
        preprocessorNames(lineTokens, into: &names)
        declarationNames(code, into: &names)
        return names.filter { !$0.hasPrefix("_") }
    }

    private struct Token {
        let text: String
        var isIdentifier: Bool {
            guard let first = text.unicodeScalars.first else { return false }
            return first == "_" || (first >= "a" && first <= "z") || (first >= "A" && first <= "Z")
        }
    }

    /// `#define NAME`, and the `CNNC_` macros a user may pass with -D (`defined(CNNC_X)`, `#ifndef CNNC_X`).
    private static func preprocessorNames(_ line: [Token], into names: inout Set<String>) {
        guard line.count >= 3, line[0].text == "#" else { return }
        if line[1].text == "define" || line[1].text == "ifndef" || line[1].text == "ifdef" {
            if line[1].text == "define" || line[2].text.hasPrefix("CNNC_") { names.insert(line[2].text) }
        }
        for i in line.indices.dropLast(2) where line[i].text == "defined" && line[i + 1].text == "(" {
            if line[i + 2].text.hasPrefix("CNNC_") { names.insert(line[i + 2].text) }
        }
    }

    /// One name per file-scope declaration: the first identifier at depth 0 followed by `(`,
    /// `[`, `=` or `;` — or the `x` of `(*x)` — and the constants of `enum { A, B }`.
    private static func declarationNames(_ code: [Token], into names: inout Set<String>) {
        var braces = 0, parens = 0
        var named = false
        var inEnum = false, inFunction = false
        for (i, token) in code.enumerated() {
            let next = i + 1 < code.count ? code[i + 1].text : ""
            switch token.text {
            case "{":
                if braces == 0 && i > 0 {
                    inEnum = code[i - 1].text == "enum"
                    inFunction = code[i - 1].text == ")"
                }
                braces += 1
            case "}":
                braces -= 1
                // A function body ends its declaration; a struct or enum body does not.
                if braces == 0 && inFunction { named = false }
                if braces == 0 { inEnum = false; inFunction = false }
            case "(": parens += 1
            case ")": parens -= 1
            case ";" where braces == 0 && parens == 0: named = false
            default:
                if inEnum && braces == 1 && token.isIdentifier && (code[i - 1].text == "{" || code[i - 1].text == ",") {
                    names.insert(token.text)
                }
                guard braces == 0, !named, token.isIdentifier else { break }
                if parens == 1 && i > 1 && code[i - 1].text == "*" && code[i - 2].text == "(" && next == ")" {
                    names.insert(token.text)
                    named = true
                } else if parens == 0 && ["(", "[", "=", ";"].contains(next) && !(next == "(" && i + 2 < code.count && code[i + 2].text == "*") {
                    names.insert(token.text)
                    named = true
                }
            }
        }
    }

    /// Identifiers, numbers, single punctuation characters and "\n" (ends a preprocessor line);
    /// comments, string and character literals are dropped, `\`-continued lines joined.
    private static func tokens(of text: String) -> [Token] {
        let s = Array(text.unicodeScalars)
        var result: [Token] = []
        var i = 0
        func isWord(_ c: Unicode.Scalar) -> Bool {
            c == "_" || (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9")
        }
        while i < s.count {
            let c = s[i]
            if c == "/" && i + 1 < s.count && s[i + 1] == "*" {
                i += 2
                while i + 1 < s.count && !(s[i] == "*" && s[i + 1] == "/") { i += 1 }
                i += 2
            } else if c == "/" && i + 1 < s.count && s[i + 1] == "/" {
                while i < s.count && s[i] != "\n" { i += 1 }
            } else if c == "\\" && i + 1 < s.count && s[i + 1] == "\n" {
                i += 2
            } else if c == "\"" || c == "'" {
                i += 1
                while i < s.count && s[i] != c { i += s[i] == "\\" ? 2 : 1 }
                i += 1
            } else if isWord(c) {
                var word = String.UnicodeScalarView()
                while i < s.count && isWord(s[i]) { word.append(s[i]); i += 1 }
                result.append(Token(text: String(word)))
            } else {
                if c == "\n" || !(c == " " || c == "\t" || c == "\r") { result.append(Token(text: String(c))) }
                i += 1
            }
        }
        return result
    }
}
