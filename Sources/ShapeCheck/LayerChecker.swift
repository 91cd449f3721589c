import Parser

/// Checks one layer given its input shapes: the arithmetic of the lectures, in checked integers.
struct LayerChecker {
    let name: String
    let syntax: LayerSyntax
    let inputs: [TensorShape]
    let sourceRanges: [SourceRange?]
    let strict: Bool
    var diagnostics: [Diagnostic] = []

    init(name: String, syntax: LayerSyntax, inputs: [TensorShape], sourceRanges: [SourceRange?], strict: Bool) {
        self.name = name
        self.syntax = syntax
        self.inputs = inputs
        self.sourceRanges = sourceRanges
        self.strict = strict
    }

    private var keyword: String { syntax.keyword.value }
    var input: TensorShape { inputs[0] }

    mutating func check() -> CheckedLayer? {
        var layer = CheckedLayer(name: name, keyword: keyword, operation: .flatten, inputs: [], inputShapes: inputs,
                                 output: input, activation: activation(syntax.activation?.value), parameters: [],
                                 multiplyAccumulates: 0, arithmetic: [], range: syntax.range)
        switch syntax.operation {
        case .conv(let filters, let windowSyntax, let groupsSyntax, let bias):
            guard requireVolume(), positive(filters, "the number of filters") else { return nil }
            let groups = groupsSyntax?.value ?? 1
            if let groupsSyntax, !positive(groupsSyntax, "groups") { return nil }
            guard divides(groups, input.depth, "the input depth D1", groupsSyntax?.range),
                  divides(groups, filters.value, "the number of filters K", groupsSyntax?.range) else { return nil }
            return convolution(&layer, filters: filters.value, windowSyntax, groups: groups, bias: bias, depthwise: false)
        case .depthwise(let windowSyntax, let multiplierSyntax, let bias):
            guard requireVolume() else { return nil }
            if let multiplierSyntax, !positive(multiplierSyntax, "the multiplier") { return nil }
            guard let filters = checked(input.depth, multiplierSyntax?.value ?? 1) else { return nil }
            return convolution(&layer, filters: filters, windowSyntax, groups: input.depth, bias: bias, depthwise: true)
        case .pool(let kind, let windowSyntax, let ceil):
            guard requireVolume(), let window = window(windowSyntax, defaultStride: windowSyntax.kernel.value, isPool: true),
                  let (width, height) = outputSize(window, ceil: ceil, layer: &layer) else { return nil }
            layer.operation = .pooling(Pooling(kind: kind, window: window, ceilMode: ceil))
            layer.output = .volume(width: width, height: height, depth: input.depth)
        case .globalPool(let kind):
            guard requireVolume() else { return nil }
            layer.operation = .globalPooling(kind)
            layer.output = .volume(width: 1, height: 1, depth: input.depth)
        case .fullyConnected(let outputs):
            guard positive(outputs, "the number of neurons") else { return nil }
            let features = input.elementCount
            guard let macs = checked(features, outputs.value) else { return nil }
            layer.operation = .fullyConnected(outputs: outputs.value)
            layer.output = .vector(outputs.value)
            layer.parameters = [ParameterTensor(name: "weight", shape: [outputs.value, features], isTrainable: true),
                                ParameterTensor(name: "bias", shape: [outputs.value], isTrainable: true)]
            layer.multiplyAccumulates = macs
        case .flatten:
            layer.operation = .flatten
            layer.output = .vector(input.elementCount)
        case .dropout(let probability):
            layer.operation = .dropout(probability: probability.value)
        case .batchNorm(let epsilon):
            let channels = input.depth
            layer.operation = .batchNorm(epsilon: epsilon?.value ?? 1e-5)
            layer.parameters = [ParameterTensor(name: "weight", shape: [channels], isTrainable: true),
                                ParameterTensor(name: "bias", shape: [channels], isTrainable: true),
                                ParameterTensor(name: "running_mean", shape: [channels], isTrainable: false),
                                ParameterTensor(name: "running_var", shape: [channels], isTrainable: false)]
        case .lrn(let size, let alpha, let beta, let k):
            if let size, !positive(size, "the LRN size") { return nil }
            layer.operation = .localResponseNorm(LocalResponseNorm(size: size?.value ?? 5, alpha: alpha?.value ?? 1e-4,
                                                                   beta: beta?.value ?? 0.75, k: k?.value ?? 2))
        case .activation(let activationSyntax):
            layer.operation = .activation(activation(activationSyntax)!)
        case .add:
            guard inputs.allSatisfy({ $0 == input }) else {
                mismatch("add", rule: "add needs every input to have the same shape")
                return nil
            }
            layer.operation = .add
        case .concat:
            let spatialMatch = inputs.allSatisfy { $0.isVector == input.isVector && $0.width == input.width && $0.height == input.height }
            guard spatialMatch else {
                mismatch("concat", rule: "concat stacks along depth, so every input needs the same width and height (or all are vectors)")
                return nil
            }
            var depth = 0
            for shape in inputs {
                guard let sum = checkedAdd(depth, shape.depth) else { return nil }
                depth = sum
            }
            layer.operation = .concat
            layer.output = input.isVector ? .vector(depth) : .volume(width: input.width, height: input.height, depth: depth)
        case .multiply:
            // The widest input sets W×H; every other is that size or 1x1 (broadcast), same depth.
            let widest = inputs.max { $0.width * $0.height < $1.width * $1.height } ?? input
            let fits = inputs.allSatisfy { shape in
                shape == widest || (!shape.isVector && !widest.isVector && shape.depth == widest.depth && shape.width == 1 && shape.height == 1)
            }
            guard fits else {
                mismatch("mul", rule: "mul needs every input to have the same shape, or to be 1x1 with the same depth (broadcast over width and height)")
                return nil
            }
            layer.operation = .multiply
            layer.output = widest
        case .slice(let start, let end):
            guard end.value <= input.depth else {
                diagnostics.append(Diagnostic(.sliceOutsideDepth(layer: name, end: end.value, depth: input.depth), at: end.range,
                                              notes: [DiagnosticNote("its input is \(input), channels 0..<\(input.depth)")]))
                return nil
            }
            layer.operation = .slice(from: start.value, to: end.value)
            var shape = input
            shape.depth = end.value - start.value
            layer.output = shape
        case .layerNorm(let epsilon):
            layer.operation = .layerNorm(epsilon: epsilon?.value ?? 1e-5)
            layer.parameters = [ParameterTensor(name: "weight", shape: [input.depth], isTrainable: true),
                                ParameterTensor(name: "bias", shape: [input.depth], isTrainable: true)]
        case .layerScale:
            guard requireVolume() else { return nil }
            layer.operation = .layerScale
            layer.parameters = [ParameterTensor(name: "layer_scale", shape: [input.depth, 1, 1], isTrainable: true)]
        case .pointwise(let outputs, let bias):
            guard requireVolume(), positive(outputs, "the number of outputs"),
                  let macs = [input.width, input.height, input.depth, outputs.value].checkedProduct() else { return nil }
            layer.operation = .pointwise(outputs: outputs.value, hasBias: bias)
            layer.output = .volume(width: input.width, height: input.height, depth: outputs.value)
            layer.parameters = [ParameterTensor(name: "weight", shape: [outputs.value, input.depth], isTrainable: true)]
                + (bias ? [ParameterTensor(name: "bias", shape: [outputs.value], isTrainable: true)] : [])
            layer.multiplyAccumulates = macs
        case .adaptiveAveragePool(let size):
            guard requireVolume() else { return nil }
            for (value, what) in [(size.value.width, "the output width"), (size.value.height, "the output height")] where value == 0 {
                diagnostics.append(Diagnostic(.zeroValue(what: what, layer: name), at: size.range))
                return nil
            }
            layer.operation = .adaptiveAveragePool(width: size.value.width, height: size.value.height)
            layer.output = .volume(width: size.value.width, height: size.value.height, depth: input.depth)
        case .maxout(let pieces):
            guard positive(pieces, "the number of pieces") else { return nil }
            guard input.depth % pieces.value == 0 else {
                diagnostics.append(Diagnostic(.maxoutDoesNotDivide(layer: name, pieces: pieces.value, depth: input.depth), at: pieces.range,
                                              notes: [DiagnosticNote("its input is \(input); maxout takes the max over each run of \(pieces.value) consecutive channels")]))
                return nil
            }
            layer.operation = .maxout(pieces: pieces.value)
            var shape = input
            shape.depth = input.depth / pieces.value
            layer.output = shape
        case .shuffle(let groups):
            guard positive(groups, "the number of groups"), divides(groups.value, input.depth, "the input depth D1", groups.range) else { return nil }
            layer.operation = .shuffle(groups: groups.value)
        case .transposedConv(let filters, let windowSyntax, let outputPadding, let groups, let bias):
            return transposedConvolution(&layer, filters: filters, windowSyntax, outputPadding: outputPadding, groupsSyntax: groups, bias: bias)
        case .upsample(let scale, let mode, let alignCorners):
            return upsample(&layer, scale: scale, mode: mode, alignCorners: alignCorners != nil)
        }
        guard withinLimits(layer) else { return nil }
        return layer
    }

