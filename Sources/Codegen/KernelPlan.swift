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
// plus any copy of it in the other): convolutions, pooling, add, batchnorm, activations, LRN,
// concat, mul, slice and shuffle run blocked when their inputs are blocked; a step with no blocked kernel runs
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
    /// Whether a batch runs image by image or step by step (the planner's choice unless set).
    public var batchSchedule: BatchSchedule = .automatic
    /// The language the kernels are printed in: the planner chooses only kernels its emitter has.
    public var language: KernelLanguage = .c
    /// Whether an inverted residual's expand → depthwise → project chain runs as one step
    /// (the planner's choice unless set; FusionPlanning.swift).
    public var fusion: FusionPolicy = .automatic

    /// The target has no default: AVX-512's blocking run on AVX2 spills its 28 accumulators
    /// (ResNet-18's direct 3x3 layers at 17-30% of the peak against 60-74%, README), so every
    /// caller says which unit it means (`VectorTarget.host` in the runtime, `--target` on the
    /// command line).
    public init(winograd: Bool = true, target: VectorTarget, batchSchedule: BatchSchedule = .automatic, language: KernelLanguage = .c,
                fusion: FusionPolicy = .automatic) {
        self.winograd = winograd
        self.target = target
        self.batchSchedule = batchSchedule
        self.language = language
        self.fusion = fusion
    }
}

/// When the fast C fuses an inverted residual's three convolutions into one step.
public enum FusionPolicy: String, Sendable, Hashable, CaseIterable {
    /// Where the expanded tensor would leave the cache (TargetFacts.fusionExpandedBytes).
    case automatic
    /// Never: each convolution its own step.
    case never
    /// Every chain the fused kernel can compute, however small (the fuzzer's variant).
    case always
}

/// How the fast C runs a batch of more than one image (FastCImageSchedule.swift).
public enum BatchSchedule: String, Sendable, Hashable, CaseIterable {
    /// KernelPlanner.chooseImageSchedule decides from the network's layers.
    case automatic
    /// Each step over the whole batch, then the next step.
    case wholeBatch
    /// The whole network on one image at a time; on several threads, one image per thread.
    case imageByImage
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
    /// A grouped convolution's input blocks per output channel group (nil without groups).
    public var grouped: GroupedInput? = nil
    /// The input is multiplied by a 1x1xC channel scale first (squeeze-excitation), the step's
    /// last input: each task scales its group's weights by that image's scale instead
    /// (ChannelScalePlanning.swift).
    public var scaledInput: Bool = false

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

    /// `rowStrips` as the runs a row's calls make, left to right: (pixels per call, calls),
    /// the empty run left out.
    public static func stripRuns(width: Int, strip: Int) -> [(pixels: Int, count: Int)] {
        let (pixels, wide, narrow) = rowStrips(width: width, strip: strip)
        return [(pixels, wide), (pixels - 1, narrow)].filter { $0.count > 0 }
    }
}

/// A depthwise convolution (groups = input channels) on blocked values: output block `ob`'s 16
/// channels read input block `ob`'s 16 lanes (multiplier 1) or, for a multiplier m > 1,
/// output channel o reads input channel o / m, gathered lane by lane into the thread's scratch
/// once per task. Each call computes `strip` output pixels of a row, every tap unrolled: the
/// kernel moves more bytes than it multiplies, so it is measured against the read bandwidth.
public struct DepthwiseConvolution: Sendable, Equatable {
    /// Output channels per input channel.
    public var multiplier: Int
    /// Output pixels per call of the strip kernel (its accumulators stay in registers).
    public var strip: Int
    /// Output columns whose taps are all inside the input; the others are edge columns,
    /// computed one pixel at a time over the taps that fall inside.
    public var interior: Range<Int> = 0..<0
    public var edges: [EdgeColumn] = []
    /// Row bands per image and channel block (tasks are images x channel blocks x bands).
    public var bands: Int = 1
}

/// Three planned steps run as one: `steps` are the expand 1x1 and the project 1x1 direct
/// convolutions and the depthwise convolution between them, each with its layer, weights and
/// epilogue as planned alone; their intermediate values get no arena. A task is a band of
/// output rows of one image: each expanded row is computed once into a ring of the rows the
/// depthwise window spans (a band's first rows again where bands meet), each depthwise output
/// row into one row of scratch, and the projection writes the output row.
public struct InvertedResidual: Sendable, Equatable {
    public var steps: [PlanStep]
    /// Pixels per micro-kernel call of the expand and of the project convolution.
    public var expandStrip: Int
    public var projectStrip: Int
    /// Row bands per image (tasks are images x bands).
    public var bands: Int

