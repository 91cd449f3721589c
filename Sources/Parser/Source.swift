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
    /// A line of ASCII (every line of an ordinary file) is taken as it is; any other line is
    /// decoded scalar by scalar. A newline byte is never part of a multi-byte sequence, so
    /// splitting the bytes first gives the same lines as decoding first.
    public init(path: String, bytes: [UInt8]) {
        self.path = path
        var lines: [String] = []
        var invalid: [SourceLocation] = []
        bytes.withUnsafeBufferPointer { buffer in
            // Sized once: a file of millions of short lines would otherwise be copied as it grows.
            lines.reserveCapacity(buffer.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 })
            var start = 0
            var number = 1
            while start < buffer.count {
                var end = start
                var ascii = true
                while end < buffer.count && buffer[end] != 0x0A {
                    if buffer[end] >= 0x80 { ascii = false }
                    end += 1
                }
                let ended = end < buffer.count  // by a newline, rather than by the end of the file
                var line = UnsafeBufferPointer(rebasing: buffer[start..<end])
                if ascii {
                    if ended, line.last == 0x0D { line = UnsafeBufferPointer(rebasing: line.dropLast()) }
                    lines.append(String(decoding: line, as: UTF8.self))
                } else {
                    var text = String.UnicodeScalarView()
                    var column = 1
                    var decoder = UTF8()
                    var iterator = line.makeIterator()
                    loop: while true {
                        switch decoder.decode(&iterator) {
                        case .scalarValue(let scalar):
                            text.append(scalar)
                            column += 1
                        case .error:
                            if invalid.last?.line != number { invalid.append(SourceLocation(line: number, column: column)) }
                            text.append("\u{FFFD}")
                            column += 1
                        case .emptyInput:
                            break loop
                        }
                    }
                    if ended, text.last == "\r" { text.removeLast() }
                    lines.append(String(text))
                }
                if !ended { break }
                start = end + 1
                number += 1
            }
        }
        self.lines = lines
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

    /// Splits on LF, dropping a CR before it; works on bytes because "\r\n" is one Character.
    private static func splitLines(_ text: String) -> [String] {
        var segments = text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false)
        if segments.last?.isEmpty == true { segments.removeLast() }
        return segments.indices.map { i in
            var segment = segments[i]
            if i < segments.count - 1 || text.utf8.last == 0x0A, segment.last == 0x0D { segment = segment.dropLast() }
            return String(text.unicodeScalars[segment.startIndex..<segment.endIndex])
        }
    }
}
