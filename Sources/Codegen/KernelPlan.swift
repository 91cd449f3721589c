import ShapeCheck

// Kernel selection for the fast C backend: which kernel computes each step, in which memory
// layout every tensor lives, and where each lives in the arena. Each step's schedule (loop
// variant, edge columns, bands, threads, prefetch, unroll) is chosen in KernelSchedule.swift
// from the target's numbers in TargetFacts.swift; the emitters only print the plan.
//
// Layouts. `planar` is PyTorch's [N, C, H, W], what the caller's input and output buffers
// hold. `blocked` is [N, ⌈C/16⌉, H, W, 16] (oneDNN's nChw16c): the 16 channels of one block
// at one pixel are 64 contiguous bytes, one AVX-512 register, so a convolution's
// micro-kernel keeps 16 output channels per register and broadcasts input values. Channels
// past C in the last block are padding lanes, which hold no promise (0·inf is NaN): no kernel
// reads one into a real channel (docs/codegen.md, "Padding lanes").
//
// The plan is a small program of its own over *plan values* (a program value in one layout,
// plus any copy of it in the other): convolutions, pooling, add, batchnorm, activations, LRN
// and concat run blocked when their inputs are blocked; a step with no blocked kernel runs
// the reference kernel of CKernels.swift on planar values, and a reorder step is inserted
// wherever a value is needed in the layout it does not have. A residual `add` is fused into
// the convolution that produces one of its inputs (the conv's epilogue adds the other input
// and applies the add's activation).
//
// Weights: the pass rewrites each fast step's weight recipes to `.packed(recipe, layout)`,
// so `packWeights` produces the blob in the kernels' layouts and the runtime still hands the
// generated code one float array.

/// What the fast C kernels may do.
public struct KernelOptions: Sendable, Hashable {
    /// Winograd F(4x4, 3x3) and F(2x2, 5x5) for 3x3 and 5x5 stride-1 convolutions where it
    /// pays; off with --precise, which keeps every convolution direct (only the summation
    /// order differs from the reference).
    public var winograd: Bool
    /// The vector unit whose registers the micro-kernels are blocked for.
    public var target: VectorTarget

    /// The target has no default: AVX-512's blocking run on AVX2 spills its 28 accumulators
    /// (ResNet-18's direct 3x3 layers at 17-30% of the peak against 60-74%, README), so every
    /// caller says which unit it means (`VectorTarget.host` in the runtime, `--target` on the
    /// command line).
    public init(winograd: Bool = true, target: VectorTarget) {
        self.winograd = winograd
        self.target = target
    }
}

/// Channels per block of the blocked layout (one AVX-512 register of floats).
public let channelBlock = 16

public enum ValueLayout: String, Sendable, Hashable {
    /// [N, C, H, W] (or [N, K] for a vector).
    case planar
    /// [N, ⌈C/16⌉, H, W, 16].
    case blocked
}

/// A tensor of the plan: a program value in one layout.
public struct PlanValue: Sendable, Equatable {
    /// The program value it holds.
    public var source: Int
    public var shape: TensorShape
    public var layout: ValueLayout

    /// Floats per image.
    public var elements: Int {
        layout == .blocked ? roundUp(shape.depth, to: channelBlock) * shape.height * shape.width : shape.elementCount
    }
}

/// How a direct convolution is blocked: `outputBlocks` blocks of 16 output channels per
/// micro-kernel call, `strip` output pixels of one row; and its whole schedule, every field
/// chosen by KernelPlanner (KernelSchedule.swift), so the emitter only prints it.
public struct DirectConvolution: Sendable, Equatable {
    public var outputBlocks: Int
    public var strip: Int
    /// The input is planar (a network's first layer reads the caller's [C, H, W] input).
    public var planarInput: Bool
    /// The input was copied into a zero-bordered buffer by a `pad` step, so every output
    /// pixel has all its taps and a strip may span whole output rows.
    public var prepadded: Bool = false
    /// The loop structure the emitter prints.
    public var variant: DirectVariant = .rowStrips
    /// How the reduction over input channel blocks is split.
    public var reduction: Reduction = .whole
    /// Output columns whose every tap is inside the input the kernel reads; the others are
    /// the edge columns, computed one pixel at a time with their own tap ranges.
    public var interior: Range<Int> = 0..<0
    public var edges: [EdgeColumn] = []
    /// Prefetch the next output channel group's weights while computing this one.
    public var prefetch: Bool = false
    /// Steps of the reduction over input channels per trip of the micro-kernel's loop (nil:
    /// the compiler unrolls it whole).
    public var reductionUnroll: Int? = nil
    /// Row bands per image (tasks are images x output channel groups x bands).
    public var bands: Int = 1

