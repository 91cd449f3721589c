import Parser
import Testing

/// Words that are right somewhere else: other frameworks' option names, a value without its
/// option, another operation's option, a keyword in capitals. One error each, saying what
/// was meant, never a guess at a wrong keyword or a second error for the value.
struct HabitTests {
    struct Found: Equatable, CustomStringConvertible {
        var at: String
        var message: String
        var notes: [String]
        var fixIt: String?
        var description: String { "\(at): \(message) \(notes) fix-it: \(fixIt ?? "none")" }
    }

    func found(_ line: String) -> [Found] {
        parse(SourceFile(path: "t.cnn", text: "input 8x8x1\n" + line + "\n")).diagnostics.map { d in
            let fix = d.fixIt.map { "\($0.range.start.column)-\($0.range.end.column) \($0.replacement)" }
            return Found(at: "\(d.range.start.line):\(d.range.start.column)", message: d.message,
                         notes: d.notes.map(\.message), fixIt: fix)
        }
    }

    let convForm = "write '\(Grammar.form(of: "conv"))'"

    @Test func kerasPaddingIsOneErrorSuggestingPad() {
        // 'padding same': columns 12-18 and 20-23; the fix-it covers both words.
        #expect(found("conv 2 3x3 padding same") == [Found(at: "2:12", message: "'padding' is not an option of conv",
                                                          notes: ["did you mean 'pad same'?", convForm], fixIt: "12-24 pad same")])
        #expect(found("conv 2 3x3 strides 2 padding 1").map(\.fixIt) == ["12-21 stride 2", "22-31 pad 1"])
        #expect(found("conv 2 3x3 padding_mode reflect pad 1").map(\.fixIt) == ["12-32 padmode reflect"])
        #expect(found("batchnorm epsilon 1e-3").map(\.notes.first) == ["did you mean 'eps 1e-3'?"])
        // Where the meant option does not apply either, say so, and still read the value.
        #expect(found("fc 10 padding 1") == [Found(at: "2:7", message: "'padding' is not an option of fc",
                                                  notes: ["cnnc writes 'padding' as 'pad', an option of conv, depthwise, maxpool, avgpool and deconv, not of fc",
                                                          "write '\(Grammar.form(of: "fc"))'"], fixIt: nil)])
        #expect(found("conv 2 3x3 kernel_size 3").map(\.notes.first) == ["cnnc has no 'kernel_size'; the sizes are positional"])
    }

    @Test func valueWithoutItsOptionSuggestsTheOption() {
        #expect(found("conv 2 3x3 same") == [Found(at: "2:12", message: "'same' is not an option of conv",
                                                  notes: ["did you mean 'pad same'?", convForm], fixIt: "12-16 pad same")])
        #expect(found("maxpool 2 ceil").map(\.notes.first) == ["did you mean 'round ceil'?"])
        #expect(found("conv 2 3x3 activation relu") == [Found(at: "2:12", message: "'activation' is not an option of conv",
                                                             notes: ["did you mean 'relu'? an activation is written alone, last on the line", convForm],
                                                             fixIt: "12-27 relu")])
    }

    @Test func anotherOperationsOptionIsNamedAsSuch() {
        // 'eps' is 2 edits from 'elu' and 'size' 2 from 'silu': neither is suggested.
        #expect(found("fc 10 eps 1") == [Found(at: "2:7", message: "'eps' is not an option of fc",
                                              notes: ["'eps' is an option of batchnorm and layernorm, not of fc", "write '\(Grammar.form(of: "fc"))'"],
                                              fixIt: nil)])
        #expect(found("conv 2 3x3 size 3").map(\.notes.first) == ["'size' is an option of lrn, not of conv"])
        #expect(found("depthwise 3x3 groups 2").map(\.notes.first) == ["'groups' is an option of conv and deconv, not of depthwise"])
        #expect(found("conv 2 3x3 maxpool").map(\.notes.first) == ["'maxpool' is an operation; put it on a line of its own"])
        #expect(found("stride 2") == [Found(at: "2:1", message: "unknown operation 'stride'",
                                           notes: ["'stride' is an option of conv, depthwise, maxpool, avgpool and deconv; write it after the operation, on the same line"],
                                           fixIt: nil)])
    }

    @Test func capitalsAreToldApartFromMisspellings() {
        #expect(found("Conv 2 3x3") == [Found(at: "2:1", message: "unknown operation 'Conv'", notes: ["keywords are lower case"], fixIt: "1-5 conv")])
        #expect(found("conv 2 3x3 Stride 1").map(\.notes.first) == ["keywords are lower case"])
        #expect(found("conv 2 3x3 ReLU6").map(\.fixIt) == ["12-17 relu6"])
        // relu6 is a keyword of its own: never a misspelling of relu, wherever it is written.
        #expect(found("conv 2 3x3 relu6").isEmpty)
        #expect(found("relu6").isEmpty)
        #expect(found("conv 2 3x3 relu7").map(\.fixIt) == ["12-17 relu6"])
        #expect(found("conv 2 3x3 gelu6").map(\.fixIt) == ["12-17 gelu"])
        // Split by one space: 'relu' is read, and the '6' after it is the error.
        #expect(found("conv 2 3x3 relu 6") == [Found(at: "2:17", message: "unexpected '6' in conv",
                                                    notes: ["did you mean 'relu6'?", convForm], fixIt: "12-18 relu6")])
        #expect(found("conv 2 3x3 relu  6").map(\.notes) == [[convForm]])
    }

    /// `c: concat b relu` with a layer named relu: the last word is the activation (the rule of
    /// docs/language.md), so there is one operand; the message says so and how to name the layer.
    @Test func layerNamedLikeAnActivationIsExplained() {
        let text = "input 8x8x1\nrelu: conv 2 3x3\nb: conv 2 3x3 from input\nc: concat b relu\n"
        let file = SourceFile(path: "t.cnn", text: text)
        let result = parse(file)
        #expect(DiagnosticRenderer().render(result.diagnostics, in: file) == """
            t.cnn:4:4: error: concat needs at least two layers to combine
             4 | c: concat b relu
               |    ^~~~~~
               |           relu b
            note: the last word, 'relu', is read as the activation applied to the result, not as the layer 'relu'; \
            an operand written before the last word is always a layer: 'concat relu b'
            t.cnn:2:1: note: the layer 'relu' is defined here
             2 | relu: conv 2 3x3
               | ^~~~

            """)
        // The fix-it reads as meant: two operands, no activation.
        let fixed = parse(SourceFile(path: "t.cnn", text: text.replacingOccurrences(of: "concat b relu", with: "concat relu b")))
        #expect(fixed.diagnostics.isEmpty)
        #expect(fixed.syntax.layers.last?.activation == nil)
        // No layer of that name: only how the word was read.
        #expect(found("b: conv 2 3x3\nc: add b relu").map(\.notes) == [["the last word, 'relu', is read as the activation applied to the result",
                                                                       "write '\(Grammar.form(of: "add"))'"]])
    }
}
