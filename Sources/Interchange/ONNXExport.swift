import Parser
import Runtime
import ShapeCheck

// `cnnc export`: a checked network and its weights as an ONNX model that ONNX Runtime runs
// and Netron shows. Every layer's output keeps the layer's name, and so does its node (a
// layer that needs more than one node names the others `NAME.flatten`, `NAME.act` …);
// weights are initializers under their weight-file keys, in PyTorch's layouts, which are
// ONNX's. The batch is a dimension named N. Opset 20: Gelu, and Pad's wrap for circular pads.

/// A layer ONNX has no node for, or options it cannot express.
public struct ExportError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum ONNXExport {
    public static let opset: Int64 = 20
    /// ONNX's IR version 10 goes with opset 20.
    public static let irVersion: Int64 = 10

    public static func model(_ network: CheckedNetwork, weights: [String: Tensor], producerVersion: String) throws -> ONNXModel {
        var builder = Builder(network: network, weights: weights)
        for index in network.layers.indices { try builder.add(index) }
        var model = ONNXModel()
        model.irVersion = irVersion
        model.producerName = "cnnc"
        model.producerVersion = producerVersion
        model.opsets = [ONNXModel.OperatorSet(domain: "", version: opset)]
        model.hasGraph = true
        model.graph = builder.graph
        return model
    }
}

struct Builder {
    let network: CheckedNetwork
    let weights: [String: Tensor]
    var graph = ONNXGraph()
    var names: Set<String> = []

    init(network: CheckedNetwork, weights: [String: Tensor]) {
        self.network = network
        self.weights = weights
        graph.name = network.name
        graph.inputs = [ONNXValueInfo.tensor("input", Self.dims(network.input))]
        // Taken from the start: every layer's output is a tensor of its name.
        names = Set(["input"] + network.layers.map(\.name))
        if let last = network.layers.last {
            graph.outputs = [ONNXValueInfo.tensor(last.name, Self.dims(last.output))]
        }
    }

    static func dims(_ shape: TensorShape) -> [ONNXValueInfo.Dimension] {
        [.param("N")] + shape.dimensions.map { .value(Int64($0)) }
    }

    func source(_ input: LayerInput) -> String {
        switch input {
        case .networkInput: "input"
        case .layer(let i): network.layers[i].name
        }
    }

    /// A tensor name of the layer's that no layer and no weight takes.
    mutating func fresh(_ name: String) -> String {
        var candidate = name, n = 2
        while names.contains(candidate) || weights[candidate] != nil {
            candidate = "\(name)\(n)"
            n += 1
        }
        names.insert(candidate)
        return candidate
    }

    mutating func node(_ op: String, _ inputs: [String], _ output: String, _ attributes: [ONNXAttribute] = []) {
        graph.nodes.append(.make(op, inputs, [output], name: output, attributes))
        names.insert(output)
    }

    /// The weight-file tensor `key` as an initializer (added once), its name.
    mutating func weight(_ key: String, reshapedTo dims: [Int]? = nil) throws -> String {
        guard let tensor = weights[key] else { throw ExportError("no weight tensor '\(key)'") }
        let name = dims == nil ? key : fresh(key + ".reshaped")
        if !graph.initializers.contains(where: { $0.name == name }) {
            graph.initializers.append(.float(name, dims: (dims ?? tensor.shape).map(Int64.init), tensor.storage))
        }
        return name
    }

    mutating func constant(_ name: String, int64s: [Int64]) -> String {
        let named = fresh(name)
        graph.initializers.append(.int64(named, dims: [Int64(int64s.count)], int64s))
        return named
    }

    mutating func constant(_ name: String, float: Float) -> String {
        let named = fresh(name)
        graph.initializers.append(.float(named, dims: [], [float]))
        return named
    }

    static func windowAttributes(_ w: Window, kernel: Bool = true) -> [ONNXAttribute] {
        (kernel ? [.ints("kernel_shape", [Int64(w.kernelHeight), Int64(w.kernelWidth)])] : [])
            + [.ints("strides", [Int64(w.strideHeight), Int64(w.strideWidth)]),
               .ints("pads", [w.padding.top, w.padding.left, w.padding.bottom, w.padding.right].map(Int64.init))]
    }