    /// Whole output rows per strip (1 unless the variant is `.wholeRows`).
    public var rows: Int { if case .wholeRows(let rows) = variant { rows } else { 1 } }
    /// At most 8 filters on a planar input, stride 1: each register holds the 8 channels of
    /// two adjacent pixels (lanes interleaved), and `strip` counts pixel pairs.
    public var pairs: Bool { variant == .paired }
    /// Strips run on across row ends.
    public var flat: Bool { variant == .flat }
    /// Input channel blocks reduced per sweep over a band's pixels (nil: all of them in one).
    public var inputBlocksPerPass: Int? { if case .sliced(let blocks, _) = reduction { blocks } else { nil } }
    /// Output rows swept by one slice of the weights before the next (nil: all of them).
    public var sweepRows: Int? { if case .sliced(_, let rows) = reduction { rows } else { nil } }

    /// Output pixels one sweep of a `.flat` band covers: `sweepRows` rows, rounded down to
    /// whole strips (at least one).
    public func flatSweepPixels(outputHeight: Int, outputWidth: Int) -> Int {
        max(strip, min(outputHeight, sweepRows ?? outputHeight) * outputWidth / strip * strip)
    }

    /// A row of `width` pixels in the fewest calls of at most `strip` pixels, as even as they
    /// go: `wide` strips of `pixels` and `narrow` of `pixels` − 1 (56 in strips of at most 6:
    /// 6 x 6 + 4 x 5 rather than 9 x 6 + 2, whose 2-pixel strip keeps fewer accumulators than
    /// the FMA latency needs; 11 in at most 5: 4 + 4 + 3).
    public static func rowStrips(width: Int, strip: Int) -> (pixels: Int, wide: Int, narrow: Int) {
        guard width > 0 else { return (max(1, strip), 0, 0) }
        let calls = (width + max(1, strip) - 1) / max(1, strip)
        let base = width / calls, extra = width % calls
        return extra == 0 ? (base, calls, 0) : (base + 1, extra, calls - extra)
    }
}

/// The schedule of a blocked pooling, element-wise or normalisation kernel.
public struct BlockedKernel: Sendable, Equatable {
    /// Elements of one image per task of an add or activation (nil for the other kernels).
    public var elementsPerTask: Int? = nil
    /// A max pooling whose windows all lie inside the input, with every tap unrolled and no
    /// bounds checks.
    public var unrolledTaps: Bool = false
}

/// Winograd F(m x m, r x r): each m x m output tile from a (m+r-1) x (m+r-1) input tile;
/// F(4x4, 3x3) and F(2x2, 5x5), both 6x6.
public struct WinogradConvolution: Sendable, Equatable {
    public var tile: Int
    /// The filter's size r (3 or 5).
    public var taps: Int = 3
    /// Output blocks of 16 per GEMM micro-kernel call and tiles per call.
    public var outputBlocks: Int
    public var tilesPerCall: Int
    /// Tiles transformed together (a group's transformed input stays in the thread's scratch).
    public var tileGroup: Int
    /// Tasks each tile group's output channel groups are split over.
    public var chunks: Int = 1
}

/// The fully connected kernel: outputs in tiles of 16·`outputBlocks`, each tile's weights
/// streamed once per `imagesPerPass` images.
public struct FullyConnected: Sendable, Equatable {
    public var outputBlocks: Int
    /// The input is a blocked volume (its weights are permuted to read it as it is).
    public var blockedInput: Bool
    public var imagesPerPass: Int = 8
    /// 16-float accumulators the micro-kernel keeps when few images split the reduction
    /// into chains (images x blocks x chains).
    public var accumulators: Int = 8
    /// Per batch of 1...imagesPerPass images, the partial sums each accumulator's reduction
    /// is split into.
    public var chains: [Int] = []
}

