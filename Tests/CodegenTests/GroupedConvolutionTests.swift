@testable import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing

/// Depthwise and grouped convolutions in the fast C and Swift kernels (issues #18, #22): against the reference
/// interpreter on the shapes that break blocked kernels, and the plan they get (blocked, no
/// reorders around them, the reference kernel only where blocks would be mostly zeros).
@Suite struct GroupedConvolutionTests {
    static let variants = NamedCases<ExecutorOptions>([
        ("fast/1", ExecutorOptions(threads: 1)),
        ("fast/2", ExecutorOptions(threads: 2)),
        ("other-target/2", ExecutorOptions(threads: 2, target: FastKernelTests.otherTarget)),
        ("swift/2", ExecutorOptions(threads: 2)),
    ])

    static let networks = NamedCases<String>([
        // Every tap size, both strides on odd and even sizes, edge columns on both sides,
        // channels that are not multiples of 16, with and without bias, the mobile epilogues.
        ("depthwise", """
            input 15x13x20
            a: conv 20 1x1 relu6
            b: depthwise 3x3 pad 1 relu6
            c: depthwise 5x5 stride 2 pad 2 hardswish
            d: depthwise 7x7 pad 3 nobias silu
            e: depthwise 3x3 stride 2 pad 1 nobias
            f: conv 33 1x1
            g: depthwise 3x3 dilation 2 pad 2 hardsigmoid
            gp: globalavgpool
            fc 5
            """),
        ("depthwise_width1", """
            input 1x11x17
            a: depthwise 3x3 pad 1 relu
            b: depthwise 1x5 stride 2 pad 0x2
            c: depthwise 3x3 stride 2 pad 1 relu6
            """),
        // Multipliers: a divisor of 16, one that is not, and channels past a block.
        ("multiplier", """
            input 9x7x5
            a: depthwise 3x3 pad 1 multiplier 2 relu
            b: depthwise 3x3 multiplier 3 pad 1 nobias
            c: depthwise 5x5 stride 2 pad 2 multiplier 5
            """),
        // No padding (every column interior), a 2x3 window, a 1x1 image.
        ("depthwise_valid", """
            input 9x6x48
            a: depthwise 3x2 relu
            b: depthwise 3x3 stride 2
            c: depthwise 3x3 pad 1 from input
            p: globalmaxpool from c
            d: depthwise 1x1 multiplier 2
            """),
        // Edge columns: more than DepthwiseGeometry.unrolledEdges (a dilation of 5, ten edges, one
        // pixel at a time from a table), one whose taps all fall in the padding, and interiors
        // of fewer pixels than a strip and of a strip and some (the shorter strip).
        ("depthwise_edges", """
            input 12x7x20
            a: depthwise 3x3 dilation 5 pad 5 relu
            b: depthwise 3x3 pad 3 silu
            c: depthwise 5x5
            d: depthwise 3x3 pad 1 from input
            s: add c d
            """),
        // Groups of whole blocks (16 and 32 channels), of 4 and 8 in one block, and of 24 and
        // 12 that straddle blocks; a fused residual; a sliced reduction (512 channels of 5x5).
        ("grouped", """
            input 10x9x64
            a: conv 64 3x3 pad 1 groups 4 relu
            b: conv 64 3x3 pad 1 groups 16 nobias
            c: conv 64 3x3 pad 1 groups 2
            s: add c a relu
            d: conv 96 1x1 groups 8
            e: conv 48 3x3 stride 2 pad 1 groups 2 relu
            f: conv 72 3x3 pad 1 groups 3
            g: conv 24 3x3 pad 1 groups 2 dilation 2 from input
            """),
        ("grouped_sliced", """
            input 7x7x256
            a: conv 256 5x5 pad 2 groups 2 relu
            b: conv 128 3x3 stride 2 pad 1 groups 8
            """),
        // ResNeXt's and RegNet's bottleneck, and a group of 2 channels (reference kernel).
        ("resnext_block", """
            input 14x14x64
            r: conv 128 1x1 nobias
            rb: batchnorm
            rr: relu
            g: conv 128 3x3 pad 1 groups 32 nobias
            gb: batchnorm
            gr: relu
            p: conv 64 1x1 nobias
            pb: batchnorm
            o: add pb input relu
            two: conv 64 3x3 pad 1 groups 32
            """),
        // MobileNetV2's and EfficientNet's blocks: expand, depthwise, squeeze-excitation, project.
        ("inverted_residual", """
            input 12x12x24
            e: conv 96 1x1 nobias
            eb: batchnorm
            er: relu6
            d: depthwise 3x3 pad 1 nobias
            db: batchnorm
            dr: silu
            sq: globalavgpool
            s1: conv 8 1x1 silu
            s2: conv 96 1x1 sigmoid
            m: mul s2 dr
            p: conv 24 1x1 nobias
            pb: batchnorm
            o: add pb input
            """),
    ])

