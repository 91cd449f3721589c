#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ShapeCheck

/// One error type for everything the runtime reads or checks; `description` is a one-line,
/// precise message that starts with the file path when there is one, e.g.
/// "w.safetensors: missing tensor 'conv1.bias' (expected shape [6])".
public struct RuntimeError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

// MARK: - Reading

/// Reads a whole file. Fails with "PATH: no such file", "PATH: is a directory",
/// "PATH: file is larger than LIMIT bytes" or "PATH: cannot read (REASON)".
public func readFileBytes(_ path: String, limit: Int = 1 << 34) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 {
        throw RuntimeError(openFailureMessage(path, errno: errno, writing: false))
    }
    defer { close(fd) }

    var info = stat()
    guard fstat(fd, &info) == 0 else {
        throw RuntimeError("\(path): cannot read (\(errnoText(errno)))")
    }
    if (info.st_mode & S_IFMT) == S_IFDIR {
        throw RuntimeError("\(path): is a directory")
    }
    let statedSize = Int(info.st_size)
    if statedSize > limit {
        throw RuntimeError("\(path): file is larger than \(limit) bytes (\(statedSize) bytes)")
    }

    // Read the size the file reports in one go, then whatever follows in chunks: pipes and
    // special files report 0, and a file may grow while it is read.
    var bytes = [UInt8](repeating: 0, count: max(statedSize, 0))
    var filled = 0
    while filled < bytes.count {
        let wanted = bytes.count - filled
        let got = bytes.withUnsafeMutableBytes { buffer in
            readRetrying(fd, buffer.baseAddress! + filled, wanted)
        }
        if got < 0 { throw RuntimeError(readFailureMessage(path, errno: errno)) }
        if got == 0 {
            bytes.removeSubrange(filled...)  // the file shrank
            return bytes
        }
        filled += got
    }
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let got = chunk.withUnsafeMutableBytes { buffer in
            readRetrying(fd, buffer.baseAddress!, buffer.count)
        }
        if got < 0 { throw RuntimeError(readFailureMessage(path, errno: errno)) }
        if got == 0 { return bytes }
        if got > limit - bytes.count {
            throw RuntimeError("\(path): file is larger than \(limit) bytes")
        }
        bytes.append(contentsOf: chunk[..<got])
    }
}

private func readFailureMessage(_ path: String, errno code: Int32) -> String {
    code == EISDIR ? "\(path): is a directory" : "\(path): cannot read (\(errnoText(code)))"
}

private func readRetrying(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    while true {
        let got = read(fd, buffer, min(count, 1 << 30))
        if got < 0 && errno == EINTR { continue }
        return got
    }
}

// Writing is OutputWriter.swift's.

func openFailureMessage(_ path: String, errno code: Int32, writing: Bool) -> String {
    switch code {
    case ENOENT: return writing ? "\(path): cannot create file (no such directory)" : "\(path): no such file"
    case ENOTDIR: return "\(path): a component of the path is not a directory"
    case EISDIR: return "\(path): is a directory"
    case EACCES, EPERM: return "\(path): permission denied"
    default: return "\(path): cannot \(writing ? "write" : "read") (\(errnoText(code)))"
    }
}

func errnoText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "error \(code)" }
    return String(cString: text)
}

// MARK: - Helpers shared by the readers

/// [2, 3, 4] as PyTorch prints shapes.
func formatShape(_ dims: [Int]) -> String {
    "[" + dims.map(String.init).joined(separator: ", ") + "]"
}

/// The row-major multi-index of a flat index, for "element [0, 2, 1]" in messages.
func multiIndex(_ flat: Int, in shape: [Int]) -> [Int] {
    var rest = flat
    var index = [Int](repeating: 0, count: shape.count)
    for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] > 0 {
        index[axis] = rest % shape[axis]
        rest /= shape[axis]
    }
    return index
}

/// "nan", "inf" or "-inf".
func nonFiniteName(_ value: Float) -> String {
    value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf")
}

/// A byte as a reader would want to see it in a message: 'P', 0x93.
func describeByte(_ byte: UInt8) -> String {
    if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
    let hex = String(byte, radix: 16, uppercase: true)
    return "0x" + (hex.count == 1 ? "0" + hex : hex)
}

