#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One file a command writes.
public struct OutputFile: Sendable {
    public var path: String
    public var bytes: [UInt8]
    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
    }
}

/// What an output path leads to once symbolic links are followed.
public struct OutputTarget: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Nothing there yet (or a dangling link): created at `resolved`.
        case absent
        /// A regular file, replaced atomically at `resolved` (a link stays a link).
        case regular
        /// A character or block device, written through in place.
        case device
        /// A FIFO, written through once a reader has it open.
        case fifo
        /// A regular file that cannot be named, e.g. `/proc/self/fd/N` of a deleted file:
        /// written through in place, since there is no folder to put a temporary in.
        case unnamedRegular
    }

    /// The path as given, used in every message.
    public var path: String
    /// The file that is replaced or created (links followed); `path` for devices and FIFOs.
    public var resolved: String
    public var kind: Kind

    /// Classifies `path`; fails for a directory ("P: is a directory"), a socket, a loop of links.
    public static func resolve(_ path: String) throws -> OutputTarget {
        if path.isEmpty { throw RuntimeError("'': no file name given") }
        if path.hasSuffix("/") { throw RuntimeError("\(path): is a directory") }
        var info = stat()
        if stat(path, &info) == 0 {
            switch info.st_mode & S_IFMT {
            case S_IFDIR: throw RuntimeError("\(path): is a directory")
            case S_IFCHR, S_IFBLK: return OutputTarget(path: path, resolved: path, kind: .device)
            case S_IFIFO: return OutputTarget(path: path, resolved: path, kind: .fifo)
            case S_IFREG:
                let resolved = try followLinks(path)
                var real = stat()
                // /proc's magic links name a deleted file as "/x (deleted)": not a place to rename to.
                if stat(resolved, &real) == 0 && real.st_dev == info.st_dev && real.st_ino == info.st_ino {
                    return OutputTarget(path: path, resolved: resolved, kind: .regular)
                }
                return OutputTarget(path: path, resolved: path, kind: .unnamedRegular)
            case S_IFSOCK: throw RuntimeError("\(path): is a socket; cannot write a file to it")
            default: throw RuntimeError("\(path): is not a regular file, device or FIFO")
            }
        }
        if errno == ELOOP { throw RuntimeError("\(path): too many levels of symbolic links") }
        // Absent, or a dangling link whose target is created; any other problem (a missing
        // folder, permissions) is reported when the temporary file is created.
        return OutputTarget(path: path, resolved: try followLinks(path), kind: .absent)
    }

    /// The last name in a chain of links (relative targets are relative to the link's folder).
    static func followLinks(_ path: String) throws -> String {
        var current = path
        for _ in 0..<40 {
            var info = stat()
            guard lstat(current, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK else { return current }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink(current, &buffer, buffer.count - 1)
            guard count > 0 else { return current }
            let target = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if target.hasPrefix("/") {
                current = target
            } else {
                let (directory, _) = splitPath(current)
                current = directory.isEmpty ? target : (directory == "/" ? "/" : directory + "/") + target
            }
        }
        throw RuntimeError("\(path): too many levels of symbolic links")
    }
}

/// The one way cnnc writes its outputs (weights from `init`, arrays from `run --output`, the
/// files of `compile`), all of a command's files as one set:
///
/// 1. every path is classified first (`OutputTarget.resolve`): a directory or socket is refused,
///    a name longer than the folder allows is refused, and devices and FIFOs are opened (a FIFO
///    must have a reader within `fifoWait` seconds) — before anything is written;
/// 2. each regular file's bytes go to a temporary `.cnnc-PID-RANDOM.tmp` (25 bytes, whatever
///    the target's name) in the target's folder (a symlink's target's), which is fsynced;
/// 3. devices and FIFOs are written through (a device has no rename, and /dev/null must stay
///    /dev/null);
/// 4. only then is every temporary renamed over its target, and the folders are fsynced.
///
/// Any failure in 1–3 removes every temporary and leaves every old file untouched. A rename
/// in step 4 can still fail after others succeeded (an I/O error, the folder's file system
/// full); POSIX has no atomic rename of several files, so that is the one window left, and the
/// error names the files already replaced. SIGINT, SIGTERM and SIGHUP remove the temporaries
/// (`SignalCleanup`); SIGKILL or a crash during step 2 can leave one behind, never a partial
/// target. Replacing a file breaks its hard links (the other names keep the
/// old contents); its mode is kept, and its owner when running as root.
public enum OutputWriter {
    /// How long a FIFO may wait for a reader to open it.
    public static let defaultFIFOWait: Double = 3

    public static func write(_ files: [OutputFile]) throws {
        try write(files, beforeRename: nil)
    }

