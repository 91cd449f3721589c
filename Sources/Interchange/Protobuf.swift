/// The protobuf wire format, read and written by hand (the project takes no packages): a
/// message is a run of fields, each a key (field number << 3 | wire type) and a value. The
/// reader is bounded against hostile bytes as the project's other readers are: every length
/// is checked against what is left of its enclosing message before anything is read, a
/// varint is at most 10 bytes, nesting (messages and groups) is at most `depthLimit`, and
/// every error names the byte offset in the file.

/// What a malformed message is: a sentence, and the offset in the file where it went wrong.
public struct ProtobufError: Error, Equatable, CustomStringConvertible, Sendable {
    public var message: String
    public var offset: Int
    /// The bytes ended inside a value: what a prefix of a good file gives too.
    public var truncated: Bool

    public init(_ message: String, at offset: Int, truncated: Bool = false) {
        self.message = message
        self.offset = offset
        self.truncated = truncated
    }

    public var description: String { "\(message) at byte offset \(offset)" }
}

public enum WireType: UInt8, Sendable, CustomStringConvertible {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5

    public var description: String {
        switch self {
        case .varint: "varint"
        case .fixed64: "fixed64"
        case .lengthDelimited: "length-delimited"
        case .startGroup: "start-group"
        case .endGroup: "end-group"
        case .fixed32: "fixed32"
        }
    }
}

/// One field's key, and where it starts in the file.
public struct ProtobufField: Sendable {
    public var number: Int
    public var wireType: WireType
    public var offset: Int
}

/// Reads the fields of one message, `bytes[start..<end]`; a nested message gets a reader of
/// its own over its range (`message()`), one level deeper.
public struct ProtobufReader {
    /// Deeper nesting than any real ONNX file has (protobuf's own default limit is 100).
    public static let depthLimit = 64

    public let bytes: [UInt8]
    public private(set) var position: Int
    public let end: Int
    public let depth: Int
    /// The message being read, for errors: "NodeProto".
    public let messageName: String

    public init(_ bytes: [UInt8], messageName: String) {
        self.init(bytes, range: 0..<bytes.count, depth: 0, messageName: messageName)
    }

    init(_ bytes: [UInt8], range: Range<Int>, depth: Int, messageName: String) {
        self.bytes = bytes
        position = range.lowerBound
        end = range.upperBound
        self.depth = depth
        self.messageName = messageName
    }

    public var isAtEnd: Bool { position >= end }

    private func bytesLeft(_ count: Int) -> String { count == 1 ? "1 byte left" : "\(count) bytes left" }

    private func fail(_ message: String, at offset: Int) -> ProtobufError {
        ProtobufError(message, at: offset)
    }

    /// The next field's key, or nil at the end of the message.
    public mutating func nextField() throws(ProtobufError) -> ProtobufField? {
        guard position < end else { return nil }
        let offset = position
        let key = try readVarint()
        let rawType = UInt8(key & 7)
        guard let wireType = WireType(rawValue: rawType) else {
            throw fail("\(messageName): field \(key >> 3) has wire type \(rawType), which protobuf does not define", at: offset)
        }
        let number = key >> 3
        guard number >= 1, number <= 536_870_911 else {
            throw fail("\(messageName): field number \(number) is out of protobuf's range 1...536870911", at: offset)
        }
        return ProtobufField(number: Int(number), wireType: wireType, offset: offset)
    }

    /// A base-128 varint: 7 bits a byte, low bits first, at most 10 bytes for 64 bits.
    public mutating func readVarint() throws(ProtobufError) -> UInt64 {
        let start = position
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else {
                throw ProtobufError("\(messageName): a varint runs past the end of the message", at: start, truncated: true)
            }
            let byte = bytes[position]
            position += 1
            if shift == 63 {  // the tenth byte holds the 64th bit and must end the varint
                if byte & 0x80 != 0 { throw fail("\(messageName): a varint is longer than 10 bytes", at: start) }
                if byte > 1 { throw fail("\(messageName): a varint overflows 64 bits", at: start) }
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    public mutating func readFixed32() throws(ProtobufError) -> UInt32 {
        try need(4, what: "a fixed32 value")
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[position + i]) << (8 * UInt32(i)) }
        position += 4
        return value
    }

