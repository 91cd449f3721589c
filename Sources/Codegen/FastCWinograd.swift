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
        let C = conv.input.depth, H = conv.input.height, W = conv.input.width
        let K = conv.output.depth, OH = conv.output.height, OW = conv.output.width
        let PT = conv.window.padTop, PL = conv.window.padLeft
        let m = wg.tile, r = wg.taps, t = m + r - 1, T2 = t * t
        let CB = (C + channelBlock - 1) / channelBlock, KB = (K + channelBlock - 1) / channelBlock, NB = wg.outputBlocks, KBG = KB / NB
        let TX = (OW + m - 1) / m, TY = (OH + m - 1) / m, tilesPerImage = TX * TY
        let TG = wg.tileGroup
        let imageIn = CB * H * W * channelBlock, OBS = OH * OW * channelBlock, imageOut = KB * OBS
        let residual = step.inputs.count > 1
        // Scratch: V [t·t][CB][TG][16], then M [t·t][NB][TG][16].
        let vSize = T2 * CB * TG * channelBlock
        let bt = WinogradMatrices.bt(tile: m, taps: r), at = WinogradMatrices.at(tile: m, taps: r)
        let R = min(wg.tilesPerCall, TG)

        func gemm(_ strip: Int) -> MicroKernel {
            MicroKernel(name: "\(fn)_g\(strip)", strip: strip, blocks: NB, inputBlocks: CB, lastChannels: C - (CB - 1) * channelBlock,
                        blockStride: TG * channelBlock, channelStride: 1, pixelStride: channelBlock, rowStep: 0, columnStep: 0, taps: nil,
                        bias: false, residual: false, outputBlockStride: TG * channelBlock, activation: nil)
        }
        var strips = Set<Int>([R])
        // Groups hold TG tiles except possibly the last one of the batch.
        for count in 1...TG where count % R != 0 { strips.insert(count % R) }

        var s = "/* Winograd F(\(m)x\(m), \(r)x\(r)), \(TG) tiles per group */\n"
        for strip in strips.sorted() { s += microKernel(gemm(strip)) + "\n" }

        // Input transform of one tile and one channel block: d (t x t vectors) → V.
        let d = (0..<T2).map { "d\($0)" }, u = (0..<T2).map { "u\($0)" }
        var inputTransform = ""
        for j in 0..<t {
            inputTransform += "            " + linearCombination(bt, inputs: (0..<t).map { d[$0 * t + j] }, outputs: (0..<t).map { u[$0 * t + j] }) + "\n"
        }
        for i in 0..<t {
            inputTransform += "            " + linearCombination(bt, inputs: (0..<t).map { u[i * t + $0] }, outputs: (0..<t).map { d[i * t + $0] }) + "\n"
        }
        // Output transform: M (t x t vectors) → m x m.
        let p = (0..<(m * t)).map { "p\($0)" }, y = (0..<(m * m)).map { "y\($0)" }
        var outputTransform = ""
        for j in 0..<t {
            outputTransform += "                " + linearCombination(at, inputs: (0..<t).map { d[$0 * t + j] }, outputs: (0..<m).map { p[$0 * t + j] }) + "\n"
        }
        for i in 0..<m {
            outputTransform += "                " + linearCombination(at, inputs: (0..<t).map { p[i * t + $0] }, outputs: (0..<m).map { y[i * m + $0] }) + "\n"
        }

        // A tile of the group and each of its output blocks (for the output transform and its fallback).
        let outTile = """
                                const int gt = first + tile, n = gt / \(tilesPerImage), ty = (gt % \(tilesPerImage)) / \(TX), tx = gt % \(TX);
                                for (j = 0; j < \(NB); j++) {
                                    const int kb = g * \(NB) + j;
            """
        // The input transform of one tile of one channel block, and the output transform of
        // one tile of one output block, as functions (vector code, or loops without CNNC_SIMD).
        let matrixText = { (m: [[Double]]) in m.map { "{ " + $0.map { cFloat(Float($0)) }.joined(separator: ", ") + " }" }.joined(separator: ", ") }
        s += """
            /* V[xi] = (Bᵀ d B)[xi] for the \(t)x\(t) cells at (y0, x0) of one channel block x (zero outside). */
            static void \(fn)_in(const float *restrict x, float *restrict v, int y0, int x0)
            {
            #if defined(CNNC_SIMD)
                cv16 \(d.joined(separator: ", "));
                cv16 \(u.joined(separator: ", "));
                if (y0 >= 0 && x0 >= 0 && y0 + \(t) <= \(H) && x0 + \(t) <= \(W)) {
                    const float *x0p = x + ((size_t)y0 * \(W) + (size_t)x0) * 16;

            """
        for i in 0..<t {
            s += "        " + (0..<t).map { "d\(i * t + $0) = cv_load(x0p + \((i * W + $0) * channelBlock));" }.joined(separator: " ") + "\n"
        }
        s += """
                } else {
                    cv16 cells[\(T2)];
                    int i, j;
                    for (i = 0; i < \(t); i++) {
                        for (j = 0; j < \(t); j++) {
                            const int yy = y0 + i, xx = x0 + j;
                            cells[i * \(t) + j] = yy >= 0 && yy < \(H) && xx >= 0 && xx < \(W)
                                ? cv_load(x + ((size_t)yy * \(W) + (size_t)xx) * 16) : cv_zero();
                        }
                    }

            """
        s += "        " + (0..<T2).map { "d\($0) = cells[\($0)];" }.joined(separator: " ") + "\n"
        s += "    }\n"
        s += inputTransform.replacingOccurrences(of: "            ", with: "    ")
        s += "    " + (0..<T2).map { "cv_store(v + \($0 * CB * TG * channelBlock), d\($0));" }.joined(separator: " ") + "\n"
        s += """
            #else
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
            #endif
            }

            /* out = act(Aᵀ M A + bias + residual) for the \(m)x\(m) outputs at (oy0, ox0) of one output block;
               returns 0 in each lane, or NaN where the sum of its Aᵀ M A + bias is not finite (the caller then redoes the tile). */
            static cv16 \(fn)_out(const float *restrict mm, float *restrict o, const float *restrict rs,
                                      const float *restrict bias, int oy0, int ox0)
            {
            #if defined(CNNC_SIMD)
                const cv16 b = bias ? cv_load(bias) : cv_zero();
                cv16 \(d.joined(separator: ", "));
                cv16 \(p.joined(separator: ", "));
                cv16 \(y.joined(separator: ", "));
                cv16 ys[\(m * m)], bad;
                int i, j;

            """
        s += "    " + (0..<T2).map { "d\($0) = cv_load(mm + \($0 * NB * TG * channelBlock));" }.joined(separator: " ") + "\n"
        s += outputTransform.replacingOccurrences(of: "                ", with: "    ")
        s += "    " + (0..<(m * m)).map { "ys[\($0)] = y\($0);" }.joined(separator: " ") + "\n"
        s += "    bad = cv_zero();\n"
        s += """
                for (i = 0; i < \(m) && oy0 + i < \(OH); i++) {
                    for (j = 0; j < \(m) && ox0 + j < \(OW); j++) {
                        const size_t at = ((size_t)(oy0 + i) * \(OW) + (size_t)(ox0 + j)) * 16;
                        cv16 v = cv_add(ys[i * \(m) + j], b);
                        bad = cv_add(bad, v);
                        if (rs) v = cv_add(v, cv_load(rs + at));
                       \(vectorActivation(step.activation))
                        cv_store(o + at, v);
                    }
                }
                return cv_mul(bad, cv_zero());   /* 0, or NaN where a sum was not finite */
            #else
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
                            \(step.activation.map { $0 == .softmax ? "" : "v = \(scalarActivation($0, "v"));" } ?? "")
                            o[at + l] = v;
                        }
                    }
                }
                return cv_set1(bad);
            #endif
            }

            \(winogradFallback(fn, step, wg, conv))

            static void \(fn)(const cnnc_args *a, int begin, int end, float *scratch)
            {
                float *const V = scratch;
                float *const M = scratch + \(vSize);
                const int total = a->batch * \(tilesPerImage);
                const int chunks = \(wg.chunks);
                int task;
                for (task = begin; task < end; task++) {
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
                    for (g = g0; g < g1; g++) {
                        /* M[xi][j][tile] = Σ_c U[xi][g][c][j] V[xi][c][tile] */
                        for (xi = 0; xi < \(T2); xi++) {
                            const float *u = a->w + ((size_t)xi * \(KBG) + (size_t)g) * \(CB * channelBlock * NB * channelBlock);
                            const float *vx = V + (size_t)xi * \(CB * TG * channelBlock);
                            float *mx = M + (size_t)xi * \(NB * TG * channelBlock);
                            for (r = 0; r + \(R) <= count; r += \(R)) \(fn)_g\(R)(mx + r * 16, vx, r * 16, u, NULL, NULL, u, 0, 0, 0, 0);
                            switch (count - r) {

            """
        for strip in strips.sorted() where strip != R {
            s += "                case \(strip): \(fn)_g\(strip)(mx + r * 16, vx, r * 16, u, NULL, NULL, u, 0, 0, 0, 0); break;\n"
        }
        s += """
                            default: break;
                            }
                        }
                        any = cv_zero();
                        for (tile = 0; tile < count; tile++) {
            \(outTile)
                                const cv16 f = \(fn)_out(M + ((size_t)j * \(TG) + (size_t)tile) * 16,
                                    a->out + (size_t)n * \(imageOut) + (size_t)kb * \(OBS),
                                    \(residual ? "a->res + (size_t)n * \(imageOut) + (size_t)kb * \(OBS)" : "NULL"),
                                    \(conv.bias != nil ? "a->bias + kb * 16" : "NULL"), ty * \(m), tx * \(m));
                                bad[tile] = j ? cv_add(bad[tile], f) : f;
                            }
                            any = cv_add(any, bad[tile]);
                        }
                        /* a tile whose result is not finite again, as a direct convolution (WinogradFallback.swift) */
                        if (\(fn)_nonfinite(any)) {
                            for (tile = 0; tile < count; tile++) {
                                if (!\(fn)_nonfinite(bad[tile])) continue;
            \(outTile)
                                    \(fn)_direct(a->in + (size_t)n * \(imageIn), a->w, a->out + (size_t)n * \(imageOut) + (size_t)kb * \(OBS),
                                        \(residual ? "a->res + (size_t)n * \(imageOut) + (size_t)kb * \(OBS)" : "NULL"),
                                        \(conv.bias != nil ? "a->bias + kb * 16" : "NULL"), kb, ty * \(m), tx * \(m));
                                }
                            }
                        }
                    }
                }
            }

            """
        let groups = "(batch * \(tilesPerImage) + \(TG - 1)) / \(TG) * \(wg.chunks)"
        return (s, convolutionCall(fn, step, conv, tasks: groups))
    }
}