    /// `beforeRename` runs for each temporary once all are complete (tests use it to fail at
    /// the last moment and check that nothing is left behind).
    static func write(_ files: [OutputFile], fifoWait: Double = defaultFIFOWait,
                      beforeRename: ((String) throws -> Void)?) throws {
        var plan = WritePlan()
        defer { plan.abandon() }
        let targets = try files.map { try OutputTarget.resolve($0.path) }
        for target in targets where target.kind == .absent || target.kind == .regular {
            try checkNameLength(target)
        }
        for (file, target) in zip(files, targets) {
            switch target.kind {
            case .device, .fifo, .unnamedRegular:
                plan.direct.append((try openDirect(target, fifoWait: fifoWait), file, target))
            case .absent, .regular:
                break
            }
        }
        for (file, target) in zip(files, targets) where target.kind == .absent || target.kind == .regular {
            plan.temporaries.append((try writeTemporary(file.bytes, for: target), target))
        }
        if let beforeRename {
            for (temporary, _) in plan.temporaries { try beforeRename(temporary) }
        }
        try plan.writeDirect()
        try plan.renameAll()
    }

    /// Refuses before any writing a name the folder cannot hold: the temporary is short, so
    /// only the rename would find out, after other files were already replaced.
    private static func checkNameLength(_ target: OutputTarget) throws {
        let (directory, base) = splitPath(target.resolved)
        let limit = pathconf(directory.isEmpty ? "." : directory, Int32(_PC_NAME_MAX))
        if limit > 0 && base.utf8.count > limit {
            throw RuntimeError("\(target.path): cannot write (\(errnoText(ENAMETOOLONG)))")
        }
    }

    /// Opens a device or FIFO for writing, without creating, truncating or renaming anything.
    private static func openDirect(_ target: OutputTarget, fifoWait: Double) throws -> Int32 {
        let path = target.path
        if target.kind != .fifo {
            let fd = open(path, O_WRONLY | O_CLOEXEC | (target.kind == .unnamedRegular ? O_TRUNC : 0))
            if fd < 0 { throw RuntimeError(openFailureMessage(path, errno: errno, writing: true)) }
            return fd
        }
        // Without a reader a blocking open would wait forever; O_NONBLOCK fails with ENXIO
        // instead, so poll for a reader that is starting (`cat fifo & cnnc … -o fifo`).
        var waited = 0.0
        while true {
            let fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            if fd >= 0 {
                let flags = fcntl(fd, F_GETFL)
                _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
                return fd
            }
            let code = errno
            if code == EINTR { continue }
            guard code == ENXIO else { throw RuntimeError(openFailureMessage(path, errno: code, writing: true)) }
            if waited >= fifoWait {
                throw RuntimeError("\(path): no process is reading this FIFO (waited \(fifoWaitText(fifoWait)) s); start the reader first")
            }
            usleep(10_000)
            waited += 0.01
        }
    }

    /// A complete, fsynced temporary beside `target.resolved`; removed again if anything fails.
    private static func writeTemporary(_ bytes: [UInt8], for target: OutputTarget) throws -> String {
        let path = target.path
        let (directory, base) = splitPath(target.resolved)
        if base.isEmpty { throw RuntimeError("\(path): is a directory") }
        var existing = stat()
        let replacing = target.kind == .regular && stat(target.resolved, &existing) == 0

        var fd: Int32 = -1
        var temporary = ""
        for _ in 0..<64 {
            temporary = (directory.isEmpty ? "" : (directory == "/" ? "/" : directory + "/")) + temporaryName()
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 || errno != EEXIST { break }
        }
        if fd < 0 {
            let code = errno
            let shown = directory.isEmpty ? "." : directory
            if code == ENOENT {
                throw RuntimeError("\(path): cannot create file (directory '\(shown)' does not exist)")
            }
            if code == ENOTDIR {
                throw RuntimeError("\(path): cannot create file ('\(shown)' is not a directory)")
            }
            throw RuntimeError(openFailureMessage(path, errno: code, writing: true))
        }
        // Registered once created (never a name another process may own): Ctrl-C removes it.
        SignalCleanup.registerTemporary(temporary)
        if replacing {
            if geteuid() == 0 { _ = fchown(fd, existing.st_uid, existing.st_gid) }
            _ = fchmod(fd, existing.st_mode & 0o7777)
        }
        var failure = writeAll(fd, bytes, path: path)
        if failure == nil && fsync(fd) != 0 && errno != EINVAL && errno != EROFS {
            failure = "\(path): cannot write (\(errnoText(errno)))"
        }
        if close(fd) != 0 && failure == nil {
            failure = "\(path): cannot write (\(errnoText(errno)))"
        }
        if let failure {
            unlink(temporary)
            SignalCleanup.unregisterTemporary(temporary)
            throw RuntimeError(failure)
        }
        return temporary
    }

