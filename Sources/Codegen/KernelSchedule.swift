import ShapeCheck

// The schedule half of the kernel plan: how each step's loops, threads and memory traffic
// are arranged, decided once here from the step's shapes and the target's facts
// (TargetFacts.swift). The emitters print these fields and decide nothing.

/// The loop structure of a direct convolution.
public enum DirectVariant: Sendable, Equatable {
    /// Each output row in strips of at most `strip` pixels, edge columns one at a time.
    case rowStrips
    /// Strips run on across row ends (no edge columns): every call but a band's last keeps
    /// the full set of accumulators.
    case flat
    /// Each strip is this many whole output rows (no edge columns, the whole reduction).
    case wholeRows(Int)
    /// A planar first layer with at most 8 filters: two pixels per register.
    case paired
}

/// How a direct convolution's reduction over input channel blocks is split.
public enum Reduction: Sendable, Equatable {
    /// All input channel blocks in one call.
    case whole
    /// `inputBlocks` blocks of weights at a time (an L1-sized slice) swept over `sweepRows`
    /// output rows, whose partial sums stay in L2 (with few pixels per call each weight is
    /// used by few FMAs, so the weights must come from L1).
    case sliced(inputBlocks: Int, sweepRows: Int)
}

/// An output column of a direct convolution with some taps outside the input: filter
/// columns [firstTap, endTap) fall inside.
public struct EdgeColumn: Sendable, Equatable {
    public var x: Int
    public var firstTap: Int
    public var endTap: Int

    public init(x: Int, firstTap: Int, endTap: Int) {
        self.x = x
        self.firstTap = firstTap
        self.endTap = endTap
    }
}

/// How a step's tasks go to the pool's threads: all of them when `work` per image reaches
/// `threshold`, else all from the batch that does, else one.
public struct Threading: Sendable, Equatable {
    public var work: Int
    public var threshold: Int
}

extension KernelPlanner {
    /// The output columns of `conv` whose every tap is inside an input `inputWidth` wide with
    /// `padLeft` columns of padding, and the others with the taps that fall inside.
    static func edgeColumns(_ conv: ConvolutionKernel, inputWidth W: Int, padLeft PL: Int) -> (interior: Range<Int>, edges: [EdgeColumn]) {
        let OW = conv.output.width, SW = conv.window.strideWidth
        let KW = conv.window.kernelWidth, DW = conv.window.dilationWidth
        let left = min(OW, (PL + SW - 1) / SW)
        let lastFull = W - 1 + PL - (KW - 1) * DW
        let right = max(left, lastFull < 0 ? left : min(OW, lastFull / SW + 1))
        let edges = (Array(0..<left) + Array(right..<OW)).map { ox -> EdgeColumn in
            let ix = ox * SW - PL
            let kx0 = ix < 0 ? (-ix + DW - 1) / DW : 0
            let kx1 = W - ix <= 0 ? 0 : min(KW, (W - ix + DW - 1) / DW)
            return EdgeColumn(x: ox, firstTap: kx0, endTap: max(kx0, kx1))
        }
        return (left..<right, edges)
    }

    /// Tiles transformed together: as many as keep the transformed input (36·C floats a tile)
    /// within about 1.5 MB of L2, a multiple of the GEMM's tiles per call, at most the image's
    /// tiles; and as even as that allows, so that no group is left much smaller than the others
    /// for one thread to finish alone (196 tiles: 54, 54, 54, 34 rather than 60, 60, 60, 16).
    static func tileGroup(tiles: Int, channels: Int, tilesPerCall: Int) -> Int {
        let fit = max(6, min(60, 10_240 / max(channels, 1)) / tilesPerCall * tilesPerCall)
        let groups = (tiles + fit - 1) / fit
        return min(tiles, fit, roundUp((tiles + groups - 1) / groups, to: tilesPerCall))
    }

    /// Whether strips running on across row ends beat a row of `width` pixels in
    /// `DirectConvolution.rowStrips`. The row's work in pixels counts a strip of s < 4 pixels
    /// (2s accumulators of 8 lanes, fewer than the 8 chains that cover the FMA latency on two
    /// units) as one of 4; strips across rows cost about 6% more a pixel. Measured on AVX2
    /// with a short last strip instead of even ones, whole-row strips ran VGG-16's 56- and
    /// 28-wide 3x3 layers, ResNet-18's 56-wide and AlexNet's 27-wide ones 4-10% faster, 13-
    /// and 14-wide ones the same, 7-wide ones 3-8% slower (work 8 for 7 pixels: 4 + 3); with
    /// even strips, AlexNet's 13-wide ones (5 + 4 + 4) 3-7% faster than across rows.
    static func stripsAcrossRowsPay(width: Int, strip: Int) -> Bool {
        let (pixels, wide, narrow) = DirectConvolution.rowStrips(width: width, strip: strip)
        let rowWork = wide * max(pixels, 4) + narrow * max(pixels - 1, 4)
        return rowWork * 100 > width * 106
    }

    /// Output pixels per micro-kernel call: at most `most` (what the registers hold), spread
    /// evenly over the row's interior.
    static func stripWidth(_ conv: ConvolutionKernel, most: Int) -> Int {
        let interior = max(1, conv.output.width)
        let calls = (interior + most - 1) / most
        return (interior + calls - 1) / calls
    }

    /// Row bands per image of a direct convolution: enough for about 8 tasks per image
    /// together with its output channel groups.
    static func rowBands(rows: Int, groups: Int) -> Int { min(rows, max(1, (8 + groups - 1) / groups)) }