public enum PlanKernel: Sendable, Equatable {
    /// The program step's reference kernel (CKernels.swift) on planar values.
    case reference
    /// A convolution, direct; `inputs[1]`, when present, is a residual added before the activation.
    case directConvolution(DirectConvolution)
    case winogradConvolution(WinogradConvolution)
    case fullyConnected(FullyConnected)
    /// The blocked kernel of a pooling, global pooling, add, batchnorm, activation, LRN or concat step.
    case blocked(BlockedKernel)
    /// Layout changes.
    case toBlocked
    case toPlanar
    /// A blocked copy with `top` zero rows and `left` zero columns before the input (and zeros
    /// after it up to the output's size): the input of a prepadded convolution.
    case pad(top: Int, left: Int)
}

public struct PlanStep: Sendable, Equatable {
    public var kernel: PlanKernel
    /// Plan value ids.
    public var inputs: [Int]
    public var output: Int
    /// The activation applied at the end (a fused add's, for a convolution that absorbed one).
    public var activation: Activation?
    /// The program steps' layer names (`c1+bn1`, `layer1.0.conv2+layer1.0.bn2+layer1.0.out`).
    public var name: String
    /// Multiply-accumulates per image (convolutions and fc), for GFLOP/s reports.
    public var macs: Int
    /// How its tasks are shared among threads (nil for a reference step).
    public var threading: Threading? = nil
    /// The program step it computes (nil for a reorder or pad), with its packed weights;
    /// plan-memory binds it again once layout-weights has placed them.
    public var layer: Step?
}

/// The kernel plan of a program: its values, steps and arena, for the fast C emitter.
public struct KernelPlan: Sendable, Equatable {
    public var options: KernelOptions
    public var values: [PlanValue]
    public var steps: [PlanStep]
    /// Plan value ids of the caller's input and output buffers (both planar).
    public var input: Int
    public var output: Int
    /// Per plan value: its offset in floats per image into the arena (nil for input and output).
    public var offsets: [Int?] = []
    public var lifetimes: [ClosedRange<Int>?] = []
    public var arenaElements: Int = 0
    public var unsharedElements: Int = 0
    /// Floats of scratch each thread needs (Winograd's transformed tiles).
    public var scratchElements: Int = 0

    /// `direct 16x14`, `winograd F(4,3)`, `fc 32`, `blocked`, `reference`, `to-blocked`.
    public func kernelName(_ step: PlanStep) -> String { step.kernelName }
}

extension PlanStep {
    /// `direct 32x14`, `winograd F(4,3)`, `fc 32`, `blocked`, `reference`, `to-blocked`, `pad`.
    public var kernelName: String {
        switch kernel {
        case .reference: "reference"
        case .directConvolution(let d): d.pairs ? "paired 8x\(2 * d.strip)" : "direct \(d.outputBlocks * channelBlock)x\(d.strip)"
        case .winogradConvolution(let w): "winograd F(\(w.tile),\(w.taps))"
        case .fullyConnected(let f): "fc \(f.outputBlocks * channelBlock)"
        case .blocked: "blocked"
        case .toBlocked: "to-blocked"
        case .toPlanar: "to-planar"
        case .pad: "pad"
        }
    }
}

extension LoweringPass {
    /// Chooses the fast kernels and layouts (KernelPlan.swift) and rewrites weight recipes
    /// into the kernels' packed layouts. Runs before layout-weights.
    public static func selectKernels(_ options: KernelOptions) -> LoweringPass {
        LoweringPass(name: "select-kernels", apply: { program in
            var planner = KernelPlanner(program: program, options: options)
            return planner.plan()
        })
    }

    /// The arena of the kernel plan, as the program's memory plan (replaces plan-memory).
    public static let planKernelMemory = LoweringPass(name: "plan-memory", apply: { program in
        var planned = program
        if var plan = program.kernelPlan {
            KernelPlanner.planMemory(&plan)
            plan.bindLayers(program)
            planned.kernelPlan = plan
            planned.memory = plan.memoryPlan(for: program)
        } else {
            planned.memory = MemoryPlanner.plan(program)
        }
        return planned
    })

    /// The passes for the fast C backend: the standard ones plus kernel selection.
    public static func optimized(_ options: KernelOptions) -> [LoweringPass] {
        [.removeIdentities, .removeDeadSteps, .foldBatchNorm, .fuseActivations, .bindOutput, .compactValues,
         .selectKernels(options), .layoutWeights, .planKernelMemory]
    }
}

/// The program the fast C backend emits for `network`: `lower` with kernel selection.
public func lowerForC(_ network: CheckedNetwork, options: KernelOptions) -> LoweredProgram {
    lower(network, passes: LoweringPass.optimized(options))
}

