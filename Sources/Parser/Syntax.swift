/// The syntax tree of a `.cnn` file: what was written, with where, before any arithmetic.
/// Numbers are kept as written (a stride of 0 is syntactically fine; ShapeCheck rejects it).
public struct NetworkSyntax: Sendable {
    public var name: Located<String>?
    /// Where the `strict` line is, if there is one.
    public var strict: SourceRange?
    public var input: InputSyntax?
    public var layers: [LayerSyntax]
    /// Where the file ends, for diagnostics about something missing.
    public var end: SourceLocation
    /// Statements that were written but could not be read (already reported), so later
    /// stages do not report them again as missing.
    public var unreadableStatements: Int = 0
    /// An `input` line was written, even if it could not be read.
    public var inputWritten = false

    public init(name: Located<String>? = nil, strict: SourceRange? = nil, input: InputSyntax? = nil,
                layers: [LayerSyntax] = [], end: SourceLocation = SourceLocation(line: 1, column: 1)) {
        self.name = name
        self.strict = strict
        self.input = input
        self.layers = layers
        self.end = end
    }
}

/// `input 32x32x1` (width, height, depth) or `input 20` (a vector).
public struct InputSyntax: Sendable {
    public var dimensions: Located<[Int]>
    public var keyword: SourceRange
}

/// A size as written: `5` (square), `5x3` (width x height) or `227x227x3`.
public struct SizeSyntax: Hashable, Sendable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    public init(square: Int) {
        self.init(width: square, height: square)
    }

    public var description: String { "\(width)x\(height)" }
}

public enum PaddingSyntax: Hashable, Sendable {
    case explicit(SizeSyntax)
    case same
    case valid
    /// `pad fit`: per axis the smallest symmetric pad with which the stride fits.
    case fit
}

public enum PoolKind: String, Hashable, Sendable {
    case max
    case average
}

public enum ActivationSyntax: Hashable, Sendable {
    case relu
    case sigmoid
    case tanh
    case softmax
    /// The slope for negative inputs, when written.
    case leakyRelu(Double?)
    /// The scale for negative inputs, when written.
    case elu(Double?)
    case relu6
    case hardswish
    case hardsigmoid
    case silu
    /// `gelu`: the erf form; `gelu tanh`: PyTorch's `approximate='tanh'`.
    case gelu(tanh: Bool)

    public var keyword: String {
        switch self {
        case .relu: "relu"
        case .sigmoid: "sigmoid"
        case .tanh: "tanh"
        case .softmax: "softmax"
        case .leakyRelu: "leakyrelu"
        case .elu: "elu"
        case .relu6: "relu6"
        case .hardswish: "hardswish"
        case .hardsigmoid: "hardsigmoid"
        case .silu: "silu"
        case .gelu: "gelu"
        }
    }
}

/// Kernel, stride, padding and dilation, shared by conv, depthwise and the pools.
public struct WindowSyntax: Sendable {
    public var kernel: Located<SizeSyntax>
    public var stride: Located<SizeSyntax>?
    public var padding: Located<PaddingSyntax>?
    public var dilation: Located<SizeSyntax>?
    /// `padmode MODE`: what the padded cells hold (conv and depthwise only).
    public var paddingMode: Located<PaddingMode>? = nil
}

/// PyTorch's Conv2d `padding_mode`: zeros, or cells copied from the input's edge.
public enum PaddingMode: String, Hashable, Sendable, CaseIterable {
    case zeros, reflect, replicate, circular
}

public enum OperationSyntax: Sendable {
    case conv(filters: Located<Int>, window: WindowSyntax, groups: Located<Int>?, bias: Bool)
    case depthwise(window: WindowSyntax, multiplier: Located<Int>?, bias: Bool)
    case pool(PoolKind, window: WindowSyntax, ceil: Bool)
    case globalPool(PoolKind)
    case fullyConnected(outputs: Located<Int>)
    case flatten
    case dropout(probability: Located<Double>)
    case batchNorm(epsilon: Located<Double>?)
    case lrn(size: Located<Int>?, alpha: Located<Double>?, beta: Located<Double>?, k: Located<Double>?)
    case activation(ActivationSyntax)
    case add(sources: [Located<String>])
    case concat(sources: [Located<String>])
    /// Element-wise product; a 1x1xC operand is broadcast over W×H (squeeze-excitation).
    case multiply(sources: [Located<String>])
    /// Channels FROM..<TO of the input, torch's `x[:, FROM:TO]` (a half of `x.chunk(2, dim=1)`).
    case slice(from: Located<Int>, to: Located<Int>)
    /// torch's channel_shuffle: view(N, G, C/G, H, W).transpose(1, 2).reshape(N, C, H, W).
    case shuffle(groups: Located<Int>)
    /// LayerNorm over the channels at each position (convnext's LayerNorm2d and permuted LayerNorm).
    case layerNorm(epsilon: Located<Double>?)
    /// A learned per-channel multiplier, torchvision's CNBlock `layer_scale`.
    case layerScale
    /// torch's Linear applied at every position: weight [N, D1], bias [N].
    case pointwise(outputs: Located<Int>, bias: Bool)
    /// torch's AdaptiveAvgPool2d((H, W)): an output of exactly W×H, windows floor(i·In/Out)..<ceil((i+1)·In/Out).
    case adaptiveAveragePool(Located<SizeSyntax>)
    /// The max over each run of K consecutive channels (Goodfellow's maxout); depth D1/K.
    case maxout(pieces: Located<Int>)
    /// torch's ConvTranspose2d: weight [D1, K/G, Fh, Fw]; `outpad` is its output_padding.
    case transposedConv(filters: Located<Int>, window: WindowSyntax, outputPadding: Located<SizeSyntax>?, groups: Located<Int>?, bias: Bool)
    /// torch's nn.Upsample(scale_factor=S, mode=...); `alignCorners` where `aligncorners` was written.
    case upsample(scale: Located<SizeSyntax>, mode: UpsampleMode, alignCorners: SourceRange?)
}

/// F.interpolate's modes cnnc has.
public enum UpsampleMode: String, Hashable, Sendable {
    case nearest
    case bilinear
}

/// One layer line: `[NAME:] OP ARGS… [from NAME] [ACTIVATION]`.
public struct LayerSyntax: Sendable {
    public var name: Located<String>?
    /// The operation keyword as written (`conv`, `maxpool`…), used for automatic names.
    public var keyword: Located<String>
    public var operation: OperationSyntax
    public var from: Located<String>?
    /// A trailing activation on conv, depthwise, fc, add or concat.
    public var activation: Located<ActivationSyntax>?
    /// The whole line, from the first word to the last.
    public var range: SourceRange
}
