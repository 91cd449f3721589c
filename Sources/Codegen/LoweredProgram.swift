import Parser
import ShapeCheck

// A lowered program is what the emitters print: a straight-line list of kernel calls whose
// every shape, stride, padding and weight offset is a constant. It is built from a checked
// network by `lower(_:)` (see Lowering.swift) and never refers back to it.
//
// Data lives in *values*: the network input, the network output and the intermediate
// tensors between steps. A value holds one image's worth of elements per batch item; the
// batch is a run-time argument, so every value is laid out [N, …per image…].

/// One tensor of the program, per image.
public struct ProgramValue: Sendable, Equatable {
    /// The layer (or layers, `c1+bn1`) whose result this is; "input" for the network input.
    public var name: String
    public var shape: TensorShape

    public var elementCount: Int { shape.elementCount }
}

/// Where a kernel's tensor of constants comes from: the recipe that turns the weight file's
/// tensors into the packed blob's slice, and (once laid out) where that slice is.
public struct WeightRef: Sendable, Equatable {
    public var recipe: WeightRecipe
    /// Elements in the packed slice.
    public var count: Int
    /// Offset, in floats, into the packed weight blob; -1 until `layoutWeights` runs.
    public var offset: Int

    public init(_ recipe: WeightRecipe, count: Int, offset: Int = -1) {
        self.recipe = recipe
        self.count = count
        self.offset = offset
    }
}

/// The keys and epsilon of one batchnorm layer, for folding and for its own kernel.
public struct BatchNormSource: Sendable, Equatable {
    public var layer: String
    public var gammaKey: String
    public var betaKey: String
    public var meanKey: String
    public var varianceKey: String
    public var epsilon: Double
    public var channels: Int
}

/// How a packed weight slice is computed from the weight file. Folding rewrites recipes, so
/// the program is generated from the network alone and the weights follow it.
public indirect enum WeightRecipe: Sendable, Equatable {
    /// A tensor of the weight file as it is (`c1.weight`).
    case tensor(key: String)
    /// `base` viewed as [rows, columns], stored [columns, rows].
    case transposed(WeightRecipe, rows: Int, columns: Int)
    /// `base` rearranged into a fast kernel's layout (PackedLayout.swift).
    case packed(WeightRecipe, PackedLayout)
    /// `base` viewed as [channels, perChannel], each row multiplied by γ/sqrt(var + eps).
    case scaledByBatchNorm(WeightRecipe, BatchNormSource, perChannel: Int)
    /// γ/sqrt(var + eps) per channel.
    case batchNormScale(BatchNormSource)
    /// (bias − mean)·γ/sqrt(var + eps) + β per channel; bias 0 when there is none.
    case batchNormShift(bias: WeightRecipe?, BatchNormSource)
}

/// A window's geometry with every default filled in.
public struct WindowGeometry: Sendable, Equatable {
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var strideHeight: Int
    public var strideWidth: Int
    public var dilationHeight: Int
    public var dilationWidth: Int
    public var padTop: Int
    public var padLeft: Int
    public var padBottom: Int
    public var padRight: Int

    init(_ window: Window) {
        kernelHeight = window.kernelHeight
        kernelWidth = window.kernelWidth
        strideHeight = window.strideHeight
        strideWidth = window.strideWidth
        dilationHeight = window.dilationHeight
        dilationWidth = window.dilationWidth
        padTop = window.padding.top
        padLeft = window.padding.left
        padBottom = window.padding.bottom
        padRight = window.padding.right
    }

    /// A 1x1 window, stride 1, no padding: pointwise and layer scale run as 1x1 convolutions.
    static let unit = WindowGeometry()

    private init() {
        (kernelHeight, kernelWidth, strideHeight, strideWidth, dilationHeight, dilationWidth) = (1, 1, 1, 1, 1, 1)
        (padTop, padLeft, padBottom, padRight) = (0, 0, 0, 0)
    }
}

