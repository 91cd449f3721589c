import Foundation
import Runtime
import Testing

/// Inputs the libFuzzer targets (fuzz/run.sh) turned up, kept as regression tests. See
/// docs/robustness.md for what was run and for how long.
@Suite struct FuzzFindingTests {
    /// netpbm: a header of a few bytes claiming 16384x16384 samples made the reader allocate
    /// the whole image (1 GiB of floats) before finding that the data was not there; the fuzzer
    /// showed it as a resident size of over a gigabyte. The image is now allocated only once
    /// the file holds its samples; the messages are as before.
    @Test func aHugeImageHeaderWithoutItsDataIsRefusedBeforeAnythingIsAllocated() {
        expectRuntimeError("f.pgm: pixel data is truncated: expected 268435456 samples (16384x16384, 1 channel), found 1") {
            _ = try NetPBM.parse(Array("P2 16384 16384 255 0".utf8), path: "f.pgm")
        }
        expectRuntimeError("f.pgm: sample at row 0, column 1 is 'x'; expected a decimal integer") {
            _ = try NetPBM.parse(Array("P2 16384 16384 255 0 x".utf8), path: "f.pgm")
        }
        expectRuntimeError("f.pgm: sample value 300 at row 0, column 0 exceeds maxval 255") {
            _ = try NetPBM.parse(Array("P2 16384 16384 255 300".utf8), path: "f.pgm")
        }
        expectRuntimeError("f.ppm: pixel data is truncated: expected 201326592 bytes (8192x8192, 3 channels, 1 byte per sample), found 3") {
            _ = try NetPBM.parse(Array("P6 8192 8192 255\n".utf8) + [1, 2, 3], path: "f.ppm")
        }
        // Images that are all there still read, in both forms.
        #expect((try? NetPBM.parse(Array("P2 2 1 255 0 255".utf8), path: "f.pgm"))?.storage == [0, 1])
        #expect((try? NetPBM.parse(Array("P5 2 1 255\n".utf8) + [255, 0], path: "f.pgm"))?.storage == [1, 0])
    }
}
