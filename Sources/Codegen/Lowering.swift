import ShapeCheck

// Lowering: checked network → lowered program, as a pipeline of passes. `translate` makes
// one step per layer; each pass takes a program and returns a new one:
//
//   remove-identities  dropout and flatten become views of their input (no copy, no step)
//   remove-dead        steps whose result nobody reads, and that are not the output, go
//   fold-batchnorm     a batchnorm after a conv/fc that only it reads is folded into the
//                      conv's weights and bias (the weight recipe records how)
//   fuse-activations   an activation after a conv/fc/batchnorm/add/concat that only it reads
//                      is applied by that kernel
//   bind-output        the output is written by a step (a copy when it is the input)
//   compact-values     values no step touches are dropped and the rest renumbered
//   layout-weights     every weight slice gets its offset in the packed blob (64-byte aligned)
//   plan-memory        intermediate values get offsets in one shared arena

public struct LoweringPass: Sendable {
    public var name: String
    public var apply: @Sendable (LoweredProgram) -> LoweredProgram

    public init(name: String, apply: @escaping @Sendable (LoweredProgram) -> LoweredProgram) {
        self.name = name
        self.apply = apply
    }

    public static let removeIdentities = LoweringPass(name: "remove-identities", apply: Passes.removeIdentities)
    public static let removeDeadSteps = LoweringPass(name: "remove-dead", apply: Passes.removeDeadSteps)
    public static let composeGathers = LoweringPass(name: "compose-gathers", apply: Passes.composeGathers)
    public static let foldBatchNorm = LoweringPass(name: "fold-batchnorm", apply: Passes.foldBatchNorm)
    public static let fuseActivations = LoweringPass(name: "fuse-activations", apply: Passes.fuseActivations)
    public static let bindOutput = LoweringPass(name: "bind-output", apply: Passes.bindOutput)
    public static let compactValues = LoweringPass(name: "compact-values", apply: Passes.compactValues)
    public static let layoutWeights = LoweringPass(name: "layout-weights", apply: Passes.layoutWeights)
    public static let planMemory = LoweringPass(name: "plan-memory", apply: { program in
        var planned = program
        planned.memory = MemoryPlanner.plan(program)
        return planned
    })

    /// The passes `lower` runs, in order.
    public static let standard: [LoweringPass] = [
        .removeIdentities, .composeGathers, .removeDeadSteps, .foldBatchNorm, .fuseActivations,
        .bindOutput, .compactValues, .layoutWeights, .planMemory,
    ]

    /// The passes that must run for a program to be emitted, with no optimisation.
    public static let minimal: [LoweringPass] = [.removeIdentities, .bindOutput, .compactValues, .layoutWeights, .planMemory]
}

/// The program the emitters print for `network`.
public func lower(_ network: CheckedNetwork, passes: [LoweringPass] = LoweringPass.standard) -> LoweredProgram {
    passes.reduce(translate(network)) { program, pass in pass.apply(program) }
}

