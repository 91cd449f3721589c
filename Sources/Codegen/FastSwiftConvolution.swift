import ShapeCheck

// The fast Swift kernels' direct convolution: the C's row strips with edge columns
// (FastCConvolution.swift), its register-blocked micro-kernel in SIMD16<Float>.

extension FastSwiftEmitter {
    /// `k` in SIMD16<Float>, over the taps [ky0, ky1) x [kx0, kx1) and every input channel
    /// block; its prefetch and reduction unroll have no Swift spelling and are not printed. The
    /// offsets wrap (`&+`, `&*`): the plan's sizes cannot overflow, and a checked add per tap
    /// costs a branch in the inner loop.
    func microKernel(_ k: MicroKernel) -> String {
        guard !k.chunked, k.pixelRow == nil else {
            preconditionFailure("\(k.name): the Swift micro-kernel has a whole reduction and no strips of whole rows")
        }
        let width = channelBlock * k.blocks
        let accumulators = (0..<k.blocks).flatMap { j in (0..<k.strip).map { "a\(j)_\($0)" } }
        var parameters = ["_ out: UnsafeMutablePointer<Float>", "_ inp: UnsafePointer<Float>", "_ off: Int", "_ w: UnsafePointer<Float>"]
        if k.bias { parameters.append("_ bias: UnsafePointer<Float>") }
        if k.residual { parameters.append("_ res: UnsafePointer<Float>") }
        if k.taps != nil { parameters += ["_ ky0: Int", "_ ky1: Int", "_ kx0: Int", "_ kx1: Int"] }
        // A strip across rows: pixel r's input at offset o<r>.
        if k.flat { parameters += (0..<k.strip).map { "_ o\($0): Int" } }
        var s = "@inline(__always)\nstatic func \(k.name)(\(parameters.joined(separator: ", "))) {\n"
        s += "    var " + accumulators.map { "\($0): cv16" }.joined(separator: ", ") + "\n"
        if k.bias {
            for j in 0..<k.blocks {
                s += "    let b\(j) = cv_load(bias + \(channelBlock * j))\n"
                s += "    " + (0..<k.strip).map { "a\(j)_\($0) = b\(j)" }.joined(separator: "; ") + "\n"
            }
        } else {
            s += "    " + accumulators.map { "\($0) = cv_zero()" }.joined(separator: "; ") + "\n"
        }
        let channels = k.lastChannels == channelBlock ? "16"
            : (k.inputBlocks == 1 ? "\(k.lastChannels)" : "(cb == \(k.inputBlocks - 1) ? \(k.lastChannels) : 16)")
        var reduction = """
            for ic in 0..<\(channels) {
                let xi = x + ic &* \(k.channelStride)
                let wi = wp + ic &* \(width)

            """
        for j in 0..<k.blocks { reduction += "    let w\(j) = cv_load(wi + \(channelBlock * j))\n" }
        for r in 0..<k.strip {
            reduction += "    let x\(r) = cv_set1(xi[\(k.flat ? "o\(r)" : "\(r * k.pixelStride)")])"
            reduction += (0..<k.blocks).map { "; a\($0)_\(r) = cv_fma(x\(r), w\($0), a\($0)_\(r))" }.joined() + "\n"
        }
        reduction += "}\n"
        s += "    for cb in 0..<\(k.inputBlocks) {\n"
        if let taps = k.taps {
            s += """
                        for ky in ky0..<ky1 {
                            for kx in kx0..<kx1 {
                                let x = inp + (off &+ cb &* \(k.blockStride) &+ ky &* \(k.rowStep) &+ kx &* \(k.columnStep))
                                let wp = w + ((cb &* \(taps.height) &+ ky) &* \(taps.width) &+ kx) &* \(k.tapChannels * width)

                """
            s += indent(reduction, 16) + "            }\n        }\n"
        } else {
            // A GEMM (Winograd's): the reduction over input channels only.
            s += """
                        let x = inp + (off &+ cb &* \(k.blockStride))
                        let wp = w + cb &* \(channelBlock * width)

                """
            s += indent(reduction, 8)
        }
        s += "    }\n"
        for j in 0..<k.blocks {
            for r in 0..<k.strip {
                let offset = j * k.outputBlockStride + r * channelBlock
                let value = k.residual ? "cv_add(a\(j)_\(r), cv_load(res + \(offset)))" : "a\(j)_\(r)"
                s += "    cv_store(out + \(offset), \(Self.vectorActivation(k.activation, value)))\n"
            }
        }
        return s + "}\n"
    }