/// Little-endian loads that never trap on alignment.
extension Array where Element == UInt8 {
    func loadLE16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) | UInt16(self[offset + 1]) << 8
    }

    func loadLE32(at offset: Int) -> UInt32 {
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(self[offset + i]) << (8 * UInt32(i)) }
        return v
    }

    func loadLE64(at offset: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(self[offset + i]) << (8 * UInt64(i)) }
        return v
    }
}

/// Float16 bits to Float, by hand (subnormals, infinities and NaN included).
func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = Int((h >> 10) & 0x1F)
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0x1F {
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    if exponent == 0 {
        // Subnormal (or zero): mantissa · 2^-24.
        let magnitude = Float(mantissa) * 0x1p-24
        return sign != 0 ? -magnitude : magnitude
    }
    return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
}

/// How a stored element type becomes Float.
enum ElementType: Sendable {
    case f32, f16, bf16, f64
    /// Only for PyTorch's batchnorm step counters (`num_batches_tracked`), which are not weights.
    case i64

    var size: Int {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        case .f64, .i64: 8
        }
    }

    enum Overflow { case elements, bytes }

    /// The elements of a tensor of `shape` and the bytes they fill; `fail` words the error when
    /// either count overflows Int (each reader names the tensor its own way).
    func footprint(of shape: [Int], fail: (Overflow) -> RuntimeError) throws -> (count: Int, bytes: Int) {
        guard let count = shape.checkedProduct() else { throw fail(.elements) }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
        if overflow { throw fail(.bytes) }
        return (count, bytes)
    }
}

/// The error of a conversion that met a value it will not pass on.
enum ConversionProblem {
    case nonFinite(index: Int, value: Float)
    case outOfRange(index: Int, value: Double)
}

/// Converts `count` little-endian elements starting at `offset` to Float. Stops at the first
/// NaN or infinity (or an F64 beyond Float's range) and reports it. The caller has checked
/// that the bytes are there.
func convertElements(_ bytes: [UInt8], offset: Int, count: Int, type: ElementType) -> Result<[Float], ConversionProblemBox> {
    var problem: ConversionProblem?
    let values = [Float](unsafeUninitializedCapacity: count) { out, initialized in
        bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + offset
            // One loop for every type: `widen` gives the Float, or nil (having set `problem`).
            func convert<Bits: FixedWidthInteger>(_: Bits.Type, _ widen: (Bits, Int) -> Float?) {
                for i in 0..<count {
                    let bits = Bits(littleEndian: (base + MemoryLayout<Bits>.size * i).loadUnaligned(as: Bits.self))
                    guard let v = widen(bits, i) else { return }
                    out[i] = v
                    initialized = i + 1
                }
            }
            func finite(_ v: Float, at i: Int) -> Float? {
                if !v.isFinite { problem = .nonFinite(index: i, value: v); return nil }
                return v
            }
            switch type {
            case .f32: convert(UInt32.self) { finite(Float(bitPattern: $0), at: $1) }
            case .f16: convert(UInt16.self) { finite(halfToFloat($0), at: $1) }
            case .bf16: convert(UInt16.self) { finite(Float(bitPattern: UInt32($0) << 16), at: $1) }
            case .f64:
                convert(UInt64.self) { bits, i in
                    let d = Double(bitPattern: bits)
                    if !d.isFinite { problem = .nonFinite(index: i, value: Float(d)); return nil }
                    let v = Float(d)
                    if !v.isFinite { problem = .outOfRange(index: i, value: d); return nil }
                    return v
                }
            case .i64: convert(Int64.self) { bits, _ in Float(bits) }
            }
        }
    }
    if let problem { return .failure(ConversionProblemBox(problem: problem)) }
    return .success(values)
}

struct ConversionProblemBox: Error {
    var problem: ConversionProblem
}

/// Little-endian Float32 bytes of `values`, appended to `out`.
func appendLittleEndian(_ values: [Float], to out: inout [UInt8]) {
    let start = out.count
    out.append(contentsOf: repeatElement(0, count: values.count * 4))
    out.withUnsafeMutableBytes { raw in
        let base = raw.baseAddress! + start
        for (i, v) in values.enumerated() {
            (base + 4 * i).storeBytes(of: v.bitPattern.littleEndian, as: UInt32.self)
        }
    }
}
