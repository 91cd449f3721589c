import ShapeCheck

// The fast C backend's depthwise convolutions on blocked values:
//
//   out[n][ob][oy][ox][16] = bias[ob] + Σ_{ky,kx} w[ob][ky][kx][16] · in[n][ib][iy + ky·DH][ix + kx·DW][16]
//
// with ib = ob (multiplier 1) or a gathered copy of the lanes o / m (multiplier m), iy, ix the
// window's corner. No reduction over channels: every FMA is a whole vector, and a strip of
// pixels shares each tap's weight vector (and, at stride 1, the inputs its neighbours read).

extension FastCEmitter {
    func depthwiseConvolution(_ fn: String, _ step: PlanStep, _ d: DepthwiseConvolution, _ conv: ConvolutionKernel) -> (String, String) {
        let g = DepthwiseGeometry(plan, step, d, conv)
        let H = g.H, W = g.W, K = g.K, OH = g.OH, KH = g.KH, KW = g.KW, SH = g.SH, SW = g.SW
        let DH = g.DH, DW = g.DW, PT = g.PT, PL = g.PL, CB = g.CB, KB = g.KB, plane = g.plane, OBS = g.OBS
        let S = g.S, m = g.m, bias = g.bias, rowStep = g.rowStep, left = g.left, full = g.full
        let rest = g.rest, restStart = g.restStart, unrolled = g.unrolled, edgeTaps = g.edgeTaps
        // Edge columns, each a one-pixel strip over the taps that fall inside, unrolled; past
        // `DepthwiseGeometry.unrolledEdges` (wide dilations) one pixel at a time from a table,
        // taps in a loop.
        let singles = unrolled ? [] : d.edges.map { ($0.x, $0.firstTap, $0.endTap) }

        var s = "/* depthwise convolution, 16 channels x \(S) pixels per call"
        s += m > 1 ? ", multiplier \(m) (input lanes gathered per task) */\n" : " */\n"
        func strip(_ name: String, _ pixels: Int, columns: Range<Int>? = nil) -> String {
            depthwiseStrip(name, pixels: pixels, taps: (KH, KW), columns: columns ?? 0..<KW, pixelStep: SW * channelBlock,
                           tapStep: DW * channelBlock, rowStep: rowStep, bias: bias, activation: step.activation) + "\n"
        }
        if full > 0 { s += strip("\(fn)_r\(S)", S) }
        if rest > 0 { s += strip("\(fn)_r\(rest)", rest) }
        for (k, taps) in edgeTaps.enumerated() { s += strip("\(fn)_e\(k)", 1, columns: taps) }
        if !singles.isEmpty {
            var c = CWriter()
            c.function("static void \(fn)_r1(float *restrict out, const float *restrict x, const float *restrict w,\n"
                       + "    const float *restrict bias, int ky0, int ky1, int kx0, int kx1)") { c in
                c.line("cv16 v = \(bias ? "cv_load(bias)" : "cv_zero()");")
                c.line("int ky, kx;")
                if !bias { c.line("(void)bias;") }
                c.scope("for (ky = ky0; ky < ky1; ky++)") { c in
                    c.line("for (kx = kx0; kx < kx1; kx++)")
                    c.line("    v = cv_fma(cv_load(x + (ptrdiff_t)ky * \(rowStep) + kx * \(DW * channelBlock)), cv_load(w + (ky * \(KW) + kx) * 16), v);")
                }
                c.line(epilogue(step.activation))
                c.line("cv_store(out, v);")
            }
            s += c.text + "\n"
            s += "static const int \(fn)_singles[\(singles.count)][3] = { "
                + singles.map { "{ \($0.0), \($0.1), \($0.2) }" }.joined(separator: ", ") + " };\n\n"
        }
        let bands = d.bands
        s += taskFunction(fn, integers: ["oy", "ox", "e"], usesScratch: m > 1) { c in
            c.line("""
                const int plane = t / \(bands), band = t % \(bands);    /* plane = image x \(KB) channel blocks */
                const int n = plane / \(KB), ob = plane % \(KB);
                const int oy0 = band * \(OH) / \(bands), oy1 = (band + 1) * \(OH) / \(bands);
                const float *wt = a->w + (size_t)ob * \(KH * KW * channelBlock);
                const float *bias = \(bias ? "a->bias + ob * 16" : "NULL");
                float *out = a->out + (size_t)plane * \(OBS);
                """)
            if m == 1 {
                c.line("const float *in = a->in + (size_t)n * \(CB * plane) + (size_t)ob * \(plane);")
            } else {
                // Only the rows the band's taps read: [r0, r1).
                c.line("""
                    const float *src = a->in + (size_t)n * \(CB * plane);
                    const int r0 = oy0 * \(SH) - \(PT) > 0 ? oy0 * \(SH) - \(PT) : 0;
                    const int r1 = (oy1 - 1) * \(SH) - \(PT) + \(KH - 1) * \(DH) + 1 < \(H) ? (oy1 - 1) * \(SH) - \(PT) + \(KH - 1) * \(DH) + 1 : \(H);
                    float *const in = scratch;
                    int l, p;
                    for (l = 0; l < 16; l++) {
                        const int o = ob * 16 + l, ci = o / \(m);
                        const float *lane = src + (size_t)(ci / 16) * \(plane) + ci % 16;
                        if (o < \(K)) { for (p = r0 * \(W); p < r1 * \(W); p++) in[(size_t)p * 16 + l] = lane[(size_t)p * 16]; }
                        else { for (p = r0 * \(W); p < r1 * \(W); p++) in[(size_t)p * 16 + l] = 0.0f; }
                    }
                    """)
            }
            c.line("(void)ox; (void)e;")
            c.scope("for (oy = oy0; oy < oy1; oy++)") { c in
                c.line(Self.rowTaps(conv, padTop: PT, inputHeight: H, rowStride: W * channelBlock))
                if full > 0 {
                    c.line("for (ox = \(left); ox < \(left + full * S); ox += \(S))")
                    c.line("    \(fn)_r\(S)(orow + ox * 16, in + row + (ptrdiff_t)(ox * \(SW) - \(PL)) * 16, wt, bias, ky0, ky1);")
                }
                if rest > 0 {
                    c.line("\(fn)_r\(rest)(orow + \(restStart * 16), in + row + (ptrdiff_t)\(restStart * SW - PL) * 16, wt, bias, ky0, ky1);")
                }
                for edge in unrolled ? d.edges : [] {
                    let k = edgeTaps.firstIndex(of: edge.firstTap..<edge.endTap)!
                    c.line("\(fn)_e\(k)(orow + \(edge.x * 16), in + row + (ptrdiff_t)\(edge.x * SW - PL) * 16, wt, bias, ky0, ky1);")
                }
                if !singles.isEmpty {
                    c.scope("for (e = 0; e < \(singles.count); e++)") { c in
                        c.line("""
                            const int x = \(fn)_singles[e][0];
                            \(fn)_r1(orow + x * 16, in + row + (ptrdiff_t)(x * \(SW) - \(PL)) * 16, wt, bias, ky0, ky1, \(fn)_singles[e][1], \(fn)_singles[e][2]);
                            """)
                    }
                }
            }
        }
        return (s + "\n", call(fn, step, tasks: "batch * \(KB * bands)", w: weight(conv.weight), bias: weight(conv.bias)))
    }

