import ShapeCheck

// The kernel planner (KernelPlan.swift has the plan it builds): walks the program once,
// choosing each step's kernel and layout, inserting reorders and zero-bordered copies, fusing
// residual adds into convolutions and packing weight recipes; the schedules come from
// KernelSchedule.swift and the arena from planMemory.

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
    /// What the emitter of the kernels' language prints (KernelLanguage.swift).
    var emits: KernelCapabilities { options.language.capabilities }

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
        fuseInvertedResiduals(output: output)
        foldChannelScales(output: output)
        var result = program
        for (index, kernel) in kernels.enumerated() { result.steps[index].kernel = kernel }
        var plan = KernelPlan(options: options, values: values, steps: steps, input: input, output: output)
        plan.bindLayers(result)
        for index in plan.steps.indices { plan.steps[index].threading = threading(plan.steps[index]) }
        switch options.batchSchedule {
        case .automatic: plan.imageByImage = Self.chooseImageSchedule(plan.steps)
        case .wholeBatch: plan.imageByImage = false
        case .imageByImage: plan.imageByImage = true
        }
        if !emits.imageByImage { plan.imageByImage = false }
        result.kernelPlan = plan
        return result
    }

    /// Image by image when the fully connected layers are light: each image then streams their
    /// weights again, which costs more than the caches save once they are a large share of the
    /// work or do not fit in a cache. Batch 8, `cnnc bench`, alternated (AMD EPYC, AVX-512, 1 and
    /// 2 threads, ms whole batch → image by image): mobilenet_v2 55 → 48 and 28 → 24, mnasnet1_0
    /// 56 → 52 and 29 → 26, efficientnet_b0 84 → 79 and 44 → 40, resnet18 2 threads 109 → 97;
    /// but alexnet (fc weights 0.088 of its conv MACs) 139 → 199 and 69 → 99, vgg16 (0.008, 494 MB
    /// of fc weights) 2 threads 529 → 600, mobilenet_v3_large (1/87) 1 thread 40 → 42.
    static func chooseImageSchedule(_ steps: [PlanStep]) -> Bool {
        var fcMACs = 0, otherMACs = 0
        for step in steps {
            if case .fullyConnected = step.kernel { fcMACs += step.macs } else { otherMACs += step.macs }
        }
        // An fc layer's MACs per image are its weights.
        return fcMACs * 128 <= otherMACs && fcMACs * 4 <= 16 << 20
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
            if emits.depthwise, let (packed, depthwise) = depthwiseConvolution(conv) {
                let input = value(step.inputs[0], .blocked)
                append(.depthwiseConvolution(depthwise), inputs: [input], output: newValue(step.output, .blocked), step: index,
                       activation: conv.activation, macs: macs(conv))
                kernels[index] = .convolution(packed)
                return
            }
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
            if emits.fullyConnected, case .transposed(let base, let rows, let columns) = fc.weight.recipe,
               rows == fc.outputs, columns == fc.inputs {
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
                packed.bias = fc.bias?.padded(to: roundUp(fc.outputs, to: blocks * channelBlock))
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
            if emits.blockedLayers, step.inputs.allSatisfy({ isBlockedAvailable($0) && Self.isVolume(program.values[$0].shape) }),
               Self.isVolume(outputShape), add.activation != .softmax {
                appendBlocked(index)
                return
            }
        case .pooling, .localResponseNorm:
            if emits.blockedLayers, isBlockedAvailable(step.inputs[0]), Self.isVolume(program.values[step.inputs[0]].shape) {
                appendBlocked(index)
                return
            }
        case .globalPooling:
            if emits.blockedLayers, isBlockedAvailable(step.inputs[0]), Self.isVolume(program.values[step.inputs[0]].shape) {
                let input = value(step.inputs[0], .blocked)
                // Squeeze-excitation's pooled vector feeds 1x1 convolutions, which read it blocked;
                // a classifier's fc reads it planar (unless its channels fill whole blocks).
                let blockedOutput = Self.isVolume(outputShape) && readers[step.output].contains {
                    if case .convolution = program.steps[$0].kernel { return true }
                    return false
                }
                append(.blocked(BlockedKernel()), inputs: [input], output: newValue(step.output, blockedOutput ? .blocked : .planar),
                       step: index, activation: nil)
                return
            }
        case .batchNorm(var norm):
            if emits.blockedLayers, norm.activation != .softmax, isBlockedAvailable(step.inputs[0]),
               Self.isVolume(program.values[step.inputs[0]].shape), Self.isVolume(outputShape) {
                let padded = roundUp(norm.channels, to: channelBlock)
                norm.scale = norm.scale.padded(to: padded)
                norm.shift = norm.shift.padded(to: padded)
                kernels[index] = .batchNorm(norm)
                appendBlocked(index)
                return
            }
        case .activation(let a):
            if emits.blockedLayers, a.activation != .softmax, isBlockedAvailable(step.inputs[0]),
               Self.isVolume(program.values[step.inputs[0]].shape), program.values[step.inputs[0]].shape == outputShape {
                appendBlocked(index)
                return
            }
        case .concat(let concat):
            // Inputs whose channels are not multiples of 16 run the blocked channel gather.
            if emits.blockedChannelOps, concat.activation != .softmax, Self.isVolume(outputShape),
               step.inputs.allSatisfy({ isBlockedAvailable($0) && Self.isVolume(program.values[$0].shape) }) {
                appendBlocked(index)
                return
            }
        case .multiply(let mul):
            if emits.blockedChannelOps, mul.activation != .softmax, blockedMultiplies(step) {
                appendBlocked(index)
                return
            }
        case .gatherChannels:
            if emits.blockedChannelOps, isBlockedAvailable(step.inputs[0]), Self.isVolume(program.values[step.inputs[0]].shape), Self.isVolume(outputShape) {
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

    /// A `mul` of volumes, each the output's shape or 1x1 with its channels (the
    /// squeeze-excitation scale, broadcast over the positions), one of them blocked: a planar
    /// one is reordered to blocked, which costs what reordering the output back would.
    func blockedMultiplies(_ step: Step) -> Bool {
        let output = program.values[step.output].shape
        return Self.isVolume(output) && step.inputs.contains(where: isBlockedAvailable) && step.inputs.allSatisfy { input in
            let shape = program.values[input].shape
            return Self.isVolume(shape) && shape.depth == output.depth && (shape == output || shape.width * shape.height == 1)
        }
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
    /// (a softmax epilogue; groups of fewer than 4 channels, whose blocks would be mostly zeros).
    func directConvolution(_ conv: ConvolutionKernel, index: Int) -> (conv: ConvolutionKernel, kernel: ConvChoice)? {
        guard conv.activation != .softmax, Self.isVolume(conv.input), Self.isVolume(conv.output) else { return nil }
        let source = program.steps[index].inputs[0]
        // Read the caller's (or any planar) tensor directly when it has few channels and no
        // blocked copy exists: the first layer of a network.
        let planarInput = conv.groups == 1 && !isBlockedAvailable(source) && conv.input.depth <= channelBlock
        let outputBlocks = roundUp(conv.output.depth, to: channelBlock) / channelBlock
        let w = conv.window
        var winograd: WinogradConvolution?
        // Per tile and channel pair, F(4x4, 3x3) multiplies 36 times where the direct kernel
        // does 144, F(2x2, 5x5) 36 times for 100; their transformed weights are 4x and 1.44x
        // the direct ones.
        let winogradTile = [3: 4, 5: 2][w.kernelHeight]
        if options.winograd, emits.winograd, !planarInput, conv.groups == 1, let winogradTile, w.kernelWidth == w.kernelHeight,
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
        var blocks: Int
        if let winograd { blocks = winograd.outputBlocks } else {
            blocks = outputBlocks % 2 == 0 ? facts.directOutputBlocks : 1
        }
        // A grouped convolution: each call's output blocks read only their groups' input blocks.
        var grouped: GroupedInput?
        if conv.groups > 1 {
            guard emits.grouped else { return nil }
            // Two output blocks a call only when both are in the same groups' channels.
            if (conv.output.depth / conv.groups) % (blocks * channelBlock) != 0 { blocks = 1 }
            guard let input = Self.groupedInput(conv, outputBlocks: blocks) else { return nil }
            grouped = input
        }
        // Pre-pad the input when the columns at the edges (whose taps fall partly in the
        // padding, computed one pixel at a time) are more than 1/32 of the row.
        let edges = Self.edgeColumns(conv, inputWidth: conv.input.width, padLeft: w.padLeft).edges.count
        let prepadded = emits.prepadded && !planarInput && winograd == nil && edges > 0 && edges * 32 > conv.output.width
        let most = facts.pixelsPerCall(outputBlocks: blocks)
        var strip = Self.stripWidth(conv, most: most)
        // A first layer with at most 8 filters would leave most of each register's 16 lanes
        // idle: pair adjacent output pixels instead (needs an even width and no edges).
        let pairs = emits.pairs && planarInput && winograd == nil && conv.output.depth <= 8 && w.strideWidth == 1
            && w.padLeft == 0 && w.padRight == 0 && edges == 0 && conv.output.width % 2 == 0
        var rows = 1
        if emits.wholeRowStrips, prepadded || (edges == 0 && w.padTop == 0 && w.padBottom == 0), !planarInput, winograd == nil,
           conv.output.width * 2 <= most {
            rows = most / conv.output.width
            strip = rows * conv.output.width
        }
        var packed = conv
        // The input channels one output group's weights span (all of them without groups).
        let inputs = grouped.map { $0.inputBlocks * channelBlock } ?? conv.input.depth
        if let grouped {
            let layout = PackedLayout.groupedConvolution(outputs: conv.output.depth, inputs: conv.input.depth, groups: conv.groups,
                                                         kernelHeight: w.kernelHeight, kernelWidth: w.kernelWidth,
                                                         outputBlocks: blocks, inputBlocks: grouped.inputBlocks,
                                                         firstBlocks: grouped.firstBlocks)
            packed.weight = WeightRef(.packed(conv.weight.recipe, layout), count: layout.count)
        } else if let winograd {
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
            packed.bias = bias.padded(to: roundUp(conv.output.depth, to: channelBlock * blocks))
        }
        let pairMost = facts.pixelsPerCall(outputBlocks: 1)
        let pairsPerRow = conv.output.width / 2, pairCalls = (pairsPerRow + pairMost - 1) / pairMost
        let pairStrip = max(1, (pairsPerRow + pairCalls - 1) / max(pairCalls, 1))
        var direct = DirectConvolution(outputBlocks: blocks, strip: pairs ? pairStrip : strip, planarInput: planarInput,
                                       prepadded: prepadded)
        direct.grouped = grouped
        if pairs { direct.variant = .paired } else if rows > 1 { direct.variant = .wholeRows(rows) }
        // Off AVX-512 a strip holds at most 6 pixels, and a row that does not divide into
        // strips of 4 to 6 leaves a short one whose few accumulators idle the FMA units (a row
        // of 7: 4 and 3). Such rows run strips on across row ends, paying for six pixel offsets
        // per call where a row's strip has constant ones.
        if facts.stripsAcrossRows, emits.flatStrips, !pairs, !planarInput, winograd == nil, rows == 1,
           prepadded || (edges == 0 && w.padTop == 0 && w.padBottom == 0),
           Self.stripsAcrossRowsPay(width: conv.output.width, strip: strip) {
            direct.variant = .flat
            direct.strip = most
        }
        if let slice = facts.weightSliceBytes, emits.slicedReduction, !pairs, !planarInput {
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

    /// Per-thread scratch of a step: Winograd's transformed input and output tiles, a
    /// depthwise multiplier's gathered input plane, a scaled input's scaled weights.
    static func scratchElements(_ step: PlanStep, _ plan: KernelPlan) -> Int {
        if case .directConvolution(let d) = step.kernel, d.scaledInput, case .convolution(let conv)? = step.layer?.kernel {
            return PackedLayout.directChannelRows(conv.input.depth) * d.outputBlocks * channelBlock
        }
        if case .depthwiseConvolution(let d) = step.kernel { return depthwiseScratch(d, input: plan.values[step.inputs[0]].shape) }
        if case .invertedResidual(let f) = step.kernel { return fusedScratch(f, plan) }
        guard case .winogradConvolution(let w) = step.kernel else { return 0 }
        let input = plan.values[step.inputs[0]], output = plan.values[step.output]
        let t = w.tile + w.taps - 1
        let inputBlocks = roundUp(input.shape.depth, to: channelBlock) / channelBlock
        let outputBlocks = roundUp(output.shape.depth, to: channelBlock) / channelBlock
        return t * t * w.tileGroup * channelBlock * (inputBlocks + outputBlocks) + 64
    }
}
