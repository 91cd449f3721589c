import Foundation
import Testing
@testable import Runtime

/// `OutputWriter`: devices and FIFOs written through, links followed, short temporaries, all
/// of a set or none. Device tests use only /dev/null and /dev/full and check that each is
/// still the same character device afterwards.
@Suite struct OutputWriterTests {
    func fileType(_ path: String) -> mode_t? {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : nil
    }

    func deviceNumber(_ path: String) -> UInt? {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFCHR else { return nil }
        return UInt(info.st_rdev)
    }

    func names(_ dir: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() }

    func strayTemporaries(_ dir: String) -> [String] { names(dir).filter { $0.hasPrefix(".cnnc-") } }

    @Test func devNullIsWrittenThroughAndStaysADevice() throws {
        let before = try #require(deviceNumber("/dev/null"))
        try OutputWriter.write([OutputFile(path: "/dev/null", bytes: [UInt8](repeating: 1, count: 100_000))])
        try writeFileAtomically([1, 2, 3], to: "/dev/null")
        #expect(deviceNumber("/dev/null") == before)
        #expect(strayTemporaries("/dev").isEmpty)
    }

    @Test func devFullReportsNoSpaceAndLeavesTheOtherFilesOfTheSetAlone() throws {
        let before = try #require(deviceNumber("/dev/full"))
        expectRuntimeError("/dev/full: cannot write (No space left on device)") {
            try OutputWriter.write([OutputFile(path: "/dev/full", bytes: [1, 2, 3])])
        }
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        try writeFileAtomically([7, 7], to: dir + "/old")
        expectRuntimeError("/dev/full: cannot write (No space left on device)") {
            try OutputWriter.write([OutputFile(path: dir + "/old", bytes: [1]), OutputFile(path: "/dev/full", bytes: [1]),
                                    OutputFile(path: dir + "/new", bytes: [2])])
        }
        #expect(try readFileBytes(dir + "/old") == [7, 7])
        #expect(names(dir) == ["old"])
        #expect(deviceNumber("/dev/full") == before)
    }

