import ShapeCheck

// Fusing an inverted residual (MobileNetV2's block: expand 1x1 → depthwise → project 1x1)
// into one plan step, after every step is planned alone: the three keep their kernels'
// blocking and packed weights, and the fused kernel (FastCFusedBlock.swift) runs them row by
// row, so the expanded tensor never goes to the arena.

extension KernelPlanner {
    /// Replaces each run of three consecutive steps that form an inverted residual the fused
    /// kernel computes with one `.invertedResidual` step, where `options.fusion` allows it.
    mutating func fuseInvertedResiduals(output: Int) {
        guard emits.fusedBlocks, options.fusion != .never else { return }
        let reads = inputReads()
        var fused: [PlanStep] = []
        var index = 0
        while index < steps.count {
            if index + 2 < steps.count,
               let step = invertedResidual(Array(steps[index...(index + 2)]), reads: reads, output: output) {
                fused.append(step)
                index += 3
            } else {
                fused.append(steps[index])
                index += 1
            }
        }
        steps = fused
    }

    /// The fused step of `chain` when it is expand 1x1 → depthwise → project 1x1 on blocked
    /// values, each intermediate read only by the next step, and fusing pays (or is forced).
    func invertedResidual(_ chain: [PlanStep], reads: [Int], output: Int) -> PlanStep? {
        let (expand, depthwise, project) = (chain[0], chain[1], chain[2])
        guard case .directConvolution(let e) = expand.kernel, case .convolution(let ec)? = expand.layer?.kernel,
              Self.isPlainPointwise(e, ec), expand.inputs.count == 1,
              case .depthwiseConvolution(let d) = depthwise.kernel, case .convolution(let dc)? = depthwise.layer?.kernel,
              d.multiplier == 1, d.edges.count <= DepthwiseGeometry.unrolledEdges, depthwise.inputs == [expand.output],
              case .directConvolution(let p) = project.kernel, case .convolution(let pc)? = project.layer?.kernel,
              Self.isPlainPointwise(p, pc), project.inputs[0] == depthwise.output,
              reads[expand.output] == 1, reads[depthwise.output] == 1,
              expand.output != output, depthwise.output != output,
              values[expand.output].layout == .blocked, values[depthwise.output].layout == .blocked
        else { return nil }
        let expandedBytes = values[expand.output].elements * 4
        if options.fusion == .automatic, expandedBytes < facts.fusionExpandedBytes { return nil }
        let fused = InvertedResidual(steps: chain,
                                     expandStrip: facts.pixelsPerCall(outputBlocks: e.outputBlocks),
                                     projectStrip: facts.pixelsPerCall(outputBlocks: p.outputBlocks),
                                     bands: min(dc.output.height, Self.fusedBands))
        return PlanStep(kernel: .invertedResidual(fused), inputs: [expand.inputs[0]] + project.inputs.dropFirst(),
                        output: project.output, activation: project.activation,
                        name: chain.map(\.name).joined(separator: "+"), macs: chain.map(\.macs).reduce(0, +), layer: nil)
    }

    /// Row bands per image of a fused block: enough for two threads to share one image with
    /// some balance, few enough that the rows recomputed where bands meet stay cheap.
    static let fusedBands = 4

    /// A 1x1, stride-1, unpadded direct convolution on a blocked input, reducing over all its
    /// input channels per call (the fused kernel's row strips).
    static func isPlainPointwise(_ d: DirectConvolution, _ conv: ConvolutionKernel) -> Bool {
        isPointwise(d, conv) && d.reduction == .whole
    }

    /// A 1x1, stride-1, unpadded, ungrouped direct convolution on a blocked input, not paired.
    static func isPointwise(_ d: DirectConvolution, _ conv: ConvolutionKernel) -> Bool {
        let w = conv.window
        return w.kernelHeight == 1 && w.kernelWidth == 1 && w.strideHeight == 1 && w.strideWidth == 1
            && w.padTop == 0 && w.padLeft == 0 && w.padBottom == 0 && w.padRight == 0
            && d.grouped == nil && !d.planarInput && !d.prepadded && !d.pairs
    }

    /// How many steps read each value (a step reading it twice counts twice).
    func inputReads() -> [Int] {
        var reads = [Int](repeating: 0, count: values.count)
        for step in steps { for input in step.inputs { reads[input] += 1 } }
        return reads
    }

    /// Per-thread scratch of a fused block: the ring of expanded rows the depthwise window
    /// spans, and one depthwise output row.
    static func fusedScratch(_ f: InvertedResidual, _ plan: KernelPlan) -> Int {
        let g = FusedBlockGeometry(plan, f)
        return g.ringElements + g.rowElements
    }
}

/// The sizes the fused kernel reads: the expanded tensor's (Cx channels, H x W), the depthwise
/// window's, and the output's.
struct FusedBlockGeometry {
    let H, W, OH, OW: Int
    /// Channel blocks of the block's input, of the expanded tensor and of the output.
    let CB, XB, KB: Int
    /// Expanded rows the depthwise window spans (the ring's slots).
    let span: Int
    let imageIn, imageOut: Int

    init(_ plan: KernelPlan, _ f: InvertedResidual) {
        let input = plan.values[f.expand.inputs[0]].shape, expanded = plan.values[f.expand.output].shape
        let out = plan.values[f.project.output].shape
        (H, W, OH, OW) = (expanded.height, expanded.width, out.height, out.width)
        CB = roundUp(input.depth, to: channelBlock) / channelBlock
        XB = roundUp(expanded.depth, to: channelBlock) / channelBlock
        KB = roundUp(out.depth, to: channelBlock) / channelBlock
        var span = 1
        if case .convolution(let dc)? = f.depthwise.layer?.kernel {
            span = (dc.window.kernelHeight - 1) * dc.window.dilationHeight + 1
        }
        self.span = span
        imageIn = CB * input.height * input.width * channelBlock
        imageOut = KB * OH * OW * channelBlock
    }

    /// Floats of one ring slot's block, of one expanded block's slots, of the ring, and of the
    /// depthwise output row.
    var slotElements: Int { W * channelBlock }
    var ringBlock: Int { span * slotElements }
    var ringElements: Int { XB * ringBlock }
    var rowElements: Int { XB * OW * channelBlock }
}