    func directConvolution(_ fn: String, _ step: PlanStep, _ d: DirectConvolution, _ conv: ConvolutionKernel) -> (String, String) {
        if d.variant == .paired { return pairedConvolution(fn, step, d, conv) }
        if d.variant == .flat { return flatConvolution(fn, step, d, conv) }
        precondition(d.variant == .rowStrips && d.reduction == .whole,
                     "the Swift kernels print row strips with a whole reduction, the paired kernel and strips across rows only")
        let g = DirectGeometry(plan, step, d, conv)
        let OH = g.OH, OW = g.OW, KW = g.KW, SW = g.SW, PL = g.PL, NB = g.NB, pixelStride = g.pixelStride
        let residual = g.residual, bias = g.bias
        let left = d.interior.lowerBound, interior = d.interior.count
        let (P, full, short) = DirectConvolution.rowStrips(width: interior, strip: min(d.strip, interior))

        func kernel(_ strip: Int) -> MicroKernel { g.microKernel("\(fn)_r\(strip)", strip: strip, d, activation: step.activation) }
        var strips = Set<Int>()
        if full > 0 { strips.insert(P) }
        if short > 0 { strips.insert(P - 1) }
        if !d.edges.isEmpty { strips.insert(1) }
        var s = "/// direct convolution, \(NB * channelBlock) output channels x \(P) pixels per micro-kernel call\n"
        for strip in strips.sorted() { s += microKernel(kernel(strip)) }
        let bands = d.bands
        // The micro-kernel call for output column `ox` (an expression) over taps [kx0, kx1).
        func callAt(_ strip: Int, _ ox: String, _ kx0: Int, _ kx1: Int) -> String {
            var arguments = ["orow + \(ox) * 16", "inp", "row + (\(ox) * \(SW) - \(PL)) * \(pixelStride)", "w"]
            if bias { arguments.append("bias") }
            if residual { arguments.append("rrow + \(ox) * 16") }
            arguments += ["ky0", "ky1", "\(kx0)", "\(kx1)"]
            return "\(fn)_r\(strip)(\(arguments.joined(separator: ", ")))"
        }
        var body = groupPrologue(fn, g, d, range: "let oy0 = band * \(OH) / \(bands), oy1 = (band + 1) * \(OH) / \(bands)", bands: bands)
        body += "for oy in oy0..<oy1 {\n" + indent(rowTaps(conv, padTop: g.PT, inputHeight: g.H, rowStride: g.rowStride), 4)
        if residual { body += "    let rrow = res + oy * \(OW * channelBlock)\n" }
        // The row's strips of P pixels, then those of P − 1, then the edge columns one by one.
        var start = left
        for (pixels, count) in [(P, full), (P - 1, short)] where count > 0 {
            body += "    for ox in stride(from: \(start), to: \(start + count * pixels), by: \(pixels)) { \(callAt(pixels, "ox", 0, KW)) }\n"
            start += count * pixels
        }
        for edge in d.edges {
            body += "    \(callAt(1, "\(edge.x)", edge.firstTap, edge.endTap))\n"
        }
        s += groupTable(fn, d) + taskFunction(fn, body + "}\n")
        let call = call(fn, step, tasks: "batch * \(g.KBG * bands)", res: residual ? readPointer(step.inputs[1]) : "nil",
                        w: weight(conv.weight), bias: weight(conv.bias))
        return (s, call)
    }


    /// The start of a convolution task, as the C's convolutionTask: task t is output channel
    /// group g (outermost, so a batch reuses each group's weights), image n and row band
    /// `band`; `range` declares the band's rows or pixels. Declares inp (from a grouped
    /// convolution's first input block of the group), w, out, and bias and res when the step
    /// has them.
    func groupPrologue(_ fn: String, _ g: DirectGeometry, _ d: DirectConvolution, range: String, bands: Int) -> String {
        let firstBlock = d.grouped == nil ? "" : " + \(fn)_first[g] * \(g.blockStride)"
        var s = """
            // output channel group outermost, so a batch reuses each group's weights
            let g = t / (a.batch * \(bands)), n = (t / \(bands)) % a.batch, band = t % \(bands)
            \(range)
            let inp = a.inp + n * \(g.imageIn)\(firstBlock), w = a.w! + g * \(g.wGroup)
            let out = a.out + n * \(g.imageOut) + g * \(g.NB * g.OBS)

            """
        if g.bias { s += "let bias = a.bias! + g * \(g.NB * channelBlock)\n" }
        if g.residual { s += "let res = a.res! + n * \(g.imageOut) + g * \(g.NB * g.OBS)\n" }
        return s
    }

