import Parser
import ShapeCheck

/// A random network as the generator draws it and the shrinker edits it: the input and one
/// entry per layer line, printed to `.cnn` text by `text`. The checker, not this type, says
/// whether it is valid; the generator keeps only what checks clean. Only this module builds
/// one, so the synthesized memberwise initialiser serves.
public struct NetworkSpec: Hashable, Sendable {
    public var width: Int
    public var height: Int
    public var depth: Int
    /// `input N` instead of a volume (width and height are then 1).
    public var vectorInput = false
    public var layers: [LayerSpec] = []
    /// Images per run.
    public var batch = 1
    /// The seed of the weights and the input drawn for it.
    public var dataSeed: UInt64 = 1
    /// Input cells set to 3e38 and the +2/−2 identity 1x1 convolutions that turn them into NaN
    /// (`nan.plus`, `nan.minus`, `nan`: see NetworkGenerator.nanPrologue).
    public var nanCells: [Int] = []

    /// The `.cnn` file.
    public var text: String {
        var lines = ["network fuzz", vectorInput ? "input \(depth)" : "input \(width)x\(height)x\(depth)"]
        lines += layers.map(\.text)
        return lines.joined(separator: "\n") + "\n"
    }

    /// The case the differential runner runs: the text and its data.
    public var fuzzCase: FuzzCase { FuzzCase(text: text, batch: batch, dataSeed: dataSeed, nanCells: nanCells) }

    /// Under the NaN prologue, only its three layers read the input (see NetworkGenerator).
    public var keepsInputToPrologue: Bool {
        nanCells.isEmpty || layers.indices.allSatisfy { i in
            ["nan.plus", "nan.minus", "nan"].contains(layers[i].name ?? "") || !layers[i].readsInput(at: i)
        }
    }

    /// The network checked, or nil when it has an error.
    public var checked: CheckedNetwork? {
        let result = checkSource(text, path: "fuzz.cnn")
        return result.hasErrors ? nil : result.network
    }
}

public struct Size2: Hashable, Sendable, CustomStringConvertible {
    public var width: Int
    public var height: Int
    public init(_ width: Int, _ height: Int) { self.width = width; self.height = height }
    public var isSquare: Bool { width == height }
    /// `3` for a square written short, `3x5` otherwise.
    public var description: String { "\(width)x\(height)" }
    var short: String { isSquare ? "\(width)" : description }
}

public enum PadSpec: Hashable, Sendable {
    case explicit(Size2)
    case same
    case valid

    var text: String {
        switch self {
        case .explicit(let p): "pad \(p.short)"
        case .same: "pad same"
        case .valid: "pad valid"
        }
    }
}

// Activations are written in the parser's own terms: the fuzzer draws `ActivationSyntax` values
// and prints them with the parser's keywords.
extension ActivationSyntax {
    /// Each activation once, with its parameter left to the default.
    static let allKinds: [ActivationSyntax] = [.relu, .sigmoid, .tanh, .softmax, .leakyRelu(nil), .elu(nil),
                                               .relu6, .hardswish, .hardsigmoid, .silu, .gelu(tanh: false), .gelu(tanh: true)]

    /// The coverage feature's name: the keyword, with gelu's two forms told apart.
    var feature: String {
        self == .gelu(tanh: true) ? "gelu_tanh" : keyword
    }

    var text: String {
        switch self {
        case .leakyRelu(let a?), .elu(let a?): "\(keyword) \(formatNumber(a))"
        case .gelu(tanh: true): "gelu tanh"
        default: keyword
        }
    }
}

/// The windowed ops' options, each nil when not written (the default applies).
public struct WindowSpec: Hashable, Sendable {
    public var kernel: Size2
    public var stride: Size2?
    public var pad: PadSpec?
    public var dilation: Size2?
    /// `padmode M` (conv and depthwise only); nil leaves zeros.
    public var padMode: PaddingMode? = nil

    public init(kernel: Size2, stride: Size2? = nil, pad: PadSpec? = nil, dilation: Size2? = nil) {
        self.kernel = kernel
        self.stride = stride
        self.pad = pad
        self.dilation = dilation
    }

    var words: [String] {
        var words = [kernel.description]
        if let stride { words.append("stride \(stride.short)") }
        if let pad { words.append(pad.text) }
        if let dilation { words.append("dilation \(dilation.short)") }
        if let padMode { words.append("padmode \(padMode.rawValue)") }
        return words
    }
}