/// [N, C, H, W] → [N, K, OH, OW]. Weight [K, C/G, KH, KW] as PyTorch stores it.
public struct ConvolutionKernel: Sendable, Equatable {
    public var input: TensorShape
    public var output: TensorShape
    public var window: WindowGeometry
    public var groups: Int
    public var weight: WeightRef
    public var bias: WeightRef?
    public var activation: Activation?
}

/// [N, IN] → [N, OUT]. The weight is packed transposed, [IN, OUT], so the inner loop runs
/// over contiguous outputs (a vectorisable axpy, no reduction).
public struct FullyConnectedKernel: Sendable, Equatable {
    public var inputs: Int
    public var outputs: Int
    public var weight: WeightRef
    public var bias: WeightRef?
    public var activation: Activation?
}

public struct PoolingKernel: Sendable, Equatable {
    public var kind: PoolKind
    public var input: TensorShape
    public var output: TensorShape
    public var window: WindowGeometry
}

/// Over every position of each channel: [N, C, H, W] → [N, C].
public struct GlobalPoolingKernel: Sendable, Equatable {
    public var kind: PoolKind
    public var channels: Int
    public var spatial: Int
}

/// y = x·scale[c] + shift[c]: a batchnorm that could not be folded.
public struct BatchNormKernel: Sendable, Equatable {
    public var source: BatchNormSource
    public var channels: Int
    public var spatial: Int
    public var scale: WeightRef
    public var shift: WeightRef
    public var activation: Activation?
}

public struct LocalResponseNormKernel: Sendable, Equatable {
    public var channels: Int
    public var spatial: Int
    public var parameters: LocalResponseNorm
}

/// An activation that could not be fused into the layer before it.
public struct ActivationKernel: Sendable, Equatable {
    public var activation: Activation
    public var channels: Int
    public var spatial: Int
}

/// The element-wise sum of the inputs.
public struct AddKernel: Sendable, Equatable {
    public var elements: Int
    public var activation: Activation?
}

/// The element-wise product of the inputs, [C, P] per image; an input with one position per
/// channel (`inputSpatial` 1, squeeze-excitation's scale) is broadcast over the P positions.
public struct MultiplyKernel: Sendable, Equatable {
    public var channels: Int
    public var spatial: Int
    public var inputSpatial: [Int]
    public var activation: Activation?
}

/// Inputs stacked along depth: each input's channels go after the previous ones'.
public struct ConcatKernel: Sendable, Equatable {
    public var inputChannels: [Int]
    public var spatial: Int
    public var activation: Activation?
}

/// LayerNorm over the C channels at each of the P positions, [N, C, P]; γ, β [C].
public struct LayerNormKernel: Sendable, Equatable {
    public var channels: Int
    public var spatial: Int
    public var epsilon: Double
    public var weight: WeightRef
    public var bias: WeightRef
}

/// Output channel c is input channel `sources[c]`, all P positions copied: slice and shuffle.
public struct ChannelGatherKernel: Sendable, Equatable {
    public var inputChannels: Int
    public var spatial: Int
    public var sources: [Int]
}

/// A copy of each [H, W] plane into a larger one, the border filled from the input's cells
/// by torch's reflect, replicate or circular rule (a conv's `padmode`, run before it).
public struct PadKernel: Sendable, Equatable {
    public var channels: Int
    public var inputWidth: Int
    public var inputHeight: Int
    public var padding: Padding
    public var mode: PaddingMode
}

/// torch's AdaptiveAvgPool2d to outputWidth x outputHeight.
public struct AdaptivePoolKernel: Sendable, Equatable {
    public var channels: Int
    public var inputWidth: Int, inputHeight: Int
    public var outputWidth: Int, outputHeight: Int
}

/// Output channel c is the max of input channels c·pieces ..< (c+1)·pieces at each position.
public struct MaxoutKernel: Sendable, Equatable {
    public var outputChannels: Int
    public var pieces: Int
    public var spatial: Int
}

