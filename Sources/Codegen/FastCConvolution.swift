import ShapeCheck

// The fast C backend's direct convolutions: row strips with edge columns, strips across rows,
// strips of whole rows, and the paired kernel of a planar first layer with few filters.

extension FastCEmitter {
    // MARK: direct convolution

    func directConvolution(_ fn: String, _ step: PlanStep, _ d: DirectConvolution, _ conv: ConvolutionKernel) -> (String, String) {
        let g = DirectGeometry(plan, step, d, conv)
        let OH = g.OH, OW = g.OW, KW = g.KW, SW = g.SW, PL = g.PL, PT = g.PT, H = g.H
        let CB = g.CB, NB = g.NB, CBC = g.CBC, pixelStride = g.pixelStride, rowStride = g.rowStride
        let sweepRows = d.sweepRows ?? OH

        // Output columns whose every tap is inside the input: [left, right).
        let left = d.interior.lowerBound
        let interior = d.interior.count
        let runs = DirectConvolution.stripRuns(width: interior, strip: min(d.strip, interior))
        let edges = d.edges.map { ($0.x, $0.firstTap, $0.endTap) }

        func kernel(_ strip: Int) -> MicroKernel { g.microKernel("\(fn)_r\(strip)", strip: strip, d, activation: step.activation) }
        // A grouped convolution's output group g starts reading at its first input block.
        let groupTable = d.grouped.map { "static const int \(fn)_first[\($0.firstBlocks.count)] = { \($0.firstBlocks.map(String.init).joined(separator: ", ")) };\n\n" } ?? ""
        let firstBlock = d.grouped == nil ? "" : " + (size_t)\(fn)_first[g] * \(g.blockStride)"
        switch d.variant {
        case .paired:
            return pairedConvolution(fn, step, d, conv, g)
        case .flat:
            let (text, call) = flatConvolution(fn, step, d, conv, g, kernel: kernel, firstBlock: firstBlock)
            return (groupTable + text, call)
        case .wholeRows:
            let (text, call) = multiRowConvolution(fn, step, d, conv, g, kernel: kernel, firstBlock: firstBlock)
            return (groupTable + text, call)
        case .rowStrips:
            break
        }
        var strips = Set(runs.map(\.pixels))
        if !edges.isEmpty { strips.insert(1) }

        let bands = d.bands
        var s = groupTable + "/* direct convolution, \(NB * channelBlock) output channels x \(runs.first?.pixels ?? 1) pixels per micro-kernel call */\n"
        for strip in strips.sorted() { s += microKernel(kernel(strip)) + "\n" }
        if !edges.isEmpty {
            s += "static const int \(fn)_edges[\(edges.count)][3] = { "
            s += edges.map { "{ \($0.0), \($0.1), \($0.2) }" }.joined(separator: ", ") + " };\n\n"
        }
        let chunkArguments = CBC < CB ? ", cb0, cb1" : ""
        s += convolutionTask(fn, g, bands: bands, range: "const int oy0 = band * \(OH) / \(bands), oy1 = (band + 1) * \(OH) / \(bands);",
                             firstBlock: firstBlock) { c in
            c.line("int oy, cb0, ys;")
            c.line("/* \(CBC == CB ? "all input channel blocks at once" : "\(CBC) input channel block(s) of weights at a time (an L1-sized slice) over \(sweepRows) rows at a time (their partial sums stay in L2)") */")
            c.scope("for (ys = oy0; ys < oy1; ys += \(sweepRows))") { c in
                c.line("const int ye = ys + \(sweepRows) < oy1 ? ys + \(sweepRows) : oy1;")
                c.scope("for (cb0 = 0; cb0 < \(CB); cb0 += \(CBC))") { c in
                    c.line("const int cb1 = cb0 + \(CBC) < \(CB) ? cb0 + \(CBC) : \(CB);")
                    c.line("(void)cb1;")
                    c.scope("for (oy = ys; oy < ye; oy++)") { c in
                        c.line(Self.rowTaps(conv, padTop: PT, inputHeight: H, rowStride: rowStride))
                        c.line("""
                            const float *rrow = res ? res + (size_t)oy * \(OW * channelBlock) : NULL;
                            int ox, e;
                            (void)ox; (void)e; (void)rrow;
                            """)
                        // The row's strips of P pixels, then those of P − 1.
                        var start = left
                        for (pixels, count) in runs {
                            c.line("""
                                for (ox = \(start); ox + \(pixels) <= \(start + count * pixels); ox += \(pixels))
                                    \(fn)_r\(pixels)(orow + ox * 16, in, row + (ptrdiff_t)(ox * \(SW) - \(PL)) * \(pixelStride), w, bias,
                                        rrow ? rrow + ox * 16 : NULL, pf, ky0, ky1, 0, \(KW)\(chunkArguments));
                                """)
                            start += count * pixels
                        }
                        if !edges.isEmpty {
                            c.scope("for (e = 0; e < \(edges.count); e++)") { c in
                                c.line("""
                                    const int x = \(fn)_edges[e][0];
                                    \(fn)_r1(orow + x * 16, in, row + (ptrdiff_t)(x * \(SW) - \(PL)) * \(pixelStride), w, bias,
                                        rrow ? rrow + x * 16 : NULL, pf, ky0, ky1, \(fn)_edges[e][1], \(fn)_edges[e][2]\(chunkArguments));
                                    """)
                            }
                        }
                    }
                }
            }
        }
        return (s, convolutionCall(fn, step, conv, tasks: "batch * \(g.KBG * bands)"))
    }

