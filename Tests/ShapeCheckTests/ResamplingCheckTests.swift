import Foundation
import Parser
import ShapeCheck
import Testing

/// `deconv` (torch's ConvTranspose2d) and `upsample` (nn.Upsample): shapes, weight keys in
/// torch's layout, counts, --explain, canonical text and exact diagnostics.
@Suite struct ResamplingCheckTests {
    static let head = "input 8x6x12\n"

    func messages(_ text: String) -> [String] { errorMessages(Self.head + text, path: "s.cnn") }

    @Test func deconvShapesCountsAndExplain() throws {
        let result = checkSource(Self.head + "d: deconv 4 3x3 stride 2 pad 1 outpad 1 groups 2 relu\ne: deconv 2 2x3 stride 3x1 dilation 1x2 nobias\n", path: "s.cnn")
        let net = try #require(result.network, "\(result.diagnostics.map(\.message))")
        #expect(net.layers.map(\.output.description) == ["16x12x4", "47x16x2"])
        // torch: ConvTranspose2d(12, 4, 3, groups=2).weight is [12, 2, 3, 3]; (kernel_size=(3, 2)) → [4, 2, 3, 2].
        #expect(net.parameterTensors.map { "\($0.key) \($0.tensor.shape)" } == ["d.weight [12, 2, 3, 3]", "d.bias [4]", "e.weight [4, 2, 3, 2]"])
        #expect(net.layers[0].trainableParameters == 220 && net.layers[0].multiplyAccumulates == 8 * 6 * 12 * 2 * 9)
        #expect(CheckReport.explanation(of: net.layers[0])
                == "width (8 − 1)·2 − 2·1 + 1·(3 − 1) + 1 + 1 = 16, height (6 − 1)·2 − 2·1 + 1·(3 − 1) + 1 + 1 = 12  →  16x12x4;  params 12·(4/2)·3·3 + 4 = 220;  MACs 8·6·12·(4/2)·3·3 = 10,368;  then relu")
        #expect(CheckReport.explanation(of: net.layers[1])
                == "width (16 − 1)·3 − 2·0 + 1·(2 − 1) + 0 + 1 = 47, height (12 − 1)·1 − 2·0 + 2·(3 − 1) + 0 + 1 = 16  →  47x16x2;  params 4·2·2·3 = 48;  MACs 16·12·4·2·2·3 = 9,216")
        #expect(CheckReport.describe(net.layers[0], index: 0, in: net) == "deconv 4 3x3 stride 2 pad 1 outpad 1 groups 2 relu")
        #expect(CheckReport.describe(net.layers[1], index: 1, in: net) == "deconv 2 2x3 stride 3x1 pad 0 dilation 1x2 nobias")
        let square = try #require(checkSource("input 4x4x3\nd: deconv 5 4x4 stride 2 pad 1\n", path: "q.cnn").network)
        #expect(CheckReport.explanation(of: square.layers[0])
                == "(4 − 1)·2 − 2·1 + 1·(4 − 1) + 0 + 1 = 8  →  8x8x5;  params 3·5·4·4 + 5 = 245;  MACs 4·4·3·5·4·4 = 3,840")
    }

    @Test func upsampleShapesAndExplain() throws {
        let result = checkSource(Self.head + "u: upsample 2\nv: upsample 3x2 bilinear\nw: upsample 2 bilinear aligncorners from input\n", path: "s.cnn")
        let net = try #require(result.network, "\(result.diagnostics.map(\.message))")
        #expect(net.layers.map(\.output.description) == ["16x12x12", "48x24x12", "16x12x12"])
        #expect(net.trainableParameters == 0 && net.multiplyAccumulates == 0)
        #expect(CheckReport.explanation(of: net.layers[1]) == "width 16·3 = 48, height 12·2 = 24 (bilinear)  →  48x24x12")
        #expect(CheckReport.explanation(of: net.layers[2]) == "width 8·2 = 16, height 6·2 = 12 (bilinear, corners aligned)  →  16x12x12")
        #expect(CheckReport.describe(net.layers[0], index: 0, in: net) == "upsample 2 nearest")
        #expect(CheckReport.describe(net.layers[2], index: 2, in: net) == "upsample 2 bilinear aligncorners from input")
    }

    @Test func diagnostics() {
        #expect(messages("deconv 4 3x3 stride 2 outpad 2\n")
                == ["2:30: deconv1: the width and height output padding must be smaller than the stride or the dilation\n"
                    + "note: outpad 2 with stride 2 and dilation 1: torch's ConvTranspose2d needs output_padding < stride or output_padding < dilation"])
        #expect(messages("deconv 4 3x3 dilation 2 outpad 1\n").isEmpty)
        #expect(messages("deconv 4 3x3 pad 5\n")
                == ["2:18: deconv1: the padding removes the whole output width; the output would be below 1\nnote: (8 − 1)·1 − 2·5 + 1·(3 − 1) + 0 + 1 = 0"])
        #expect(messages("deconv 4 3x3 pad 3x5\n")
                == ["2:18: deconv1: the padding removes the whole output height; the output would be below 1\nnote: (6 − 1)·1 − 2·5 + 1·(3 − 1) + 0 + 1 = −2"])
        #expect(messages("deconv 4 3x3 groups 5\n") == ["2:21: deconv1: groups must divide the input depth D1\nnote: 12 is not a multiple of 5 groups"])
        #expect(messages("deconv 0 3x3\n") == ["2:8: deconv1: the number of output channels must be at least 1"])
        #expect(messages("upsample 2 aligncorners\n")
                == ["2:12: 'aligncorners' applies only to bilinear upsampling\nnote: the mode is nearest unless 'bilinear' is written"])
        #expect(messages("upsample 0x2\n") == ["2:10: upsample1: the scale factor must be at least 1"])
        #expect(messages("upsample 2 relu\n").first?.hasPrefix("2:12: a trailing 'relu' is allowed on conv, deconv, depthwise") == true)
        #expect(messages("fc 4\nupsample 2\n") == ["3:1: upsample1: upsample needs a W×H×D volume, but its input is a vector\nnote: its input is a vector of 4 values"])
    }
}
