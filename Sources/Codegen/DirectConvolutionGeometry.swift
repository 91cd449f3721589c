import ShapeCheck

// What the fast C and the fast Swift print a convolution from: its sizes and strides as
// the kernels read them, and its register-blocked micro-kernel as a value
// (FastCConvolution.swift and FastCMicroKernel.swift print C, FastSwiftConvolution.swift Swift).

/// A register-blocked kernel: `strip` pixels x `blocks` blocks of 16 output channels,
/// reducing over input channel blocks (and kernel taps when `taps` is set).
struct MicroKernel {
    var name: String
    var strip: Int
    var blocks: Int
    var inputBlocks: Int
    var lastChannels: Int
    var blockStride: Int
    var channelStride: Int
    var pixelStride: Int
    var rowStep: Int
    var columnStep: Int
    var taps: (height: Int, width: Int)?
    /// Input channel rows per tap of one input block in the packed weights
    /// (PackedLayout.directBlockRows).
    var tapChannels: Int = channelBlock
    /// Pixels spanning whole rows: pixel r is at row r / width, column r % width, rows
    /// `jump` floats apart in the input (outputs stay contiguous).
    var pixelRow: (width: Int, jump: Int)? = nil
    /// Prefetch the next output channel group's weights (`pf`) into L2 while computing.
    var prefetch: Bool = false
    /// Reduce over input channel blocks [cb0, cb1) only (extra arguments): the sums start
    /// from the bias when cb0 is 0, else from what `out` holds, and the epilogue runs only
    /// when cb1 is the last block, so a caller can sweep one L1-sized slice of the weights
    /// over many pixels before moving to the next.
    var chunked: Bool = false
    /// How many steps of the reduction over input channels one trip of its loop takes:
    /// 1 keeps it rolled (CNNC_NO_UNROLL), 2 takes two (CNNC_UNROLL2), nil leaves it to
    /// the compiler, which unrolls it whole.
    var reductionUnroll: Int? = nil
    /// Pixel r's input is at `po[r]` (an extra argument), so a strip may run on from the
    /// end of one output row into the next; outputs stay contiguous.
    var flat: Bool = false
    var bias: Bool
    var residual: Bool
    var outputBlockStride: Int
    var activation: Activation?
}

/// A direct convolution step's sizes (the C names of the kernels' comments) and the strides of
/// the input it reads: planar [C, H, W] for a first layer, else blocked, and the zero-bordered
/// copy when prepadded.
struct DirectGeometry {
    /// The channels one output group reduces over: a grouped convolution's span of blocks.
    let C: Int
    let K, OH, OW: Int
    let KH, KW, SH, SW, DH, DW: Int
    /// The input the kernel reads, and the padding left to apply to it (none on a prepadded copy).
    let H, W, PT, PL: Int
    let CB, KB, NB, KBG: Int
    let planar: Bool
    let imageIn, blockStride, channelStride, rowStride, pixelStride: Int
    /// Floats of one output block, and of one image's output.
    let OBS, imageOut: Int
    /// Packed weights of one output channel group.
    let wGroup: Int
    let residual, bias: Bool
    /// The input is multiplied by a channel scale (`a->ins[0]`, ⌈C/16⌉·16 floats an image),
    /// folded into each task's weights.
    let scaled: Bool
    /// Input channel blocks one pass of the reduction covers (CB unless it is sliced).
    let CBC: Int

    init(_ plan: KernelPlan, _ step: PlanStep, _ d: DirectConvolution, _ conv: ConvolutionKernel) {
        C = d.grouped.map { $0.inputBlocks * channelBlock } ?? conv.input.depth
        K = conv.output.depth
        OH = conv.output.height
        OW = conv.output.width
        let w = conv.window
        (KH, KW, SH, SW, DH, DW) = (w.kernelHeight, w.kernelWidth, w.strideHeight, w.strideWidth, w.dilationHeight, w.dilationWidth)
        let input = plan.values[step.inputs[0]].shape
        (H, W) = (input.height, input.width)
        (PT, PL) = d.prepadded ? (0, 0) : (w.padTop, w.padLeft)
        CB = (C + channelBlock - 1) / channelBlock
        KB = (K + channelBlock - 1) / channelBlock
        NB = d.outputBlocks
        KBG = KB / NB
        planar = d.planarInput
        imageIn = planar ? C * H * W : (conv.input.depth + channelBlock - 1) / channelBlock * H * W * channelBlock
        blockStride = planar ? channelBlock * H * W : H * W * channelBlock
        channelStride = planar ? H * W : 1
        rowStride = planar ? W : W * channelBlock
        pixelStride = planar ? 1 : channelBlock
        OBS = OH * OW * channelBlock
        imageOut = KB * OBS
        wGroup = PackedLayout.directChannelRows(C) * KH * KW * NB * channelBlock
        residual = step.residualInput != nil
        bias = conv.bias != nil
        scaled = d.scaledInput
        CBC = min(CB, d.inputBlocksPerPass ?? CB)
    }

    /// The micro-kernel of `strip` pixels a row apart by the stride, over every tap.
    func microKernel(_ name: String, strip: Int, _ d: DirectConvolution, activation: Activation?) -> MicroKernel {
        var k = MicroKernel(name: name, strip: strip, blocks: NB, inputBlocks: CB, lastChannels: C - (CB - 1) * channelBlock,
                            blockStride: blockStride, channelStride: channelStride, pixelStride: SW * pixelStride,
                            rowStep: DH * rowStride, columnStep: DW * pixelStride, taps: (KH, KW), bias: bias,
                            residual: residual, outputBlockStride: OBS, activation: activation)
        k.tapChannels = PackedLayout.directBlockRows(C)
        k.prefetch = d.prefetch
        k.chunked = CBC < CB
        k.reductionUnroll = d.reductionUnroll
        return k
    }
}

