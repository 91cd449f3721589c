import Parser

/// deconv and upsample: the two layers that make an image larger.
extension LayerChecker {
    mutating func transposedConvolution(_ layer: inout CheckedLayer, filters: Located<Int>, _ windowSyntax: WindowSyntax,
                                        outputPadding: Located<SizeSyntax>?, groupsSyntax: Located<Int>?, bias: Bool) -> CheckedLayer? {
        guard requireVolume(), positive(filters, "the number of output channels") else { return nil }
        let groups = groupsSyntax?.value ?? 1
        if let groupsSyntax, !positive(groupsSyntax, "groups") { return nil }
        guard divides(groups, input.depth, "the input depth D1", groupsSyntax?.range),
              divides(groups, filters.value, "the number of output channels K", groupsSyntax?.range),
              let window = window(windowSyntax, defaultStride: SizeSyntax(square: 1), isPool: false) else { return nil }
        let extra = outputPadding?.value ?? SizeSyntax(square: 0)
        // torch's rule: output_padding picks one of the S sizes that map to the same input, so it
        // must be below the stride (or, as torch allows, below the dilation).
        var bad: [String] = []
        if extra.width >= window.strideWidth && extra.width >= window.dilationWidth { bad.append("width") }
        if extra.height >= window.strideHeight && extra.height >= window.dilationHeight { bad.append("height") }
        if !bad.isEmpty {
            let axis = bad.count == 2 && extra.width == extra.height && window.strideWidth == window.strideHeight
                && window.dilationWidth == window.dilationHeight ? "width and height" : bad[0]
            let (a, s, d) = axis == "height" ? (extra.height, window.strideHeight, window.dilationHeight)
                                             : (extra.width, window.strideWidth, window.dilationWidth)
            diagnostics.append(Diagnostic(.outputPaddingTooLarge(layer: name, axis: axis), at: outputPadding?.range ?? syntax.range, notes: [
                DiagnosticNote("outpad \(a) with stride \(s) and dilation \(d): torch's ConvTranspose2d needs output_padding < stride or output_padding < dilation"),
            ]))
            return nil
        }
        var sizes: [Int] = []
        for (axis, inputSize, k, s, d, p, a) in [("width", input.width, window.kernelWidth, window.strideWidth, window.dilationWidth, window.padding.left, extra.width),
                                                ("height", input.height, window.kernelHeight, window.strideHeight, window.dilationHeight, window.padding.top, extra.height)] {
            guard let size = Arithmetic.transposedSize(input: inputSize, kernel: k, stride: s, dilation: d, padding: p, outputPadding: a) else {
                overflow()
                return nil
            }
            guard size >= 1 else {
                let formula = Arithmetic.transposedFormula(input: inputSize, kernel: k, stride: s, dilation: d, padding: p, outputPadding: a)
                diagnostics.append(Diagnostic(.transposedOutputTooSmall(layer: name, axis: axis), at: windowSyntax.padding?.range ?? windowSyntax.kernel.range,
                                              notes: [DiagnosticNote("\(formula) = \(size < 0 ? "−\(-size)" : "\(size)")")]))
                return nil
            }
            sizes.append(size)
        }
        let perGroup = filters.value / groups
        let weightShape = [input.depth, perGroup, window.kernelHeight, window.kernelWidth]
        guard let macs = [input.width, input.height, input.depth, perGroup, window.kernelHeight, window.kernelWidth].checkedProduct(),
              weightShape.checkedProduct() != nil else {
            overflow()
            return nil
        }
        layer.operation = .transposedConvolution(TransposedConvolution(filters: filters.value, window: window, outputPaddingWidth: extra.width,
                                                                       outputPaddingHeight: extra.height, groups: groups, hasBias: bias))
        layer.output = .volume(width: sizes[0], height: sizes[1], depth: filters.value)
        layer.parameters = [ParameterTensor(name: "weight", shape: weightShape, isTrainable: true)]
        if bias { layer.parameters.append(ParameterTensor(name: "bias", shape: [filters.value], isTrainable: true)) }
        layer.multiplyAccumulates = macs
        guard withinLimits(layer) else { return nil }
        return layer
    }

    mutating func upsample(_ layer: inout CheckedLayer, scale: Located<SizeSyntax>, mode: UpsampleMode, alignCorners: Bool) -> CheckedLayer? {
        guard requireVolume() else { return nil }
        guard scale.value.width > 0 && scale.value.height > 0 else {
            diagnostics.append(Diagnostic(.zeroValue(what: "the scale factor", layer: name), at: scale.range))
            return nil
        }
        guard let width = checked(input.width, scale.value.width), let height = checked(input.height, scale.value.height) else { return nil }
        layer.operation = .upsample(Upsample(scaleWidth: scale.value.width, scaleHeight: scale.value.height, mode: mode, alignCorners: alignCorners))
        layer.output = .volume(width: width, height: height, depth: input.depth)
        guard withinLimits(layer) else { return nil }
        return layer
    }
}

extension Arithmetic {
    /// torch's ConvTranspose2d size: (W − 1)·S − 2P + D·(F − 1) + A + 1; nil on overflow.
    public static func transposedSize(input: Int, kernel: Int, stride: Int, dilation: Int, padding: Int, outputPadding: Int) -> Int? {
        let terms = [(input - 1).multipliedReportingOverflow(by: stride), (2).multipliedReportingOverflow(by: padding),
                     dilation.multipliedReportingOverflow(by: kernel - 1)]
        guard !terms.contains(where: \.overflow) else { return nil }
        let sum = terms[0].partialValue.subtractingReportingOverflow(terms[1].partialValue)
        guard !sum.overflow else { return nil }
        let total = sum.partialValue.addingReportingOverflow(terms[2].partialValue + outputPadding + 1)
        return total.overflow ? nil : total.partialValue
    }

    /// `(8 − 1)·2 − 2·1 + 1·(3 − 1) + 1 + 1`.
    public static func transposedFormula(input: Int, kernel: Int, stride: Int, dilation: Int, padding: Int, outputPadding: Int) -> String {
        "(\(input) − 1)·\(stride) − 2·\(padding) + \(dilation)·(\(kernel) − 1) + \(outputPadding) + 1"
    }
}

extension CheckReport {
    /// The size formula (once when width and height agree), then params and MACs.
    static func transposedExplanation(_ conv: TransposedConvolution, input: TensorShape, layer: CheckedLayer) -> String {
        let w = conv.window
        let across = Arithmetic.transposedFormula(input: input.width, kernel: w.kernelWidth, stride: w.strideWidth, dilation: w.dilationWidth,
                                                  padding: w.padding.left, outputPadding: conv.outputPaddingWidth) + " = \(layer.output.width)"
        let down = Arithmetic.transposedFormula(input: input.height, kernel: w.kernelHeight, stride: w.strideHeight, dilation: w.dilationHeight,
                                                padding: w.padding.top, outputPadding: conv.outputPaddingHeight) + " = \(layer.output.height)"
        var text = (across == down ? across : "width \(across), height \(down)") + "  →  \(layer.output)"
        let window = "\(w.kernelWidth)·\(w.kernelHeight)"
        let perGroup = conv.groups == 1 ? "\(conv.filters)" : "(\(conv.filters)/\(conv.groups))"
        text += ";  params \(input.depth)·\(perGroup)·\(window)\(conv.hasBias ? " + \(conv.filters)" : "") = \(grouped(layer.trainableParameters))"
        text += ";  MACs \(input.width)·\(input.height)·\(input.depth)·\(perGroup)·\(window) = \(grouped(layer.multiplyAccumulates))"
        return text
    }
}
