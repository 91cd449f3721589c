import Foundation
import Testing
import TestSupport

/// The decoder against PNGs written by Python's zlib (tools/draw/make_png_fixtures.py), whose
/// pixel (x, y) is (30x, 40y, 10(x + y), 255 − x) mod 256.
struct PNGImageTests {
    static func expected(_ x: Int, _ y: Int, alpha: Bool) -> UInt32 {
        UInt32((x * 30) % 256) << 24 | UInt32((y * 40) % 256) << 16 | UInt32(((x + y) * 10) % 256) << 8
            | (alpha ? UInt32(255 - x) : 255)
    }

    @Test(arguments: [("gradient-rgba-level9.png", 64, 48, true), ("gradient-rgba-stored.png", 64, 48, true),
                      ("gradient-rgb-level1.png", 40, 30, false), ("tiny-rgb-fixed.png", 3, 2, false)])
    func decodesEveryFilterAndBlockKind(name: String, width: Int, height: Int, alpha: Bool) throws {
        let data = try #require(FileManager.default.contents(atPath: Paths.fixtures.appendingPathComponent("png/" + name).path))
        let image = try PNGImage([UInt8](data))
        #expect(image.width == width && image.height == height)
        var wrong = 0
        for y in 0..<height {
            for x in 0..<width where image.pixels[y * width + x] != Self.expected(x, y, alpha: alpha) { wrong += 1 }
        }
        #expect(wrong == 0, "\(wrong) of \(width * height) pixels differ")
    }

    @Test func refusesWhatIsNotAPNG() {
        #expect(throws: PNGImage.DecodeError.self) { try PNGImage(Array("<svg/>".utf8)) }
        let data = FileManager.default.contents(atPath: Paths.fixtures.appendingPathComponent("png/gradient-rgba-level9.png").path)!
        #expect(throws: PNGImage.DecodeError.self) { try PNGImage(Array([UInt8](data).prefix(200))) }
    }
}