    @Test func aFIFOWithAReaderGetsTheBytesAndStaysAFIFO() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let fifo = dir + "/pipe"
        #expect(mkfifo(fifo, 0o600) == 0)
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        #expect(reader >= 0)
        defer { close(reader) }
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0) }
        try OutputWriter.write([OutputFile(path: fifo, bytes: bytes)])
        var received = [UInt8](repeating: 0, count: 2000)
        let count = read(reader, &received, received.count)
        #expect(Array(received[..<max(count, 0)]) == bytes)
        #expect(fileType(fifo) == S_IFIFO)
        #expect(names(dir) == ["pipe"])
    }

    @Test func aFIFOWithoutAReaderFailsAfterABoundedWait() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let fifo = dir + "/pipe"
        #expect(mkfifo(fifo, 0o600) == 0)
        try writeFileAtomically([5], to: dir + "/other")
        expectRuntimeError("\(fifo): no process is reading this FIFO (waited 0.05 s); start the reader first") {
            try OutputWriter.write([OutputFile(path: dir + "/other", bytes: [6]), OutputFile(path: fifo, bytes: [1, 2])],
                                   fifoWait: 0.05, beforeRename: nil)
        }
        #expect(fileType(fifo) == S_IFIFO)
        #expect(try readFileBytes(dir + "/other") == [5])
        #expect(names(dir) == ["other", "pipe"])
    }

    @Test func aSymlinkChainIsFollowedAndItsTargetReplacedAtomically() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        try FileManager.default.createDirectory(atPath: dir + "/a", withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: dir + "/b", withIntermediateDirectories: false)
        try writeFileAtomically([1], to: dir + "/b/real")
        #expect(chmod(dir + "/b/real", 0o640) == 0)
        // a/first → ../second → b/real, both relative, one in another folder.
        #expect(symlink("b/real", dir + "/second") == 0)
        #expect(symlink("../second", dir + "/a/first") == 0)
        var sawTemporary = ""
        try writeFileAtomically([9, 9], to: dir + "/a/first", beforeRename: { sawTemporary = $0 })
        #expect(try readFileBytes(dir + "/b/real") == [9, 9])
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/a/first") == "../second")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/second") == "b/real")
        // The temporary goes beside the target (named through the link's folder: a/../b).
        let folder = (sawTemporary as NSString).deletingLastPathComponent
        #expect(URL(fileURLWithPath: folder).standardizedFileURL.path == URL(fileURLWithPath: dir + "/b").standardizedFileURL.path,
                "\(sawTemporary)")
        #expect((sawTemporary as NSString).lastPathComponent.hasPrefix(".cnnc-"))
        var info = stat()
        #expect(stat(dir + "/b/real", &info) == 0 && info.st_mode & 0o777 == 0o640)
        #expect(names(dir + "/b") == ["real"])
    }

    @Test func aDanglingSymlinkGetsItsTargetCreated() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        #expect(symlink("made", dir + "/link") == 0)
        try writeFileAtomically([4, 2], to: dir + "/link")
        #expect(fileType(dir + "/link") == S_IFLNK)
        #expect(fileType(dir + "/made") == S_IFREG)
        #expect(try readFileBytes(dir + "/made") == [4, 2])
        #expect(names(dir) == ["link", "made"])
    }

    @Test func directoriesSocketsAndLinkLoopsAreRefused() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: false)
        #expect(symlink("sub", dir + "/tosub") == 0)
        expectRuntimeError("\(dir)/tosub: is a directory") { try writeFileAtomically([1], to: dir + "/tosub") }
        expectRuntimeError("\(dir)/missing/: is a directory") { try writeFileAtomically([1], to: dir + "/missing/") }
        #expect(symlink("loop2", dir + "/loop1") == 0)
        #expect(symlink("loop1", dir + "/loop2") == 0)
        expectRuntimeError("\(dir)/loop1: too many levels of symbolic links") { try writeFileAtomically([1], to: dir + "/loop1") }
        #expect(names(dir) == ["loop1", "loop2", "sub", "tosub"])
        #expect(names(dir + "/sub").isEmpty)
    }

    @Test func temporaryNamesAreShortAndOfFixedLength() throws {
        let names = (0..<50).map { _ in OutputWriter.temporaryName() }
        #expect(Set(names.map(\.utf8.count)) == [25])
        #expect(names.allSatisfy { $0.hasPrefix(".cnnc-") && $0.hasSuffix(".tmp") })
        #expect(Set(names).count > 1)
    }

    @Test func aNameOf255BytesIsWrittenAndOneOf256IsRefusedBeforeAnything() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let longest = dir + "/" + String(repeating: "w", count: 251) + ".npy"
        var temporary = ""
        try writeFileAtomically([1, 2], to: longest, beforeRename: { temporary = $0 })
        #expect(try readFileBytes(longest) == [1, 2])
        #expect((temporary as NSString).lastPathComponent.utf8.count == 25)
        // A two-byte character at the end: 256 bytes.
        let tooLong = dir + "/" + String(repeating: "w", count: 251) + ".np\u{E9}"
        try writeFileAtomically([3], to: dir + "/first")
        expectRuntimeError("\(tooLong): cannot write (File name too long)") {
            try OutputWriter.write([OutputFile(path: dir + "/first", bytes: [4]), OutputFile(path: tooLong, bytes: [5])])
        }
        #expect(try readFileBytes(dir + "/first") == [3])
        #expect(self.names(dir).count == 2)
    }

    @Test func aSetIsWrittenWholeOrNotAtAll() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        for name in ["x.h", "x.c", "x.weights"] { try writeFileAtomically(Array("old \(name)".utf8), to: dir + "/" + name) }
        let set = ["x.h", "x.c", "x.weights"].map { OutputFile(path: dir + "/" + $0, bytes: Array("new \($0)".utf8)) }
        var seen: [String] = []
        expectRuntimeError("injected failure") {
            try OutputWriter.write(set, beforeRename: { temporary in
                seen.append(temporary)
                // Every temporary is complete before the first rename.
                if seen.count == 2 { throw RuntimeError("injected failure") }
            })
        }
        #expect(seen.count == 2)
        for name in ["x.h", "x.c", "x.weights"] { #expect(try readFileBytes(dir + "/" + name) == Array("old \(name)".utf8)) }
        #expect(strayTemporaries(dir).isEmpty)

        // A file that cannot be created removes the temporaries already written.
        expectRuntimeError("\(dir)/nowhere/x.weights: cannot create file (directory '\(dir)/nowhere' does not exist)") {
            try OutputWriter.write(Array(set.prefix(2)) + [OutputFile(path: dir + "/nowhere/x.weights", bytes: [1])])
        }
        #expect(names(dir) == ["x.c", "x.h", "x.weights"])

        try OutputWriter.write(set)
        for name in ["x.h", "x.c", "x.weights"] { #expect(try readFileBytes(dir + "/" + name) == Array("new \(name)".utf8)) }
        #expect(names(dir) == ["x.c", "x.h", "x.weights"])
    }

    #if os(Linux)
    /// /proc/self/fd/N of a deleted file has no folder to rename into: written in place.
    @Test func aFileWithoutANameIsWrittenInPlace() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let fd = open(dir + "/gone", O_RDWR | O_CREAT, 0o600)
        #expect(fd >= 0)
        defer { close(fd) }
        unlink(dir + "/gone")
        try writeFileAtomically([1, 2, 3], to: "/proc/self/fd/\(fd)")
        var back = [UInt8](repeating: 0, count: 8)
        #expect(pread(fd, &back, 8, 0) == 3)
        #expect(Array(back.prefix(3)) == [1, 2, 3])
        #expect(names(dir).isEmpty)
    }
    #endif

    @Test func sameFileSeesThroughDotsLinksAndHardLinks() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        try writeFileAtomically([1], to: dir + "/net.cnn")
        #expect(symlink("net.cnn", dir + "/soft") == 0)
        #expect(link(dir + "/net.cnn", dir + "/hard") == 0)
        try writeFileAtomically([1], to: dir + "/copy")
        #expect(isSameFile(dir + "/net.cnn", dir + "/./net.cnn"))
        #expect(isSameFile(dir + "/soft", dir + "/net.cnn"))
        #expect(isSameFile(dir + "/hard", dir + "/net.cnn"))
        #expect(!isSameFile(dir + "/copy", dir + "/net.cnn"))
        #expect(!isSameFile(dir + "/absent", dir + "/absent"))
    }
}