    // MARK: Convolution and windows

    private mutating func convolution(_ layer: inout CheckedLayer, filters: Int, _ windowSyntax: WindowSyntax, groups: Int,
                                      bias: Bool, depthwise: Bool) -> CheckedLayer? {
        guard var window = window(windowSyntax, defaultStride: SizeSyntax(square: 1), isPool: false),
              let (width, height) = outputSize(window, ceil: false, layer: &layer) else { return nil }
        if let mode = windowSyntax.paddingMode {
            guard paddingFits(window.padding, mode) else { return nil }
            window.paddingMode = mode.value
        }
        let weightShape = [filters, input.depth / groups, window.kernelHeight, window.kernelWidth]
        guard let macs = [height, width, filters, input.depth / groups, window.kernelHeight, window.kernelWidth].checkedProduct(),
              weightShape.checkedProduct() != nil else {
            overflow()
            return nil
        }
        layer.operation = .convolution(Convolution(filters: filters, window: window, groups: groups, hasBias: bias, isDepthwise: depthwise))
        layer.output = .volume(width: width, height: height, depth: filters)
        layer.parameters = [ParameterTensor(name: "weight", shape: weightShape, isTrainable: true)]
        if bias { layer.parameters.append(ParameterTensor(name: "bias", shape: [filters], isTrainable: true)) }
        layer.multiplyAccumulates = macs
        guard withinLimits(layer) else { return nil }
        return layer
    }

