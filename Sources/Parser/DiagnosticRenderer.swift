/// The one place diagnostics become text, compiler style:
///
///     lenet.cnn:4:14: error: c1: the stride does not fit the width; the output size is floored
///      4 | c1: conv 6 3x3 stride 3
///        |                       ^
///     note: (7 − 3 + 2·0)/3 + 1 = 2.33, floored to 2
public struct DiagnosticRenderer: Sendable {
    public var colour: Bool

    public init(colour: Bool = false) {
        self.colour = colour
    }

    public func render(_ diagnostics: [Diagnostic], in file: SourceFile) -> String {
        diagnostics.map { render($0, in: file) }.joined()
    }

    public func render(_ diagnostic: Diagnostic, in file: SourceFile) -> String {
        var out = ""
        let location = "\(file.path):\(diagnostic.range.start.line):\(diagnostic.range.start.column):"
        out += paint(location, .bold) + " " + label(diagnostic.severity) + " " + paint(diagnostic.message, .bold) + "\n"
        out += excerpt(diagnostic.range, in: file, fixIt: diagnostic.fixIt)
        for note in diagnostic.notes {
            if let range = note.range, range.start.line != diagnostic.range.start.line {
                out += paint("\(file.path):\(range.start.line):\(range.start.column):", .bold) + " " + label(.note) + " " + note.message + "\n"
                out += excerpt(range, in: file, fixIt: nil)
            } else {
                out += label(.note) + " " + note.message + "\n"
            }
        }
        return out
    }

    /// `error: 1 error and 2 warnings in lenet.cnn` style tallies are the caller's; this counts.
    public static func summary(_ diagnostics: [Diagnostic]) -> String {
        let errors = diagnostics.filter { $0.severity == .error }.count
        let warnings = diagnostics.filter { $0.severity == .warning }.count
        func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        return [errors > 0 ? plural(errors, "error") : nil, warnings > 0 ? plural(warnings, "warning") : nil]
            .compactMap { $0 }.joined(separator: " and ")
    }

    /// The source line with a caret and tildes under the range, and the fix-it under that.
    private func excerpt(_ range: SourceRange, in file: SourceFile, fixIt: FixIt?) -> String {
        guard let line = file.line(range.start.line) else { return "" }
        let number = String(range.start.line)
        let gutter = String(repeating: " ", count: number.count)
        let scalars = Array(line.unicodeScalars)
        // Keep tabs so the caret lines up however the terminal expands them.
        let lead = String(String.UnicodeScalarView(scalars.prefix(max(range.start.column - 1, 0)).map { $0 == "\t" ? "\t" : " " }))
        let length = range.end.line == range.start.line ? max(range.end.column - range.start.column, 1) : 1
        let marker = "^" + String(repeating: "~", count: max(length - 1, 0))
        var out = " \(number) | \(line)\n"
        out += " \(gutter) | " + lead + paint(marker, .green) + "\n"
        if let fixIt, fixIt.range.start.line == range.start.line {
            let fixLead = String(String.UnicodeScalarView(scalars.prefix(max(fixIt.range.start.column - 1, 0)).map { $0 == "\t" ? "\t" : " " }))
            out += " \(gutter) | " + fixLead + paint(fixIt.replacement, .green) + "\n"
        }
        return out
    }

    private enum Style: String {
        case bold = "1"
        case red = "1;31"
        case magenta = "1;35"
        case cyan = "1;36"
        case green = "1;32"
    }

    private func label(_ severity: Severity) -> String {
        switch severity {
        case .error: paint("error:", .red)
        case .warning: paint("warning:", .magenta)
        case .note: paint("note:", .cyan)
        }
    }

    private func paint(_ text: String, _ style: Style) -> String {
        colour ? "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m" : text
    }
}