    /// C for output row oy of `conv` in a direct convolution's row loop: its first input row
    /// iy (negative in the top padding `PT`, 0 on a zero-bordered copy), the filter rows
    /// [ky0, ky1) that fall inside the input's `H` rows, the input row's offset `row` and the
    /// output row `orow`.
    static func rowTaps(_ conv: ConvolutionKernel, padTop PT: Int, inputHeight H: Int, rowStride: Int) -> String {
        let SH = conv.window.strideHeight, DH = conv.window.dilationHeight
        return """
            const int iy = oy * \(SH) - \(PT);
            const int ky0 = iy < 0 ? (-iy + \(DH - 1)) / \(DH) : 0;
            int ky1 = \(H) - iy <= 0 ? 0 : (\(H) - iy + \(DH - 1)) / \(DH);
            const ptrdiff_t row = (ptrdiff_t)iy * \(rowStride);
            float *orow = out + (size_t)oy * \(conv.output.width * channelBlock);
            if (ky1 > \(conv.window.kernelHeight)) ky1 = \(conv.window.kernelHeight);
            if (ky1 < ky0) ky1 = ky0;
            """
    }

    /// C that points `w` at the group's weights times image n's channel scale: row c (one per
    /// input channel, `NB`·16 outputs wide) times s[c]. Rows past C stay unread (the
    /// micro-kernel reduces over the last block's real channels only).
    func scaleWeights(_ g: DirectGeometry, _ c: inout CWriter) {
        let width = g.NB * channelBlock
        c.scope("if (scaled != g * a->batch + n)") { c in
            c.line("""
                const float *const s = a->ins[0] + (size_t)n * \(g.CB * channelBlock);
                int ci, k;
                for (ci = 0; ci < \(g.C); ci++) {
                    const cv16 f = cv_set1(s[ci]);
                    for (k = 0; k < \(width); k += 16) cv_store(scratch + ci * \(width) + k, cv_mul(cv_load(w + ci * \(width) + k), f));
                }
                scaled = g * a->batch + n;
                """)
        }
        c.line("w = scratch;")
    }

