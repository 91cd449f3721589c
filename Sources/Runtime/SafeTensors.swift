import ShapeCheck

/// A safetensors weight file: an 8-byte little-endian header length, a JSON header mapping
/// each tensor name to its dtype, shape and byte range, then the raw data. Every claim the
/// header makes is checked before a byte of data is touched.
public struct WeightFile: Sendable {
    /// Converted to Float32.
    public var tensors: [String: Tensor]

    public init(tensors: [String: Tensor] = [:]) {
        self.tensors = tensors
    }

    /// The largest header accepted: real headers are kilobytes; anything near this is hostile.
    public static let headerLimit = 100_000_000

    /// Reads the 8-byte length, then the header, then only as far as the furthest data_offsets
    /// end the header claims, so `/dev/zero` or an endless FIFO stops early (bytes past that
    /// end are not read: no tensor can use them).
    public static func read(contentsOf path: String) throws -> WeightFile {
        let file = try InputFile(path)
        try file.fill(to: 8)
        guard !file.atEnd, file.bytes.count == 8, file.bytes.loadLE64(at: 0) <= UInt64(headerLimit) else {
            return try parse(file.bytes, path: path)  // too short, or a length parse refuses
        }
        let dataStart = 8 + Int(file.bytes.loadLE64(at: 0))
        try file.fill(to: dataStart)
        if file.atEnd { return try parse(file.bytes, path: path) }
        var reader = JSONReader(bytes: file.bytes[8..<dataStart])
        guard case .success(.object(let entries)) = reader.parseDocumentResult() else {
            return try parse(file.bytes, path: path)  // the header's own error
        }
        var end = 0
        for (key, value) in entries where key != "__metadata__" {
            guard case .object(let fields) = value,
                  case .array(let offsets)? = fields.first(where: { $0.key == "data_offsets" })?.value else { continue }
            for case .integer(let offset) in offsets { end = max(end, offset) }
        }
        let (total, overflow) = dataStart.addingReportingOverflow(end)
        if overflow { return try parse(file.bytes, path: path) }
        try requireMemory(end, for: "the \(end) bytes of tensor data of \(path)")
        try file.fill(to: total)
        return try parse(file.bytes, path: path)
    }

