import Codegen
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Compiling generated code into shared libraries, cached on disk.
//
// A library is named by a SHA-256 of everything that determines its bytes: the source, the
// compiler's resolved path and `--version` output, and the flags. It lives in
// $CNNC_CACHE_DIR, else $XDG_CACHE_HOME/cnnc, else ~/.cache/cnnc. A miss compiles to a
// temporary name in that folder and renames it into place, so concurrent runs never see a
// half-written library: the rename is atomic and both writers produce the same bytes.

/// A compiler and the flags that turn one source file into a shared library.
public struct Compiler: Sendable {
    public enum Language: String, Sendable {
        case c
        case swift
    }

    public var language: Language
    /// The executable, resolved to an absolute path.
    public var path: String
    /// Arguments placed before the cnnc flags (from `CC="ccache clang"` for example).
    public var leadingArguments: [String]
    /// Flags besides the source and output names.
    public var flags: [String]

    /// The C compiler: $CC, else the clang beside `swiftc` on PATH (the Swift toolchain's),
    /// else clang, cc or gcc on PATH.
    public static func c(precise: Bool = false) throws -> Compiler {
        var flags = ["-std=c99", "-O3", "-march=native", "-fPIC", "-shared", "-pthread"]
        if precise { flags.append("-ffp-contract=off") }
        let environment = ProcessInfo.processInfo.environment
        if let cc = environment["CC"]?.split(separator: " ").map(String.init), let first = cc.first {
            guard let path = findExecutable(first) else { throw RuntimeError("$CC is '\(first)', which is not an executable on PATH") }
            return Compiler(language: .c, path: path, leadingArguments: Array(cc.dropFirst()), flags: flags)
        }
        if let swiftc = findExecutable("swiftc") {
            let beside = (swiftc as NSString).deletingLastPathComponent + "/clang"
            if access(beside, X_OK) == 0 { return Compiler(language: .c, path: beside, leadingArguments: [], flags: flags) }
        }
        for name in ["clang", "cc", "gcc"] {
            if let path = findExecutable(name) { return Compiler(language: .c, path: path, leadingArguments: [], flags: flags) }
        }
        throw RuntimeError("no C compiler found: set CC or put clang on PATH (the --backend c needs one)")
    }

    /// The Swift compiler: $SWIFTC, else `swiftc` on PATH.
    public static func swift() throws -> Compiler {
        let environment = ProcessInfo.processInfo.environment
        let name = environment["SWIFTC"] ?? "swiftc"
        guard let path = findExecutable(name) else {
            throw RuntimeError("no Swift compiler found: put swiftc on PATH or set SWIFTC (the --backend swift needs one)")
        }
        // -target-cpu native: the vector unit of this machine (AVX2 or AVX-512 instead of SSE2),
        // as -march=native for the C backend.
        return Compiler(language: .swift, path: path, leadingArguments: [],
                        flags: ["-O", "-target-cpu", "native", "-emit-library", "-parse-as-library"])
    }

    /// The compiler's identity for the cache key: its resolved path, size and modification
    /// time, and its `--version` output. Running `--version` costs a process (about 0.2 s for
    /// swiftc), so the output is memoised in the process and, under a name derived from the
    /// executable's path, size and time, in `memoDirectory`: a new compiler binary gets asked again.
    public func identity(memoDirectory: String? = nil) -> String {
        var resolved = path
        if let real = realpath(path, nil) {
            resolved = String(cString: real)
            free(real)
        }
        var info = stat()
        let fingerprint = stat(resolved, &info) == 0
            ? "\(resolved) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) \(info.st_ino)"
            : resolved
        let version = Compiler.versionCache.value(for: fingerprint) {
            let memo = memoDirectory.map { "\($0)/compilers/\(SHA256.hex(Array(fingerprint.utf8)).prefix(32)).version" }
            if let memo, let bytes = try? readFileBytes(memo) { return String(decoding: bytes, as: UTF8.self) }
            let output = (try? runProcess(path, ["--version"]).output) ?? "unknown"
            if let memo, let directory = memoDirectory, (try? makeDirectory(directory + "/compilers")) != nil {
                try? writeFileAtomically(Array(output.utf8), to: memo)
            }
            return output
        }
        return fingerprint + "\n" + version
    }

