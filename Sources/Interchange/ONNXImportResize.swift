import Runtime
import ShapeCheck

/// ConvTranspose as `deconv`, Resize as `upsample`, and Pad folded into the padding of the
/// Conv or pool after it: the decoder ops, and the explicit pad TF-style exports write.
extension Importer {
    // MARK: ConvTranspose

    /// ONNX's pads (begin b, end e) and output_padding o crop and extend the scatter as
    /// torch's padding P = b and output_padding A = o + b − e do, when 0 ≤ A.
    mutating func deconv(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> Value {
        let x = try volume(node, inputs)
        let s = shape(x)
        guard let w = try constant(node, inputs, 1, "weight") else { throw ImportError("has no weight") }
        guard w.shape.count == 4, !w.isInteger else {
            throw ImportError("has a weight of shape \(w.shapeText); cnnc imports 2-D transposed convolutions (a float weight "
                + "[C, K/group, kH, kW])")
        }
        let group = int(node, "group", 1)
        guard group >= 1, w.shape[0] == s.depth, Int64(s.depth) % group == 0, w.shape[1] > 0 else {
            throw ImportError("has group \(group) and a weight \(w.shapeText) that do not fit its input depth \(s.depth)")
        }
        let (kh, kw) = (w.shape[2], w.shape[3])
        let k = w.shape[1] * Int(group)
        if let kernel = ints(node, "kernel_shape"), kernel != [Int64(kh), Int64(kw)] {
            throw ImportError("has kernel_shape \(kernel) but a weight \(w.shapeText)")
        }
        let stride = try pair(node, "strides", default: 1), dilation = try pair(node, "dilations", default: 1)
        let extent = (w: dilation.w * (kw - 1) + 1, h: dilation.h * (kh - 1) + 1)
        let outPad = ints(node, "output_padding") ?? [0, 0]
        guard outPad.count == 2, outPad.allSatisfy({ $0 >= 0 && $0 < 1 << 20 }) else {
            throw ImportError("has output_padding \(outPad); cnnc imports 2-D operations (two values, 0 or more)")
        }
        // [top, left, bottom, right], from pads or from output_shape / auto_pad as ONNX defines them.
        var pads = ints(node, "pads") ?? [0, 0, 0, 0]
        let autoPad = node.attribute("auto_pad")?.text ?? "NOTSET"
        let outputShape = ints(node, "output_shape")
        if outputShape != nil || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
            let sizes = [s.height, s.width], strides = [stride.h, stride.w], extents = [extent.h, extent.w]
            var wanted = sizes.indices.map { sizes[$0] * strides[$0] }
            if let outputShape {
                guard outputShape.count >= 2 else { throw ImportError("has output_shape \(outputShape); it needs the height and width") }
                wanted = outputShape.suffix(2).map { Int(clamping: $0) }
            }
            var begin = [0, 0], end = [0, 0]
            for i in 0..<2 {
                let total = strides[i] * (sizes[i] - 1) + Int(outPad[i]) + extents[i] - wanted[i]
                guard total >= 0 else { throw ImportError("has output_shape \(wanted), larger than its scatter makes") }
                (begin[i], end[i]) = autoPad == "SAME_UPPER" ? (total / 2, total - total / 2) : (total - total / 2, total / 2)
            }
            pads = [Int64(begin[0]), Int64(begin[1]), Int64(end[0]), Int64(end[1])]
        } else if autoPad != "NOTSET" && autoPad != "" && autoPad != "VALID" {
            throw ImportError("has auto_pad '\(autoPad)', which ONNX does not define")
        } else if autoPad == "VALID" {
            pads = [0, 0, 0, 0]
        }
        guard pads.count == 4, pads.allSatisfy({ $0 >= 0 && $0 <= 1 << 20 }) else {
            throw ImportError("has pads \(pads); cnnc imports 2-D operations (four pads, 0 or more)")
        }
        let p = (w: Int(pads[1]), h: Int(pads[0]))
        let a = (w: Int(outPad[1] + pads[1] - pads[3]), h: Int(outPad[0] + pads[0] - pads[2]))
        guard a.w >= 0, a.h >= 0, a.w < max(stride.w, dilation.w), a.h < max(stride.h, dilation.h) else {
            throw ImportError("has pads \(pads) and output_padding \(outPad); the language's deconv crops both sides alike and adds "
                + "at most stride − 1 cells at the far side (torch's padding and output_padding)")
        }
        let bias = try constant(node, inputs, 2, "bias")
        if let bias, bias.count != k || bias.isInteger { throw ImportError("has a bias of shape \(bias.shapeText) for \(k) filters") }
        var arguments = ["\(k)", "\(kw)x\(kh)"]
        if stride != (1, 1) { arguments += ["stride", Self.size(stride.w, stride.h)] }
        if p != (0, 0) { arguments += ["pad", Self.size(p.w, p.h)] }
        if a != (0, 0) { arguments += ["outpad", Self.size(a.w, a.h)] }
        if dilation != (1, 1) { arguments += ["dilation", Self.size(dilation.w, dilation.h)] }
        if group > 1 { arguments += ["groups", "\(group)"] }
        if bias == nil { arguments.append("nobias") }
        let width = (s.width - 1) * stride.w - 2 * p.w + extent.w + a.w, height = (s.height - 1) * stride.h - 2 * p.h + extent.h + a.h
        guard width >= 1, height >= 1 else { throw ImportError("crops its whole output (pads \(pads)) of an input \(s)") }
        var line = Line(name: "", op: "deconv", arguments: arguments, inputs: [x], onnxOps: ["ConvTranspose"],
                        shape: .volume(width: width, height: height, depth: k))
        line.weights = [("weight", Tensor(shape: w.shape, storage: w.floats))]
        if let bias { line.weights.append(("bias", Tensor(shape: [k], storage: bias.floats))) }
        return add(line, node: node, preferred: weightStem(node, 1))
    }

