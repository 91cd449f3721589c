/// The receptive field along one axis, in input pixels: output cell 0 sees `size` pixels
/// centred on `start` (pixel k's centre is k, so a field left of 0 reaches into the padding),
/// and neighbouring output cells are `jump` pixels apart. Fractions come from upsampling,
/// transposed convolutions and adaptive pools; windows keep them whole or halves.
public struct FieldAxis: Hashable, Sendable {
    public var size: Double
    public var jump: Double
    public var start: Double

    public init(size: Double, jump: Double, start: Double) {
        self.size = size
        self.jump = jump
        self.start = start
    }

    /// One input pixel: itself.
    public static let pixel = FieldAxis(size: 1, jump: 1, start: 0)

    /// The first and last pixel output cell 0 sees.
    public var first: Double { start - (size - 1) / 2 }
    public var last: Double { start + (size - 1) / 2 }
}

public struct ReceptiveField: Hashable, Sendable {
    public var width: FieldAxis
    public var height: FieldAxis

    public init(width: FieldAxis, height: FieldAxis) {
        self.width = width
        self.height = height
    }

    public static let pixel = ReceptiveField(width: .pixel, height: .pixel)
}

/// How a layer moves the field along one axis: a window of `cells` input cells, neighbouring
/// windows `step` cells apart, the first centred `offset` cells from input cell 0. Then
/// r = r_in + (cells − 1)·j_in, j = j_in·step, start = start_in + offset·j_in — for a
/// convolution cells = Fe, step = S and offset = (Fe − 1)/2 − P, the lectures' recurrence.
struct FieldWindow {
    var cells: Double
    var step: Double
    var offset: Double
    /// The written window's numbers, for the formula text: extent, stride, leading pad.
    var written: (extent: Int, stride: Int, pad: Int)?

    func apply(_ field: FieldAxis) -> FieldAxis {
        FieldAxis(size: field.size + (cells - 1) * field.jump, jump: field.jump * step, start: field.start + offset * field.jump)
    }

    /// A window of the lectures: extent Fe, stride S, P cells of padding before.
    static func sliding(extent: Int, stride: Int, padBefore: Int) -> FieldWindow {
        FieldWindow(cells: Double(extent), step: Double(stride), offset: Double(extent - 1) / 2 - Double(padBefore),
                    written: (extent, stride, padBefore))
    }

    /// The whole axis at once (global pools, fc and flatten of a volume).
    static func whole(_ size: Int) -> FieldWindow {
        FieldWindow(cells: Double(size), step: Double(size), offset: Double(size - 1) / 2, written: (size, size, 0))
    }
}

/// What a layer does to the field.
enum FieldRule {
    case unchanged
    /// Per axis, width then height.
    case windows(FieldWindow, FieldWindow)
    /// add, concat, mul: the smallest field holding every input's.
    case union
}

extension FieldRule {
    static func of(_ layer: CheckedLayer) -> FieldRule {
        let input = layer.inputShapes[0]
        switch layer.operation {
        case .convolution(let conv):
            return sliding(conv.window)
        case .pooling(let pool):
            return sliding(pool.window)
        case .globalPooling:
            return .windows(.whole(input.width), .whole(input.height))
        case .fullyConnected, .flatten:
            // A vector has no positions: each value of fc sees the whole input; flatten's
            // vector is given the same, the field of the vector as a whole.
            return input.isVector ? .unchanged : .windows(.whole(input.width), .whole(input.height))
        case .adaptiveAveragePool(let width, let height):
            return .windows(adaptive(input.width, width), adaptive(input.height, height))
        case .transposedConvolution(let conv):
            return .windows(transposed(conv.window.extentWidth, conv.window.strideWidth, conv.window.padding.left),
                            transposed(conv.window.extentHeight, conv.window.strideHeight, conv.window.padding.top))
        case .upsample(let up):
            return .windows(resampled(up, input: input.width, output: layer.output.width, scale: up.scaleWidth),
                            resampled(up, input: input.height, output: layer.output.height, scale: up.scaleHeight))
        case .add, .concat, .multiply:
            return .union
        case .dropout, .batchNorm, .localResponseNorm, .activation, .slice, .shuffle, .layerNorm, .layerScale,
             .pointwise, .maxout:
            return .unchanged
        }
    }