    /// The call of a convolution's task function (direct, paired or Winograd) over `tasks`, on
    /// the pool's threads when the layer has enough multiply-adds to share; a second input is
    /// the residual its epilogue adds; a scaled input's channel scale is `ins[0]`.
    func convolutionCall(_ fn: String, _ step: PlanStep, _ conv: ConvolutionKernel, tasks: String) -> String {
        let res = step.residualInput.map(pointer) ?? "NULL", w = weight(conv.weight), bias = weight(conv.bias)
        guard let scale = step.channelScaleInput else { return call(fn, step, tasks: tasks, res: res, w: w, bias: bias) }
        return call(fn, step, tasks: tasks, res: res, list: "scale", [pointer(scale)], w: w, bias: bias)
    }

    /// A convolution's task function: task t is output channel group g (outermost, so a
    /// batch reuses each group's weights), image n and row band `band`; `range` declares the
    /// band's rows or pixels. Declares in, w, pf (the next group's weights, to prefetch),
    /// bias, out and res for `body`. A scaled input's task first scales its group's weights by
    /// its image's channel scale into the thread's scratch, unless the thread's previous task
    /// left that group and image there (a thread's tasks are consecutive).
    func convolutionTask(_ fn: String, _ g: DirectGeometry, bands: Int, range: String, firstBlock: String = "",
                         body: (inout CWriter) -> Void) -> String {
        taskFunction(fn, locals: g.scaled ? ["int scaled = -1;   /* the group and image whose weights the scratch holds */"] : [],
                     usesScratch: g.scaled) { c in
            c.line("""
                /* output channel group outermost, so a batch reuses each group's weights */
                const int g = t / (a->batch * \(bands)), n = (t / \(bands)) % a->batch, band = t % \(bands);
                \(range)
                const float *in = a->in + (size_t)n * \(g.imageIn)\(firstBlock);
                const float *w = a->w + (size_t)g * \(g.wGroup);
                const float *pf = g + 1 < \(g.KBG) ? w + \(g.wGroup) : w;   /* the next group's weights, to prefetch */
                """)
            if g.scaled { scaleWeights(g, &c) }
            c.line("""
                const float *bias = \(g.bias ? "a->bias + g * \(g.NB * channelBlock)" : "NULL");
                float *out = a->out + (size_t)n * \(g.imageOut) + (size_t)g * \(g.NB * g.OBS);
                const float *res = \(g.residual ? "a->res + (size_t)n * \(g.imageOut) + (size_t)g * \(g.NB * g.OBS)" : "NULL");
                """)
            body(&c)
        }
    }

