import Parser
import ShapeCheck

/// Draws random valid networks from the whole language, as Csmith and NNSmith draw programs:
/// every op and option, graphs that branch and merge, depths that straddle the 16-channel
/// blocks of the fast kernels. A layer is drawn, the network so far is checked with it, and
/// it is kept only if the checker accepts it within the size limits; so every network the
/// generator returns checks clean, and the checker, not a copy of its rules, decides.
public struct NetworkGenerator: Sendable {
    public struct Limits: Sendable {
        public var maxLayers: Int
        public var maxMACs: Int
        /// Values per image summed over every layer's output.
        public var maxActivations: Int
        public var maxSide: Int

        /// Small enough that the debug-build reference runs a network in milliseconds.
        public static let tests = Limits(maxLayers: 8, maxMACs: 3_000_000, maxActivations: 400_000, maxSide: 64)
        /// For the release-build fuzzer: two wide Winograd-sized layers fit.
        public static let fuzz = Limits(maxLayers: 12, maxMACs: 100_000_000, maxActivations: 3_000_000, maxSide: 64)

        public init(maxLayers: Int, maxMACs: Int, maxActivations: Int, maxSide: Int) {
            self.maxLayers = maxLayers
            self.maxMACs = maxMACs
            self.maxActivations = maxActivations
            self.maxSide = maxSide
        }
    }

    public var limits: Limits

    public init(limits: Limits = .tests) { self.limits = limits }

    /// Depths around the fast kernels' 16-channel blocks, where padding and partial blocks live.
    static let straddlingDepths = [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65]

    /// The network for `seed`: the same on every run.
    public func network(seed: UInt64) -> NetworkSpec {
        var random = RandomSource(seed: seed)
        var spec = drawInput(&random)
        spec.dataSeed = seed
        if !spec.vectorInput, random.chance(0.15), 4 * spec.width * spec.height * spec.depth * spec.depth <= limits.maxMACs {
            Self.addNaNPrologue(&spec, &random)
        }
        let count = random.int(1...limits.maxLayers)
        var added = 0, attempts = 0
        while added < count, attempts < count * 40 {
            attempts += 1
            var trial = spec
            drawLayers(&trial, &random)
            guard trial.keepsInputToPrologue, let net = trial.checked, fits(net) else { continue }
            spec = trial
            added += 1
        }
        if spec.layers.isEmpty { spec.layers.append(LayerSpec(name: "r", op: .activation(.relu))) }
        return spec
    }

    func fits(_ net: CheckedNetwork) -> Bool {
        net.multiplyAccumulates <= limits.maxMACs && net.activationElements <= limits.maxActivations
    }

    func drawInput(_ random: inout RandomSource) -> NetworkSpec {
        let depth = random.chance(0.7) ? random.pick(Self.straddlingDepths) : random.int(1...20)
        let batch = random.weighted([(1, 4), (2, 3), (3, 2), (random.int(4...9), 2), (9, 1)])
        if random.chance(0.08) {
            return NetworkSpec(width: 1, height: 1, depth: random.int(1...70), vectorInput: true, batch: batch)
        }
        func side() -> Int {
            random.weighted([(random.int(1...4), 3), (random.int(5...16), 5), (random.int(17...limits.maxSide), 2)])
        }
        let width = side()
        let height = random.chance(0.6) ? width : side()
        return NetworkSpec(width: width, height: height, depth: depth, batch: batch)
    }

    /// Two 1x1 convolutions of +2 and −2 times the identity, added to the input: where the
    /// input holds 3e38 they overflow to +inf and −inf and sum to NaN in any order of sums;
    /// elsewhere the sum is the input. The runner sets their weights (Fuzzing.weights).
    static func addNaNPrologue(_ spec: inout NetworkSpec, _ random: inout RandomSource) {
        let d = spec.depth
        spec.layers += [
            LayerSpec(name: "nan.plus", op: .conv(filters: d, window: WindowSpec(kernel: Size2(1, 1)), groups: nil, bias: false), from: "input"),
            LayerSpec(name: "nan.minus", op: .conv(filters: d, window: WindowSpec(kernel: Size2(1, 1)), groups: nil, bias: false), from: "input"),
            LayerSpec(name: "nan", op: .add(["nan.plus", "nan.minus", "input"])),
        ]
        let cells = spec.width * spec.height * spec.depth
        spec.nanCells = (0..<random.int(1...3)).map { _ in random.int(0...cells - 1) }
    }

