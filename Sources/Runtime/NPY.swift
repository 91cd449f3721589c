/// NumPy's .npy format: the magic "\x93NUMPY", a version, a header length, a Python dict
/// literal ({'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }) and the raw data.
public enum NPY {
    public static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

    /// The longest header read: NumPy writes well under 1 KiB (and itself refuses over 10,000 bytes).
    public static let headerLimit = 1 << 20

    public static func read(contentsOf path: String) throws -> Tensor {
        try read(InputFile(path))
    }

    /// Reads the preamble and header first, then only the bytes the header's shape needs (and
    /// one more, to tell a longer file), so `/dev/zero` or an endless FIFO stops early.
    /// `checkShape` sees the shape before the data is read (a caller's "not the network's" error).
    public static func read(_ file: InputFile, checkShape: (([Int]) throws -> Void)? = nil) throws -> Tensor {
        let path = file.path
        try file.fill(to: 12)
        let bytes = file.bytes
        guard !file.atEnd, bytes.starts(with: magic), [1, 2, 3].contains(bytes[6]), bytes[7] == 0 else {
            return try parse(file.bytes, path: path)  // the preamble's own error, or a tiny file
        }
        let headerStart = bytes[6] == 1 ? 10 : 12
        let headerLength = bytes[6] == 1 ? Int(bytes.loadLE16(at: 8)) : Int(bytes.loadLE32(at: 8))
        if headerLength > headerLimit {
            throw RuntimeError("\(path): header length \(headerLength) is more than the \(headerLimit) bytes a .npy header may have")
        }
        try file.fill(to: headerStart + headerLength)
        if file.atEnd { return try parse(file.bytes, path: path) }
        let found = try header(file.bytes, path: path)
        try checkShape?(found.shape)
        let total = found.dataStart + found.needed
        if let size = file.regularSize, size > total {
            throw RuntimeError("\(path): \(size - total) bytes of extra data after the array (shape \(pythonShape(found.shape)) "
                + "of '\(found.descr)' needs \(found.needed) bytes, found \(size - found.dataStart))")
        }
        try file.fill(to: total + 1)
        if file.bytes.count > total {
            throw RuntimeError("\(path): more data after the array than shape \(pythonShape(found.shape)) of '\(found.descr)' "
                + "needs (\(found.needed) bytes); stopped reading there")
        }
        // After the read, so that a truncated file reports that rather than a claim's size.
        if file.bytes.count == total {
            try requireMemory(found.count.multipliedReportingOverflow(by: 4).partialValue, for: "the \(found.count) values of \(path)")
        }
        return try parse(file.bytes, path: path)
    }

    /// What the header says: the shape, the element type and where the data starts.
    struct Header {
        var shape: [Int]
        var descr: String
        var type: ElementType
        var dataStart: Int
        var count: Int
        var needed: Int
    }

    /// Accepts '<f4', and '<f8' / '<f2' converted to Float; shapes of rank 1 to 4, C order.
    /// NaN and infinity are errors.
    public static func parse(_ bytes: [UInt8], path: String) throws -> Tensor {
        func fail(_ message: String) -> RuntimeError { RuntimeError("\(path): \(message)") }
        let found = try header(bytes, path: path)
        let (shape, descr, needed, count, type, dataStart) = (found.shape, found.descr, found.needed, found.count, found.type, found.dataStart)
        let shown = pythonShape(shape)
        let present = bytes.count - dataStart
        if present < needed {
            throw fail("data is truncated: shape \(shown) of '\(descr)' needs \(needed) bytes, found \(present)")
        }
        if present > needed {
            throw fail("\(present - needed) bytes of extra data after the array (shape \(shown) of '\(descr)' needs \(needed) bytes, found \(present))")
        }
        switch convertElements(bytes, offset: dataStart, count: count, type: type) {
        case .success(let values):
            return Tensor(shape: shape, storage: values)
        case .failure(let box):
            switch box.problem {
            case .nonFinite(let index, let value):
                throw fail("non-finite value (\(nonFiniteName(value))) at index \(index) (element \(formatShape(multiIndex(index, in: shape))))")
            case .outOfRange(let index, let value):
                throw fail("value \(value) at index \(index) (element \(formatShape(multiIndex(index, in: shape)))) is outside the Float32 range")
            }
        }
    }