    private static let versionCache = VersionCache()
}

/// A lock-protected memo of `--version` outputs.
final class VersionCache: @unchecked Sendable {
    private var values: [String: String] = [:]
    private let lock = NSLock()

    func value(for key: String, compute: () -> String) -> String {
        lock.lock()
        if let cached = values[key] {
            lock.unlock()
            return cached
        }
        lock.unlock()
        let computed = compute()
        lock.lock()
        values[key] = computed
        lock.unlock()
        return computed
    }
}

/// Compiled libraries on disk, keyed by source, compiler and flags.
public struct CompilerCache: Sendable {
    public var directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// $CNNC_CACHE_DIR, else $XDG_CACHE_HOME/cnnc, else ~/.cache/cnnc.
    public static var standard: CompilerCache {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["CNNC_CACHE_DIR"], !explicit.isEmpty { return CompilerCache(directory: explicit) }
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return CompilerCache(directory: xdg + "/cnnc") }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return CompilerCache(directory: home + "/.cache/cnnc")
    }

    /// The cache key: SHA-256 over the language, source, compiler path, version and flags.
    public func key(source: String, compiler: Compiler, extraFlags: [String]) -> String {
        var bytes: [UInt8] = []
        let flags = compiler.leadingArguments + compiler.flags + extraFlags
        // Code for the native processor is only valid on this kind of processor; a cache folder
        // shared between machines must not hand it to another.
        let native = flags.contains("-march=native") || zip(flags, flags.dropFirst()).contains { $0 == ("-target-cpu", "native") }
        let processor = native ? processorIdentity() : ""
        for part in [compiler.language.rawValue, compiler.path, compiler.identity(memoDirectory: directory), processor]
            + flags + [source] {
            bytes += Array(part.utf8)
            bytes.append(0)
        }
        return SHA256.hex(bytes)
    }

    /// Where the library for a key lives.
    public func libraryPath(name: String, key: String) -> String {
        "\(directory)/\(CompilerCache.stem(name))-\(key.prefix(32)).so"
    }

    /// The readable part of the cache's file names: a network's name can be longer than a file
    /// name may be (255 bytes), and the key already tells libraries apart.
    static func stem(_ name: String) -> String {
        String(name.unicodeScalars.prefix(64))
    }

    /// The library for `source`: from the cache when it is there (`hit` true), else compiled,
    /// stored and returned. `name` is a readable stem for the file (the network's symbol prefix).
    public func library(source: String, name: String, compiler: Compiler) throws -> (path: String, hit: Bool) {
        let name = CompilerCache.stem(name)
        let key = key(source: source, compiler: compiler, extraFlags: [])
        let path = libraryPath(name: name, key: key)
        if access(path, R_OK) == 0 { return (path, true) }
        try makeDirectory(directory)

        // A private scratch folder for the source (and swiftc's side files).
        var template = Array("\(directory)/.build-\(name)-XXXXXX".utf8CString)
        guard let scratchPointer = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw RuntimeError("\(directory): cannot create a build folder (\(errnoText(errno)))")
        }
        let scratch = String(cString: scratchPointer)
        defer { try? FileManager.default.removeItem(atPath: scratch) }

        let sourcePath = "\(scratch)/\(name).\(compiler.language == .c ? "c" : "swift")"
        try writeFileAtomically(Array(source.utf8), to: sourcePath)
        let temporary = "\(directory)/.\(name)-\(key.prefix(32)).so.tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var arguments = compiler.leadingArguments + compiler.flags
        switch compiler.language {
        case .c:
            arguments += [sourcePath, "-o", temporary, "-lm"]
        case .swift:
            arguments += ["-module-name", "CnncGenerated_\(key.prefix(16))", sourcePath, "-o", temporary]
        }
        let result: (status: Int32, output: String)
        do {
            result = try runProcess(compiler.path, arguments, workingDirectory: scratch)
        } catch {
            unlink(temporary)
            throw error
        }
        guard result.status == 0 else {
            unlink(temporary)
            let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false).prefix(20)
            throw RuntimeError("compiling the generated \(compiler.language == .c ? "C" : "Swift") failed "
                + "(\((compiler.path as NSString).lastPathComponent) exited with status \(result.status)):\n"
                + lines.joined(separator: "\n"))
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw RuntimeError("\(path): cannot store the compiled library (\(errnoText(code)))")
        }
        return (path, false)
    }
}

