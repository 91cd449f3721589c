import Codegen
import Foundation
import ShapeCheck
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Compiling generated code into shared libraries, cached on disk.
//
// A library is named by a SHA-256 of everything that determines its bytes: the source, the
// compiler's resolved path and `--version` output, and the flags. It lives in
// $CNNC_CACHE_DIR, else $XDG_CACHE_HOME/cnnc, else ~/.cache/cnnc (made absolute first).
//
// The protocol, so that a damaged library is never loaded and never kept:
// - a miss compiles in a private scratch folder `.build-NAME-PID-XXXXXX` in the cache folder;
// - the result must be a shared library that loads (its ELF headers are checked against its
//   size before dlopen, so a short file cannot SIGBUS); a compiler that exits 0 with anything
//   else is an error and nothing is cached;
// - its size and SHA-256 go into `NAME-KEY.so.manifest`; both files are fsynced, renamed into
//   place (manifest first) and the folder is fsynced;
// - a hit is a library whose size and SHA-256 match its manifest; anything else (truncated,
//   altered, no manifest) is compiled again and replaced by rename, never loaded.
// Concurrent writers each rename a complete pair, so a reader sees old or new files, never
// partial ones; a reader that sees one writer's library beside another's manifest compiles again.
// Scratch folders and temporaries carry the PID, and those of dead processes are removed on the
// next use of the cache.

/// A step that may take a while, for the caller to show as it likes: `began` with a line of
/// text (`compiling resnet18 (1.1 MiB of C, clang)`), then `ended`. The CLI draws it on a
/// terminal; Runtime knows nothing of terminals.
public struct ProgressReporter: Sendable {
    public var began: @Sendable (String) -> Void
    public var ended: @Sendable () -> Void

    public init(began: @escaping @Sendable (String) -> Void, ended: @escaping @Sendable () -> Void) {
        self.began = began
        self.ended = ended
    }

    public static let silent = ProgressReporter(began: { _ in }, ended: {})
}

/// Compiled libraries on disk, keyed by source, compiler and flags.
public struct CompilerCache: Sendable {
    /// The cache folder, absolute.
    public var directory: String
    /// How errors name the folder: the setting it came from ("CNNC_CACHE_DIR=rel/cache") or the path.
    public var label: String

    /// The environment variable that bounds a compile, in seconds.
    public static let timeoutVariable = "CNNC_COMPILE_TIMEOUT"
    /// Ten minutes: a network of thousands of layers compiles in well under that on a laptop.
    public static let defaultTimeout: Double = 600

    public init(directory: String) {
        self.directory = absolutePath(directory)
        label = self.directory
    }

    init(directory: String, label: String) {
        self.directory = absolutePath(directory)
        self.label = label
    }

