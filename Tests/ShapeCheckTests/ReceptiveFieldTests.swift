import Foundation
import Parser
import ShapeCheck
import Testing

/// Receptive field, jump and start: the lectures' numbers, graphs, and random chains of
/// windows against the input cells found by walking every window back to the input.
struct ReceptiveFieldTests {
    func fields(_ network: CheckedNetwork) -> [String: ReceptiveField] {
        Dictionary(uniqueKeysWithValues: network.layers.map { ($0.name, $0.receptiveField) })
    }

    @Test func lenetAndVGGSeeWhatTheLecturesSay() throws {
        let lenet = fields(try #require(try checkModel("lenet5").network))
        #expect(lenet["c3"]?.width.size == 14 && lenet["c3"]?.height.size == 14)
        #expect(lenet["s4"]?.width.size == 16 && lenet["s4"]?.height.size == 16)
        #expect(lenet["s4"]?.width.jump == 4)
        // fc sees the whole 32x32 image, centred on 15.5 (pixels 0 to 31).
        #expect(lenet["f5"]?.width.size == 32 && lenet["f5"]?.width.start == 15.5)
        let vgg = fields(try #require(try checkModel("vgg16").network))
        #expect(vgg["features.30"]?.width.size == 212 && vgg["features.30"]?.height.size == 212)
        #expect(vgg["features.30"]?.width.jump == 32)
    }

    @Test func explainShowsTheRecurrence() throws {
        let network = try #require(try checkModel("lenet5").network)
        let explained = CheckReport.explain(network)
        // s2 leaves 6 pixels, 2 apart, the first centred on 2.5; c3's 5x5 adds 4 steps of 2.
        #expect(explained.contains("c3: (14 − 5 + 2·0)/1 + 1 = 10  →  10x10x16;  params (5·5·6 + 1)·16 = 2,416;  MACs 10·10·16·6·5·5 = 240,000;  then relu\n"
            + "    receptive field 6 + (5 − 1)·2 = 14  →  14x14;  jump 2·1 = 2;  start 2.5 + (2 − 0)·2 = 6.5\n"), "\(explained)")
        #expect(explained.contains("f6: 120 inputs  →  84;  params (120 + 1)·84 = 10,164;  MACs 120·84 = 10,080;  then relu\n"
            + "    receptive field 32x32 (all of the 32x32 input), jump 20, start 15.5 (unchanged)\n"))
        let json = CheckReport.json(try checkModel("lenet5"))
        #expect(json.contains("\"name\": \"c3\"") && json.contains("\"receptive_field\": [14, 14], \"jump\": [2, 2], \"start\": [6.5, 6.5]"))
    }

    @Test func aGraphSeesTheUnionOfItsPaths() throws {
        // a: 3x3 pad 1, cell 0 sees −1…1; b: two 2x2 pad same (0 left, 1 right), 0…2.
        // Their sum sees −1…2: 4 pixels centred on 0.5, more than either path alone.
        let text = "input 10x10x1\na: conv 1 3x3 pad 1\nb1: conv 1 2x2 pad same from input\nb2: conv 1 2x2 pad same\ns: add a b2\n"
        let network = try #require(checkSource(text).network)
        let s = try #require(fields(network)["s"])
        #expect(s.width.size == 4 && s.width.start == 0.5 && s.width.jump == 1)
        #expect(fields(network)["a"]?.width.size == 3 && fields(network)["b2"]?.width.size == 3)
        #expect(CheckReport.explain(network).contains("    receptive field 4x4, jump 1, start 0.5 (the union of its inputs' fields)\n"))
    }

    @Test func aBroadcastOperandWidensTheFieldButNotTheJump() throws {
        // c sees −1…1, one pixel apart; the global pool sees c's cells 0…7 of 3 pixels each,
        // −1…8. Squeeze-excitation's product sees both, and still moves one pixel per cell.
        let network = try #require(checkSource("input 8x8x2\nc: conv 2 3x3 pad 1\ng: globalavgpool\nm: mul c g\n").network)
        let m = try #require(fields(network)["m"])
        #expect(m.width == FieldAxis(size: 10, jump: 1, start: 3.5))
        #expect(fields(network)["g"]?.width == FieldAxis(size: 10, jump: 8, start: 3.5))
    }

    @Test func resamplingLayersMoveByFractions() throws {
        // deconv 4x4 stride 2 pad 1: output 0 gathers inputs i with 0 ≤ 1 − 2i ≤ 3, i = −1 and 0;
        // output 1 gathers 0 and 1; the cells move half an input cell each.
        let text = "input 4x4x1\nd: deconv 1 4x4 stride 2 pad 1\nu: upsample 2 from input\nb: upsample 2 bilinear from input\n"
            + "a: adaptiveavgpool 2x2 from input\ns: concat d u b\nt: conv 1 1x1 from a\nlast: add s s\n"
        let network = try #require(checkSource(text).network, "\(checkSource(text).diagnostics.map(\.message))")
        let f = fields(network)
        #expect(f["d"]?.width == FieldAxis(size: 2, jump: 0.5, start: -0.5))
        // Nearest: cell 0 reads input cell 0 alone; bilinear the pair 0 and 1.
        #expect(f["u"]?.width == FieldAxis(size: 1, jump: 0.5, start: 0))
        #expect(f["b"]?.width == FieldAxis(size: 2, jump: 0.5, start: 0.5))
        // Adaptive 4 → 2: windows 0..<2 and 2..<4.
        #expect(f["a"]?.width == FieldAxis(size: 2, jump: 2, start: 0.5))
        let explained = CheckReport.explain(network)
        #expect(explained.contains("    receptive field 1 + (2 − 1)·1 = 2  →  2x2;  jump 1·0.5 = 0.5;  start 0 + (−0.5)·1 = −0.5\n"), "\(explained)")
    }

    @Test func rectangularWindowsKeepEachAxis() throws {
        let network = try #require(checkSource("input 20x12x1\nc: conv 1 5x3 stride 2x1 pad 2x0\n").network)
        let c = network.layers[0].receptiveField
        #expect(c.width == FieldAxis(size: 5, jump: 2, start: 0) && c.height == FieldAxis(size: 3, jump: 1, start: 1))
    }

    /// One axis of a chain of windows (extent, stride, dilation, pad before), walked back from
    /// output cell `cell` of the last: every input position some tap reaches, padding included.
    static func positions(_ chain: [(kernel: Int, stride: Int, dilation: Int, pad: Int)], cell: Int) -> Set<Int> {
        var cells: Set<Int> = [cell]
        for window in chain.reversed() {
            var below = Set<Int>()
            for o in cells {
                for t in 0..<window.kernel { below.insert(o * window.stride - window.pad + t * window.dilation) }
            }
            cells = below
        }
        return cells
    }

    @Test func randomChainsMatchTheCellsTheirWindowsRead() throws {
        var random = SplitMix(seed: 2026)
        var checked = 0
        for _ in 0..<300 {
            var lines = ["input 96x96x2"]
            var chain: [(kernel: Int, stride: Int, dilation: Int, pad: Int)] = []
            for index in 0..<Int.random(in: 1...5, using: &random) {
                let kernel = Int.random(in: 1...5, using: &random), stride = Int.random(in: 1...3, using: &random)
                if Bool.random(using: &random) {
                    let dilation = Int.random(in: 1...2, using: &random), pad = Int.random(in: 0...kernel, using: &random)
                    lines.append("l\(index): conv 2 \(kernel)x\(kernel) stride \(stride) pad \(pad) dilation \(dilation)")
                    chain.append((kernel, stride, dilation, pad))
                } else {
                    let pad = Int.random(in: 0...(kernel / 2), using: &random)
                    lines.append("l\(index): \(Bool.random(using: &random) ? "maxpool" : "avgpool") \(kernel)x\(kernel) stride \(stride) pad \(pad)")
                    chain.append((kernel, stride, 1, pad))
                }
            }
            guard let network = checkSource(lines.joined(separator: "\n")).network else { continue }
            checked += 1
            for (index, layer) in network.layers.enumerated() {
                let prefix = Array(chain.prefix(index + 1))
                let first = Self.positions(prefix, cell: 0), second = Self.positions(prefix, cell: 1)
                let start = Double(first.min()! + first.max()!) / 2
                let expected = FieldAxis(size: Double(first.max()! - first.min()! + 1), jump: Double(second.min()! + second.max()!) / 2 - start,
                                         start: start)
                #expect(layer.receptiveField.width == expected && layer.receptiveField.height == expected,
                        "\(lines.joined(separator: "; ")): \(layer.name)")
            }
        }
        #expect(checked > 100)
    }
}
