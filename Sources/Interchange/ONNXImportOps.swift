import Runtime
import ShapeCheck

/// Each ONNX op cnnc imports, as a line of the language (or, for Dropout, Identity and a
/// Flatten of a vector, as the value it reads). What the language cannot say is refused with
/// the reason; nothing is approximated.
extension Importer {
    static let translatedOps: Set<String> = [
        "Conv", "Gemm", "MatMul", "BatchNormalization", "Relu", "Clip", "LeakyRelu", "Elu", "Sigmoid", "Tanh", "HardSwish",
        "HardSigmoid", "Softmax", "Gelu", "LRN", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Flatten",
        "Reshape", "Squeeze", "Add", "Sum", "Mul", "Concat", "Dropout", "Identity", "Transpose", "Slice", "Split", "ReduceMean",
        "ReduceMax", "LayerNormalization", "Div", "Erf", "ConvTranspose", "Resize", "Upsample", "Pad", "Gather",
    ]

    mutating func translateOp(_ index: Int, _ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> Value {
        switch node.opType {
        case "Conv": return try conv(node, inputs)
        case "Gemm": return try gemm(node, inputs)
        case "MatMul": return try matmul(node, inputs)
        case "BatchNormalization": return try batchNorm(node, inputs)
        case "MaxPool", "AveragePool": return try pool(node, inputs)
        case "GlobalAveragePool", "GlobalMaxPool":
            let x = try volume(node, inputs)
            let s = shape(x)
            return add(Line(name: "", op: node.opType == "GlobalAveragePool" ? "globalavgpool" : "globalmaxpool", arguments: [],
                            inputs: [x], onnxOps: [node.opType], shape: .volume(width: 1, height: 1, depth: s.depth)),
                       node: node, preferred: nil)
        case "Flatten":
            let x = try activation(node, inputs, 0)
            let rank = onnxDims(x).count
            let axis = try Folding.axis(int(node, "axis", 1), rank: rank + 1, "axis")
            guard axis == 1 else { throw ImportError("flattens at axis \(int(node, "axis", 1)); cnnc's flatten keeps the batch, axis 1") }
            return try flatten(x, node: node)
        case "Reshape", "Squeeze": return try reshape(node, inputs)
        case "Add", "Sum": return try addition(node, inputs)
        case "Mul": return try multiply(node, inputs)
        case "Concat": return try concat(node, inputs)
        case "Transpose": return try transpose(node, inputs)
        case "Slice": return try slice(node, inputs)
        case "Split": return try split(node, inputs)
        case "ReduceMean", "ReduceMax": return try reduce(node, inputs)
        case "LayerNormalization": return try layerNorm(node, inputs)
        case "Div":
            if let step = try geluStep(node, inputs) { return step }
            throw .unsupportedOp("divides a layer output; only a GELU's x/√2 imports")
        case "Erf": return try erf(node, inputs)
        case "ConvTranspose": return try deconv(node, inputs)
        case "Resize", "Upsample": return try resize(node, inputs)
        case "Pad": return try pad(node, inputs)
        case "Gather": return try gather(node, inputs)
        case "Dropout", "Identity":
            if node.opType == "Dropout" {
                if let extra = readsExtraOutputs(node) { throw ImportError("has its mask '\(extra)' read; cnnc runs inference only") }
                if opset >= 12, let training = try constant(node, inputs, 2, "training_mode"), training.scalar != 0 {
                    throw ImportError("is in training mode; cnnc runs inference, where dropout is the identity")
                }
            }
            let (x, last) = try laidOut(node, inputs, 0)
            return value(x, last: last)
        default: return try activationLayer(node, inputs)
        }
    }

    func volume(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> Ref {
        let x = try activation(node, inputs, 0)
        guard !shape(x).isVector else {
            throw ImportError("reads a vector [N, \(shape(x).depth)]; \(node.opType) needs an image [N, C, H, W]")
        }
        return x
    }

    /// `5` for a square size, `5x3` (width first, as the language writes it) otherwise.
    static func size(_ width: Int, _ height: Int) -> String { width == height ? "\(width)" : "\(width)x\(height)" }

    /// Shortest decimal that reads back as the same float32.
    static func number(_ value: Float) -> String {
        var text = "\(value)"
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }

    /// A pair attribute given height first (strides, dilations, kernel_shape), as (width, height).
    func pair(_ node: ONNXNode, _ name: String, default fallback: Int) throws(ImportError) -> (w: Int, h: Int) {
        guard let values = ints(node, name) else { return (fallback, fallback) }
        guard values.count == 2 else {
            throw ImportError("has \(name) \(values); cnnc imports 2-D operations (two values, height and width)")
        }
        guard values.allSatisfy({ $0 >= 1 && $0 <= 1 << 20 }) else { throw ImportError("has \(name) \(values); each must be at least 1") }
        return (Int(values[1]), Int(values[0]))
    }

    struct PadWords {
        var words: [String]
        var padding: Padding
    }

    /// The language's padding for ONNX's: symmetric `pad P` (or none), or `pad same` when the
    /// pads are exactly what it chooses (the odd cell right and bottom, as SAME_UPPER and TF).
    func padding(_ node: ONNXNode, input: TensorShape, extent: (w: Int, h: Int), stride: (w: Int, h: Int)) throws(ImportError) -> PadWords {
        let sameWords = PadWords(words: ["pad", "same"], padding: Self.samePadding(input, extent: extent, stride: stride))
        func explicit(_ p: Padding) -> PadWords {
            if p.isZero { return PadWords(words: [], padding: p) }
            if p.left == p.right && p.top == p.bottom { return PadWords(words: ["pad", Self.size(p.left, p.top)], padding: p) }
            return sameWords
        }
        let autoPad = node.attribute("auto_pad")?.text ?? "NOTSET"
        switch autoPad {
        case "NOTSET", "":
            let pads = ints(node, "pads") ?? [0, 0, 0, 0]
            guard pads.count == 4 else { throw ImportError("has pads \(pads); cnnc imports 2-D operations (four pads)") }
            guard pads.allSatisfy({ $0 >= 0 && $0 <= 1 << 20 }) else { throw ImportError("has pads \(pads); pads must be 0 or more") }
            // ONNX lists the beginnings then the ends: [top, left, bottom, right].
            let p = Padding(left: Int(pads[1]), right: Int(pads[3]), top: Int(pads[0]), bottom: Int(pads[2]))
            if (p.left == p.right && p.top == p.bottom) || p == sameWords.padding { return explicit(p) }
            throw ImportError("has asymmetric pads \(pads) (top, left, bottom, right); the language pads both sides of an axis "
                + "alike, or as 'pad same' does (which here would be \(sameWords.padding.onnxOrder))")
        case "VALID": return PadWords(words: [], padding: .zero)
        case "SAME_UPPER": return explicit(sameWords.padding)
        case "SAME_LOWER":
            let p = sameWords.padding
            if p.left == p.right && p.top == p.bottom { return explicit(p) }
            throw ImportError("has auto_pad SAME_LOWER with an odd padding, whose extra cell goes left and top; the language's "
                + "'pad same' puts it right and bottom (SAME_UPPER)")
        default: throw ImportError("has auto_pad '\(autoPad)', which ONNX does not define")
        }
    }

    /// What `pad same` chooses for an input (Arithmetic.samePadding, as the shape checker does).
    static func samePadding(_ input: TensorShape, extent: (w: Int, h: Int), stride: (w: Int, h: Int)) -> Padding {
        let (left, right) = Arithmetic.samePadding(input: input.width, extent: extent.w, stride: stride.w)
        let (top, bottom) = Arithmetic.samePadding(input: input.height, extent: extent.h, stride: stride.h)
        return Padding(left: left, right: right, top: top, bottom: bottom)
    }

    /// ⌊(in + pads − extent)/stride⌋ + 1, or torch's ceil rule (a last window starting in the
    /// right padding is dropped, as ONNX Runtime does too).
    static func outputSize(_ size: Int, before: Int, after: Int, extent: Int, stride: Int, ceil: Bool) -> Int? {
        let span = size + before + after - extent
        guard span >= 0 else { return nil }
        if !ceil { return span / stride + 1 }
        var out = (span + stride - 1) / stride + 1
        if (out - 1) * stride >= size + before { out -= 1 }
        return out
    }

    func outputShape(_ input: TensorShape, _ pad: Padding, extent: (w: Int, h: Int), stride: (w: Int, h: Int), depth: Int,
                     ceil: Bool = false) throws(ImportError) -> TensorShape {
        guard let w = Self.outputSize(input.width, before: pad.left, after: pad.right, extent: extent.w, stride: stride.w, ceil: ceil),
              let h = Self.outputSize(input.height, before: pad.top, after: pad.bottom, extent: extent.h, stride: stride.h, ceil: ceil) else {
            throw ImportError("has a window of \(extent.w)x\(extent.h) larger than its padded input \(input)")
        }
        return .volume(width: w, height: h, depth: depth)
    }

    // MARK: Conv, Gemm, MatMul

    mutating func conv(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> Value {
        let (x, before) = try paddedInput(node, inputs)
        let s = shape(x)
        guard let w = try constant(node, inputs, 1, "weight") else { throw ImportError("has no weight") }
        guard w.shape.count == 4, !w.isInteger else {
            throw ImportError("has a weight of shape \(w.shapeText); cnnc imports 2-D convolutions (a float weight [K, C/group, kH, kW])")
        }
        let (k, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
        let group = int(node, "group", 1)
        guard group >= 1, group <= Int64(s.depth), Int64(s.depth) % group == 0, Int64(w.shape[1]) * group == Int64(s.depth), Int64(k) % group == 0, k > 0 else {
            throw ImportError("has group \(group) and a weight \(w.shapeText) that do not fit its input depth \(s.depth)")
        }
        if let kernel = ints(node, "kernel_shape"), kernel != [Int64(kh), Int64(kw)] {
            throw ImportError("has kernel_shape \(kernel) but a weight \(w.shapeText)")
        }
        let stride = try pair(node, "strides", default: 1), dilation = try pair(node, "dilations", default: 1)
        let extent = (w: dilation.w * (kw - 1) + 1, h: dilation.h * (kh - 1) + 1)
        var pad = try padding(node, input: before.map { Self.padded(s, $0.0) } ?? s, extent: extent, stride: stride)
        if let before { pad = try merged(node, before, pad, input: s, extent: extent, stride: stride, conv: true) }
        let bias = try constant(node, inputs, 2, "bias")
        if let bias, bias.count != k || bias.isInteger {
            throw ImportError("has a bias of shape \(bias.shapeText) for \(k) filters")
        }
        let g = Int(group)
        let depthwise = g == s.depth && g > 1
        var arguments = depthwise ? ["\(kw)x\(kh)"] : ["\(k)", "\(kw)x\(kh)"]
        if stride != (1, 1) { arguments += ["stride", Self.size(stride.w, stride.h)] }
        arguments += pad.words
        if dilation != (1, 1) { arguments += ["dilation", Self.size(dilation.w, dilation.h)] }
        if depthwise && k / g > 1 { arguments += ["multiplier", "\(k / g)"] }
        if !depthwise && g > 1 { arguments += ["groups", "\(g)"] }
        if bias == nil { arguments.append("nobias") }
        var line = Line(name: "", op: depthwise ? "depthwise" : "conv", arguments: arguments, inputs: [x],
                        onnxOps: before == nil ? ["Conv"] : ["Pad", "Conv"],
                        shape: try outputShape(s, pad.padding, extent: extent, stride: stride, depth: k))
        line.weights = [("weight", Tensor(shape: w.shape, storage: w.floats))]
        if let bias { line.weights.append(("bias", Tensor(shape: [k], storage: bias.floats))) }
        return add(line, node: node, preferred: weightStem(node, 1))
    }

    /// Gemm as fc: y = alpha·x·Bᵀ + beta·C with transB = 1 is torch's Linear; transB = 0 is
    /// transposed here, and alpha and beta are multiplied into the weight and bias.
    mutating func gemm(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> Value {
        let x = try activation(node, inputs, 0)
        guard shape(x).isVector else {
            throw ImportError("reads \(onnxDims(x)); Gemm needs a matrix [N, K] (a Flatten before it)")
        }
        guard int(node, "transA", 0) == 0 else { throw ImportError("has transA = 1; the layer's input is always [N, K]") }
        guard let b = try constant(node, inputs, 1, "weight"), b.shape.count == 2, !b.isInteger else {
            throw ImportError("needs a constant float weight of rank 2")
        }
        let transB = int(node, "transB", 0) != 0
        let (n, k) = transB ? (b.shape[0], b.shape[1]) : (b.shape[1], b.shape[0])
        guard k == shape(x).depth else { throw ImportError("has a weight \(b.shapeText) for an input of \(shape(x).depth) values") }
        let alpha = float(node, "alpha", 1), beta = float(node, "beta", 1)
        var weight = transB ? b.floats : Self.transposed(b.floats, rows: k, columns: n)
        if alpha != 1 { weight = weight.map { $0 * alpha } }
        var bias = [Float](repeating: 0, count: n)
        if let c = try constant(node, inputs, 2, "bias") {
            guard !c.isInteger, c.count == n || c.count == 1, c.shape.count <= 2, c.shape.dropLast().allSatisfy({ $0 == 1 }) else {
                throw ImportError("has a bias C of shape \(c.shapeText); cnnc imports one bias per output ([\(n)] or [1, \(n)])")
            }
            bias = c.count == n ? c.floats.map { $0 * beta } : Array(repeating: c.floats[0] * beta, count: n)
        }
        var line = Line(name: "", op: "fc", arguments: ["\(n)"], inputs: [x], onnxOps: ["Gemm"], shape: .vector(n))
        line.weights = [("weight", Tensor(shape: [n, k], storage: weight)), ("bias", Tensor(shape: [n], storage: bias))]
        return add(line, node: node, preferred: weightStem(node, 1))
    }

    /// MatMul by a constant [K, N] as fc with a zero bias, which an Add right after it fills.
    mutating func matmul(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> Value {
        if case .channelsLast(let x)? = inputs.first ?? nil { return try pointwise(node, inputs, x) }
        let x = try activation(node, inputs, 0)
        guard shape(x).isVector else {
            throw ImportError("multiplies \(onnxDims(x)); cnnc imports MatMul of a matrix [N, K] by a constant [K, M]")
        }
        guard let b = try constant(node, inputs, 1, "weight"), b.shape.count == 2, !b.isInteger, b.shape[0] == shape(x).depth else {
            throw ImportError("needs a constant float weight [\(shape(x).depth), M]")
        }
        let (k, n) = (b.shape[0], b.shape[1])
        var line = Line(name: "", op: "fc", arguments: ["\(n)"], inputs: [x], onnxOps: ["MatMul"], shape: .vector(n))
        line.weights = [("weight", Tensor(shape: [n, k], storage: Self.transposed(b.floats, rows: k, columns: n))),
                        ("bias", Tensor(shape: [n], repeating: 0))]
        line.biasFromAdd = true
        return add(line, node: node, preferred: weightStem(node, 1))
    }

    static func transposed(_ values: [Float], rows: Int, columns: Int) -> [Float] {
        var result = [Float](repeating: 0, count: values.count)
        for r in 0..<rows { for c in 0..<columns { result[c * rows + r] = values[r * columns + c] } }
        return result
    }

    // MARK: BatchNormalization, pools

    mutating func batchNorm(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> Value {
        let x = try activation(node, inputs, 0)
        let c = shape(x).depth
        if let extra = readsExtraOutputs(node) { throw ImportError("has its running statistic '\(extra)' read; cnnc runs inference only") }
        if int(node, "training_mode", 0) != 0 { throw ImportError("is in training mode; cnnc uses the running statistics") }
        if opset < 9, int(node, "spatial", 1) == 0 { throw ImportError("has spatial = 0 (statistics per position); cnnc's are per channel") }
        var tensors: [(String, Tensor)] = []
        for (i, suffix) in [(1, "weight"), (2, "bias"), (3, "running_mean"), (4, "running_var")] {
            guard let t = try constant(node, inputs, i, suffix), !t.isInteger, t.count == c else {
                throw ImportError("needs a constant \(suffix) of \(c) values (one per channel) as input \(i + 1)")
            }
            tensors.append((suffix, Tensor(shape: [c], storage: t.floats)))
        }
        let epsilon = float(node, "epsilon", 1e-5)
        guard epsilon > 0, epsilon.isFinite else { throw ImportError("has epsilon \(epsilon); it must be above 0") }
        let arguments = epsilon == Float(1e-5) ? [] : ["eps", Self.number(epsilon)]
        var line = Line(name: "", op: "batchnorm", arguments: arguments, inputs: [x], onnxOps: ["BatchNormalization"], shape: shape(x))
        line.weights = tensors
        return add(line, node: node, preferred: weightStem(node, 1))
    }

    mutating func pool(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> Value {
        let (x, before) = try paddedInput(node, inputs)
        let s = shape(x)
        let isMax = node.opType == "MaxPool"
        if let extra = readsExtraOutputs(node) { throw ImportError("has its indices '\(extra)' read; the language has no such output") }
        guard ints(node, "kernel_shape") != nil else { throw ImportError("has no kernel_shape") }
        let kernel = try pair(node, "kernel_shape", default: 1), stride = try pair(node, "strides", default: 1)
        let dilation = try pair(node, "dilations", default: 1)
        guard dilation == (1, 1) else { throw ImportError("has dilations \(ints(node, "dilations") ?? []); the language's pools have none") }
        var pad = try padding(node, input: before.map { Self.padded(s, $0.0) } ?? s, extent: kernel, stride: stride)
        let own = pad.padding
        let ceil = int(node, "ceil_mode", 0) != 0
        if let before {
            if ceil { throw ImportError("rounds up (ceil_mode) after Pad \(before.2); cnnc cannot say which of its windows hold real cells") }
            pad = try merged(node, before, pad, input: s, extent: kernel, stride: stride, conv: false)
        }
        let p = pad.padding
        let pads = [p.top, p.left, p.bottom, p.right]  // as ONNX lists them
        if max(p.left, p.right) > kernel.w / 2 || max(p.top, p.bottom) > kernel.h / 2 {
            throw ImportError("pads more than half its \(kernel.w)x\(kernel.h) window (pads \(pads)); torch and cnnc allow at most half")
        }
        if !isMax && !own.isZero && int(node, "count_include_pad", 0) == 0 {
            throw ImportError("averages without its padded cells (count_include_pad = 0) but pads \(pads); "
                + "cnnc's avgpool counts them, as torch's default count_include_pad=True")
        }
        var arguments = ["\(kernel.w)x\(kernel.h)"]
        if stride != kernel { arguments += ["stride", Self.size(stride.w, stride.h)] }
        arguments += pad.words
        if ceil { arguments += ["round", "ceil"] }
        let line = Line(name: "", op: isMax ? "maxpool" : "avgpool", arguments: arguments, inputs: [x],
                        onnxOps: before == nil ? [node.opType] : ["Pad", node.opType],
                        shape: try outputShape(s, p, extent: kernel, stride: stride, depth: s.depth, ceil: ceil))
        return add(line, node: node, preferred: nil)
    }

    // MARK: Flatten, Reshape, Squeeze

    mutating func flatten(_ x: Ref, node: ONNXNode) throws(ImportError) -> Value {
        let s = shape(x)
        if s.isVector { return .activation(x) }
        return add(Line(name: "", op: "flatten", arguments: [], inputs: [x], onnxOps: [node.opType], shape: .vector(s.elementCount)),
                   node: node, preferred: nil)
    }

    /// A Reshape or Squeeze that keeps the batch and makes [N, C·H·W] is a flatten; one that
    /// changes nothing is dropped; any other is refused (the language has no rank above 3).
    mutating func reshape(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> Value {
        var target: [Int64] = []
        if node.opType == "Reshape" {
            guard let t = try constant(node, inputs, 1, "shape")?.integers else { throw ImportError("needs a constant shape") }
            target = t
            if let step = try shuffleStep(node, inputs, target: target) { return step }
        }
        let x = try activation(node, inputs, 0)
        let dims = onnxDims(x)
        var result: [Int]
        if node.opType == "Reshape" {
            result = try Folding.reshaped(dims, to: target, allowZero: int(node, "allowzero", 0) != 0)
        } else {
            let axes = opset >= 13 ? try constant(node, inputs, 1, "axes")?.integers : ints(node, "axes")
            let squeezed = try Folding.squeeze(.int(dims, []), axes: axes)
            result = squeezed.shape
            // Without axes a batch of 1 is squeezed too; the values are the same.
            if axes == nil && batch == 1 { result = [1] + result }
        }
        if result == dims { return .activation(x) }
        if result == [batch, shape(x).elementCount] { return try flatten(x, node: node) }
        if node.opType == "Reshape", batch == 1, result == [shape(x).elementCount] { return .pending(.flat(x)) }
        throw ImportError("reshapes \(dims) to \(result); cnnc imports a \(node.opType) only as a flatten to [N, C·H·W]"
            + (node.opType == "Reshape" ? " or in a channel shuffle (to [N, G, C/G, H, W], Transpose [0, 2, 1, 3, 4], back)" : ""))
    }

    // MARK: Add, Mul, Concat

    mutating func addition(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> Value {
        // MatMul + Add of a constant: the bias of the fc the MatMul made.
        if node.opType == "Add", inputs.count == 2 {
            if let term = erfTerm(inputs) { return term }
            for (a, b) in [(0, 1), (1, 0)] {
                guard let ref = layerRef(inputs[a]), ref >= 0, case .constant(let c)? = inputs[b],
                      lines[ref].biasFromAdd, lines[ref].onnxOutput == node.inputs[a], uses[node.inputs[a], default: 0] == 1 else { continue }
                let n = lines[ref].shape.depth
                guard !c.isInteger, c.count == n || c.count == 1, c.shape.dropLast().allSatisfy({ $0 == 1 }) else { break }
                lines[ref].weights[1].tensor.storage = c.count == n ? c.floats : Array(repeating: c.floats[0], count: n)
                lines[ref].biasFromAdd = false
                // The dynamo exporter names the transposed weight `val_N`; the bias keeps torch's name.
                if !lines[ref].namedByWeight, let stem = weightStem(node, b, suffix: ".bias") {
                    lines[ref].name = names.renamed(lines[ref].name, to: NameTable.cleaned(stem, opType: ""))
                    lines[ref].namedByWeight = true
                }
                lines[ref].onnxOps.append("Add")
                lines[ref].onnxOutput = node.outputs.first ?? ""
                return inputs[a]!
            }
        }
        let (refs, last) = try operands(node, inputs, what: "adds")
        if refs.count == 1 { return value(refs[0], last: last) }  // a Sum of one
        let shapes = refs.map(shape)
        guard shapes.allSatisfy({ $0 == shapes[0] }) else {
            throw ImportError("adds \(refs.map { "\(onnxDims($0))" }.joined(separator: " and ")); the language adds outputs of one shape")
        }
        return add(Line(name: "", op: "add", arguments: [], inputs: refs, namesInputs: true, onnxOps: [node.opType], shape: shapes[0]),
                   node: node, preferred: nil, last: last)
    }

    /// The line a value is the output of, in either layout.
    func layerRef(_ value: Value?) -> Ref? {
        switch value {
        case .activation(let r)?, .channelsLast(let r)?: r
        default: nil
        }
    }

    /// Layer outputs, all in one layout (whether channels-last is the second result).
    func operands(_ node: ONNXNode, _ inputs: [Value?], what: String) throws(ImportError) -> ([Ref], Bool) {
        var refs: [Ref] = []
        var layouts: Set<Bool> = []
        for (i, input) in inputs.enumerated() {
            if case .channelsLast(let ref)? = input {
                refs.append(ref)
                layouts.insert(true)
                continue
            }
            if case .constant? = input {
                throw ImportError("\(what) the constant '\(node.inputs[i])'; the language \(what) only layer outputs")
            }
            refs.append(try activation(node, inputs, i))
            layouts.insert(false)
        }
        guard !refs.isEmpty else { throw ImportError("has no inputs") }
        guard layouts.count == 1 else {
            throw ImportError("\(what) a channels-last [N, H, W, C] tensor and an [N, C, H, W] one; the language keeps one layout")
        }
        return (refs, layouts.first!)
    }

    mutating func multiply(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> Value {
        if let step = try geluStep(node, inputs) { return step }
        if inputs.count == 2 {
            for (a, b) in [(0, 1), (1, 0)] {
                guard let x = layerRef(inputs[a]), case .constant(let c)? = inputs[b] else { continue }
                let last: Bool = if case .channelsLast? = inputs[a] { true } else { false }
                if let scaled = try layerScale(node, x, last: last, c, index: b) { return scaled }
            }
        }
        let (refs, last) = try operands(node, inputs, what: "multiplies")
        guard refs.count == 2 else { throw ImportError("has \(refs.count) inputs") }
        let (a, b) = (shape(refs[0]), shape(refs[1]))
        let fits = a == b || (a.depth == b.depth && !a.isVector && !b.isVector && (a.width * a.height == 1 || b.width * b.height == 1))
        guard fits else {
            throw ImportError("multiplies \(onnxDims(refs[0])) by \(onnxDims(refs[1])); the language multiplies outputs of one shape, "
                + "or by a [N, C, 1, 1] per channel")
        }
        let out = a.width * a.height >= b.width * b.height ? a : b
        return add(Line(name: "", op: "mul", arguments: [], inputs: refs, namesInputs: true, onnxOps: ["Mul"], shape: out),
                   node: node, preferred: nil, last: last)
    }

    mutating func concat(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> Value {
        let (refs, last) = try operands(node, inputs.filter { $0 != nil }, what: "concatenates")
        if last { throw ImportError("concatenates channels-last tensors; cnnc imports Concat of [N, C, H, W] on axis 1") }
        let shapes = refs.map(shape)
        let axis = try Folding.axis(int(node, "axis", 1), rank: onnxDims(refs[0]).count, "axis")
        guard axis == 1, shapes.allSatisfy({ $0.isVector == shapes[0].isVector && $0.width == shapes[0].width && $0.height == shapes[0].height }) else {
            throw ImportError("concatenates \(refs.map { "\(onnxDims($0))" }.joined(separator: ", ")) on axis \(int(node, "axis", 1)); "
                + "the language stacks channels (axis 1) of outputs of one width and height")
        }
        let depth = shapes.reduce(0) { $0 + $1.depth }
        let out = shapes[0].isVector ? TensorShape.vector(depth) : .volume(width: shapes[0].width, height: shapes[0].height, depth: depth)
        if refs.count == 1 { return .activation(refs[0]) }
        return add(Line(name: "", op: "concat", arguments: [], inputs: refs, namesInputs: true, onnxOps: ["Concat"], shape: out),
                   node: node, preferred: nil)
    }

    // MARK: Activations and LRN

    mutating func activationLayer(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> Value {
        let (x, last) = try laidOut(node, inputs, 0)
        if last && (node.opType == "Softmax" || node.opType == "LRN") {
            throw ImportError("reads a channels-last [N, H, W, C] tensor; cnnc imports \(node.opType) on [N, C, H, W]")
        }
        let s = shape(x)
        var op: String
        var arguments: [String] = []
        switch node.opType {
        case "Relu": op = "relu"
        case "Sigmoid": op = "sigmoid"
        case "Tanh": op = "tanh"
        case "HardSwish": op = "hardswish"
        case "LeakyRelu":
            op = "leakyrelu"
            let alpha = float(node, "alpha", 0.01)
            if alpha != Float(0.01) { arguments = [Self.number(alpha)] }
        case "Elu":
            op = "elu"
            let alpha = float(node, "alpha", 1)
            if alpha != 1 { arguments = [Self.number(alpha)] }
        case "HardSigmoid":
            op = "hardsigmoid"
            let alpha = float(node, "alpha", 0.2), beta = float(node, "beta", 0.5)
            guard abs(alpha - 1 / 6) < 1e-6, beta == 0.5 else {
                throw ImportError("has alpha \(alpha) and beta \(beta); the language's hardsigmoid is torch's, relu6(x + 3)/6 "
                    + "(alpha 1/6, beta 0.5)")
            }
        case "Gelu":
            op = "gelu"
            switch node.attribute("approximate")?.text ?? "none" {
            case "none": break
            case "tanh": arguments = ["tanh"]
            case let other: throw ImportError("has approximate '\(other)'; the language has gelu and gelu tanh")
            }
        case "Clip": op = try clip(node, inputs)
        case "Softmax":
            op = "softmax"
            let rank = onnxDims(x).count
            let axis = try Folding.axis(int(node, "axis", opset >= 13 ? -1 : 1), rank: rank, "axis")
            // The language's softmax is across the channels (axis 1) at each position; before
            // opset 13 ONNX's is across everything from the axis on, the same only at 1x1.
            let fits = s.isVector ? axis == 1 : axis == 1 && (opset >= 13 || s.width * s.height == 1)
            guard fits else {
                throw ImportError("is over axis \(int(node, "axis", opset >= 13 ? -1 : 1)) of \(onnxDims(x))"
                    + (opset < 13 && !s.isVector ? " (before opset 13, over every axis from it on)" : "")
                    + "; the language's softmax is over the channels, axis 1")
            }
        case "LRN":
            op = "lrn"
            guard let size = node.attribute("size")?.i, size >= 1, size <= 1 << 20 else {
                throw ImportError("has size \(node.attribute("size")?.i.map(String.init) ?? "none"); it must be from 1 to \(1 << 20)")
            }
            guard size % 2 == 1 else {
                throw ImportError("has an even size \(size); ONNX and torch centre an even window differently, so only odd sizes import")
            }
            let alpha = float(node, "alpha", 1e-4), beta = float(node, "beta", 0.75), bias = float(node, "bias", 1)
            guard bias > 0 else { throw ImportError("has bias \(bias); the language's k must be above 0") }
            if size != 5 { arguments += ["size", "\(size)"] }
            if alpha != Float(1e-4) { arguments += ["alpha", Self.number(alpha)] }
            if beta != 0.75 { arguments += ["beta", Self.number(beta)] }
            if bias != 2 { arguments += ["k", Self.number(bias)] }
        default: throw ImportError("is not an operation cnnc imports")
        }
        return add(Line(name: "", op: op, arguments: arguments, inputs: [x], onnxOps: [node.opType], shape: s), node: node,
                   preferred: nil, last: last)
    }

    /// Clip to [0, 6] is relu6 and to [0, ∞) relu; bounds are attributes before opset 11 and
    /// constant inputs from 11.
    func clip(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> String {
        var low: Double?, high: Double?
        if opset < 11 {
            low = node.attribute("min")?.f.map(Double.init)
            high = node.attribute("max")?.f.map(Double.init)
        } else {
            for (i, what) in [(1, "min"), (2, "max")] {
                guard let c = try constant(node, inputs, i, what) else { continue }
                guard let value = c.scalar else { throw ImportError("has a \(what) of shape \(c.shapeText); it must be one value") }
                if i == 1 { low = value } else { high = value }
            }
        }
        if let bound = high, bound >= Double(Float.greatestFiniteMagnitude) { high = nil }  // torch's clamp(min=0)
        return try clip(low: low, high: high)
    }

    private func clip(low: Double?, high: Double?) throws(ImportError) -> String {
        switch (low, high) {
        case (0?, 6?): return "relu6"
        case (0?, nil): return "relu"
        default:
            throw ImportError("clips to [\(low.map { "\($0)" } ?? "−∞"), \(high.map { "\($0)" } ?? "∞")]; the language clips only as "
                + "relu (min 0) and relu6 (min 0, max 6)")
        }
    }
}

extension Padding {
    /// As ONNX lists pads: [top, left, bottom, right] (the beginnings, then the ends).
    var onnxOrder: [Int] { [top, left, bottom, right] }
}
