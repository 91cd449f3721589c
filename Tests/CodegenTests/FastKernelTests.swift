import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing

/// The fast C kernels (KernelPlan.swift, FastCEmitter.swift) and the fast Swift ones
/// (FastSwiftEmitter.swift) against the reference interpreter within 1e-4 · max(1, max
/// |reference|): every conformance case, LeNet-5 and odd shapes, with Winograd on and with
/// --precise, on one and two threads (the Swift on two: BackendConformanceTests runs it on one).
@Suite struct FastKernelTests {
    static let variants = NamedCases<ExecutorOptions>([
        ("fast/1", ExecutorOptions(threads: 1)),
        ("fast/2", ExecutorOptions(threads: 2)),
        ("precise/1", ExecutorOptions(threads: 1, precise: true)),
        ("precise/2", ExecutorOptions(threads: 2, precise: true)),
        // The register blocking of the vector unit this machine does not have (AVX2's on an
        // AVX-512 machine, AVX-512's elsewhere): both plans are checked wherever the tests run.
        ("other-target/2", ExecutorOptions(threads: 2, target: otherTarget)),
        ("other-target-precise/1", ExecutorOptions(threads: 1, precise: true, target: otherTarget)),
        ("swift/2", ExecutorOptions(threads: 2)),
        // The Swift arithmetic spelled as on another machine: AVX2's halves on an AVX-512 one,
        // the standard library's lane loops elsewhere (FastSwiftSupport.arithmetic).
        ("swift-other-arithmetic/1", {
            var options = ExecutorOptions(threads: 1)
            options.swiftArithmetic = VectorTarget.host == .avx512 ? .avx2 : .generic
            return options
        }()),
    ])
    /// The backend a variant runs: the Swift kernels for the `swift` ones.
    static func backend(_ variant: String) -> Backend { variant.hasPrefix("swift") ? .swift : .c }
    static let otherTarget: VectorTarget = VectorTarget.host == .avx512 ? .avx2 : .avx512
    static let variantNames = variants.names

    /// The kernel plan the fast C backend runs `net` with under `options`.
    static func fastPlan(_ net: CheckedNetwork, _ options: ExecutorOptions,
                         sourceLocation: SourceLocation = #_sourceLocation) throws -> KernelPlan {
        try #require(lowerForC(net, options: options.kernelOptions).kernelPlan, sourceLocation: sourceLocation)
    }

    @Test(arguments: Conformance.cases, variantNames)
    func conformance(_ name: String, _ variant: String) throws {
        let (net, weights, input, expected) = try conformanceCase(name)
        let executor = try CompiledExecutor(backend: Self.backend(variant), network: net, weights: weights, options: Self.variants[variant],
                                            cache: testCache)
        let output = try executor.run(input)
        compare(output, expected, "\(name)/\(variant) vs ONNX Runtime")
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        compare(output, reference, "\(name)/\(variant) vs the reference interpreter")
    }

    @Test(arguments: variantNames)
    func lenet5(_ variant: String) throws {
        try expectFastAgreement(text: try String(contentsOf: Paths.models.appendingPathComponent("lenet5.cnn"), encoding: .utf8),
                                label: "lenet5", batch: 3, options: Self.variants[variant], backend: Self.backend(variant))
    }