    // MARK: layers

    /// The values a new layer can read: the input and every layer, with their shapes.
    func values(_ spec: NetworkSpec) -> [(reference: Int, shape: TensorShape)] {
        let input: TensorShape = spec.vectorInput ? .vector(spec.depth) : .volume(width: spec.width, height: spec.height, depth: spec.depth)
        if spec.layers.isEmpty { return [(-1, input)] }    // a file without layers does not check
        guard let net = spec.checked else { return [] }
        return [(-1, net.input)] + net.layers.indices.map { ($0, net.layers[$0].output) }
    }

    /// A name for value `reference` (-1 is the input), giving the layer one if it has none, so
    /// that the reference survives the shrinker renumbering the automatic names.
    func name(_ reference: Int, in spec: inout NetworkSpec) -> String {
        if reference < 0 { return "input" }
        if let name = spec.layers[reference].name { return name }
        let name = "l\(reference)"
        spec.layers[reference].name = name
        return name
    }

    /// Appends one layer (or a branch and the merge that reads it) to `spec`.
    func drawLayers(_ spec: inout NetworkSpec, _ random: inout RandomSource) {
        // Under the NaN prologue nothing else reads the input: sums of 3e38 overflow or not
        // depending on their order, so only the prologue's exact ±inf may reach the layers.
        let available = values(spec).filter { spec.nanCells.isEmpty || $0.reference >= 0 }
        guard !available.isEmpty else { return }
        // Mostly the previous line (a chain); sometimes an earlier value, the input included.
        let last = available[available.count - 1]
        let source = random.chance(0.72) ? last : random.pick(available)
        let from = source.reference != last.reference || random.chance(0.1) ? name(source.reference, in: &spec) : nil
        let shape = source.shape
        let kind: String = shape.isVector
            ? random.weighted([("fc", 30), ("dropout", 4), ("batchnorm", 8), ("activation", 16), ("add", 10),
                               ("concat", 8), ("flatten", 2), ("slice", 3), ("shuffle", 2),
                               ("layernorm", 3), ("maxout", 5)])
            : random.weighted([("conv", 30), ("depthwise", 8), ("pool", 11), ("globalpool", 3), ("fc", 4),
                               ("flatten", 2), ("dropout", 3), ("batchnorm", 6), ("lrn", 3), ("activation", 8),
                               ("add", 11), ("concat", 9), ("motif", 16),
                               ("slice", 4), ("shuffle", 3), ("layernorm", 4), ("layerscale", 3), ("pointwise", 5),
                               ("adaptivepool", 4), ("maxout", 4), ("deconv", 5), ("upsample", 4)])
        switch kind {
        case "add", "concat":
            merge(kind == "add", source: source, available: available, &spec, &random)
        case "motif":
            motif(from: source, &spec, &random)
        default:
            var layer = LayerSpec(name: random.chance(0.75) ? "l\(spec.layers.count)" : nil,
                                  op: op(kind, shape, &random), from: from)
            if layer.op.takesActivation, random.chance(0.45) { layer.activation = activation(&random) }
            spec.layers.append(layer)
        }
    }