public enum OpSpec: Hashable, Sendable {
    case conv(filters: Int, window: WindowSpec, groups: Int?, bias: Bool)
    case depthwise(window: WindowSpec, multiplier: Int?, bias: Bool)
    case pool(max: Bool, window: WindowSpec, ceil: Bool)
    case globalPool(max: Bool)
    case fc(Int)
    case flatten
    case dropout(Double)
    case batchNorm(epsilon: Double?)
    /// size, alpha, beta, k; nil where the default applies.
    case lrn(size: Int?, alpha: Double?, beta: Double?, k: Double?)
    case activation(ActivationSyntax)
    case add([String])
    case concat([String])
    case multiply([String])
    /// Channels from..<to.
    case slice(from: Int, to: Int)
    case shuffle(groups: Int)
    case layerNorm(epsilon: Double?)
    case layerScale
    case pointwise(Int, bias: Bool)
    case adaptivePool(Size2)
    case maxout(Int)
    /// A transposed convolution; `outputPadding` is `outpad`.
    case deconv(filters: Int, window: WindowSpec, outputPadding: Size2?, groups: Int?, bias: Bool)
    case upsample(scale: Size2, bilinear: Bool, alignCorners: Bool)

    var words: [String] {
        switch self {
        case .conv(let filters, let window, let groups, let bias):
            return ["conv", "\(filters)"] + window.words + (groups.map { ["groups \($0)"] } ?? []) + (bias ? [] : ["nobias"])
        case .depthwise(let window, let multiplier, let bias):
            return ["depthwise"] + window.words + (multiplier.map { ["multiplier \($0)"] } ?? []) + (bias ? [] : ["nobias"])
        case .pool(let max, let window, let ceil):
            return [max ? "maxpool" : "avgpool"] + window.words + (ceil ? ["round ceil"] : [])
        case .globalPool(let max): return [max ? "globalmaxpool" : "globalavgpool"]
        case .fc(let n): return ["fc", "\(n)"]
        case .flatten: return ["flatten"]
        case .dropout(let p): return ["dropout", formatNumber(p)]
        case .batchNorm(let eps): return ["batchnorm"] + (eps.map { ["eps \(formatNumber($0))"] } ?? [])
        case .lrn(let size, let alpha, let beta, let k):
            var words = ["lrn"]
            if let size { words.append("size \(size)") }
            if let alpha { words.append("alpha \(formatNumber(alpha))") }
            if let beta { words.append("beta \(formatNumber(beta))") }
            if let k { words.append("k \(formatNumber(k))") }
            return words
        case .activation(let a): return [a.text]
        case .add(let sources): return ["add"] + sources
        case .concat(let sources): return ["concat"] + sources
        case .multiply(let sources): return ["mul"] + sources
        case .slice(let from, let to): return ["slice", "\(from)", "\(to)"]
        case .shuffle(let groups): return ["shuffle", "\(groups)"]
        case .layerNorm(let eps): return ["layernorm"] + (eps.map { ["eps \(formatNumber($0))"] } ?? [])
        case .layerScale: return ["layerscale"]
        case .pointwise(let n, let bias): return ["pointwise", "\(n)"] + (bias ? [] : ["nobias"])
        case .adaptivePool(let size): return ["adaptiveavgpool", "\(size.width)x\(size.height)"]
        case .maxout(let k): return ["maxout", "\(k)"]
        case .deconv(let filters, let window, let outputPadding, let groups, let bias):
            return ["deconv", "\(filters)"] + window.words + (outputPadding.map { ["outpad \($0.short)"] } ?? [])
                + (groups.map { ["groups \($0)"] } ?? []) + (bias ? [] : ["nobias"])
        case .upsample(let scale, let bilinear, let alignCorners):
            return ["upsample", scale.short] + (bilinear ? ["bilinear"] : scale.isSquare ? [] : ["nearest"]) + (alignCorners ? ["aligncorners"] : [])
        }
    }

    /// The window of conv, depthwise and the pools.
    var window: WindowSpec? {
        switch self {
        case .conv(_, let w, _, _), .depthwise(let w, _, _), .pool(_, let w, _), .deconv(_, let w, _, _, _): w
        default: nil
        }
    }

    /// The layers it names as operands (add, concat and mul).
    var operands: [String] {
        switch self {
        case .add(let s), .concat(let s), .multiply(let s): s
        default: []
        }
    }

    /// Ops that take a trailing activation.
    var takesActivation: Bool {
        switch self {
        case .conv, .depthwise, .fc, .pointwise, .add, .concat, .multiply, .deconv: true
        default: false
        }
    }
}

/// One layer line. A nil name leaves the automatic one (`conv3`); `from` nil reads the line before.
public struct LayerSpec: Hashable, Sendable {
    public var name: String?
    public var op: OpSpec
    public var from: String?
    public var activation: ActivationSyntax?

    public init(name: String?, op: OpSpec, from: String? = nil, activation: ActivationSyntax? = nil) {
        self.name = name
        self.op = op
        self.from = from
        self.activation = activation
    }

    /// Whether this layer, at `index`, reads the network input.
    func readsInput(at index: Int) -> Bool {
        from == "input" || op.operands.contains("input") || (index == 0 && from == nil && op.operands.isEmpty)
    }

    public var text: String {
        var words = op.words
        if let from { words += ["from", from] }
        if let activation { words.append(activation.text) }
        return (name.map { "\($0): " } ?? "") + words.joined(separator: " ")
    }
}