    /// A grouped convolution's first input block of each output channel group.
    func groupTable(_ fn: String, _ d: DirectConvolution) -> String {
        guard let grouped = d.grouped else { return "" }
        return "static let \(fn)_first: [Int] = [\(grouped.firstBlocks.map(String.init).joined(separator: ", "))]\n"
    }

    /// Output row oy's first input row iy (negative in the top padding), the filter rows
    /// [ky0, ky1) inside the input, the input row's offset `row` and the output row `orow`,
    /// as the C's rowTaps (`PT` the padding left to apply, `H` and `rowStride` the input's).
    func rowTaps(_ conv: ConvolutionKernel, padTop PT: Int, inputHeight H: Int, rowStride: Int) -> String {
        let SH = conv.window.strideHeight, DH = conv.window.dilationHeight, KH = conv.window.kernelHeight
        return """
            let iy = oy * \(SH) - \(PT)
            let ky0 = iy < 0 ? (-iy + \(DH - 1)) / \(DH) : 0
            let ky1 = Swift.max(ky0, Swift.min(\(KH), \(H) - iy <= 0 ? 0 : (\(H) - iy + \(DH - 1)) / \(DH)))
            let row = iy * \(rowStride)
            let orow = out + oy * \(conv.output.width * channelBlock)

            """
    }

    /// A first layer with at most 8 filters, stride 1, planar input, as the C's
    /// pairedConvolution: register r holds the 8 channels of pixels 2r and 2r + 1 (weights and
    /// bias packed interleaved, PackedLayout.pairedConvolution), and the epilogue splits them
    /// into two blocked pixels.
    func pairedConvolution(_ fn: String, _ step: PlanStep, _ d: DirectConvolution, _ conv: ConvolutionKernel) -> (String, String) {
        let g = DirectGeometry(plan, step, d, conv)
        let C = g.C, OH = g.OH, OW = g.OW, KH = g.KH, KW = g.KW, DH = g.DH, DW = g.DW, CB = g.CB
        let pairsPerRow = OW / 2, R = min(d.strip, pairsPerRow)
        let full = pairsPerRow / R, remainder = pairsPerRow - full * R
        let last = C - (CB - 1) * channelBlock
        let channels = last == channelBlock ? "16" : (CB == 1 ? "\(C)" : "(cb == \(CB - 1) ? \(last) : 16)")
        func kernel(_ strip: Int) -> String {
            var parameters = ["_ out: UnsafeMutablePointer<Float>", "_ inp: UnsafePointer<Float>", "_ off: Int", "_ w: UnsafePointer<Float>"]
            if g.bias { parameters.append("_ bias: UnsafePointer<Float>") }
            if g.residual { parameters.append("_ res: UnsafePointer<Float>") }
            parameters += ["_ ky0: Int", "_ ky1: Int"]
            var s = "@inline(__always)\nstatic func \(fn)_p\(strip)(\(parameters.joined(separator: ", "))) {\n"
            s += "    var " + (0..<strip).map { "a\($0) = \(g.bias ? "cv_load(bias)" : "cv_zero()")" }.joined(separator: ", ") + "\n"
            s += """
                    for cb in 0..<\(CB) {
                        for ky in ky0..<ky1 {
                            for kx in 0..<\(KW) {
                                let x = inp + (off &+ cb &* \(g.blockStride) &+ ky &* \(DH * g.rowStride) &+ kx &* \(DW))
                                let wp = w + ((cb &* \(KH) &+ ky) &* \(KW) &+ kx) &* 256
                                for ic in 0..<\(channels) {
                                    let xi = x + ic &* \(g.channelStride)
                                    let w0 = cv_load(wp + ic &* 16)

                """
            for r in 0..<strip { s += "                    a\(r) = cv_fma(cv_bcast2(xi + \(2 * r)), w0, a\(r))\n" }
            s += "                }\n            }\n        }\n    }\n"
            for r in 0..<strip {
                let p0 = 2 * r * channelBlock, p1 = (2 * r + 1) * channelBlock
                if g.residual {
                    // A fused residual is blocked, one pixel per 16 floats: split the pair first, then add it.
                    s += "    cv_store_pairs(out + \(p0), out + \(p1), a\(r))\n"
                    for p in [p0, p1] {
                        s += "    cv_store(out + \(p), \(Self.vectorActivation(step.activation, "cv_add(cv_load(out + \(p)), cv_load(res + \(p)))")))\n"
                    }
                } else {
                    s += "    cv_store_pairs(out + \(p0), out + \(p1), \(Self.vectorActivation(step.activation, "a\(r)")))\n"
                }
            }
            return s + "}\n"
        }
        var s = "/// direct convolution of a planar input, 8 channels x 2 pixels per register, \(R) pairs per call\n"
        var strips = Set<Int>()
        if full > 0 { strips.insert(R) }
        if remainder > 0 { strips.insert(remainder) }
        for strip in strips.sorted() { s += kernel(strip) }
        func callAt(_ strip: Int, _ ox: String) -> String {
            var arguments = ["orow + \(ox) * 16", "inp", "row + \(ox)", "a.w!"]
            if g.bias { arguments.append("a.bias!") }
            if g.residual { arguments.append("rrow + \(ox) * 16") }
            return "\(fn)_p\(strip)(\((arguments + ["ky0", "ky1"]).joined(separator: ", ")))"
        }
        let bands = d.bands
        var body = """
            let n = t / \(bands), band = t % \(bands)
            let oy0 = band * \(OH) / \(bands), oy1 = (band + 1) * \(OH) / \(bands)
            let inp = a.inp + n * \(g.imageIn), out = a.out + n * \(g.imageOut)
            for oy in oy0..<oy1 {

            """
        body += indent(rowTaps(conv, padTop: g.PT, inputHeight: g.H, rowStride: g.rowStride), 4)
        if g.residual { body += "    let rrow = a.res! + n * \(g.imageOut) + oy * \(OW * channelBlock)\n" }
        if full > 0 { body += "    for ox in stride(from: 0, to: \(2 * full * R), by: \(2 * R)) { \(callAt(R, "ox")) }\n" }
        if remainder > 0 { body += "    \(callAt(remainder, "\(2 * full * R)"))\n" }
        body += "}\n"
        let call = call(fn, step, tasks: "batch * \(bands)", res: g.residual ? readPointer(step.inputs[1]) : "nil",
                        w: weight(conv.weight), bias: weight(conv.bias))
        return (s + taskFunction(fn, body), call)
    }