    /// Shapes the blocked kernels must get right: channels that are not multiples of 16,
    /// width 1, strides, dilation, asymmetric padding, groups and depthwise (reference
    /// kernels between blocked ones), a residual add fused into a convolution, pooling,
    /// batchnorm that cannot be folded, LRN, concat and a planar softmax.
    static let oddNetworks = NamedCases<String>([
        ("channels", """
            input 13x11x5
            c1: conv 20 3x3 pad 1 relu
            c2: conv 7 3x3 stride 2 pad 1 leakyrelu 0.1
            c3: conv 33 1x1 elu
            c4: conv 16 5x5 pad same sigmoid
            fc 10 softmax
            """),
        ("width1", """
            input 1x19x3
            c1: conv 17 1x3 pad 1x0 relu
            c2: conv 32 1x5 dilation 2 pad same tanh
            p: maxpool 1x3 stride 1x2
            gp: globalavgpool
            fc 4
            """),
        // 5x5 and 7x7 taps whose one input block of weights overflows an AVX2 slice (25 and
        // 49 KiB against 10), a partial last input block and a fused add.
        ("large_taps", """
            input 13x11x40
            c1: conv 48 5x5 pad 2 relu
            c2: conv 48 5x5 pad 2 from c1
            s: add c2 c1 relu
            c3: conv 32 7x7 pad 3 tanh
            fc 5
            """),
        ("winograd", """
            input 25x19x64
            c1: conv 64 3x3 pad 1 relu
            c2: conv 96 3x3 pad 1
            c3: conv 64 3x3 pad 1 relu
            r: relu from c2
            c4: conv 64 3x3 pad 1 from r
            s: add c4 c3 relu
            c5: conv 128 3x3 pad 1 nobias
            bn: batchnorm
            act: relu
            gp: globalmaxpool
            fc 7
            """),
        // F(2x2, 5x5): bias and none, a batchnorm after, a fused add, and a last layer whose
        // 19x21 output leaves half tiles at the edges (and falls below AVX-512's threshold).
        ("winograd5", """
            input 21x23x64
            c1: conv 64 5x5 pad 2 relu
            c2: conv 96 5x5 pad 2 nobias
            bn: batchnorm
            r: relu
            c3: conv 64 5x5 pad 2
            s: add c3 c1 relu
            c4: conv 64 5x5 pad 1 tanh
            gp: globalavgpool
            fc 6
            """),
        ("resnet_block", """
            input 16x16x3
            c0: conv 32 7x7 stride 2 pad 3 nobias
            b0: batchnorm
            r0: relu
            m: maxpool 3x3 stride 2 pad 1
            a1: conv 32 3x3 pad 1 nobias from m
            ab1: batchnorm
            ar1: relu
            a2: conv 32 3x3 pad 1 nobias
            ab2: batchnorm
            o1: add ab2 m relu
            d1: conv 64 1x1 stride 2 nobias from o1
            db1: batchnorm
            e1: conv 64 3x3 stride 2 pad 1 nobias from o1
            eb1: batchnorm
            o2: add eb1 db1 relu
            avg: globalavgpool
            fc 10
            """),
        ("groups", """
            input 12x12x16
            c1: conv 32 3x3 pad 1 relu
            g: conv 32 3x3 groups 4 pad 1 relu
            d: depthwise 3x3 pad 1 multiplier 2
            c2: conv 24 3x3 stride 2 dilation 2 pad 2 relu
            ap: avgpool 3x3 stride 2 pad 1
            fc 5 softmax
            """),
        ("alexnet_like", """
            input 35x35x3
            c1: conv 48 11x11 stride 4 pad 2 relu
            p1: maxpool 3x3 stride 2
            n1: lrn size 5 alpha 0.0001 beta 0.75 k 2
            c2: conv 64 5x5 pad 2 relu
            n2: lrn size 3 alpha 0.001 beta 0.6 k 1
            c3: conv 32 3x3 pad 1 relu from n2
            c4: conv 32 3x3 pad 1 relu from n2
            cat: concat c3 c4
            c5: conv 24 1x1 relu
            cat2: concat c5 c3
            fc 30 relu
            dropout 0.5
            fc 8 softmax
            """),
        ("pairs", """
            input 12x7x3
            c1: conv 6 3x3 pad 0x1 leakyrelu 0.2
            c2: conv 8 5x5 stride 1 relu from input
            c3: conv 5 1x1 tanh from c1
            m: maxpool 2x2 stride 2 from c2
            fc 9
            """),
        ("planar_softmax", """
            input 9x7x4
            c1: conv 6 3x3 pad 1 softmax
            c2: conv 16 4x4 pad same relu
            c2b: conv 16 3x3 stride 2 pad same relu
            bn: batchnorm
            ap: avgpool 2x2 stride 2 pad 1 round ceil
            c3: conv 16 3x3 pad 1
            sm: softmax
            """),
    ])

