import Foundation
import Parser
import ShapeCheck
import Testing

/// `layernorm`, `layerscale` and `pointwise`: shapes, weight keys in torch's layout, counts,
/// --explain, canonical text and exact diagnostics.
@Suite struct ConvNeXtOpsCheckTests {
    static let head = "input 8x6x16\nx: conv 16 3x3 pad 1\n"

    func messages(_ text: String) -> [String] { errorMessages(Self.head + text, path: "c.cnn") }

    @Test func shapesParametersAndExplain() throws {
        let result = checkSource(Self.head + "n: layernorm eps 1e-6\nu: pointwise 64 gelu\nd: pointwise 16 nobias\ns: layerscale\nv: flatten\nm: layernorm\n", path: "c.cnn")
        let net = try #require(result.network, "\(result.diagnostics.map(\.message))")
        let layers = Array(net.layers.dropFirst())
        #expect(layers.map(\.output.description) == ["8x6x16", "8x6x64", "8x6x16", "8x6x16", "768", "768"])
        #expect(layers.map { $0.parameters.map { "\($0.name)\($0.shape)" } } == [
            ["weight[16]", "bias[16]"], ["weight[64, 16]", "bias[64]"], ["weight[16, 64]"], ["layer_scale[16, 1, 1]"], [], ["weight[768]", "bias[768]"],
        ])
        #expect(layers.map(\.trainableParameters) == [32, 1088, 1024, 16, 0, 1536])
        #expect(layers.map(\.multiplyAccumulates) == [0, 49152, 49152, 0, 0, 0])
        #expect(CheckReport.explanation(of: layers[0])
                == "over the 16 channels at each of 8x6 positions: y = (x − mean)/sqrt(var + 1e-06)·γ + β  →  8x6x16;  params 2·16 = 32 (γ, β)")
        #expect(CheckReport.explanation(of: layers[1])
                == "16 → 64 at each of 8x6 positions  →  8x6x64;  params (16 + 1)·64 = 1,088;  MACs 8·6·64·16 = 49,152;  then gelu")
        #expect(CheckReport.explanation(of: layers[2]) == "64 → 16 at each of 8x6 positions  →  8x6x16;  params 64·16 = 1,024;  MACs 8·6·16·64 = 49,152")
        #expect(CheckReport.explanation(of: layers[3]) == "y[c] = γ[c]·x[c] at each of 8x6 positions  →  8x6x16;  params 16 (γ, [16, 1, 1])")
        #expect(CheckReport.explanation(of: layers[5]).hasPrefix("over the 768 channels at each of 1 position: "))
        #expect(CheckReport.describe(layers[1], index: 2, in: net) == "pointwise 64 gelu")
        #expect(CheckReport.describe(layers[2], index: 3, in: net) == "pointwise 16 nobias")
        #expect(CheckReport.describe(layers[0], index: 1, in: net) == "layernorm eps 1e-06")
        #expect(CheckReport.describe(layers[3], index: 4, in: net) == "layerscale")
    }

    @Test func diagnostics() {
        #expect(messages("v: flatten\npointwise 4\n")
                == ["4:1: pointwise1: pointwise needs a W×H×D volume, but its input is a vector\nnote: its input is a vector of 768 values"])
        #expect(messages("v: flatten\nlayerscale\n")
                == ["4:1: layerscale1: layerscale needs a W×H×D volume, but its input is a vector\nnote: its input is a vector of 768 values"])
        #expect(messages("pointwise 0\n") == ["3:11: pointwise1: the number of outputs must be at least 1"])
        #expect(messages("layernorm eps 0\n") == ["3:15: eps 0 is out of range; it must be above 0"])
        #expect(messages("layernorm relu\n").first?.hasPrefix(
            "3:11: a trailing 'relu' is allowed on conv, deconv, depthwise, fc, pointwise, add, concat and mul, not on layernorm") == true)
        #expect(messages("layerscale 3\n").first?.hasPrefix("3:12: ") == true)
        #expect(messages("pointwise\n").first?.hasPrefix("3:1: ") == true)
    }
}