/// One step per layer, each writing a value of its own. Value 0 is the input, value i + 1
/// the output of layer i (plus a value for each activation that had to be split off, and for
/// the padded input of a conv with a padding mode, whose `pad` step runs first).
public func translate(_ network: CheckedNetwork) -> LoweredProgram {
    var values = [ProgramValue(name: "input", shape: network.input)]
    var steps: [Step] = []
    var valueOfLayer: [Int] = []

    for layer in network.layers {
        var inputs = layer.inputs.map { input -> Int in
            switch input {
            case .networkInput: 0
            case .layer(let i): valueOfLayer[i]
            }
        }
        var kernel = kernel(for: layer)
        if case .convolution(var conv) = kernel, case .convolution(let checked) = layer.operation, checked.window.paddingMode != .zeros {
            // torch's padding_mode: pad explicitly, then a zero-padding conv, so every conv kernel
            // (the fast C ones included) runs unchanged.
            let p = checked.window.padding, source = layer.inputShapes[0]
            let padded = TensorShape.volume(width: source.width + p.left + p.right, height: source.height + p.top + p.bottom, depth: source.depth)
            values.append(ProgramValue(name: layer.name, shape: padded))
            steps.append(Step(layers: [layer.name], kernel: .pad(PadKernel(channels: source.depth, inputWidth: source.width,
                                                                           inputHeight: source.height, padding: p, mode: checked.window.paddingMode)),
                              inputs: inputs, output: values.count - 1))
            inputs = [values.count - 1]
            conv.input = padded
            conv.window.padTop = 0
            conv.window.padLeft = 0
            conv.window.padBottom = 0
            conv.window.padRight = 0
            kernel = .convolution(conv)
        }
        // conv, fc, add and concat carry a trailing activation already; any other layer that
        // has one gets it as a step of its own.
        var pendingActivation: Activation?
        if let activation = layer.activation, kernel.fusedActivation == nil {
            if kernel.acceptsActivation { kernel = kernel.withActivation(activation) } else { pendingActivation = activation }
        }
        values.append(ProgramValue(name: layer.name, shape: layer.output))
        steps.append(Step(layers: [layer.name], kernel: kernel, inputs: inputs, output: values.count - 1))
        if let activation = pendingActivation {
            // Only reached if a layer type that cannot carry an activation is given one.
            let shape = layer.output
            values.append(ProgramValue(name: layer.name, shape: shape))
            steps.append(Step(layers: [layer.name], kernel: .activation(ActivationKernel(
                activation: activation, channels: shape.depth, spatial: shape.width * shape.height)),
                inputs: [values.count - 2], output: values.count - 1))
        }
        valueOfLayer.append(values.count - 1)
    }
    let naive = network.layers.reduce(0) { $0 + $1.output.elementCount }
    return LoweredProgram(name: network.name, values: values, steps: steps, input: 0,
                          output: valueOfLayer.last ?? 0, naiveActivationElements: naive, memory: nil)
}