    public static func parse(_ bytes: [UInt8], path: String) throws -> WeightFile {
        func fail(_ message: String) -> RuntimeError { RuntimeError("\(path): \(message)") }

        if bytes.isEmpty { throw fail("file is empty") }
        if bytes.count < 8 {
            throw fail("file is too short for a safetensors header (\(bytes.count) bytes, need at least 8)")
        }
        let claimed = bytes.loadLE64(at: 0)
        let available = bytes.count - 8
        if claimed > UInt64(headerLimit) {
            throw fail("header length \(claimed) is larger than the \(headerLimit)-byte limit (not a safetensors file?)")
        }
        let headerLength = Int(claimed)
        if headerLength > available {
            throw fail("header length \(headerLength) runs past the end of the file (\(available) bytes follow the length)")
        }
        let headerBytes = bytes[8..<(8 + headerLength)]
        if let bad = firstInvalidUTF8(headerBytes) {
            throw fail("header is not valid UTF-8 (byte \(describeByte(headerBytes[headerBytes.startIndex + bad])) at header offset \(bad))")
        }

        var reader = JSONReader(bytes: headerBytes)
        let root: JSONValue
        switch reader.parseDocumentResult() {
        case .success(let value):
            root = value
        case .failure(let error):
            if let key = error.duplicateKey {
                throw fail("header has duplicate key '\(key)' at header offset \(error.offset)")
            }
            throw fail("header is not valid JSON: \(error.message) at header offset \(error.offset)")
        }
        guard case .object(let entries) = root else {
            throw fail("header is not a JSON object")
        }

        let dataStart = 8 + headerLength
        let dataLength = bytes.count - dataStart
        var tensors: [String: Tensor] = [:]
        var ranges: [(begin: Int, end: Int, key: String)] = []

        for (key, value) in entries where key != "__metadata__" {
            guard case .object(let fields) = value else {
                throw fail("tensor '\(key)': entry is not a JSON object")
            }
            func field(_ name: String) throws -> JSONValue {
                guard let v = fields.first(where: { $0.key == name })?.value else {
                    throw fail("tensor '\(key)': missing '\(name)'")
                }
                return v
            }
            guard case .string(let dtype) = try field("dtype") else {
                throw fail("tensor '\(key)': 'dtype' is not a string")
            }
            let type: ElementType
            switch dtype {
            case "F32": type = .f32
            case "F16": type = .f16
            case "BF16": type = .bf16
            case "F64": type = .f64
            case "I64" where key.hasSuffix(".num_batches_tracked"): type = .i64
            default:
                throw fail("tensor '\(key)' has dtype \(dtype); supported dtypes are F32, F16, BF16 and F64")
            }

            guard case .array(let shapeItems) = try field("shape") else {
                throw fail("tensor '\(key)': 'shape' is not an array")
            }
            var shape: [Int] = []
            for item in shapeItems {
                switch item {
                case .integer(let d) where d >= 0:
                    shape.append(d)
                case .integer(let d):
                    throw fail("tensor '\(key)' has negative dimension \(d) in its shape")
                case .number(let text) where isIntegerLiteral(text) && text.hasPrefix("-"):
                    throw fail("tensor '\(key)' has negative dimension \(text) in its shape")
                case .number(let text) where isIntegerLiteral(text):
                    throw fail("tensor '\(key)' has dimension \(text), which is too large")
                default:
                    throw fail("tensor '\(key)': shape dimension \(item.brief) is not a non-negative integer")
                }
            }
            let (count, needed) = try type.footprint(of: shape) {
                fail("tensor '\(key)' has shape \(formatShape(shape)) whose " + ($0 == .elements ? "element count" : "size in bytes") + " overflows")
            }

            guard case .array(let offsetItems) = try field("data_offsets"), offsetItems.count == 2 else {
                throw fail("tensor '\(key)': 'data_offsets' is not a pair [begin, end]")
            }
            var offsets: [Int] = []
            for item in offsetItems {
                switch item {
                case .integer(let o) where o >= 0:
                    offsets.append(o)
                case .number(let text) where isIntegerLiteral(text) && !text.hasPrefix("-"):
                    throw fail("tensor '\(key)' has data_offset \(text) past the end of the data section (\(dataLength) bytes)")
                default:
                    throw fail("tensor '\(key)': data_offsets entry \(item.brief) is not a non-negative integer")
                }
            }
            let (begin, end) = (offsets[0], offsets[1])
            if begin > end {
                throw fail("tensor '\(key)' has data_offsets [\(begin), \(end)] with begin after end")
            }
            if end > dataLength {
                throw fail("tensor '\(key)' has data_offsets [\(begin), \(end)] past the end of the data section (\(dataLength) bytes)")
            }
            if end - begin != needed {
                throw fail("tensor '\(key)' with shape \(formatShape(shape)) and dtype \(dtype) needs \(needed) bytes, but data_offsets [\(begin), \(end)] hold \(end - begin)")
            }

            switch convertElements(bytes, offset: dataStart + begin, count: count, type: type) {
            case .success(let values):
                tensors[key] = Tensor(shape: shape, storage: values)
            case .failure(let box):
                switch box.problem {
                case .nonFinite(let index, let value):
                    throw fail("tensor '\(key)' has a non-finite value (\(nonFiniteName(value))) at index \(index)\(elementSuffix(index, shape))")
                case .outOfRange(let index, let value):
                    throw fail("tensor '\(key)' has value \(value) at index \(index)\(elementSuffix(index, shape)), outside the Float32 range")
                }
            }
            if needed > 0 { ranges.append((begin, end, key)) }
        }

        // The format forbids tensors sharing bytes; a header that claims so is corrupt.
        ranges.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        for i in ranges.indices.dropFirst() where ranges[i].begin < ranges[i - 1].end {
            let a = ranges[i - 1], b = ranges[i]
            throw fail("tensors '\(a.key)' [\(a.begin), \(a.end)] and '\(b.key)' [\(b.begin), \(b.end)] overlap in the data section")
        }
        return WeightFile(tensors: tensors)
    }

