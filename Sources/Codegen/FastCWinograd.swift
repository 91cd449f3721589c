import ShapeCheck

// The fast C backend's Winograd convolutions: input transform, GEMM micro-kernels, output
// transform, and the per-tile direct fallback (WinogradFallback.swift) for non-finite results.

extension FastCEmitter {
    // MARK: Winograd

    /// C statements computing `outputs[i] = Σ_k m[i][k]·inputs[k]` for a constant matrix.
    func linearCombination(_ m: [[Double]], inputs: [String], outputs: [String]) -> String {
        var lines: [String] = []
        for (i, row) in m.enumerated() {
            var expression: String?
            for (k, c) in row.enumerated() where c != 0 {
                let term: String
                if c == 1 || c == -1 { term = inputs[k] } else { term = "cv_mul(cv_set1(\(cFloat(Float(abs(c))))), \(inputs[k]))" }
                if let e = expression {
                    expression = c > 0 ? "cv_add(\(e), \(term))" : "cv_sub(\(e), \(term))"
                } else {
                    expression = c > 0 ? term : "cv_sub(cv_zero(), \(term))"
                }
            }
            lines.append("\(outputs[i]) = \(expression ?? "cv_zero()");")
        }
        return lines.joined(separator: " ")
    }

    func winogradConvolution(_ fn: String, _ step: PlanStep, _ wg: WinogradConvolution, _ conv: ConvolutionKernel) -> (String, String) {
        let g = WinogradGeometry(step, wg, conv)
        let H = g.H, W = g.W, PT = g.PT, PL = g.PL, m = g.m, r = g.r, T2 = g.T2
        let CB = g.CB, NB = g.NB, KBG = g.KBG, TX = g.TX, tilesPerImage = g.tilesPerImage, TG = g.TG
        let imageIn = g.imageIn, OBS = g.OBS, imageOut = g.imageOut, residual = g.residual, vSize = g.vSize, R = g.R
        func gemm(_ strip: Int) -> MicroKernel { g.gemm("\(fn)_g\(strip)", strip: strip) }
        let strips = g.strips

        var s = "/* Winograd F(\(m)x\(m), \(r)x\(r)), \(TG) tiles per group */\n"
        for strip in strips { s += microKernel(gemm(strip)) + "\n" }

        s += winogradInputTransform(fn, wg, conv, CB: CB) + "\n"
        s += winogradOutputTransform(fn, step, wg, conv) + "\n"
        s += winogradFallback(fn, step, wg, conv) + "\n\n"

        // A tile of the group and each of its output blocks (for the output transform and its fallback).
        func eachOutputBlock(_ c: inout CWriter, _ body: (inout CWriter) -> Void) {
            c.line("const int gt = first + tile, n = gt / \(tilesPerImage), ty = (gt % \(tilesPerImage)) / \(TX), tx = gt % \(TX);")
            c.scope("for (j = 0; j < \(NB); j++)") { c in
                c.line("const int kb = g * \(NB) + j;")
                body(&c)
            }
        }
        let out = "a->out + (size_t)n * \(imageOut) + (size_t)kb * \(OBS)"
        let res = residual ? "a->res + (size_t)n * \(imageOut) + (size_t)kb * \(OBS)" : "NULL"
        let bias = conv.bias != nil ? "a->bias + kb * 16" : "NULL"
        var c = CWriter()
        c.function("static void \(fn)(const cnnc_args *a, int begin, int end, float *scratch)") { c in
            c.line("""
                float *const V = scratch;
                float *const M = scratch + \(vSize);
                const int total = a->batch * \(tilesPerImage);
                const int chunks = \(wg.chunks);
                int task;
                """)
            c.scope("for (task = begin; task < end; task++)") { c in
                c.line("""
                    /* a group of tiles, and a share of the output channel groups */
                    const int group = task / chunks, chunk = task % chunks;
                    const int g0 = chunk * \(KBG) / chunks, g1 = (chunk + 1) * \(KBG) / chunks;
                    const int first = group * \(TG);
                    const int count = total - first < \(TG) ? total - first : \(TG);
                    int tile, cb, g, xi, r, j;
                    cv16 bad[\(TG)], any;   /* per tile: 0, or NaN in a lane where a result is not finite */
                    for (tile = 0; tile < count; tile++) {
                        const int gt = first + tile, n = gt / \(tilesPerImage), ty = (gt % \(tilesPerImage)) / \(TX), tx = gt % \(TX);
                        for (cb = 0; cb < \(CB); cb++)
                            \(fn)_in(a->in + (size_t)n * \(imageIn) + (size_t)cb * \(H * W * channelBlock),
                                V + ((size_t)cb * \(TG) + (size_t)tile) * 16, ty * \(m) - \(PT), tx * \(m) - \(PL));
                    }
                    """)
                c.scope("for (g = g0; g < g1; g++)") { c in
                    c.line("/* M[xi][j][tile] = Σ_c U[xi][g][c][j] V[xi][c][tile] */")
                    c.scope("for (xi = 0; xi < \(T2); xi++)") { c in
                        c.line("""
                            const float *u = a->w + ((size_t)xi * \(KBG) + (size_t)g) * \(CB * channelBlock * NB * channelBlock);
                            const float *vx = V + (size_t)xi * \(CB * TG * channelBlock);
                            float *mx = M + (size_t)xi * \(NB * TG * channelBlock);
                            for (r = 0; r + \(R) <= count; r += \(R)) \(fn)_g\(R)(mx + r * 16, vx, r * 16, u, NULL, NULL, u, 0, 0, 0, 0);
                            """)
                        c.scope("switch (count - r)") { c in
                            for strip in strips where strip != R {
                                c.line("case \(strip): \(fn)_g\(strip)(mx + r * 16, vx, r * 16, u, NULL, NULL, u, 0, 0, 0, 0); break;")
                            }
                            c.line("default: break;")
                        }
                    }
                    c.line("any = cv_zero();")
                    c.scope("for (tile = 0; tile < count; tile++)") { c in
                        eachOutputBlock(&c) { c in
                            c.line("""
                                const cv16 f = \(fn)_out(M + ((size_t)j * \(TG) + (size_t)tile) * 16,
                                    \(out),
                                    \(res),
                                    \(bias), ty * \(m), tx * \(m));
                                bad[tile] = j ? cv_add(bad[tile], f) : f;
                                """)
                        }
                        c.line("any = cv_add(any, bad[tile]);")
                    }
                    c.line("/* a tile whose result is not finite again, as a direct convolution (WinogradFallback.swift) */")
                    c.scope("if (\(fn)_nonfinite(any))") { c in
                        c.scope("for (tile = 0; tile < count; tile++)") { c in
                            c.line("if (!\(fn)_nonfinite(bad[tile])) continue;")
                            eachOutputBlock(&c) { c in
                                c.line("""
                                    \(fn)_direct(a->in + (size_t)n * \(imageIn), a->w, \(out),
                                        \(res),
                                        \(bias), kb, ty * \(m), tx * \(m));
                                    """)
                            }
                        }
                    }
                }
            }
        }
        s += c.text + "\n"
        let groups = "(batch * \(tilesPerImage) + \(TG - 1)) / \(TG) * \(wg.chunks)"
        return (s, convolutionCall(fn, step, conv, tasks: groups))
    }