    /// Kernel, stride, dilation and padding with defaults filled in and `same` resolved.
    mutating func window(_ syntax: WindowSyntax, defaultStride: SizeSyntax, isPool: Bool) -> Window? {
        let kernel = syntax.kernel.value
        let stride = syntax.stride?.value ?? defaultStride
        let dilation = syntax.dilation?.value ?? SizeSyntax(square: 1)
        var ok = true
        for (value, what, range) in [(kernel, isPool ? "the window size" : "the kernel size", syntax.kernel.range),
                                     (stride, "the stride", syntax.stride?.range ?? syntax.kernel.range),
                                     (dilation, "the dilation", syntax.dilation?.range ?? syntax.kernel.range)]
        where value.width == 0 || value.height == 0 {
            diagnostics.append(Diagnostic(.zeroValue(what: what, layer: name), at: range))
            ok = false
        }
        guard ok else { return nil }
        guard let extentWidth = checkedExtent(kernel.width, dilation.width),
              let extentHeight = checkedExtent(kernel.height, dilation.height) else {
            overflow()
            return nil
        }
        var padding = Padding.zero
        var rule = PaddingRule.written
        switch syntax.padding?.value {
        case .explicit(let p):
            padding = Padding(left: p.width, right: p.width, top: p.height, bottom: p.height)
        case .same:
            rule = .same
            let (left, right) = Arithmetic.samePadding(input: input.width, extent: extentWidth, stride: stride.width)
            let (top, bottom) = Arithmetic.samePadding(input: input.height, extent: extentHeight, stride: stride.height)
            padding = Padding(left: left, right: right, top: top, bottom: bottom)
        case .fit:
            rule = .fit
            guard let (width, height) = fitPadding(extent: (extentWidth, extentHeight), stride: stride, isPool: isPool,
                                                   at: syntax.padding?.range ?? syntax.kernel.range) else { return nil }
            padding = Padding(left: width, right: width, top: height, bottom: height)
        case .valid, nil:
            break
        }
        if isPool && rule == .written {
            let widest = max(padding.left, padding.right), tallest = max(padding.top, padding.bottom)
            if widest > extentWidth / 2 || tallest > extentHeight / 2 {
                diagnostics.append(Diagnostic(.poolPaddingTooLarge(layer: name), at: syntax.padding?.range ?? syntax.kernel.range,
                                              notes: [DiagnosticNote("a \(kernel) window allows padding up to \(extentWidth / 2)x\(extentHeight / 2); a wider pad would make windows of padding only")]))
                return nil
            }
        }
        return Window(kernelWidth: kernel.width, kernelHeight: kernel.height, strideWidth: stride.width, strideHeight: stride.height,
                      dilationWidth: dilation.width, dilationHeight: dilation.height, padding: padding, paddingRule: rule)
    }

