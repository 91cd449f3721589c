import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The file operations of the compiler cache: making its folder, writing durably, checking
// that a compiler's output is a shared library, and sweeping what dead processes left.

/// `mkdir -p` with errors that say which part is in the way:
/// "CNNC_CACHE_DIR=/x/file/c: cannot create the cache folder ('/x/file' is a file)".
func createFolder(_ path: String, label: String) throws {
    var prefix = ""
    for component in path.split(separator: "/", omittingEmptySubsequences: true) {
        prefix += "/" + component
        var info = stat()
        if stat(prefix, &info) == 0 {
            if (info.st_mode & S_IFMT) == S_IFDIR { continue }
            let kind = (info.st_mode & S_IFMT) == S_IFREG ? "is a file" : "is not a folder"
            throw RuntimeError("\(label): cannot create the cache folder ('\(prefix)' \(kind))")
        }
        if mkdir(prefix, 0o777) == 0 || errno == EEXIST { continue }
        let code = errno
        let parent = prefix.split(separator: "/").dropLast().joined(separator: "/")
        let reason = code == EACCES ? "no permission to write in '/\(parent)'" : "'\(prefix)': \(errnoText(code))"
        throw RuntimeError("\(label): cannot create the cache folder (\(reason))")
    }
}

/// Writes `bytes` to a temporary beside `path` (`.NAME.tmp-PID-RANDOM`), fsyncs it unless
/// `sync` is false, and renames it over `path`. The temporary is registered with `SignalCleanup`.
func writeDurably(_ bytes: [UInt8], to path: String, sync: Bool = true) throws {
    let folder = (path as NSString).deletingLastPathComponent, base = (path as NSString).lastPathComponent
    let temporary = "\(folder)/.\(base).tmp-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
    SignalCleanup.registerTemporary(temporary)
    defer { SignalCleanup.unregisterTemporary(temporary) }
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw RuntimeError("\(temporary): cannot create (\(errnoText(errno)))") }
    var failure: Int32 = 0
    bytes.withUnsafeBytes { buffer in
        var done = 0
        while done < buffer.count {
            let wrote = write(fd, buffer.baseAddress! + done, buffer.count - done)
            if wrote < 0 && errno == EINTR { continue }
            if wrote <= 0 { failure = wrote < 0 ? errno : EIO; return }
            done += wrote
        }
    }
    if failure == 0 && sync && fsync(fd) != 0 { failure = errno }
    if close(fd) != 0 && failure == 0 { failure = errno }
    if failure == 0 && rename(temporary, path) != 0 { failure = errno }
    if failure != 0 {
        unlink(temporary)
        throw RuntimeError("\(path): cannot write (\(errnoText(failure)))")
    }
}

/// fsync of a file's contents.
func syncFile(_ path: String) throws {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw RuntimeError("\(path): cannot open (\(errnoText(errno)))") }
    defer { close(fd) }
    guard fsync(fd) == 0 else { throw RuntimeError("\(path): cannot write (\(errnoText(errno)))") }
}

/// fsync of a folder, so the renames into it survive a crash. Best effort: not every file
/// system allows it.
func syncFolder(_ path: String) {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return }
    fsync(fd)
    close(fd)
}

/// Why `bytes` is not a shared library the dynamic loader can map, or nil. On Linux the ELF
/// headers and every loaded segment must lie inside the file: dlopen maps the segments, and a
/// file shorter than they claim dies of SIGBUS instead of failing.
func sharedLibraryProblem(_ bytes: [UInt8]) -> String? {
    #if os(Linux)
    guard bytes.count >= 64, bytes[0] == 0x7f, bytes[1] == 0x45, bytes[2] == 0x4c, bytes[3] == 0x46 else {
        return bytes.isEmpty ? "it is empty" : "no ELF header"
    }
    // 64-bit little-endian, the format of every Linux this runs on; others are left to dlopen.
    guard bytes[4] == 2, bytes[5] == 1 else { return nil }
    func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
    func u64(_ at: Int) -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) } }
    let size = UInt64(bytes.count)
    guard u16(16) == 3 else { return "an ELF file but not a shared object" }
    let (phoff, phentsize, phnum) = (u64(32), u16(54), u16(56))
    guard phentsize >= 56, phoff <= size, UInt64(phentsize * phnum) <= size - phoff else {
        return "its program headers are cut off"
    }
    for i in 0..<phnum {
        let header = Int(phoff) + i * phentsize
        let type = u16(header)
        let offset = u64(header + 8), fileSize = u64(header + 32)
        if type == 1, offset > size || fileSize > size - offset { return "a segment is cut off (the file is \(size) bytes)" }
    }
    let (shoff, shentsize, shnum) = (u64(40), u16(58), u16(60))
    if shoff != 0, shoff > size || UInt64(shentsize * shnum) > size - shoff { return "its section headers are cut off" }
    return nil
    #else
    let magic = bytes.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    return [0xcffaedfe, 0xcefaedfe, 0xcafebabe].contains(magic) ? nil : "no Mach-O header"
    #endif
}

/// The cache folders already swept by this process.
private let swept = Locked(Set<String>())

/// Removes, once per process and folder, the scratch folders and temporary files of processes
/// that are gone: names carrying a PID (`.build-NAME-PID-XXXXXX`, `….tmp-PID-…`) whose process does not exist and that are over a minute old. A folder of
/// an older cnnc, without a PID, goes when it is a day old.
func removeStaleTemporaries(in directory: String) {
    guard swept.locked({ $0.insert(directory).inserted }) else { return }
    for folder in [directory, directory + "/compilers"] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { continue }
        for name in names where name.hasPrefix(".") {
            let path = folder + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            let age = Double(time(nil) - info.st_mtim.tv_sec)
            guard age > 60 else { continue }
            let stale: Bool
            if let pid = temporaryOwner(name) {
                stale = kill(pid, 0) != 0 && errno == ESRCH
            } else {
                stale = name.hasPrefix(".build-") && age > 86_400
            }
            guard stale else { continue }
            if (info.st_mode & S_IFMT) == S_IFDIR { try? FileManager.default.removeItem(atPath: path) } else { unlink(path) }
        }
    }
}

/// The PID in a temporary's name, or nil when it is not one of cnnc's temporaries with a PID.
func temporaryOwner(_ name: String) -> pid_t? {
    func number<S: StringProtocol>(_ text: S) -> pid_t? {
        guard !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber), let value = pid_t(text), value > 0 else { return nil }
        return value
    }
    if name.hasPrefix(".build-") {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[parts.count - 1].count == 6 else { return nil }
        return number(parts[parts.count - 2])
    }
    if let range = name.range(of: ".tmp-") {
        return number(name[range.upperBound...].prefix { $0 != "-" })
    }
    return nil
}
