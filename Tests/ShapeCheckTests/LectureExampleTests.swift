import ShapeCheck
import Testing

/// The lectures' worked examples, as a table: a network, the layer's expected output, its
/// parameters, and the warning text when the stride does not fit.
struct LectureExampleTests {
    struct Example: Sendable, CustomStringConvertible {
        var title: String
        var source: String
        var output: String
        var parameters: Int?
        var warning: String? = nil
        var description: String { title }
    }

    static let examples: [Example] = [
        Example(title: "7x7, 3x3 filter, stride 1", source: "input 7x7x1\nconv 1 3x3 stride 1", output: "5x5x1", parameters: 10),
        Example(title: "7x7, 3x3 filter, stride 2", source: "input 7x7x1\nconv 1 3x3 stride 2", output: "3x3x1", parameters: 10),
        Example(title: "7x7, 3x3 filter, stride 3 does not fit", source: "input 7x7x1\nconv 1 3x3 stride 3", output: "2x2x1",
                parameters: 10, warning: "(7 − 3 + 2·0)/3 + 1 = 2.33, floored to 2"),
        Example(title: "32x32x3, ten 5x5 filters, stride 1 pad 2", source: "input 32x32x3\nconv 10 5x5 stride 1 pad 2",
                output: "32x32x10", parameters: 760),
        Example(title: "ten 3x3x3 filters", source: "input 32x32x3\nconv 10 3x3 pad 1", output: "32x32x10", parameters: 280),
        Example(title: "dilation 2 on 7x7 with 3x3", source: "input 7x7x1\nconv 1 3x3 dilation 2", output: "3x3x1", parameters: 10),
        Example(title: "1x1 convolution, 56x56x64 with 32 filters", source: "input 56x56x64\nconv 32 1x1", output: "56x56x32", parameters: 2_080),
        Example(title: "AlexNet CONV1", source: "input 227x227x3\nconv 96 11x11 stride 4", output: "55x55x96", parameters: 34_944),
        Example(title: "AlexNet POOL1", source: "input 55x55x96\nmaxpool 3x3 stride 2", output: "27x27x96", parameters: 0),
        Example(title: "pad same, stride 2", source: "input 11x9x2\nconv 4 3x3 stride 2 pad same", output: "6x5x4", parameters: 76),
        Example(title: "round ceil", source: "input 112x112x64\nmaxpool 3x3 stride 2 round ceil", output: "56x56x64", parameters: 0),
    ]

    @Test(arguments: examples)
    func example(_ example: Example) throws {
        let result = checkSource(example.source)
        let network = try #require(result.network, "\(rendered(result))")
        let layer = try #require(network.layers.last)
        #expect(layer.output.description == example.output)
        if let parameters = example.parameters { #expect(layer.trainableParameters == parameters) }
        let warnings = result.diagnostics.filter { $0.severity == .warning }
        if let warning = example.warning {
            #expect(warnings.contains { $0.notes.contains { $0.message == warning } }, "\(rendered(result))")
        } else {
            #expect(warnings.isEmpty, "\(rendered(result))")
        }
    }

    @Test func explainShowsTheFormulaWithNumbers() throws {
        let network = try #require(checkSource("input 32x32x3\nconv1: conv 10 5x5 stride 1 pad 2").network)
        #expect(CheckReport.explain(network).hasPrefix(
            "conv1: (32 − 5 + 2·2)/1 + 1 = 32  →  32x32x10;  params (5·5·3 + 1)·10 = 760"))
    }

    @Test func samePaddingPutsTheSmallerHalfFirst() throws {
        let network = try #require(checkSource("input 11x9x2\nconv 4 4x4 pad same").network)
        guard case .convolution(let conv) = network.layers[0].operation else { Issue.record("not a conv"); return }
        #expect(conv.window.padding == Padding(left: 1, right: 2, top: 1, bottom: 2))
        #expect(network.layers[0].output.description == "11x9x4")
    }

    @Test func automaticNamesCountEveryLayerOfTheirOp() throws {
        let network = try #require(checkSource("input 8x8x1\nconv 2 3x3 pad 1\nmine: conv 2 3x3 pad 1\nconv 2 3x3 pad 1\nrelu").network)
        #expect(network.layers.map(\.name) == ["conv1", "mine", "conv3", "relu1"])
    }
}
