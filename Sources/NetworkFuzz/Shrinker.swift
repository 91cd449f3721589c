/// Reduces a failing network to a small one that still fails, as C-Reduce and NNSmith do:
/// drop layers, cut the graph after a layer, shrink the batch, the input and the depths,
/// drop options; keep each change that still checks and still fails, until none does.
public struct Shrinker {
    /// Most calls of `stillFails` (each may compile the network), so a run stays bounded.
    public var budget: Int

    public init(budget: Int = 400) { self.budget = budget }

    /// The smallest network found that still fails, and how many candidates were tried.
    public func shrink(_ spec: NetworkSpec, stillFails: (NetworkSpec) -> Bool) -> (spec: NetworkSpec, tried: Int) {
        var best = spec, tried = 0
        var progress = true
        while progress, tried < budget {
            progress = false
            for candidate in Self.candidates(best) where candidate != best && candidate.size < best.size {
                guard tried < budget else { break }
                guard candidate.keepsInputToPrologue, candidate.checked != nil else { continue }
                tried += 1
                if stillFails(candidate) {
                    best = candidate
                    progress = true
                    break
                }
            }
        }
        return (best, tried)
    }

    /// Smaller variants of `spec`, the largest cuts first.
    static func candidates(_ spec: NetworkSpec) -> [NetworkSpec] {
        var out: [NetworkSpec] = []
        // The graph cut after a layer: everything later goes.
        for end in 0..<spec.layers.count { var s = spec; s.layers = Array(s.layers.prefix(end + 1)); out.append(s) }
        for i in spec.layers.indices.reversed() { out.append(removing(i, from: spec)) }
        if !spec.nanCells.isEmpty { var s = spec; s.nanCells = []; out.append(s) }
        if spec.nanCells.count > 1 { var s = spec; s.nanCells = [spec.nanCells[0]]; out.append(s) }
        if spec.batch > 1 {
            var s = spec; s.batch = 1; out.append(s)
            s = spec; s.batch = spec.batch / 2; out.append(s)
        }
        if !spec.vectorInput {
            for (w, h) in [(spec.width / 2, spec.height / 2), (spec.width / 2, spec.height), (spec.width, spec.height / 2),
                           (spec.width - 1, spec.height), (spec.width, spec.height - 1)] where w >= 1 && h >= 1 {
                var s = spec; s.width = w; s.height = h; s.clampNaNCells(); out.append(s)
            }
        }
        for d in [1, spec.depth / 2, spec.depth - 1] where d >= 1 && d < spec.depth {
            var s = spec; s.depth = d; s.resizeNaNPrologue(); s.clampNaNCells(); out.append(s)
        }
        for i in spec.layers.indices {
            for op in smaller(spec.layers[i].op) { var s = spec; s.layers[i].op = op; out.append(s) }
            if spec.layers[i].activation != nil {
                var s = spec; s.layers[i].activation = nil; out.append(s)
                if spec.layers[i].activation != .relu { s.layers[i].activation = .relu; out.append(s) }
            }
            if case .activation(let a) = spec.layers[i].op, a != .relu { var s = spec; s.layers[i].op = .activation(.relu); out.append(s) }
            if spec.layers[i].from != nil, i > 0 || spec.layers[i].from != "input" {
                var s = spec; s.layers[i].from = nil; out.append(s)
            }
        }
        return out
    }

    /// `spec` without layer i: whatever read it reads what it read.
    static func removing(_ i: Int, from spec: NetworkSpec) -> NetworkSpec {
        var s = spec
        let removed = s.layers[i]
        let source: String
        if let operand = removed.op.operands.first { source = operand } else if let from = removed.from { source = from } else if i == 0 {
            source = "input"
        } else {
            if s.layers[i - 1].name == nil { s.layers[i - 1].name = "l\(i - 1)x" }
            source = s.layers[i - 1].name!
        }
        s.layers.remove(at: i)
        guard let name = removed.name else { return s }
        for j in s.layers.indices {
            if s.layers[j].from == name { s.layers[j].from = source }
            switch s.layers[j].op {
            case .add(let o): s.layers[j].op = .add(o.map { $0 == name ? source : $0 })
            case .concat(let o): s.layers[j].op = .concat(o.map { $0 == name ? source : $0 })
            case .multiply(let o): s.layers[j].op = .multiply(o.map { $0 == name ? source : $0 })
            default: break
            }
        }
        // A layer that read the removed one by position and now reads by name keeps its source
        // explicit (its `from` was nil and the line before it is gone).
        if i < s.layers.count, s.layers[i].from == nil, s.layers[i].op.operands.isEmpty, removed.op.operands.isEmpty == false || removed.from != nil {
            s.layers[i].from = source
        }
        return s
    }