    @Test(arguments: oddNetworks.names, variantNames)
    func oddShapes(_ name: String, _ variant: String) throws {
        let text = Self.oddNetworks[name]
        try expectFastAgreement(text: text, label: name, batch: 2, options: Self.variants[variant], backend: Self.backend(variant))
    }

    /// A residual add fused into the paired first-layer kernel (at most 8 filters on the planar
    /// input, stride 1, no padding, even output width), whose epilogue once dropped it.
    static let pairedResiduals = NamedCases<String>([
        ("pairadd", """
            input 8x8x3
            a: conv 4 3x3 from input
            b: conv 4 3x3 from input
            s: add a b
            """),
        ("pairadd8_relu", """
            input 8x8x3
            a: conv 8 3x3 from input
            b: conv 8 3x3 from input
            s: add a b relu
            """),
        ("pairadd_ba", """
            input 8x8x3
            a: conv 4 3x3 nobias from input
            b: conv 4 3x3 from input
            s: add b a
            """),
        // Each add fused into the paired convolution that runs last; then a blocked layer.
        ("pairadd_chain", """
            input 10x12x3
            a: conv 6 3x3 from input
            b: conv 6 3x3 from input
            s: add a b relu
            c: conv 6 3x3 from input
            t: add c s leakyrelu 0.1
            d: conv 16 3x3 pad 1 relu
            """),
        // 14 pairs a row: two strips of 5 and one of 4 on AVX2, one of 14 on AVX-512.
        ("pairadd5x5", """
            input 32x32x3
            a: conv 8 5x5 from input
            b: conv 8 5x5 from input
            s: add a b tanh
            """),
    ])