    /// safetensors, F32, keys sorted, header padded with spaces to a multiple of 8 bytes;
    /// `metadata` (the format's string-to-string `__metadata__`) first when given.
    public func serialized(metadata: [(key: String, value: String)] = []) -> [UInt8] {
        let keys = tensors.keys.sorted()
        var header = "{"
        if !metadata.isEmpty {
            header += "\"__metadata__\":{" + metadata.map { CheckReport.quoted($0.key) + ":" + CheckReport.quoted($0.value) }
                .joined(separator: ",") + "}"
        }
        var offset = 0
        for (i, key) in keys.enumerated() {
            let tensor = tensors[key]!
            let size = tensor.storage.count * 4
            if i > 0 || !metadata.isEmpty { header += "," }
            header += CheckReport.quoted(key)
            header += ":{\"dtype\":\"F32\",\"shape\":[" + tensor.shape.map(String.init).joined(separator: ",")
            header += "],\"data_offsets\":[\(offset),\(offset + size)]}"
            offset += size
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }

        var out: [UInt8] = []
        out.reserveCapacity(8 + headerBytes.count + offset)
        var length = UInt64(headerBytes.count)
        for _ in 0..<8 {
            out.append(UInt8(truncatingIfNeeded: length))
            length >>= 8
        }
        out.append(contentsOf: headerBytes)
        for key in keys {
            appendLittleEndian(tensors[key]!.storage, to: &out)
        }
        return out
    }

    /// Writes `serialized()` through `OutputWriter` (atomic for a file, through for a device).
    public func write(to path: String) throws {
        try OutputWriter.write([OutputFile(path: path, bytes: serialized())])
    }

    /// Checks keys and shapes against what the network needs: every missing key, every extra
    /// key, every wrong shape, every batchnorm `running_var` with a value below 0 — all listed
    /// in ONE error whose message has one line per problem (each line starts with the path),
    /// each naming the key and the shape found and expected (or the index and the value).
    /// Returns exactly the tensors the network uses. `ignoringExtra` accepts tensors the network
    /// has no parameter for (`extraKeys` lists them, for the caller's warning).
    public func validated(for network: CheckedNetwork, path: String, ignoringExtra: Bool = false) throws -> [String: Tensor] {
        var problems: [String] = []
        var result: [String: Tensor] = [:]
        for (key, parameter) in network.parameterTensors {
            guard let tensor = tensors[key] else {
                problems.append("\(path): missing tensor '\(key)' (expected shape \(formatShape(parameter.shape)))")
                continue
            }
            if tensor.shape != parameter.shape {
                problems.append("\(path): tensor '\(key)' has shape \(formatShape(tensor.shape)), expected \(formatShape(parameter.shape))")
                continue
            }
            // A variance is never negative; below −eps, sqrt(var + eps) makes its channel all NaN.
            if parameter.name == "running_var", let bad = tensor.storage.firstIndex(where: { !($0 >= 0) }) {
                let others = tensor.storage[(bad + 1)...].filter { !($0 >= 0) }.count
                problems.append("\(path): tensor '\(key)' has value \(tensor.storage[bad]) at index \(bad); a variance must be ≥ 0"
                    + (others > 0 ? " (and \(others) more)" : ""))
                continue
            }
            result[key] = tensor
        }
        for key in ignoringExtra ? [] : extraKeys(for: network) {
            problems.append("\(path): unexpected tensor '\(key)' with shape \(formatShape(tensors[key]!.shape)) (the network '\(network.name)' has no such parameter)")
        }
        if !problems.isEmpty {
            throw RuntimeError(problems.joined(separator: "\n"))
        }
        return result
    }
}

extension WeightFile {
    /// The keys the network has no parameter for, sorted. PyTorch's state_dict carries a step
    /// counter per batchnorm; it is not a weight, and not an extra for a batchnorm the network has.
    public func extraKeys(for network: CheckedNetwork) -> [String] {
        let expected = Set(network.parameterTensors.map(\.key))
        let batchNorms = Set(network.layers.filter { if case .batchNorm = $0.operation { true } else { false } }.map(\.name))
        func isCounter(_ key: String) -> Bool {
            key.hasSuffix(".num_batches_tracked") && batchNorms.contains(String(key.dropLast(".num_batches_tracked".count)))
        }
        return tensors.keys.filter { !expected.contains($0) && !isCounter($0) }.sorted()
    }

    /// The warning for the extras `validated(…, ignoringExtra: true)` let through: their count
    /// and the first `shown` names, one line starting with the path; nil when there are none.
    public static func ignoredExtrasWarning(_ keys: [String], path: String, network: String, shown: Int = 5) -> String? {
        guard !keys.isEmpty else { return nil }
        let names = keys.prefix(shown).map { "'\($0)'" }.joined(separator: ", ")
        let rest = keys.count > shown ? " and \(keys.count - shown) more" : ""
        let noun = keys.count == 1 ? "tensor" : "tensors"
        return "\(path): warning: ignoring \(keys.count) \(noun) the network '\(network)' has no parameter for: \(names)\(rest)"
    }
}