    public mutating func readFixed64() throws(ProtobufError) -> UInt64 {
        try need(8, what: "a fixed64 value")
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += 8
        return value
    }

    private func need(_ count: Int, what: String) throws(ProtobufError) {
        if end - position < count {
            throw ProtobufError("\(messageName): \(what) needs \(count) bytes, but the message has \(bytesLeft(end - position))",
                                at: position, truncated: true)
        }
    }

    /// The byte range of a length-delimited value; the length is checked against what is left.
    public mutating func readLengthDelimited() throws(ProtobufError) -> Range<Int> {
        let offset = position
        let length = try readVarint()
        let left = end - position
        guard length <= UInt64(left) else {
            throw ProtobufError("\(messageName): a length of \(length) bytes runs past the end of the message (\(bytesLeft(left)))",
                                at: offset, truncated: true)
        }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    public mutating func readBytes() throws(ProtobufError) -> [UInt8] {
        Array(bytes[try readLengthDelimited()])
    }

    /// UTF-8 text; bytes that are not UTF-8 become U+FFFD (names are made valid later anyway).
    public mutating func readString() throws(ProtobufError) -> String {
        String(decoding: bytes[try readLengthDelimited()], as: UTF8.self)
    }

    /// A reader over a nested message, one level deeper; refused past `depthLimit`.
    public mutating func message(_ name: String, at offset: Int) throws(ProtobufError) -> ProtobufReader {
        let range = try readLengthDelimited()
        guard depth + 1 <= Self.depthLimit else {
            throw fail("\(name) is nested more than \(Self.depthLimit) messages deep", at: offset)
        }
        return ProtobufReader(bytes, range: range, depth: depth + 1, messageName: name)
    }

    /// Skips a field this reader does not know, of any wire type; a group is skipped to its
    /// matching end, its own nested groups counted against the depth limit.
    public mutating func skip(_ field: ProtobufField) throws(ProtobufError) {
        switch field.wireType {
        case .varint: _ = try readVarint()
        case .fixed64: try need(8, what: "a fixed64 value"); position += 8
        case .fixed32: try need(4, what: "a fixed32 value"); position += 4
        case .lengthDelimited: _ = try readLengthDelimited()
        case .startGroup: try skipGroup(field, depth: depth + 1)
        case .endGroup:
            throw fail("\(messageName): an end-group for field \(field.number) without its start", at: field.offset)
        }
    }

    private mutating func skipGroup(_ start: ProtobufField, depth: Int) throws(ProtobufError) {
        guard depth <= Self.depthLimit else {
            throw fail("\(messageName): groups are nested more than \(Self.depthLimit) deep", at: start.offset)
        }
        while true {
            guard let field = try nextField() else {
                throw fail("\(messageName): the group of field \(start.number) has no end", at: start.offset)
            }
            switch field.wireType {
            case .endGroup:
                guard field.number == start.number else {
                    throw fail("\(messageName): the group of field \(start.number) ends with field \(field.number)", at: field.offset)
                }
                return
            case .startGroup: try skipGroup(field, depth: depth + 1)
            default: try skip(field)
            }
        }
    }

    /// Refuses a field whose wire type is not the one its declaration implies.
    public func expect(_ field: ProtobufField, _ wireType: WireType, _ fieldName: String) throws(ProtobufError) {
        guard field.wireType == wireType else {
            throw fail("\(messageName).\(fieldName) (field \(field.number)) has wire type \(field.wireType), expected \(wireType)",
                       at: field.offset)
        }
    }

    // MARK: Scalars and repeated scalars (packed or not)

    /// An int64 / int32 / enum field: a varint, two's complement (no zigzag: ONNX has no sint).
    public mutating func readInt64(_ field: ProtobufField, _ fieldName: String) throws(ProtobufError) -> Int64 {
        try expect(field, .varint, fieldName)
        return Int64(bitPattern: try readVarint())
    }

    public mutating func readFloat(_ field: ProtobufField, _ fieldName: String) throws(ProtobufError) -> Float {
        try expect(field, .fixed32, fieldName)
        return Float(bitPattern: try readFixed32())
    }

    public mutating func readStringField(_ field: ProtobufField, _ fieldName: String) throws(ProtobufError) -> String {
        try expect(field, .lengthDelimited, fieldName)
        return try readString()
    }

    /// A repeated varint field, either one value (unpacked) or a packed run of them.
    public mutating func appendInt64s(_ field: ProtobufField, _ fieldName: String, to values: inout [Int64]) throws(ProtobufError) {
        switch field.wireType {
        case .varint:
            values.append(Int64(bitPattern: try readVarint()))
        case .lengthDelimited:
            var packed = ProtobufReader(bytes, range: try readLengthDelimited(), depth: depth, messageName: messageName)
            while !packed.isAtEnd { values.append(Int64(bitPattern: try packed.readVarint())) }
        default:
            try expect(field, .varint, fieldName)
        }
    }

    /// A repeated float (fixed32) field, unpacked or packed; a packed run must be whole floats.
    public mutating func appendFloats(_ field: ProtobufField, _ fieldName: String, to values: inout [Float]) throws(ProtobufError) {
        switch field.wireType {
        case .fixed32:
            values.append(Float(bitPattern: try readFixed32()))
        case .lengthDelimited:
            let offset = position
            let range = try readLengthDelimited()
            guard range.count % 4 == 0 else {
                throw fail("\(messageName).\(fieldName): a packed run of \(range.count) bytes is not a whole number of 4-byte floats", at: offset)
            }
            var packed = ProtobufReader(bytes, range: range, depth: depth, messageName: messageName)
            values.reserveCapacity(values.count + range.count / 4)
            while !packed.isAtEnd { values.append(Float(bitPattern: try packed.readFixed32())) }
        default:
            try expect(field, .fixed32, fieldName)
        }
    }

    /// A repeated double (fixed64) field, unpacked or packed.
    public mutating func appendDoubles(_ field: ProtobufField, _ fieldName: String, to values: inout [Double]) throws(ProtobufError) {
        switch field.wireType {
        case .fixed64:
            values.append(Double(bitPattern: try readFixed64()))
        case .lengthDelimited:
            let offset = position
            let range = try readLengthDelimited()
            guard range.count % 8 == 0 else {
                throw fail("\(messageName).\(fieldName): a packed run of \(range.count) bytes is not a whole number of 8-byte doubles", at: offset)
            }
            var packed = ProtobufReader(bytes, range: range, depth: depth, messageName: messageName)
            values.reserveCapacity(values.count + range.count / 8)
            while !packed.isAtEnd { values.append(Double(bitPattern: try packed.readFixed64())) }
        default:
            try expect(field, .fixed64, fieldName)
        }
    }
}

/// Writes messages field by field; nested messages are written into a writer of their own
/// and added with their length. For tests (hand-made hostile files) and `cnnc export`.
public struct ProtobufWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    public mutating func key(_ field: Int, _ wireType: WireType) {
        varint(UInt64(field) << 3 | UInt64(wireType.rawValue))
    }