extension KernelPlan {
    /// Gives each step the program's current copy of the step it computes: a step is the one
    /// that writes its output value (each value has one writer).
    mutating func bindLayers(_ program: LoweredProgram) {
        var writers: [Int: Step] = [:]
        for step in program.steps { writers[step.output] = step }
        for index in steps.indices {
            steps[index].layer = steps[index].layer.map { layer in
                guard let current = writers[layer.output] else { preconditionFailure("no program step writes value \(layer.output)") }
                return current
            }
        }
    }

    /// The program's memory plan as seen from the program's values: each value's offset is
    /// that of its first plan value in the arena; the arena is the plan's.
    func memoryPlan(for program: LoweredProgram) -> MemoryPlan {
        var offsets = [Int?](repeating: nil, count: program.values.count)
        var lifetimes = [ClosedRange<Int>?](repeating: nil, count: program.values.count)
        for (id, value) in values.enumerated() where offsets[value.source] == nil {
            offsets[value.source] = self.offsets[id]
            lifetimes[value.source] = self.lifetimes[id]
        }
        return MemoryPlan(offsets: offsets, lifetimes: lifetimes, arenaElements: arenaElements + 0,
                          unsharedElements: unsharedElements, naiveElements: program.naiveActivationElements,
                          weightElements: program.weightCount)
    }
}

/// Builds a kernel plan for a program whose weights are not laid out yet.
struct KernelPlanner {
    let program: LoweredProgram
    let options: KernelOptions
    var values: [PlanValue] = []
    var steps: [PlanStep] = []
    /// Per program value and layout, the plan value holding it.
    var available: [Int: [ValueLayout: Int]] = [:]
    /// The plan step that writes each plan value (nil for the input).
    var writer: [Int: Int] = [:]
    var kernels: [Kernel]
    let readers: [[Int]]
    let producers: [Int?]
    /// The target's numbers (TargetFacts.swift): every per-target choice reads them.
    var facts: TargetFacts { options.target.facts }

    init(program: LoweredProgram, options: KernelOptions) {
        self.program = program
        self.options = options
        self.kernels = program.steps.map(\.kernel)
        self.readers = program.readers()
        self.producers = program.producers()
    }

    mutating func plan() -> LoweredProgram {
        let input = newValue(program.input, .planar)
        for index in program.steps.indices { planStep(index) }
        // The caller's output buffer is planar.
        let output = value(program.output, .planar)
        var result = program
        for (index, kernel) in kernels.enumerated() { result.steps[index].kernel = kernel }
        var plan = KernelPlan(options: options, values: values, steps: steps, input: input, output: output)
        plan.bindLayers(result)
        for index in plan.steps.indices { plan.steps[index].threading = threading(plan.steps[index]) }
        result.kernelPlan = plan
        return result
    }

    mutating func newValue(_ source: Int, _ layout: ValueLayout) -> Int {
        values.append(PlanValue(source: source, shape: program.values[source].shape, layout: layout))
        available[source, default: [:]][layout] = values.count - 1
        return values.count - 1
    }

    /// The plan value holding program value `source` in `layout`, reordering if needed.
    mutating func value(_ source: Int, _ layout: ValueLayout) -> Int {
        if let id = available[source]?[layout] { return id }
        let other = available[source]![layout == .planar ? .blocked : .planar]!
        let id = newValue(source, layout)
        steps.append(PlanStep(kernel: layout == .blocked ? .toBlocked : .toPlanar, inputs: [other], output: id,
                              activation: nil, name: program.values[source].name + " (reorder)", macs: 0, layer: nil))
        writer[id] = steps.count - 1
        return id
    }

    func isBlockedAvailable(_ source: Int) -> Bool { available[source]?[.blocked] != nil }

    static func isVolume(_ shape: TensorShape) -> Bool { !shape.isVector }

    mutating func append(_ kernel: PlanKernel, inputs: [Int], output: Int, step index: Int, activation: Activation?, macs: Int = 0) {
        steps.append(PlanStep(kernel: kernel, inputs: inputs, output: output, activation: activation,
                              name: program.steps[index].name, macs: macs, layer: program.steps[index]))
        writer[output] = steps.count - 1
    }

