import ShapeCheck
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How much scratch memory one run may take: a large batch runs in pieces that fit it, and
/// `init`/`bench` refuse work that cannot. Without it a big batch meets the OOM killer (Linux
/// overcommits, so malloc rarely fails) or a trap in Swift's allocator under `ulimit -v`.
public struct MemoryBudget: Sendable, Equatable {
    public static let variable = "CNNC_MEMORY_LIMIT"
    /// The default's cap: a quarter of physical memory and of the address-space limit, at most this.
    public static let defaultCap = 1 << 30

    public var bytes: Int
    /// True when CNNC_MEMORY_LIMIT set it.
    public var fromEnvironment: Bool

    public init(bytes: Int, fromEnvironment: Bool = false) {
        self.bytes = bytes
        self.fromEnvironment = fromEnvironment
    }

    /// CNNC_MEMORY_LIMIT when set ("512M", "2G", "1.5GiB", bytes), else the default. A value that
    /// is not a size is an error naming the variable.
    public static func current(environment: [String: String]? = nil) throws -> MemoryBudget {
        let text: String?
        if let environment { text = environment[variable] } else { text = getenv(variable).map { String(cString: $0) } }
        guard let text, !text.isEmpty else { return MemoryBudget(bytes: defaultBytes()) }
        guard let bytes = parseSize(text), bytes >= 1 << 20 else {
            throw RuntimeError("\(variable) is '\(text)'; expected a size of at least 1M such as 512M or 2G")
        }
        return MemoryBudget(bytes: bytes, fromEnvironment: true)
    }

    /// min(1 GiB, physical memory / 4, RLIMIT_AS / 4), at least 16 MiB.
    public static func defaultBytes() -> Int {
        var bytes = defaultCap
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        if pages > 0, pageSize > 0 { bytes = min(bytes, pages.multipliedReportingOverflow(by: pageSize).partialValue / 4) }
        var limit = rlimit()
        if getrlimit(RLIMIT_AS_VALUE, &limit) == 0, limit.rlim_cur != rlim_t.max, limit.rlim_cur < UInt64(Int.max) {
            bytes = min(bytes, Int(limit.rlim_cur) / 4)
        }
        return max(bytes, 16 << 20)
    }

    /// "2G" → 2 GiB; K, M, G, T are powers of 1024, an optional "iB" or "B" may follow; bytes
    /// without a suffix. Nil for anything else (or an overflow).
    public static func parseSize(_ text: String) -> Int? {
        var body = Substring(text.trimmedBlanks())
        for suffix in ["iB", "B", "ib", "b"] where body.hasSuffix(suffix) && body.count > suffix.count {
            body = body.dropLast(suffix.count)
            break
        }
        var scale = 1.0
        if let last = body.last, let power = ["k": 1, "m": 2, "g": 3, "t": 4][last.lowercased()] {
            scale = Double(1 << (10 * power))
            body = body.dropLast()
        }
        body = Substring(String(body).trimmedBlanks())
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              let number = Double(body), number.isFinite else { return nil }
        let value = (number * scale).rounded(.down)
        guard value < 0x1p62 else { return nil }
        return Int(value)
    }

    /// "1 GiB", "512 MiB", "1.5 GiB", "900 KiB", "12 B": `check`'s sizes without a ".0".
    public static func describe(_ bytes: Int) -> String {
        CheckReport.bytes(bytes).replacing(".0 ", with: " ")
    }

    /// "workspace budget 1 GiB; set CNNC_MEMORY_LIMIT to change" (or "…, from CNNC_MEMORY_LIMIT").
    public var explanation: String {
        "workspace budget \(Self.describe(bytes)); " + (fromEnvironment ? "from \(Self.variable)" : "set \(Self.variable) to change")
    }
}

import ShapeCheck
#if canImport(Glibc)
private let RLIMIT_AS_VALUE = Int32(RLIMIT_AS.rawValue)
#else
private let RLIMIT_AS_VALUE = RLIMIT_AS
#endif

private extension String {
    func trimmedBlanks() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" { s = s.dropLast() }
        return String(s)
    }
}

// MARK: - Allocations that report failure instead of trapping

/// A 64-byte aligned buffer from posix_memalign, or an error naming what it was for; Swift's
/// own allocation (arrays, `allocate`) traps when the memory is not there.
public func allocateAligned(_ bytes: Int, for what: String) throws -> UnsafeMutableRawPointer {
    var pointer: UnsafeMutableRawPointer?
    guard bytes >= 0, posix_memalign(&pointer, 64, max(bytes, 64)) == 0, let pointer else {
        throw RuntimeError(allocationFailure(bytes, what))
    }
    return pointer
}

/// Checks that `bytes` can be allocated now (malloc, then free), before a Swift array of that
/// size is made; throws the message instead of the allocator's trap.
public func requireMemory(_ bytes: Int, for what: String) throws {
    guard bytes >= 0, let pointer = malloc(max(bytes, 1)) else { throw RuntimeError(allocationFailure(bytes, what)) }
    free(pointer)
}

/// `count` zeros, or an error when they cannot be allocated.
public func zeroFloats(_ count: Int, for what: String) throws -> [Float] {
    let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Float>.size)
    if overflow { throw RuntimeError(allocationFailure(Int.max, what)) }
    try requireMemory(bytes, for: what)
    return [Float](repeating: 0, count: count)
}

func allocationFailure(_ bytes: Int, _ what: String) -> String {
    "cannot allocate \(MemoryBudget.describe(bytes)) (\(bytes) bytes) for \(what): out of memory"
}