    /// The op with one thing made smaller or left at its default.
    static func smaller(_ op: OpSpec) -> [OpSpec] {
        var out: [OpSpec] = []
        func windows(_ w: WindowSpec) -> [WindowSpec] {
            var ws: [WindowSpec] = []
            if w.stride != nil { var v = w; v.stride = nil; ws.append(v) }
            if w.pad != nil { var v = w; v.pad = nil; ws.append(v) }
            if w.dilation != nil { var v = w; v.dilation = nil; ws.append(v) }
            if w.padMode != nil { var v = w; v.padMode = nil; ws.append(v) }
            if w.kernel.width > 1 || w.kernel.height > 1 {
                var v = w; v.kernel = Size2(max(1, w.kernel.width - 1), max(1, w.kernel.height - 1)); ws.append(v)
                v = w; v.kernel = Size2(1, 1); ws.append(v)
            }
            return ws
        }
        switch op {
        case .conv(let k, let w, let g, let bias):
            for k2 in [1, k / 2, k - 1] where k2 >= 1 && k2 < k { out.append(.conv(filters: k2, window: w, groups: g, bias: bias)) }
            if g != nil { out.append(.conv(filters: k, window: w, groups: nil, bias: bias)) }
            if !bias { out.append(.conv(filters: k, window: w, groups: g, bias: true)) }
            out += windows(w).map { .conv(filters: k, window: $0, groups: g, bias: bias) }
        case .depthwise(let w, let m, let bias):
            if m != nil { out.append(.depthwise(window: w, multiplier: nil, bias: bias)) }
            if !bias { out.append(.depthwise(window: w, multiplier: m, bias: true)) }
            out += windows(w).map { .depthwise(window: $0, multiplier: m, bias: bias) }
        case .pool(let max, let w, let ceil):
            if ceil { out.append(.pool(max: max, window: w, ceil: false)) }
            out += windows(w).map { .pool(max: max, window: $0, ceil: ceil) }
        case .fc(let n):
            for n2 in [1, n / 2, n - 1] where n2 >= 1 && n2 < n { out.append(.fc(n2)) }
        case .batchNorm(let eps?): _ = eps; out.append(.batchNorm(epsilon: nil))
        case .lrn(let size, _, _, _) where size != nil: out.append(.lrn(size: nil, alpha: nil, beta: nil, k: nil))
        case .add(let o) where o.count > 2:
            for i in o.indices { var p = o; p.remove(at: i); out.append(.add(p)) }
        case .concat(let o) where o.count > 2:
            for i in o.indices { var p = o; p.remove(at: i); out.append(.concat(p)) }
        case .multiply(let o) where o.count > 2:
            for i in o.indices { var p = o; p.remove(at: i); out.append(.multiply(p)) }
        case .slice(let from, let to) where from > 0: out.append(.slice(from: 0, to: to - from))
        case .shuffle(let groups) where groups > 1: out.append(.shuffle(groups: 1))
        case .maxout(let k) where k > 1: out.append(.maxout(1))
        case .adaptivePool(let size) where size != Size2(1, 1): out.append(.adaptivePool(Size2(1, 1)))
        case .deconv(let k, let w, let a, let g, let bias):
            for k2 in [1, k / 2, k - 1] where k2 >= 1 && k2 < k { out.append(.deconv(filters: k2, window: w, outputPadding: a, groups: g, bias: bias)) }
            if g != nil { out.append(.deconv(filters: k, window: w, outputPadding: a, groups: nil, bias: bias)) }
            if a != nil { out.append(.deconv(filters: k, window: w, outputPadding: nil, groups: g, bias: bias)) }
            if !bias { out.append(.deconv(filters: k, window: w, outputPadding: a, groups: g, bias: true)) }
            out += windows(w).map { .deconv(filters: k, window: $0, outputPadding: a, groups: g, bias: bias) }
        case .upsample(let scale, let bilinear, let alignCorners):
            if alignCorners { out.append(.upsample(scale: scale, bilinear: true, alignCorners: false)) }
            if bilinear { out.append(.upsample(scale: scale, bilinear: false, alignCorners: false)) }
            if scale != Size2(1, 1) { out.append(.upsample(scale: Size2(1, 1), bilinear: bilinear, alignCorners: alignCorners)) }
        case .layerNorm(let eps?): _ = eps; out.append(.layerNorm(epsilon: nil))
        case .pointwise(let n, let bias):
            for n2 in [1, n / 2, n - 1] where n2 >= 1 && n2 < n { out.append(.pointwise(n2, bias: bias)) }
            if !bias { out.append(.pointwise(n, bias: true)) }
        default: break
        }
        return out
    }
}

extension NetworkSpec {
    /// A measure that every accepted shrink lowers: layers first, then the rest.
    var size: Int {
        layers.count * 1_000_000_000 + batch * 10_000_000 + (width * height * depth) * 100
            + nanCells.count * 10 + layers.map { $0.text.count }.reduce(0, +)
    }

    mutating func clampNaNCells() {
        let cells = width * height * depth
        nanCells = nanCells.map { $0 % cells }
    }

    /// The NaN prologue's convolutions follow the input depth.
    mutating func resizeNaNPrologue() {
        for i in layers.indices where layers[i].name == "nan.plus" || layers[i].name == "nan.minus" {
            if case .conv(_, let w, let g, let b) = layers[i].op { layers[i].op = .conv(filters: depth, window: w, groups: g, bias: b) }
        }
    }
}