    @Test(arguments: pairedResiduals.names, variantNames)
    func pairedResidual(_ name: String, _ variant: String) throws {
        let text = Self.pairedResiduals[name]
        let options = Self.variants[variant]
        // The add is fused into a paired convolution (a second input), not run on its own.
        let plan = try Self.fastPlan(network(text), options)
        #expect(plan.steps.contains { step in
            if case .directConvolution(let d) = step.kernel { return d.pairs && step.inputs.count == 2 }
            return false
        }, "\(name): \(plan.listing)")
        try expectFastAgreement(text: text, label: name, batch: 2, options: options, backend: Self.backend(variant))
    }

    /// Winograd's transforms amplify their inputs (Bᵀ d B by up to 100): at 1e37, whose direct
    /// convolution is finite, they overflowed and every output was NaN. Tiles whose result is
    /// not finite are recomputed directly (WinogradFallback.swift), with the residual and the
    /// activation of a fused add.
    static let largeInputs = NamedCases<String>([
        ("f43", """
            input 20x20x64
            c: conv 64 3x3 pad 1
            """),
        ("f25", """
            input 20x20x64
            c: conv 64 5x5 pad 2
            """),
        ("f43_residual", """
            input 20x20x64
            c1: conv 64 3x3 pad 1 from input
            c2: conv 64 3x3 pad 1 nobias from input
            s: add c2 c1 relu
            """),
    ])

    @Test(arguments: largeInputs.names, variantNames)
    func winogradLargeInputs(_ name: String, _ variant: String) throws {
        let net = try network(Self.largeInputs[name])
        let options = Self.variants[variant]
        let plan = try Self.fastPlan(net, options)
        let winograd = plan.steps.filter { if case .winogradConvolution = $0.kernel { return true }; return false }
        #expect(winograd.isEmpty == options.precise, "\(name)/\(variant): \(plan.listing)")
        let weights = WeightInit.weights(for: net, seed: 1).tensors
        let input = Tensor(shape: [2] + net.input.dimensions, storage: [Float](repeating: 1e37, count: 2 * net.input.elementCount))
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        #expect(reference.storage.allSatisfy(\.isFinite) && (reference.storage.map(abs).max() ?? 0) > 1e36)
        let executor = try CompiledExecutor(backend: Self.backend(variant), network: net, weights: weights, options: options,
                                            cache: testCache)
        compare(try executor.run(input), reference, "\(name)/\(variant) at 1e37")
    }

    /// inf and NaN in the input give inf and NaN where the reference interpreter gives them
    /// (the direct convolution's reach, not a whole Winograd tile), and the same values elsewhere.
    @Test(arguments: ["f43", "f25"], variantNames)
    func winogradNonFiniteInputs(_ name: String, _ variant: String) throws {
        let net = try network(Self.largeInputs[name])
        let weights = WeightInit.weights(for: net, seed: 1).tensors
        var input = randomInput(for: net, batch: 2, seed: 7)
        let plane = 20 * 20
        // Image 0: +inf inside a tile, -inf where two tiles' windows overlap, NaN at a corner;
        // image 1: inf and -inf reaching the same outputs (NaN there), a NaN on the bottom edge.
        for (image, channel, y, x, value) in [(0, 3, 5, 6, Float.infinity), (0, 40, 12, 3, -Float.infinity),
                                              (0, 63, 0, 19, Float.nan), (1, 0, 9, 9, Float.infinity),
                                              (1, 1, 9, 10, -Float.infinity), (1, 17, 19, 8, Float.nan)] {
            input.storage[((image * 64 + channel) * plane) + y * 20 + x] = value
        }
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        let executor = try CompiledExecutor(backend: Self.backend(variant), network: net, weights: weights, options: Self.variants[variant],
                                            cache: testCache)
        let output = try executor.run(input)
        let finite = reference.storage.filter(\.isFinite)
        #expect(finite.count < reference.storage.count && finite.count > reference.storage.count / 2)
        let tolerance = 1e-4 * max(1, finite.map(abs).max() ?? 0)
        var mismatches: [String] = []
        for i in reference.storage.indices {
            let (o, r) = (output.storage[i], reference.storage[i])
            let same = r.isNaN ? o.isNaN : r.isInfinite ? o == r : o.isFinite && abs(o - r) <= tolerance
            if !same { mismatches.append("element \(i): \(o), expected \(r)") }
        }
        #expect(mismatches.count == 0, "\(name)/\(variant): \(mismatches.prefix(5))")
    }

    /// fc layers at a batch that takes two passes over each weight tile, output counts that
    /// leave a partial tile, a blocked and a planar input.
    @Test(arguments: variantNames)
    func fullyConnectedBatches(_ variant: String) throws {
        let text = """
            input 5x3x20
            c1: conv 24 3x3 pad 1 relu
            f1: fc 70 relu
            f2: fc 45
            f3: fc 32 sigmoid
            """
        try expectFastAgreement(text: text, label: "fc_batches", batch: 11, options: Self.variants[variant], backend: Self.backend(variant))
    }

    /// The fast plan uses the blocked kernels it is meant to: LeNet's convolutions direct,
    /// ResNet's residual adds fused, 3x3 and 5x5 layers Winograd unless precise.
    @Test func planChoices() throws {
        let lenet = lowerForC(try model("lenet5"), options: KernelOptions(target: .avx512))
        let plan = try #require(lenet.kernelPlan)
        #expect(plan.steps.filter { if case .directConvolution = $0.kernel { return true }; return false }.count == 2)
        #expect(plan.steps.contains { if case .directConvolution(let d) = $0.kernel { return d.pairs }; return false })
        #expect(plan.steps.filter { if case .fullyConnected = $0.kernel { return true }; return false }.count == 3)
        #expect(!plan.steps.contains { $0.kernel == .reference })

        let resnet = try model("resnet18")
        let fast = try #require(lowerForC(resnet, options: KernelOptions(target: .avx512)).kernelPlan)
        let adds = fast.steps.filter { $0.name.hasSuffix(".out") }
        #expect(adds.count == 8 && adds.allSatisfy { $0.inputs.count == 2 })
        #expect(!fast.steps.contains { $0.kernel == .reference })
        let odd = try network(Self.oddNetworks["winograd"])
        let winograd = try #require(lowerForC(odd, options: KernelOptions(target: .avx512)).kernelPlan)
        #expect(winograd.steps.filter { if case .winogradConvolution = $0.kernel { return true }; return false }.count == 5)
        #expect(winograd.steps.contains { $0.inputs.count == 2 && $0.name.hasSuffix("+s") })
        let odd5 = try network(Self.oddNetworks["winograd5"])
        for target in [VectorTarget.avx2, .avx512] {
            let plan = try #require(lowerForC(odd5, options: KernelOptions(target: target)).kernelPlan)
            let fives = plan.steps.compactMap { if case .winogradConvolution(let w) = $0.kernel { return w }; return nil }
            #expect(fives.count == (target == .avx2 ? 4 : 3) && fives.allSatisfy { $0.tile == 2 && $0.taps == 5 }, "\(target): \(fives)")
            #expect(plan.steps.contains { $0.inputs.count == 2 && $0.name.hasSuffix("+s") })
        }
        let precise = try #require(lowerForC(try model("vgg16"), options: KernelOptions(winograd: false, target: .avx512)).kernelPlan)
        #expect(!precise.steps.contains { if case .winogradConvolution = $0.kernel { return true }; return false })
    }

    /// The Swift kernels' plan (KernelCapabilities.swiftKernels) keeps every kernel Swift has:
    /// LeNet-5's is the C's (paired first layer, blocked pools, fc); ResNet-18 keeps Winograd,
    /// its zero-bordered copies and strips across rows with no reference step.
    @Test func swiftPlanChoices() throws {
        let swift = KernelOptions(target: .avx2, language: .swift)
        let lenet = try model("lenet5")
        let swiftLenet = try #require(lowerForC(lenet, options: swift).kernelPlan)
        #expect(swiftLenet.listing == (try #require(lowerForC(lenet, options: KernelOptions(target: .avx2)).kernelPlan)).listing)
        let resnet = try #require(lowerForC(try model("resnet18"), options: swift).kernelPlan)
        #expect(!resnet.steps.contains { $0.kernel == .reference })
        #expect(resnet.steps.contains { if case .winogradConvolution = $0.kernel { return true }; return false })
        #expect(resnet.steps.contains { if case .pad = $0.kernel { return true }; return false })
        #expect(resnet.steps.contains { if case .directConvolution(let d) = $0.kernel { return d.flat && d.prepadded }; return false })
        // Depthwise and grouped layers keep their kernels; the channel ops Swift lacks (concat
        // here) run the reference kernel between reorders.
        let depthwise = try #require(lowerForC(try network("input 16x16x32\nd: depthwise 3x3 pad 1\ng: conv 32 3x3 groups 2 pad 1\n"),
                                               options: swift).kernelPlan)
        #expect(!depthwise.steps.contains { $0.kernel == .reference })
        #expect(depthwise.steps.contains { if case .depthwiseConvolution = $0.kernel { return true }; return false })
        #expect(depthwise.steps.contains { if case .directConvolution(let d) = $0.kernel { return d.grouped != nil }; return false })
        let concat = try #require(lowerForC(try network("input 8x8x16\na: conv 16 1x1\nb: conv 16 1x1 from input\nc: concat a b\n"),
                                            options: swift).kernelPlan)
        #expect(concat.steps.contains { $0.kernel == .reference })
    }

    /// Each target's blocking keeps its accumulators within its registers: AVX-512 2 blocks x
    /// 14 pixels over all input channels at once; AVX2 1 block x at most 6 pixels, sweeping
    /// an L1-sized slice of the weights (at most 10 KiB) at a time.
    @Test func registerBlockingPerTarget() throws {
        let vgg = try model("vgg16")
        func directs(_ target: VectorTarget) throws -> [DirectConvolution] {
            let plan = try #require(lowerForC(vgg, options: KernelOptions(winograd: false, target: target)).kernelPlan)
            return plan.steps.compactMap { if case .directConvolution(let d) = $0.kernel { return d }; return nil }
        }
        let wide = try directs(.avx512)
        #expect(wide.count == 13)
        #expect(wide.allSatisfy { $0.outputBlocks == 2 && $0.strip <= 14 && $0.inputBlocksPerPass == nil })
        #expect(wide.contains { $0.strip == 14 })
        let narrow = try directs(.avx2)
        #expect(narrow.count == 13)
        #expect(narrow.allSatisfy { $0.outputBlocks == 1 && $0.strip <= 6 })
        // 3x3 weights of one 16-channel input block for 16 outputs: 9·16·16·4 = 9,216 bytes, one per slice.
        #expect(narrow.dropFirst().allSatisfy { $0.inputBlocksPerPass == 1 })
        // Each slice sweeps as many rows as keep their partial sums and its input rows within
        // 160 KiB: 224-wide conv2 160 KiB / ((224 + 224) · 64 B) = 5 rows,
        // 14-wide conv13 (16-wide copy) 85, which is all 14 rows; unsliced layers sweep them all.
        #expect(narrow.dropFirst().first?.sweepRows == 5)
        #expect(narrow.last?.sweepRows == 85)
        #expect(narrow.first?.sweepRows == nil && wide.allSatisfy { $0.sweepRows == nil })
        // VGG's zero-bordered 56-, 28- and 14-wide rows and AlexNet's 13-wide ones take whole-row
        // strips in the fewest calls, as even as they go; a 7-wide row (4 + 3, a strip of 3 pixels
        // keeps 6 accumulators, fewer than the FMA latency needs) runs strips of 6 on across row ends.
        for (width, strip, expected) in [(56, 6, (6, 6, 4)),     // 6 x 6 + 4 x 5, not 9 x 6 + 2
                                         (28, 6, (6, 3, 2)), (14, 5, (5, 2, 1)),
                                         (13, 5, (5, 1, 2)),     // 5 + 4 + 4, not 5 + 5 + 3
                                         (11, 5, (4, 2, 1)),     // 4 + 4 + 3, not 5 + 5 + 1
                                         (7, 4, (4, 1, 1)), (12, 6, (6, 2, 0)), (3, 6, (3, 1, 0))] {
            let split = DirectConvolution.rowStrips(width: width, strip: strip)
            #expect(split == expected, "\(width) in strips of at most \(strip): \(split)")
            #expect(split.pixels * split.wide + (split.pixels - 1) * split.narrow == width && split.pixels <= strip)
        }
        let prepadded = narrow.filter(\.prepadded)
        #expect(prepadded.count == 9 && prepadded.allSatisfy { !$0.flat && $0.strip >= 5 })
        #expect(wide.filter(\.flat).isEmpty)
        for (name, widths) in [("alexnet", Set<Int>()), ("resnet18", [7])] {
            let plan = try #require(lowerForC(try model(name), options: KernelOptions(winograd: false, target: .avx2)).kernelPlan)
            let flat = plan.steps.compactMap { step -> Int? in
                guard case .directConvolution(let d) = step.kernel, d.flat else { return nil }
                #expect(d.strip == 6)
                return plan.values[step.output].shape.width
            }
            #expect(Set(flat) == widths, "\(name): \(flat)")
        }
        // The odd shapes keep the flat path under test against the reference (`channels`: 7-wide layers).
        let channels = try network(Self.oddNetworks["channels"])
        let channelsPlan = try #require(lowerForC(channels, options: KernelOptions(target: .avx2)).kernelPlan)
        #expect(channelsPlan.steps.contains { if case .directConvolution(let d) = $0.kernel { return d.flat }; return false })
        #expect(narrow.first?.planarInput == true && narrow.first?.inputBlocksPerPass == nil)
        let winograd = try #require(lowerForC(vgg, options: KernelOptions(target: .avx2)).kernelPlan)
        func winogradSteps(_ plan: KernelPlan) -> [WinogradConvolution] {
            plan.steps.compactMap { if case .winogradConvolution(let w) = $0.kernel { return w }; return nil }
        }
        // Winograd's GEMM has the direct kernels' blocking: 1 block x 6 tiles on AVX2, 2 x 6 on
        // AVX-512; on AVX2 it also takes VGG's 14x14 layers (not 7x7 ones: see winogradMinimumPixels).
        let tiles = winogradSteps(winograd)
        #expect(tiles.count == 12 && tiles.allSatisfy { $0.tilesPerCall == 6 && $0.outputBlocks == 1 })
        let wideTiles = winogradSteps(try #require(lowerForC(vgg, options: KernelOptions(target: .avx512)).kernelPlan))
        #expect(wideTiles.count == 9 && wideTiles.allSatisfy { $0.tilesPerCall == 6 && $0.outputBlocks == 2 })
        // 56x56 outputs are 196 tiles: groups of 54, 54, 54 and 34, not 60, 60, 60 and 16, which
        // leave one thread the small group while the other does two large ones.
        let resnet = winogradSteps(try #require(lowerForC(try model("resnet18"), options: KernelOptions(target: .avx2)).kernelPlan))
        #expect(resnet.first?.tileGroup == 54, "\(resnet)")
        let fc = winograd.steps.compactMap { if case .fullyConnected(let f) = $0.kernel { return f }; return nil }
        #expect(fc.count == 3 && fc.allSatisfy { $0.imagesPerPass == 6 && $0.outputBlocks == 1 })
    }

    /// The direct kernels' reduction over input channels: two steps a trip on AVX2, rolled on
    /// NEON (whose unrolled steps would overflow its 32 registers), the compiler's on AVX-512.
    @Test func reductionUnrollPerTarget() throws {
        let vgg = try model("vgg16")
        func loops(_ target: VectorTarget) throws -> (pairs: Int, rolled: Int) {
            let text = try emitC(lowerForC(vgg, options: KernelOptions(winograd: false, target: target))).implementation.contents
            let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            return (lines.filter { $0 == "CNNC_UNROLL2" }.count, lines.filter { $0 == "CNNC_NO_UNROLL" }.count)
        }
        let avx2 = try loops(.avx2), neon = try loops(.neon), avx512 = try loops(.avx512)
        // The 12 3x3 layers after the planar first one, each with strips of several widths.
        #expect(avx2.pairs >= 12 && avx2.rolled == 0, "\(avx2)")
        #expect(neon.rolled == avx2.pairs && neon.pairs == 0, "\(neon)")
        #expect(avx512 == (0, 0), "\(avx512)")
    }
}

/// `text` with WeightInit weights (seed 3) through the fast C kernels against the reference
/// interpreter; batchnorm statistics are randomised so folding is exercised.
func expectFastAgreement(text: String, label: String, batch: Int, options: ExecutorOptions, backend: Backend = .c,
                         sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
    let net = try network(text, path: "\(label).cnn")
    var weights = WeightInit.weights(for: net, seed: 3).tensors
    var generator = LCG(seed: 0x1234_5678)
    func next() -> Float { generator.unit() }
    for key in weights.keys.sorted() {
        if key.hasSuffix(".running_var") || key.hasSuffix(".weight") && weights[key.replacingOccurrences(of: ".weight", with: ".running_var")] != nil {
            weights[key]!.storage = weights[key]!.storage.map { _ in 0.5 + next() }
        } else if key.hasSuffix(".running_mean") || key.hasSuffix(".bias") {
            weights[key]!.storage = weights[key]!.storage.map { _ in (next() - 0.5) * 0.4 }
        }
    }
    let input = randomInput(for: net, batch: batch, seed: 5)
    let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
    let executor = try CompiledExecutor(backend: backend, network: net, weights: weights, options: options, cache: testCache)
    compare(try executor.run(input), reference, "\(label)/\(backend)/threads \(options.threads)/precise \(options.precise)",
            sourceLocation: sourceLocation)
}

/// AlexNet, VGG-16 and ResNet-18 through the fast kernels (Winograd on and --precise, one and
/// two threads) against the reference interpreter, run once per network. Slow in a debug
/// build: `CNNC_LARGE_TESTS=1 swift test -c release --filter LargeFastKernelTests`.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["CNNC_LARGE_TESTS"] == "1"))
struct LargeFastKernelTests {
    @Test(arguments: ["alexnet", "vgg16", "resnet18"])
    func fastKernels(_ name: String) throws {
        let net = try model(name)
        let weights = weightsWithBatchNormStatistics(for: net)
        let input = randomInput(for: net, batch: 2, seed: 11)
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        for (label, options) in FastKernelTests.variants.cases {
            let executor = try CompiledExecutor(backend: FastKernelTests.backend(label), network: net, weights: weights, options: options,
                                                cache: testCache)
            compare(try executor.run(input), reference, "\(name)/\(label)")
        }
    }
}