    /// `\(fn)_in`: V[xi] = (Bᵀ d B)[xi] for the t x t cells at (y0, x0) of one channel block
    /// (zero outside the input), in vectors, or as loops without CNNC_SIMD.
    func winogradInputTransform(_ fn: String, _ wg: WinogradConvolution, _ conv: ConvolutionKernel, CB: Int) -> String {
        let H = conv.input.height, W = conv.input.width
        let m = wg.tile, r = wg.taps, t = m + r - 1, T2 = t * t, TG = wg.tileGroup
        let bt = WinogradMatrices.bt(tile: m, taps: r)
        let d = (0..<T2).map { "d\($0)" }, u = (0..<T2).map { "u\($0)" }
        var c = CWriter()
        c.line("/* V[xi] = (Bᵀ d B)[xi] for the \(t)x\(t) cells at (y0, x0) of one channel block x (zero outside). */")
        c.function("static void \(fn)_in(const float *restrict x, float *restrict v, int y0, int x0)") { c in
            c.line("#if defined(CNNC_SIMD)")
            c.line("cv16 \(d.joined(separator: ", "));")
            c.line("cv16 \(u.joined(separator: ", "));")
            c.ifElse("y0 >= 0 && x0 >= 0 && y0 + \(t) <= \(H) && x0 + \(t) <= \(W)") { c in
                c.line("const float *x0p = x + ((size_t)y0 * \(W) + (size_t)x0) * 16;")
                for i in 0..<t { c.line((0..<t).map { "d\(i * t + $0) = cv_load(x0p + \((i * W + $0) * channelBlock));" }.joined(separator: " ")) }
            } else: { c in
                c.line("""
                    cv16 cells[\(T2)];
                    int i, j;
                    for (i = 0; i < \(t); i++) {
                        for (j = 0; j < \(t); j++) {
                            const int yy = y0 + i, xx = x0 + j;
                            cells[i * \(t) + j] = yy >= 0 && yy < \(H) && xx >= 0 && xx < \(W)
                                ? cv_load(x + ((size_t)yy * \(W) + (size_t)xx) * 16) : cv_zero();
                        }
                    }
                    """)
                c.line((0..<T2).map { "d\($0) = cells[\($0)];" }.joined(separator: " "))
            }
            for j in 0..<t { c.line(linearCombination(bt, inputs: (0..<t).map { d[$0 * t + j] }, outputs: (0..<t).map { u[$0 * t + j] })) }
            for i in 0..<t { c.line(linearCombination(bt, inputs: (0..<t).map { u[i * t + $0] }, outputs: (0..<t).map { d[i * t + $0] })) }
            c.line((0..<T2).map { "cv_store(v + \($0 * CB * TG * channelBlock), d\($0));" }.joined(separator: " "))
            c.line("#else")
            c.line("""
                static const float bt[\(t)][\(t)] = { \(matrixText(bt)) };
                float dd[\(t)][\(t)][16], uu[\(t)][\(t)][16];
                int i, j, k, l;
                for (i = 0; i < \(t); i++) {
                    for (j = 0; j < \(t); j++) {
                        const int yy = y0 + i, xx = x0 + j;
                        for (l = 0; l < 16; l++)
                            dd[i][j][l] = yy >= 0 && yy < \(H) && xx >= 0 && xx < \(W) ? x[((size_t)yy * \(W) + (size_t)xx) * 16 + l] : 0.0f;
                    }
                }
                for (i = 0; i < \(t); i++) for (j = 0; j < \(t); j++) for (l = 0; l < 16; l++) {
                    float sum = 0.0f;
                    for (k = 0; k < \(t); k++) sum += bt[i][k] * dd[k][j][l];
                    uu[i][j][l] = sum;
                }
                for (i = 0; i < \(t); i++) for (j = 0; j < \(t); j++) for (l = 0; l < 16; l++) {
                    float sum = 0.0f;
                    for (k = 0; k < \(t); k++) sum += uu[i][k][l] * bt[j][k];
                    v[(size_t)(i * \(t) + j) * \(CB * TG * channelBlock) + l] = sum;
                }
                """)
            c.line("#endif")
        }
        return c.text
    }

