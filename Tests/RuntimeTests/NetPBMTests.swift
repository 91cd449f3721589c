import Foundation
import Testing
import TestSupport
@testable import Runtime

private func bytes(_ text: String, _ raster: [UInt8] = []) -> [UInt8] {
    Array(text.utf8) + raster
}

private func approximatelyEqual(_ a: [Float], _ b: [Float], tolerance: Float = 1e-6) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
}

@Suite struct NetPBMTests {
    /// Each case's bytes, read as the file its message names (`i.pgm: …` or `i.ppm: …`; the
    /// reader goes by the contents, the path only names the file), must give exactly that message.
    func expectImagesRefused(_ cases: [(message: String, file: [UInt8])], sourceLocation: SourceLocation = #_sourceLocation) {
        for (message, file) in cases {
            let path = String(message.prefix { $0 != ":" })
            expectRuntimeError(message, sourceLocation: sourceLocation) { _ = try NetPBM.parse(file, path: path) }
        }
    }

    func pgm(_ data: [UInt8], mean: [Float]? = nil, std: [Float]? = nil) throws -> Tensor {
        try NetPBM.parse(data, path: "i.pgm", mean: mean, std: std)
    }

    func ppm(_ data: [UInt8], mean: [Float]? = nil, std: [Float]? = nil) throws -> Tensor {
        try NetPBM.parse(data, path: "i.ppm", mean: mean, std: std)
    }

    // MARK: Pixel values

    @Test func plainPGMWithComments() throws {
        let t = try pgm(bytes("P2\n# made by hand\n3 2\n# maxval next\n255\n0 51 102\n153 204 255\n"))
        // 51/255 = 0.2, 102/255 = 0.4, 153/255 = 0.6, 204/255 = 0.8.
        #expect(t == Tensor(shape: [1, 2, 3], storage: [0, 0.2, 0.4, 0.6, 0.8, 1]))
    }

    @Test func commentsAnywhereAndSmallMaxval() throws {
        // A comment straight after the magic, between numbers, inside the raster; CR LF lines.
        let t = try pgm(bytes("P2# first\r\n5# width\r\n1\r\n4 # maxval 4\r\n0 1 # one\r\n2 3 4\r\n"))
        #expect(t == Tensor(shape: [1, 1, 5], storage: [0, 0.25, 0.5, 0.75, 1]))
    }

    @Test func rawPGM8Bit() throws {
        let t = try pgm(bytes("P5\n2 2\n255\n", [0, 255, 51, 102]))
        #expect(t == Tensor(shape: [1, 2, 2], storage: [0, 1, 0.2, 0.4]))
    }

    @Test func rawPGM16Bit() throws {
        // Big-endian samples: 0x3333 = 13107 = 65535/5, 0x9999 = 39321 = 3·65535/5.
        let t = try pgm(bytes("P5 4 1 65535\n", [0x00, 0x00, 0xFF, 0xFF, 0x33, 0x33, 0x99, 0x99]))
        #expect(t == Tensor(shape: [1, 1, 4], storage: [0, 1, 0.2, 0.6]))
    }

    @Test func maxval256UsesTwoBytesAndMaxval255One() throws {
        #expect(try pgm(bytes("P5 2 1 256\n", [0x01, 0x00, 0x00, 0x40])).storage == [1, 0.25])
        #expect(try pgm(bytes("P5 2 1 255\n", [0xFF, 0x00])).storage == [1, 0])
    }

    @Test func plainPPM() throws {
        let t = try ppm(bytes("P3\n2 1\n255\n255 0 51  0 102 255\n"))
        // Planes R, G, B: pixel 0 = (1, 0, 0.2), pixel 1 = (0, 0.4, 1).
        #expect(t == Tensor(shape: [3, 1, 2], storage: [1, 0, 0, 0.4, 0.2, 1]))
    }