private func kernel(for layer: CheckedLayer) -> Kernel {
    let input = layer.inputShapes.first ?? layer.output
    let output = layer.output
    func key(_ name: String) -> String? {
        layer.parameters.first { $0.name == name }.map { layer.key($0) }
    }
    func ref(_ name: String) -> WeightRef? {
        guard let tensor = layer.parameters.first(where: { $0.name == name }) else { return nil }
        return WeightRef(.tensor(key: layer.key(tensor)), count: tensor.elementCount)
    }

    switch layer.operation {
    case .convolution(let conv):
        let count = conv.filters * (input.depth / conv.groups) * conv.window.kernelHeight * conv.window.kernelWidth
        let weight = ref("weight") ?? WeightRef(.tensor(key: "\(layer.name).weight"), count: count)
        return .convolution(ConvolutionKernel(
            input: input, output: output, window: WindowGeometry(conv.window), groups: conv.groups,
            weight: weight, bias: conv.hasBias ? ref("bias") : nil, activation: layer.activation))
    case .fullyConnected(let outputs):
        let inputs = input.elementCount
        let weight = WeightRef(.transposed(.tensor(key: key("weight") ?? "\(layer.name).weight"), rows: outputs, columns: inputs),
                               count: outputs * inputs)
        return .fullyConnected(FullyConnectedKernel(
            inputs: inputs, outputs: outputs, weight: weight, bias: ref("bias"), activation: layer.activation))
    case .pooling(let pool):
        return .pooling(PoolingKernel(kind: pool.kind, input: input, output: output, window: WindowGeometry(pool.window)))
    case .globalPooling(let kind):
        return .globalPooling(GlobalPoolingKernel(kind: kind, channels: input.depth, spatial: input.width * input.height))
    case .flatten, .dropout:
        return .identity
    case .batchNorm(let epsilon):
        let source = BatchNormSource(
            layer: layer.name,
            gammaKey: key("weight") ?? "\(layer.name).weight",
            betaKey: key("bias") ?? "\(layer.name).bias",
            meanKey: key("running_mean") ?? "\(layer.name).running_mean",
            varianceKey: key("running_var") ?? "\(layer.name).running_var",
            epsilon: epsilon, channels: input.depth)
        return .batchNorm(BatchNormKernel(
            source: source, channels: input.depth, spatial: input.width * input.height,
            scale: WeightRef(.batchNormScale(source), count: input.depth),
            shift: WeightRef(.batchNormShift(bias: nil, source), count: input.depth),
            activation: layer.activation))
    case .localResponseNorm(let lrn):
        return .localResponseNorm(LocalResponseNormKernel(channels: input.depth, spatial: input.width * input.height, parameters: lrn))
    case .activation(let activation):
        return .activation(ActivationKernel(activation: activation, channels: input.depth, spatial: input.width * input.height))
    case .add:
        return .add(AddKernel(elements: output.elementCount, activation: layer.activation))
    case .multiply:
        return .multiply(MultiplyKernel(channels: output.depth, spatial: output.width * output.height,
                                        inputSpatial: layer.inputShapes.map { $0.width * $0.height }, activation: layer.activation))
    case .pointwise(_, let hasBias):
        // torch's Linear weight [N, C] is, byte for byte, a 1x1 convolution's [N, C, 1, 1].
        return .convolution(ConvolutionKernel(
            input: input, output: output, window: .unit, groups: 1,
            weight: ref("weight")!, bias: hasBias ? ref("bias") : nil, activation: layer.activation))
    case .layerScale:
        // γ [C, 1, 1] is a depthwise 1x1 convolution's weight [C, 1, 1, 1], with no bias.
        return .convolution(ConvolutionKernel(
            input: input, output: output, window: .unit, groups: input.depth,
            weight: ref("layer_scale")!, bias: nil, activation: layer.activation))
    case .layerNorm(let epsilon):
        return .layerNorm(LayerNormKernel(channels: input.depth, spatial: input.width * input.height, epsilon: epsilon,
                                          weight: ref("weight")!, bias: ref("bias")!))
    case .adaptiveAveragePool(let width, let height):
        return .adaptiveAveragePool(AdaptivePoolKernel(channels: input.depth, inputWidth: input.width, inputHeight: input.height,
                                                       outputWidth: width, outputHeight: height))
    case .maxout(let pieces):
        return .maxout(MaxoutKernel(outputChannels: output.depth, pieces: pieces, spatial: input.width * input.height))
    case .transposedConvolution(let conv):
        return .transposedConvolution(TransposedConvolutionKernel(
            input: input, output: output, window: WindowGeometry(conv.window), groups: conv.groups,
            weight: ref("weight")!, bias: conv.hasBias ? ref("bias") : nil, activation: layer.activation))
    case .upsample(let up):
        return .upsample(UpsampleKernel(input: input, output: output, mode: up.mode, alignCorners: up.alignCorners))
    case .slice(let start, let end):
        return .gatherChannels(ChannelGatherKernel(inputChannels: input.depth, spatial: input.width * input.height,
                                                   sources: Array(start..<end)))
    case .shuffle(let groups):
        let perGroup = input.depth / groups
        return .gatherChannels(ChannelGatherKernel(inputChannels: input.depth, spatial: input.width * input.height,
                                                   sources: (0..<input.depth).map { ($0 % groups) * perGroup + $0 / groups }))
    case .concat:
        return .concat(ConcatKernel(inputChannels: layer.inputShapes.map(\.depth), spatial: output.width * output.height,
                                    activation: layer.activation))
    }
}

