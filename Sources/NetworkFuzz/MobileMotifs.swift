import Parser
import ShapeCheck

/// The blocks of the mobile networks (issue 18), drawn whole: MobileNetV2/V3, MnasNet and
/// EfficientNet's inverted residual with squeeze-excitation, ResNeXt/RegNet's grouped
/// bottleneck, ShuffleNet v2's units. Written either as torchvision's exports write them
/// (conv nobias, batchnorm, an activation layer) or folded (a biased conv with a trailing
/// activation), on channel counts and sizes where the blocked kernels' edges are: depths
/// around the 16-channel blocks, widths of 1, odd sizes under stride 2.
extension NetworkGenerator {
    /// Depths of the mobile blocks: around the blocks' edges, and shufflenet_v2's 58 and 116.
    static let mobileDepths = [1, 2, 3, 8, 15, 16, 17, 24, 31, 32, 33, 40, 58, 116]
    /// What one mobile motif may add per image, so a network's cost stays near the others'.
    static let motifValues = 24_000, motifMACs = 1_000_000

    func mobileMotif(_ kind: Int, from value: (reference: Int, shape: TensorShape), _ spec: inout NetworkSpec,
                     _ random: inout RandomSource) {
        var writer = MotifWriter(spec, random: &random)
        let source = MotifWriter.Value(name: name(value.reference, in: &writer.spec), shape: value.shape)
        switch kind {
        case 0: writer.invertedResidual(source, &random)
        case 1: writer.groupedBottleneck(source, &random)
        default: writer.shuffleUnits(source, &random)
        }
        spec = writer.spec
    }
}

/// Appends a motif's layers, named as the other motifs' (`m4.m-2`), and follows each value's
/// shape so that the next layer is drawn to fit it.
struct MotifWriter {
    struct Value {
        var name: String
        var width: Int
        var height: Int
        var depth: Int
        init(name: String, width: Int, height: Int, depth: Int) {
            self.name = name; self.width = width; self.height = height; self.depth = depth
        }
        init(name: String, shape: TensorShape) { self.init(name: name, width: shape.width, height: shape.height, depth: shape.depth) }
        var cells: Int { width * height }
    }

    var spec: NetworkSpec
    let base: Int
    /// torchvision's form (conv nobias, batchnorm, activation layer) rather than the folded one.
    let unfolded: Bool
    /// mobilenet_v3 and efficientnet's batchnorm eps 0.001, or the default.
    let epsilon: Double?

    init(_ spec: NetworkSpec, random: inout RandomSource) {
        self.spec = spec
        base = spec.layers.count
        unfolded = random.chance(0.5)
        epsilon = random.chance(0.3) ? 0.001 : nil
    }

    /// A layer reading `input` (the line before when it is), whose output has `shape`.
    mutating func layer(_ op: OpSpec, _ input: Value, activation: ActivationSyntax? = nil,
                        width: Int? = nil, height: Int? = nil, depth: Int? = nil) -> Value {
        let name = "m\(base).m-\(spec.layers.count - base)"
        let from = input.name == spec.layers.last?.name ? nil : input.name
        spec.layers.append(LayerSpec(name: name, op: op, from: from, activation: activation))
        return Value(name: name, width: width ?? input.width, height: height ?? input.height, depth: depth ?? input.depth)
    }

    /// A merge (add, concat, mul) of `operands`, whose output has `shape`'s size and `depth`.
    mutating func merge(_ op: OpSpec, like shape: Value, depth: Int? = nil, activation: ActivationSyntax? = nil) -> Value {
        let name = "m\(base).m-\(spec.layers.count - base)"
        spec.layers.append(LayerSpec(name: name, op: op, activation: activation))
        return Value(name: name, width: shape.width, height: shape.height, depth: depth ?? shape.depth)
    }

    /// Kernel k (odd) padded by k/2 as torchvision pads, or `pad same` (asymmetric under
    /// stride 2 on even sizes); either way the output is ⌈in/stride⌉.
    static func window(_ k: Int, stride: Int, same: Bool = false) -> WindowSpec {
        WindowSpec(kernel: Size2(k, k), stride: stride > 1 ? Size2(stride, stride) : nil,
                   pad: k == 1 ? nil : same ? .same : .explicit(Size2(k / 2, k / 2)))
    }

    static func strided(_ n: Int, _ stride: Int) -> Int { (n - 1) / stride + 1 }

    /// conv + batchnorm + activation, or the conv alone with its bias and the activation folded in.
    mutating func conv(_ x: Value, _ filters: Int, k: Int = 1, stride: Int = 1, groups: Int? = nil,
                       _ activation: ActivationSyntax?) -> Value {
        let op = OpSpec.conv(filters: filters, window: Self.window(k, stride: stride), groups: groups, bias: !unfolded)
        let w = Self.strided(x.width, stride), h = Self.strided(x.height, stride)
        guard unfolded else { return layer(op, x, activation: activation, width: w, height: h, depth: filters) }
        var y = layer(op, x, width: w, height: h, depth: filters)
        y = layer(.batchNorm(epsilon: epsilon), y)
        if let activation { y = layer(.activation(activation), y) }
        return y
    }