    /// `add` of 2–4 values of one shape, or `concat` of 2–4 of one width and height. When no
    /// other value has a matching shape, a branch that has one is added first.
    func merge(_ isAdd: Bool, source: (reference: Int, shape: TensorShape),
               available: [(reference: Int, shape: TensorShape)], _ spec: inout NetworkSpec, _ random: inout RandomSource) {
        let s = source.shape
        func matches(_ t: TensorShape) -> Bool {
            isAdd ? t == s : (t.isVector == s.isVector && t.width == s.width && t.height == s.height)
        }
        var partners = available.filter { $0.reference != source.reference && matches($0.shape) }.map(\.reference)
        random.shuffle(&partners)
        var operands = [name(source.reference, in: &spec)]
        if source.reference >= 0, random.chance(0.35), spec.nanCells.isEmpty || !spec.layers[source.reference].readsInput(at: source.reference) {
            // A sibling: the source's own op again, on the source's own input (two convolutions
            // of the input added, the pattern of issue 14's first miscompile).
            let original = spec.layers[source.reference]
            let input = original.from ?? (source.reference == 0 ? "input" : name(source.reference - 1, in: &spec))
            let sibling = LayerSpec(name: "l\(spec.layers.count)", op: original.op, from: input,
                                    activation: original.op.takesActivation && random.chance(0.5) ? activation(&random) : original.activation)
            spec.layers.append(sibling)
            operands.append(sibling.name!)
        } else if partners.isEmpty || random.chance(0.3) {
            // A branch from the source that keeps its shape (add) or its width and height (concat).
            let branch = LayerSpec(name: "l\(spec.layers.count)", op: shapeKeeping(s, keepDepth: isAdd, &random),
                                   from: operands[0], activation: random.chance(0.4) ? activation(&random) : nil)
            spec.layers.append(branch)
            operands.append(branch.name!)
        }
        let wanted = random.weighted([(2, 5), (3, 3), (4, 2)])
        for p in partners where operands.count < wanted { operands.append(name(p, in: &spec)) }
        while operands.count < wanted {
            let branch = LayerSpec(name: "l\(spec.layers.count)", op: shapeKeeping(s, keepDepth: isAdd, &random), from: operands[0])
            spec.layers.append(branch)
            operands.append(branch.name!)
        }
        // The same value twice (`add a a`, `concat a b a`): valid, and the reference once crashed on it.
        if random.chance(0.08) { operands.append(random.pick(operands)) }
        random.shuffle(&operands)
        let layer = LayerSpec(name: random.chance(0.8) ? "l\(spec.layers.count)" : nil,
                              op: isAdd ? .add(operands) : .concat(operands),
                              activation: random.chance(0.4) ? activation(&random) : nil)
        spec.layers.append(layer)
    }