private func elementSuffix(_ index: Int, _ shape: [Int]) -> String {
    shape.count > 1 ? " (element \(formatShape(multiIndex(index, in: shape))))" : ""
}

private func isIntegerLiteral(_ text: String) -> Bool {
    let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
    return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
}

/// The offset (within `bytes`) of the first byte of the first sequence that is not UTF-8, or nil.
func firstInvalidUTF8(_ bytes: ArraySlice<UInt8>) -> Int? {
    var i = bytes.startIndex
    while i < bytes.endIndex {
        let b = bytes[i]
        let length: Int
        let minimum: UInt32
        var scalar: UInt32
        switch b {
        case 0x00...0x7F: i += 1; continue
        case 0xC2...0xDF: length = 2; scalar = UInt32(b & 0x1F); minimum = 0x80
        case 0xE0...0xEF: length = 3; scalar = UInt32(b & 0x0F); minimum = 0x800
        case 0xF0...0xF4: length = 4; scalar = UInt32(b & 0x07); minimum = 0x10000
        default: return i - bytes.startIndex
        }
        for k in 1..<length {
            guard i + k < bytes.endIndex, bytes[i + k] & 0xC0 == 0x80 else { return i - bytes.startIndex }
            scalar = scalar << 6 | UInt32(bytes[i + k] & 0x3F)
        }
        if scalar < minimum || scalar > 0x10FFFF || (0xD800...0xDFFF).contains(scalar) {
            return i - bytes.startIndex
        }
        i += length
    }
    return nil
}

// MARK: - A small, strict JSON reader

/// JSON values as the header needs them: integers exact, other numbers kept as text, object
/// members in file order so duplicates can be reported.
enum JSONValue {
    case object([(key: String, value: JSONValue)])
    case array([JSONValue])
    case string(String)
    case integer(Int)
    /// A number that is not an Int (a fraction, an exponent, or too large), as written.
    case number(String)
    case bool(Bool)
    case null

    /// A short rendering for messages.
    var brief: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string(let s): "\"" + (s.count > 20 ? String(s.prefix(20)) + "…" : s) + "\""
        case .integer(let i): String(i)
        case .number(let t): t.count > 24 ? String(t.prefix(24)) + "…" : t
        case .bool(let b): b ? "true" : "false"
        case .null: "null"
        }
    }
}

struct JSONReader {
    struct Failure: Error {
        var message: String
        var offset: Int
        var duplicateKey: String? = nil
    }

