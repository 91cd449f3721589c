import Foundation
import Parser
import ShapeCheck
import Testing

/// The output-size arithmetic's edges: floored negative spans, the padding hints and their
/// search, `pad fit`, `pad same`'s split, and which strides that do not fit are warned.
struct PaddingArithmeticTests {
    func diagnostics(_ text: String, strict: Bool = false) -> [Diagnostic] {
        checkSource(text, path: "p.cnn", strict: strict).diagnostics
    }

    func notes(_ d: Diagnostic?) -> [String] { d?.notes.map(\.message) ?? [] }

    @Test func aWindowLargerThanTheInputFloorsAndIsReportedOnce() {
        // (28 − 29)/2 = −0.5, floored to −1, + 1 = 0: the output would be empty.
        let found = diagnostics("input 28x28x1\nm: maxpool 29x29 stride 2\n")
        #expect(found.count == 1)
        #expect(found.first?.message == "m: the kernel is larger than the padded input width and height; the output would be below 1")
        #expect(notes(found.first) == ["(28 − 29 + 2·0)/2 + 1 = 0 (the kernel extent 29 is larger than 28, the padded input width and height)"])
        #expect(Arithmetic.floorDivide(-1, 2) == -1 && Arithmetic.floorDivide(-4, 2) == -2 && Arithmetic.floorDivide(5, 2) == 2)
    }

    @Test func theHintSearchesPastTheStride() {
        // 10 − 5 + 2P ≡ 0 (mod 3): P = 0 gives 5, P = 1 gives 7, P = 2 gives 9.
        let found = diagnostics("input 10x10x1\nc: conv 1 5x5 stride 3\n")
        let warning = found.first { $0.id == "stride-does-not-fit" }
        #expect(notes(warning).contains("with pad 2 the stride fits: (10 − 5 + 2·2)/3 + 1 = 4 ('pad fit' chooses it)"), "\(notes(warning))")
    }

    @Test func withoutASymmetricPadTheHintSaysWhatFits() {
        // 224 − 7 = 217 is odd; with stride 2 no 2P helps. pad same: ⌈224/2⌉ = 112,
        // total 111·2 + 7 − 224 = 5, so 2 before and 3 after.
        let warning = diagnostics("input 224x224x3\nc: conv 8 7x7 stride 2\n").first { $0.id == "stride-does-not-fit" }
        let said = notes(warning)
        #expect(said.contains { $0.hasPrefix("no symmetric padding fits: 224 − 7 = 217 is odd and the stride 2 is even") }, "\(said)")
        #expect(said.contains("'pad same' fits: 2 left, 3 right; 2 top, 3 bottom, for an output of ⌈224/2⌉ = 112"), "\(said)")
    }

    @Test func aPoolThatDoesNotFitSuggestsRoundCeil() {
        // 8 − 3 = 5 over stride 2: 3.5 floored to 3; rounded up ⌈5/2⌉ + 1 = 4, and the last
        // window starts at 6 < 8, so it stays.
        let warning = diagnostics("input 8x8x1\np: maxpool 3x3 stride 2\n").first { $0.id == "stride-does-not-fit" }
        #expect(notes(warning).contains("or 'round ceil' rounds the size up instead, as PyTorch's ceil_mode: 4"), "\(notes(warning))")
    }

    @Test func onlyPaddingLeftUnreadIsNotWarnedButStrictRefusesIt() throws {
        // torchvision's stem: (224 − 7 + 6)/2 = 111.5; the cell left over is the right padding.
        let text = "input 224x224x3\nc: conv 64 7x7 stride 2 pad 3\n"
        #expect(diagnostics(text).isEmpty)
        let strict = diagnostics(text, strict: true)
        #expect(strict.count == 1 && strict[0].severity == .error && notes(strict[0]).contains("only padding is left unread; every input column and row is read"))
        let network = try #require(checkSource(text).network)
        #expect(CheckReport.explanation(of: network.layers[0]).hasPrefix("(224 − 7 + 2·3)/2 + 1 = 112.50 → 112 (only padding is left unread)"))
    }

    @Test func theGapOfAWindowNarrowerThanTheStrideIsNotALoss() {
        // 1x1 at stride 2 on 56 reads columns 0, 2, …, 54: column 55 is skipped like every odd one.
        #expect(diagnostics("input 56x56x4\nc: conv 8 1x1 stride 2\n").isEmpty)
        // 3x3 at stride 4 on 10: windows 0–2 and 4–6 skip one column each; 7, 8, 9 are three
        // left at the end, two more than the gap.
        let warning = diagnostics("input 10x10x1\nc: conv 1 3x3 stride 4\n").first { $0.id == "stride-does-not-fit" }
        #expect(warning?.severity == .warning)
        #expect(notes(warning).contains("a window 3 wide at stride 4 skips 1 column and 1 row after it anyway; 2 more are lost at the end"), "\(notes(warning))")
    }