/// The passes themselves. Each is a pure function of the program.
public enum Passes {
    /// Dropout is the identity at inference and flatten only reinterprets [D, H, W] as
    /// [D·H·W] (the same bytes), so both become views: readers read the input directly.
    public static func removeIdentities(_ program: LoweredProgram) -> LoweredProgram {
        var result = program
        var replacement = Array(program.values.indices)
        var steps: [Step] = []
        for var step in program.steps {
            step.inputs = step.inputs.map { replacement[$0] }
            if step.kernel == .identity, let source = step.inputs.first {
                replacement[step.output] = source
            } else {
                steps.append(step)
            }
        }
        result.steps = steps
        result.output = replacement[program.output]
        return result
    }

    /// A channel gather (slice or shuffle) of another gather's output reads the first one's
    /// input instead, through both index lists: ShuffleNet's shuffle → two slices become two
    /// gathers of the concat, and remove-dead drops the shuffle nobody reads then.
    public static func composeGathers(_ program: LoweredProgram) -> LoweredProgram {
        var result = program
        var gathers: [Int: (input: Int, kernel: ChannelGatherKernel, layers: [String])] = [:]
        for index in result.steps.indices {
            let step = result.steps[index]
            guard case .gatherChannels(var kernel) = step.kernel else { continue }
            var layers = step.layers, input = step.inputs[0]
            if let first = gathers[input], first.kernel.spatial == kernel.spatial {
                kernel = ChannelGatherKernel(inputChannels: first.kernel.inputChannels, spatial: kernel.spatial,
                                             sources: kernel.sources.map { first.kernel.sources[$0] })
                layers = first.layers + layers
                input = first.input
                result.steps[index] = Step(layers: layers, kernel: .gatherChannels(kernel), inputs: [input], output: step.output)
            }
            gathers[step.output] = (input, kernel, layers)
        }
        return result
    }

    /// Drops steps whose output nobody reads (a branch that leads nowhere).
    public static func removeDeadSteps(_ program: LoweredProgram) -> LoweredProgram {
        var live = Set([program.output])
        var kept: [Step] = []
        for step in program.steps.reversed() where live.contains(step.output) {
            kept.append(step)
            live.formUnion(step.inputs)
        }
        var result = program
        result.steps = kept.reversed()
        return result
    }

    /// conv → batchnorm becomes one conv whose weights are scaled per output channel by
    /// γ/sqrt(var + eps) and whose bias is (bias − mean)·scale + β. Only when nothing else
    /// reads the conv's own output, and the conv applies no activation of its own.
    public static func foldBatchNorm(_ program: LoweredProgram) -> LoweredProgram {
        absorbIntoProducers(program) { producer, step in
            guard case .batchNorm(let norm) = step.kernel else { return nil }
            switch producer.kernel {
            case .convolution(var conv) where conv.activation == nil && conv.output.depth == norm.channels:
                conv.weight.recipe = .scaledByBatchNorm(conv.weight.recipe, norm.source, perChannel: conv.weight.count / norm.channels)
                conv.bias = WeightRef(.batchNormShift(bias: conv.bias?.recipe, norm.source), count: norm.channels)
                conv.activation = norm.activation
                return .convolution(conv)
            case .fullyConnected(var fc) where fc.activation == nil && fc.outputs == norm.channels:
                guard case .transposed(let base, let rows, let columns) = fc.weight.recipe else { return nil }
                fc.weight.recipe = .transposed(.scaledByBatchNorm(base, norm.source, perChannel: columns), rows: rows, columns: columns)
                fc.bias = WeightRef(.batchNormShift(bias: fc.bias?.recipe, norm.source), count: norm.channels)
                fc.activation = norm.activation
                return .fullyConnected(fc)
            default:
                return nil
            }
        }
    }

    /// An activation step whose input only it reads, made by a kernel that can apply an
    /// activation and has none, is applied by that kernel instead.
    public static func fuseActivations(_ program: LoweredProgram) -> LoweredProgram {
        absorbIntoProducers(program) { producer, step in
            guard case .activation(let activation) = step.kernel, producer.kernel.acceptsActivation,
                  // Not across a flatten: the fused step would write the vector's value in the
                  // volume's blocked layout (`conv; flatten; relu` overran its arena slot).
                  program.values[step.inputs[0]].shape == program.values[step.output].shape
            else { return nil }
            return producer.kernel.withActivation(activation.activation)
        }
    }

