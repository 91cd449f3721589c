import ShapeCheck

// The fast Swift kernels' depthwise convolution on blocked values, as the C's
// (FastCDepthwise.swift): one SIMD16<Float> of 16 channels per pixel, a strip of pixels sharing
// each tap's weight vector, the edge columns one pixel each over the taps inside the input, and
// for a multiplier m > 1 the input lanes o / m gathered into a per-thread plane first.

extension FastSwiftEmitter {
    func depthwiseConvolution(_ fn: String, _ step: PlanStep, _ d: DepthwiseConvolution, _ conv: ConvolutionKernel) -> (String, String) {
        let g = DepthwiseGeometry(plan, step, d, conv)
        let H = g.H, W = g.W, K = g.K, OH = g.OH, KH = g.KH, KW = g.KW, SH = g.SH, SW = g.SW
        let DH = g.DH, DW = g.DW, PT = g.PT, PL = g.PL, CB = g.CB, KB = g.KB, plane = g.plane, OBS = g.OBS
        let S = g.S, m = g.m, bias = g.bias, rowStep = g.rowStep, left = g.left, full = g.full
        let rest = g.rest, restStart = g.restStart, unrolled = g.unrolled, edgeTaps = g.edgeTaps

        var s = "/// depthwise convolution, 16 channels x \(S) pixels per call"
        s += m > 1 ? ", multiplier \(m) (input lanes gathered per task)\n" : "\n"
        func strip(_ name: String, _ pixels: Int, columns: Range<Int>) -> String {
            depthwiseStrip(name, pixels: pixels, kernelWidth: KW, columns: columns, pixelStep: SW * channelBlock,
                           tapStep: DW * channelBlock, rowStep: rowStep, bias: bias, activation: step.activation)
        }
        if full > 0 { s += strip("\(fn)_r\(S)", S, columns: 0..<KW) }
        if rest > 0 { s += strip("\(fn)_r\(rest)", rest, columns: 0..<KW) }
        for (k, taps) in edgeTaps.enumerated() { s += strip("\(fn)_e\(k)", 1, columns: taps) }
        if !unrolled && !d.edges.isEmpty {
            s += """
                @inline(__always)
                static func \(fn)_r1(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?, _ ky0: Int, _ ky1: Int, _ kx0: Int, _ kx1: Int) {
                    var v = \(bias ? "cv_load(bias!)" : "cv_zero()")
                    for ky in ky0..<ky1 {
                        for kx in kx0..<kx1 {
                            v = cv_fma(cv_load(x + (ky &* \(rowStep) &+ kx &* \(DW * channelBlock))), cv_load(w + (ky &* \(KW) &+ kx) &* 16), v)
                        }
                    }
                    cv_store(out, \(Self.vectorActivation(step.activation, "v")))
                }

                """
        }
        let bands = d.bands
        var body = """
            let plane = t / \(bands), band = t % \(bands)  // plane = image x \(KB) channel blocks
            let n = plane / \(KB), ob = plane % \(KB)
            let oy0 = band * \(OH) / \(bands), oy1 = (band + 1) * \(OH) / \(bands)
            let wt = a.w! + ob * \(KH * KW * channelBlock)
            let bias: UnsafePointer<Float>? = \(bias ? "a.bias! + ob * 16" : "nil")
            let out = a.out + plane * \(OBS)

            """
        if m == 1 {
            body += "let inp = a.inp + n * \(CB * plane) + ob * \(plane)\n"
        } else {
            // Only the rows the band's taps read: [r0, r1).
            body += """
                let src = a.inp + n * \(CB * plane)
                let r0 = Swift.max(oy0 * \(SH) - \(PT), 0)
                let r1 = Swift.min((oy1 - 1) * \(SH) - \(PT) + \(KH - 1) * \(DH) + 1, \(H))
                for l in 0..<16 {
                    let o = ob * 16 + l, ci = o / \(m)
                    if o < \(K) {
                        let lane = src + (ci / 16) * \(plane) + ci % 16
                        for p in stride(from: r0 * \(W), to: r1 * \(W), by: 1) { gathered[p &* 16 &+ l] = lane[p &* 16] }
                    } else {
                        for p in stride(from: r0 * \(W), to: r1 * \(W), by: 1) { gathered[p &* 16 &+ l] = 0 }
                    }
                }
                let inp = UnsafePointer(gathered)

                """
        }
        body += "for oy in oy0..<oy1 {\n" + indent(rowTaps(conv, padTop: PT, inputHeight: H, rowStride: W * channelBlock), 4)
        if full > 0 {
            body += "    for ox in stride(from: \(left), to: \(left + full * S), by: \(S)) { \(fn)_r\(S)(orow + ox * 16, inp + row + (ox * \(SW) - \(PL)) * 16, wt, bias, ky0, ky1) }\n"
        }
        if rest > 0 {
            body += "    \(fn)_r\(rest)(orow + \(restStart * 16), inp + row + \(restStart * SW - PL) * 16, wt, bias, ky0, ky1)\n"
        }
        for edge in d.edges {
            let x = "orow + \(edge.x * 16), inp + row + \(edge.x * SW - PL) * 16, wt, bias, ky0, ky1"
            if unrolled {
                body += "    \(fn)_e\(edgeTaps.firstIndex(of: edge.firstTap..<edge.endTap)!)(\(x))\n"
            } else {
                body += "    \(fn)_r1(\(x), \(edge.firstTap), \(edge.endTap))\n"
            }
        }
        body += "}\n"
        if m == 1 {
            s += taskFunction(fn, body)
        } else {
            // The gathered plane: per thread, for its whole share of the step's tasks.
            s += """
                static func \(fn)(_ a: cnnc_args, _ begin: Int, _ end: Int) {
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: \(plane)) { scratch in
                        let gathered = scratch.baseAddress!
                        for t in begin..<end {

                """
            s += indent(body, 12) + "        }\n    }\n}\n"
        }
        return (s, call(fn, step, tasks: "batch * \(KB * bands)", w: weight(conv.weight), bias: weight(conv.bias)))
    }

