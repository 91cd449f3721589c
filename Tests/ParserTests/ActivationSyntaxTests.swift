import Foundation
import Parser
import Testing
import TestSupport

/// relu6, hardswish, hardsigmoid, silu, gelu and `gelu tanh` (torch's approximate='tanh'),
/// as layers and trailing, and the diagnostics around the two-word `gelu tanh`.
struct ActivationSyntaxTests {
    func parsed(_ text: String) -> ParseResult {
        parse(SourceFile(path: "t.cnn", text: "input 8x8x16\n" + text))
    }

    func messages(_ text: String) -> [String] {
        parsed(text).diagnostics.map { "\($0.range.start.line):\($0.range.start.column): \($0.message)" }
    }

    @Test(arguments: [("relu6", ActivationSyntax.relu6), ("hardswish", .hardswish), ("hardsigmoid", .hardsigmoid),
                      ("silu", .silu), ("gelu", .gelu(tanh: false)), ("gelu tanh", .gelu(tanh: true))])
    func layerAndTrailing(_ word: String, _ expected: ActivationSyntax) throws {
        let result = parsed("c: conv 16 3x3 \(word)\n\(word)\nf: fc 10 \(word)\n")
        #expect(result.diagnostics.isEmpty)
        let layers = result.syntax.layers
        try #require(layers.count == 3)
        #expect(layers[0].activation?.value == expected)
        #expect(layers[0].activation?.range.end.column == 16 + word.count, "the range covers '\(word)'")
        guard case .activation(let a) = layers[1].operation else {
            Issue.record("line 2 is not an activation layer")
            return
        }
        #expect(a == expected && layers[1].keyword.value == expected.keyword)
        #expect(layers[2].activation?.value == expected)
    }

    @Test func geluTanhTakesFrom() throws {
        let result = parsed("a: conv 16 1x1\nb: conv 16 1x1 from input\ng: gelu tanh from a\nh: gelu from b\nadd g h\n")
        #expect(result.diagnostics.isEmpty)
        #expect(result.syntax.layers[2].from?.value == "a" && result.syntax.layers[3].from?.value == "b")
        guard case .activation(.gelu(tanh: true)) = result.syntax.layers[2].operation,
              case .activation(.gelu(tanh: false)) = result.syntax.layers[3].operation else {
            Issue.record("not gelu tanh, gelu")
            return
        }
    }

    /// In add and concat the last two words `gelu tanh` are the trailing activation, as
    /// `leakyrelu 0.2` is; elsewhere `gelu` and `tanh` may be operand names.
    @Test func geluTanhEndingAnAdd() throws {
        let layers = "gelu: conv 16 1x1\ntanh: conv 16 1x1 from input\nb: conv 16 1x1 from input\n"
        let result = parsed(layers + "s: add gelu b gelu tanh\nt: concat gelu tanh b\n")
        #expect(result.diagnostics.isEmpty)
        guard case .add(let sources) = result.syntax.layers[3].operation,
              case .concat(let stacked) = result.syntax.layers[4].operation else {
            Issue.record("not add, concat")
            return
        }
        #expect(sources.map(\.value) == ["gelu", "b"])
        #expect(result.syntax.layers[3].activation?.value == .gelu(tanh: true))
        #expect(stacked.map(\.value) == ["gelu", "tanh", "b"] && result.syntax.layers[4].activation == nil)
        #expect(messages(layers + "add b gelu tanh\n") == ["5:1: add needs at least two layers to combine"])
    }

    @Test func diagnostics() {
        #expect(messages("maxpool 2x2 gelu tanh\n")
                == ["2:13: a trailing 'gelu' is allowed on conv, deconv, depthwise, fc, pointwise, add, concat and mul, not on maxpool"])
        #expect(messages("maxpool 2x2 relu6\n")
                == ["2:13: a trailing 'relu6' is allowed on conv, deconv, depthwise, fc, pointwise, add, concat and mul, not on maxpool"])
        #expect(messages("conv 16 3x3 gelu tanh silu\n") == ["2:23: 'activation' is given twice"])
        #expect(messages("conv 16 3x3 tanh gelu\n") == ["2:18: 'activation' is given twice"])
        #expect(messages("gelu erf\n") == ["2:6: 'erf' is not an option of gelu"])
        #expect(messages("relu6 6\n") == ["2:7: unexpected '6' in relu6"])
        let misspelt = parsed("hardswsh\n").diagnostics.first
        #expect(misspelt?.message == "unknown operation 'hardswsh'")
        #expect(misspelt?.notes.first?.message == "did you mean 'hardswish'?")
        #expect(parsed("gelu tanh tanh\n").diagnostics.map(\.message)
                == ["a trailing 'tanh' is allowed on conv, deconv, depthwise, fc, pointwise, add, concat and mul, not on gelu"])
        #expect(Grammar.form(of: "gelu") == "gelu [tanh] [from NAME]")
    }
}