    mutating func planStep(_ index: Int) {
        let step = program.steps[index]
        let outputShape = program.values[step.output].shape
        switch step.kernel {
        case .convolution(let conv):
            if let plan = directConvolution(conv, index: index) {
                let planar = plan.kernel.planarInput
                var input = value(step.inputs[0], planar ? .planar : .blocked)
                if plan.kernel.direct.prepadded, plan.kernel.winograd == nil {
                    input = padded(input, conv, index: index)
                }
                let output = newValue(step.output, .blocked)
                append(plan.kernel.winograd.map { .winogradConvolution($0) } ?? .directConvolution(plan.kernel.direct),
                       inputs: [input], output: output, step: index, activation: conv.activation, macs: macs(conv))
                kernels[index] = .convolution(plan.conv)
                return
            }
        case .fullyConnected(let fc):
            if case .transposed(let base, let rows, let columns) = fc.weight.recipe, rows == fc.outputs, columns == fc.inputs {
                let inputShape = program.values[step.inputs[0]].shape
                // Only a volume without padding lanes is read blocked: a padding lane's weight is
                // zero, but it may hold a NaN (0·inf of a convolution's padded filter).
                let blockedInput = Self.isVolume(inputShape) && isBlockedAvailable(step.inputs[0])
                    && inputShape.elementCount == fc.inputs && inputShape.depth % channelBlock == 0
                let blocks = facts.fullyConnectedBlocks
                var packed = fc
                let layout = PackedLayout.fullyConnected(outputs: fc.outputs, inputs: fc.inputs, tile: blocks * channelBlock,
                                                         blockedInput: blockedInput ? inputShape : nil)
                packed.weight = WeightRef(.packed(base, layout), count: layout.count)
                if let bias = fc.bias {
                    let padded = roundUp(fc.outputs, to: blocks * channelBlock)
                    packed.bias = WeightRef(.packed(bias.recipe, .padded(count: fc.outputs, to: padded)), count: padded)
                }
                kernels[index] = .fullyConnected(packed)
                let input = value(step.inputs[0], blockedInput ? .blocked : .planar)
                let output = newValue(step.output, .planar)
                append(.fullyConnected(FullyConnected(outputBlocks: blocks, blockedInput: blockedInput,
                                                      imagesPerPass: facts.fullyConnectedImages,
                                                      accumulators: facts.fullyConnectedAccumulators,
                                                      chains: Self.fullyConnectedChains(images: facts.fullyConnectedImages, blocks: blocks,
                                                                                        accumulators: facts.fullyConnectedAccumulators))),
                       inputs: [input], output: output, step: index, activation: fc.activation, macs: fc.inputs * fc.outputs)
                return
            }
        case .add(let add):
            if fuseResidual(index, add) { return }
            if step.inputs.allSatisfy({ isBlockedAvailable($0) && Self.isVolume(program.values[$0].shape) })
                && Self.isVolume(outputShape) && add.activation != .softmax {
                appendBlocked(index)
                return
            }
        case .pooling, .localResponseNorm:
            if isBlockedAvailable(step.inputs[0]) && Self.isVolume(program.values[step.inputs[0]].shape) {
                appendBlocked(index)
                return
            }
        case .globalPooling:
            if isBlockedAvailable(step.inputs[0]) && Self.isVolume(program.values[step.inputs[0]].shape) {
                let input = value(step.inputs[0], .blocked)
                append(.blocked(BlockedKernel()), inputs: [input], output: newValue(step.output, .planar), step: index, activation: nil)
                return
            }
        case .batchNorm(var norm):
            if norm.activation != .softmax, isBlockedAvailable(step.inputs[0]),
               Self.isVolume(program.values[step.inputs[0]].shape), Self.isVolume(outputShape) {
                let padded = roundUp(norm.channels, to: channelBlock)
                norm.scale = WeightRef(.packed(norm.scale.recipe, .padded(count: norm.channels, to: padded)), count: padded)
                norm.shift = WeightRef(.packed(norm.shift.recipe, .padded(count: norm.channels, to: padded)), count: padded)
                kernels[index] = .batchNorm(norm)
                appendBlocked(index)
                return
            }
        case .activation(let a):
            if a.activation != .softmax, isBlockedAvailable(step.inputs[0]),
               Self.isVolume(program.values[step.inputs[0]].shape), program.values[step.inputs[0]].shape == outputShape {
                appendBlocked(index)
                return
            }
        case .concat(let concat):
            if concat.activation != .softmax, Self.isVolume(outputShape),
               step.inputs.allSatisfy({ isBlockedAvailable($0) && Self.isVolume(program.values[$0].shape) }),
               concat.inputChannels.allSatisfy({ $0 % channelBlock == 0 }) {
                appendBlocked(index)
                return
            }
        default:
            break
        }
        // The reference kernel on planar values.
        let inputs = step.inputs.map { value($0, .planar) }
        append(.reference, inputs: inputs, output: newValue(step.output, .planar), step: index,
               activation: step.kernel.fusedActivation, macs: referenceMACs(step.kernel))
    }