    /// `pad fit`: per axis the smallest symmetric pad with which the stride fits, or an error
    /// (once for both axes when they fail alike) that says why none does and what would.
    private mutating func fitPadding(extent: (Int, Int), stride: SizeSyntax, isPool: Bool, at range: SourceRange) -> (Int, Int)? {
        let axes = [("width", input.width, extent.0, stride.width), ("height", input.height, extent.1, stride.height)]
        let pads = axes.map { _, size, extent, stride in
            Arithmetic.fittingPad(input: size, extent: extent, stride: stride, limit: Arithmetic.padLimit(extent: extent, isPool: isPool))
        }
        if let width = pads[0], let height = pads[1] { return (width, height) }
        var failed = axes.indices.filter { pads[$0] == nil }
        let alike = failed.count == 2 && axes[0].1 == axes[1].1 && axes[0].2 == axes[1].2 && axes[0].3 == axes[1].3
        if alike { failed = [0] }
        for index in failed {
            let (axisName, size, extent, stride) = axes[index]
            let axis = alike ? "width and height" : axisName
            let limit = Arithmetic.padLimit(extent: extent, isPool: isPool)
            var notes = [DiagnosticNote(Arithmetic.noFitReason(input: size, extent: extent, stride: stride, limit: limit, isPool: isPool))]
            let same = Arithmetic.samePadding(input: size, extent: extent, stride: stride)
            if (size - extent + same.before + same.after) % stride == 0 {
                notes.append(DiagnosticNote("'pad same' fits: \(Arithmetic.sameSplit(same, axis: axis))"))
            }
            if isPool { notes.append(DiagnosticNote("or 'round ceil' rounds the size up instead, as PyTorch's ceil_mode")) }
            diagnostics.append(Diagnostic(.noPaddingFits(layer: name, axis: axis), at: range, notes: notes))
        }
        return nil
    }

    private func checkedExtent(_ kernel: Int, _ dilation: Int) -> Int? {
        let (product, overflow) = dilation.multipliedReportingOverflow(by: kernel - 1)
        return overflow ? nil : checkedAdd(product, 1)
    }

    /// Width and height of the output, with a warning when the stride does not fit and input
    /// cells go unread (an error under `strict` whenever it does not fit). Width and height
    /// with the same arithmetic, as a square input and kernel have, get one diagnostic.
    private mutating func outputSize(_ window: Window, ceil: Bool, layer: inout CheckedLayer) -> (Int, Int)? {
        let width = axisSize(input: input.width, extent: window.extentWidth, padBefore: window.padding.left,
                             padAfter: window.padding.right, stride: window.strideWidth, ceil: ceil)
        let height = axisSize(input: input.height, extent: window.extentHeight, padBefore: window.padding.top,
                              padAfter: window.padding.bottom, stride: window.strideHeight, ceil: ceil)
        guard let width, let height else { return nil }
        let tooLarge = [("width", width), ("height", height)].filter { $0.1.span < 0 }
        if !tooLarge.isEmpty {
            let once = tooLarge.count == 2 && width == height
            for (axis, a) in once ? [("width and height", width)] : tooLarge {
                let formula = Arithmetic.formula(input: a.input, extent: a.extent, padBefore: a.padBefore, padAfter: a.padAfter, stride: a.stride)
                let padded = a.input + a.padBefore + a.padAfter
                diagnostics.append(Diagnostic(.kernelLargerThanInput(layer: name, axis: axis), at: syntax.operation.windowRange ?? syntax.range, notes: [
                    DiagnosticNote("\(formula) = \(Arithmetic.signed(a.output)) (the kernel extent \(a.extent) is larger than \(padded), the padded input \(axis))"),
                ] + (window.dilationWidth != 1 || window.dilationHeight != 1 ? [DiagnosticNote("with dilation the kernel spans \(a.extent) cells: D·(F − 1) + 1")] : [])))
            }
            return nil
        }
        var misfits: [(axis: String, arithmetic: SizeArithmetic)] = []
        for (axis, a) in [("width", width), ("height", height)] where !ceil && !a.fits && (strict || a.lostInputCells > 0) {
            misfits.append((axis, a))
        }
        if misfits.count == 2 && width == height {
            misfits = [("width and height", width)]
        }
        for misfit in misfits { warnStrideDoesNotFit(axis: misfit.axis, misfit.arithmetic) }
        layer.arithmetic = [width, height]
        return (width.output, height.output)
    }

