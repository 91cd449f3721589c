import Runtime
import ShapeCheck

/// A GELU being assembled from torch's Erf form, factor·x^hasX·(1 + erf(x/√2))^hasTerm:
/// Div (or Mul), Erf, Add 1, Mul, Mul ½ in any of the orders exporters write them.
struct GeluPart {
    var x: Ref
    var last: Bool
    var factor: Float
    var hasX: Bool
    var hasTerm: Bool
    /// The nodes' op types so far, for the line's comment.
    var ops: [String] = []
}

/// What several nodes make together before the last of them completes a line.
enum Pending {
    /// [N, G, C/G, H, W]: a Reshape splitting the channels into G groups (a channel shuffle's first step).
    case grouped(Ref, groups: Int)
    /// The same after Transpose [0, 2, 1, 3, 4]: [N, C/G, G, H, W].
    case swapped(Ref, groups: Int)
    /// A batch of one flattened to rank 1 (the dynamo exporter's `as_strided`: Reshape to
    /// [C·H·W], then Gather of every index in order).
    case flat(Ref)
    /// A Pad's output, for the Conv or pool that reads it to take as its padding.
    case padded(Ref, Padding, mode: String, node: String)
    case gelu(GeluPart)
    /// erf(x/√2) of layer x, and the op types that made it.
    case erf(Ref, last: Bool, ops: [String])
}

/// Channel shuffle, slice, split, ReduceMean, Transpose and ConvNeXt's channels-last block
/// (LayerNormalization, MatMul as pointwise, layer scale, Erf GELU).
extension Importer {
    func refName(_ ref: Ref) -> String { ref < 0 ? "input" : lines[ref].name }

    func pendingDims(_ p: Pending) -> [Int] {
        switch p {
        case .grouped(let x, let g):
            let d = onnxDims(x)
            return [d[0], g, d[1] / g, d[2], d[3]]
        case .swapped(let x, let g):
            let d = onnxDims(x)
            return [d[0], d[1] / g, g, d[2], d[3]]
        case .flat(let x): return [shape(x).elementCount]
        case .padded(let x, let p, _, _):
            let d = onnxDims(x)
            return [d[0], d[1], d[2] + p.top + p.bottom, d[3] + p.left + p.right]
        case .gelu(let part): return part.last ? lastDims(part.x) : onnxDims(part.x)
        case .erf(let x, let last, _): return last ? lastDims(x) : onnxDims(x)
        }
    }

    func describe(_ p: Pending) -> String {
        switch p {
        case .grouped(let x, let g):
            return "the channels of '\(refName(x))' split into \(g) groups \(pendingDims(p)), which cnnc imports only as a channel "
                + "shuffle (Reshape, Transpose [0, 2, 1, 3, 4], Reshape back)"
        case .swapped(let x, let g):
            return "the \(g) channel groups of '\(refName(x))' transposed \(pendingDims(p)), which cnnc imports only when a Reshape "
                + "back to \(onnxDims(x)) completes the channel shuffle"
        case .flat(let x):
            return "'\(refName(x))' flattened to \(pendingDims(p)) without its batch, which cnnc imports only when a Gather of every "
                + "index in order gives it back its shape"
        case .padded(let x, _, _, let node):
            return "'\(refName(x))' padded by Pad \(node), which cnnc imports only as the padding of the Conv or pool reading it"
        case .gelu(let part):
            let what = [part.hasX ? "x" : nil, part.hasTerm ? "(1 + erf(x/√2))" : nil].compactMap { $0 }.joined(separator: "·")
            return "\(Self.number(part.factor))·\(what) of '\(refName(part.x))', which cnnc imports only as part of a GELU "
                + "x·0.5·(1 + erf(x/√2)) (the language has no scale or bias layer)"
        case .erf(let x, _, _):
            return "erf(x/√2) of '\(refName(x))', which cnnc imports only as part of a GELU x·0.5·(1 + erf(x/√2))"
        }
    }

    /// The one integer list an op takes as an attribute before `opset` and as a constant input
    /// `i` from it on (Slice's starts, Split's split, ReduceMean's axes).
    func list(_ node: ONNXNode, _ inputs: [Value?], _ i: Int, _ name: String, inputFrom: Int64) throws(ImportError) -> [Int64]? {
        if opset < inputFrom { return ints(node, name) }
        guard let c = try constant(node, inputs, i, name) else { return nil }
        guard let values = c.integers else { throw ImportError("has \(name) that are not whole numbers") }
        return values
    }