    mutating func appendBlocked(_ index: Int) {
        let step = program.steps[index]
        let inputs = step.inputs.map { value($0, .blocked) }
        var activation = step.kernel.fusedActivation
        if case .activation(let a) = step.kernel { activation = a.activation }
        append(.blocked(blockedSchedule(step)), inputs: inputs, output: newValue(step.output, .blocked), step: index, activation: activation)
    }

    func macs(_ conv: ConvolutionKernel) -> Int {
        conv.output.elementCount * (conv.input.depth / conv.groups) * conv.window.kernelHeight * conv.window.kernelWidth
    }

    func referenceMACs(_ kernel: Kernel) -> Int {
        switch kernel {
        case .convolution(let conv): macs(conv)
        case .fullyConnected(let fc): fc.inputs * fc.outputs
        default: 0
        }
    }

    struct ConvChoice {
        var direct: DirectConvolution
        var winograd: WinogradConvolution?
        var planarInput: Bool { direct.planarInput }
    }

    /// The packed convolution and its blocking, or nil when the reference kernel must run it
    /// (groups, a softmax epilogue).
    func directConvolution(_ conv: ConvolutionKernel, index: Int) -> (conv: ConvolutionKernel, kernel: ConvChoice)? {
        guard conv.groups == 1, conv.activation != .softmax, Self.isVolume(conv.input), Self.isVolume(conv.output) else { return nil }
        let source = program.steps[index].inputs[0]
        // Read the caller's (or any planar) tensor directly when it has few channels and no
        // blocked copy exists: the first layer of a network.
        let planarInput = !isBlockedAvailable(source) && conv.input.depth <= channelBlock
        let outputBlocks = roundUp(conv.output.depth, to: channelBlock) / channelBlock
        let w = conv.window
        var winograd: WinogradConvolution?
        // Per tile and channel pair, F(4x4, 3x3) multiplies 36 times where the direct kernel
        // does 144, F(2x2, 5x5) 36 times for 100; their transformed weights are 4x and 1.44x
        // the direct ones.
        let winogradTile = [3: 4, 5: 2][w.kernelHeight]
        if options.winograd, !planarInput, let winogradTile, w.kernelWidth == w.kernelHeight,
           w.strideHeight == 1, w.strideWidth == 1,
           w.dilationHeight == 1, w.dilationWidth == 1, conv.input.depth >= 64, conv.output.depth >= 64,
           conv.output.width * conv.output.height >= facts.winogradMinimumPixels,
           outputBlocks % facts.winogradOutputBlocks == 0 {
            let m = winogradTile
            let tilesAcross = (conv.output.width + m - 1) / m, tilesDown = (conv.output.height + m - 1) / m
            let perCall = facts.winogradTilesPerCall
            winograd = WinogradConvolution(tile: m, taps: w.kernelHeight, outputBlocks: facts.winogradOutputBlocks,
                                           tilesPerCall: perCall,
                                           tileGroup: Self.tileGroup(tiles: tilesAcross * tilesDown, channels: conv.input.depth,
                                                                     tilesPerCall: perCall))
            let tiles = tilesAcross * tilesDown, groups = outputBlocks / facts.winogradOutputBlocks
            let group = winograd?.tileGroup ?? 1
            winograd?.chunks = Self.winogradChunks(groups, tilesPerImage: tiles, group: group)
        }
        let blocks: Int
        if let winograd { blocks = winograd.outputBlocks } else {
            blocks = outputBlocks % 2 == 0 ? facts.directOutputBlocks : 1
        }
        // Pre-pad the input when the columns at the edges (whose taps fall partly in the
        // padding, computed one pixel at a time) are more than 1/32 of the row.
        let edges = Self.edgeColumns(conv, inputWidth: conv.input.width, padLeft: w.padLeft).edges.count
        let prepadded = !planarInput && winograd == nil && edges > 0 && edges * 32 > conv.output.width
        let most = facts.pixelsPerCall(outputBlocks: blocks)
        var strip = Self.stripWidth(conv, most: most)
        // A first layer with at most 8 filters would leave most of each register's 16 lanes
        // idle: pair adjacent output pixels instead (needs an even width and no edges).
        let pairs = planarInput && winograd == nil && conv.output.depth <= 8 && w.strideWidth == 1
            && w.padLeft == 0 && w.padRight == 0 && edges == 0 && conv.output.width % 2 == 0
        var rows = 1
        if prepadded || (edges == 0 && w.padTop == 0 && w.padBottom == 0), !planarInput, winograd == nil,
           conv.output.width * 2 <= most {
            rows = most / conv.output.width
            strip = rows * conv.output.width
        }
        var packed = conv
        let inputs = conv.input.depth
        if let winograd {
            let layout = PackedLayout.winograd(outputs: conv.output.depth, inputs: inputs, tile: winograd.tile, taps: winograd.taps,
                                               outputBlocks: blocks)
            packed.weight = WeightRef(.packed(conv.weight.recipe, layout), count: layout.count)
        } else if pairs {
            let layout = PackedLayout.pairedConvolution(outputs: conv.output.depth, inputs: inputs,
                                                        kernelHeight: w.kernelHeight, kernelWidth: w.kernelWidth)
            packed.weight = WeightRef(.packed(conv.weight.recipe, layout), count: layout.count)
        } else {
            let layout = PackedLayout.directConvolution(outputs: conv.output.depth, inputs: inputs,
                                                        kernelHeight: w.kernelHeight, kernelWidth: w.kernelWidth,
                                                        outputBlocks: blocks)
            packed.weight = WeightRef(.packed(conv.weight.recipe, layout), count: layout.count)
        }
        if let bias = conv.bias, pairs {
            packed.bias = WeightRef(.packed(bias.recipe, .pairedBias(count: conv.output.depth)), count: channelBlock)
        } else if let bias = conv.bias {
            let padded = roundUp(conv.output.depth, to: channelBlock * blocks)
            packed.bias = WeightRef(.packed(bias.recipe, .padded(count: conv.output.depth, to: padded)), count: padded)
        }
        let pairMost = facts.pixelsPerCall(outputBlocks: 1)
        let pairsPerRow = conv.output.width / 2, pairCalls = (pairsPerRow + pairMost - 1) / pairMost
        let pairStrip = max(1, (pairsPerRow + pairCalls - 1) / max(pairCalls, 1))
        var direct = DirectConvolution(outputBlocks: blocks, strip: pairs ? pairStrip : strip, planarInput: planarInput,
                                       prepadded: prepadded)
        if pairs { direct.variant = .paired } else if rows > 1 { direct.variant = .wholeRows(rows) }
        // Off AVX-512 a strip holds at most 6 pixels, and a row that does not divide into
        // strips of 4 to 6 leaves a short one whose few accumulators idle the FMA units (a row
        // of 7: 4 and 3). Such rows run strips on across row ends, paying for six pixel offsets
        // per call where a row's strip has constant ones.
        if facts.stripsAcrossRows, !pairs, !planarInput, winograd == nil, rows == 1,
           prepadded || (edges == 0 && w.padTop == 0 && w.padBottom == 0),
           Self.stripsAcrossRowsPay(width: conv.output.width, strip: strip) {
            direct.variant = .flat
            direct.strip = most
        }
        if let slice = facts.weightSliceBytes, !pairs, !planarInput {
            // One input block's weights for one output group, as PackedLayout packs them.
            let inputBlocks = roundUp(inputs, to: channelBlock) / channelBlock
            let bytesPerBlock = w.kernelHeight * w.kernelWidth * PackedLayout.directBlockRows(inputs) * channelBlock * blocks * 4
            let perPass = max(1, slice / bytesPerBlock)
            if perPass < inputBlocks {
                // The input the kernel reads: the zero-bordered copy when there is one.
                let inputWidth = prepadded ? Self.paddedWidth(conv) : conv.input.width
                let rowBytes = (conv.output.width * blocks + inputWidth * perPass * w.strideHeight) * channelBlock * 4
                direct.reduction = .sliced(inputBlocks: perPass, sweepRows: max(1, facts.sweepBytes / rowBytes))
            }
        }
        if winograd == nil { scheduleDirect(&direct, conv) }
        return (packed, ConvChoice(direct: direct, winograd: winograd))
    }