    /// The preamble and header of `bytes` (which must hold all of the header), checked.
    static func header(_ bytes: [UInt8], path: String) throws -> Header {
        func fail(_ message: String) -> RuntimeError { RuntimeError("\(path): \(message)") }

        if bytes.isEmpty { throw fail("file is empty") }
        if bytes.count < magic.count || !bytes.starts(with: magic) {
            throw fail("not a .npy file (it does not start with the magic bytes \\x93NUMPY)")
        }
        if bytes.count < 10 {
            throw fail("file is too short for a .npy header (\(bytes.count) bytes)")
        }
        let (major, minor) = (bytes[6], bytes[7])
        let lengthStart = 8
        let lengthSize: Int
        switch (major, minor) {
        case (1, 0): lengthSize = 2
        case (2, 0), (3, 0): lengthSize = 4
        default: throw fail("unsupported .npy version \(major).\(minor) (expected 1.0, 2.0 or 3.0)")
        }
        let headerStart = lengthStart + lengthSize
        if bytes.count < headerStart {
            throw fail("file is too short for a .npy header (\(bytes.count) bytes)")
        }
        let headerLength = lengthSize == 2 ? Int(bytes.loadLE16(at: lengthStart)) : Int(bytes.loadLE32(at: lengthStart))
        let available = bytes.count - headerStart
        if headerLength > available {
            throw fail("header length \(headerLength) runs past the end of the file (\(available) bytes follow the length)")
        }
        let headerBytes = bytes[headerStart..<(headerStart + headerLength)]
        if major < 3 {
            if let i = headerBytes.firstIndex(where: { $0 >= 0x80 }) {
                throw fail("header has non-ASCII byte \(describeByte(bytes[i])) at header offset \(i - headerStart)")
            }
        } else if let bad = firstInvalidUTF8(headerBytes) {
            throw fail("header is not valid UTF-8 (byte \(describeByte(headerBytes[headerStart + bad])) at header offset \(bad))")
        }

        var reader = PyLiteralReader(bytes: headerBytes)
        let dict: [(key: String, value: PyValue)]
        switch reader.parseHeaderResult() {
        case .success(let entries):
            dict = entries
        case .failure(let error):
            throw fail("header is not a valid dict literal: \(error.message) at header offset \(error.offset)")
        }

        var descr: String?
        var fortran: Bool?
        var shape: [Int]?
        for (key, value) in dict {
            switch key {
            case "descr":
                guard case .string(let s) = value else {
                    throw fail("'descr' is \(value.brief); structured arrays are not supported (expected '<f4')")
                }
                descr = s
            case "fortran_order":
                guard case .bool(let b) = value else { throw fail("'fortran_order' is \(value.brief), expected True or False") }
                fortran = b
            case "shape":
                guard case .tuple(let items) = value else { throw fail("'shape' is \(value.brief), expected a tuple") }
                var dims: [Int] = []
                for item in items {
                    guard case .integer(let d) = item else {
                        throw fail("'shape' has entry \(item.brief), expected integers")
                    }
                    dims.append(d)
                }
                shape = dims
            default:
                throw fail("header has unexpected key '\(key)' (expected 'descr', 'fortran_order' and 'shape')")
            }
        }
        guard let descr else { throw fail("header has no 'descr'") }
        guard let fortran else { throw fail("header has no 'fortran_order'") }
        guard let shape else { throw fail("header has no 'shape'") }

        let type: ElementType
        switch descr {
        case "<f4": type = .f32
        case "<f8": type = .f64
        case "<f2": type = .f16
        case ">f4", ">f8", ">f2":
            throw fail("dtype '\(descr)' is big-endian; expected '<f4' (little-endian float32)")
        case "|O", "<O", ">O", "O":
            throw fail("dtype '\(descr)' is an object array; expected '<f4' (float32)")
        default:
            throw fail("dtype '\(descr)' is not supported; expected '<f4' (float32; '<f8' and '<f2' are converted)")
        }
        if fortran {
            throw fail("array is in Fortran order; expected C order (save np.ascontiguousarray(x))")
        }
        let shown = pythonShape(shape)
        if shape.isEmpty || shape.count > 4 {
            throw fail("shape \(shown) has \(shape.count) dimensions; expected 1 to 4")
        }
        if let d = shape.first(where: { $0 <= 0 }) {
            throw fail("shape \(shown) has dimension \(d); every dimension must be at least 1")
        }
        let (count, needed) = try type.footprint(of: shape) {
            fail("shape \(shown) " + ($0 == .elements ? "has more elements" : "needs more bytes") + " than can be counted")
        }
        return Header(shape: shape, descr: descr, type: type, dataStart: headerStart + headerLength, count: count, needed: needed)
    }

