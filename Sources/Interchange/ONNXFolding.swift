/// Constant folding: nodes whose inputs are all known at import are evaluated there, so a
/// shape computed at run time (torch's `x.view(x.size(0), -1)` is Shape → Gather → Unsqueeze
/// → Concat → Reshape) reaches the Reshape as a plain list of numbers. Only the few ops such
/// subgraphs use are evaluated; any other constant node is listed as unsupported.
enum Folding {
    /// The ops evaluated when every input is a constant.
    static let ops: Set<String> = ["Constant", "Identity", "Cast", "Gather", "Unsqueeze", "Squeeze", "Concat", "Reshape",
                                   "Slice", "Add", "Sub", "Mul", "Div", "ConstantOfShape", "Flatten"]

    /// Folded results are shapes and small tensors; a larger one is refused rather than built.
    static let resultLimit = 1 << 24

    /// Row-major strides of `shape`.
    static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for axis in shape.indices.reversed() {
            strides[axis] = step
            step *= shape[axis]
        }
        return strides
    }

    static func count(_ shape: [Int]) throws(ImportError) -> Int {
        var total = 1
        for dim in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: dim)
            guard dim >= 0, !overflow, product <= resultLimit else {
                throw ImportError("folding a constant of shape \(shape) would make more than \(resultLimit) values")
            }
            total = product
        }
        return total
    }

    /// `tensor`'s elements at `sources` (flat indices), as a tensor of `shape`.
    static func pick(_ tensor: ConstantTensor, _ sources: [Int], shape: [Int]) -> ConstantTensor {
        tensor.isInteger ? .int(shape, sources.map { tensor.ints[$0] }) : .float(shape, sources.map { tensor.floats[$0] })
    }

    /// An axis in -rank..<rank, made non-negative.
    static func axis(_ value: Int64, rank: Int, _ what: String) throws(ImportError) -> Int {
        guard value >= -Int64(rank), value < Int64(rank) else {
            throw ImportError("\(what) \(value) is outside the rank \(rank)")
        }
        return Int(value < 0 ? value + Int64(rank) : value)
    }

    /// Evaluates `node` on constant inputs (nil for an absent optional input); nil when the op
    /// is not one that folds.
    static func fold(_ node: ONNXNode, _ inputs: [ConstantTensor?], opset: Int64) throws(ImportError) -> ConstantTensor? {
        func input(_ i: Int) throws(ImportError) -> ConstantTensor {
            guard i < inputs.count, let value = inputs[i] else { throw ImportError("needs input \(i + 1)") }
            return value
        }
        func ints(_ attribute: String) -> [Int64]? { node.attribute(attribute).map(\.ints) }
        switch node.opType {
        case "Constant": return try constantNode(node)
        case "Identity": return try input(0)
        case "Cast":
            let data = try input(0)
            let to = node.attribute("to")?.i ?? 0
            switch ONNXTensor.DataType(rawValue: Int32(truncatingIfNeeded: to)) {
            case .float, .double: return .float(data.shape, data.isInteger ? data.ints.map { Float($0) } : data.floats)
            case .int32, .int64:
                if data.isInteger { return data }
                return .int(data.shape, data.floats.map { $0.isFinite && abs($0) < 9.2e18 ? Int64($0) : 0 })
            default: throw ImportError("casts to \(ONNXTensor.typeName(Int32(truncatingIfNeeded: to))), which cnnc import does not fold")
            }
        case "Gather": return try gather(try input(0), try input(1), axis: node.attribute("axis")?.i ?? 0)
        case "Unsqueeze":
            let axes = opset >= 13 ? (try input(1)).integers ?? [] : ints("axes") ?? []
            return try unsqueeze(try input(0), axes: axes)
        case "Squeeze":
            let axes = opset >= 13 ? inputs.count > 1 ? inputs[1]?.integers : nil : ints("axes")
            return try squeeze(try input(0), axes: axes)
        case "Concat":
            return try concat(inputs.compactMap { $0 }, axis: node.attribute("axis")?.i ?? 0)
        case "Reshape":
            let data = try input(0)
            guard let target = (try input(1)).integers else { throw ImportError("has a shape that is not whole numbers") }
            let shape = try reshaped(data.shape, to: target, allowZero: (node.attribute("allowzero")?.i ?? 0) != 0)
            return data.isInteger ? .int(shape, data.ints) : .float(shape, data.floats)
        case "Flatten":
            let data = try input(0)
            let axis = try axis(node.attribute("axis")?.i ?? 1, rank: data.shape.count + 1, "axis")
            let outer = data.shape.prefix(axis).reduce(1, *)
            let shape = [outer, data.count / max(outer, 1)]
            return data.isInteger ? .int(shape, data.ints) : .float(shape, data.floats)
        case "Slice": return try slice(node, inputs, opset: opset)
        case "Add", "Sub", "Mul", "Div": return try arithmetic(node.opType, try input(0), try input(1))
        case "ConstantOfShape":
            guard let shape = (try input(0)).integers else { throw ImportError("has a shape that is not whole numbers") }
            let dims = shape.map { Int(clamping: $0) }
            let total = try count(dims)
            let value = try node.attribute("value")?.t.first?.constant() ?? .float([1], [0])
            guard value.count == 1 else { throw ImportError("has a value of \(value.count) elements; it must have one") }
            return value.isInteger ? .int(dims, Array(repeating: value.ints[0], count: total))
                : .float(dims, Array(repeating: value.floats[0], count: total))
        default: return nil
        }
    }

    /// A Constant node's one value attribute.
    static func constantNode(_ node: ONNXNode) throws(ImportError) -> ConstantTensor {
        for attribute in node.attributes {
            switch attribute.name {
            case "value":
                guard let tensor = attribute.t.first else { throw ImportError("has a 'value' attribute without a tensor") }
                return try tensor.constant()
            case "value_float": return .float([], [attribute.f ?? 0])
            case "value_floats": return .float([attribute.floats.count], attribute.floats)
            case "value_int": return .int([], [attribute.i ?? 0])
            case "value_ints": return .int([attribute.ints.count], attribute.ints)
            default: continue
            }
        }
        throw ImportError("has no value cnnc import reads (value, value_float(s) or value_int(s))")
    }

    static func gather(_ data: ConstantTensor, _ indices: ConstantTensor, axis value: Int64) throws(ImportError) -> ConstantTensor {
        let axis = try axis(value, rank: data.shape.count, "axis")
        guard let picks = indices.integers else { throw ImportError("has indices that are not whole numbers") }
        let size = data.shape[axis]
        var normalized: [Int] = []
        for index in picks {
            guard index >= -Int64(size), index < Int64(size) else {
                throw ImportError("gathers index \(index) of an axis of size \(size)")
            }
            normalized.append(Int(index < 0 ? index + Int64(size) : index))
        }
        let outer = data.shape[..<axis].reduce(1, *), inner = data.shape[(axis + 1)...].reduce(1, *)
        let shape = Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...])
        var sources: [Int] = []
        sources.reserveCapacity(try count(shape))
        for o in 0..<outer {
            for index in normalized {
                for i in 0..<inner { sources.append((o * size + index) * inner + i) }
            }
        }
        return pick(data, sources, shape: shape)
    }

    static func unsqueeze(_ data: ConstantTensor, axes: [Int64]) throws(ImportError) -> ConstantTensor {
        let rank = data.shape.count + axes.count
        var positions = Set<Int>()
        for value in axes { positions.insert(try axis(value, rank: rank, "axis")) }
        guard positions.count == axes.count else { throw ImportError("names an axis twice in \(axes)") }
        var shape: [Int] = []
        var rest = data.shape.makeIterator()
        for i in 0..<rank { shape.append(positions.contains(i) ? 1 : rest.next()!) }
        return data.isInteger ? .int(shape, data.ints) : .float(shape, data.floats)
    }

    static func squeeze(_ data: ConstantTensor, axes: [Int64]?) throws(ImportError) -> ConstantTensor {
        var removed = Set<Int>()
        if let axes {
            for value in axes {
                let a = try axis(value, rank: data.shape.count, "axis")
                guard data.shape[a] == 1 else { throw ImportError("squeezes axis \(value) of size \(data.shape[a])") }
                removed.insert(a)
            }
        } else {
            removed = Set(data.shape.indices.filter { data.shape[$0] == 1 })
        }
        let shape = data.shape.indices.filter { !removed.contains($0) }.map { data.shape[$0] }
        return data.isInteger ? .int(shape, data.ints) : .float(shape, data.floats)
    }

    static func concat(_ parts: [ConstantTensor], axis value: Int64) throws(ImportError) -> ConstantTensor {
        guard let first = parts.first else { throw ImportError("has no inputs") }
        let rank = first.shape.count
        let axis = try axis(value, rank: rank, "axis")
        for part in parts {
            guard part.shape.count == rank, part.isInteger == first.isInteger,
                  part.shape.indices.allSatisfy({ $0 == axis || part.shape[$0] == first.shape[$0] }) else {
                throw ImportError("joins tensors of shapes \(parts.map(\.shapeText).joined(separator: ", ")) that do not fit on axis \(value)")
            }
        }
        var shape = first.shape
        shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        _ = try count(shape)
        let outer = first.shape[..<axis].reduce(1, *)
        var floats: [Float] = [], ints: [Int64] = []
        for o in 0..<outer {
            for part in parts {
                let block = part.shape[axis...].reduce(1, *)
                if first.isInteger { ints += part.ints[(o * block)..<((o + 1) * block)] } else {
                    floats += part.floats[(o * block)..<((o + 1) * block)]
                }
            }
        }
        return first.isInteger ? .int(shape, ints) : .float(shape, floats)
    }

    /// ONNX Reshape's target: 0 copies the input's dimension (unless `allowZero`), one -1 is
    /// inferred; the element count must be kept.
    static func reshaped(_ input: [Int], to target: [Int64], allowZero: Bool) throws(ImportError) -> [Int] {
        let total = input.reduce(1, *)
        var shape: [Int] = []
        var inferred: Int?
        for (i, value) in target.enumerated() {
            switch value {
            case -1:
                guard inferred == nil else { throw ImportError("has more than one -1 in its target shape \(target)") }
                inferred = i
                shape.append(1)
            case 0 where !allowZero:
                guard i < input.count else { throw ImportError("copies dimension \(i) of a tensor of rank \(input.count)") }
                shape.append(input[i])
            case 0...Int64(tensorElementLimit):
                shape.append(Int(value))
            default: throw ImportError("has a dimension \(value) in its target shape \(target)")
            }
        }
        var known = 1
        for dim in shape {
            let (product, overflow) = known.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw ImportError("has a target shape \(target) whose size overflows") }
            known = product
        }
        if let inferred {
            guard known > 0, total % known == 0 else {
                throw ImportError("cannot reshape \(total) values to \(target)")
            }
            shape[inferred] = total / known
        } else if known != total {
            throw ImportError("cannot reshape \(total) values (shape \(input)) to \(target)")
        }
        return shape
    }

    static func slice(_ node: ONNXNode, _ inputs: [ConstantTensor?], opset: Int64) throws(ImportError) -> ConstantTensor {
        guard let data = inputs.first ?? nil else { throw ImportError("needs its data input") }
        func list(_ i: Int, _ attribute: String) throws(ImportError) -> [Int64]? {
            if opset < 10 { return node.attribute(attribute)?.ints }
            guard i < inputs.count, let value = inputs[i] else { return nil }
            guard let values = value.integers else { throw ImportError("has \(attribute) that are not whole numbers") }
            return values
        }
        guard let starts = try list(1, "starts"), let ends = try list(2, "ends"), starts.count == ends.count else {
            throw ImportError("needs starts and ends of the same length")
        }
        let axes = try list(3, "axes") ?? starts.indices.map { Int64($0) }
        let steps = try list(4, "steps") ?? starts.map { _ in 1 }
        guard axes.count == starts.count, steps.count == starts.count else {
            throw ImportError("has starts, ends, axes and steps of different lengths")
        }
        var begin = data.shape.map { _ in 0 }, step = data.shape.map { _ in 1 }, size = data.shape
        for k in starts.indices {
            let a = try axis(axes[k], rank: data.shape.count, "axis")
            let dim = Int64(data.shape[a])
            guard steps[k] != 0 else { throw ImportError("has a step of 0") }
            func clampIndex(_ v: Int64, _ low: Int64, _ high: Int64) -> Int64 {
                let value = v < 0 ? v &+ dim : v
                return min(max(value, low), high)
            }
            if steps[k] > 0 {
                let s = clampIndex(starts[k], 0, dim), e = clampIndex(ends[k], 0, dim)
                begin[a] = Int(s)
                size[a] = e > s ? Int((e - s + steps[k] - 1) / steps[k]) : 0
            } else {
                let s = clampIndex(starts[k], 0, dim - 1), e = clampIndex(ends[k], -1, dim - 1)
                begin[a] = Int(s)
                size[a] = s > e ? Int((s - e - steps[k] - 1) / -steps[k]) : 0
            }
            step[a] = Int(steps[k])
        }
        let total = try count(size)
        let inStrides = Folding.strides(data.shape), outStrides = Folding.strides(size)
        var sources: [Int] = []
        sources.reserveCapacity(total)
        for flat in 0..<total {
            var source = 0
            for a in size.indices {
                let i = (flat / outStrides[a]) % max(size[a], 1)
                source += (begin[a] + i * step[a]) * inStrides[a]
            }
            sources.append(source)
        }
        return pick(data, sources, shape: size)
    }

    /// Element-wise arithmetic with numpy broadcasting; integer division truncates, as ORT's.
    static func arithmetic(_ op: String, _ a: ConstantTensor, _ b: ConstantTensor) throws(ImportError) -> ConstantTensor {
        let rank = max(a.shape.count, b.shape.count)
        let sa = Array(repeating: 1, count: rank - a.shape.count) + a.shape
        let sb = Array(repeating: 1, count: rank - b.shape.count) + b.shape
        var shape: [Int] = []
        for i in 0..<rank {
            guard sa[i] == sb[i] || sa[i] == 1 || sb[i] == 1 else {
                throw ImportError("cannot broadcast shapes \(a.shape) and \(b.shape)")
            }
            shape.append(sa[i] == 1 ? sb[i] : sa[i])
        }
        let total = try count(shape)
        let stridesA = Folding.strides(sa), stridesB = Folding.strides(sb), out = Folding.strides(shape)
        func index(_ flat: Int, _ dims: [Int], _ strides: [Int]) -> Int {
            var source = 0
            for i in 0..<rank where dims[i] != 1 { source += ((flat / out[i]) % shape[i]) * strides[i] }
            return source
        }
        if a.isInteger && b.isInteger {
            var values: [Int64] = []
            for flat in 0..<total {
                let x = a.ints[index(flat, sa, stridesA)], y = b.ints[index(flat, sb, stridesB)]
                switch op {
                case "Add": values.append(x &+ y)
                case "Sub": values.append(x &- y)
                case "Mul": values.append(x &* y)
                default:
                    guard y != 0 else { throw ImportError("divides by zero") }
                    values.append(x == .min && y == -1 ? .min : x / y)
                }
            }
            return .int(shape, values)
        }
        let fa = a.isInteger ? a.ints.map { Float($0) } : a.floats, fb = b.isInteger ? b.ints.map { Float($0) } : b.floats
        var values: [Float] = []
        for flat in 0..<total {
            let x = fa[index(flat, sa, stridesA)], y = fb[index(flat, sb, stridesB)]
            switch op {
            case "Add": values.append(x + y)
            case "Sub": values.append(x - y)
            case "Mul": values.append(x * y)
            default: values.append(x / y)
            }
        }
        return .float(shape, values)
    }
}
