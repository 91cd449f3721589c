/// A position in a `.cnn` file: 1-based line and column. Columns count Unicode scalars, so a
/// caret lines up under the word on a terminal for the ASCII text the language is written in.
public struct SourceLocation: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }

    public var description: String { "\(line):\(column)" }
}

/// A span on one line: `start` up to but not including `end`.
public struct SourceRange: Hashable, Sendable {
    public var start: SourceLocation
    public var end: SourceLocation

    public init(start: SourceLocation, end: SourceLocation) {
        self.start = start
        self.end = end
    }

    public init(line: Int, column: Int, length: Int) {
        start = SourceLocation(line: line, column: column)
        end = SourceLocation(line: line, column: column + max(length, 1))
    }

    /// The span that covers both, on the first one's line.
    public func extended(to other: SourceRange) -> SourceRange {
        SourceRange(start: min(start, other.start), end: max(end, other.end))
    }
}

/// A value as it was written, with where it was written.
public struct Located<Value>: CustomStringConvertible {
    public var value: Value
    public var range: SourceRange

    public init(_ value: Value, _ range: SourceRange) {
        self.value = value
        self.range = range
    }

    public var description: String { "\(value)" }
}

extension Located: Equatable where Value: Equatable {}
extension Located: Sendable where Value: Sendable {}

/// The text of a `.cnn` file split into lines, kept for rendering diagnostics.
public struct SourceFile: Sendable {
    public let path: String
    public let lines: [String]
    /// Where the bytes were not valid UTF-8; such bytes were read as U+FFFD.
    public let invalidUTF8: [SourceLocation]

    public init(path: String, text: String) {
        self.path = path
        self.lines = SourceFile.splitLines(text)
        self.invalidUTF8 = []
    }

    /// Decodes bytes as UTF-8, remembering where they were not, so the parser can say so.
    public init(path: String, bytes: [UInt8]) {
        self.path = path
        var text = String.UnicodeScalarView()
        var invalid: [SourceLocation] = []
        var line = 1
        var column = 1
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                text.append(scalar)
                if scalar == "\n" {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
            case .error:
                if invalid.last?.line != line { invalid.append(SourceLocation(line: line, column: column)) }
                text.append("\u{FFFD}")
                column += 1
            case .emptyInput:
                break loop
            }
        }
        self.lines = SourceFile.splitLines(String(text))
        self.invalidUTF8 = invalid
    }

    public func line(_ number: Int) -> String? {
        number >= 1 && number <= lines.count ? lines[number - 1] : nil
    }

    public var baseName: String {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        if let dot = file.lastIndex(of: "."), dot != file.startIndex { return String(file[..<dot]) }
        return file
    }

    /// Splits on LF, dropping a CR before it; works on scalars because "\r\n" is one Character.
    private static func splitLines(_ text: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\n" {
                if current.last == "\r" { current.removeLast() }
                lines.append(String(current))
                current = String.UnicodeScalarView()
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { lines.append(String(current)) }
        return lines
    }
}