    public mutating func int64(_ field: Int, _ value: Int64) {
        key(field, .varint)
        varint(UInt64(bitPattern: value))
    }

    public mutating func fixed32(_ field: Int, _ value: UInt32) {
        key(field, .fixed32)
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))) }
    }

    public mutating func fixed64(_ field: Int, _ value: UInt64) {
        key(field, .fixed64)
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }

    public mutating func float(_ field: Int, _ value: Float) { fixed32(field, value.bitPattern) }

    public mutating func bytes(_ field: Int, _ value: [UInt8]) {
        key(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8)) }

    public mutating func message(_ field: Int, _ body: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        body(&inner)
        bytes(field, inner.bytes)
    }

    /// A packed repeated varint field (proto3's default, and what onnx writes).
    public mutating func packedInt64s(_ field: Int, _ values: [Int64]) {
        var inner = ProtobufWriter()
        for value in values { inner.varint(UInt64(bitPattern: value)) }
        bytes(field, inner.bytes)
    }

    public mutating func packedFloats(_ field: Int, _ values: [Float]) {
        var inner: [UInt8] = []
        inner.reserveCapacity(values.count * 4)
        for value in values {
            let bits = value.bitPattern
            for i in 0..<4 { inner.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt32(i)))) }
        }
        bytes(field, inner)
    }

    /// Bytes as they are, for tests that write what no encoder would.
    public mutating func raw(_ value: [UInt8]) { bytes.append(contentsOf: value) }
}