    /// A convolution without edge columns whose strips of `d.strip` pixels run over the band
    /// in row-major order, across row ends (a row of 13 takes 6, 6 and 1 pixels with the next
    /// row's first 5): every call but a band's last keeps the full set of accumulators.
    func flatConvolution(_ fn: String, _ step: PlanStep, _ d: DirectConvolution, _ conv: ConvolutionKernel, _ g: DirectGeometry,
                         kernel: (Int) -> MicroKernel, firstBlock: String) -> (String, String) {
        let OH = g.OH, OW = g.OW, SH = g.SH, SW = g.SW, KH = g.KH, KW = g.KW, H = g.H
        let CB = g.CB, CBC = g.CBC, NB = g.NB, rowStride = g.rowStride, pixelStride = g.pixelStride, wGroup = g.wGroup
        let R = d.strip
        let residual = g.residual
        let bands = d.bands
        let chunkArguments = CBC < CB ? ", cb0, cb1" : ""
        let sweepPixels = d.flatSweepPixels(outputHeight: OH, outputWidth: OW)
        let prefetch = CBC < CB
            ? nextSlicePrefetch(inputHeight: H, rowStride: rowStride, blockStride: H * rowStride, blockWeights: wGroup / CB, CB: CB, CBC: CBC,
                                firstRow: "ps / \(OW) * \(SH)", lastRow: "(pe - 1) / \(OW) * \(SH) + \(KH)", calls: "(pe - ps + \(R - 1)) / \(R)")
            : nil
        var s = "/* direct convolution, \(NB * channelBlock) output channels x \(R) pixels per micro-kernel call, strips running on across rows */\n"
        for strip in 1...R {
            var k = kernel(strip)
            k.name = "\(fn)_f\(strip)"
            k.flat = true
            s += microKernel(k) + "\n"
        }
        s += convolutionTask(fn, g, bands: bands, range: "const int p0 = band * \(OH) / \(bands) * \(OW), p1 = (band + 1) * \(OH) / \(bands) * \(OW);",
                             firstBlock: firstBlock) { c in
            c.line("""
                ptrdiff_t po[\(R)];
                int p, r, cb0, ps;
                (void)res;
                /* \(sweepPixels) pixels at a time, so that their partial sums stay in L2 */
                """)
            c.scope("for (ps = p0; ps < p1; ps += \(sweepPixels))") { c in
                c.line("const int pe = ps + \(sweepPixels) < p1 ? ps + \(sweepPixels) : p1;")
                c.scope("for (cb0 = 0; cb0 < \(CB); cb0 += \(CBC))") { c in
                    c.line("const int cb1 = cb0 + \(CBC) < \(CB) ? cb0 + \(CBC) : \(CB);")
                    if let prefetch { c.line(prefetch.setup) }
                    c.line("(void)cb1;")
                    c.scope("for (p = ps; p < pe; p += \(R))") { c in
                        c.line("const int count = pe - p < \(R) ? pe - p : \(R);")
                        if let prefetch { c.line(prefetch.step) }
                        c.line("""
                            for (r = 0; r < count; r++)
                                po[r] = (ptrdiff_t)((p + r) / \(OW)) * \(SH * rowStride) + (ptrdiff_t)((p + r) % \(OW)) * \(SW * pixelStride);
                            """)
                        c.scope("switch (count)") { c in
                            for strip in stride(from: R, through: 1, by: -1) {
                                c.line("case \(strip): \(fn)_f\(strip)(out + (size_t)p * 16, in, 0, w, bias, "
                                    + "\(residual ? "res + (size_t)p * 16" : "NULL"), pf, 0, \(KH), 0, \(KW)\(chunkArguments), po); break;")
                            }
                            c.line("default: break;")
                        }
                    }
                }
            }
        }
        return (s, convolutionCall(fn, step, conv, tasks: "batch * \(g.KBG * bands)"))
    }

    /// C that fetches the next slice of a sliced convolution while this one computes: its
    /// weights (contiguous, `blockWeights` floats an input block) and its input blocks' rows
    /// [firstRow, lastRow), a few cache lines before each of the sweep's `calls` micro-kernel
    /// calls, so a slice does not start by waiting for its weights from memory.
    func nextSlicePrefetch(inputHeight H: Int, rowStride: Int, blockStride: Int, blockWeights: Int,
                           CB: Int, CBC: Int, firstRow: String, lastRow: String, calls: String) -> (setup: String, step: String) {
        let setup = """
            /* the next slice's weights and input rows, fetched a few lines per call */
            const int nb0 = cb0 + \(CBC), nbn = nb0 >= \(CB) ? 0 : (nb0 + \(CBC) < \(CB) ? \(CBC) : \(CB) - nb0);
            const int r0_ = \(firstRow), r1_ = \(lastRow) < \(H) ? \(lastRow) : \(H);
            const float *nw = w + (size_t)(nbn ? nb0 : 0) * \(blockWeights), *ni = in + (size_t)(nbn ? nb0 : 0) * \(blockStride) + (size_t)r0_ * \(rowStride);
            const int wl = nbn * \(blockWeights / channelBlock), il = (r1_ - r0_) * \(rowStride / channelBlock), calls_ = \(calls);
            const int pw = (wl + calls_ - 1) / calls_, pi = (nbn * il + calls_ - 1) / calls_;
            int qw = 0, qb = 0, ql = 0;
            """
        let step = """
            { int j_; for (j_ = 0; j_ < pw && qw < wl; j_++, qw++) CNNC_PREFETCH(nw + (size_t)qw * 16);
              for (j_ = 0; j_ < pi && qb < nbn; j_++) { CNNC_PREFETCH(ni + (size_t)qb * \(blockStride) + (size_t)ql * 16); if (++ql == il) { ql = 0; qb++; } } }
            """
        return (setup, step)
    }