    mutating func depthwise(_ x: Value, k: Int, stride: Int, multiplier: Int = 1, same: Bool = false,
                            _ activation: ActivationSyntax?) -> Value {
        let op = OpSpec.depthwise(window: Self.window(k, stride: stride, same: same), multiplier: multiplier > 1 ? multiplier : nil,
                                  bias: !unfolded)
        let w = Self.strided(x.width, stride), h = Self.strided(x.height, stride)
        guard unfolded else { return layer(op, x, activation: activation, width: w, height: h, depth: x.depth * multiplier) }
        var y = layer(op, x, width: w, height: h, depth: x.depth * multiplier)
        y = layer(.batchNorm(epsilon: epsilon), y)
        if let activation { y = layer(.activation(activation), y) }
        return y
    }

    /// Pooled by 2 until at most `cells` positions are left (rounding down or up, so odd sizes
    /// come out too); then, now and then, cut to a small exact size, 1 wide or high included.
    mutating func fit(_ x: Value, cells: Int, _ random: inout RandomSource) -> Value {
        var x = x
        while x.cells > max(1, cells) {
            // Rounding down a side of 1 would leave nothing.
            let ceil = x.width < 2 || x.height < 2 || random.chance(0.5)
            let side = { (n: Int) in ceil ? (n + 1) / 2 : n / 2 }
            x = layer(.pool(max: random.chance(0.6), window: WindowSpec(kernel: Size2(2, 2), stride: Size2(2, 2)), ceil: ceil), x,
                      width: side(x.width), height: side(x.height))
        }
        if random.chance(0.2) {
            let w = min(x.width, random.pick([1, 1, 3, 5, 7])), h = random.chance(0.5) ? min(x.height, w) : min(x.height, random.pick([1, 3, 5, 7]))
            if w != x.width || h != x.height { x = layer(.adaptivePool(Size2(w, h)), x, width: w, height: h) }
        }
        return x
    }

    /// Squeeze-excitation: the pooled channels through a C/4 or C/16 bottleneck to a scale
    /// in (0, 1) (mobilenet_v3: relu, hardsigmoid; efficientnet: silu, sigmoid), times `x`.
    mutating func squeezeExcite(_ x: Value, _ random: inout RandomSource) -> Value {
        let pooled = layer(.globalPool(max: false), x, width: 1, height: 1)
        let squeezed = max(1, x.depth / random.pick([4, 4, 16]))
        let mobilenet = random.chance(0.5)
        let first: ActivationSyntax = random.chance(0.85) ? (mobilenet ? .relu : .silu) : (mobilenet ? .silu : .relu)
        let second: ActivationSyntax = random.chance(0.85) ? (mobilenet ? .hardsigmoid : .sigmoid) : (mobilenet ? .sigmoid : .hardsigmoid)
        let fc1 = layer(.conv(filters: squeezed, window: WindowSpec(kernel: Size2(1, 1)), groups: nil, bias: true), pooled,
                        activation: first, depth: squeezed)
        let fc2 = layer(.conv(filters: x.depth, window: WindowSpec(kernel: Size2(1, 1)), groups: nil, bias: true), fc1,
                        activation: second, depth: x.depth)
        return merge(.multiply(random.chance(0.7) ? [x.name, fc2.name] : [fc2.name, x.name]), like: x)
    }

    /// 1x1 expand (factor 1–6, or mobilenet_v3's free widths), depthwise 3/5/7 stride 1 or 2
    /// (multiplier > 1 now and then), squeeze-excitation sometimes, linear 1x1 project, and
    /// the residual add when the shapes match.
    mutating func invertedResidual(_ x0: Value, _ random: inout RandomSource) {
        let activation = random.weighted([(ActivationSyntax.relu6, 4), (.hardswish, 3), (.silu, 3), (.relu, 2)])
        let k = random.weighted([(3, 5), (5, 3), (7, 2)])
        let stride = random.chance(0.45) ? 2 : 1
        let multiplier = random.chance(0.15) ? random.pick([2, 2, 3]) : 1
        var t = random.weighted([(1, 2), (2, 1), (3, 2), (4, 2), (6, 3)])
        while t > 1, x0.depth * t * multiplier > 384 { t -= 1 }
        var hidden = x0.depth * t
        if t > 1, random.chance(0.25), let free = NetworkGenerator.mobileDepths.filter({ $0 > x0.depth }).randomElement(&random) {
            hidden = free
        }
        let expand = t > 1 || random.chance(0.3)    // t = 1: mobilenet_v2's first block has no expansion
        let out = stride == 1 && random.chance(0.6) ? x0.depth : random.pick(NetworkGenerator.mobileDepths)
        let inner = (expand ? hidden : x0.depth) * multiplier
        let perCell = (expand ? x0.depth * hidden : 0) + inner * k * k + inner * out
        let x = fit(x0, cells: min(NetworkGenerator.motifValues / max(inner, out, x0.depth), NetworkGenerator.motifMACs / max(1, perCell)), &random)
        var y = expand ? conv(x, hidden, activation) : x
        y = depthwise(y, k: k, stride: stride, multiplier: multiplier, same: random.chance(0.25), activation)
        if random.chance(0.45) { y = squeezeExcite(y, &random) }
        y = conv(y, out, nil)
        if stride == 1, out == x.depth, random.chance(0.85) {
            _ = merge(.add(random.chance(0.8) ? [y.name, x.name] : [x.name, y.name]), like: y)
        }
    }