    mutating func add(_ index: Int) throws {
        let layer = network.layers[index]
        let inputs = layer.inputs.map(source)
        let key = { (name: String) in "\(layer.name).\(name)" }
        // The operation's own output: the layer's name, unless a trailing activation follows.
        let core = layer.activation == nil ? layer.name : fresh(layer.name + ".pre")
        func fail(_ why: String) -> ExportError { ExportError("\(layer.name): \(why)") }

        switch layer.operation {
        case .convolution(let c):
            var x = inputs[0]
            var window = c.window
            if window.paddingMode != .zeros {
                x = try explicitPad(x, window.padding, mode: window.paddingMode, layer: layer.name)
                window.padding = .zero
            }
            var operands = [x, try weight(key("weight"))]
            if c.hasBias { operands.append(try weight(key("bias"))) }
            node("Conv", operands, core, Self.windowAttributes(window) + [
                .ints("dilations", [Int64(window.dilationHeight), Int64(window.dilationWidth)]),
                .int("group", Int64(c.groups))])
        case .transposedConvolution(let t):
            var operands = [inputs[0], try weight(key("weight"))]
            if t.hasBias { operands.append(try weight(key("bias"))) }
            node("ConvTranspose", operands, core, Self.windowAttributes(t.window) + [
                .ints("dilations", [Int64(t.window.dilationHeight), Int64(t.window.dilationWidth)]),
                .ints("output_padding", [Int64(t.outputPaddingHeight), Int64(t.outputPaddingWidth)]),
                .int("group", Int64(t.groups))])
        case .pooling(let p):
            var attributes = Self.windowAttributes(p.window) + [.int("ceil_mode", p.ceilMode ? 1 : 0)]
            if p.kind == .average { attributes.append(.int("count_include_pad", 1)) }
            node(p.kind == .max ? "MaxPool" : "AveragePool", inputs, core, attributes)
        case .globalPooling(let kind):
            node(kind == .max ? "GlobalMaxPool" : "GlobalAveragePool", inputs, core)
        case .adaptiveAveragePool(let width, let height):
            let input = layer.inputShapes[0]
            guard input.width % width == 0, input.height % height == 0 else {
                throw fail("adaptiveavgpool \(width)x\(height) of \(input.width)x\(input.height) has windows of two sizes, which no ONNX pool has")
            }
            if width == 1 && height == 1 {
                node("GlobalAveragePool", inputs, core)
            } else {
                let (kw, kh) = (input.width / width, input.height / height)
                node("AveragePool", inputs, core, [.ints("kernel_shape", [Int64(kh), Int64(kw)]), .ints("strides", [Int64(kh), Int64(kw)])])
            }
        case .fullyConnected:
            var x = inputs[0]
            if !layer.inputShapes[0].isVector {
                let flat = fresh(layer.name + ".flatten")
                node("Flatten", [x], flat, [.int("axis", 1)])
                x = flat
            }
            node("Gemm", [x, try weight(key("weight")), try weight(key("bias"))], core, [.int("transB", 1)])
        case .pointwise(let outputs, let hasBias):
            // torch's Linear at every position is a 1x1 convolution of the same weight.
            let depth = layer.inputShapes[0].depth
            var operands = [inputs[0], try weight(key("weight"), reshapedTo: [outputs, depth, 1, 1])]
            if hasBias { operands.append(try weight(key("bias"))) }
            node("Conv", operands, core, [.ints("kernel_shape", [1, 1])])
        case .flatten:
            node("Flatten", inputs, core, [.int("axis", 1)])
        case .dropout:
            node("Identity", inputs, core)
        case .batchNorm(let epsilon):
            node("BatchNormalization", [inputs[0], try weight(key("weight")), try weight(key("bias")),
                                        try weight(key("running_mean")), try weight(key("running_var"))],
                 core, [.float("epsilon", Float(epsilon))])
        case .localResponseNorm(let n):
            node("LRN", inputs, core, [.int("size", Int64(n.size)), .float("alpha", Float(n.alpha)),
                                       .float("beta", Float(n.beta)), .float("bias", Float(n.k))])
        case .activation(let activation):
            try activate(activation, inputs[0], core, layer: layer.name)
        case .add:
            node(inputs.count == 2 ? "Add" : "Sum", inputs, core)
        case .multiply:
            var product = inputs[0]
            for (i, operand) in inputs.dropFirst().enumerated() {
                let output = i == inputs.count - 2 ? core : fresh(layer.name + ".product\(i + 1)")
                node("Mul", [product, operand], output)
                product = output
            }
        case .concat:
            node("Concat", inputs, core, [.int("axis", 1)])
        case .slice(let from, let to):
            node("Slice", [inputs[0], constant(layer.name + ".starts", int64s: [Int64(from)]),
                           constant(layer.name + ".ends", int64s: [Int64(to)]), constant(layer.name + ".axes", int64s: [1])], core)
        case .shuffle(let groups):
            let s = layer.inputShapes[0]
            let split = fresh(layer.name + ".split"), swapped = fresh(layer.name + ".transposed")
            node("Reshape", [inputs[0], constant(layer.name + ".split_shape",
                                                 int64s: [0, Int64(groups), Int64(s.depth / groups), Int64(s.height), Int64(s.width)])], split)
            node("Transpose", [split], swapped, [.ints("perm", [0, 2, 1, 3, 4])])
            node("Reshape", [swapped, constant(layer.name + ".shape", int64s: [0, Int64(s.depth), Int64(s.height), Int64(s.width)])], core)
        case .layerNorm(let epsilon):
            // Over the channels at each position: channels last, LayerNormalization, back.
            let last = fresh(layer.name + ".channels_last"), normed = fresh(layer.name + ".normalized")
            node("Transpose", inputs, last, [.ints("perm", [0, 2, 3, 1])])
            node("LayerNormalization", [last, try weight(key("weight")), try weight(key("bias"))], normed,
                 [.int("axis", -1), .float("epsilon", Float(epsilon))])
            node("Transpose", [normed], core, [.ints("perm", [0, 3, 1, 2])])
        case .layerScale:
            node("Mul", [inputs[0], try weight(key("layer_scale"))], core)
        case .maxout(let pieces):
            let s = layer.inputShapes[0]
            let grouped = fresh(layer.name + ".pieces")
            let shape: [Int64] = s.isVector ? [0, Int64(s.depth / pieces), Int64(pieces)]
                : [0, Int64(s.depth / pieces), Int64(pieces), Int64(s.height), Int64(s.width)]
            node("Reshape", [inputs[0], constant(layer.name + ".pieces_shape", int64s: shape)], grouped)
            node("ReduceMax", [grouped, constant(layer.name + ".axes", int64s: [2])], core, [.int("keepdims", 0)])
        case .upsample(let u):
            let scales = fresh(layer.name + ".scales")
            graph.initializers.append(.float(scales, dims: [4], [1, 1, Float(u.scaleHeight), Float(u.scaleWidth)]))
            let attributes: [ONNXAttribute] = u.mode == .nearest
                ? [.string("mode", "nearest"), .string("coordinate_transformation_mode", "asymmetric"), .string("nearest_mode", "floor")]
                : [.string("mode", "linear"),
                   .string("coordinate_transformation_mode", u.alignCorners ? "align_corners" : "pytorch_half_pixel")]
            node("Resize", [inputs[0], "", scales], core, attributes)
        }
        if let activation = layer.activation {
            try activate(activation, core, layer.name, layer: layer.name)
        }
    }