    /// Folds each one-input step into the step that makes its input, when `merge` gives the
    /// merged kernel, nothing else reads that input and it is not the network's output. One
    /// pass in step order with reader counts and producers kept up to date, so a network of
    /// 20,000 activations lowers in linear time (recomputing `readers()` per step was quadratic).
    static func absorbIntoProducers(_ program: LoweredProgram, merge: (Step, Step) -> Kernel?) -> LoweredProgram {
        var steps = program.steps
        var removed = [Bool](repeating: false, count: steps.count)
        var readerCount = [Int](repeating: 0, count: program.values.count)
        var producer = [Int?](repeating: nil, count: program.values.count)
        for (index, step) in steps.enumerated() {
            for input in Set(step.inputs) { readerCount[input] += 1 }
            producer[step.output] = index
        }
        for index in steps.indices {
            let step = steps[index]
            guard step.inputs.count == 1, let source = step.inputs.first, source != program.output,
                  readerCount[source] == 1, let maker = producer[source],
                  let merged = merge(steps[maker], step)
            else { continue }
            steps[maker].kernel = merged
            steps[maker].layers += step.layers
            steps[maker].output = step.output
            producer[step.output] = maker
            producer[source] = nil
            readerCount[source] = 0
            removed[index] = true
        }
        var result = program
        result.steps = steps.indices.filter { !removed[$0] }.map { steps[$0] }
        return result
    }

    /// The output lives in the caller's buffer, so a step must write it: when the network's
    /// output is its input (a network of dropouts), copy.
    public static func bindOutput(_ program: LoweredProgram) -> LoweredProgram {
        guard program.producers()[program.output] == nil else { return program }
        var result = program
        let value = ProgramValue(name: "output", shape: program.values[program.output].shape)
        result.values.append(value)
        result.steps.append(Step(layers: ["output"], kernel: .copy(elements: value.elementCount),
                                 inputs: [program.output], output: result.values.count - 1))
        result.output = result.values.count - 1
        return result
    }

    /// Keeps only the values that the input, the output and the steps use, in their order.
    public static func compactValues(_ program: LoweredProgram) -> LoweredProgram {
        var used = Set([program.input, program.output])
        for step in program.steps { used.formUnion(step.inputs); used.insert(step.output) }
        var newIndex = [Int](repeating: -1, count: program.values.count)
        var values: [ProgramValue] = []
        for (index, value) in program.values.enumerated() where used.contains(index) {
            newIndex[index] = values.count
            values.append(value)
        }
        var result = program
        result.values = values
        result.input = newIndex[program.input]
        result.output = newIndex[program.output]
        result.steps = program.steps.map { step in
            var step = step
            step.inputs = step.inputs.map { newIndex[$0] }
            step.output = newIndex[step.output]
            return step
        }
        return result
    }

    /// Floats each weight slice starts on a multiple of (64 bytes).
    public static let weightAlignment = 16

    /// Gives each weight slice its offset in the packed blob, in step order.
    public static func layoutWeights(_ program: LoweredProgram) -> LoweredProgram {
        var result = program
        var next = 0
        for index in result.steps.indices {
            let refs = result.steps[index].kernel.weightRefs.map { ref -> WeightRef in
                var ref = ref
                ref.offset = next
                next = roundUp(next + ref.count, to: weightAlignment)
                return ref
            }
            result.steps[index].kernel = result.steps[index].kernel.withWeightRefs(refs)
        }
        return result
    }
}

func roundUp(_ value: Int, to multiple: Int) -> Int {
    (value + multiple - 1) / multiple * multiple
}