    // MARK: Resize

    /// ONNX's source coordinate of output cell `o` (Resize's coordinate_transformation_mode).
    static func source(_ o: Int, mode: String, scale: Double, input: Int, output: Int) -> Double? {
        let o = Double(o)
        switch mode {
        case "half_pixel": return (o + 0.5) / scale - 0.5
        case "pytorch_half_pixel": return output > 1 ? (o + 0.5) / scale - 0.5 : 0
        case "align_corners": return output == 1 ? 0 : o * Double(input - 1) / Double(output - 1)
        case "asymmetric": return o / scale
        case "tf_half_pixel_for_nn": return (o + 0.5) / scale
        default: return nil
        }
    }

    /// Resize by whole factors: nearest when every output cell reads input cell ⌊o/S⌋ (as
    /// torch's 'nearest'), linear with half_pixel as bilinear and align_corners as aligncorners.
    mutating func resize(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> Value {
        let x = try volume(node, inputs)
        let s = shape(x)
        let dims = onnxDims(x)
        let scalesIndex = opset >= 11 && node.opType == "Resize" ? 2 : 1
        var factors: [Double]?
        if node.opType == "Upsample", opset < 9 {
            factors = node.attribute("scales")?.floats.map(Double.init)
        } else if let scales = try constant(node, inputs, scalesIndex, "scales"), scales.count > 0 {
            factors = scales.isInteger ? scales.ints.map(Double.init) : scales.floats.map(Double.init)
        } else if opset >= 11, node.opType == "Resize", let sizes = try constant(node, inputs, 3, "sizes")?.integers {
            var axes = Array(0..<4)
            if let given = ints(node, "axes") {
                axes = []
                for a in given { axes.append(try Folding.axis(a, rank: 4, "axis")) }
            }
            guard sizes.count == axes.count else { throw ImportError("has sizes \(sizes) for axes \(axes)") }
            factors = axes.indices.map { Double(sizes[$0]) / Double(dims[axes[$0]]) }
            if node.attribute("keep_aspect_ratio_policy")?.text.map({ $0 != "stretch" }) == true {
                throw ImportError("has keep_aspect_ratio_policy other than 'stretch'; cnnc imports sizes as given")
            }
        }
        guard var factors else { throw ImportError("needs constant scales or sizes") }
        if let axes = ints(node, "axes"), factors.count == axes.count {
            var full = [1.0, 1, 1, 1]
            for (i, a) in axes.enumerated() { full[Int(try Folding.axis(a, rank: 4, "axis"))] = factors[i] }
            factors = full
        }
        guard factors.count == 4, factors[0] == 1, factors[1] == 1,
              let sh = Int(exactly: factors[2]), let sw = Int(exactly: factors[3]), sh >= 1, sw >= 1, sh <= 1 << 12, sw <= 1 << 12 else {
            throw ImportError("scales \(dims) by \(factors); cnnc imports a Resize of the height and width by whole factors "
                + "('upsample S')")
        }
        guard Double(s.width * sw) * Double(s.height * sh) * Double(s.depth) <= Double(tensorElementLimit) else {
            throw ImportError("makes \(s.width * sw)x\(s.height * sh)x\(s.depth), more than \(tensorElementLimit) values")
        }
        let mode = node.attribute("mode")?.text ?? "nearest"
        // Upsample (opsets 7 to 9) maps as Resize's asymmetric mode, rounding down (ORT's).
        let legacy = node.opType == "Upsample"
        let transform = legacy ? "asymmetric" : node.attribute("coordinate_transformation_mode")?.text ?? "half_pixel"
        if int(node, "antialias", 0) != 0 { throw ImportError("has antialias = 1; the language's upsample has no antialiasing") }
        var arguments = [Self.size(sw, sh)]
        switch mode {
        case "nearest":
            let rounding = legacy ? "floor" : node.attribute("nearest_mode")?.text ?? "round_prefer_floor"
            for (size, factor) in [(s.width, sw), (s.height, sh)] {
                for o in 0..<(size * factor) {
                    guard let source = Self.source(o, mode: transform, scale: Double(factor), input: size, output: size * factor) else {
                        throw ImportError("has coordinate_transformation_mode '\(transform)', which cnnc does not import")
                    }
                    let picked: Double
                    switch rounding {
                    case "floor": picked = source.rounded(.down)
                    case "ceil": picked = source.rounded(.up)
                    case "round_prefer_ceil": picked = source.rounded(.toNearestOrAwayFromZero)
                    default: picked = source - source.rounded(.down) == 0.5 ? source.rounded(.down) : source.rounded()
                    }
                    guard min(max(Int(picked), 0), size - 1) == o / factor else {
                        throw ImportError("picks input cell \(Int(picked)) for output cell \(o) (coordinate_transformation_mode '\(transform)', "
                            + "nearest_mode '\(rounding)'); the language's nearest upsample reads cell ⌊o/S⌋, as torch's 'nearest'")
                    }
                }
            }
        case "linear", "bilinear":
            switch transform {
            case "half_pixel", "pytorch_half_pixel": arguments.append("bilinear")
            case "align_corners": arguments += ["bilinear", "aligncorners"]
            default:
                throw ImportError("is linear with coordinate_transformation_mode '\(transform)'; the language's bilinear upsample is "
                    + "half_pixel (torch's align_corners=False) or align_corners")
            }
        default: throw ImportError("has mode '\(mode)'; the language upsamples nearest and bilinear")
        }
        if sw == 1 && sh == 1 { return .activation(x) }
        return add(Line(name: "", op: "upsample", arguments: arguments, inputs: [x], onnxOps: [node.opType],
                        shape: .volume(width: s.width * sw, height: s.height * sh, depth: s.depth)), node: node, preferred: nil)
    }

    // MARK: Pad

    /// A Pad of H and W only, waiting for the Conv or pool that reads it.
    mutating func pad(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> Value {
        let x = try volume(node, inputs)
        let pads = opset >= 11 ? try constant(node, inputs, 1, "pads")?.integers : ints(node, "pads")
        guard var pads else { throw ImportError("needs constant pads") }
        if opset >= 18, let axes = try constant(node, inputs, 3, "axes")?.integers {
            guard pads.count == 2 * axes.count else { throw ImportError("has pads \(pads) for axes \(axes)") }
            var full = [Int64](repeating: 0, count: 8)
            for (i, a) in axes.enumerated() {
                let axis = try Folding.axis(a, rank: 4, "axis")
                (full[axis], full[axis + 4]) = (pads[i], pads[i + axes.count])
            }
            pads = full
        }
        guard pads.count == 8, pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0, pads.allSatisfy({ $0 >= 0 && $0 <= 1 << 20 }) else {
            throw ImportError("has pads \(pads); cnnc imports a Pad of the height and width (0 or more) only")
        }
        let mode = node.attribute("mode")?.text ?? "constant"
        var value: Float = 0
        if opset >= 11, let c = try constant(node, inputs, 2, "constant_value") {
            guard let v = c.scalar else { throw ImportError("has a constant_value of shape \(c.shapeText)") }
            value = Float(v)
        } else if opset < 11 {
            value = float(node, "value", 0)
        }
        guard ["constant", "reflect", "edge", "wrap"].contains(mode) else { throw ImportError("has mode '\(mode)', which ONNX does not define") }
        let p = Padding(left: Int(pads[3]), right: Int(pads[7]), top: Int(pads[2]), bottom: Int(pads[6]))
        if p.isZero { return .activation(x) }
        let name = node.name.isEmpty ? "(output '\(node.outputs.first ?? "")')" : "'\(node.name)'"
        return .pending(.padded(x, p, mode: mode == "constant" ? (value == 0 ? "zeros" : "\(value)") : mode, node: name))
    }

    /// The input of a Conv or pool, and the Pad before it if there is one.
    func paddedInput(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> (x: Ref, pad: (Padding, String, String)?) {
        if case .pending(.padded(let x, let p, let mode, let by))? = inputs.first ?? nil {
            guard !shape(x).isVector else { throw ImportError("reads a vector") }
            return (x, (p, mode, by))
        }
        return (try volume(node, inputs), nil)
    }

    static func padded(_ s: TensorShape, _ p: Padding) -> TensorShape {
        .volume(width: s.width + p.left + p.right, height: s.height + p.top + p.bottom, depth: s.depth)
    }

    /// A Pad's cells and the node's own as one padding of the unpadded input: `pad P` when
    /// symmetric, `pad same` when it is what same chooses, else refused; reflect, edge and
    /// wrap become conv's padmode.
    func merged(_ node: ONNXNode, _ before: (Padding, String, String), _ own: PadWords, input: TensorShape,
                extent: (w: Int, h: Int), stride: (w: Int, h: Int), conv: Bool) throws(ImportError) -> PadWords {
        let (p, mode, by) = before
        let modes = ["zeros": "zeros", "reflect": "reflect", "edge": "replicate", "wrap": "circular"]
        let isMax = node.opType == "MaxPool"
        if isMax ? mode != "-inf" : mode != "zeros" && !(conv && modes[mode] != nil && own.padding.isZero) {
            throw ImportError("reads the \(mode) padding of Pad \(by); " + (isMax
                ? "a max pool's padding never wins, so only a Pad of -inf folds into it"
                : conv ? "a reflect, edge or wrap Pad folds into a conv without pads of its own, and a constant Pad only of zeros"
                : "an average pool folds only a Pad of zeros"))
        }
        let o = own.padding
        let total = Padding(left: p.left + o.left, right: p.right + o.right, top: p.top + o.top, bottom: p.bottom + o.bottom)
        let same = Self.samePadding(input, extent: extent, stride: stride)
        let padmode = modes[mode].map { $0 == "zeros" || !conv ? [] : ["padmode", $0] } ?? []
        if total.left == total.right && total.top == total.bottom {
            return PadWords(words: (total.isZero ? [] : ["pad", Self.size(total.left, total.top)]) + padmode, padding: total)
        }
        if total == same { return PadWords(words: ["pad", "same"] + padmode, padding: total) }
        throw ImportError("has asymmetric padding \(total.onnxOrder) (top, left, bottom, right) with Pad \(by) before it; the language pads both "
            + "sides of an axis alike, or as 'pad same' does (which here would be \(same.onnxOrder))")
    }
}