    /// Pad's reflect, edge or wrap before a convolution that pads with copies of its input.
    mutating func explicitPad(_ x: String, _ p: Padding, mode: PaddingMode, layer: String) throws -> String {
        let padded = fresh(layer + ".pad")
        let onnxMode: String = switch mode {
        case .zeros: "constant"
        case .reflect: "reflect"
        case .replicate: "edge"
        case .circular: "wrap"
        }
        let pads: [Int64] = [0, 0, Int64(p.top), Int64(p.left), 0, 0, Int64(p.bottom), Int64(p.right)]
        node("Pad", [x, constant(layer + ".pads", int64s: pads)], padded, [.string("mode", onnxMode)])
        return padded
    }

    mutating func activate(_ activation: Activation, _ x: String, _ output: String, layer: String) throws {
        switch activation {
        case .relu: node("Relu", [x], output)
        case .sigmoid: node("Sigmoid", [x], output)
        case .tanh: node("Tanh", [x], output)
        case .softmax: node("Softmax", [x], output, [.int("axis", 1)])
        case .leakyRelu(let alpha): node("LeakyRelu", [x], output, [.float("alpha", Float(alpha))])
        case .elu(let alpha): node("Elu", [x], output, [.float("alpha", Float(alpha))])
        case .relu6:
            node("Clip", [x, constant(layer + ".min", float: 0), constant(layer + ".max", float: 6)], output)
        case .hardswish: node("HardSwish", [x], output)
        case .hardsigmoid:
            node("HardSigmoid", [x], output, [.float("alpha", 1.0 / 6.0), .float("beta", 0.5)])
        case .silu:
            let gate = fresh(layer + ".sigmoid")
            node("Sigmoid", [x], gate)
            node("Mul", [x, gate], output)
        case .gelu(let tanh):
            node("Gelu", [x], output, tanh ? [.string("approximate", "tanh")] : [])
        }
    }
}
