import ShapeCheck

/// The reference interpreter: the plain, obviously-right oracle every generated kernel is
/// tested against. It walks the checked network layer by layer, one readable function per
/// operation (see the other files in this folder), with PyTorch's semantics.
///
/// Arithmetic: activations are stored as Float between layers (as every backend stores them),
/// but every sum — convolution, fully connected, pooling averages, LRN, softmax — is
/// accumulated in Double and every transcendental function is evaluated in Double, then
/// rounded once to Float. So the interpreter's result is the correctly computed value of
/// each layer from its Float inputs, to within one rounding.
///
/// Memory: a layer's output is kept only until its last reader has run (reference counting
/// by last use), so a deep chain such as VGG-16 holds two or three activations at a time,
/// not all of them.
public struct ReferenceInterpreter: NetworkExecutor {
    public let network: CheckedNetwork
    private let weights: [String: Tensor]
    /// For each value (index 0 is the network input, i + 1 is layer i's output), the index of
    /// the last layer that reads it; the network's output is never released.
    private let lastUse: [Int]

    /// `weights` must already be validated for `network` (every key present with its shape).
    public init(network: CheckedNetwork, weights: [String: Tensor]) {
        self.network = network
        self.weights = weights
        var lastUse = [Int](repeating: -1, count: network.layers.count + 1)
        for (i, layer) in network.layers.enumerated() {
            for input in layer.inputs { lastUse[Self.slot(input)] = i }
        }
        lastUse[network.layers.count] = Int.max
        self.lastUse = lastUse
    }

    /// The shape `run` expects, with N for the batch: [N, D, H, W] or [N, K].
    public var expectedInputDescription: String {
        "[" + (["N"] + network.input.dimensions.map(String.init)).joined(separator: ", ") + "]"
    }

    /// `input` must be [N, D, H, W] (or [N, K] for a vector input) with N ≥ 1.
    public func checkInput(_ input: Tensor) throws {
        let expected = network.input.dimensions
        guard input.shape.count == expected.count + 1, Array(input.shape.dropFirst()) == expected,
              input.shape[0] >= 1 else {
            throw RuntimeError("input has shape \(input.shapeDescription) but network '\(network.name)' "
                + "expects \(expectedInputDescription) (input \(network.input))")
        }
    }

    /// At most the input and every layer's output at once (a layer's output is released after
    /// its last reader, so usually far less), in float32, per image.
    public func workspaceBytes(batch: Int) -> Int {
        let perImage = network.layers.reduce(network.input.elementCount) { $0 + $1.output.elementCount }
        return perImage.multipliedReportingOverflow(by: 4 * max(batch, 0)).partialValue
    }

    public func runPiece(_ input: UnsafeBufferPointer<Float>, batch: Int, into output: UnsafeMutableBufferPointer<Float>) throws {
        // Swift arrays trap when memory runs out; check the piece's upper bound can be had first.
        try requireMemory(workspaceBytes(batch: batch), for: "the reference interpreter's activations of \(batch) image\(batch == 1 ? "" : "s")")
        let result = evaluate(Array(input), batch: batch)
        precondition(result.count == output.count, "output of \(result.count) values for \(output.count)")
        _ = output.update(fromContentsOf: result)
    }

    /// The whole batch at once, handing `observe` each value (0 the input, i + 1 layer i's
    /// output) as it is computed, for showing feature maps; the output as `run` gives it.
    public func run(_ input: Tensor, observe: (Int, Tensor) -> Void) throws -> Tensor {
        try checkInput(input)
        let batch = input.shape[0]
        try requireMemory(workspaceBytes(batch: batch), for: "the reference interpreter's activations of \(batch) image\(batch == 1 ? "" : "s")")
        let output = evaluate(input.storage, batch: batch) { slot, value in
            let shape = slot == 0 ? network.input : network.layers[slot - 1].output
            observe(slot, Tensor(shape: [batch] + shape.dimensions, storage: value.data))
        }
        return Tensor(shape: [batch] + network.output.dimensions, storage: output)
    }

    /// The network on `batch` images of `data`; the output's storage.
    private func evaluate(_ data: [Float], batch: Int, observe: (Int, ReferenceActivations) -> Void = { _, _ in }) -> [Float] {
        let shape = network.input
        var values = [ReferenceActivations?](repeating: nil, count: network.layers.count + 1)
        values[0] = ReferenceActivations(batch: batch, depth: shape.depth, height: shape.height, width: shape.width,
                                data: data)
        observe(0, values[0]!)

        for (i, layer) in network.layers.enumerated() {
            // Take each input out of `values` at its last use, so an in-place operation
            // (an activation, batchnorm, dropout, flatten) owns its buffer and does not copy it.
            // All inputs first, then the releases: `add a a` names one value twice.
            var inputs = layer.inputs.map { values[Self.slot($0)]! }
            for input in layer.inputs where lastUse[Self.slot(input)] == i { values[Self.slot(input)] = nil }
            var output = compute(layer, &inputs, batch: batch)
            if let activation = layer.activation { Reference.activate(&output, activation) }
            precondition(output.depth == layer.output.depth && output.height == layer.output.height
                         && output.width == layer.output.width,
                         "\(layer.name): computed \(output.depth)x\(output.height)x\(output.width), checked \(layer.output)")
            observe(i + 1, output)
            // An output nobody reads (the checker warns about it) is dropped at once.
            if lastUse[i + 1] >= 0 { values[i + 1] = output }
        }
        return values[network.layers.count]!.data
    }

    private static func slot(_ input: LayerInput) -> Int {
        switch input {
        case .networkInput: 0
        case .layer(let i): i + 1
        }
    }