    let bytes: ArraySlice<UInt8>
    var position: Int
    var depth = 0
    static let maximumDepth = 64

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.position = bytes.startIndex
    }

    private var offset: Int { position - bytes.startIndex }

    private func failure(_ message: String) -> Failure { Failure(message: message, offset: offset) }

    mutating func parseDocumentResult() -> Result<JSONValue, Failure> {
        do {
            return .success(try parseDocument())
        } catch {
            return .failure(error)
        }
    }

    mutating func parseDocument() throws(Failure) -> JSONValue {
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if position < bytes.endIndex {
            throw failure("unexpected \(describeByte(bytes[position])) after the top-level value")
        }
        return value
    }

    private mutating func skipWhitespace() {
        while position < bytes.endIndex, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    private mutating func parseValue() throws(Failure) -> JSONValue {
        guard position < bytes.endIndex else { throw failure("unexpected end of header") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        case let b: throw failure("unexpected \(describeByte(b))")
        }
    }

    private mutating func expectWord(_ word: String) throws(Failure) {
        for c in word.utf8 {
            guard position < bytes.endIndex, bytes[position] == c else { throw failure("invalid literal") }
            position += 1
        }
    }

    private mutating func enter() throws(Failure) {
        depth += 1
        if depth > JSONReader.maximumDepth { throw failure("nesting deeper than \(JSONReader.maximumDepth) levels") }
    }

    /// Reads the entries of an object or array up to `close`, the reader on its opening byte;
    /// `entry` reads one (white space skipped around it), then a ',' or `close` must follow.
    private mutating func parseEntries(closedBy close: UInt8, _ entry: (inout JSONReader) throws(Failure) -> Void) throws(Failure) {
        try enter()
        position += 1
        skipWhitespace()
        if position < bytes.endIndex, bytes[position] == close {
            position += 1
            depth -= 1
            return
        }
        while true {
            skipWhitespace()
            try entry(&self)
            skipWhitespace()
            guard position < bytes.endIndex else { throw failure("unexpected end of header") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == close { position += 1; break }
            throw failure("expected ',' or '\(Character(Unicode.Scalar(close)))' but found \(describeByte(bytes[position]))")
        }
        depth -= 1
    }

    private mutating func parseObject() throws(Failure) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = []
        var seen = Set<String>()
        try parseEntries(closedBy: UInt8(ascii: "}")) { (reader: inout JSONReader) throws(Failure) in
            members.append(try reader.parseMember(seen: &seen))
        }
        return .object(members)
    }

    /// `"key": value`, the key not in `seen`.
    private mutating func parseMember(seen: inout Set<String>) throws(Failure) -> (key: String, value: JSONValue) {
        guard position < bytes.endIndex else { throw failure("unexpected end of header") }
        guard bytes[position] == UInt8(ascii: "\"") else {
            throw failure("expected a string key but found \(describeByte(bytes[position]))")
        }
        let keyOffset = offset
        let key = try parseString()
        if !seen.insert(key).inserted {
            throw Failure(message: "duplicate key '\(key)'", offset: keyOffset, duplicateKey: key)
        }
        skipWhitespace()
        guard position < bytes.endIndex else { throw failure("unexpected end of header") }
        guard bytes[position] == UInt8(ascii: ":") else {
            throw failure("expected ':' but found \(describeByte(bytes[position]))")
        }
        position += 1
        skipWhitespace()
        return (key, try parseValue())
    }

    private mutating func parseArray() throws(Failure) -> JSONValue {
        var items: [JSONValue] = []
        try parseEntries(closedBy: UInt8(ascii: "]")) { (reader: inout JSONReader) throws(Failure) in
            items.append(try reader.parseValue())
        }
        return .array(items)
    }

    private mutating func parseNumber() throws(Failure) -> JSONValue {
        let start = position
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        func digits() -> Int {
            let from = position
            while position < bytes.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
            return position - from
        }
        let intDigitsStart = position
        let intDigits = digits()
        if intDigits == 0 { throw failure("invalid number") }
        if intDigits > 1 && bytes[intDigitsStart] == UInt8(ascii: "0") {
            throw Failure(message: "number with a leading zero", offset: start - bytes.startIndex)
        }
        var isInteger = true
        if position < bytes.endIndex, bytes[position] == UInt8(ascii: ".") {
            position += 1
            isInteger = false
            if digits() == 0 { throw failure("invalid number") }
        }
        if position < bytes.endIndex, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            isInteger = false
            if position < bytes.endIndex, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            if digits() == 0 { throw failure("invalid number") }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if isInteger, let value = Int(text) { return .integer(value) }
        return .number(text)
    }

    private mutating func parseHex4() throws(Failure) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard position < bytes.endIndex else { throw failure("unexpected end of header") }
            let c = bytes[position]
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: throw failure("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    private mutating func parseString() throws(Failure) -> String {
        position += 1  // opening quote
        var scalars = String.UnicodeScalarView()
        var runStart = position
        func flushRun() {
            // The header was validated as UTF-8, so any run of plain bytes decodes cleanly.
            scalars.append(contentsOf: String(decoding: bytes[runStart..<position], as: UTF8.self).unicodeScalars)
        }
        while true {
            guard position < bytes.endIndex else { throw failure("unterminated string") }
            let c = bytes[position]
            if c == UInt8(ascii: "\"") {
                flushRun()
                position += 1
                return String(scalars)
            }
            if c < 0x20 { throw failure("control character \(describeByte(c)) in a string") }
            if c != UInt8(ascii: "\\") { position += 1; continue }
            flushRun()
            position += 1
            guard position < bytes.endIndex else { throw failure("unterminated string") }
            let escape = bytes[position]
            position += 1
            switch escape {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                var code = try parseHex4()
                if (0xD800...0xDBFF).contains(code) {
                    guard position + 1 < bytes.endIndex, bytes[position] == UInt8(ascii: "\\"),
                          bytes[position + 1] == UInt8(ascii: "u") else { throw failure("unpaired surrogate in \\u escape") }
                    position += 2
                    let low = try parseHex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw failure("unpaired surrogate in \\u escape") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(code) {
                    throw failure("unpaired surrogate in \\u escape")
                }
                guard let scalar = Unicode.Scalar(code) else { throw failure("invalid \\u escape") }
                scalars.append(scalar)
            default:
                throw failure("invalid escape \\ followed by \(describeByte(escape))")
            }
            runStart = position
        }
    }
}