    /// A convolution without edge columns whose strips are `d.rows` whole output rows.
    func multiRowConvolution(_ fn: String, _ step: PlanStep, _ d: DirectConvolution, _ conv: ConvolutionKernel, _ g: DirectGeometry,
                             kernel: (Int) -> MicroKernel, firstBlock: String) -> (String, String) {
        let OH = g.OH, OW = g.OW, SH = g.SH, NB = g.NB, rowStride = g.rowStride
        let residual = g.residual
        precondition(g.PT == 0 || d.prepadded, "multi-row strips need every tap inside the input")
        let bands = d.bands
        var s = "/* direct convolution, \(NB * channelBlock) output channels x \(d.rows) rows of \(OW) pixels per micro-kernel call */\n"
        for rows in 1...d.rows {
            var k = kernel(rows * OW)
            k.name = "\(fn)_rows\(rows)"
            k.pixelRow = (OW, SH * rowStride)
            s += microKernel(k) + "\n"
        }
        let rest = "\(residual ? "res + (size_t)oy * \(OW * channelBlock)" : "NULL"), pf, 0, \(g.KH), 0, \(g.KW));"
        s += convolutionTask(fn, g, bands: bands, range: "const int oy0 = band * \(OH) / \(bands), oy1 = (band + 1) * \(OH) / \(bands);",
                             firstBlock: firstBlock) { c in
            c.line("""
                int oy = oy0;
                (void)res;
                for (; oy + \(d.rows) <= oy1; oy += \(d.rows))
                    \(fn)_rows\(d.rows)(out + (size_t)oy * \(OW * channelBlock), in, (ptrdiff_t)(oy * \(SH)) * \(rowStride), w, bias,
                        \(rest)
                """)
            c.scope("switch (oy1 - oy)") { c in
                for rows in 1..<d.rows {
                    c.line("case \(rows): \(fn)_rows\(rows)(out + (size_t)oy * \(OW * channelBlock), in, (ptrdiff_t)(oy * \(SH)) * \(rowStride), w, bias, "
                        + rest + " break;")
                }
                c.line("default: break;")
            }
        }
        return (s, convolutionCall(fn, step, conv, tasks: "batch * \(g.KBG * bands)"))
    }

