/// What is wrong with a file's bytes as text, found while splitting it into lines. A file
/// with a NUL byte is not text at all (an image, a weight file, UTF-16) and is reported once,
/// unread; bytes that are not UTF-8 in an otherwise text file are reported once, at the first.
public struct EncodingProblem: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// `format` says what the file looks like, when its first bytes tell, as a note.
        case notText(format: String?)
        /// `otherLines` more lines hold bytes that are not UTF-8.
        case invalidUTF8(otherLines: Int)
    }

    public var kind: Kind
    /// The first byte that is not text, its offset in the file, and where that is.
    public var byte: UInt8
    public var offset: Int
    public var location: SourceLocation
}

enum Encoding {
    /// The UTF-8 byte-order mark Windows editors put first; it is not part of the text.
    static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// The offset of the first byte in `range` that does not begin a well-formed UTF-8
    /// sequence (or begins one cut short), or nil when all of it is UTF-8.
    static func firstInvalidUTF8(in bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        var i = range.lowerBound
        while i < range.upperBound {
            let lead = bytes[i]
            if lead < 0x80 {
                i += 1
                continue
            }
            // The ranges of Unicode's table 3-7: no overlong forms, surrogates or values past U+10FFFF.
            var trailing = 0
            var second: ClosedRange<UInt8> = 0x80...0xBF
            switch lead {
            case 0xC2...0xDF: trailing = 1
            case 0xE0: trailing = 2; second = 0xA0...0xBF
            case 0xED: trailing = 2; second = 0x80...0x9F
            case 0xE1...0xEF: trailing = 2
            case 0xF0: trailing = 3; second = 0x90...0xBF
            case 0xF4: trailing = 3; second = 0x80...0x8F
            case 0xF1...0xF3: trailing = 3
            default: return i
            }
            guard i + trailing < range.upperBound, second.contains(bytes[i + 1]) else { return i }
            for k in stride(from: 2, through: trailing, by: 1) where bytes[i + k] & 0xC0 != 0x80 { return i }
            i += trailing + 1
        }
        return nil
    }

    /// Line and column (in scalars, as everywhere) of a byte offset.
    static func location(of offset: Int, in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> SourceLocation {
        var line = 1
        var column = 1
        for i in start..<offset {
            if bytes[i] == 0x0A {
                line += 1
                column = 1
            } else if bytes[i] & 0xC0 != 0x80 {
                column += 1
            }
        }
        return SourceLocation(line: line, column: column)
    }

    /// What a file that is not text probably is, from its first bytes, and where it belongs.
    static func format(of bytes: UnsafeBufferPointer<UInt8>) -> String? {
        func starts(with prefix: [UInt8]) -> Bool { bytes.count >= prefix.count && zip(bytes, prefix).allSatisfy { $0 == $1 } }
        let inputs = "inputs are given to 'cnnc run --input' as .npy, .pgm or .ppm"
        if starts(with: [0x89, 0x50, 0x4E, 0x47]) { return "this looks like a PNG image; \(inputs)" }
        if starts(with: [0xFF, 0xD8, 0xFF]) { return "this looks like a JPEG image; \(inputs)" }
        if starts(with: [0x93] + Array("NUMPY".utf8)) { return "this looks like a NumPy .npy array; \(inputs)" }
        if starts(with: [0x50, 0x4B, 0x03, 0x04]) { return "this looks like a zip archive (a PyTorch .pt file?); cnnc reads weights from .safetensors" }
        if starts(with: [0xFF, 0xFE]) || starts(with: [0xFE, 0xFF]) { return "this looks like UTF-16 text; save it as UTF-8" }
        // safetensors: an 8-byte little-endian header length (far below 2^48), then the JSON header.
        if bytes.count > 8, bytes[8] == UInt8(ascii: "{"), bytes[6] == 0, bytes[7] == 0 {
            return "this looks like a safetensors weight file; weights are given with --weights"
        }
        return nil
    }
}
