import Codegen
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

    /// How long `--version` may take: a compiler answers in well under a second, so one that
    /// does not in this long is not a compiler (or is hung), and cnnc says so instead of hanging.
    public static let versionTimeout: Double = 10

    /// The C compiler: $CC, else the clang beside `swiftc` on PATH (the Swift toolchain's),
    /// else clang, cc or gcc on PATH.
    public static func c(precise: Bool = false) throws -> Compiler {
        var flags = ["-std=c99", "-O3", "-march=native", "-fPIC", "-shared", "-pthread"]
        if precise { flags.append("-ffp-contract=off") }
        let environment = ProcessInfo.processInfo.environment
        if let cc = environment["CC"]?.split(separator: " ").map(String.init), let first = cc.first {
            let path = try findExecutable(first, variable: "CC")
            return Compiler(language: .c, path: path, leadingArguments: Array(cc.dropFirst()), flags: flags)
        }
        if let swiftc = try? findExecutable("swiftc", variable: nil) {
            let beside = (swiftc as NSString).deletingLastPathComponent + "/clang"
            if isExecutableFile(beside) { return Compiler(language: .c, path: beside, leadingArguments: [], flags: flags) }
        }
        for name in ["clang", "cc", "gcc"] {
            if let path = try? findExecutable(name, variable: nil) {
                return Compiler(language: .c, path: path, leadingArguments: [], flags: flags)
            }
        }
        throw RuntimeError("no C compiler found: set CC or put clang on PATH (the --backend c needs one)")
    }

    /// The Swift compiler: $SWIFTC, else `swiftc` on PATH; the fast kernels' arithmetic is
    /// compiled with `arithmetic`'s instructions.
    public static func swift(arithmetic: VectorTarget = .host) throws -> Compiler {
        let environment = ProcessInfo.processInfo.environment
        let path: String
        if let name = environment["SWIFTC"], !name.isEmpty {
            path = try findExecutable(name, variable: "SWIFTC")
        } else {
            guard let found = try? findExecutable("swiftc", variable: nil) else {
                throw RuntimeError("no Swift compiler found: put swiftc on PATH or set SWIFTC (the --backend swift needs one)")
            }
            path = found
        }
        // -target-cpu native: the vector unit of this machine (AVX2 or AVX-512 instead of SSE2),
        // as -march=native for the C backend; -D CNNC_AVX512 or CNNC_AVX2 tells the fast Swift
        // kernels that unit, which Swift's #if cannot ask (FastSwiftSupport.arithmetic).
        return Compiler(language: .swift, path: path, leadingArguments: [],
                        flags: ["-O", "-target-cpu", "native"] + (arithmetic.swiftCondition.map { ["-D", $0] } ?? []) + ["-emit-library", "-parse-as-library"])
    }

    /// The compiler's identity for the cache key: its resolved path, size and modification
    /// time, and its `--version` output. Running `--version` costs a process (about 0.2 s for
    /// swiftc), so the output is memoised in the process and, under a name derived from the
    /// executable's path, size and time, in `memoDirectory`: a new compiler binary gets asked again.
    /// Fails when `--version` does not finish within `versionTimeout`.
    public func identity(memoDirectory: String? = nil) throws -> String {
        var resolved = path
        if let real = realpath(path, nil) {
            resolved = String(cString: real)
            free(real)
        }
        var info = stat()
        let fingerprint = stat(resolved, &info) == 0
            ? "\(resolved) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) \(info.st_ino)"
            : resolved
        if let cached = Compiler.versions.locked({ $0[fingerprint] }) { return fingerprint + "\n" + cached }
        let version = try {
            let memo = memoDirectory.map { "\($0)/compilers/\(SHA256.hex(Array(fingerprint.utf8)).prefix(32)).version" }
            if let memo, let bytes = try? readFileBytes(memo, limit: 1 << 20) { return String(decoding: bytes, as: UTF8.self) }
            let result: ChildResult
            do {
                result = try runChild(path, ["--version"], timeout: Compiler.versionTimeout)
            } catch {
                return "unknown"    // it cannot even start; compiling will say why
            }
            if result.termination == .timedOut {
                throw RuntimeError("\(path): '--version' did not finish in \(Int(Compiler.versionTimeout)) s, so it was stopped; is it a \(language == .c ? "C" : "Swift") compiler?")
            }
            if let memo, let directory = memoDirectory, (try? createFolder(directory + "/compilers", label: directory)) != nil {
                try? writeDurably(Array(result.output.utf8), to: memo)
            }
            return result.output
        }()
        Compiler.versions.locked { $0[fingerprint] = version }
        return fingerprint + "\n" + version
    }

    /// `--version` outputs by compiler fingerprint, for this process.
    private static let versions = Locked([String: String]())
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

/// `path` made absolute against the current directory: the compiler runs in a scratch folder,
/// so a relative path from the environment would name something else there.
func absolutePath(_ path: String) -> String {
    if path.hasPrefix("/") { return path }
    guard let cwd = getcwd(nil, 0) else { return path }
    defer { free(cwd) }
    let base = String(cString: cwd)
    let relative = path.hasPrefix("./") ? String(path.dropFirst(2)) : path
    return relative.isEmpty || relative == "." ? base : (base == "/" ? "" : base) + "/" + relative
}

func isExecutableFile(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && access(path, X_OK) == 0
}

/// The absolute path of an executable: `name` itself (made absolute) when it contains a slash,
/// else the first match on PATH. `variable` (CC, SWIFTC) names where `name` came from in the
/// error: "$CC is '/tmp', which is a directory, not an executable".
func findExecutable(_ name: String, variable: String?) throws -> String {
    let shown = variable.map { "$\($0) is '\(name)', which" } ?? "'\(name)'"
    if name.contains("/") {
        let path = absolutePath(name)
        var info = stat()
        guard stat(path, &info) == 0 else { throw RuntimeError("\(shown) is not an executable") }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw RuntimeError("\(shown) is a directory, not an executable") }
        guard (info.st_mode & S_IFMT) == S_IFREG, access(path, X_OK) == 0 else {
            throw RuntimeError("\(shown) is not an executable (no permission to run it)")
        }
        return path
    }
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for directory in path.split(separator: ":") where !directory.isEmpty {
        let candidate = absolutePath("\(directory)/\(name)")
        if isExecutableFile(candidate) { return candidate }
    }
    throw RuntimeError("\(shown) is not an executable on PATH")
}
