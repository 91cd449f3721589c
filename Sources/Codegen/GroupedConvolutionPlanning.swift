import ShapeCheck

// The kernel planner's choices for grouped convolutions. Depthwise ones (groups = input channels)
// need no reduction over channels in the blocked layout: each output block of 16
// channels is 16 independent filters, one vector FMA per tap and pixel. Other grouped ones
// run the direct kernel over the input blocks their groups span (`groupedInput`).

extension KernelPlanner {
    /// The packed depthwise convolution and its schedule, or nil when it is not one (or its
    /// epilogue is a softmax, which only the reference kernel applies).
    func depthwiseConvolution(_ conv: ConvolutionKernel) -> (conv: ConvolutionKernel, kernel: DepthwiseConvolution)? {
        guard conv.groups > 1, conv.groups == conv.input.depth, conv.activation != .softmax,
              Self.isVolume(conv.input), Self.isVolume(conv.output) else { return nil }
        let w = conv.window, K = conv.output.depth
        var packed = conv
        let layout = PackedLayout.depthwiseConvolution(outputs: K, kernelHeight: w.kernelHeight, kernelWidth: w.kernelWidth)
        packed.weight = WeightRef(.packed(conv.weight.recipe, layout), count: layout.count)
        packed.bias = conv.bias?.padded(to: roundUp(K, to: channelBlock))
        var depthwise = DepthwiseConvolution(multiplier: K / conv.groups, strip: facts.depthwisePixels)
        let columns = Self.edgeColumns(conv, inputWidth: conv.input.width, padLeft: w.padLeft)
        depthwise.interior = columns.interior
        depthwise.edges = columns.edges
        depthwise.bands = Self.rowBands(rows: conv.output.height, groups: roundUp(K, to: channelBlock) / channelBlock)
        return (packed, depthwise)
    }

    /// Per-thread scratch of a depthwise convolution with a multiplier: one input plane of
    /// 16 gathered lanes.
    static func depthwiseScratch(_ d: DepthwiseConvolution, input: TensorShape) -> Int {
        d.multiplier > 1 ? input.height * input.width * channelBlock : 0
    }

    /// The input blocks each output group of `outputBlocks` blocks reads in a grouped
    /// convolution: the same count for every group (its groups' channels rounded out to
    /// blocks, the widest of them), or nil when that many blocks would be more than 4x the
    /// channels a group has (fewer than 4 channels a group: the reference kernel is as fast).
    /// Also nil unless each output group lies in one group and reads only that group's whole
    /// input blocks: the kernel reduces over every channel of the blocks it reads, with zero
    /// weights for other groups' channels, and 0 · NaN is NaN, so a NaN or infinity in one
    /// group's input would reach the others' outputs (fuzz seed 2287: `conv 10 3x3 groups 2`
    /// on 8 channels). Such convolutions (ResNeXt's 4-channel groups) run the reference kernel
    /// until the kernel recomputes its non-finite outputs exactly, as Winograd does.
    static func groupedInput(_ conv: ConvolutionKernel, outputBlocks: Int) -> GroupedInput? {
        let K = conv.output.depth, C = conv.input.depth
        let co = K / conv.groups, ci = C / conv.groups
        guard ci % channelBlock == 0, co % (outputBlocks * channelBlock) == 0 else { return nil }
        let width = outputBlocks * channelBlock, inputBlocks = roundUp(C, to: channelBlock) / channelBlock
        let spans = stride(from: 0, to: K, by: width).map { first -> Range<Int> in
            let last = min(K, first + width) - 1
            let begin = (first / co) * ci, end = (last / co + 1) * ci
            return begin / channelBlock..<(end + channelBlock - 1) / channelBlock
        }
        let widest = spans.map(\.count).max() ?? 1
        guard widest * channelBlock <= 4 * ci else { return nil }
        return GroupedInput(inputBlocks: widest, firstBlocks: spans.map { min($0.lowerBound, inputBlocks - widest) })
    }
}