    @Test(arguments: networks.names, variants.names)
    func agreesWithTheReference(_ name: String, _ variant: String) throws {
        try expectFastAgreement(text: Self.networks[name], label: name, batch: 2, options: Self.variants[variant],
                                backend: FastKernelTests.backend(variant))
    }

    func plan(_ text: String) throws -> KernelPlan {
        try #require(lowerForC(try network(text, path: "plan.cnn"), options: KernelOptions(target: .avx2)).kernelPlan)
    }

    /// Every depthwise layer runs the depthwise kernel, on the blocked values its neighbours
    /// write: no reorder anywhere between the first conv and the last layer.
    @Test func depthwiseLayersStayBlocked() throws {
        let plan = try plan(Self.networks["depthwise"])
        let depthwise = plan.steps.filter { if case .depthwiseConvolution = $0.kernel { return true }; return false }
        #expect(depthwise.map(\.name) == ["b", "c", "d", "e", "g"])
        let reorders = plan.steps.filter { $0.kernel == .toPlanar || $0.kernel == .toBlocked || $0.kernel == .reference }
        #expect(reorders.map(\.name) == ["input (reorder)"], "\(plan.listing)")
    }

    /// Squeeze-excitation's pooled vector is written blocked for the 1x1 convolutions that
    /// read it; a classifier's is written planar for its fc.
    @Test func squeezeExcitationPoolsBlocked() throws {
        let plan = try plan(Self.networks["inverted_residual"] + "\ngp: globalavgpool\nfc 3")
        let pools = plan.steps.filter { $0.name == "sq" || $0.name == "gp" }.map { plan.values[$0.output].layout }
        #expect(pools == [.blocked, .planar])
        let squeeze = try #require(plan.steps.first { $0.name == "s1" })
        #expect(plan.steps.first { $0.output == squeeze.inputs[0] }?.name == "sq")
    }

    @Test func multipliersGatherTheirInputLanes() throws {
        let plan = try plan(Self.networks["multiplier"])
        let multipliers = plan.steps.compactMap { if case .depthwiseConvolution(let d) = $0.kernel { return d.multiplier }; return nil }
        #expect(multipliers == [2, 3, 5])
        // One gathered input plane of 16 lanes per thread: the largest input, 9x7.
        #expect(plan.scratchElements == 9 * 7 * 16)
    }

    /// Groups of whole channel blocks run the direct kernel over their own input blocks; the
    /// others (groups of 2, 4 or 8 channels, or of 24 outputs) stay with the reference kernel.
    @Test func groupedInputBlocks() throws {
        let plan = try plan("""
            input 10x9x64
            a: conv 64 3x3 pad 1 groups 4 relu
            b: conv 64 3x3 pad 1 groups 16 nobias
            c: conv 64 3x3 pad 1 groups 2
            s: add c a relu
            d: conv 96 1x1 groups 8
            f: conv 72 3x3 pad 1 groups 3
            k: conv 16 1x1
            h: conv 16 3x3 pad 1 groups 8
            """)
        var blocks: [String: GroupedInput] = [:]
        for step in plan.steps {
            if case .directConvolution(let d) = step.kernel, let grouped = d.grouped { blocks[step.name] = grouped }
        }
        #expect(blocks["a"] == GroupedInput(inputBlocks: 1, firstBlocks: [0, 1, 2, 3]))
        #expect(blocks["c+s"] == GroupedInput(inputBlocks: 2, firstBlocks: [0, 0, 2, 2]))
        // Groups of 4 and 8 input channels share blocks, and groups of 24 outputs straddle
        // them: a NaN in one group would reach another through the zero weights (fuzz seed
        // 2287), so those run the reference kernel.
        #expect(blocks["b"] == nil && blocks["d"] == nil && blocks["f"] == nil)
        #expect(blocks["h"] == nil)
        #expect(plan.steps.first { $0.name == "h" }?.kernel == .reference)
    }

