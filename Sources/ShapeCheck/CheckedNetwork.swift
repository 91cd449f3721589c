import Foundation
import Parser

/// The shape of one image's activations. Volumes are written W×H×D as the lectures do and
/// stored in PyTorch's order [D, H, W]; a vector (an FC output, `input 20`) is [N].
public struct TensorShape: Hashable, Sendable, CustomStringConvertible {
    public var width: Int
    public var height: Int
    public var depth: Int
    public var isVector: Bool

    public static func volume(width: Int, height: Int, depth: Int) -> TensorShape {
        TensorShape(width: width, height: height, depth: depth, isVector: false)
    }

    /// A vector of n features; its depth is n so depth-wise ops (concat, add) treat both alike.
    public static func vector(_ n: Int) -> TensorShape {
        TensorShape(width: 1, height: 1, depth: n, isVector: true)
    }

    /// Elements per image. Never overflows: ShapeCheck rejects shapes whose product would.
    public var elementCount: Int { width * height * depth }

    /// PyTorch's dimensions for one image: [D, H, W] or [N].
    public var dimensions: [Int] { isVector ? [depth] : [depth, height, width] }

    public var description: String { isVector ? "\(depth)" : "\(width)x\(height)x\(depth)" }
}

/// Where a layer reads from.
public enum LayerInput: Hashable, Sendable {
    case networkInput
    /// An index into `CheckedNetwork.layers`, always of an earlier layer.
    case layer(Int)
}

/// Zero cells added on each side.
public struct Padding: Hashable, Sendable {
    public var left: Int
    public var right: Int
    public var top: Int
    public var bottom: Int

    public init(left: Int, right: Int, top: Int, bottom: Int) {
        self.left = left
        self.right = right
        self.top = top
        self.bottom = bottom
    }

    public static let zero = Padding(left: 0, right: 0, top: 0, bottom: 0)
    public var isZero: Bool { self == .zero }
}

/// A sliding window: kernel, stride, dilation and padding with every default filled in.
public struct Window: Hashable, Sendable {
    public var kernelWidth: Int
    public var kernelHeight: Int
    public var strideWidth: Int
    public var strideHeight: Int
    public var dilationWidth: Int
    public var dilationHeight: Int
    public var padding: Padding
    /// Where the padding came from, so reports can say when cnnc chose it.
    public var paddingRule: PaddingRule
    public var paddingIsSame: Bool { paddingRule == .same }
    /// What the padded cells hold; only convolutions have a mode other than zeros.
    public var paddingMode: PaddingMode = .zeros

    /// Dilated extent Fe = D·(F − 1) + 1.
    public var extentWidth: Int { dilationWidth * (kernelWidth - 1) + 1 }
    public var extentHeight: Int { dilationHeight * (kernelHeight - 1) + 1 }
}

/// `pad P` as written (or none), or chosen by `pad same` or `pad fit`.
public enum PaddingRule: Hashable, Sendable {
    case written
    case same
    case fit
}

/// A convolution; `depthwise` is the same thing with groups = D1 and K = D1·M.
public struct Convolution: Hashable, Sendable {
    public var filters: Int
    public var window: Window
    public var groups: Int
    public var hasBias: Bool
    /// Set for a `depthwise` line, whose channel multiplier is filters / groups.
    public var isDepthwise: Bool
}

/// A transposed convolution: every input cell scatters weight·x over a Fh×Fw window of the
/// output placed at (y·S − P, x·S − P), taps D apart; `outputPadding` extends the far sides.
public struct TransposedConvolution: Hashable, Sendable {
    public var filters: Int
    /// Its padding is P on both sides of each axis (torch's `padding`).
    public var window: Window
    public var outputPaddingWidth: Int
    public var outputPaddingHeight: Int
    public var groups: Int
    public var hasBias: Bool
}