    @Test func padFitChoosesTheSmallestSymmetricPadPerAxis() throws {
        // Width 10: 10 − 5 + 2P ≡ 0 (mod 3) first at P = 2; height 7: 7 − 5 + 2P ≡ 0 at P = 2
        // too (2, 4, 6); with a 4x4 kernel at stride 2, 10 − 4 = 6 fits at P = 0.
        let network = try #require(checkSource("input 10x7x1\nc: conv 1 5x5 stride 3 pad fit\nd: conv 1 4x3 stride 2 pad fit from input\ne: add c d\n").network)
        guard case .convolution(let c) = network.layers[0].operation, case .convolution(let d) = network.layers[1].operation else {
            Issue.record("not convolutions")
            return
        }
        #expect(c.window.padding == Padding(left: 2, right: 2, top: 2, bottom: 2))
        #expect(network.layers[0].output.description == "4x3x1")  // (10 − 5 + 4)/3 + 1, (7 − 5 + 4)/3 + 1
        // 7 − 3 + 2P ≡ 0 (mod 2) at P = 0.
        #expect(d.window.padding == .zero)
        #expect(CheckReport.describe(network.layers[0], index: 0, in: network) == "conv 1 5x5 stride 3 pad fit (2)")
        let explained = CheckReport.explain(network)
        #expect(explained.contains("    pad fit, width: P = 0: (10 − 5 + 0)/3 = 1.67 ✗, P = 1: (10 − 5 + 2)/3 = 2.33 ✗, P = 2: (10 − 5 + 4)/3 = 3 ✓  →  pad 2;  "
            + "height: P = 0: (7 − 5 + 0)/3 = 0.67 ✗, P = 1: (7 − 5 + 2)/3 = 1.33 ✗, P = 2: (7 − 5 + 4)/3 = 2 ✓  →  pad 2\n"), "\(explained)")
        #expect(explained.contains("    pad fit, width: P = 0: (10 − 4 + 0)/2 = 3 ✓  →  pad 0;  height: P = 0: (7 − 3 + 0)/2 = 2 ✓  →  pad 0\n"), "\(explained)")
    }

    @Test func padFitOnPoolsKeepsToHalfTheWindow() throws {
        // 8 − 3 + 2P ≡ 0 (mod 2) needs an odd 2P: none; 9 − 3 = 6 fits at P = 0.
        #expect(diagnostics("input 8x8x1\np: maxpool 3x3 stride 2 pad fit\n").map(\.id) == ["no-padding-fits"])
        let network = try #require(checkSource("input 9x9x1\np: maxpool 3x3 stride 2 pad fit\n").network)
        #expect(network.layers[0].output.description == "4x4x1")
        let deconv = checkSource("input 4x4x1\nd: deconv 1 3x3 pad fit\n").diagnostics
        #expect(deconv.map(\.message) == ["expected a padding P or PwxPh after 'pad', found 'fit'"])
    }

    @Test func fittingPadMatchesAnExhaustiveSearch() {
        var random = SplitMix(seed: 19)
        for _ in 0..<2_000 {
            let input = Int.random(in: 1...40, using: &random), extent = Int.random(in: 1...12, using: &random)
            let stride = Int.random(in: 1...9, using: &random), limit = Int.random(in: 0...12, using: &random)
            let expected = (0...limit).first { pad in
                let span = input - extent + 2 * pad
                return span >= 0 && span % stride == 0
            }
            #expect(Arithmetic.fittingPad(input: input, extent: extent, stride: stride, limit: limit) == expected,
                    "in \(input), Fe \(extent), S \(stride), up to \(limit)")
        }
        // A hostile stride is answered at once, not searched.
        #expect(Arithmetic.fittingPad(input: 10, extent: 3, stride: 1 << 60, limit: Int.max / 4) == nil)
        #expect(Arithmetic.fittingPad(input: 3, extent: 3, stride: 1 << 60, limit: 0) == 0)
    }

    @Test func aLongSearchShowsItsEnds() {
        // 10 − 9 + 2P ≡ 0 (mod 15) first at P = 7.
        #expect(Arithmetic.fittingPad(input: 10, extent: 9, stride: 15, limit: 8) == 7)
        #expect(Arithmetic.fitSearch(input: 10, extent: 9, stride: 15, chosen: 7)
                == "P = 0: (10 − 9 + 0)/15 = 0.07 ✗, P = 1: (10 − 9 + 2)/15 = 0.20 ✗, P = 2: (10 − 9 + 4)/15 = 0.33 ✗, …, "
                + "P = 6: (10 − 9 + 12)/15 = 0.87 ✗, P = 7: (10 − 9 + 14)/15 = 1 ✓")
        // A pad as large as a hostile kernel is not listed step by step.
        #expect(Arithmetic.fitSearch(input: 1 << 31, extent: 1 << 31, stride: 3, chosen: 1 << 30).count < 300)
    }

    @Test func padSameSaysEachSide() throws {
        // 11 columns, 4x4 at stride 1: total 3, one left and two right; 9 rows likewise.
        let network = try #require(checkSource("input 11x9x2\nc: conv 4 4x4 pad same\nd: conv 4 3x3 pad same from input\ne: concat c d\n").network)
        #expect(CheckReport.describe(network.layers[0], index: 0, in: network) == "conv 4 4x4 stride 1 pad same (1 left, 2 right; 1 top, 2 bottom)")
        #expect(CheckReport.describe(network.layers[1], index: 1, in: network) == "conv 4 3x3 stride 1 pad same (1) from input")
    }
}
