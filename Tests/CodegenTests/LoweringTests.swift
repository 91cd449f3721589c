import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing

/// The pass pipeline: what each pass removes, folds and fuses, and what it must leave alone.
@Suite struct LoweringTests {
    func kinds(_ program: LoweredProgram) -> [String] {
        program.steps.map { step in
            step.kernel.mnemonic + (step.kernel.fusedActivation.map { "+\($0)" } ?? "")
        }
    }

    /// Two layers that compute and two (dropout, flatten) that only pass their input on.
    static let convDropoutFlattenFC = """
        input 6x6x2
        c: conv 3 3x3
        d: dropout 0.5
        f: flatten
        out: fc 2
        """

    @Test func translateMakesOneStepPerLayer() throws {
        let net = try network(Self.convDropoutFlattenFC)
        let program = translate(net)
        #expect(program.steps.count == 4)
        #expect(kinds(program) == ["conv", "identity", "identity", "fc"])
    }

    @Test func dropoutAndFlattenBecomeViews() throws {
        let net = try network(Self.convDropoutFlattenFC)
        let program = lower(net)
        #expect(kinds(program) == ["conv", "fc"])
        // The fc reads the conv's own value: no copy for the flatten.
        #expect(program.steps[1].inputs == [program.steps[0].output])
        #expect(program.values[program.steps[0].output].shape == .volume(width: 4, height: 4, depth: 3))
    }

    @Test func batchNormFoldsIntoTheConvBeforeIt() throws {
        let net = try network("""
            input 8x8x3
            c: conv 4 3x3 pad 1 nobias
            bn: batchnorm
            r: relu
            out: fc 3
            """)
        let program = lower(net)
        #expect(kinds(program) == ["conv+relu", "fc"])
        #expect(program.steps[0].layers == ["c", "bn", "r"])
        guard case .convolution(let conv) = program.steps[0].kernel else { Issue.record("not a conv"); return }
        #expect(conv.bias != nil, "the fold gives the conv a bias")
        if case .scaledByBatchNorm = conv.weight.recipe {} else { Issue.record("weight recipe \(conv.weight.recipe)") }
    }

    @Test func batchNormStaysWhenTheConvOutputHasOtherReaders() throws {
        let net = try network("""
            input 8x8x3
            c: conv 4 3x3 pad 1
            bn: batchnorm
            other: conv 4 1x1 from c
            sum: add bn other
            """)
        let program = lower(net)
        #expect(kinds(program) == ["conv", "batchnorm", "conv", "add"])
    }

    @Test func activationsFuseOnlyWhenNothingElseReads() throws {
        let net = try network("""
            input 8x8x4
            stem: conv 4 3x3 pad 1
            r0: relu
            b: conv 4 3x3 pad 1
            sum: add b stem
            r1: relu
            c2: conv 4 1x1 sigmoid
            t: tanh
            """)
        let program = lower(net)
        // r0 reads stem, but add also reads stem: r0 stays. r1 fuses into the add. The conv
        // that already has a sigmoid cannot take a tanh too.
        #expect(kinds(program) == ["conv", "relu", "conv", "add+relu", "conv+sigmoid", "tanh"])
    }

    @Test func deadBranchesAreDropped() throws {
        let net = try network("""
            input 4x4x2
            a: conv 2 1x1
            b: conv 2 1x1
            c: conv 2 1x1 from a
            """)
        let program = lower(net)
        #expect(program.steps.map(\.name) == ["a", "c"])
    }

    @Test func aNetworkOfIdentitiesCopies() throws {
        let net = try network("""
            input 4x4x2
            d: dropout 0.1
            """)
        let program = lower(net)
        #expect(kinds(program) == ["copy"])
        #expect(program.output != program.input)
    }

    @Test func weightsAreLaidOutAlignedAndDisjoint() throws {
        let program = lower(try model("lenet5"))
        let refs = program.steps.flatMap(\.kernel.weightRefs).sorted { $0.offset < $1.offset }
        for ref in refs { #expect(ref.offset % Passes.weightAlignment == 0) }
        for (a, b) in zip(refs, refs.dropFirst()) { #expect(a.offset + a.count <= b.offset) }
        #expect(refs.reduce(0) { $0 + $1.count } == 61_706)
    }

    @Test func packingTransposesFullyConnectedWeights() throws {
        let net = try network("""
            input 3
            out: fc 2
            """)
        let program = lower(net)
        let packed = try packWeights(program, weights: ["out.weight": [1, 2, 3, 4, 5, 6], "out.bias": [10, 20]])
        guard case .fullyConnected(let fc) = program.steps[0].kernel else { Issue.record("not fc"); return }
        #expect(Array(packed[fc.weight.offset..<(fc.weight.offset + 6)]) == [1, 4, 2, 5, 3, 6])
        #expect(Array(packed[fc.bias!.offset..<(fc.bias!.offset + 2)]) == [10, 20])
    }

    @Test func packingReportsAMissingTensor() throws {
        let program = lower(try network("input 3\nout: fc 2"))
        #expect(throws: WeightPackingError.self) { try packWeights(program, weights: ["out.weight": [1, 2, 3, 4, 5, 6]]) }
    }

    /// Folding is only right if the numbers are: a conv → batchnorm → relu with non-trivial
    /// statistics, compiled, against the reference interpreter that applies batchnorm itself.
    @Test(arguments: [Backend.c, Backend.swift])
    func foldedBatchNormComputesTheSame(_ backend: Backend) throws {
        let net = try network("""
            network folding
            input 7x6x3
            c: conv 5 3x3 pad 1
            bn: batchnorm eps 0.001
            r: relu
            g: conv 4 3x3 stride 2 groups 1 nobias
            bn2: batchnorm
            out: fc 3
            """)
        var weights = WeightInit.weights(for: net, seed: 7).tensors
        var generator = LCG(seed: 12345)
        func next() -> Float { generator.unit() }
        for layer in ["bn", "bn2"] {
            for key in ["weight", "bias", "running_mean", "running_var"] {
                let name = "\(layer).\(key)"
                let count = weights[name]!.elementCount
                let values = (0..<count).map { _ in key == "running_var" ? 0.2 + next() : next() * 2 - 1 }
                weights[name] = Tensor(shape: weights[name]!.shape, storage: values)
            }
        }
        let program = lower(net)
        #expect(program.steps.count == 3, "\(program.listing)")
        let input = randomInput(for: net, batch: 2, seed: 3)
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        let executor = try CompiledExecutor(backend: backend, network: net, weights: weights, cache: testCache)
        compare(try executor.run(input), reference, "folding/\(backend)")
    }
}