    /// One axis's size; its output is below 1 (and its span negative) when the kernel is larger
    /// than the padded input, which the caller reports. Nil, reported, on overflow.
    private mutating func axisSize(input: Int, extent: Int, padBefore: Int, padAfter: Int, stride: Int, ceil: Bool) -> SizeArithmetic? {
        guard let padded = checkedAdd(input, padBefore).flatMap({ checkedAdd($0, padAfter) }) else {
            overflow()
            return nil
        }
        let span = padded - extent
        guard span >= 0 else {
            return SizeArithmetic(input: input, extent: extent, padBefore: padBefore, padAfter: padAfter, stride: stride,
                                  ceilMode: ceil, output: Arithmetic.floorDivide(span, stride) + 1, unreadCells: 0)
        }
        let output = ceil ? Arithmetic.ceilOutput(input: input, padBefore: padBefore, span: span, stride: stride) : span / stride + 1
        return SizeArithmetic(input: input, extent: extent, padBefore: padBefore, padAfter: padAfter, stride: stride,
                              ceilMode: ceil, output: output, unreadCells: ceil ? 0 : span % stride)
    }

    private var isPool: Bool {
        if case .pool = syntax.operation { return true }
        return false
    }

    private mutating func warnStrideDoesNotFit(axis: String, _ a: SizeArithmetic) {
        let formula = Arithmetic.formula(input: a.input, extent: a.extent, padBefore: a.padBefore, padAfter: a.padAfter, stride: a.stride)
        let cells = axis == "width" ? ["column"] : axis == "height" ? ["row"] : ["column", "row"]
        let unread = a.unreadInputCells
        var notes = [DiagnosticNote("\(formula) = \(Arithmetic.decimal(a.span, a.stride, plus: 1)), floored to \(a.output)")]
        if unread > 0 {
            let what = cells.map { unread == 1 ? "the last \($0)" : "the last \(unread) \($0)s" }.joined(separator: " and ")
            notes.append(DiagnosticNote("\(what) of the input \(unread == 1 && cells.count == 1 ? "is" : "are") never read"))
        } else {
            notes.append(DiagnosticNote("only padding is left unread; every input \(cells.joined(separator: " and ")) is read"))
        }
        if a.gap > 0 {
            let skipped = cells.map { a.gap == 1 ? "1 \($0)" : "\(a.gap) \($0)s" }.joined(separator: " and ")
            notes.append(DiagnosticNote(a.lostInputCells > 0
                ? "a window \(a.extent) wide at stride \(a.stride) skips \(skipped) after it anyway; \(a.lostInputCells) more \(a.lostInputCells == 1 ? "is" : "are") lost at the end"
                : "a window \(a.extent) wide at stride \(a.stride) skips \(skipped) after it anyway, so no more is lost at the end"))
        }
        notes += Arithmetic.fitHints(a, isPool: isPool, axis: axis).map { DiagnosticNote($0) }
        var diagnostic = Diagnostic(.strideDoesNotFit(layer: name, axis: axis), at: syntax.operation.strideRange ?? syntax.range, notes: notes)
        if strict {
            diagnostic = diagnostic.promoted()
            diagnostic.notes.append(DiagnosticNote("this is an error because the check is strict"))
        }
        diagnostics.append(diagnostic)
    }

    // MARK: Small checks

    /// torch's limits: reflect mirrors without repeating the edge, so each pad must be below
    /// the input's size on its axis; circular wraps once, so at most that size.
    private mutating func paddingFits(_ padding: Padding, _ mode: Located<PaddingMode>) -> Bool {
        guard mode.value == .reflect || mode.value == .circular else { return true }
        for (pad, axis, size) in [(max(padding.left, padding.right), "width", input.width), (max(padding.top, padding.bottom), "height", input.height)]
        where mode.value == .reflect ? pad >= size : pad > size {
            let limit = mode.value == .reflect ? "up to \(size - 1)" : "up to \(size)"
            diagnostics.append(Diagnostic(.paddingModeTooLarge(layer: name, mode: mode.value.rawValue, pad: pad, axis: axis, size: size),
                                          at: syntax.operation.paddingRange ?? mode.range,
                                          notes: [DiagnosticNote("its input is \(input); \(mode.value.rawValue) padding allows \(limit) cells on the \(axis)", at: mode.range)]))
            return false
        }
        return true
    }

    mutating func requireVolume() -> Bool {
        guard input.isVector else { return true }
        diagnostics.append(Diagnostic(.needsVolume(layer: name, op: keyword), at: syntax.keyword.range,
                                      notes: [DiagnosticNote("its input is a vector of \(input.depth) values")]))
        return false
    }