/// torch's ConvTranspose2d: [N, C, H, W] → [N, K, OH, OW]; weight [C, K/G, KH, KW] as torch stores it.
/// The window's padding is torch's `padding` (cropped from the top and left); OH and OW include
/// the output padding.
public struct TransposedConvolutionKernel: Sendable, Equatable {
    public var input: TensorShape
    public var output: TensorShape
    public var window: WindowGeometry
    public var groups: Int
    public var weight: WeightRef
    public var bias: WeightRef?
    public var activation: Activation?
}

/// Nearest or bilinear resampling of each channel, [N, C, H, W] → [N, C, OH, OW].
public struct UpsampleKernel: Sendable, Equatable {
    public var input: TensorShape
    public var output: TensorShape
    public var mode: UpsampleMode
    public var alignCorners: Bool
}

public enum Kernel: Sendable, Equatable {
    case convolution(ConvolutionKernel)
    case fullyConnected(FullyConnectedKernel)
    case pooling(PoolingKernel)
    case globalPooling(GlobalPoolingKernel)
    case batchNorm(BatchNormKernel)
    case localResponseNorm(LocalResponseNormKernel)
    case activation(ActivationKernel)
    case add(AddKernel)
    case concat(ConcatKernel)
    case multiply(MultiplyKernel)
    case gatherChannels(ChannelGatherKernel)
    case layerNorm(LayerNormKernel)
    case pad(PadKernel)
    case adaptiveAveragePool(AdaptivePoolKernel)
    case maxout(MaxoutKernel)
    case transposedConvolution(TransposedConvolutionKernel)
    case upsample(UpsampleKernel)
    /// Copies the input (only when the network's output would otherwise be its input).
    case copy(elements: Int)
    /// Dropout and flatten before `removeIdentities` makes them views; never emitted.
    case identity

    /// A short name for listings: `conv`, `fc`, `maxpool`…
    public var mnemonic: String {
        switch self {
        case .convolution: "conv"
        case .fullyConnected: "fc"
        case .pooling(let p): p.kind == .max ? "maxpool" : "avgpool"
        case .globalPooling(let p): p.kind == .max ? "globalmaxpool" : "globalavgpool"
        case .batchNorm: "batchnorm"
        case .localResponseNorm: "lrn"
        case .activation(let a): a.activation.description
        case .add: "add"
        case .concat: "concat"
        case .multiply: "mul"
        case .gatherChannels: "gather"
        case .layerNorm: "layernorm"
        case .pad(let k): "pad \(k.mode.rawValue)"
        case .adaptiveAveragePool: "adaptiveavgpool"
        case .maxout: "maxout"
        case .transposedConvolution: "deconv"
        case .upsample(let k): "upsample \(k.mode.rawValue)"
        case .copy: "copy"
        case .identity: "identity"
        }
    }

    /// The activation applied to this kernel's output, when it carries one.
    public var fusedActivation: Activation? {
        switch self {
        case .convolution(let k): k.activation
        case .fullyConnected(let k): k.activation
        case .batchNorm(let k): k.activation
        case .add(let k): k.activation
        case .concat(let k): k.activation
        case .multiply(let k): k.activation
        case .transposedConvolution(let k): k.activation
        default: nil
        }
    }

    /// Whether an activation can be fused into this kernel: it can carry one and has none yet.
    var acceptsActivation: Bool {
        switch self {
        case .convolution, .fullyConnected, .batchNorm, .add, .concat, .multiply, .transposedConvolution: fusedActivation == nil
        default: false
        }
    }

    func withActivation(_ activation: Activation?) -> Kernel {
        switch self {
        case .convolution(var k): k.activation = activation; return .convolution(k)
        case .fullyConnected(var k): k.activation = activation; return .fullyConnected(k)
        case .batchNorm(var k): k.activation = activation; return .batchNorm(k)
        case .add(var k): k.activation = activation; return .add(k)
        case .concat(var k): k.activation = activation; return .concat(k)
        case .multiply(var k): k.activation = activation; return .multiply(k)
        case .transposedConvolution(var k): k.activation = activation; return .transposedConvolution(k)
        default: return self
        }
    }