    /// `\(fn)_out`: out = act(Aᵀ M A + bias + residual) for the m x m outputs of one tile and
    /// one output block; returns 0 in each lane, or NaN where a sum is not finite.
    func winogradOutputTransform(_ fn: String, _ step: PlanStep, _ wg: WinogradConvolution, _ conv: ConvolutionKernel) -> String {
        let OH = conv.output.height, OW = conv.output.width
        let m = wg.tile, r = wg.taps, t = m + r - 1, T2 = t * t, TG = wg.tileGroup, NB = wg.outputBlocks
        let at = WinogradMatrices.at(tile: m, taps: r)
        let d = (0..<T2).map { "d\($0)" }, p = (0..<(m * t)).map { "p\($0)" }, y = (0..<(m * m)).map { "y\($0)" }
        var c = CWriter()
        c.line("""
            /* out = act(Aᵀ M A + bias + residual) for the \(m)x\(m) outputs at (oy0, ox0) of one output block;
               returns 0 in each lane, or NaN where the sum of its Aᵀ M A + bias is not finite (the caller then redoes the tile). */
            """)
        c.function("static cv16 \(fn)_out(const float *restrict mm, float *restrict o, const float *restrict rs,\n                          const float *restrict bias, int oy0, int ox0)") { c in
            c.line("#if defined(CNNC_SIMD)")
            c.line("""
                const cv16 b = bias ? cv_load(bias) : cv_zero();
                cv16 \(d.joined(separator: ", "));
                cv16 \(p.joined(separator: ", "));
                cv16 \(y.joined(separator: ", "));
                cv16 ys[\(m * m)], bad;
                int i, j;

                """)
            c.line((0..<T2).map { "d\($0) = cv_load(mm + \($0 * NB * TG * channelBlock));" }.joined(separator: " "))
            for j in 0..<t { c.line(linearCombination(at, inputs: (0..<t).map { d[$0 * t + j] }, outputs: (0..<m).map { p[$0 * t + j] })) }
            for i in 0..<m { c.line(linearCombination(at, inputs: (0..<t).map { p[i * t + $0] }, outputs: (0..<m).map { y[i * m + $0] })) }
            c.line((0..<(m * m)).map { "ys[\($0)] = y\($0);" }.joined(separator: " "))
            c.line("bad = cv_zero();")
            c.scope("for (i = 0; i < \(m) && oy0 + i < \(OH); i++)") { c in
                c.scope("for (j = 0; j < \(m) && ox0 + j < \(OW); j++)") { c in
                    c.line("""
                        const size_t at = ((size_t)(oy0 + i) * \(OW) + (size_t)(ox0 + j)) * 16;
                        cv16 v = cv_add(ys[i * \(m) + j], b);
                        bad = cv_add(bad, v);
                        if (rs) v = cv_add(v, cv_load(rs + at));
                        """)
                    c.line(epilogue(step.activation))
                    c.line("cv_store(o + at, v);")
                }
            }
            c.line("return cv_mul(bad, cv_zero());   /* 0, or NaN where a sum was not finite */")
            c.line("#else")
            c.line("""
                static const float at_[\(m)][\(t)] = { \(matrixText(at)) };
                float pp[\(m)][\(t)][16], bad = 0.0f;
                int i, j, k, l;
                for (i = 0; i < \(m); i++) for (j = 0; j < \(t); j++) for (l = 0; l < 16; l++) {
                    float sum = 0.0f;
                    for (k = 0; k < \(t); k++) sum += at_[i][k] * mm[(size_t)(k * \(t) + j) * \(NB * TG * channelBlock) + l];
                    pp[i][j][l] = sum;
                }
                for (i = 0; i < \(m) && oy0 + i < \(OH); i++) {
                    for (j = 0; j < \(m) && ox0 + j < \(OW); j++) {
                        const size_t at = ((size_t)(oy0 + i) * \(OW) + (size_t)(ox0 + j)) * 16;
                        for (l = 0; l < 16; l++) {
                            float v = bias ? bias[l] : 0.0f;
                            for (k = 0; k < \(t); k++) v += pp[i][k][l] * at_[j][k];
                            bad += v * 0.0f;
                            if (rs) v += rs[at + l];
                """)
            c.indented { c in c.indented { c in c.indented { c in
                if let activation = step.activation, activation != .softmax { c.line("v = \(scalarActivation(activation, "v"));") }
                c.line("o[at + l] = v;")
            } } }
            c.line("""
                        }
                    }
                }
                return cv_set1(bad);
                """)
            c.line("#endif")
        }
        return c.text
    }

    /// A constant matrix as C initialisers: `{ 1.0f, 0.0f }, { … }`.
    func matrixText(_ m: [[Double]]) -> String {
        m.map { "{ " + $0.map { cFloat(Float($0)) }.joined(separator: ", ") + " }" }.joined(separator: ", ")
    }
}
