import Foundation
import Parser
import ShapeCheck
import Testing

/// `slice FROM TO` (channels FROM..<TO, torch's x[:, FROM:TO]) and `shuffle G` (torch's
/// channel_shuffle): shapes, --explain, canonical text and exact diagnostics.
@Suite struct ChannelOpsCheckTests {
    static let head = "input 8x6x12\nx: conv 12 3x3 pad 1\n"

    func messages(_ text: String) -> [String] { errorMessages(Self.head + text, path: "s.cnn") }

    @Test func shapesAndExplain() throws {
        let result = checkSource(Self.head + "a: slice 0 6\nb: slice 6 12 from x\nc: concat b a\nd: shuffle 3\nv: flatten\nw: slice 2 5\n", path: "s.cnn")
        let net = try #require(result.network, "\(result.diagnostics.map(\.message))")
        #expect(net.layers.map(\.output.description) == ["8x6x12", "8x6x6", "8x6x6", "8x6x12", "8x6x12", "576", "3"])
        #expect(net.layers.allSatisfy { $0.keyword == "conv" || ($0.trainableParameters == 0 && $0.multiplyAccumulates == 0) })
        #expect(CheckReport.explanation(of: net.layers[2]) == "channels 6..<12 of 12  →  8x6x6")
        #expect(CheckReport.explanation(of: net.layers[4]) == "3 groups of 4 channels interleaved: out[c·3 + g] = in[g·4 + c]  →  8x6x12")
        #expect(CheckReport.describe(net.layers[2], index: 2, in: net) == "slice 6 12 from x")
        #expect(CheckReport.describe(net.layers[4], index: 4, in: net) == "shuffle 3")
    }

    @Test func diagnostics() {
        #expect(messages("slice 4 13\n") == ["3:9: slice1: slice ends at channel 13, past the input's depth 12\nnote: its input is 8x6x12, channels 0..<12"])
        #expect(messages("slice 4 4\n")
                == ["3:9: the end channel 4 is out of range; it must be above the first channel 4\nnote: 'slice FROM TO' keeps channels FROM..<TO, as torch's x[:, FROM:TO]"])
        #expect(messages("slice 4\n").first?.hasPrefix("3:") == true)
        #expect(messages("shuffle 5\n") == ["3:9: shuffle1: groups must divide the input depth D1\nnote: 12 is not a multiple of 5 groups"])
        #expect(messages("shuffle 0\n") == ["3:9: shuffle1: the number of groups must be at least 1"])
        #expect(messages("slice 0 4 relu\n").first?.hasPrefix("3:11: a trailing 'relu' is allowed on conv, deconv, depthwise, fc, pointwise, add, concat and mul, not on slice") == true)
    }
}
