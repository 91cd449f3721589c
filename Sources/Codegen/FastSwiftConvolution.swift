import ShapeCheck

// The fast Swift kernels' direct convolution: the C's row strips with edge columns
// (FastCConvolution.swift), its register-blocked micro-kernel in SIMD16<Float>.

extension FastSwiftEmitter {
    /// `k` in SIMD16<Float>, over the taps [ky0, ky1) x [kx0, kx1) and every input channel
    /// block; its prefetch and reduction unroll have no Swift spelling and are not printed. The
    /// offsets wrap (`&+`, `&*`): the plan's sizes cannot overflow, and a checked add per tap
    /// costs a branch in the inner loop.
    func microKernel(_ k: MicroKernel) -> String {
        guard !k.chunked, !k.flat, k.pixelRow == nil else {
            preconditionFailure("\(k.name): the Swift micro-kernel has a whole reduction and strips within a row")
        }
        let width = channelBlock * k.blocks
        let accumulators = (0..<k.blocks).flatMap { j in (0..<k.strip).map { "a\(j)_\($0)" } }
        var parameters = ["_ out: UnsafeMutablePointer<Float>", "_ inp: UnsafePointer<Float>", "_ off: Int", "_ w: UnsafePointer<Float>"]
        if k.bias { parameters.append("_ bias: UnsafePointer<Float>") }
        if k.residual { parameters.append("_ res: UnsafePointer<Float>") }
        if k.taps != nil { parameters += ["_ ky0: Int", "_ ky1: Int", "_ kx0: Int", "_ kx1: Int"] }
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
            reduction += "    let x\(r) = cv_set1(xi[\(r * k.pixelStride)])"
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
                let value = k.residual ? "a\(j)_\(r) + cv_load(res + \(offset))" : "a\(j)_\(r)"
                s += "    cv_store(out + \(offset), \(Self.vectorActivation(k.activation, value)))\n"
            }
        }
        return s + "}\n"
    }

    func directConvolution(_ fn: String, _ step: PlanStep, _ d: DirectConvolution, _ conv: ConvolutionKernel) -> (String, String) {
        precondition(d.variant == .rowStrips && d.grouped == nil && !d.prepadded && d.reduction == .whole,
                     "the Swift kernels print direct convolutions in whole row strips only")
        let g = DirectGeometry(plan, step, d, conv)
        let OH = g.OH, OW = g.OW, KH = g.KH, KW = g.KW, SH = g.SH, SW = g.SW, DH = g.DH, H = g.H, PT = g.PT, PL = g.PL
        let NB = g.NB, OBS = g.OBS, imageOut = g.imageOut, rowStride = g.rowStride, pixelStride = g.pixelStride
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
        s += """
            static func \(fn)(_ a: cnnc_args, _ begin: Int, _ end: Int) {
                for t in begin..<end {
                    // output channel group outermost, so a batch reuses each group's weights
                    let g = t / (a.batch * \(bands)), n = (t / \(bands)) % a.batch, band = t % \(bands)
                    let oy0 = band * \(OH) / \(bands), oy1 = (band + 1) * \(OH) / \(bands)
                    let inp = a.inp + n * \(g.imageIn)
                    let w = a.w! + g * \(g.wGroup)
                    let out = a.out + n * \(imageOut) + g * \(NB * OBS)

            """
        if bias { s += "        let bias = a.bias! + g * \(NB * channelBlock)\n" }
        if residual { s += "        let res = a.res! + n * \(imageOut) + g * \(NB * OBS)\n" }
        s += """
                    for oy in oy0..<oy1 {
                        let iy = oy * \(SH) - \(PT)
                        let ky0 = iy < 0 ? (-iy + \(DH - 1)) / \(DH) : 0
                        let ky1 = Swift.max(ky0, Swift.min(\(KH), \(H) - iy <= 0 ? 0 : (\(H) - iy + \(DH - 1)) / \(DH)))
                        let row = iy * \(rowStride)
                        let orow = out + oy * \(OW * channelBlock)

            """
        if residual { s += "            let rrow = res + oy * \(OW * channelBlock)\n" }
        // The row's strips of P pixels, then those of P − 1, then the edge columns one by one.
        var start = left
        for (pixels, count) in [(P, full), (P - 1, short)] where count > 0 {
            s += "            for ox in stride(from: \(start), to: \(start + count * pixels), by: \(pixels)) { \(callAt(pixels, "ox", 0, KW)) }\n"
            start += count * pixels
        }
        for edge in d.edges {
            s += "            \(callAt(1, "\(edge.x)", edge.firstTap, edge.endTap))\n"
        }
        s += "        }\n    }\n}\n"
        let call = call(fn, step, tasks: "batch * \(g.KBG * bands)", res: residual ? readPointer(step.inputs[1]) : "nil",
                        w: weight(conv.weight), bias: weight(conv.bias))
        return (s, call)
    }
}
