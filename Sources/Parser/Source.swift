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
    /// Set when the bytes are not all UTF-8 text; of a file that is not text, only the text
    /// before its first such byte is kept.
    public let encodingProblem: EncodingProblem?

    public init(path: String, text: String) {
        self.path = path
        var text = Substring(text)
        if text.unicodeScalars.first == "\u{FEFF}" { text = Substring(text.unicodeScalars.dropFirst()) }
        self.lines = SourceFile.splitLines(String(text))
        self.encodingProblem = nil
    }

    /// Decodes bytes as UTF-8, after a byte-order mark if there is one. A line of ASCII (every
    /// line of an ordinary file) is taken as it is; any other line is decoded scalar by scalar,
    /// with U+FFFD for bytes that are not UTF-8. A newline byte is never part of a multi-byte
    /// sequence, so splitting the bytes first gives the same lines as decoding first.
    public init(path: String, bytes: [UInt8]) {
        self.path = path
        var lines: [String] = []
        var problem: EncodingProblem?
        bytes.withUnsafeBufferPointer { buffer in
            let first = buffer.starts(with: Encoding.byteOrderMark) ? Encoding.byteOrderMark.count : 0
            if let nul = buffer[first...].firstIndex(of: 0) {
                // Not text: say where the first byte that is not text is, and read none of it.
                // The text before that byte is kept, to show the line it is on.
                let offset = Encoding.firstInvalidUTF8(in: buffer, first..<nul) ?? nul
                problem = EncodingProblem(kind: .notText(format: Encoding.format(of: buffer)), byte: buffer[offset], offset: offset,
                                          location: Encoding.location(of: offset, in: buffer, from: first))
                lines = SourceFile.splitLines(String(decoding: UnsafeBufferPointer(rebasing: buffer[first..<offset]), as: UTF8.self))
                return
            }
            // Sized once: a file of millions of short lines would otherwise be copied as it grows.
            lines.reserveCapacity(buffer[first...].reduce(1) { $1 == 0x0A ? $0 + 1 : $0 })
            var start = first
            var number = 1
            var invalidLines = 0
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
                    if let offset = Encoding.firstInvalidUTF8(in: buffer, start..<end) {
                        invalidLines += 1
                        if problem == nil {
                            let column = buffer[start..<offset].reduce(1) { $1 & 0xC0 != 0x80 ? $0 + 1 : $0 }
                            problem = EncodingProblem(kind: .invalidUTF8(otherLines: 0), byte: buffer[offset], offset: offset,
                                                      location: SourceLocation(line: number, column: column))
                        }
                    }
                    var text = String(decoding: line, as: UTF8.self)
                    if ended, text.unicodeScalars.last == "\r" { text.unicodeScalars.removeLast() }
                    lines.append(text)
                }
                if !ended { break }
                start = end + 1
                number += 1
            }
            if invalidLines > 1 { problem?.kind = .invalidUTF8(otherLines: invalidLines - 1) }
        }
        self.lines = lines
        self.encodingProblem = problem
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