/// The processor's model and feature flags (from /proc/cpuinfo), or "" where unavailable.
func processorIdentity() -> String {
    guard let bytes = try? readFileBytes("/proc/cpuinfo", limit: 1 << 22) else { return "" }
    let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
    let wanted = ["vendor_id", "model name", "flags"]
    var found: [String] = []
    for key in wanted {
        if let line = lines.first(where: { $0.hasPrefix(key) }) { found.append(String(line)) }
    }
    return found.joined(separator: "\n")
}

extension VectorTarget {
    /// The vector unit of this machine, which `-march=native` compiles for: from the feature
    /// flags in /proc/cpuinfo on Linux; AArch64 always has NEON; elsewhere on x86-64, AVX2.
    public static let host: VectorTarget = {
        #if arch(arm64)
        return .neon
        #elseif arch(x86_64)
        guard let bytes = try? readFileBytes("/proc/cpuinfo", limit: 1 << 22) else { return .avx2 }
        let flagsLine = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        if flags.contains("avx512f") { return .avx512 }
        if flags.contains("avx2") && flags.contains("fma") { return .avx2 }
        return flags.isEmpty ? .avx2 : .generic
        #else
        return .generic
        #endif
    }()
}

/// `mkdir -p`.
func makeDirectory(_ path: String) throws {
    do {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
        throw RuntimeError("\(path): cannot create the cache folder (\(error.localizedDescription))")
    }
}

/// The absolute path of an executable: `name` itself when it contains a slash, else the
/// first match on PATH.
func findExecutable(_ name: String) -> String? {
    if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for directory in path.split(separator: ":") where !directory.isEmpty {
        let candidate = "\(directory)/\(name)"
        var info = stat()
        if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
            return candidate
        }
    }
    return nil
}

/// Runs a program to completion; its stdout and stderr together.
func runProcess(_ path: String, _ arguments: [String], workingDirectory: String? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    process.standardInput = FileHandle.nullDevice
    do {
        try process.run()
    } catch {
        throw RuntimeError("cannot run \(path) (\(error.localizedDescription))")
    }
    // Read before waiting, so a chatty compiler cannot fill the pipe and block.
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// SHA-256 (FIPS 180-4), written out so the cache needs no package.
enum SHA256 {
    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    static func digest(_ message: [UInt8]) -> [UInt8] {
        var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
        var padded = message
        padded.append(0x80)
        while padded.count % 64 != 56 { padded.append(0) }
        let bits = UInt64(message.count) &* 8
        for shift in stride(from: 56, through: 0, by: -8) { padded.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }

        var w = [UInt32](repeating: 0, count: 64)
        for chunk in stride(from: 0, to: padded.count, by: 64) {
            for i in 0..<16 {
                let b = chunk + 4 * i
                w[i] = UInt32(padded[b]) << 24 | UInt32(padded[b + 1]) << 16 | UInt32(padded[b + 2]) << 8 | UInt32(padded[b + 3])
            }
            for i in 16..<64 {
                let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
                let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
            for i in 0..<64 {
                let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                let choose = (e & f) ^ (~e & g)
                let t1 = hh &+ s1 &+ choose &+ k[i] &+ w[i]
                let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                let majority = (a & b) ^ (a & c) ^ (b & c)
                let t2 = s0 &+ majority
                (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
            }
            h[0] = h[0] &+ a; h[1] = h[1] &+ b; h[2] = h[2] &+ c; h[3] = h[3] &+ d
            h[4] = h[4] &+ e; h[5] = h[5] &+ f; h[6] = h[6] &+ g; h[7] = h[7] &+ hh
        }
        return h.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> UInt32(24 - 8 * $0)) } }
    }

    static func hex(_ message: [UInt8]) -> String {
        digest(message).map { byte in
            let text = String(byte, radix: 16)
            return text.count == 1 ? "0" + text : text
        }.joined()
    }

    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
}