    /// Version 1.0, '<f4', C order, laid out as NumPy's `np.save` lays it out (so files are
    /// byte-identical): the dict, spare spaces for the first dimension to grow to 21 digits,
    /// then spaces and '\n' so the data starts on a 64-byte boundary.
    public static func serialized(_ tensor: Tensor) -> [UInt8] {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(pythonShape(tensor.shape)), }"
        if let first = tensor.shape.first {
            header += String(repeating: " ", count: max(0, 21 - String(first).count))
        }
        // Preamble: magic (6) + version (2) + length (2, or 4 for version 2.0).
        func padding(_ preamble: Int) -> Int { 64 - (preamble + header.utf8.count + 1) % 64 }
        let version: UInt8 = header.utf8.count + 1 + padding(10) > Int(UInt16.max) ? 2 : 1
        header += String(repeating: " ", count: padding(version == 1 ? 10 : 12)) + "\n"

        var out = magic
        let length = header.utf8.count
        if version == 1 {
            out += [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)]
        } else {
            out += [2, 0, UInt8(length & 0xFF), UInt8((length >> 8) & 0xFF), UInt8((length >> 16) & 0xFF), UInt8(length >> 24)]
        }
        out += Array(header.utf8)
        out.reserveCapacity(out.count + tensor.storage.count * 4)
        appendLittleEndian(tensor.storage, to: &out)
        return out
    }

    /// Writes `serialized(tensor)` through `OutputWriter` (atomic for a file, through for a device).
    public static func write(_ tensor: Tensor, to path: String) throws {
        try OutputWriter.write([OutputFile(path: path, bytes: serialized(tensor))])
    }
}

/// (2, 3) or (5,) as Python writes a shape tuple.
private func pythonShape(_ dims: [Int]) -> String {
    dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.map(String.init).joined(separator: ", ") + ")"
}

// MARK: - The header's Python literal

enum PyValue {
    case string(String)
    case bool(Bool)
    case integer(Int)
    case tuple([PyValue])
    case list([PyValue])
    case none

    var brief: String {
        switch self {
        case .string(let s): "'\(s.count > 20 ? String(s.prefix(20)) + "…" : s)'"
        case .bool(let b): b ? "True" : "False"
        case .integer(let i): String(i)
        case .tuple: "a tuple"
        case .list: "a list"
        case .none: "None"
        }
    }
}

/// Reads the restricted Python literal NumPy writes: one dict of string keys whose values are
/// strings, True/False/None, integers, and tuples or lists of those.
struct PyLiteralReader {
    struct Failure: Error {
        var message: String
        var offset: Int
    }