    private func parameter(_ layer: CheckedLayer, _ name: String) -> [Float]? {
        guard layer.parameters.contains(where: { $0.name == name }) else { return nil }
        guard let tensor = weights["\(layer.name).\(name)"] else {
            preconditionFailure("weights were not validated: \(layer.name).\(name) is missing")
        }
        return tensor.storage
    }

    /// One layer, before its fused activation. In-place operations take their input out of
    /// `inputs`.
    private func compute(_ layer: CheckedLayer, _ inputs: inout [ReferenceActivations], batch: Int) -> ReferenceActivations {
        let out = layer.output
        func empty() -> ReferenceActivations {
            ReferenceActivations(batch: batch, depth: out.depth, height: out.height, width: out.width)
        }
        switch layer.operation {
        case .convolution(var conv):
            var result = empty()
            var input = inputs[0]
            if conv.window.paddingMode != .zeros {
                input = Reference.padded(input, conv.window.padding, mode: conv.window.paddingMode)
                conv.window.padding = .zero
            }
            Reference.convolution(&result, input, weight: parameter(layer, "weight")!,
                                  bias: conv.hasBias ? parameter(layer, "bias")! : nil, conv)
            return result
        case .adaptiveAveragePool:
            var result = empty()
            Reference.adaptiveAveragePool(&result, inputs[0])
            return result
        case .maxout(let pieces):
            var result = empty()
            Reference.maxout(&result, inputs[0], pieces: pieces)
            return result
        case .fullyConnected:
            var result = empty()
            Reference.fullyConnected(&result, inputs[0], weight: parameter(layer, "weight")!,
                                     bias: parameter(layer, "bias"))
            return result
        case .pooling(let pool):
            var result = empty()
            switch pool.kind {
            case .max: Reference.maxPool(&result, inputs[0], pool.window)
            case .average: Reference.averagePool(&result, inputs[0], pool.window)
            }
            return result
        case .globalPooling(let kind):
            var result = empty()
            switch kind {
            case .max: Reference.globalMaxPool(&result, inputs[0])
            case .average: Reference.globalAveragePool(&result, inputs[0])
            }
            return result
        case .flatten:
            // [N, D, H, W] → [N, D·H·W]: the storage is already in that order.
            var result = inputs.removeFirst()
            result.depth = result.depth * result.height * result.width
            result.height = 1
            result.width = 1
            return result
        case .dropout:
            return inputs.removeFirst()
        case .batchNorm(let epsilon):
            var result = inputs.removeFirst()
            Reference.batchNorm(&result, mean: parameter(layer, "running_mean")!,
                                variance: parameter(layer, "running_var")!,
                                scale: parameter(layer, "weight")!, shift: parameter(layer, "bias")!,
                                epsilon: epsilon)
            return result
        case .localResponseNorm(let lrn):
            var result = empty()
            Reference.localResponseNorm(&result, inputs[0], lrn)
            return result
        case .activation(let activation):
            var result = inputs.removeFirst()
            Reference.activate(&result, activation)
            return result
        case .add:
            var result = empty()
            Reference.add(&result, inputs)
            return result
        case .concat:
            var result = empty()
            Reference.concat(&result, inputs)
            return result
        case .multiply:
            var result = empty()
            Reference.multiply(&result, inputs)
            return result
        case .layerNorm(let epsilon):
            var result = inputs.removeFirst()
            Reference.layerNorm(&result, scale: parameter(layer, "weight")!, shift: parameter(layer, "bias")!, epsilon: epsilon)
            return result
        case .layerScale:
            var result = inputs.removeFirst()
            Reference.layerScale(&result, parameter(layer, "layer_scale")!)
            return result
        case .pointwise(_, let hasBias):
            var result = empty()
            Reference.pointwise(&result, inputs[0], weight: parameter(layer, "weight")!, bias: hasBias ? parameter(layer, "bias")! : nil)
            return result
        case .transposedConvolution(let conv):
            var result = empty()
            Reference.transposedConvolution(&result, inputs[0], weight: parameter(layer, "weight")!,
                                            bias: conv.hasBias ? parameter(layer, "bias")! : nil, conv)
            return result
        case .upsample(let up):
            var result = empty()
            Reference.upsample(&result, inputs[0], up)
            return result
        case .slice(let start, _):
            var result = empty()
            Reference.copyChannels(&result, inputs[0]) { start + $0 }
            return result
        case .shuffle(let groups):
            var result = empty()
            let perGroup = out.depth / groups
            Reference.copyChannels(&result, inputs[0]) { ($0 % groups) * perGroup + $0 / groups }
            return result
        }
    }
}

/// One batch of activations inside the interpreter, [N, D, H, W] row-major; a vector of K
/// features is [N, K, 1, 1], which is the same storage as [N, K].
struct ReferenceActivations {
    var batch: Int
    var depth: Int
    var height: Int
    var width: Int
    var data: [Float]

    init(batch: Int, depth: Int, height: Int, width: Int, data: [Float]) {
        precondition(data.count == batch * depth * height * width)
        self.batch = batch
        self.depth = depth
        self.height = height
        self.width = width
        self.data = data
    }

    init(batch: Int, depth: Int, height: Int, width: Int) {
        self.init(batch: batch, depth: depth, height: height, width: width,
                  data: [Float](repeating: 0, count: batch * depth * height * width))
    }

    /// Elements of one image's one channel.
    var plane: Int { height * width }
    /// Elements of one image.
    var image: Int { depth * height * width }
}

/// The operations, one function each, output first. Shapes are in the comments; the output
/// has already been allocated with the checked shape.
enum Reference {}