/// A Winograd step's sizes (the C names of the kernels' comments), its scratch and its GEMM
/// micro-kernels, for both emitters.
struct WinogradGeometry {
    let C, H, W, K, OH, OW, PT, PL: Int
    /// F(m x m, r x r) on t x t tiles.
    let m, r, t, T2: Int
    let CB, KB, NB, KBG: Int
    let TX, TY, tilesPerImage, TG: Int
    let imageIn, OBS, imageOut: Int
    let residual, bias: Bool
    /// Floats of V [t·t][CB][TG][16] and of M [t·t][NB][TG][16] in the scratch.
    let vSize, mSize: Int
    /// Tiles per GEMM call, and every call width a group needs (groups hold TG tiles except
    /// possibly the batch's last).
    let R: Int
    let strips: [Int]

    init(_ step: PlanStep, _ wg: WinogradConvolution, _ conv: ConvolutionKernel) {
        (C, H, W) = (conv.input.depth, conv.input.height, conv.input.width)
        (K, OH, OW) = (conv.output.depth, conv.output.height, conv.output.width)
        (PT, PL) = (conv.window.padTop, conv.window.padLeft)
        (m, r) = (wg.tile, wg.taps)
        t = m + r - 1
        T2 = t * t
        CB = (C + channelBlock - 1) / channelBlock
        KB = (K + channelBlock - 1) / channelBlock
        NB = wg.outputBlocks
        KBG = KB / NB
        (TX, TY) = ((OW + m - 1) / m, (OH + m - 1) / m)
        tilesPerImage = TX * TY
        TG = wg.tileGroup
        imageIn = CB * H * W * channelBlock
        OBS = OH * OW * channelBlock
        imageOut = KB * OBS
        residual = step.residualInput != nil
        bias = conv.bias != nil
        vSize = T2 * CB * TG * channelBlock
        mSize = T2 * NB * TG * channelBlock
        R = min(wg.tilesPerCall, TG)
        var strips = Set<Int>([R])
        for count in 1...TG where count % R != 0 { strips.insert(count % R) }
        self.strips = strips.sorted()
    }

    /// The GEMM micro-kernel M[xi][j][tile] += U[xi][g][c][j] V[xi][c][tile] over `strip` tiles.
    func gemm(_ name: String, strip: Int) -> MicroKernel {
        MicroKernel(name: name, strip: strip, blocks: NB, inputBlocks: CB, lastChannels: C - (CB - 1) * channelBlock,
                    blockStride: TG * channelBlock, channelStride: 1, pixelStride: channelBlock, rowStep: 0, columnStep: 0, taps: nil,
                    bias: false, residual: false, outputBlockStride: TG * channelBlock, activation: nil)
    }
}

/// A depthwise step's sizes (the C names of the kernels' comments), its strips and its edge
/// columns' tap sets, for both emitters (FastCDepthwise.swift, FastSwiftDepthwise.swift).
struct DepthwiseGeometry {
    let H, W, C, K, OH, OW: Int
    let KH, KW, SH, SW, DH, DW, PT, PL: Int
    let CB, KB: Int
    /// Floats of one input block plane, and of one output block.
    let plane, OBS: Int
    /// Pixels a strip, the multiplier, and floats between the input rows of two filter rows.
    let S, m, rowStep: Int
    let bias: Bool
    /// The interior's first column, its full strips, and the shorter strip after them.
    let left, full, rest, restStart: Int
    /// Up to `unrolledEdges` edge columns get a function per set of taps (`edgeTaps`); more
    /// (wide dilations) share one with the taps in a loop.
    let unrolled: Bool
    let edgeTaps: [Range<Int>]
    /// At most this many edge columns get unrolled functions (a 7x7 filter with padding 3 has 6).
    static let unrolledEdges = 8

    init(_ plan: KernelPlan, _ step: PlanStep, _ d: DepthwiseConvolution, _ conv: ConvolutionKernel) {
        let input = plan.values[step.inputs[0]].shape
        (H, W, C) = (input.height, input.width, input.depth)
        (K, OH, OW) = (conv.output.depth, conv.output.height, conv.output.width)
        let w = conv.window
        (KH, KW, SH, SW) = (w.kernelHeight, w.kernelWidth, w.strideHeight, w.strideWidth)
        (DH, DW, PT, PL) = (w.dilationHeight, w.dilationWidth, w.padTop, w.padLeft)
        CB = (C + channelBlock - 1) / channelBlock
        KB = (K + channelBlock - 1) / channelBlock
        plane = H * W * channelBlock
        OBS = OH * OW * channelBlock
        (S, m, bias) = (d.strip, d.multiplier, conv.bias != nil)
        rowStep = DH * W * channelBlock
        left = d.interior.lowerBound
        full = d.interior.count / S
        rest = d.interior.count - full * S
        restStart = left + full * S
        unrolled = d.edges.count <= Self.unrolledEdges
        edgeTaps = unrolled ? Array(Set(d.edges.map { $0.firstTap..<$0.endTap }))
            .sorted { ($0.lowerBound, $0.upperBound) < ($1.lowerBound, $1.upperBound) } : []
    }
}