    /// A first layer with at most 8 filters, stride 1, planar input: register r holds the
    /// 8 channels of pixels 2r and 2r + 1 of the strip (weights and bias packed interleaved,
    /// PackedLayout.pairedConvolution), and the epilogue splits them into two blocked pixels.
    func pairedConvolution(_ fn: String, _ step: PlanStep, _ d: DirectConvolution, _ conv: ConvolutionKernel,
                           _ g: DirectGeometry) -> (String, String) {
        let C = g.C, OH = g.OH, OW = g.OW, KH = g.KH, KW = g.KW, DH = g.DH, DW = g.DW, PT = g.PT, H = g.H, CB = g.CB
        let imageIn = g.imageIn, blockStride = g.blockStride, channelStride = g.channelStride, rowStride = g.rowStride
        let imageOut = g.imageOut
        let pairsPerRow = OW / 2, R = min(d.strip, pairsPerRow)
        let full = pairsPerRow / R, remainder = pairsPerRow - full * R
        let bias = g.bias
        let residual = g.residual
        let channels = C - (CB - 1) * channelBlock == channelBlock ? "16" : (CB == 1 ? "\(C)" : "(cb == \(CB - 1) ? \(C - (CB - 1) * channelBlock) : 16)")
        func kernel(_ strip: Int) -> String {
            let accumulators = (0..<strip).map { "a\($0)" }
            var c = CWriter()
            c.function("static void \(fn)_p\(strip)(float *restrict out, const float *restrict in, ptrdiff_t off, const float *restrict w,\n"
                       + "    const float *restrict bias,\(residual ? " const float *restrict res," : "") int ky0, int ky1)") { c in
                c.line("cv16 \(accumulators.joined(separator: ", "));")
                c.line("int cb, ky, kx, ic;")
                startAccumulators(accumulators, bias: bias, &c)
                c.scope("for (cb = 0; cb < \(CB); cb++)") { c in
                    c.scope("for (ky = ky0; ky < ky1; ky++)") { c in
                        c.scope("for (kx = 0; kx < \(KW); kx++)") { c in
                            c.line("""
                                const float *restrict x = in + (off + (ptrdiff_t)cb * \(blockStride) + (ptrdiff_t)ky * \(DH * rowStride) + (ptrdiff_t)kx * \(DW));
                                const float *restrict wp = w + ((size_t)(cb * \(KH) + ky) * \(KW) + (size_t)kx) * 256;
                                """)
                            c.scope("for (ic = 0; ic < \(channels); ic++)") { c in
                                c.line("const float *restrict xi = x + ic * \(channelStride);")
                                c.line("const cv16 w0 = cv_load(wp + ic * 16);")
                                for r in 0..<strip { c.line("a\(r) = cv_fma(cv_bcast2(xi + \(2 * r)), w0, a\(r));") }
                            }
                        }
                    }
                }
                c.line("{")
                c.indented { c in
                    c.line("cv16 v;")
                    for r in 0..<strip where !residual {
                        c.line("v = a\(r);" + vectorActivation(step.activation) + " cv_store_pairs(out + \(2 * r * channelBlock), out + \((2 * r + 1) * channelBlock), v);")
                    }
                    // A fused residual is blocked, one pixel per 16 floats: split the pair first, then add it.
                    for r in 0..<strip where residual {
                        c.line("cv_store_pairs(out + \(2 * r * channelBlock), out + \((2 * r + 1) * channelBlock), a\(r));")
                        for p in [2 * r, 2 * r + 1] {
                            c.line("v = cv_add(cv_load(out + \(p * channelBlock)), cv_load(res + \(p * channelBlock)));" + vectorActivation(step.activation)
                                + " cv_store(out + \(p * channelBlock), v);")
                        }
                    }
                }
                c.line("}")
            }
            return c.text
        }
        var s = "/* direct convolution of a planar input, 8 channels x 2 pixels per register, \(R) pairs per call */\n"
        var strips = Set<Int>()
        if full > 0 { strips.insert(R) }
        if remainder > 0 { strips.insert(remainder) }
        for strip in strips.sorted() { s += kernel(strip) + "\n" }
        let bands = d.bands
        let res = { (ox: String) in residual ? " rrow + \(ox)," : "" }
        s += taskFunction(fn) { c in
            c.line("""
                const int n = t / \(bands), band = t % \(bands);
                const int oy0 = band * \(OH) / \(bands), oy1 = (band + 1) * \(OH) / \(bands);
                const float *in = a->in + (size_t)n * \(imageIn);
                float *out = a->out + (size_t)n * \(imageOut);
                int oy, ox;
                (void)ox;
                """)
            c.scope("for (oy = oy0; oy < oy1; oy++)") { c in
                c.line(Self.rowTaps(conv, padTop: PT, inputHeight: H, rowStride: rowStride))
                if residual { c.line("const float *rrow = a->res + (size_t)n * \(imageOut) + (size_t)oy * \(OW * channelBlock);") }
                if full > 0 {
                    c.line("for (ox = 0; ox + \(2 * R) <= \(2 * full * R); ox += \(2 * R)) \(fn)_p\(R)(orow + ox * 16, in, row + ox, a->w, \(bias ? "a->bias" : "NULL"),\(res("ox * 16")) ky0, ky1);")
                }
                if remainder > 0 {
                    c.line("\(fn)_p\(remainder)(orow + \(2 * full * R * channelBlock), in, row + \(2 * full * R), a->w, \(bias ? "a->bias" : "NULL"),\(res("\(2 * full * R * channelBlock)")) ky0, ky1);")
                }
            }
        }
        return (s, convolutionCall(fn, step, conv, tasks: "batch * \(bands)"))
    }
}