    /// The weight slices the kernel reads, in argument order.
    public var weightRefs: [WeightRef] {
        switch self {
        case .convolution(let k): [k.weight] + (k.bias.map { [$0] } ?? [])
        case .fullyConnected(let k): [k.weight] + (k.bias.map { [$0] } ?? [])
        case .batchNorm(let k): [k.scale, k.shift]
        case .layerNorm(let k): [k.weight, k.bias]
        case .transposedConvolution(let k): [k.weight] + (k.bias.map { [$0] } ?? [])
        default: []
        }
    }

    /// The same kernel with its weight slices replaced, in `weightRefs` order.
    func withWeightRefs(_ refs: [WeightRef]) -> Kernel {
        switch self {
        case .convolution(var k):
            k.weight = refs[0]
            if k.bias != nil { k.bias = refs[1] }
            return .convolution(k)
        case .fullyConnected(var k):
            k.weight = refs[0]
            if k.bias != nil { k.bias = refs[1] }
            return .fullyConnected(k)
        case .batchNorm(var k):
            k.scale = refs[0]
            k.shift = refs[1]
            return .batchNorm(k)
        case .layerNorm(var k):
            k.weight = refs[0]
            k.bias = refs[1]
            return .layerNorm(k)
        case .transposedConvolution(var k):
            k.weight = refs[0]
            if k.bias != nil { k.bias = refs[1] }
            return .transposedConvolution(k)
        default:
            return self
        }
    }
}

/// One kernel call: reads `inputs`, writes `output` (never one of its inputs).
public struct Step: Sendable, Equatable {
    /// The checked layers this step computes, in order (`c1`, `bn1`, `relu1` once fused).
    public var layers: [String]
    public var kernel: Kernel
    public var inputs: [Int]
    public var output: Int

    public init(layers: [String], kernel: Kernel, inputs: [Int], output: Int) {
        self.layers = layers
        self.kernel = kernel
        self.inputs = inputs
        self.output = output
    }

    /// `c1+bn1+relu1`.
    public var name: String { layers.joined(separator: "+") }
}

public struct LoweredProgram: Sendable {
    /// The network's name as written (emitters sanitise it).
    public var name: String
    public var values: [ProgramValue]
    public var steps: [Step]
    /// Value ids of the network's input and output; both live in caller-owned buffers.
    public var input: Int
    public var output: Int
    /// Elements of every checked layer's output for one image: what an interpreter that keeps
    /// one buffer per layer holds. The memory plan is compared with it.
    public var naiveActivationElements: Int
    /// Set by `planMemory`, the last pass.
    public var memory: MemoryPlan?
    /// Set by `select-kernels` for the fast C backend (KernelPlan.swift); nil for the plain kernels.
    public var kernelPlan: KernelPlan? = nil

    public var inputShape: TensorShape { values[input].shape }
    public var outputShape: TensorShape { values[output].shape }

    /// Floats in the packed weight blob (after `layoutWeights`).
    public var weightCount: Int {
        steps.flatMap(\.kernel.weightRefs).map { $0.offset + $0.count }.max() ?? 0
    }

    /// For each value, the steps that read it, in order.
    public func readers() -> [[Int]] {
        var result = [[Int]](repeating: [], count: values.count)
        for (index, step) in steps.enumerated() {
            for input in step.inputs where result[input].last != index { result[input].append(index) }
        }
        return result
    }

    /// For each value, the step that writes it, if any.
    public func producers() -> [Int?] {
        var result = [Int?](repeating: nil, count: values.count)
        for (index, step) in steps.enumerated() { result[step.output] = index }
        return result
    }

    /// A listing for humans and tests: one line per step.
    public var listing: String {
        var lines = ["program \(name): input v\(input) \(inputShape), output v\(output) \(outputShape)"]
        for step in steps {
            let ins = step.inputs.map { "v\($0)" }.joined(separator: ", ")
            var line = "  v\(step.output) \(values[step.output].shape) = \(step.kernel.mnemonic)(\(ins))"
            if let activation = step.kernel.fusedActivation { line += " \(activation)" }
            line += "  ; \(step.name)"
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