    /// A zero-bordered copy of blocked `input` big enough that every tap of `conv` is inside it.
    mutating func padded(_ input: Int, _ conv: ConvolutionKernel, index: Int) -> Int {
        let w = conv.window
        let height = max(conv.input.height + w.padTop, (conv.output.height - 1) * w.strideHeight + (w.kernelHeight - 1) * w.dilationHeight + 1)
        let width = Self.paddedWidth(conv)
        values.append(PlanValue(source: values[input].source,
                                shape: .volume(width: width, height: height, depth: conv.input.depth), layout: .blocked))
        let id = values.count - 1
        steps.append(PlanStep(kernel: .pad(top: w.padTop, left: w.padLeft), inputs: [input], output: id,
                              activation: nil, name: program.steps[index].name + " (pad)", macs: 0, layer: nil))
        writer[id] = steps.count - 1
        return id
    }

    /// The width of `padded`'s copy: the left padding and every column a tap reads.
    static func paddedWidth(_ conv: ConvolutionKernel) -> Int {
        let w = conv.window
        return max(conv.input.width + w.padLeft, (conv.output.width - 1) * w.strideWidth + (w.kernelWidth - 1) * w.dilationWidth + 1)
    }

    /// `add A B act` where A is made by a direct convolution that only the add reads and whose
    /// other input already exists blocked: the convolution adds B and applies the activation.
    mutating func fuseResidual(_ index: Int, _ add: AddKernel) -> Bool {
        let step = program.steps[index]
        guard step.inputs.count == 2, step.inputs[0] != step.inputs[1], add.activation != .softmax,
              step.output != program.input else { return false }
        // Prefer the input whose producer ran last (the other input is then ready before it).
        let candidates = step.inputs.enumerated().compactMap { position, source -> (Int, Int, Int)? in
            guard readers[source] == [index], source != program.output,
                  let blocked = available[source]?[.blocked], available[source]?[.planar] == nil,
                  let planStep = writer[blocked], steps[planStep].activation == nil, steps[planStep].inputs.count == 1
            else { return nil }
            switch steps[planStep].kernel {
            case .directConvolution, .winogradConvolution: break
            default: return nil
            }
            return (position, planStep, blocked)
        }.sorted { $0.1 > $1.1 }
        guard let (position, planStep, _) = candidates.first else { return false }
        let other = step.inputs[1 - position]
        guard let otherBlocked = available[other]?[.blocked], (writer[otherBlocked] ?? -1) < planStep,
              program.values[other].shape == program.values[step.output].shape else { return false }
        // The convolution now writes the add's output.
        let output = newValue(step.output, .blocked)
        steps[planStep].inputs.append(otherBlocked)
        steps[planStep].output = output
        steps[planStep].activation = add.activation
        steps[planStep].name += "+" + step.name
        writer[output] = planStep
        return true
    }

