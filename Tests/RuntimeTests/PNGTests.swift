import Testing
@testable import Runtime

/// A PNG read back by rules written out here, independently of the encoder: chunks and their
/// CRCs (bit by bit, no table), the zlib header, stored blocks, Adler-32, the row filters.
private struct DecodedPNG {
    var width = 0, height = 0
    var bitDepth: UInt8 = 0, colourType: UInt8 = 0
    var chunkTypes: [String] = []
    var blocks = 0
    var pixels: [UInt8] = []
}

private func bitwiseCRC32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = (crc >> 1) ^ (crc & 1 == 1 ? 0xEDB8_8320 : 0) }
    }
    return ~crc
}

private func plainAdler32(_ bytes: [UInt8]) -> UInt32 {
    var a = 1, b = 0
    for byte in bytes { a = (a + Int(byte)) % 65521; b = (b + a) % 65521 }
    return UInt32(b * 65536 + a)
}

private func bigEndian(_ bytes: [UInt8], _ at: Int) -> UInt32 {
    bytes[at..<(at + 4)].reduce(0) { $0 << 8 | UInt32($1) }
}

private func decode(_ png: [UInt8]) throws -> DecodedPNG {
    var result = DecodedPNG()
    try #require(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    var at = 8
    var stream: [UInt8] = []
    while at < png.count {
        let length = Int(bigEndian(png, at))
        let typed = Array(png[(at + 4)..<(at + 8 + length)])
        #expect(bigEndian(png, at + 8 + length) == bitwiseCRC32(typed), "CRC of chunk at \(at)")
        let type = String(decoding: typed.prefix(4), as: UTF8.self), data = Array(typed.dropFirst(4))
        result.chunkTypes.append(type)
        if type == "IHDR" {
            result.width = Int(bigEndian(data, 0)); result.height = Int(bigEndian(data, 4))
            result.bitDepth = data[8]; result.colourType = data[9]
        }
        if type == "IDAT" { stream += data }
        at += 12 + length
    }
    // zlib: CMF 0x78 (deflate, 32K window), FLG such that CMF·256 + FLG is a multiple of 31.
    #expect(stream[0] == 0x78 && (Int(stream[0]) * 256 + Int(stream[1])) % 31 == 0)
    var position = 2, final = false
    var raw: [UInt8] = []
    while !final {
        let header = stream[position]
        final = header & 1 == 1
        #expect(header >> 1 & 3 == 0, "a stored block")
        let length = Int(stream[position + 1]) | Int(stream[position + 2]) << 8
        let complement = Int(stream[position + 3]) | Int(stream[position + 4]) << 8
        #expect(length ^ complement == 0xFFFF)
        raw += stream[(position + 5)..<(position + 5 + length)]
        position += 5 + length
        result.blocks += 1
    }
    #expect(bigEndian(stream, position) == plainAdler32(raw))
    #expect(position + 4 == stream.count)
    let stride = result.width + 1
    #expect(raw.count == stride * result.height)
    for row in 0..<result.height {
        #expect(raw[row * stride] == 0, "filter type none")
        result.pixels += raw[(row * stride + 1)..<((row + 1) * stride)]
    }
    return result
}

@Suite struct PNGTests {
    @Test func checksumsOfKnownVectors() {
        #expect(PNG.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)
        #expect(PNG.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(PNG.crc32(Array("IEND".utf8)) == 0xAE42_6082)  // every PNG ends with these bytes
        let long = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7919 >> 3) }
        #expect(PNG.adler32(long) == plainAdler32(long))
        #expect(PNG.crc32(long) == bitwiseCRC32(long))
    }

    @Test func aSmallGreyPictureDecodesBack() throws {
        let pixels: [UInt8] = [0, 128, 255, 10, 20, 30]
        let png = try decode(PNG.grey(width: 3, height: 2, pixels: pixels))
        #expect(png.chunkTypes == ["IHDR", "IDAT", "IEND"])
        #expect(png.width == 3 && png.height == 2 && png.bitDepth == 8 && png.colourType == 0)
        #expect(png.blocks == 1)
        #expect(png.pixels == pixels)
    }

    @Test func aPictureLargerThanOneStoredBlock() throws {
        let pixels = (0..<(300 * 300)).map { UInt8($0 % 251) }  // 90,300 bytes of scanlines
        let png = try decode(PNG.grey(width: 300, height: 300, pixels: pixels))
        #expect(png.blocks == 2)
        #expect(png.pixels == pixels)
    }

    @Test func channelsAreStretchedOnTheirOwn() {
        #expect(FeaturePictures.pixels([2, 3, 4]) == [0, 128, 255])
        #expect(FeaturePictures.pixels([-1, -1]) == [128, 128])
        #expect(FeaturePictures.pixels([.nan, 0, 10, .infinity]) == [0, 0, 255, 255])
    }
}