    mutating func positive(_ value: Located<Int>, _ what: String) -> Bool {
        guard value.value == 0 else { return true }
        diagnostics.append(Diagnostic(.zeroValue(what: what, layer: name), at: value.range))
        return false
    }

    mutating func divides(_ groups: Int, _ count: Int, _ what: String, _ range: SourceRange?) -> Bool {
        guard count % groups != 0 else { return true }
        diagnostics.append(Diagnostic(.groupsDoNotDivide(layer: name, what: what), at: range ?? syntax.keyword.range,
                                      notes: [DiagnosticNote("\(count) is not a multiple of \(groups) groups")]))
        return false
    }

    private mutating func mismatch(_ op: String, rule: String) {
        var notes = [DiagnosticNote(rule)]
        var sources: [Located<String>] = []
        if case .add(let named) = syntax.operation { sources = named }
        if case .concat(let named) = syntax.operation { sources = named }
        if case .multiply(let named) = syntax.operation { sources = named }
        for (i, (shape, range)) in zip(inputs, sourceRanges).enumerated() {
            // Inputs follow the sources in order; looking each up would be quadratic in a long add.
            let name = i < sources.count && sources[i].range == range ? sources[i].value : sourceName(range)
            notes.append(DiagnosticNote("'\(name)' is \(shape)", at: range))
        }
        diagnostics.append(Diagnostic(.shapeMismatch(layer: name, op: op), at: syntax.keyword.range, notes: notes))
    }

    private func sourceName(_ range: SourceRange?) -> String {
        guard let range else { return "" }
        switch syntax.operation {
        case .add(let sources), .concat(let sources), .multiply(let sources):
            return sources.first { $0.range == range }?.value ?? ""
        default:
            return ""
        }
    }

    mutating func checked(_ a: Int, _ b: Int) -> Int? {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        if overflow { self.overflow() }
        return overflow ? nil : product
    }

    func checkedAdd(_ a: Int, _ b: Int) -> Int? {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : sum
    }

    mutating func overflow() {
        diagnostics.append(Diagnostic(.sizeOverflow(layer: name), at: syntax.range))
    }

    mutating func withinLimits(_ layer: CheckedLayer) -> Bool {
        var dims = [layer.output.width, layer.output.height, layer.output.depth]
        var what = "its output \(layer.output)"
        if let big = layer.parameters.first(where: { ($0.shape.checkedProduct() ?? .max) > Limits.maxTensorElements }) {
            dims = big.shape
            what = "its \(big.name) tensor \(big.shape.map(String.init).joined(separator: "x"))"
        }
        guard let count = dims.checkedProduct(), count <= Limits.maxTensorElements else {
            diagnostics.append(Diagnostic(.exceedsLimit(layer: name, what: what), at: syntax.range,
                                          notes: [DiagnosticNote("a tensor may hold at most \(CheckReport.grouped(Limits.maxTensorElements)) values (8 GiB of float32)")]))
            return false
        }
        return true
    }

    private func activation(_ syntax: ActivationSyntax?) -> Activation? {
        switch syntax {
        case nil: nil
        case .relu: .relu
        case .sigmoid: .sigmoid
        case .tanh: .tanh
        case .softmax: .softmax
        case .leakyRelu(let a): .leakyRelu(alpha: a ?? 0.01)
        case .elu(let a): .elu(alpha: a ?? 1.0)
        case .relu6: .relu6
        case .hardswish: .hardswish
        case .hardsigmoid: .hardsigmoid
        case .silu: .silu
        case .gelu(let tanh): .gelu(tanh: tanh)
        }
    }
}

extension OperationSyntax {
    /// Where the kernel size was written, for diagnostics about the window.
    var windowRange: SourceRange? {
        switch self {
        case .conv(_, let w, _, _), .depthwise(let w, _, _), .pool(_, let w, _), .transposedConv(_, let w, _, _, _): w.kernel.range
        default: nil
        }
    }

    /// Where the padding was written (nil when it was not).
    var paddingRange: SourceRange? {
        switch self {
        case .conv(_, let w, _, _), .depthwise(let w, _, _), .pool(_, let w, _): w.padding?.range
        default: nil
        }
    }

    var strideRange: SourceRange? {
        switch self {
        case .conv(_, let w, _, _), .depthwise(let w, _, _), .pool(_, let w, _), .transposedConv(_, let w, _, _, _): w.stride?.range ?? w.kernel.range
        default: nil
        }
    }
}