    // MARK: memory

    /// Lifetimes from the plan's steps, placed as MemoryPlanner places a program's values.
    static func planMemory(_ plan: inout KernelPlan) {
        var lifetimes = [ClosedRange<Int>?](repeating: nil, count: plan.values.count)
        var lastRead = [Int](repeating: -1, count: plan.values.count)
        for (index, step) in plan.steps.enumerated() {
            for input in step.inputs { lastRead[input] = index }
        }
        for (index, step) in plan.steps.enumerated() where step.output != plan.output && step.output != plan.input {
            lifetimes[step.output] = index...max(index, lastRead[step.output])
        }
        let (offsets, arena, unshared) = MemoryPlanner.place(sizes: plan.values.map(\.elements), lifetimes: lifetimes)
        plan.offsets = offsets
        plan.lifetimes = lifetimes
        plan.arenaElements = arena
        plan.unsharedElements = unshared
        plan.scratchElements = plan.steps.map { scratchElements($0, plan) }.max() ?? 0
    }

    /// Per-thread scratch of a step: Winograd's transformed input and output tiles.
    static func scratchElements(_ step: PlanStep, _ plan: KernelPlan) -> Int {
        guard case .winogradConvolution(let w) = step.kernel else { return 0 }
        let input = plan.values[step.inputs[0]], output = plan.values[step.output]
        let t = w.tile + w.taps - 1
        let inputBlocks = roundUp(input.shape.depth, to: channelBlock) / channelBlock
        let outputBlocks = roundUp(output.shape.depth, to: channelBlock) / channelBlock
        return t * t * w.tileGroup * channelBlock * (inputBlocks + outputBlocks) + 64
    }
}
