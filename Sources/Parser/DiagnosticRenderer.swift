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
        var out = TextBuffer()
        var lines = LineCache()
        for diagnostic in diagnostics { write(diagnostic, in: file, to: &out, lines: &lines) }
        return out.text
    }

    public func render(_ diagnostic: Diagnostic, in file: SourceFile) -> String {
        var out = TextBuffer()
        var lines = LineCache()
        write(diagnostic, in: file, to: &out, lines: &lines)
        return out.text
    }

    private func write(_ diagnostic: Diagnostic, in file: SourceFile, to out: inout TextBuffer, lines: inout LineCache) {
        let path = Self.escaped(file.path)
        out.write(paint("\(path):\(diagnostic.range.start.line):\(diagnostic.range.start.column):", .bold))
        out.write(" " + label(diagnostic.severity) + " ")
        out.write(paint(Self.escaped(diagnostic.message), .bold))
        out.write("\n")
        excerpt(diagnostic.range, in: file, fixIt: diagnostic.fixIt, to: &out, lines: &lines)
        for note in diagnostic.notes {
            if let range = note.range, range.start.line != diagnostic.range.start.line {
                out.write(paint("\(path):\(range.start.line):\(range.start.column):", .bold) + " " + label(.note) + " ")
                out.write(Self.escaped(note.message))
                out.write("\n")
                excerpt(range, in: file, fixIt: nil, to: &out, lines: &lines)
            } else {
                out.write(label(.note) + " ")
                out.write(Self.escaped(note.message))
                out.write("\n")
            }
        }
    }

    /// `error: 1 error and 2 warnings in lenet.cnn` style tallies are the caller's; this counts.
    public static func summary(_ diagnostics: [Diagnostic]) -> String {
        let errors = diagnostics.filter { $0.severity == .error }.count
        let warnings = diagnostics.filter { $0.severity == .warning }.count
        func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        return [errors > 0 ? plural(errors, "error") : nil, warnings > 0 ? plural(warnings, "warning") : nil]
            .compactMap { $0 }.joined(separator: " and ")
    }

    /// Lines longer than this are shown as a window around the caret, so that many problems on
    /// one enormous line do not print it whole for each (which grows as its square).
    static let longLine = 512
    /// How much of a long line is shown before the caret, and in all.
    static let windowLead = 64
    static let windowWidth = 256

    /// The source line with a caret and tildes under the range, and the fix-it under that.
    private func excerpt(_ range: SourceRange, in file: SourceFile, fixIt: FixIt?, to out: inout TextBuffer, lines: inout LineCache) {
        guard let line = file.line(range.start.line) else { return }
        let scalars = lines.scalars(of: range.start.line, line)
        let number = String(range.start.line)
        let gutter = String(repeating: " ", count: number.count)
        let caret = max(range.start.column - 1, 0)  // scalars before the caret
        // The part of the line shown: all of it, or a window with "…" where it is cut.
        var shown = 0..<scalars.count
        if scalars.count > Self.longLine {
            let low = min(max(caret - Self.windowLead, 0), scalars.count)
            shown = low..<min(low + Self.windowWidth, scalars.count)
        }
        let cutBefore = shown.lowerBound > 0, cutAfter = shown.upperBound < scalars.count
        // Keep tabs so the caret lines up however the terminal expands them; a control
        // character is shown escaped, so it takes the width of its escape.
        func lead(to column: Int) -> String {
            let before = scalars[shown.lowerBound..<max(min(column, shown.upperBound), shown.lowerBound)]
            if !before.contains("\t") && !before.contains(where: Self.needsEscape) {
                return String(repeating: " ", count: before.count + (cutBefore ? 1 : 0))
            }
            var lead = String.UnicodeScalarView()
            if cutBefore { lead.append(" ") }
            for scalar in before {
                if scalar == "\t" { lead.append("\t") } else { lead.append(contentsOf: String(repeating: " ", count: Self.width(scalar)).unicodeScalars) }
            }
            return String(lead)
        }
        var length = range.end.line == range.start.line ? max(range.end.column - range.start.column, 1) : 1
        if cutAfter { length = max(1, min(length, shown.upperBound - caret)) }
        let under = caret < scalars.count ? scalars[caret..<min(caret + length, scalars.count)] : []
        let width = under.reduce(0) { $0 + Self.width($1) } + max(0, length - under.count)
        let marker = "^" + String(repeating: "~", count: max(width - 1, 0))
        out.write(" \(number) | ")
        if shown.count == scalars.count {
            out.write(Self.escaped(line))
        } else {
            out.write((cutBefore ? "…" : "") + Self.escaped(String(String.UnicodeScalarView(scalars[shown]))) + (cutAfter ? "…" : ""))
        }
        out.write("\n")
        out.write(" \(gutter) | " + lead(to: caret) + paint(marker, .green) + "\n")
        if let fixIt, fixIt.range.start.line == range.start.line {
            let column = max(fixIt.range.start.column - 1, 0)
            if shown.count == scalars.count || shown.contains(column) {
                out.write(" \(gutter) | " + lead(to: column) + paint(Self.escaped(fixIt.replacement), .green) + "\n")
            }
        }
    }

    /// Characters that would move the cursor, ring, clear the screen or reorder the text if
    /// sent to a terminal raw: C0 controls but tab, DEL, C1 controls, and Unicode's
    /// invisible direction and line controls. They are shown as Swift writes them, `\u{1B}`.
    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09: false
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x200E, 0x200F, 0x2028...0x202E, 0x2066...0x2069, 0xFEFF: true
        default: false
        }
    }

    private static func width(_ scalar: Unicode.Scalar) -> Int {
        needsEscape(scalar) ? escape(scalar).count : 1
    }

    private static func escape(_ scalar: Unicode.Scalar) -> String {
        "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
    }

    /// `text` with its control characters escaped; ASCII text without them, nearly every
    /// line, is returned as it is after one pass over its bytes.
    public static func escaped(_ text: String) -> String {
        let plain = text.utf8.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 < 0x7F) }
        if plain || !text.unicodeScalars.contains(where: needsEscape) { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if needsEscape(scalar) { out += escape(scalar) } else { out.unicodeScalars.append(scalar) }
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

/// The scalars of the line last shown: diagnostics come in file order, so several on one line
/// share one decoding of it.
struct LineCache {
    private var number = 0
    private var scalars: [Unicode.Scalar] = []

    mutating func scalars(of number: Int, _ line: String) -> [Unicode.Scalar] {
        if number != self.number {
            self.number = number
            scalars = Array(line.unicodeScalars)
        }
        return scalars
    }
}
