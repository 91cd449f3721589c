import Foundation
import Runtime
import ShapeCheck
import Testing
import TestSupport

/// Checks `.cnn` text; the test fails (with the diagnostics) if it does not check.
private func network(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> CheckedNetwork {
    let result = checkSource(text, path: "test.cnn")
    return try #require(result.network, "\(result.diagnostics.map(\.message))", sourceLocation: sourceLocation)
}

/// Runs `text` with `weights` on `input`.
private func run(_ text: String, weights: [String: Tensor] = [:], _ input: Tensor,
                 sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Tensor {
    try ReferenceInterpreter(network: network(text, sourceLocation: sourceLocation), weights: weights).run(input)
}

private func approximatelyEqual(_ a: [Float], _ b: [Float], tolerance: Float = 1e-6) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
}

@Suite struct ReferenceInterpreterTests {
    /// The slides' 4x4 matrix.
    let slide = Tensor(shape: [1, 1, 4, 4], storage: [1, 1, 2, 4,
                                                      5, 6, 7, 8,
                                                      3, 2, 1, 0,
                                                      1, 2, 3, 4])

    /// The lectures' 5x5 image convolved with the 3x3 "X" filter.
    @Test func lectureConvolution() throws {
        let image: [Float] = [1, 1, 1, 0, 0,
                              0, 1, 1, 1, 0,
                              0, 0, 1, 1, 1,
                              0, 0, 1, 1, 0,
                              0, 1, 1, 0, 0]
        let filter: [Float] = [1, 0, 1,
                               0, 1, 0,
                               1, 0, 1]
        let out = try run("input 5x5x1\nconv1: conv 1 3x3 nobias",
                          weights: ["conv1.weight": Tensor(shape: [1, 1, 3, 3], storage: filter)],
                          Tensor(shape: [1, 1, 5, 5], storage: image))
        #expect(out.shape == [1, 1, 3, 3])
        #expect(out.storage == [4, 3, 4,
                                2, 4, 3,
                                2, 3, 4])
    }

    @Test func lectureMaxPool() throws {
        let out = try run("input 4x4x1\nmaxpool 2x2 stride 2", slide)
        #expect(out.shape == [1, 1, 2, 2])
        #expect(out.storage == [6, 8, 3, 4])
    }

    @Test func lectureAveragePool() throws {
        let out = try run("input 4x4x1\navgpool 2x2 stride 2", slide)
        #expect(out.storage == [3.25, 5.25, 2, 2])
    }

    @Test func lectureReLU() throws {
        let out = try run("input 3x2x1\nrelu", Tensor(shape: [1, 1, 2, 3], storage: [-1, 2, -0.5, 3, 0, -7]))
        #expect(out.storage == [0, 2, 0, 3, 0, 0])
    }

    /// 6x6 input holding 1…36, avgpool 3x3 stride 2 pad 1 round ceil → 4x4. A window is
    /// divided by its size with the padding counted (count_include_pad), but the last
    /// column/row of windows hangs one cell past the right/bottom padding, and that cell is
    /// not counted (PyTorch clips the window to the padded extent).
    @Test func averagePoolWithPaddingAndCeilMode() throws {
        let out = try run("input 6x6x1\navgpool 3x3 stride 2 pad 1 round ceil",
                          Tensor(shape: [1, 1, 6, 6], storage: (1...36).map(Float.init)))
        #expect(out.shape == [1, 1, 4, 4])
        let expected: [Float] = [
            // (1+2+7+8)/9: the padded row and column count.
            18.0 / 9, 36.0 / 9, 48.0 / 9,
            // (6+12)/6: rows −1…1 by columns 5…6 (6 is padding); column 7 is past it, not counted.
            18.0 / 6,
            81.0 / 9, 135.0 / 9, 153.0 / 9, 54.0 / 6,
            153.0 / 9, 243.0 / 9, 261.0 / 9, 90.0 / 6,
            63.0 / 6, 99.0 / 6, 105.0 / 6,
            // The corner: only the cell holding 36, divided by 2·2.
            36.0 / 4,
        ]
        #expect(approximatelyEqual(out.storage, expected))
    }

    /// Max pooling in ceil mode with padding: padded cells are never picked, even when every
    /// real value is negative (a padded zero would win if it were read).
    @Test func maxPoolNeverPicksPadding() throws {
        let out = try run("input 6x6x1\nmaxpool 3x3 stride 2 pad 1 round ceil",
                          Tensor(shape: [1, 1, 6, 6], storage: (1...36).map { -Float($0) }))
        #expect(out.shape == [1, 1, 4, 4])
        #expect(out.storage[0] == -1)
        #expect(out.storage[3] == -6)
        #expect(out.storage[15] == -36)
    }

    /// 4 channels at one position holding 1, 2, 3, 4; the window is c − size/2 … c + (size − 1)/2.
    static let lrnCases: [(String, [Double])] = [
        // size 3: c−1…c+1; divisor (1 + 3/3·Σa²)^0.5; Σa² = 1+4, 1+4+9, 4+9+16, 9+16
        ("lrn size 3 alpha 3 beta 0.5 k 1",
         [1 / 6.0.squareRoot(), 2 / 15.0.squareRoot(), 3 / 30.0.squareRoot(), 4 / 26.0.squareRoot()]),
        // size 4: c−2…c+1; divisor 1 + 4/4·Σa²; Σa² = 1+4, 1+4+9, 1+4+9+16, 4+9+16
        ("lrn size 4 alpha 4 beta 1 k 1", [1.0 / 6, 2.0 / 15, 3.0 / 31, 4.0 / 30]),
    ]

    @Test(arguments: lrnCases)
    func localResponseNorm(line: String, expected: [Double]) throws {
        let out = try run("input 1x1x4\n" + line, Tensor(shape: [1, 4, 1, 1], storage: [1, 2, 3, 4]))
        #expect(approximatelyEqual(out.storage, expected.map(Float.init)))
    }

    /// AlexNet's defaults on 7 channels: against the formula evaluated here directly.
    @Test func localResponseNormDefaults() throws {
        var generator = SplitMix(seed: 3)
        let values = (0..<(7 * 2 * 3)).map { _ in Float.random(in: -30...30, using: &generator) }
        let out = try run("input 3x2x7\nlrn", Tensor(shape: [1, 7, 2, 3], storage: values))
        for c in 0..<7 {
            for i in 0..<6 {
                let window = max(0, c - 2)...min(6, c + 2)
                let squares = window.reduce(0.0) { $0 + pow(Double(values[$1 * 6 + i]), 2) }
                let expected = Double(values[c * 6 + i]) / pow(2 + 1e-4 / 5 * squares, 0.75)
                #expect(abs(Double(out.storage[c * 6 + i]) - expected) <= 1e-6 * max(1, abs(expected)))
            }
        }
    }

    @Test func softmaxAcrossDepthSumsToOne() throws {
        var generator = SplitMix(seed: 7)
        let values = (0..<(2 * 3 * 4 * 5)).map { _ in Float.random(in: -20...20, using: &generator) }
        let out = try run("input 5x4x3\nsoftmax", Tensor(shape: [2, 3, 4, 5], storage: values))
        for image in 0..<2 {
            for position in 0..<20 {
                let at = (0..<3).map { image * 60 + $0 * 20 + position }
                let sum = at.reduce(0) { $0 + Double(out.storage[$1]) }
                #expect(abs(sum - 1) < 1e-6)
                // And each is exp(x − max)/Σ exp(x − max).
                let inputs = at.map { Double(values[$0]) }
                let m = inputs.max()!
                let total = inputs.reduce(0) { $0 + exp($1 - m) }
                for (j, i) in at.enumerated() {
                    #expect(abs(Double(out.storage[i]) - exp(inputs[j] - m) / total) < 1e-7)
                }
            }
        }
    }

    @Test func softmaxIsStableForLargeValues() throws {
        let out = try run("input 3\nsoftmax", Tensor(shape: [1, 3], storage: [1000, 1000, -1000]))
        #expect(out.shape == [1, 3])
        #expect(out.storage == [0.5, 0.5, 0])
    }

    @Test func activations() throws {
        let x: [Float] = [-2, -0.5, 0, 0.5, 2]
        let input = Tensor(shape: [1, 5], storage: x)
        func expectClose(_ line: String, _ f: (Double) -> Double) throws {
            let out = try run("input 5\n" + line, input)
            #expect(approximatelyEqual(out.storage, x.map { Float(f(Double($0))) }), "\(line): \(out.storage)")
        }
        try expectClose("relu") { max($0, 0) }
        try expectClose("leakyrelu") { $0 < 0 ? 0.01 * $0 : $0 }
        try expectClose("leakyrelu 0.1") { $0 < 0 ? 0.1 * $0 : $0 }
        try expectClose("elu") { $0 < 0 ? exp($0) - 1 : $0 }
        try expectClose("elu 0.5") { $0 < 0 ? 0.5 * (exp($0) - 1) : $0 }
        try expectClose("sigmoid") { 1 / (1 + exp(-$0)) }
        try expectClose("tanh") { tanh($0) }
    }

    /// mul: a 1x1xD operand scales every position of its channel (squeeze-excitation); equal
    /// shapes multiply position by position; 0·inf is NaN.
    @Test func multiplyBroadcastsOneByOne() throws {
        // Input 2x1x2 ([D, H, W] = [2, 1, 2]): d0 = (1, 2), d1 = (3, 4); its mean per channel 1.5, 3.5.
        let text = "input 2x1x2\ns: globalavgpool\nm: mul input s\nq: mul s m input\n"
        let out = try run(text, Tensor(shape: [1, 2, 1, 2], storage: [1, 2, 3, 4]))
        // m = (1.5, 3 | 10.5, 14); q = s·m·input = (1.5·1.5·1, 1.5·3·2 | 3.5·10.5·3, 3.5·14·4)
        let expected: [Float] = [2.25, 9, 110.25, 196]
        #expect(out.storage == expected)
        // The channel's mean is inf: 0·inf is NaN, inf·inf is inf.
        let special = try run("input 2x1x1\ns: globalavgpool\nm: mul input s\n", Tensor(shape: [1, 1, 1, 2], storage: [0, .infinity]))
        #expect(special.storage[0].isNaN && special.storage[1] == .infinity, "\(special.storage)")
    }

    @Test func batchNorm() throws {
        let weights = ["bn.weight": Tensor(shape: [2], storage: [2, 1]),
                       "bn.bias": Tensor(shape: [2], storage: [1, -1]),
                       "bn.running_mean": Tensor(shape: [2], storage: [1, 10]),
                       "bn.running_var": Tensor(shape: [2], storage: [4, 25])]
        let out = try run("input 2x1x2\nbn: batchnorm eps 1e-9", weights: weights,
                          Tensor(shape: [1, 2, 1, 2], storage: [3, 5, 20, 0]))
        // (3 − 1)/2·2 + 1 = 3, (5 − 1)/2·2 + 1 = 5, (20 − 10)/5 − 1 = 1, (0 − 10)/5 − 1 = −3
        #expect(approximatelyEqual(out.storage, [3, 5, 1, -3]))
    }

    /// fc flattens a volume in depth, row, column order (PyTorch's NCHW flatten).
    @Test func fullyConnectedFlattensInDepthRowColumnOrder() throws {
        // One neuron whose weight picks element i with weight 10^i: the output spells the order.
        let weight = Tensor(shape: [1, 4], storage: [1, 10, 100, 1000])
        let bias = Tensor(shape: [1], storage: [0.5])
        // Input 2x1x2 ([D, H, W] = [2, 1, 2]): d0 = (1, 2), d1 = (3, 4).
        let out = try run("input 2x1x2\nf: fc 1", weights: ["f.weight": weight, "f.bias": bias],
                          Tensor(shape: [1, 2, 1, 2], storage: [1, 2, 3, 4]))
        #expect(out.shape == [1, 1])
        #expect(out.storage == [1 + 20 + 300 + 4000 + 0.5])
    }

    /// Dropout is the identity; add sums, concat stacks along depth, flatten reshapes.
    @Test func dropoutAddConcatFlatten() throws {
        let text = """
            input 2x1x2
            x: dropout 0.5
            a: relu
            b: sigmoid from x
            s: add a b
            c: concat s a
            f: flatten
            """
        let x: [Float] = [-1, 2, 3, -4]
        let out = try run(text, Tensor(shape: [1, 2, 1, 2], storage: x))
        #expect(out.shape == [1, 8])
        let a = x.map { max($0, 0) }
        let b = x.map { Float(1 / (1 + exp(-Double($0)))) }
        let s = zip(a, b).map { $0 + $1 }
        #expect(approximatelyEqual(out.storage, s + a))
    }

    /// Vectors concatenate along their features.
    @Test func vectorConcat() throws {
        let out = try run("input 3\na: relu\nb: tanh from a\nc: concat b a",
                          Tensor(shape: [2, 3], storage: [-1, 0, 1, 2, -2, 3]))
        #expect(out.shape == [2, 6])
        let t = { (v: Float) in Float(tanh(Double(v))) }
        #expect(approximatelyEqual(out.storage, [0, 0, t(1), 0, 0, 1, t(2), 0, t(3), 2, 0, 3]))
    }

    /// A batch of several images gives each image what it gives alone.
    @Test func batchIsImageByImage() throws {
        let network = try network("""
            input 6x5x3
            c: conv 4 3x3 pad 1 relu
            p: maxpool 2x2 round ceil
            f: fc 3 softmax
            """)
        let weights = WeightInit.weights(for: network, seed: 1).tensors
        var generator = SplitMix(seed: 11)
        let batch = Tensor(shape: [3, 3, 5, 6], storage: (0..<270).map { _ in Float.random(in: -1...1, using: &generator) })
        let interpreter = ReferenceInterpreter(network: network, weights: weights)
        let together = try interpreter.run(batch)
        #expect(together.shape == [3, 3])
        for image in 0..<3 {
            let alone = try interpreter.run(Tensor(shape: [1, 3, 5, 6], storage: Array(batch.storage[(image * 90)..<((image + 1) * 90)])))
            #expect(alone.storage == Array(together.storage[(image * 3)..<((image + 1) * 3)]))
        }
    }

    @Test(arguments: [[1, 5, 5], [1, 1, 5, 4], [2, 2, 5, 5], [1, 25], [0, 1, 5, 5]])
    func wrongInputShapeNamesBothShapes(shape: [Int]) throws {
        let interpreter = ReferenceInterpreter(network: try network("network five\ninput 5x5x1\nrelu"), weights: [:])
        let error = #expect(throws: RuntimeError.self) { try interpreter.run(Tensor(shape: shape)) }
        let message = error?.message ?? ""
        #expect(message.contains("[" + shape.map(String.init).joined(separator: ", ") + "]"), "\(message)")
        #expect(message.contains("[N, 1, 5, 5]"), "\(message)")
    }

    @Test func referenceBackendIsTheInterpreter() throws {
        let executor = try makeExecutor(backend: .reference, network: network("input 2\nrelu"), weights: [:],
                                        options: ExecutorOptions())
        #expect(executor is ReferenceInterpreter)
        #expect(try executor.run(Tensor(shape: [1, 2], storage: [-1, 1])).storage == [0, 1])
    }
}