    /// `.cnnc-PPPPPPP-RRRRRRR.tmp`: the process id and a random number in base 36, each padded
    /// to 7 digits, so the name is 25 bytes whatever the target is called.
    static func temporaryName() -> String {
        func padded(_ value: UInt32) -> String {
            let digits = String(value, radix: 36)
            return String(repeating: "0", count: max(0, 7 - digits.count)) + digits
        }
        return ".cnnc-\(padded(UInt32(truncatingIfNeeded: getpid())))-\(padded(UInt32.random(in: 0...UInt32.max))).tmp"
    }
}

/// The state of one `OutputWriter.write`: what to undo when it stops halfway.
private struct WritePlan {
    var direct: [(fd: Int32, file: OutputFile, target: OutputTarget)] = []
    var temporaries: [(path: String, target: OutputTarget)] = []
    /// Writes the devices and FIFOs. A reader that goes away gives EPIPE, not a SIGPIPE that
    /// would kill cnnc without a word.
    mutating func writeDirect() throws {
        guard !direct.isEmpty else { return }
        let previous = signal(SIGPIPE, SIG_IGN)
        defer { signal(SIGPIPE, previous) }
        for index in direct.indices {
            let entry = direct[index]
            direct[index].fd = -1
            var failure = writeAll(entry.fd, entry.file.bytes, path: entry.file.path)
            if close(entry.fd) != 0 && failure == nil && errno != EINTR {
                failure = "\(entry.file.path): cannot write (\(errnoText(errno)))"
            }
            if let failure { throw RuntimeError(failure) }
        }
    }

    /// Renames every temporary over its target, then fsyncs the folders so the new names last.
    mutating func renameAll() throws {
        var replaced: [String] = []
        var folders: [String] = []
        for index in temporaries.indices {
            let (temporary, target) = temporaries[index]
            if rename(temporary, target.resolved) != 0 {
                let code = errno
                var message = code == EISDIR ? "\(target.path): is a directory"
                    : "\(target.path): cannot replace file (\(errnoText(code)))"
                if !replaced.isEmpty { message += "; already replaced: " + replaced.joined(separator: ", ") }
                throw RuntimeError(message)
            }
            SignalCleanup.unregisterTemporary(temporary)
            temporaries[index].path = ""
            replaced.append(target.path)
            let folder = splitPath(target.resolved).0
            if !folders.contains(folder) { folders.append(folder) }
        }
        for folder in folders {
            let fd = open(folder.isEmpty ? "." : folder, O_RDONLY | O_CLOEXEC)
            if fd >= 0 {
                _ = fsync(fd)
                close(fd)
            }
        }
    }

    /// Closes what is open and removes every temporary not yet renamed.
    mutating func abandon() {
        for entry in direct where entry.fd >= 0 { close(entry.fd) }
        direct = []
        for (temporary, _) in temporaries where !temporary.isEmpty {
            unlink(temporary)
            SignalCleanup.unregisterTemporary(temporary)
        }
        temporaries = []
    }
}

/// Writes all of `bytes`; a one-line message when it cannot.
private func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) -> String? {
    var failure: String?
    bytes.withUnsafeBytes { buffer in
        var written = 0
        while written < buffer.count {
            let n = write(fd, buffer.baseAddress! + written, min(buffer.count - written, 1 << 30))
            if n < 0 {
                if errno == EINTR { continue }
                failure = "\(path): cannot write (\(errnoText(errno)))"
                return
            }
            if n == 0 {
                failure = "\(path): cannot write (no progress)"
                return
            }
            written += n
        }
    }
    return failure
}

private func fifoWaitText(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : String(value)
}

/// ("dir/sub", "name") for "dir/sub/name"; ("", "name") for "name"; ("/", "name") for "/name".
func splitPath(_ path: String) -> (String, String) {
    guard let slash = path.lastIndex(of: "/") else { return ("", path) }
    let base = String(path[path.index(after: slash)...])
    let directory = String(path[..<slash])
    return (directory.isEmpty ? "/" : directory, base)
}

/// Whether two paths name the same existing file (links followed, so `./a`, `a`, a link to
/// `a` and a hard link of `a` all do); false when either does not exist.
public func isSameFile(_ a: String, _ b: String) -> Bool {
    var x = stat(), y = stat()
    guard stat(a, &x) == 0, stat(b, &y) == 0 else { return false }
    return x.st_dev == y.st_dev && x.st_ino == y.st_ino
}

// MARK: - The previous entry point

/// One file, through `OutputWriter` (the compiler cache writes its files this way).
public func writeFileAtomically(_ bytes: [UInt8], to path: String) throws {
    try OutputWriter.write([OutputFile(path: path, bytes: bytes)])
}

func writeFileAtomically(_ bytes: [UInt8], to path: String, beforeRename: ((String) throws -> Void)?) throws {
    try OutputWriter.write([OutputFile(path: path, bytes: bytes)], beforeRename: beforeRename)
}