    let bytes: ArraySlice<UInt8>
    var position: Int
    var depth = 0

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.position = bytes.startIndex
    }

    private func failure(_ message: String) -> Failure { Failure(message: message, offset: position - bytes.startIndex) }

    private var current: UInt8? { position < bytes.endIndex ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while let c = current, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { position += 1 }
    }

    private func found() -> String {
        current.map(describeByte) ?? "the end of the header"
    }

    mutating func parseHeaderResult() -> Result<[(key: String, value: PyValue)], Failure> {
        do {
            return .success(try parseHeader())
        } catch {
            return .failure(error)
        }
    }

    mutating func parseHeader() throws(Failure) -> [(key: String, value: PyValue)] {
        skipWhitespace()
        guard current == UInt8(ascii: "{") else { throw failure("expected '{' but found \(found())") }
        position += 1
        var entries: [(key: String, value: PyValue)] = []
        while true {
            skipWhitespace()
            if current == UInt8(ascii: "}") { position += 1; break }
            guard current == UInt8(ascii: "'") || current == UInt8(ascii: "\"") else {
                throw failure("expected a quoted key but found \(found())")
            }
            let keyOffset = position - bytes.startIndex
            let key = try parseString()
            if entries.contains(where: { $0.key == key }) {
                throw Failure(message: "duplicate key '\(key)'", offset: keyOffset)
            }
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw failure("expected ':' but found \(found())") }
            position += 1
            skipWhitespace()
            entries.append((key, try parseValue()))
            skipWhitespace()
            if current == UInt8(ascii: ",") { position += 1; continue }
            if current == UInt8(ascii: "}") { position += 1; break }
            throw failure("expected ',' or '}' but found \(found())")
        }
        skipWhitespace()
        if current != nil { throw failure("unexpected \(found()) after the dict") }
        return entries
    }

    private mutating func parseValue() throws(Failure) -> PyValue {
        guard let c = current else { throw failure("unexpected end of the header") }
        switch c {
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "("), UInt8(ascii: "["):
            return try parseSequence()
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .integer(try parseInteger())
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "_"):
            let start = position
            while let d = current, d == UInt8(ascii: "_") || (d >= 0x30 && d <= 0x39)
                    || (d | 0x20 >= UInt8(ascii: "a") && d | 0x20 <= UInt8(ascii: "z")) { position += 1 }
            let word = String(decoding: bytes[start..<position], as: UTF8.self)
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .none
            default: throw Failure(message: "unexpected name '\(word.prefix(20))'", offset: start - bytes.startIndex)
            }
        default:
            throw failure("unexpected \(found())")
        }
    }

    private mutating func parseSequence() throws(Failure) -> PyValue {
        let isTuple = current == UInt8(ascii: "(")
        let close = isTuple ? UInt8(ascii: ")") : UInt8(ascii: "]")
        depth += 1
        if depth > 16 { throw failure("nesting deeper than 16 levels") }
        position += 1
        var items: [PyValue] = []
        while true {
            skipWhitespace()
            if current == close { position += 1; break }
            items.append(try parseValue())
            skipWhitespace()
            if current == UInt8(ascii: ",") { position += 1; continue }
            if current == close { position += 1; break }
            throw failure("expected ',' or '\(Character(Unicode.Scalar(close)))' but found \(found())")
        }
        depth -= 1
        return isTuple ? .tuple(items) : .list(items)
    }

    private mutating func parseInteger() throws(Failure) -> Int {
        let start = position
        var negative = false
        if current == UInt8(ascii: "-") || current == UInt8(ascii: "+") {
            negative = current == UInt8(ascii: "-")
            position += 1
        }
        var value = 0
        var digits = 0
        while let c = current, c >= 0x30 && c <= 0x39 {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(c - 0x30))
            if o1 || o2 { throw Failure(message: "integer too large", offset: start - bytes.startIndex) }
            value = sum
            digits += 1
            position += 1
        }
        if digits == 0 { throw failure("expected digits but found \(found())") }
        if let c = current, c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") || c == UInt8(ascii: "L") {
            throw failure("expected an integer but found \(found())")
        }
        return negative ? -value : value
    }

    private mutating func parseString() throws(Failure) -> String {
        let quote = bytes[position]
        position += 1
        let start = position
        while let c = current, c != quote {
            if c == UInt8(ascii: "\\") { throw failure("escape sequences are not supported in header strings") }
            if c == 0x0A { throw failure("unterminated string") }
            position += 1
        }
        guard current == quote else { throw failure("unterminated string") }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        position += 1
        return text
    }
}