/// Nearest or bilinear resampling by whole factors; `alignCorners` only with bilinear.
public struct Upsample: Hashable, Sendable {
    public var scaleWidth: Int
    public var scaleHeight: Int
    public var mode: UpsampleMode
    public var alignCorners: Bool
}

public typealias UpsampleMode = Parser.UpsampleMode

public struct Pooling: Hashable, Sendable {
    public var kind: PoolKind
    public var window: Window
    /// `round ceil`: PyTorch's ceil_mode.
    public var ceilMode: Bool
}

public enum Activation: Hashable, Sendable, CustomStringConvertible {
    case relu
    case sigmoid
    case tanh
    /// Across depth at each position for a volume.
    case softmax
    case leakyRelu(alpha: Double)
    case elu(alpha: Double)
    /// min(max(x, 0), 6)
    case relu6
    /// x · relu6(x + 3) / 6
    case hardswish
    /// relu6(x + 3) / 6
    case hardsigmoid
    /// x · sigmoid(x)
    case silu
    /// x · Φ(x), with erf; `tanh`: PyTorch's approximate='tanh'.
    case gelu(tanh: Bool)

    public var description: String {
        switch self {
        case .relu: "relu"
        case .sigmoid: "sigmoid"
        case .tanh: "tanh"
        case .softmax: "softmax"
        case .leakyRelu(let a): "leakyrelu \(formatNumber(a))"
        case .elu(let a): "elu \(formatNumber(a))"
        case .relu6: "relu6"
        case .hardswish: "hardswish"
        case .hardsigmoid: "hardsigmoid"
        case .silu: "silu"
        case .gelu(let tanh): tanh ? "gelu tanh" : "gelu"
        }
    }
}

/// Local response normalisation across channels, PyTorch's formula:
/// b = a / (k + alpha/size · Σ a²)^beta over `size` neighbouring channels.
public struct LocalResponseNorm: Hashable, Sendable {
    public var size: Int
    public var alpha: Double
    public var beta: Double
    public var k: Double
}

public enum Operation: Hashable, Sendable {
    case convolution(Convolution)
    case pooling(Pooling)
    case globalPooling(PoolKind)
    case fullyConnected(outputs: Int)
    case flatten
    /// Identity at inference.
    case dropout(probability: Double)
    /// Inference form: (x − mean)/sqrt(var + eps)·γ + β.
    case batchNorm(epsilon: Double)
    case localResponseNorm(LocalResponseNorm)
    case activation(Activation)
    case add
    case concat
    /// Element-wise product; a 1x1xC input is broadcast over the others' W×H.
    case multiply
    /// Channels from..<to of the input.
    case slice(from: Int, to: Int)
    /// Channel c·G + g of the output is channel g·(C/G) + c of the input.
    case shuffle(groups: Int)
    /// Over the D channels at each position: (x − mean)/sqrt(var + eps)·γ + β, var biased.
    case layerNorm(epsilon: Double)
    /// y[c] = γ[c]·x[c]; γ is `NAME.layer_scale`, [D, 1, 1] as torchvision stores it.
    case layerScale
    /// y[o] = b[o] + Σ_c W[o, c]·x[c] at each position; W [N, D] as torch's Linear.
    case pointwise(outputs: Int, hasBias: Bool)
    /// torch's AdaptiveAvgPool2d: output cell i averages input floor(i·In/Out)..<ceil((i+1)·In/Out) on each axis.
    case adaptiveAveragePool(width: Int, height: Int)
    /// y[c] = max over j < K of x[c·K + j] at each position; depth D/K.
    case maxout(pieces: Int)
    /// torch's ConvTranspose2d; weight [D1, K/G, Fh, Fw].
    case transposedConvolution(TransposedConvolution)
    /// torch's nn.Upsample with an integer scale_factor per axis.
    case upsample(Upsample)
}

/// A tensor a layer needs from the weight file, keyed `LAYER.NAME`, in PyTorch's layout.
public struct ParameterTensor: Hashable, Sendable {
    /// `weight`, `bias`, `running_mean` or `running_var`.
    public var name: String
    public var shape: [Int]
    /// Batchnorm's running statistics are not trained; they are counted apart.
    public var isTrainable: Bool