    /// The blocks real networks are made of, drawn whole, so the kernels' fused paths are
    /// reached as often as the plain ones: two small convolutions of one value added (the
    /// paired first-layer kernel with a fused residual), a residual block, squeeze-excitation
    /// (a 1x1xC scale broadcast by mul), and a block of wide 3x3 or 5x5 convolutions
    /// (Winograd, with a fused add); and the mobile networks' blocks (MobileMotifs.swift).
    func motif(from value: (reference: Int, shape: TensorShape), _ spec: inout NetworkSpec, _ random: inout RandomSource) {
        let base = spec.layers.count
        var source = name(value.reference, in: &spec), s = value.shape
        // Dotted and dashed, as torchvision's regnet names its blocks (`block1.block1-0`).
        func next() -> String { "m\(base).m-\(spec.layers.count - base)" }
        func conv(_ filters: Int, _ k: Int, pad: PadSpec?, bias: Bool = true) -> OpSpec {
            .conv(filters: filters, window: WindowSpec(kernel: Size2(k, k), pad: pad), groups: nil, bias: bias)
        }
        func add(_ op: OpSpec, from: String?, activation: ActivationSyntax? = nil) -> String {
            let name = next()
            spec.layers.append(LayerSpec(name: name, op: op, from: from, activation: activation))
            return name
        }
        guard !s.isVector else { return }
        switch random.weighted([(0, 4), (1, 3), (2, 3), (3, 2), (4, s.depth % 2 == 0 ? 2 : 0),
                                (5, s.depth <= 32 ? 2 : 0), (6, 6), (7, 5), (8, 4)]) {
        case let mobile where mobile >= 6:
            // The mobile networks' blocks (MobileMotifs.swift).
            mobileMotif(mobile - 6, from: value, &spec, &random)
        case 0:
            // Mostly on the network input, where the first layer is planar and may be paired.
            if spec.nanCells.isEmpty, spec.depth <= 16, !spec.vectorInput, random.chance(0.6) {
                source = "input"
                s = .volume(width: spec.width, height: spec.height, depth: spec.depth)
            }
            let filters = random.int(1...8), k = random.pick([1, 2, 3, 5])
            let a = add(conv(filters, k, pad: nil), from: source)
            let b = add(conv(filters, k, pad: nil, bias: random.chance(0.5)), from: source)
            _ = add(.add(random.chance(0.5) ? [a, b] : [b, a]), from: nil, activation: random.chance(0.5) ? activation(&random) : nil)
        case 1:
            let c1 = add(conv(s.depth, 3, pad: .explicit(Size2(1, 1)), bias: false), from: source)
            let b1 = add(.batchNorm(epsilon: nil), from: nil)
            let r1 = add(.activation(.relu), from: nil)
            _ = (c1, b1)
            let c2 = add(conv(s.depth, 3, pad: .same, bias: random.chance(0.5)), from: r1)
            _ = add(.add([c2, source]), from: nil, activation: random.chance(0.7) ? .relu : nil)
        case 3:
            // Squeeze-excitation (mobilenet_v3, efficientnet): a 1x1xC scale times the volume.
            let squeeze = add(.globalPool(max: false), from: source)
            let reduced = add(conv(max(1, s.depth / 4), 1, pad: nil), from: squeeze, activation: random.pick([.relu, .silu]))
            let scale = add(conv(s.depth, 1, pad: nil), from: reduced, activation: random.pick([.hardsigmoid, .sigmoid]))
            let operands = random.chance(0.5) ? [source, scale] : [scale, source]
            _ = add(.multiply(random.chance(0.35) ? operands + [source] : operands), from: nil,
                    activation: random.chance(0.3) ? activation(&random) : nil)
        case 4:
            // shufflenet_v2's unit at stride 1: halves, a branch on one, concat, channel shuffle.
            let half = s.depth / 2
            let left = add(.slice(from: 0, to: half), from: source)
            let right = add(.slice(from: half, to: s.depth), from: source)
            let branch = add(conv(half, 1, pad: nil, bias: false), from: right, activation: .relu)
            let joined = add(.concat(random.chance(0.5) ? [left, branch] : [branch, left]), from: nil)
            _ = add(.shuffle(groups: random.chance(0.8) ? 2 : random.pick((1...s.depth).filter { s.depth % $0 == 0 })), from: joined)
        case 5:
            // convnext's CNBlock: depthwise 7x7, layernorm, Linear 4C, gelu, Linear C, layer scale, residual.
            while s.width * s.height > 256 {
                source = add(.pool(max: false, window: WindowSpec(kernel: Size2(2, 2)), ceil: true), from: source)
                s = .volume(width: (s.width + 1) / 2, height: (s.height + 1) / 2, depth: s.depth)
            }
            let k = random.pick([3, 7])
            let dw = add(.depthwise(window: WindowSpec(kernel: Size2(k, k), pad: .same), multiplier: nil, bias: true), from: source)
            _ = add(.layerNorm(epsilon: 1e-6), from: dw)
            let gelu = random.pick([ActivationSyntax.gelu(tanh: false), .gelu(tanh: true), .relu])
            if random.chance(0.4) {
                // torch's GELU is a module of its own: a layer here, left to the fusion pass.
                _ = add(.pointwise(4 * s.depth, bias: true), from: nil)
                _ = add(.activation(gelu), from: nil)
            } else {
                _ = add(.pointwise(4 * s.depth, bias: true), from: nil, activation: gelu)
            }
            _ = add(.pointwise(s.depth, bias: random.chance(0.8)), from: nil)
            let scaled = add(.layerScale, from: nil)
            _ = add(.add([scaled, source]), from: nil)
        default:
            // Pooled down to at most 24x24 first, so two wide layers fit the MAC budget.
            while s.width * s.height > 576 {
                source = add(.pool(max: true, window: WindowSpec(kernel: Size2(2, 2), stride: Size2(2, 2)), ceil: true), from: source)
                s = .volume(width: (s.width + 1) / 2, height: (s.height + 1) / 2, depth: s.depth)
            }
            let k = random.pick([3, 5]), filters = k == 5 ? 64 : random.pick([64, 64, 96])
            let c1 = add(conv(filters, k, pad: .same), from: source, activation: .relu)
            // With its own activation the second layer cannot absorb the add: both forms are drawn.
            let c2 = add(conv(filters, k, pad: .same), from: c1, activation: random.chance(0.4) ? .relu : nil)
            _ = add(.add([c2, c1]), from: nil, activation: random.chance(0.6) ? .relu : nil)
        }
    }

    /// A layer that keeps a shape's width and height (and its depth when asked).
    func shapeKeeping(_ s: TensorShape, keepDepth: Bool, _ random: inout RandomSource) -> OpSpec {
        if s.isVector { return .fc(keepDepth ? s.depth : random.int(1...40)) }
        let filters = keepDepth ? s.depth : random.pick(Self.straddlingDepths)
        return random.weighted([
            (.conv(filters: filters, window: WindowSpec(kernel: Size2(3, 3), pad: .same), groups: nil, bias: random.chance(0.8)), 4),
            (.conv(filters: filters, window: WindowSpec(kernel: Size2(1, 1)), groups: nil, bias: true), 3),
            (.conv(filters: filters, window: WindowSpec(kernel: Size2(5, 5), pad: .explicit(Size2(2, 2))), groups: nil, bias: true), 1),
            (keepDepth ? .pool(max: random.chance(0.5), window: WindowSpec(kernel: Size2(3, 3), stride: Size2(1, 1), pad: .explicit(Size2(1, 1))), ceil: false)
                       : .conv(filters: filters, window: WindowSpec(kernel: Size2(3, 1), pad: .same), groups: nil, bias: true), 1),
            (keepDepth ? .batchNorm(epsilon: nil) : .conv(filters: filters, window: WindowSpec(kernel: Size2(1, 3), pad: .same), groups: nil, bias: true), 1),
        ])
    }

