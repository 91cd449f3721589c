import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing

/// The lectures' padding modes (`padmode reflect|replicate|circular`, torch's padding_mode),
/// `adaptiveavgpool WxH` and `maxout K` in every backend against the reference interpreter.
/// A padded conv lowers to a pad step and a zero-padding conv, so the fast C backend's conv
/// kernels (which assume zero padding) never see a mode.
@Suite struct LectureOpsTests {
    /// Each mode on a rectangular pad and a rectangular input, `same` split unevenly (4x4),
    /// a stride-2 depthwise, maxout on a volume and on a vector, adaptive pooling to 3x2.
    static let text = """
        input 9x7x5
        a: conv 8 3x3 pad 2 padmode reflect relu
        b: depthwise 3x5 stride 2 pad 1x2 padmode replicate
        c: conv 12 3x3 pad same padmode circular relu
        d: conv 12 4x4 pad same padmode reflect
        m: maxout 3
        p: adaptiveavgpool 3x2
        f: flatten
        g: fc 12
        h: maxout 4
        """

    @Test(arguments: NaNSemanticsTests.backendNames)
    func backendsMatchTheReference(_ backend: String) throws {
        let net = try network(Self.text, path: "lecture.cnn")
        #expect(net.layers.map(\.output.description) == ["11x9x8", "6x5x8", "6x5x12", "6x5x12", "6x5x4", "3x2x4", "24", "12", "3"])
        let weights = WeightInit.weights(for: net, seed: 5).tensors
        let input = randomInput(for: net, batch: 3, seed: 9)
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        expectSameNaNs(try NaNSemanticsTests.run(backend, net, weights, input), reference, "lecture/\(backend)")
    }

    /// A NaN in the input reaches the border cells that copy it, and maxout keeps it.
    @Test(arguments: NaNSemanticsTests.backendNames)
    func aNaNIsCopiedIntoTheBorder(_ backend: String) throws {
        let net = try network("input 6x4x2\nc: conv 6 1x1 pad 2x1 padmode circular\nm: maxout 2\np: adaptiveavgpool 4x3\n", path: "nan.cnn")
        let weights = WeightInit.weights(for: net, seed: 2).tensors
        var input = randomInput(for: net, batch: 2, seed: 3)
        input.storage[0] = .nan
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        #expect(reference.storage.contains(where: \.isNaN) && reference.storage.contains { !$0.isNaN })
        expectSameNaNs(try NaNSemanticsTests.run(backend, net, weights, input), reference, "lecture-nan/\(backend)")
    }

    /// Known values: a 1x1 identity conv shows the padded row; torch gives these for [1, 2, 3].
    @Test(arguments: NaNSemanticsTests.backendNames + ["reference"])
    func paddedCellsAsTorch(_ backend: String) throws {
        let expected: [String: [Float]] = ["reflect": [3, 2, 1, 2, 3, 2, 1], "replicate": [1, 1, 1, 2, 3, 3, 3],
                                           "circular": [2, 3, 1, 2, 3, 1, 2], "zeros": [0, 0, 1, 2, 3, 0, 0]]
        let one = ["c.weight": Tensor(shape: [1, 1, 1, 1], storage: [1]), "c.bias": Tensor(shape: [1], storage: [0])]
        for (mode, values) in expected {
            let net = try network("input 3x1x1\nc: conv 1 1x1 pad 2x0 padmode \(mode)\n", path: "p.cnn")
            let input = Tensor(shape: [1, 1, 1, 3], storage: [1, 2, 3])
            let out = backend == "reference" ? try ReferenceInterpreter(network: net, weights: one).run(input)
                : try NaNSemanticsTests.run(backend, net, one, input)
            #expect(out.storage == values, "\(mode)/\(backend)")
        }
        // torch's AdaptiveAvgPool1d(3) on 0…4: windows 0..<2, 1..<4, 3..<5.
        let pool = try network("input 5x1x1\np: adaptiveavgpool 3x1\n", path: "p.cnn")
        let input = Tensor(shape: [1, 1, 1, 5], storage: [0, 1, 2, 3, 4])
        let pooled = backend == "reference" ? try ReferenceInterpreter(network: pool, weights: [:]).run(input)
            : try NaNSemanticsTests.run(backend, pool, [:], input)
        #expect(pooled.storage == [0.5, 2, 3.5], "adaptive/\(backend)")
        let maxout = try network("input 1x1x6\nm: maxout 2\n", path: "p.cnn")
        let channels = Tensor(shape: [1, 6, 1, 1], storage: [1, 5, 2, -1, 0, 3])
        let maxed = backend == "reference" ? try ReferenceInterpreter(network: maxout, weights: [:]).run(channels)
            : try NaNSemanticsTests.run(backend, maxout, [:], channels)
        #expect(maxed.storage == [5, 2, 3], "maxout/\(backend)")
    }

    /// The pad is a step of its own; the conv after it has no padding, and in the fast plan
    /// it runs on a fast kernel while the pad runs on the reference one.
    @Test func aPaddedConvLowersToPadThenConv() throws {
        let net = try network("input 16x16x8\nc: conv 16 3x3 pad 1 padmode reflect relu\n", path: "p.cnn")
        let program = lower(net)
        #expect(program.listing.contains("v1 18x18x8 = pad reflect(v0)  ; c"))
        #expect(program.listing.contains("= conv(v1) relu  ; c"))
        guard case .convolution(let conv) = program.steps.last?.kernel else { Issue.record("no conv"); return }
        #expect(conv.window.padTop == 0 && conv.window.padLeft == 0 && conv.window.padBottom == 0 && conv.window.padRight == 0)
        let plan = try #require(lowerForC(net, options: KernelOptions(target: .avx512)).kernelPlan)
        #expect(plan.steps.first?.kernel == .reference)
        #expect(plan.steps.contains { if case .directConvolution = $0.kernel { return true }; if case .winogradConvolution = $0.kernel { return true }; return false })
    }
}
