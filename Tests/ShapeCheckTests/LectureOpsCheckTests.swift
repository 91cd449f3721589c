import Foundation
import Parser
import ShapeCheck
import Testing

/// `padmode` (torch's padding_mode), `adaptiveavgpool WxH` and `maxout K`: shapes,
/// --explain, canonical text and exact diagnostics.
@Suite struct LectureOpsCheckTests {
    static let head = "input 8x6x12\nx: conv 12 3x3 pad 1\n"

    func messages(_ text: String) -> [String] { errorMessages(Self.head + text, path: "s.cnn") }

    @Test func shapesAndExplain() throws {
        let result = checkSource(Self.head + "a: conv 6 3x3 pad 2x1 padmode reflect\nb: depthwise 3x3 pad same padmode circular\n"
                                 + "m: maxout 3\np: adaptiveavgpool 3x2\nv: flatten\nw: maxout 4\n", path: "s.cnn")
        let net = try #require(result.network, "\(result.diagnostics.map(\.message))")
        #expect(net.layers.map(\.output.description) == ["8x6x12", "10x6x6", "10x6x6", "10x6x2", "3x2x2", "12", "3"])
        #expect(CheckReport.describe(net.layers[1], index: 1, in: net).contains("pad 2x1 padmode reflect"))
        #expect(CheckReport.describe(net.layers[2], index: 2, in: net).contains("padmode circular"))
        #expect(CheckReport.describe(net.layers[3], index: 3, in: net) == "maxout 3")
        #expect(CheckReport.describe(net.layers[4], index: 4, in: net) == "adaptiveavgpool 3x2")
        #expect(CheckReport.explanation(of: net.layers[1]).hasSuffix(";  padded cells mirror the input, edge not repeated (torch's reflect)"))
        #expect(CheckReport.explanation(of: net.layers[2]).hasSuffix(";  padded cells wrap around to the opposite edge (torch's circular)"))
        #expect(CheckReport.explanation(of: net.layers[3]) == "max over 2 runs of 3 channels: y[c] = max over j < 3 of x[c·3 + j]  →  10x6x2")
        #expect(CheckReport.explanation(of: net.layers[4])
                == "cell i averages floor(i·10/3)..<ceil((i+1)·10/3) across, floor(j·6/2)..<ceil((j+1)·6/2) down  →  3x2x2")
        #expect(net.layers[3...].allSatisfy { $0.trainableParameters == 0 && $0.multiplyAccumulates == 0 })
        #expect(net.layers[1].trainableParameters == (9 * 12 + 1) * 6)
    }

    @Test func diagnostics() {
        #expect(messages("conv 4 3x3 pad 6 padmode reflect\n")
                == ["3:16: conv2: reflect padding 6 must be less than the input height 6\nnote: its input is 8x6x12; reflect padding allows up to 5 cells on the height"])
        #expect(messages("conv 4 3x3 pad 9x1 padmode circular\n")
                == ["3:16: conv2: circular padding 9 must be at most the input width 8\nnote: its input is 8x6x12; circular padding allows up to 8 cells on the width"])
        #expect(messages("conv 4 3x3 pad 8x5 padmode circular\nconv 4 3x3 pad 5 padmode replicate from x\n") == [])
        #expect(messages("conv 4 3x3 pad 1 padmode mirror\n")
                == ["3:26: expected a padding mode (zeros, reflect, replicate, circular) after 'padmode', found 'mirror'"])
        #expect(messages("maxpool 2x2 padmode reflect\n").first?.hasPrefix("3:13: 'padmode' is not an option of maxpool") == true)
        #expect(messages("maxout 5\n") == ["3:8: maxout1: maxout 5 needs a depth that is a multiple of 5, but the input depth is 12\nnote: its input is 8x6x12; maxout takes the max over each run of 5 consecutive channels"])
        #expect(messages("maxout 0\n") == ["3:8: maxout1: the number of pieces must be at least 1"])
        #expect(messages("adaptiveavgpool 0x3\n") == ["3:17: adaptiveavgpool1: the output width must be at least 1"])
        #expect(messages("flatten\nadaptiveavgpool 2x2\n").first?.hasPrefix("4:1: adaptiveavgpool1: adaptiveavgpool needs a W×H×D volume") == true)
        #expect(messages("maxout 2 relu\n").first?.hasPrefix("3:10: a trailing 'relu' is allowed on conv") == true)
    }
}