    private static func sliding(_ w: Window) -> FieldRule {
        .windows(.sliding(extent: w.extentWidth, stride: w.strideWidth, padBefore: w.padding.left),
                 .sliding(extent: w.extentHeight, stride: w.strideHeight, padBefore: w.padding.top))
    }

    /// torch's adaptive windows floor(i·In/Out)..<ceil((i+1)·In/Out): the widest holds
    /// ⌈(In + Out − gcd)/Out⌉ cells; they start In/Out apart on average.
    private static func adaptive(_ input: Int, _ output: Int) -> FieldWindow {
        let g = gcd(input, output)
        let widest = (input + output - g + output - 1) / output
        let first = (input + output - 1) / output
        return FieldWindow(cells: Double(widest), step: Double(input) / Double(output), offset: Double(first - 1) / 2, written: nil)
    }

    /// Output cell o of a transposed convolution gathers the inputs i with
    /// 0 ≤ o + P − i·S ≤ Fe − 1: at most ⌊(Fe − 1)/S⌋ + 1 of them; cell 0's run from
    /// ⌈(P − Fe + 1)/S⌉ to ⌊P/S⌋, and the cells move 1/S of an input cell each.
    private static func transposed(_ extent: Int, _ stride: Int, _ pad: Int) -> FieldWindow {
        let first = -Arithmetic.floorDivide(extent - 1 - pad, stride), last = Arithmetic.floorDivide(pad, stride)
        return FieldWindow(cells: Double((extent - 1) / stride + 1), step: 1 / Double(stride),
                           offset: Double(first + last) / 2, written: nil)
    }

    /// Nearest reads one input cell (cell 0 reads cell 0); bilinear the two it interpolates.
    private static func resampled(_ up: Upsample, input: Int, output: Int, scale: Int) -> FieldWindow {
        let step = up.alignCorners && output > 1 ? Double(input - 1) / Double(output - 1) : 1 / Double(scale)
        return up.mode == .nearest ? FieldWindow(cells: 1, step: step, offset: 0, written: nil)
                                   : FieldWindow(cells: 2, step: step, offset: 0.5, written: nil)
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return max(a, 1)
    }

    func apply(_ inputs: [ReceptiveField], of layer: CheckedLayer) -> ReceptiveField {
        switch self {
        case .unchanged:
            return inputs[0]
        case .windows(let across, let down):
            return ReceptiveField(width: across.apply(inputs[0].width), height: down.apply(inputs[0].height))
        case .union:
            let spread = layer.inputShapes.map { ($0.width == layer.output.width, $0.height == layer.output.height) }
            return ReceptiveField(width: Self.union(inputs.map(\.width), moving: spread.map(\.0)),
                                  height: Self.union(inputs.map(\.height), moving: spread.map(\.1)))
        }
    }

    /// The hull of every field: the largest of them when their centres agree, as in ResNet's
    /// and GoogLeNet's branches. The jump is that of the inputs as large as the output: a 1x1
    /// operand `mul` broadcasts (squeeze-excitation) is the same cell for every output cell.
    private static func union(_ fields: [FieldAxis], moving: [Bool]) -> FieldAxis {
        let first = fields.map(\.first).min() ?? 0, last = fields.map(\.last).max() ?? 0
        let jumps = zip(fields, moving).filter(\.1).map(\.0.jump)
        return FieldAxis(size: last - first + 1, jump: (jumps.isEmpty ? fields.map(\.jump) : jumps).max() ?? 1, start: (first + last) / 2)
    }
}

extension CheckedNetwork {
    /// The field of each layer's input `index` (the network's input sees one pixel).
    public func receptiveField(of input: LayerInput) -> ReceptiveField {
        switch input {
        case .networkInput: .pixel
        case .layer(let i): layers[i].receptiveField
        }
    }

    /// Every layer's field, in order: inputs come before the layers that read them.
    mutating func computeReceptiveFields() {
        for index in layers.indices {
            let inputs = layers[index].inputs.map { receptiveField(of: $0) }
            layers[index].receptiveField = FieldRule.of(layers[index]).apply(inputs, of: layers[index])
        }
    }
}
