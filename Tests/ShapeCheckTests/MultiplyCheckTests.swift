import Foundation
import Parser
import ShapeCheck
import Testing

/// `mul A B…`: same shapes, or 1x1 volumes of the same depth broadcast over the others' W×H.
@Suite struct MultiplyCheckTests {
    static let head = "input 8x6x16\nx: conv 16 3x3 pad 1\ns: globalavgpool\n"

    func messages(_ text: String) -> [String] { errorMessages(Self.head + text, path: "m.cnn") }

    @Test func squeezeExcitationShapes() throws {
        let result = checkSource(Self.head + "m: mul x s hardswish\nn: mul s s\nq: mul s x m\n", path: "m.cnn")
        let net = try #require(result.network, "\(result.diagnostics.map(\.message))")
        let shapes = net.layers.suffix(3).map(\.output.description)
        #expect(shapes == ["8x6x16", "1x1x16", "8x6x16"])
        #expect(net.layers[2].activation == .hardswish)
        #expect(net.layers.suffix(3).allSatisfy { $0.trainableParameters == 0 && $0.multiplyAccumulates == 0 })
        #expect(CheckReport.explanation(of: net.layers[2]) == "8x6x16 · 1x1x16  →  8x6x16 (1x1 broadcast over width and height);  then hardswish")
        #expect(CheckReport.explanation(of: net.layers[3]) == "1x1x16 · 1x1x16  →  1x1x16")
    }

    @Test func diagnostics() {
        let rule = "note: mul needs every input to have the same shape, or to be 1x1 with the same depth (broadcast over width and height)"
        #expect(messages("t: conv 8 1x1 from s\nmul x t\n")
                == ["5:1: mul1: the inputs of mul do not have matching shapes\n\(rule)\nnote: 'x' is 8x6x16\nnote: 't' is 1x1x8"])
        #expect(messages("p: maxpool 2 from x\nmul x p\n")
                == ["5:1: mul1: the inputs of mul do not have matching shapes\n\(rule)\nnote: 'x' is 8x6x16\nnote: 'p' is 4x3x16"])
        #expect(messages("mul x\n") == ["4:1: mul needs at least two layers to combine\nnote: write 'mul NAME NAME… [ACTIVATION]'"])
        #expect(messages("mul x s from x\n")
                == ["4:9: 'from' does not apply to mul, which names its inputs\nnote: list the layers to combine: 'mul NAME NAME… [ACTIVATION]'"])
        #expect(messages("maxpool 2 from x gelu\n").first?.hasPrefix(
            "4:18: a trailing 'gelu' is allowed on conv, deconv, depthwise, fc, pointwise, add, concat and mul, not on maxpool") == true)
    }
}