    /// Output channel groups are split over this many tasks per tile group when a batch of one
    /// image has fewer than 4 tile groups, so two threads share the work (each streams half
    /// of the transformed weights; the input transform is repeated).
    static func winogradChunks(_ groups: Int, tilesPerImage: Int, group: Int) -> Int {
        let tileGroups = (tilesPerImage + group - 1) / group
        return tileGroups >= 4 ? 1 : min(groups, (4 + tileGroups - 1) / tileGroups)
    }

    /// Interleaved partial sums per fc micro-kernel for 1...`images` images: few images give
    /// few accumulators, each a chain of dependent FMAs, so the reduction is split over up to
    /// 4 chains to hide the FMA latency.
    static func fullyConnectedChains(images: Int, blocks: Int, accumulators: Int) -> [Int] {
        (1...max(1, images)).map { max(1, min(4, accumulators / ($0 * blocks))) }
    }

    /// The edge columns of the input the kernel reads, the variant the loops take, prefetch,
    /// unroll and row bands of a direct convolution whose blocking is chosen.
    func scheduleDirect(_ d: inout DirectConvolution, _ conv: ConvolutionKernel) {
        let w = conv.window, OH = conv.output.height, OW = conv.output.width
        // A prepadded convolution reads the zero-bordered copy: no padding left to apply.
        let inputWidth = d.prepadded ? Self.paddedWidth(conv) : conv.input.width
        let columns = Self.edgeColumns(conv, inputWidth: inputWidth, padLeft: d.prepadded ? 0 : w.padLeft)
        d.interior = columns.interior
        d.edges = columns.edges
        // Strips across rows and whole-row strips need every column inside; whole rows, the
        // whole reduction.
        if d.variant == .flat, !d.edges.isEmpty { d.variant = .rowStrips }
        if case .wholeRows = d.variant, !d.edges.isEmpty || d.reduction != .whole { d.variant = .rowStrips }
        let groups = roundUp(conv.output.depth, to: channelBlock) / channelBlock / d.outputBlocks
        // Small outputs reuse each weight group for few pixels: the layer streams its weights
        // from memory, so fetch the next group's while this one computes; a slice of the
        // weights stays in L1, where prefetching the next group's only costs loads.
        d.prefetch = !d.pairs && d.reduction == .whole && OH * OW <= facts.prefetchMaximumPixels && groups > 1
        // A first layer's few planar channels make a short loop, better unrolled.
        d.reductionUnroll = !d.pairs && conv.input.depth >= channelBlock ? facts.reductionUnroll : nil
        switch d.variant {
        case .paired: d.bands = min(OH, 8)
        case .wholeRows(let rows): d.bands = Self.rowBands(rows: (OH + rows - 1) / rows, groups: groups)
        case .rowStrips, .flat: d.bands = Self.rowBands(rows: OH, groups: groups)
        }
    }

    /// A blocked kernel's schedule: an add or activation in tasks of 4096 elements (16 KiB,
    /// enough tasks for two to eight threads on a small feature map, few enough for the
    /// pool's overhead not to show); a max pooling's taps unrolled when every window is
    /// inside the input and has at most 16 taps (more would bloat the code for no gain).
    func blockedSchedule(_ step: Step) -> BlockedKernel {
        var schedule = BlockedKernel()
        switch step.kernel {
        case .add, .activation, .multiply:
            schedule.elementsPerTask = 4096
        case .pooling(let pool):
            let w = pool.window, input = pool.input, output = pool.output
            let inside = w.padTop == 0 && w.padLeft == 0
                && (output.height - 1) * w.strideHeight + (w.kernelHeight - 1) * w.dilationHeight < input.height
                && (output.width - 1) * w.strideWidth + (w.kernelWidth - 1) * w.dilationWidth < input.width
            schedule.unrolledTaps = pool.kind == .max && inside && w.kernelHeight * w.kernelWidth <= 16
        default:
            break
        }
        return schedule
    }

    /// How step `step`'s tasks are shared among threads (nil for a reference step, which the
    /// plain emitter runs on one thread).
    func threading(_ step: PlanStep) -> Threading? {
        let output = values[step.output]
        let P = output.shape.height * output.shape.width
        switch step.kernel {
        case .reference:
            return nil
        case .directConvolution, .winogradConvolution:
            guard case .convolution(let conv)? = step.layer?.kernel else { return nil }
            return Threading(work: macs(conv), threshold: facts.convolutionThreadWork)
        case .depthwiseConvolution:
            guard case .convolution(let conv)? = step.layer?.kernel else { return nil }
            return Threading(work: macs(conv), threshold: facts.depthwiseThreadWork)
        case .invertedResidual:
            return Threading(work: step.macs, threshold: facts.convolutionThreadWork)
        case .fullyConnected:
            guard case .fullyConnected(let fc)? = step.layer?.kernel else { return nil }
            return Threading(work: fc.inputs * fc.outputs, threshold: facts.fullyConnectedThreadWork)
        case .toBlocked, .toPlanar:
            return Threading(work: output.shape.depth * P, threshold: facts.elementThreadWork)
        case .pad:
            return Threading(work: output.shape.elementCount, threshold: facts.elementThreadWork)
        case .blocked:
            guard let kernel = step.layer?.kernel else { return nil }
            let work: Int
            switch kernel {
            case .pooling(let pool): work = output.elements * pool.window.kernelHeight * pool.window.kernelWidth
            case .globalPooling:
                let input = values[step.inputs[0]].shape
                work = input.depth * input.height * input.width
            case .localResponseNorm(let lrn): work = output.shape.depth * P * lrn.parameters.size
            case .concat: work = step.inputs.map { values[$0].shape.depth / channelBlock }.reduce(0, +) * P * channelBlock
            default: work = output.elements
            }
            return Threading(work: work, threshold: facts.elementThreadWork)
        }
    }
}