    public var elementCount: Int { shape.reduce(1, *) }
}

/// How one spatial output size was computed, for warnings and `--explain`:
/// out = (input − extent + padBefore + padAfter)/stride + 1, floored or (ceil mode) rounded up.
public struct SizeArithmetic: Hashable, Sendable {
    public var input: Int
    public var extent: Int
    public var padBefore: Int
    public var padAfter: Int
    public var stride: Int
    public var ceilMode: Bool
    public var output: Int
    /// Input cells (columns or rows) on the far side that no window reads.
    public var unreadCells: Int

    /// The numerator input − extent + padding.
    public var span: Int { input - extent + padBefore + padAfter }
    public var fits: Bool { span % stride == 0 }
    /// Of the unread cells, those of the input rather than of the far padding.
    public var unreadInputCells: Int { max(0, unreadCells - padAfter) }
    /// Cells every window skips after it because it is narrower than the stride.
    public var gap: Int { max(0, stride - extent) }
    /// Input cells left unread beyond the gap every window leaves anyway: what a stride that
    /// does not fit loses, and what `check` warns about.
    public var lostInputCells: Int { max(0, unreadInputCells - gap) }
}

public struct CheckedLayer: Sendable {
    public var name: String
    /// The keyword on the line (`conv`, `depthwise`, `maxpool`, `relu`…).
    public var keyword: String
    public var operation: Operation
    public var inputs: [LayerInput]
    public var inputShapes: [TensorShape]
    public var output: TensorShape
    /// A trailing activation fused into this layer; its output is the activated one.
    public var activation: Activation?
    public var parameters: [ParameterTensor]
    public var multiplyAccumulates: Int
    /// Width then height, for windowed layers.
    public var arithmetic: [SizeArithmetic]
    public var range: SourceRange
    /// What one output cell sees of the network's input; set once the whole network checks.
    public var receptiveField = ReceptiveField.pixel

    public var trainableParameters: Int {
        parameters.reduce(0) { $1.isTrainable ? $0 + $1.elementCount : $0 }
    }

    public var nonTrainableParameters: Int {
        parameters.reduce(0) { $1.isTrainable ? $0 : $0 + $1.elementCount }
    }

    /// The weight file key for one of this layer's tensors.
    public func key(_ tensor: ParameterTensor) -> String { "\(name).\(tensor.name)" }
}

/// A network whose every shape, name and count is known and consistent.
public struct CheckedNetwork: Sendable {
    public var name: String
    public var input: TensorShape
    public var layers: [CheckedLayer]
    public var strict: Bool

    /// The network's output is the last layer's.
    public var output: TensorShape { layers.last?.output ?? input }

    public func shape(of input: LayerInput) -> TensorShape {
        switch input {
        case .networkInput: self.input
        case .layer(let i): layers[i].output
        }
    }

    public var trainableParameters: Int { layers.reduce(0) { $0 + $1.trainableParameters } }
    public var nonTrainableParameters: Int { layers.reduce(0) { $0 + $1.nonTrainableParameters } }
    public var multiplyAccumulates: Int { layers.reduce(0) { $0 + $1.multiplyAccumulates } }
    /// Every value one image produces, the input included.
    public var activationElements: Int { layers.reduce(input.elementCount) { $0 + $1.output.elementCount } }

    /// Every tensor the weight file must hold, in layer order, as (key, tensor).
    public var parameterTensors: [(key: String, tensor: ParameterTensor)] {
        layers.flatMap { layer in layer.parameters.map { (layer.key($0), $0) } }
    }
}

/// Numbers as a reader expects: `0.1`, `1e-05`, `2`.
public func formatNumber(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
    return "\(value)"
}

/// Max or average; re-exported so later stages need not import the parser.
public typealias PoolKind = Parser.PoolKind