    @Test func rawPPM8Bit() throws {
        let raster: [UInt8] = [255, 0, 0, 0, 255, 0,
                               0, 0, 255, 51, 102, 153]
        let t = try ppm(bytes("P6\n2 2\n255\n", raster))
        #expect(t == Tensor(shape: [3, 2, 2], storage: [1, 0, 0, 0.2,
                                                       0, 1, 0, 0.4,
                                                       0, 0, 1, 0.6]))
    }

    @Test func rawPPM16Bit() throws {
        // (1000, 0, 500) and (250, 750, 100) of maxval 1000.
        let raster: [UInt8] = [0x03, 0xE8, 0x00, 0x00, 0x01, 0xF4,
                               0x00, 0xFA, 0x02, 0xEE, 0x00, 0x64]
        let t = try ppm(bytes("P6 2 1 1000\n", raster))
        #expect(t == Tensor(shape: [3, 1, 2], storage: [1, 0.25, 0, 0.75, 0.5, 0.1]))
        let full = try ppm(bytes("P6 1 1 65535\n", [0xFF, 0xFF, 0x33, 0x33, 0x00, 0x00]))
        #expect(full.storage == [1, 0.2, 0])
    }

    @Test func perChannelMeanAndStd() throws {
        let t = try ppm(bytes("P3\n2 1\n255\n255 0 51  0 102 255\n"), mean: [0.5, 0.25, 0], std: [0.5, 0.25, 2])
        // R: (1 − 0.5)/0.5, (0 − 0.5)/0.5; G: (0 − 0.25)/0.25, (0.4 − 0.25)/0.25; B: 0.2/2, 1/2.
        #expect(t.shape == [3, 1, 2])
        #expect(approximatelyEqual(t.storage, [1, -1, -1, 0.6, 0.1, 0.5]))
    }

    @Test func singleMeanAndStdApplyToEveryChannel() throws {
        let gray = try pgm(bytes("P2 3 1 4\n0 2 4\n"), mean: [0.5], std: [0.25])
        #expect(gray.storage == [-2, 0, 2])
        let color = try ppm(bytes("P3 1 1 4\n0 2 4\n"), mean: [0.5], std: [0.5])
        #expect(color.storage == [-1, 0, 1])
        let meanOnly = try ppm(bytes("P3 1 1 4\n0 2 4\n"), mean: [0.5, 0, 0])
        #expect(meanOnly.storage == [-0.5, 0.5, 1])
    }

    @Test func readFromFile() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        try writeFileAtomically(bytes("P5 2 1 255\n", [0, 255]), to: dir + "/img.pgm")
        #expect(try NetPBM.read(contentsOf: dir + "/img.pgm") == Tensor(shape: [1, 1, 2], storage: [0, 1]))
        expectRuntimeError("\(dir)/none.ppm: no such file") { _ = try NetPBM.read(contentsOf: dir + "/none.ppm") }
    }

    // MARK: Hostile files

    @Test func emptyFileAndBadMagic() {
        expectImagesRefused([
            ("i.pgm: file is empty", []),
            ("i.pgm: not a PGM/PPM file (it starts with 'G' 'I'; expected P2, P3, P5 or P6)", bytes("GIF89a")),
            ("i.pgm: not a PGM/PPM file (it starts with 'P'; expected P2, P3, P5 or P6)", bytes("P")),
            ("i.pgm: not a PGM/PPM file (it starts with 'P' '9'; expected P2, P3, P5 or P6)", bytes("P9 1 1 255\n")),
            ("i.pgm: not a PGM/PPM file (it starts with 0x89 'P'; expected P2, P3, P5 or P6)", [0x89, 0x50, 0x4E, 0x47]),
            ("i.pgm: P4 (PBM bitmap) is not supported; expected P2, P3, P5 or P6", bytes("P4 1 1\n", [0])),
            ("i.pgm: P7 (PAM) is not supported; expected P2, P3, P5 or P6", bytes("P7\nWIDTH 1\n")),
            ("i.pgm: expected whitespace after the magic number P5, found 'x'", bytes("P5x 1 1 255\n", [0])),
        ])
    }

    @Test func truncatedHeader() {
        expectImagesRefused([
            ("i.pgm: header ends before the width", bytes("P5")),
            ("i.pgm: header ends before the height", bytes("P5\n3 ")),
            ("i.pgm: header ends before the maxval", bytes("P2 3 2 # no maxval\n")),
        ])
    }

    @Test func badDimensions() {
        expectImagesRefused([
            ("i.pgm: width is 'abc'; expected a decimal integer", bytes("P5 abc 1 255\n", [0])),
            ("i.pgm: width is '-3'; expected a decimal integer", bytes("P2 -3 1 255\n0\n")),
            ("i.pgm: height is '\\xFF\\xFE'; expected a decimal integer", bytes("P5 1 ", [0xFF, 0xFE]) + bytes(" 255\n", [0])),
        ])
        expectRuntimeError("i.pgm: width is '\(String(repeating: "a", count: 32))…'; expected a decimal integer") {
            _ = try pgm(bytes("P5 \(String(repeating: "a", count: 1000)) 1 255\n"))
        }
        expectImagesRefused([
            ("i.pgm: width is 0; expected at least 1", bytes("P5 0 1 255\n")),
            ("i.pgm: height is 0; expected at least 1", bytes("P2 1 0 255\n")),
            ("i.pgm: width 99999999999 is too large", bytes("P5 99999999999 1 255\n")),
            ("i.pgm: height 123456789012345678901234567890 is too large", bytes("P5 1 123456789012345678901234567890 255\n")),
        ])
    }

    @Test func absurdImageSizes() {
        expectImagesRefused([
            ("i.ppm: image of 100000x100000 with 3 channels has 30000000000 samples; the limit is 268435456",
             bytes("P6 100000 100000 255\n", [0, 0, 0])),
            ("i.pgm: image of 999999999x999999999 with 1 channel has 999999998000000001 samples; the limit is 268435456",
             bytes("P5 999999999 999999999 255\n")),
        ])
    }

    @Test func badMaxval() {
        expectImagesRefused([
            ("i.pgm: maxval is 0; expected 1 to 65535", bytes("P5 1 1 0\n", [0])),
            ("i.pgm: maxval is 65536; expected 1 to 65535", bytes("P5 1 1 65536\n", [0, 0])),
            ("i.pgm: maxval is '25x'; expected a decimal integer", bytes("P5 1 1 25x\n", [0])),
        ])
    }

    @Test func separatorAfterMaxvalInRawFormats() {
        expectImagesRefused([
            ("i.pgm: expected a single whitespace byte after maxval, found '#'", bytes("P5 1 1 255#x\n", [0])),
            ("i.pgm: pixel data is missing: expected a whitespace byte after maxval, then the pixels", bytes("P5 1 1 255")),
            // A second newline is a pixel (10), so a 1x1 image has one byte too many.
            ("i.pgm: 1 byte of extra data after the pixels (expected 1 byte: 1x1, 1 channel, 1 byte per sample)",
             bytes("P5 1 1 255\n\n", [7])),
        ])
    }

    @Test func truncatedAndOverlongRaster() {
        expectImagesRefused([
            ("i.pgm: pixel data is truncated: expected 4 bytes (2x2, 1 channel, 1 byte per sample), found 3",
             bytes("P5 2 2 255\n", [1, 2, 3])),
            ("i.ppm: pixel data is truncated: expected 12 bytes (2x1, 3 channels, 2 bytes per sample), found 10",
             bytes("P6 2 1 65535\n", [UInt8](repeating: 0, count: 10))),
            ("i.ppm: pixel data is truncated: expected 12 bytes (2x2, 3 channels, 1 byte per sample), found 0",
             bytes("P6 2 2 255\n")),
            ("i.pgm: 2 bytes of extra data after the pixels (expected 4 bytes: 2x2, 1 channel, 1 byte per sample)",
             bytes("P5 2 2 255\n", [1, 2, 3, 4, 5, 6])),
            ("i.pgm: pixel data is truncated: expected 4 samples (2x2, 1 channel), found 3", bytes("P2 2 2 255\n1 2 3\n")),
            ("i.ppm: pixel data is truncated: expected 3 samples (1x1, 3 channels), found 0", bytes("P3 1 1 255")),
            ("i.pgm: extra data after the 1 sample (1x1, 1 channel) at byte offset 13", bytes("P2 1 1 255\n1 2\n")),
        ])
    }

    @Test func badPlainSamples() {
        expectImagesRefused([
            ("i.pgm: sample at row 0, column 1 is 'x'; expected a decimal integer", bytes("P2 2 1 255\n1 x\n")),
            ("i.ppm: sample at row 1, column 0, channel 1 is '-4'; expected a decimal integer",
             bytes("P3 1 2 255\n1 2 3\n4 -4 5\n")),
            ("i.pgm: sample at row 0, column 0 is '0.5'; expected a decimal integer", bytes("P2 1 1 1\n0.5\n")),
        ])
    }

    @Test func samplesAboveMaxval() {
        expectImagesRefused([
            ("i.pgm: sample value 101 at row 0, column 1 exceeds maxval 100", bytes("P2 2 1 100\n50 101\n")),
            ("i.ppm: sample value 101 at row 0, column 0, channel 2 exceeds maxval 100", bytes("P3 1 1 100\n50 60 101\n")),
            ("i.pgm: sample value 99999999999999999999999 at row 0, column 0 exceeds maxval 255",
             bytes("P2 1 1 255\n99999999999999999999999\n")),
            ("i.pgm: sample value 201 at row 1, column 1 exceeds maxval 200", bytes("P5 2 2 200\n", [0, 0, 0, 201])),
            ("i.ppm: sample value 1001 at row 0, column 0, channel 2 exceeds maxval 1000",
             bytes("P6 1 1 1000\n", [0x03, 0xE8, 0x00, 0x00, 0x03, 0xE9])),
        ])
    }

    @Test func badNormalization() {
        let image = bytes("P3 1 1 255\n1 2 3\n")
        expectRuntimeError("i.ppm: mean has 2 values but the image has 3 channels; give 1 or 3") { _ = try ppm(image, mean: [0.5, 0.5]) }
        expectRuntimeError("i.pgm: std has 3 values but the image has 1 channel; give 1") {
            _ = try pgm(bytes("P2 1 1 255\n1\n"), std: [1, 1, 1])
        }
        expectRuntimeError("i.ppm: std[1] is 0.0; expected a positive number") { _ = try ppm(image, std: [1, 0, 1]) }
        expectRuntimeError("i.ppm: std is -1.0; expected a positive number") { _ = try ppm(image, std: [-1]) }
        expectRuntimeError("i.ppm: mean is nan; expected a finite number") { _ = try ppm(image, mean: [.nan]) }
        expectRuntimeError("i.ppm: std[2] is inf; expected a finite number") { _ = try ppm(image, std: [1, 1, .infinity]) }
    }

    @Test func everyTruncationOfAValidFileFailsCleanly() {
        let valid = bytes("P6 2 2 65535\n", (0..<24).map { UInt8($0) })
        for length in 0..<valid.count {
            #expect(throws: RuntimeError.self) { _ = try ppm(Array(valid[..<length])) }
        }
        let plain = bytes("P3 1 1 255\n10 20 30\n")
        // A plain file cut inside its last number ("… 20 3") still holds three valid samples and
        // cannot be told from a complete one; every cut before that last number must fail.
        #expect(plain[17] == UInt8(ascii: "3"))
        for length in 0...17 {
            #expect(throws: RuntimeError.self) { _ = try ppm(Array(plain[..<length])) }
        }
    }

    @Test func randomCorruptionNeverCrashes() {
        let valid = bytes("P6 2 2 255\n", (0..<12).map { UInt8($0 * 20) })
        forEachCorruption(of: valid, seed: 7, perCopy: 2) { _ = try? ppm($0) }
    }
}