    /// `pixels` output pixels of one row, every filter column unrolled: a tap's weight vector
    /// is loaded once for the strip, and at stride 1 the compiler shares the inputs that
    /// neighbouring pixels read at neighbouring taps.
    /// An edge column is a strip of one pixel over `columns`, the filter columns inside the input.
    /// With `rowTable` the filter rows' input rows are `rows[ky] + off` (a fused block's ring
    /// of expanded rows) rather than `rowStep` floats apart from `x`.
    func depthwiseStrip(_ name: String, pixels: Int, taps: (height: Int, width: Int), columns: Range<Int>, pixelStep: Int,
                        tapStep: Int, rowStep: Int, bias: Bool, activation: Activation?, rowTable: Bool = false) -> String {
        let accumulators = (0..<pixels).map { "a\($0)" }
        var c = CWriter()
        let input = rowTable ? "const float *const *restrict rows, ptrdiff_t off" : "const float *restrict x"
        c.function("static void \(name)(float *restrict out, \(input), const float *restrict w,\n"
                   + "    const float *restrict bias, int ky0, int ky1)") { c in
            c.line("cv16 \(accumulators.joined(separator: ", "));")
            c.line("int ky;")
            startAccumulators(accumulators, bias: bias, &c)
            c.scope("for (ky = ky0; ky < ky1; ky++)") { c in
                let row = rowTable ? "rows[ky] + off" : "x + (ptrdiff_t)ky * \(rowStep)"
                c.line("const float *xr = \(row), *wr = w + ky * \(taps.width * channelBlock);")
                if !columns.isEmpty { c.line("cv16 k;") } else { c.line("(void)xr; (void)wr;") }
                for kx in columns {
                    c.line("k = cv_load(wr + \(kx * channelBlock));")
                    c.line((0..<pixels).map { "a\($0) = cv_fma(cv_load(xr + \($0 * pixelStep + kx * tapStep)), k, a\($0));" }
                        .joined(separator: " "))
                }
            }
            for a in accumulators {
                let text = vectorActivation(activation, a)
                if !text.isEmpty { c.line(String(text.drop { $0 == " " })) }
                c.line("cv_store(out + \(Int(a.dropFirst())! * channelBlock), \(a));")
            }
        }
        return c.text
    }
}