    // MARK: Transpose and the channel shuffle

    mutating func transpose(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> Value {
        guard let input = inputs.first ?? nil else { throw ImportError("needs input 1") }
        let dims: [Int]
        switch input {
        case .pending(let p): dims = pendingDims(p)
        case .channelsLast(let x): dims = lastDims(x)
        default: dims = onnxDims(try activation(node, inputs, 0))
        }
        let perm = ints(node, "perm") ?? dims.indices.reversed().map { Int64($0) }
        guard perm.count == dims.count, Set(perm) == Set(dims.indices.map { Int64($0) }) else {
            throw ImportError("has perm \(perm), which is not a permutation of the \(dims.count) axes of \(dims)")
        }
        if perm == dims.indices.map({ Int64($0) }) { return input }
        switch (input, perm) {
        case (.activation(let x), [0, 2, 3, 1]) where dims.count == 4: return .channelsLast(x)
        case (.channelsLast(let x), [0, 3, 1, 2]): return .activation(x)
        case (.pending(.grouped(let x, let g)), [0, 2, 1, 3, 4]): return .pending(.swapped(x, groups: g))
        default:
            throw ImportError("transposes \(dims) by perm \(perm); cnnc imports a Transpose only as the channels-last permute "
                + "[0, 2, 3, 1] and back [0, 3, 1, 2], or in a channel shuffle (Reshape to [N, G, C/G, H, W], perm [0, 2, 1, 3, 4], "
                + "Reshape back)")
        }
    }

    /// A Reshape that splits the channels into groups, or joins them after the shuffle's
    /// Transpose; nil when it is neither (an ordinary Reshape).
    mutating func shuffleStep(_ node: ONNXNode, _ inputs: [Value?], target: [Int64]) throws(ImportError) -> Value? {
        let allowZero = int(node, "allowzero", 0) != 0
        switch inputs.first ?? nil {
        case .pending(let p):
            let result = try Folding.reshaped(pendingDims(p), to: target, allowZero: allowZero)
            switch p {
            case .swapped(let x, let g) where result == onnxDims(x):
                return add(Line(name: "", op: "shuffle", arguments: ["\(g)"], inputs: [x], onnxOps: ["Reshape", "Transpose", "Reshape"],
                                shape: shape(x)), node: node, preferred: nil)
            case .grouped(let x, _) where result == onnxDims(x): return .activation(x)
            default: throw ImportError("reads \(describe(p))")
            }
        case .activation(let x) where !shape(x).isVector:
            let dims = onnxDims(x)
            let result = try Folding.reshaped(dims, to: target, allowZero: allowZero)
            guard result.count == 5, result[0] == dims[0], result[3] == dims[2], result[4] == dims[3], result[1] * result[2] == dims[1] else {
                return nil
            }
            return .pending(.grouped(x, groups: result[1]))
        default: return nil
        }
    }

    /// Gather by 0, 1, 2, … of a flattened batch of one: the layer output again, in the shape
    /// the indices have ([N, C, H, W], or [N, C·H·W] as a flatten).
    mutating func gather(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> Value {
        guard case .pending(.flat(let x))? = inputs.first ?? nil else {
            throw .unsupportedOp("gathers from a layer output; cnnc imports Gather on constants and shapes")
        }
        let n = shape(x).elementCount
        guard int(node, "axis", 0) == 0, let indices = try constant(node, inputs, 1, "indices"), let picks = indices.integers,
              picks.count == n, picks.enumerated().allSatisfy({ Int64($0.offset) == $0.element }) else {
            throw ImportError("gathers other elements than all \(n) of '\(refName(x))' in order; cnnc imports a Gather of a layer "
                + "output only as that (the dynamo exporter's as_strided of a contiguous tensor)")
        }
        if indices.shape == onnxDims(x) { return .activation(x) }
        if indices.shape == [batch, n] { return try flatten(x, node: node) }
        throw ImportError("gathers '\(refName(x))' into the shape \(indices.shape); cnnc imports it as \(onnxDims(x)) or a flatten")
    }

    // MARK: Slice, Split

    /// The channel range a Slice keeps (the other axes whole, step 1), as `slice FROM TO`.
    mutating func slice(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> Value {
        let (x, last) = try laidOut(node, inputs, 0)
        let dims = last ? lastDims(x) : onnxDims(x)
        let channel = last ? 3 : 1
        guard let starts = try list(node, inputs, 1, "starts", inputFrom: 10), let ends = try list(node, inputs, 2, "ends", inputFrom: 10),
              starts.count == ends.count else { throw ImportError("needs starts and ends of the same length") }
        let axes = try list(node, inputs, 3, "axes", inputFrom: 10) ?? starts.indices.map { Int64($0) }
        let steps = (opset >= 10 ? try list(node, inputs, 4, "steps", inputFrom: 10) : nil) ?? starts.map { _ in 1 }
        guard axes.count == starts.count, steps.count == starts.count else {
            throw ImportError("has starts, ends, axes and steps of different lengths")
        }
        var from = 0, to = dims[channel]
        for k in starts.indices {
            let a = try Folding.axis(axes[k], rank: dims.count, "axis")
            let size = Int64(dims[a])
            func clamped(_ v: Int64) -> Int { Int(min(max(v < 0 ? v &+ size : v, 0), size)) }
            let (s, e) = (clamped(starts[k]), clamped(ends[k]))
            if a != channel && s == 0 && e == dims[a] { continue }
            guard a == channel, steps[k] == 1 else {
                throw ImportError("slices axis \(axes[k]) of \(dims) from \(starts[k]) to \(ends[k])" + (steps[k] == 1 ? "" : " by \(steps[k])")
                    + "; cnnc imports a Slice only of a channel range (axis \(channel)), step 1, as 'slice FROM TO'")
            }
            (from, to) = (s, e)
        }
        guard from < to else { throw ImportError("keeps no channels (\(from) to \(to) of \(dims[channel]))") }
        if from == 0 && to == dims[channel] { return value(x, last: last) }
        return value(addSlice(x, from, to, node: node), last: last)
    }

    mutating func addSlice(_ x: Ref, _ from: Int, _ to: Int, node: ONNXNode) -> Ref {
        let s = shape(x)
        let out = s.isVector ? TensorShape.vector(to - from) : .volume(width: s.width, height: s.height, depth: to - from)
        return addLine(Line(name: "", op: "slice", arguments: ["\(from)", "\(to)"], inputs: [x], onnxOps: [node.opType], shape: out),
                       node: node, preferred: nil)
    }

    /// Split on the channels: one `slice` per output that is read.
    mutating func split(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> Value {
        let (x, last) = try laidOut(node, inputs, 0)
        let dims = last ? lastDims(x) : onnxDims(x)
        let channel = last ? 3 : 1
        let axis = try Folding.axis(int(node, "axis", 0), rank: dims.count, "axis")
        guard axis == channel else {
            throw ImportError("splits axis \(int(node, "axis", 0)) of \(dims); cnnc imports a Split only of the channels (axis \(channel))")
        }
        let depth = dims[channel], parts = node.outputs.count
        var sizes: [Int]
        if let split = try list(node, inputs, 1, "split", inputFrom: 13) {
            guard split.count == parts, split.allSatisfy({ $0 >= 0 }), split.reduce(0, +) == Int64(depth) else {
                throw ImportError("has split \(split) for \(parts) outputs of \(depth) channels")
            }
            sizes = split.map { Int($0) }
        } else {
            let n = Int(int(node, "num_outputs", Int64(parts)))
            guard n == parts, n >= 1 else { throw ImportError("has num_outputs \(n) but \(parts) outputs") }
            // Opset 18's rule: chunks of ⌈C/n⌉, the last smaller; before it, C must divide evenly.
            let chunk = (depth + n - 1) / n
            guard opset >= 18 || depth % n == 0, chunk * (n - 1) < depth else {
                throw ImportError("splits \(depth) channels into \(n) equal parts")
            }
            sizes = (0..<n).map { min(chunk, depth - chunk * $0) }
        }
        var from = 0
        for (output, size) in zip(node.outputs, sizes) {
            defer { from += size }
            guard !output.isEmpty, uses[output, default: 0] > 0 else { continue }
            guard size > 0 else { throw ImportError("makes '\(output)' of no channels, and it is read") }
            let ref = size == depth ? x : addSlice(x, from, from + size, node: node)
            values[output] = value(ref, last: last)
        }
        return node.outputs.first.flatMap { values[$0] } ?? .poisoned
    }

    // MARK: ReduceMean

    /// ReduceMean (or ReduceMax) over H and W: `globalavgpool`, and `flatten` after it
    /// without keepdims.
    mutating func reduce(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> Value {
        let (x, last) = try laidOut(node, inputs, 0)
        let dims = last ? lastDims(x) : onnxDims(x)
        let axes = try list(node, inputs, 1, "axes", inputFrom: 18) ?? []
        var normalized: Set<Int> = []
        for a in axes { normalized.insert(try Folding.axis(a, rank: dims.count, "axis")) }
        let spatial: Set<Int> = last ? [1, 2] : [2, 3]
        let op = node.opType == "ReduceMax" ? "globalmaxpool" : "globalavgpool"
        guard dims.count == 4, normalized == spatial else {
            throw ImportError("reduces axes \(axes.isEmpty ? "(all)" : "\(axes)") of \(dims); cnnc imports a \(node.opType) only over "
                + "the height and width (axes \(spatial.sorted())) as '\(op)'")
        }
        let s = shape(x)
        var line = Line(name: "", op: op, arguments: [], inputs: [x], onnxOps: [node.opType], shape: .volume(width: 1, height: 1, depth: s.depth))
        guard int(node, "keepdims", 1) == 0 else { return add(line, node: node, preferred: nil, last: last) }
        let pooled = addLine(line, node: node, preferred: nil)
        line = Line(name: "", op: "flatten", arguments: [], inputs: [pooled], onnxOps: [node.opType], shape: .vector(s.depth))
        return add(line, node: node, preferred: lines[pooled].name + ".flatten")
    }

    // MARK: LayerNormalization, layer scale

    /// LayerNormalization over the channels alone: the last axis of a channels-last tensor
    /// or of a vector, or axis 1 at 1×1.
    mutating func layerNorm(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> Value {
        let (x, last) = try laidOut(node, inputs, 0)
        let s = shape(x)
        let dims = last ? lastDims(x) : onnxDims(x)
        let axis = try Folding.axis(int(node, "axis", -1), rank: dims.count, "axis")
        let overChannels = last ? axis == 3 : s.isVector ? axis == 1 : axis == 1 && s.width * s.height == 1
        guard overChannels else {
            throw ImportError("normalises axes \(axis)… of \(dims); the language's layernorm is over the channels alone (the last "
                + "axis after a Transpose [0, 2, 3, 1], as ConvNeXt's)")
        }
        if let extra = readsExtraOutputs(node) { throw ImportError("has its statistic '\(extra)' read; cnnc runs inference only") }
        let c = s.depth
        guard let scale = try constant(node, inputs, 1, "scale"), !scale.isInteger, scale.count == c else {
            throw ImportError("needs a constant scale of \(c) values")
        }
        var bias = [Float](repeating: 0, count: c)
        if let b = try constant(node, inputs, 2, "bias") {
            guard !b.isInteger, b.count == c else { throw ImportError("has a bias of shape \(b.shapeText) for \(c) channels") }
            bias = b.floats
        }
        let epsilon = float(node, "epsilon", 1e-5)
        guard epsilon > 0, epsilon.isFinite else { throw ImportError("has epsilon \(epsilon); it must be above 0") }
        var line = Line(name: "", op: "layernorm", arguments: epsilon == Float(1e-5) ? [] : ["eps", Self.number(epsilon)], inputs: [x],
                        onnxOps: ["LayerNormalization"], shape: s)
        line.weights = [("weight", Tensor(shape: [c], storage: scale.floats)), ("bias", Tensor(shape: [c], storage: bias))]
        return add(line, node: node, preferred: weightStem(node, 1), last: last)
    }

    /// MatMul of a channels-last [N, H, W, C] by a constant [C, M]: torch's Linear at each
    /// position, `pointwise M` with the weight as torch stores it ([M, C]).
    mutating func pointwise(_ node: ONNXNode, _ inputs: [Value?], _ x: Ref) throws(ImportError) -> Value {
        let c = shape(x).depth
        guard let b = try constant(node, inputs, 1, "weight"), b.shape.count == 2, !b.isInteger, b.shape[0] == c else {
            throw ImportError("needs a constant float weight [\(c), M] for a channels-last input of \(c) channels")
        }
        let n = b.shape[1]
        let s = shape(x)
        var line = Line(name: "", op: "pointwise", arguments: ["\(n)"], inputs: [x], onnxOps: ["MatMul"],
                        shape: .volume(width: s.width, height: s.height, depth: n))
        line.weights = [("weight", Tensor(shape: [n, c], storage: Self.transposed(b.floats, rows: c, columns: n))),
                        ("bias", Tensor(shape: [n], repeating: 0))]
        line.biasFromAdd = true
        return .channelsLast(addLine(line, node: node, preferred: weightStem(node, 1)))
    }

    /// A Mul by a constant of one value per channel ([C, 1, 1] on [N, C, H, W], [C] on
    /// channels-last): ConvNeXt's layer scale.
    mutating func layerScale(_ node: ONNXNode, _ x: Ref, last: Bool, _ c: ConstantTensor, index: Int) throws(ImportError) -> Value? {
        let s = shape(x)
        guard !c.isInteger, c.count == s.depth, c.count > 1 else { return nil }
        let fits = last ? c.shape.last == s.depth : (c.shape.count >= 3 && c.shape.suffix(3) == [s.depth, 1, 1])
        guard fits, !s.isVector, c.shape.dropLast(last ? 1 : 3).allSatisfy({ $0 == 1 }) else {
            throw ImportError("multiplies \(last ? lastDims(x) : onnxDims(x)) by a constant \(c.shapeText); the language scales "
                + "channels by one value each (layerscale: [C, 1, 1], or [C] channels-last)")
        }
        var line = Line(name: "", op: "layerscale", arguments: [], inputs: [x], onnxOps: ["Mul"], shape: s)
        line.weights = [("layer_scale", Tensor(shape: [s.depth, 1, 1], storage: c.floats))]
        return add(line, node: node, preferred: weightStem(node, index, suffix: ".layer_scale"), last: last)
    }

    // MARK: GELU from Erf

    func geluOperand(_ v: Value?) -> GeluPart? {
        switch v {
        case .activation(let x)?: GeluPart(x: x, last: false, factor: 1, hasX: true, hasTerm: false)
        case .channelsLast(let x)?: GeluPart(x: x, last: true, factor: 1, hasX: true, hasTerm: false)
        case .pending(.gelu(let p))?: p
        default: nil
        }
    }

    static func close(_ a: Float, _ b: Float) -> Bool { abs(a - b) <= 1e-5 * abs(b) }

    /// The part complete (0.5·x·(1 + erf(x/√2))) is a `gelu` line; otherwise it waits.
    mutating func gelu(_ part: GeluPart, _ node: ONNXNode) -> Value {
        guard part.hasX, part.hasTerm, Self.close(part.factor, 0.5) else { return .pending(.gelu(part)) }
        let line = Line(name: "", op: "gelu", arguments: [], inputs: [part.x], onnxOps: part.ops, shape: shape(part.x))
        return add(line, node: node, preferred: nil, last: part.last)
    }

    /// Mul or Div of a layer output (or a GELU part) by one constant, or of two parts of one
    /// GELU; nil when it is no step of a GELU.
    mutating func geluStep(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> Value? {
        guard inputs.count == 2 else { return nil }
        let divides = node.opType == "Div"
        for (a, b) in divides ? [(0, 1)] : [(0, 1), (1, 0)] {
            guard var part = geluOperand(inputs[a]), case .constant(let c)? = inputs[b], !c.isInteger, c.count == 1,
                  let k = c.floats.first, k != 0, k.isFinite else { continue }
            part.factor = divides ? part.factor / k : part.factor * k
            part.ops.append(node.opType)
            return gelu(part, node)
        }
        guard !divides, let p = geluOperand(inputs[0]), let q = geluOperand(inputs[1]), p.x == q.x, p.last == q.last,
              !(p.hasX && q.hasX), !(p.hasTerm && q.hasTerm) else { return nil }
        return gelu(GeluPart(x: p.x, last: p.last, factor: p.factor * q.factor, hasX: p.hasX || q.hasX, hasTerm: p.hasTerm || q.hasTerm,
                             ops: p.ops + q.ops + ["Mul"]), node)
    }

    func erf(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> Value {
        if case .pending(.gelu(let p))? = inputs.first ?? nil, p.hasX, !p.hasTerm, Self.close(p.factor, Float(1 / 2.0.squareRoot())) {
            return .pending(.erf(p.x, last: p.last, ops: p.ops + ["Erf"]))
        }
        throw .unsupportedOp("only erf(x/√2) of a GELU imports")
    }

    /// 1 + erf(x/√2), a GELU's term; nil for any other Add.
    func erfTerm(_ inputs: [Value?]) -> Value? {
        guard inputs.count == 2 else { return nil }
        for (a, b) in [(0, 1), (1, 0)] {
            guard case .pending(.erf(let x, let last, let ops))? = inputs[a], case .constant(let c)? = inputs[b], c.count == 1,
                  c.isInteger ? c.ints[0] == 1 : c.floats[0] == 1 else { continue }
            return .pending(.gelu(GeluPart(x: x, last: last, factor: 1, hasX: false, hasTerm: true, ops: ops + ["Add"])))
        }
        return nil
    }
}