    /// $CNNC_CACHE_DIR, else $XDG_CACHE_HOME/cnnc, else ~/.cache/cnnc, each made absolute
    /// against the current directory (XDG_CACHE_HOME only counts when absolute, as its spec says).
    public static var standard: CompilerCache {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["CNNC_CACHE_DIR"], !explicit.isEmpty {
            return CompilerCache(directory: explicit, label: "CNNC_CACHE_DIR=\(explicit)")
        }
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return CompilerCache(directory: xdg + "/cnnc") }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return CompilerCache(directory: home + "/.cache/cnnc")
    }

    /// The cache key: SHA-256 over the language, source, compiler path, version and flags.
    public func key(source: String, compiler: Compiler, extraFlags: [String]) throws -> String {
        var bytes: [UInt8] = []
        let flags = compiler.leadingArguments + compiler.flags + extraFlags
        // Code for the native processor is only valid on this kind of processor; a cache folder
        // shared between machines must not hand it to another.
        let native = flags.contains("-march=native") || zip(flags, flags.dropFirst()).contains { $0 == ("-target-cpu", "native") }
        let processor = native ? processorIdentity() : ""
        for part in [compiler.language.rawValue, compiler.path, try compiler.identity(memoDirectory: directory), processor]
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

    /// The size and SHA-256 of the library at `library`.
    public static func manifestPath(library: String) -> String { library + ".manifest" }

    /// The readable part of the cache's file names: a network's name can be longer than a file
    /// name may be (255 bytes), and the key already tells libraries apart.
    static func stem(_ name: String) -> String {
        String(name.unicodeScalars.prefix(64))
    }

    /// The bound on one compile: $CNNC_COMPILE_TIMEOUT seconds, else `defaultTimeout`.
    public static func compileTimeout() throws -> Double {
        guard let text = ProcessInfo.processInfo.environment[timeoutVariable], !text.isEmpty else { return defaultTimeout }
        guard let seconds = Double(text), seconds.isFinite, seconds > 0 else {
            throw RuntimeError("\(timeoutVariable) is '\(text)'; it takes a number of seconds greater than 0")
        }
        return seconds
    }

    /// The library for `source`: from the cache when it is there and intact (`hit` true), else
    /// compiled, checked, stored and returned. `name` is a readable stem for the file (the
    /// network's symbol prefix). `progress` hears of a compiler run, which a hit does not need.
    public func library(source: String, name: String, compiler: Compiler,
                        progress: ProgressReporter = .silent) throws -> (path: String, hit: Bool) {
        let name = CompilerCache.stem(name)
        let timeout = try CompilerCache.compileTimeout()
        try createFolder(directory, label: label)
        removeStaleTemporaries(in: directory)
        let key = try key(source: source, compiler: compiler, extraFlags: [])
        let path = libraryPath(name: name, key: key)
        if CompilerCache.isIntact(path) { return (path, true) }

        // A private scratch folder for the source, the library and swiftc's side files.
        var template = Array("\(directory)/.build-\(name)-\(getpid())-XXXXXX".utf8CString)
        guard let scratchPointer = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw RuntimeError("\(label): cannot create a build folder (\(errnoText(errno)))")
        }
        let scratch = String(cString: scratchPointer)
        SignalCleanup.registerTemporary(scratch)
        defer {
            try? FileManager.default.removeItem(atPath: scratch)
            SignalCleanup.unregisterTemporary(scratch)
        }

        // Relative names in the scratch folder: the command (and so the library) does not
        // depend on where the cache is.
        let sourceName = "\(name).\(compiler.language == .c ? "c" : "swift")", libraryName = "\(name).so"
        try writeDurably(Array(source.utf8), to: "\(scratch)/\(sourceName)", sync: false)
        var arguments = compiler.leadingArguments + compiler.flags
        switch compiler.language {
        case .c:
            arguments += [sourceName, "-o", libraryName, "-lm"]
        case .swift:
            arguments += ["-module-name", "CnncGenerated_\(key.prefix(16))", sourceName, "-o", libraryName]
        }
        let language = compiler.language == .c ? "C" : "Swift"
        let tool = (compiler.path as NSString).lastPathComponent
        progress.began("compiling \(name) (\(CheckReport.bytes(source.utf8.count)) of \(language), \(tool))")
        let result: ChildResult
        do {
            defer { progress.ended() }
            result = try runChild(compiler.path, arguments, workingDirectory: scratch, timeout: timeout)
        }
        switch result.termination {
        case .exited(0):
            break
        case .exited(let status):
            let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false).prefix(20)
            throw RuntimeError("compiling the generated \(language) failed (\(tool) exited with status \(status)):\n"
                + lines.joined(separator: "\n"))
        case .signaled(let signal):
            throw RuntimeError("compiling the generated \(language) failed (\(tool) was killed by signal \(signal)): \(firstLine(result.output))")
        case .timedOut:
            throw RuntimeError("\(compiler.path): compiling the generated \(language) did not finish in \(secondsText(timeout)) s, "
                + "so it was stopped (set \(CompilerCache.timeoutVariable) to a number of seconds to allow longer)")
        }

        let built = "\(scratch)/\(libraryName)"
        let bytes = try checkedLibrary(built, compiler: compiler)
        try syncFile(built)
        let manifest = Manifest(size: bytes.count, sha256: SHA256.hex(digest: bytes.withUnsafeBytes { SHA256.digest($0) }))
        let builtManifest = "\(scratch)/\(libraryName).manifest"
        try writeDurably(Array(manifest.text.utf8), to: builtManifest)
        for (from, to) in [(builtManifest, CompilerCache.manifestPath(library: path)), (built, path)] {
            guard rename(from, to) == 0 else {
                throw RuntimeError("\(to): cannot store the compiled library (\(errnoText(errno)))")
            }
        }
        syncFolder(directory)
        return (path, false)
    }

    /// The compiler's output, if it is a library that loads; else an error naming the compiler.
    private func checkedLibrary(_ built: String, compiler: Compiler) throws -> [UInt8] {
        let wrote = "the compiler exited with status 0 but"
        guard let bytes = try? readFileBytes(built, limit: 1 << 34) else {
            throw RuntimeError("\(compiler.path): \(wrote) wrote no library; nothing was cached")
        }
        if let problem = sharedLibraryProblem(bytes) {
            throw RuntimeError("\(compiler.path): \(wrote) its output is not a shared library (\(problem)); nothing was cached")
        }
        // Loaded and never closed: the renamed file is the same inode, so the caller's dlopen
        // of the final path gets this same handle.
        guard dlopen(built, RTLD_NOW | RTLD_LOCAL) != nil else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown reason"
            throw RuntimeError("\(compiler.path): \(wrote) its output does not load (\(firstLine(reason))); nothing was cached")
        }
        return bytes
    }

    /// Whether the library at `path` is there and matches its manifest.
    static func isIntact(_ path: String) -> Bool {
        guard let text = try? readFileBytes(manifestPath(library: path), limit: 4096),
              let manifest = Manifest(String(decoding: text, as: UTF8.self)) else { return false }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, Int(info.st_size) == manifest.size,
              let bytes = try? readFileBytes(path, limit: manifest.size) else { return false }
        return bytes.count == manifest.size && SHA256.hex(digest: bytes.withUnsafeBytes { SHA256.digest($0) }) == manifest.sha256
    }
}

/// A library's size and SHA-256, as stored beside it.
struct Manifest: Equatable {
    var size: Int
    var sha256: String

    static let header = "cnnc library manifest 1"

    init(size: Int, sha256: String) {
        self.size = size
        self.sha256 = sha256
    }

    init?(_ text: String) {
        let lines = text.split(separator: "\n").map(String.init)
        guard lines.count == 3, lines[0] == Manifest.header, lines[1].hasPrefix("size "), lines[2].hasPrefix("sha256 "),
              let size = Int(lines[1].dropFirst(5)), size >= 0 else { return nil }
        self.size = size
        sha256 = String(lines[2].dropFirst(7))
        guard sha256.count == 64 else { return nil }
    }

    var text: String { "\(Manifest.header)\nsize \(size)\nsha256 \(sha256)\n" }
}

func secondsText(_ seconds: Double) -> String {
    seconds == seconds.rounded() && seconds < 1e15 ? String(Int(seconds)) : String(seconds)
}

/// The first line with something on it.
func firstLine(_ text: String) -> String {
    String(text.split(whereSeparator: \.isNewline).first { !$0.allSatisfy(\.isWhitespace) }?.prefix(300) ?? "no output")
}
