import ShapeCheck
import Testing
@testable import Runtime

private func checked(_ text: String) throws -> CheckedNetwork {
    try #require(checkSource(text, path: "net.cnn").network, "the checker returned no network")
}

@Suite struct FeatureMapsTests {
    /// The lecture's convolution, worked by hand: each output is the sum of the image under
    /// the filter's five ones (the corners and the centre).
    @Test func theLecturesConvolutionAsGrids() throws {
        let network = try checked("input 5x5x1\nc1: conv 1 3x3\n")
        let image: [Float] = [1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0]
        let weights = ["c1.weight": Tensor(shape: [1, 1, 3, 3], storage: [1, 0, 1, 0, 1, 0, 1, 0, 1]),
                       "c1.bias": Tensor(shape: [1], storage: [0])]
        let (maps, output) = try FeatureMaps.compute(network, weights: weights, input: Tensor(shape: [1, 1, 5, 5], storage: image),
                                                     slots: FeatureMaps.slots("all", in: network))
        #expect(maps.map(\.name) == ["input", "c1"])
        #expect(output.storage == [4, 3, 4, 2, 4, 3, 2, 3, 4])
        #expect(FeatureMaps.text(maps[1]) == """
            c1: conv 1 3x3 stride 1 pad 0 → 3x3x1
            channel 1 of 1
               4.00  3.00  4.00
               2.00  4.00  3.00
               2.00  3.00  4.00

            """)
    }

    @Test func cellsBatchesAndChannels() throws {
        #expect(FeatureMaps.cell(-0.114) == "-0.11")
        #expect(FeatureMaps.cell(.nan) == "nan" && FeatureMaps.cell(-.infinity) == "-inf")
        let map = FeatureMap(name: "m", title: "m: test → 2x1x2", shape: .volume(width: 2, height: 1, depth: 2),
                             values: Tensor(shape: [2, 2, 1, 2], storage: [1, -10.5, 0, 0, 100, 2, 3, .nan]))
        #expect(FeatureMaps.text(map) == """
            m: test → 2x1x2
            image 1 of 2
            channel 1 of 2
                 1.00  -10.50
            channel 2 of 2
               0.00  0.00
            image 2 of 2
            channel 1 of 2
               100.00    2.00
            channel 2 of 2
               3.00   nan

            """)
    }

    @Test func selectionByNameWithSuggestions() throws {
        let network = try checked("input 4x4x1\nc1: conv 2 3x3\np1: maxpool 2x2\nf: fc 3\n")
        #expect(try FeatureMaps.slots("all", in: network) == [0, 1, 2, 3])
        #expect(try FeatureMaps.slots("f, c1,c1", in: network) == [1, 3])
        #expect(try FeatureMaps.slots("input", in: network) == [0])
        #expect(throws: RuntimeError("--show: network 'net' has no layer named 'p2' (did you mean 'p1'?)")) {
            try FeatureMaps.slots("c1,p2", in: network)
        }
        #expect(throws: RuntimeError.self) { try FeatureMaps.slots("c1,,f", in: network) }
    }

    @Test func layersOverTheLimitPointToPictures() throws {
        let network = try checked("input 64x64x1\nc1: conv 2 3x3\ng: globalavgpool\n")
        // The input's 4,096 values fit; c1's 62·62·2 = 7,688 do not.
        #expect(FeatureMaps.printProblem([0, 1], in: network)?.contains("--pictures DIR") == true)
        #expect(FeatureMaps.printProblem([0, 1], in: network)?.hasPrefix("--show: c1 is 62x62x2 = 7,688 values") == true)
        #expect(FeatureMaps.printProblem([0, 2], in: network) == nil)
    }
}