    /// ResNeXt/RegNet's bottleneck: 1x1 to G groups of a group width, the grouped 3x3 stride
    /// 1 or 2, squeeze-excitation sometimes (regnet_y), 1x1, and the identity or a projection
    /// shortcut added. Widths 16 and 32 give each group whole 16-channel blocks; the others
    /// split blocks between groups or fill part of one.
    mutating func groupedBottleneck(_ x0: Value, _ random: inout RandomSource) {
        let groupWidth = random.weighted([(1, 2), (2, 2), (4, 2), (8, 2), (16, 3), (24, 2), (32, 3)])
        let groups = switch groupWidth {
        case 1: random.pick([3, 8, 16, 17, 32, 58])
        case 2, 4, 8: random.int(2...max(2, 64 / groupWidth))
        default: random.int(2...4)
        }
        let width = groupWidth * groups
        let stride = random.chance(0.4) ? 2 : 1
        let filters = random.chance(0.2) ? 2 * width : width
        let out = random.weighted([(x0.depth, 3), (filters, 2), (random.pick(NetworkGenerator.mobileDepths), 2)])
        let perCell = x0.depth * width + filters * groupWidth * 9 + filters * out + x0.depth * out
        let x = fit(x0, cells: min(NetworkGenerator.motifValues / max(2 * width, filters, out, x0.depth),
                                   NetworkGenerator.motifMACs / perCell), &random)
        var y = conv(x, width, .relu)
        y = conv(y, filters, k: 3, stride: stride, groups: groups, .relu)
        if random.chance(0.3) { y = squeezeExcite(y, &random) }
        y = conv(y, out, nil)
        let shortcut = stride == 1 && out == x.depth ? x : conv(x, out, stride: stride, nil)
        let operands = random.chance(0.8) ? [y.name, shortcut.name] : [shortcut.name, y.name]
        if random.chance(0.6) {
            _ = merge(.add(operands), like: y, activation: .relu)
        } else {
            _ = layer(.activation(.relu), merge(.add(operands), like: y))
        }
    }

    /// shufflenet_v2: the stride-2 unit (a depthwise-then-1x1 branch and a 1x1-depthwise-1x1
    /// branch on the whole input, concatenated) and the stride-1 unit (halves, a branch on one),
    /// each followed by `shuffle 2`.
    mutating func shuffleUnits(_ x0: Value, _ random: inout RandomSource) {
        let stride2 = x0.depth % 2 != 0 || random.chance(0.5)
        let half = stride2 ? random.pick([1, 2, 3, 8, 15, 16, 17, 24, 29, 58]) : x0.depth / 2
        let perCell = x0.depth * 9 + 2 * x0.depth * half + half * 9 + 3 * half * half
        var x = fit(x0, cells: min(NetworkGenerator.motifValues / max(2 * half, x0.depth), NetworkGenerator.motifMACs / perCell), &random)
        if stride2 {
            var b1 = depthwise(x, k: 3, stride: 2, nil)
            b1 = conv(b1, half, .relu)
            var b2 = conv(x, half, .relu)
            b2 = depthwise(b2, k: 3, stride: 2, nil)
            b2 = conv(b2, half, .relu)
            let joined = merge(.concat(random.chance(0.85) ? [b1.name, b2.name] : [b2.name, b1.name]), like: b2, depth: 2 * half)
            x = layer(.shuffle(groups: 2), joined)
        }
        guard !stride2 || random.chance(0.35) else { return }
        let c = x.depth / 2
        let left = layer(.slice(from: 0, to: c), x, depth: c)
        let right = layer(.slice(from: c, to: x.depth), x, depth: c)
        var branch = conv(right, c, .relu)
        branch = depthwise(branch, k: 3, stride: 1, nil)
        branch = conv(branch, c, .relu)
        let joined = merge(.concat(random.chance(0.85) ? [left.name, branch.name] : [branch.name, left.name]), like: branch, depth: 2 * c)
        _ = layer(.shuffle(groups: 2), joined)
    }
}

extension Array {
    /// One element drawn from `random`, nil when empty.
    func randomElement(_ random: inout RandomSource) -> Element? { isEmpty ? nil : random.pick(self) }
}