    public var expand: PlanStep { steps[0] }
    public var depthwise: PlanStep { steps[1] }
    public var project: PlanStep { steps[2] }
}

/// The input channel blocks a grouped convolution's output channel groups read: group g (of
/// `outputBlocks` blocks of 16) reduces over blocks firstBlocks[g] ..< firstBlocks[g] +
/// inputBlocks, the channels of its groups rounded out to whole blocks; its packed weights
/// are zero for the channels of other groups.
public struct GroupedInput: Sendable, Equatable {
    public var inputBlocks: Int
    public var firstBlocks: [Int]

    public init(inputBlocks: Int, firstBlocks: [Int]) {
        self.inputBlocks = inputBlocks
        self.firstBlocks = firstBlocks
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
    /// A convolution, direct; `inputs[1]`, when present, is a residual added before the activation
    /// (`residualInput`), and a scaled input's channel scale comes last (`channelScaleInput`).
    case directConvolution(DirectConvolution)
    case winogradConvolution(WinogradConvolution)
    /// A depthwise convolution (no fused residual: in the mobile blocks the add follows the
    /// projecting 1x1 convolution).
    case depthwiseConvolution(DepthwiseConvolution)
    case fullyConnected(FullyConnected)
    /// An inverted residual's expand 1x1 → depthwise → project 1x1 in one step, row by row,
    /// the expanded rows in the thread's scratch (FastCFusedBlock.swift).
    case invertedResidual(InvertedResidual)
    /// The blocked kernel of a pooling, global pooling, add, batchnorm, activation, LRN, concat,
    /// mul or channel gather step.
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
    /// Run a batch image by image (each thread its own images) rather than step by step over
    /// the whole batch (KernelPlanner.chooseImageSchedule).
    public var imageByImage = false

    /// `direct 16x14`, `winograd F(4,3)`, `fc 32`, `blocked`, `reference`, `to-blocked`.
    public func kernelName(_ step: PlanStep) -> String { step.kernelName }
}

extension PlanStep {
    /// The channel scale a direct convolution folds into its weights (its last input).
    public var channelScaleInput: Int? {
        if case .directConvolution(let d) = kernel, d.scaledInput { inputs.last } else { nil }
    }

    /// The residual a convolution's epilogue adds: the input after the first, other than the scale.
    public var residualInput: Int? {
        let count = inputs.count - (channelScaleInput == nil ? 0 : 1)
        return count > 1 ? inputs[1] : nil
    }

    /// `direct 32x14`, `winograd F(4,3)`, `fc 32`, `blocked`, `reference`, `to-blocked`, `pad`.
    public var kernelName: String {
        switch kernel {
        case .reference: "reference"
        case .directConvolution(let d):
            d.pairs ? "paired 8x\(2 * d.strip)" : "direct \(d.outputBlocks * channelBlock)x\(d.strip)" + (d.scaledInput ? " scaled" : "")
        case .winogradConvolution(let w): "winograd F(\(w.tile),\(w.taps))"
        case .depthwiseConvolution(let d): "depthwise 16x\(d.strip)" + (d.multiplier > 1 ? " x\(d.multiplier)" : "")
        case .fullyConnected(let f): "fc \(f.outputBlocks * channelBlock)"
        case .invertedResidual(let f): "fused " + f.steps.map(\.kernelName).joined(separator: ", ")
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
        [.removeIdentities, .composeGathers, .removeDeadSteps, .foldBatchNorm, .fuseActivations, .bindOutput, .compactValues,
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
        func bind(_ step: inout PlanStep) {
            step.layer = step.layer.map { layer in
                guard let current = writers[layer.output] else { preconditionFailure("no program step writes value \(layer.output)") }
                return current
            }
            if case .invertedResidual(var f) = step.kernel {
                for index in f.steps.indices { bind(&f.steps[index]) }
                step.kernel = .invertedResidual(f)
            }
        }
        for index in steps.indices { bind(&steps[index]) }
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
