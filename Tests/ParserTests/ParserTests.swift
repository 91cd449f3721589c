import Foundation
import Parser
import Testing
import TestSupport

struct ParserTests {
    @Test func readsEveryPartOfALayerLine() throws {
        let result = parse(SourceFile(path: "t.cnn", text: """
            network tiny   # a comment
            input 32x32x3
            c1: conv 6 5x3 stride 2x1 pad same dilation 2 groups 3 nobias from input leakyrelu 0.1
            """))
        #expect(result.diagnostics.isEmpty)
        #expect(result.syntax.name?.value == "tiny")
        #expect(result.syntax.input?.dimensions.value == [32, 32, 3])
        let layer = try #require(result.syntax.layers.first)
        #expect(layer.name?.value == "c1")
        #expect(layer.name?.range.start == SourceLocation(line: 3, column: 1))
        #expect(layer.from?.value == "input")
        #expect(layer.activation?.value == .leakyRelu(0.1))
        guard case .conv(let filters, let window, let groups, let bias) = layer.operation else {
            Issue.record("not a conv")
            return
        }
        #expect(filters.value == 6 && filters.range.start.column == 10)
        #expect(window.kernel.value == SizeSyntax(width: 5, height: 3))
        #expect(window.stride?.value == SizeSyntax(width: 2, height: 1))
        #expect(window.padding?.value == .same)
        #expect(window.dilation?.value == SizeSyntax(square: 2))
        #expect(groups?.value == 3 && bias == false)
    }

    @Test func crlfTabsAndCommentsAreWhitespace() {
        let result = parse(SourceFile(path: "t.cnn", text: "input\t8x8x1\r\n# only a comment\r\nconv 2\t3x3 relu # done\r\n"))
        #expect(result.diagnostics.isEmpty)
        #expect(result.syntax.layers.count == 1)
        #expect(result.syntax.layers[0].keyword.range.start == SourceLocation(line: 3, column: 1))
    }

    @Test func reportsEveryErrorNotJustTheFirst() {
        let result = parse(SourceFile(path: "t.cnn", text: "input 8x8x1\nconv x 3x3\nmaxpol 2\nfc\n"))
        #expect(result.diagnostics.map(\.range.start.line) == [2, 3, 4])
    }

    @Test func misspellingGetsANoteAndAFixIt() throws {
        let result = parse(SourceFile(path: "t.cnn", text: "input 8x8x1\nconv 2 3x3 strde 2\n"))
        let diagnostic = try #require(result.diagnostics.first)
        #expect(diagnostic.notes.first?.message == "did you mean 'stride'?")
        #expect(diagnostic.fixIt?.replacement == "stride")
        #expect(diagnostic.range == SourceRange(line: 2, column: 12, length: 5))
    }

    @Test func rendererShowsLineCaretAndNotes() throws {
        let file = SourceFile(path: "net.cnn", text: "input 8x8x1\nconv 2 3x3 strde 2\n")
        let text = DiagnosticRenderer().render(parse(file).diagnostics, in: file)
        #expect(text == """
            net.cnn:2:12: error: 'strde' is not an option of conv
             2 | conv 2 3x3 strde 2
               |            ^~~~~
               |            stride
            note: did you mean 'stride'?
            note: write 'conv K FwxFh [stride S|SwxSh] [pad P|PwxPh|same|valid|fit] [padmode MODE] [dilation D] [groups G] [nobias] [from NAME] [ACTIVATION]'

            """)
    }

    @Test func colourOnlyWhenAsked() {
        let file = SourceFile(path: "net.cnn", text: "input 8x8x1\nconvv 2 3\n")
        let diagnostics = parse(file).diagnostics
        #expect(!DiagnosticRenderer(colour: false).render(diagnostics, in: file).contains("\u{1B}["))
        #expect(DiagnosticRenderer(colour: true).render(diagnostics, in: file).contains("\u{1B}[1;31merror:"))
    }
}

/// Random and mutated bytes, for a bounded time: the parser must return, whatever it is given.
struct ParserFuzzTests {
    static let seeds: [String] = [
        "network n\ninput 32x32x1\nc1: conv 6 5x5 relu\ns2: maxpool 2x2 stride 2\nfc 10 softmax\n",
        "input 10x10x8\nstem: conv 8 3x3 pad 1 relu\nb: conv 8 3x3 pad 1\nres: add b stem relu\nmix: concat res b\ngap: globalavgpool\n",
        "strict\ninput 11x9x2\ns1: conv 4 3x3 stride 2 pad same\nlrn size 5 alpha 1e-4\nbatchnorm eps 1e-3\ndropout 0.5\nleakyrelu 0.1\n",
    ]

    @Test func randomAndMutatedBytesNeverCrash() {
        var rng = SplitMix(seed: 20261122)
        let alphabet = Array("convfcpadstridex0123456789 :\n#.-_relu".utf8) + [0xFF, 0xC3, 0x00, 0x09, 0x0D]
        let deadline = Date().addingTimeInterval(2)
        var runs = 0
        while Date() < deadline {
            var bytes: [UInt8]
            if runs % 2 == 0 {
                bytes = Array(Self.seeds[runs % Self.seeds.count].utf8)
                for _ in 0..<Int.random(in: 1...8, using: &rng) {
                    let i = Int.random(in: 0..<bytes.count, using: &rng)
                    switch Int.random(in: 0..<4, using: &rng) {
                    case 0: bytes[i] = UInt8.random(in: 0...255, using: &rng)
                    case 1: bytes.insert(alphabet.randomElement(using: &rng)!, at: i)
                    case 2: bytes.remove(at: i)
                    default: bytes.insert(contentsOf: bytes[i..<min(i + 12, bytes.count)], at: i)
                    }
                    if bytes.isEmpty { break }
                }
            } else {
                bytes = (0..<Int.random(in: 0...200, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            }
            let file = SourceFile(path: "fuzz.cnn", bytes: bytes)
            let result = parse(file)
            _ = DiagnosticRenderer().render(result.diagnostics, in: file)
            for d in result.diagnostics { #expect(d.range.start.line >= 1 && d.range.start.column >= 1) }
            runs += 1
        }
        #expect(runs > 100)
    }
}
