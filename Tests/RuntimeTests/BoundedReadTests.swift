import Foundation
import Testing
@testable import Runtime

/// The readers read a bounded prefix, then only what the header says the data can take:
/// `/dev/zero` and a FIFO whose writer never stops end with an error (or the file's content),
/// not with 16 GiB read.
@Suite(.serialized) struct BoundedReadTests {
    /// A FIFO in a fresh folder fed by `cat PREFIX /dev/zero` (endless); the writer dies of
    /// SIGPIPE once the reader closes. `body` reads the FIFO.
    func withEndlessFIFO(_ prefix: [UInt8], _ body: (String) throws -> Void) throws {
        let folder = try makeTemporaryDirectory()
        defer { removeDirectory(folder) }
        let fifo = folder + "/endless", start = folder + "/start"
        try Data(prefix).write(to: URL(fileURLWithPath: start))
        #expect(mkfifo(fifo, 0o600) == 0)
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/bin/sh")
        writer.arguments = ["-c", "exec cat \"$1\" /dev/zero > \"$2\"", "sh", start, fifo]
        try writer.run()
        defer {
            if writer.isRunning { writer.terminate() }
            writer.waitUntilExit()
        }
        try body(fifo)
    }

    @Test func devZeroIsNotReadToTheEnd() {
        expectRuntimeError("/dev/zero: not a .npy file (it does not start with the magic bytes \\x93NUMPY)") {
            _ = try NPY.read(contentsOf: "/dev/zero")
        }
        expectRuntimeError("/dev/zero: not a PGM/PPM file (it starts with 0x00 0x00; expected P2, P3, P5 or P6)") {
            _ = try NetPBM.read(contentsOf: "/dev/zero")
        }
        expectRuntimeError("/dev/zero: header is not valid JSON: unexpected end of header at header offset 0") {
            _ = try WeightFile.read(contentsOf: "/dev/zero")
        }
    }

    @Test func anEndlessNumPyStreamStopsAfterItsArray() throws {
        let file = npy(npyHeader(shape: "(2, 2)"), littleEndian32([1, 2, 3, 4]))
        try withEndlessFIFO(file) { fifo in
            expectRuntimeError("\(fifo): more data after the array than shape (2, 2) of '<f4' needs (16 bytes); stopped reading there") {
                _ = try NPY.read(contentsOf: fifo)
            }
        }
    }

    @Test func anEndlessImageStreamStopsAfterItsPixels() throws {
        try withEndlessFIFO(Array("P5\n2 2\n255\n".utf8) + [1, 2, 3, 4]) { fifo in
            expectRuntimeError("\(fifo): more data than a 2x2, 1 channel, 1 byte per sample image can take (15 bytes); stopped reading there") {
                _ = try NetPBM.read(contentsOf: fifo)
            }
        }
    }

    /// safetensors ignores bytes after the last tensor, so the stream's weights are read.
    @Test func anEndlessWeightStreamReadsOnlyItsTensors() throws {
        let weights = WeightFile(tensors: ["a": Tensor(shape: [3], storage: [1, 2, 3])])
        try withEndlessFIFO(weights.serialized()) { fifo in
            let read = try WeightFile.read(contentsOf: fifo)
            #expect(read.tensors == weights.tensors)
        }
    }

    /// A header whose length claims more than any .npy header is refused before it is read.
    @Test func aHugeNumPyHeaderLengthIsRefused() throws {
        try withEndlessFIFO(NPY.magic + [2, 0, 0xFF, 0xFF, 0xFF, 0x7F]) { fifo in
            expectRuntimeError("\(fifo): header length 2147483647 is more than the 1048576 bytes a .npy header may have") {
                _ = try NPY.read(contentsOf: fifo)
            }
        }
    }

    /// An image header that never ends (an endless comment) stops at the header limit.
    @Test func anEndlessImageHeaderStops() throws {
        try withEndlessFIFO(Array("P5\n# ".utf8)) { fifo in
            expectRuntimeError("\(fifo): the header is longer than 65536 bytes (not a PGM/PPM image?)") {
                _ = try NetPBM.read(contentsOf: fifo)
            }
        }
    }

    /// Regular files keep their messages: the extra bytes are counted from the file's size.
    @Test func regularFilesReportExtraDataAsBefore() throws {
        let folder = try makeTemporaryDirectory()
        defer { removeDirectory(folder) }
        let array = folder + "/x.npy", image = folder + "/x.pgm"
        try Data(npy(npyHeader(shape: "(2,)"), littleEndian32([1, 2]) + [0, 0, 0])).write(to: URL(fileURLWithPath: array))
        expectRuntimeError("\(array): 3 bytes of extra data after the array (shape (2,) of '<f4' needs 8 bytes, found 11)") {
            _ = try NPY.read(contentsOf: array)
        }
        try Data(Array("P5\n2 1\n255\n".utf8) + [1, 2, 3]).write(to: URL(fileURLWithPath: image))
        expectRuntimeError("\(image): 1 byte of extra data after the pixels (expected 2 bytes: 2x1, 1 channel, 1 byte per sample)") {
            _ = try NetPBM.read(contentsOf: image)
        }
        // A header that claims 400 GB in a 4 KiB file: truncated, not an allocation of the claim.
        try Data(npy(npyHeader(shape: "(100000000, 1, 32, 32)"), [UInt8](repeating: 0, count: 4096))).write(to: URL(fileURLWithPath: array))
        expectRuntimeError("\(array): data is truncated: shape (100000000, 1, 32, 32) of '<f4' needs 409600000000 bytes, found 4096") {
            _ = try NPY.read(contentsOf: array)
        }
        try Data(Array("P2\n2 1\n255\n1 2\n".utf8)).write(to: URL(fileURLWithPath: image))
        #expect(try NetPBM.read(contentsOf: image).shape == [1, 1, 2])
    }
}