    /// `pixels` output pixels of one row over filter columns `columns` (all of them, or an edge
    /// column's taps inside the input), unrolled: each tap's weight vector loaded once per strip.
    func depthwiseStrip(_ name: String, pixels: Int, kernelWidth: Int, columns: Range<Int>, pixelStep: Int, tapStep: Int,
                        rowStep: Int, bias: Bool, activation: Activation?) -> String {
        let accumulators = (0..<pixels).map { "a\($0)" }
        var s = "@inline(__always)\n"
        s += "static func \(name)(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, "
            + "_ bias: UnsafePointer<Float>?, _ ky0: Int, _ ky1: Int) {\n"
        // An edge column with no tap inside the input only stores its bias.
        let binding = columns.isEmpty ? "let" : "var"
        if bias {
            s += "    let b = cv_load(bias!)\n"
            s += "    \(binding) " + accumulators.map { "\($0) = b" }.joined(separator: ", ") + "\n"
        } else {
            s += "    \(binding) " + accumulators.map { "\($0) = cv_zero()" }.joined(separator: ", ") + "\n"
        }
        if !columns.isEmpty {
            s += "    for ky in ky0..<ky1 {\n"
            s += "        let xr = x + ky &* \(rowStep), wr = w + ky &* \(kernelWidth * channelBlock)\n"
            for kx in columns {
                s += "        do { let k = cv_load(wr + \(kx * channelBlock)); "
                s += (0..<pixels).map { "a\($0) = cv_fma(cv_load(xr + \($0 * pixelStep + kx * tapStep)), k, a\($0))" }.joined(separator: "; ")
                s += " }\n"
            }
            s += "    }\n"
        }
        for (r, a) in accumulators.enumerated() {
            s += "    cv_store(out + \(r * channelBlock), \(Self.vectorActivation(activation, a)))\n"
        }
        return s + "}\n"
    }
}