    /// A grouped convolution's packed weights hold its group's filters and zeros for the
    /// channels of the other groups in the blocks it reads.
    @Test func groupedPackingZeroesOtherGroups() throws {
        // 32 outputs, 32 inputs, 4 groups of 8: output block 0 (groups 0, 1) reads input block 0.
        let layout = PackedLayout.groupedConvolution(outputs: 32, inputs: 32, groups: 4, kernelHeight: 1, kernelWidth: 1,
                                                     outputBlocks: 1, inputBlocks: 1, firstBlocks: [0, 1])
        let values = (0..<32 * 8).map { Float($0 + 1) }    // w[k][c] = 8k + c + 1
        let packed = try layout.pack(values)
        #expect(packed.count == 2 * 16 * 16)
        // Row c (input channel), lane k (output channel) of output block 0.
        func at(_ block: Int, _ c: Int, _ k: Int) -> Float { packed[(block * 16 + c) * 16 + k] }
        #expect(at(0, 3, 2) == Float(2 * 8 + 3 + 1))    // output 2, group 0, input 3
        #expect(at(0, 9, 2) == 0)                        // input 9 is group 1's
        #expect(at(0, 9, 10) == Float(10 * 8 + 1 + 1))   // output 10, group 1, input 9 (its 2nd)
        #expect(at(1, 0, 0) == Float(16 * 8 + 1))        // output 16, group 2, input 16
        #expect(packed.filter { $0 != 0 }.count == 32 * 8)
    }
}

/// The mobile networks of models/torchvision through the fast kernels against the reference
/// interpreter, one image each. Slow in a debug build: `CNNC_LARGE_TESTS=1 swift test -c
/// release -Xswiftc -enable-testing --filter LargeMobileNetworkTests`.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["CNNC_LARGE_TESTS"] == "1"))
struct LargeMobileNetworkTests {
    @Test(arguments: ["mobilenet_v2", "mobilenet_v3_large", "mnasnet1_0", "efficientnet_b0", "shufflenet_v2_x1_0",
                      "regnet_x_400mf", "resnext50_32x4d"])
    func fastKernels(_ name: String) throws {
        let net = try model("torchvision/" + name)
        let weights = weightsWithBatchNormStatistics(for: net)
        let input = randomInput(for: net, batch: 1, seed: 11)
        let interpreter = try ReferenceInterpreter(network: net, weights: weights)
        let reference = try interpreter.run(input)
        // With random weights these deep networks amplify rounding: outputs reach 10³ and two
        // correct summation orders drift apart layer by layer (mobilenet_v3_large, truncated
        // after each block: the fast C's and the Swift backend's relative errors both grow from
        // 3e-7 to 3e-5, the fast C's the smaller). So besides 1e-4·max|y|, a backend may differ
        // from the reference by as much as 4x the plain Swift backend does, or 16x what the
        // reference itself moves when every input moves by about one ulp.
        func distance(_ a: Tensor, _ b: Tensor) -> Float { zip(a.storage, b.storage).map { abs($0 - $1) }.max() ?? .infinity }
        let nudged = try interpreter.run(Tensor(shape: input.shape, storage: input.storage.map { $0 * (1 + 0x1p-23) }))
        let sensitivity = distance(reference, nudged)
        let plain = try CompiledExecutor(backend: .swift, network: net, weights: weights,
                                         options: ExecutorOptions(threads: 1, plainKernels: true), cache: testCache).run(input)
        let plainError = distance(plain, reference)
        let scale = reference.storage.map { abs($0) }.max() ?? 0
        let tolerance = max(1e-4 * max(1, scale), 16 * sensitivity, 4 * plainError)
        for (label, options) in GroupedConvolutionTests.variants.cases {
            let executor = try CompiledExecutor(backend: FastKernelTests.backend(label), network: net, weights: weights, options: options,
                                                cache: testCache)
            let output = try executor.run(input)
            #expect(output.shape == reference.shape)
            #expect(!output.storage.contains { $0.isNaN } && !reference.storage.contains { $0.isNaN })
            let error = distance(output, reference)
            #expect(error <= tolerance, "\(name)/\(label): error \(error), tolerance \(tolerance) (max |y| \(scale); the Swift backend's error \(plainError); the reference moves \(sensitivity) for a one-ulp input change)")
        }
    }
}