    func activation(_ random: inout RandomSource) -> ActivationSyntax {
        random.weighted([(.relu, 6), (.sigmoid, 2), (.tanh, 2), (.softmax, 1),
                         (.leakyRelu(random.chance(0.5) ? nil : random.pick([0.1, 0.2, 0.01])), 2),
                         (.elu(random.chance(0.5) ? nil : random.pick([0.5, 1.5])), 2),
                         (.relu6, 2), (.hardswish, 2), (.hardsigmoid, 1), (.silu, 2), (.gelu(tanh: random.chance(0.5)), 2)])
    }

    func size(_ random: inout RandomSource, _ squares: [Int], rectangular: Double, upTo most: Int) -> Size2 {
        if random.chance(rectangular) { return Size2(random.int(1...most), random.int(1...most)) }
        let n = random.pick(squares)
        return Size2(n, n)
    }

    func window(_ random: inout RandomSource, kernels: [Int], dilation: Bool, pool: Bool) -> WindowSpec {
        var w = WindowSpec(kernel: size(&random, kernels, rectangular: 0.2, upTo: pool ? 3 : 5))
        if random.chance(pool ? 0.6 : 0.35) { w.stride = size(&random, [1, 2, 2, 3], rectangular: 0.15, upTo: 3) }
        let maxPad = pool ? max(0, min(w.kernel.width, w.kernel.height) / 2) : 3
        w.pad = random.weighted([(nil, 35), (.same, 25), (.valid, 5),
                                 (.explicit(size(&random, Array(0...maxPad), rectangular: 0.3, upTo: max(maxPad, 1))), 35)])
        if case .explicit(let p)? = w.pad, pool, p.width > w.kernel.width / 2 || p.height > w.kernel.height / 2 { w.pad = nil }
        if dilation, random.chance(0.15) { w.dilation = size(&random, [2, 3], rectangular: 0.2, upTo: 3) }
        return w
    }

    /// Sometimes a torch padding mode on an explicit pad, within torch's limits for input `s`
    /// (reflect: pad < size; circular: pad ≤ size).
    func padMode(_ w: WindowSpec, _ s: TensorShape, _ random: inout RandomSource) -> WindowSpec {
        guard case .explicit(let p)? = w.pad, random.chance(0.3) else { return w }
        var w = w
        let mode = random.pick([PaddingMode.reflect, .replicate, .circular, .zeros])
        switch mode {
        case .reflect where p.width >= s.width || p.height >= s.height: return w
        case .circular where p.width > s.width || p.height > s.height: return w
        default: w.padMode = mode
        }
        return w
    }

