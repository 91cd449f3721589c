import ShapeCheck

// Squeeze-excitation's channel multiply folded into the 1x1 convolution that reads its
// product, after every step is planned alone: conv(x · s) = conv with each input channel's
// weights times s, so a task scales its output group's weights by its image's scale into the
// thread's scratch (Cout·Cin multiplies an image) instead of a `mul` step writing x · s
// (H·W·Cin) to the arena for the convolution to read back.

extension KernelPlanner {
    /// Removes each blocked `mul` of a volume by a 1x1xC scale whose product only a plain 1x1
    /// direct convolution reads, where scaling the weights costs less than scaling the volume;
    /// that convolution reads the volume and the scale instead.
    mutating func foldChannelScales(output: Int) {
        guard emits.scaledInputs else { return }
        let reads = inputReads()
        var consumers: [Int: Int] = [:]
        for (index, step) in steps.enumerated() { for input in step.inputs { consumers[input] = index } }
        var removed = Set<Int>()
        for (index, mul) in steps.enumerated() {
            guard let (volume, scale) = channelScale(mul), mul.output != output, reads[mul.output] == 1,
                  let consumer = consumers[mul.output], consumer > index,
                  var folded = scaledConvolution(steps[consumer], reading: mul.output, volume: volume, scale: scale)
            else { continue }
            folded.name = mul.name + "+" + folded.name
            steps[consumer] = folded
            removed.insert(index)
        }
        steps = steps.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
    }

    /// The volume and the scale of a blocked two-input `mul` without an activation, one input
    /// the output's shape and the other 1x1 with its channels, both blocked.
    func channelScale(_ step: PlanStep) -> (volume: Int, scale: Int)? {
        guard case .blocked = step.kernel, case .multiply(let k)? = step.layer?.kernel, k.activation == nil,
              step.inputs.count == 2, step.inputs[0] != step.inputs[1],
              step.inputs.allSatisfy({ values[$0].layout == .blocked }) else { return nil }
        let output = values[step.output].shape
        guard output.height * output.width > 1 else { return nil }
        for (volume, scale) in [(step.inputs[0], step.inputs[1]), (step.inputs[1], step.inputs[0])] {
            let s = values[scale].shape
            if values[volume].shape == output, s.height * s.width == 1, s.depth == output.depth { return (volume, scale) }
        }
        return nil
    }

    /// `step` reading `volume` times `scale` where it read `product`, when it is a plain 1x1
    /// direct convolution of `product` (its first input, not its residual) and its output
    /// channels, rounded up to blocks, are at most the volume's positions: each of an image's
    /// output channel groups then scales Cin weights per output channel, fewer multiplies than
    /// the mul's Cin per position, and reads them from L1 rather than the volume from L2 or memory.
    func scaledConvolution(_ step: PlanStep, reading product: Int, volume: Int, scale: Int) -> PlanStep? {
        guard case .directConvolution(var d) = step.kernel, case .convolution(let conv)? = step.layer?.kernel,
              step.inputs[0] == product, !step.inputs.dropFirst().contains(product), !d.scaledInput else { return nil }
        guard Self.isPointwise(d, conv),
              roundUp(conv.output.depth, to: channelBlock) <= conv.input.height * conv.input.width else { return nil }
        d.scaledInput = true
        var folded = step
        folded.kernel = .directConvolution(d)
        folded.inputs = [volume] + step.inputs.dropFirst() + [scale]
        return folded
    }
}