    /// A convolution without edge columns whose strips of `d.strip` pixels run over the band in
    /// row-major order, across row ends, as the C's flatConvolution: every call but a band's
    /// last keeps the full set of accumulators.
    func flatConvolution(_ fn: String, _ step: PlanStep, _ d: DirectConvolution, _ conv: ConvolutionKernel) -> (String, String) {
        precondition(d.reduction == .whole && d.edges.isEmpty,
                     "the Swift kernels print strips across rows with a whole reduction and no edges only")
        let g = DirectGeometry(plan, step, d, conv)
        let OH = g.OH, OW = g.OW, SH = g.SH, SW = g.SW, KH = g.KH, KW = g.KW, NB = g.NB, R = d.strip, bands = d.bands
        var s = "/// direct convolution, \(NB * channelBlock) output channels x \(R) pixels per micro-kernel call, strips running on across rows\n"
        for strip in 1...R {
            var k = g.microKernel("\(fn)_f\(strip)", strip: strip, d, activation: step.activation)
            k.flat = true
            s += microKernel(k)
        }
        func callOf(_ strip: Int) -> String {
            var arguments = ["out + p * 16", "inp", "0", "w"]
            if g.bias { arguments.append("bias") }
            if g.residual { arguments.append("res + p * 16") }
            arguments += ["0", "\(KH)", "0", "\(KW)"] + (0..<strip).map { "offset(p + \($0))" }
            return "case \(strip): \(fn)_f\(strip)(\(arguments.joined(separator: ", ")))"
        }
        var body = groupPrologue(fn, g, d, range: "let p0 = band * \(OH) / \(bands) * \(OW), p1 = (band + 1) * \(OH) / \(bands) * \(OW)", bands: bands)
        body += """
            // the input offset of output pixel q
            func offset(_ q: Int) -> Int { (q / \(OW)) * \(SH * g.rowStride) + (q % \(OW)) * \(SW * g.pixelStride) }
            for p in stride(from: p0, to: p1, by: \(R)) {
                switch Swift.min(p1 - p, \(R)) {
            \((stride(from: R, through: 1, by: -1).map { "    " + callOf($0) }).joined(separator: "\n"))
                default: break
                }
            }
            """
        let call = call(fn, step, tasks: "batch * \(g.KBG * bands)", res: g.residual ? readPointer(step.inputs[1]) : "nil",
                        w: weight(conv.weight), bias: weight(conv.bias))
        return (s + groupTable(fn, d) + taskFunction(fn, body), call)
    }
}