    func op(_ kind: String, _ s: TensorShape, _ random: inout RandomSource) -> OpSpec {
        switch kind {
        case "conv" where s.depth >= 48 && random.chance(0.3):
            // Shapes the Winograd kernels take: 3x3 or 5x5, stride 1, wide, padded to keep the size.
            let k = random.pick([3, 3, 5])
            return .conv(filters: random.pick([64, 65, 80, 96]),
                         window: WindowSpec(kernel: Size2(k, k), pad: random.chance(0.7) ? .same : .explicit(Size2(k / 2, k / 2))),
                         groups: nil, bias: random.chance(0.7))
        case "conv":
            var filters = random.chance(0.6) ? random.pick(Self.straddlingDepths) : random.int(1...24)
            var groups: Int? = nil
            if random.chance(0.15) {
                let divisors = (2...max(2, s.depth)).filter { s.depth % $0 == 0 }
                if let g = divisors.isEmpty ? nil : random.pick(divisors) {
                    groups = g
                    filters = g * random.int(1...max(1, 24 / g))
                }
            }
            return .conv(filters: filters, window: padMode(window(&random, kernels: [1, 1, 2, 3, 3, 3, 5, 7], dilation: true, pool: false), s, &random),
                         groups: groups, bias: random.chance(0.85))
        case "depthwise":
            return .depthwise(window: padMode(window(&random, kernels: [3, 3, 5, 7], dilation: true, pool: false), s, &random),
                              multiplier: random.chance(0.25) ? random.int(2...3) : nil, bias: random.chance(0.8))
        case "adaptivepool":
            // Down (overlapping windows), equal, or up (repeated cells); 1x1 is globalavgpool's case.
            let width = random.chance(0.2) ? 1 : random.int(1...max(1, min(9, s.width + 2)))
            let height = random.chance(0.2) ? 1 : random.int(1...max(1, min(9, s.height + 2)))
            return .adaptivePool(Size2(width, height))
        case "maxout":
            // K = 1 (the identity) now and then; otherwise a divisor above 1 when there is one.
            let divisors = (2...max(2, min(s.depth, 8))).filter { s.depth % $0 == 0 }
            return .maxout(divisors.isEmpty || random.chance(0.15) ? 1 : random.pick(divisors))
        case "pool":
            return .pool(max: random.chance(0.55), window: window(&random, kernels: [2, 2, 3], dilation: false, pool: true),
                         ceil: random.chance(0.25))
        case "deconv":
            var w = WindowSpec(kernel: size(&random, [1, 2, 3, 3, 4], rectangular: 0.2, upTo: 4))
            if random.chance(0.6) { w.stride = size(&random, [2, 2, 3], rectangular: 0.2, upTo: 3) }
            if random.chance(0.5) { w.pad = .explicit(size(&random, [0, 1, 1, 2], rectangular: 0.2, upTo: 2)) }
            if random.chance(0.15) { w.dilation = size(&random, [2], rectangular: 0.3, upTo: 2) }
            // torch's rule: output padding below the stride or the dilation, on each axis.
            let stride = w.stride ?? Size2(1, 1), dilation = w.dilation ?? Size2(1, 1)
            let most = Size2(max(stride.width, dilation.width) - 1, max(stride.height, dilation.height) - 1)
            let outputPadding = most.width + most.height > 0 && random.chance(0.5)
                ? Size2(random.int(0...most.width), random.int(0...most.height)) : nil
            var filters = random.chance(0.5) ? random.pick(Self.straddlingDepths) : random.int(1...16)
            var groups: Int? = nil
            let divisors = (2...max(2, s.depth)).filter { s.depth % $0 == 0 }
            if random.chance(0.2), !divisors.isEmpty {
                let g = random.pick(divisors)
                groups = g
                filters = g * random.int(1...max(1, 16 / g))
            }
            return .deconv(filters: filters, window: w, outputPadding: outputPadding, groups: groups, bias: random.chance(0.8))
        case "upsample":
            let bilinear = random.chance(0.55)
            return .upsample(scale: size(&random, [2, 2, 3], rectangular: 0.25, upTo: 3), bilinear: bilinear,
                             alignCorners: bilinear && random.chance(0.4))
        case "globalpool": return .globalPool(max: random.chance(0.5))
        case "fc": return .fc(random.chance(0.5) ? random.pick(Self.straddlingDepths) : random.int(1...40))
        case "flatten": return .flatten
        case "dropout": return .dropout(random.pick([0, 0.25, 0.5]))
        case "batchnorm": return .batchNorm(epsilon: random.chance(0.3) ? random.pick([0.001, 0.1]) : nil)
        case "lrn":
            if random.chance(0.4) { return .lrn(size: nil, alpha: nil, beta: nil, k: nil) }
            return .lrn(size: random.int(1...7), alpha: random.pick([0.0001, 0.001, 0.01]),
                        beta: random.pick([0.5, 0.75, 1]), k: random.pick([0.5, 1, 2]))
        case "slice":
            let from = random.chance(0.3) ? 0 : random.int(0...(s.depth - 1))
            return .slice(from: from, to: random.chance(0.3) ? s.depth : random.int((from + 1)...s.depth))
        case "layernorm": return .layerNorm(epsilon: random.chance(0.4) ? random.pick([1e-6, 0.01]) : nil)
        case "layerscale": return .layerScale
        case "pointwise": return .pointwise(random.chance(0.5) ? random.pick(Self.straddlingDepths) : random.int(1...40), bias: random.chance(0.8))
        case "shuffle":
            return .shuffle(groups: random.pick((1...s.depth).filter { s.depth % $0 == 0 }))
        default: return .activation(activation(&random))
        }
    }
}
