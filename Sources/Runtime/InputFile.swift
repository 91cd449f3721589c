#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file read only as far as its format allows: the readers take a bounded prefix, parse the
/// header, and then know how many bytes the data can take, so `/dev/zero` or a FIFO that
/// never stops writing costs a few kilobytes rather than the 16 GiB `readFileBytes` accepts.
public final class InputFile {
    public let path: String
    /// What has been read so far, from the start of the file.
    public private(set) var bytes: [UInt8] = []
    /// True once a read returned end of file.
    public private(set) var atEnd = false
    /// st_size for a regular file (what it holds without reading it), nil for pipes and devices.
    public let regularSize: Int?
    private let fd: Int32

    /// Fails with "PATH: no such file", "PATH: is a directory", "PATH: permission denied" or
    /// "PATH: cannot read (REASON)", as `readFileBytes` does.
    public init(_ path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw RuntimeError(Self.openFailure(path, errno)) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw RuntimeError("\(path): cannot read (\(errnoText(code)))")
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw RuntimeError("\(path): is a directory")
        }
        self.fd = fd
        regularSize = (info.st_mode & S_IFMT) == S_IFREG ? Int(info.st_size) : nil
    }

    deinit { close(fd) }

    /// Reads until `bytes` holds `total` bytes or the file ends; never past `total`. Checks the
    /// memory can be had first, so a large claim is an error rather than an allocator trap.
    public func fill(to total: Int) throws {
        guard total > bytes.count, !atEnd else { return }
        let capacity = regularSize.map { min(total, max($0, bytes.count)) } ?? min(total, bytes.count + (1 << 20))
        if capacity > bytes.capacity {
            try requireMemory(capacity, for: "reading \(path)")
            bytes.reserveCapacity(capacity)
        }
        var chunk = [UInt8](repeating: 0, count: min(total - bytes.count, 1 << 20))
        while bytes.count < total {
            let wanted = min(total - bytes.count, chunk.count)
            let got = chunk.withUnsafeMutableBytes { buffer in
                while true {
                    let n = read(fd, buffer.baseAddress!, wanted)
                    if n < 0 && errno == EINTR { continue }
                    return n
                }
            }
            if got < 0 {
                let code = errno
                throw RuntimeError(code == EISDIR ? "\(path): is a directory" : "\(path): cannot read (\(errnoText(code)))")
            }
            if got == 0 { atEnd = true; return }
            if bytes.count + got > bytes.capacity {
                try requireMemory(min(total, 2 * (bytes.count + got)), for: "reading \(path)")
            }
            bytes.append(contentsOf: chunk[..<got])
        }
    }

    private static func openFailure(_ path: String, _ code: Int32) -> String {
        switch code {
        case ENOENT: "\(path): no such file"
        case ENOTDIR: "\(path): a component of the path is not a directory"
        case EISDIR: "\(path): is a directory"
        case EACCES, EPERM: "\(path): permission denied"
        default: "\(path): cannot read (\(errnoText(code)))"
        }
    }
}
