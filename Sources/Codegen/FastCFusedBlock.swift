import ShapeCheck

// The fast C backend's fused inverted residual (FusionPlanning.swift plans it):
//
//   x[n][xb][iy][ix][16]  = expand(in[n][.][iy][ix][.])          1x1, into a ring of rows
//   d[xb][ox][16]         = depthwise(x rows of output row oy)    one row of scratch
//   out[n][kb][oy][ox][16] = project(d[.][ox][.]) (+ res)         1x1, the block's output
//
// Each output row computes the expanded rows its depthwise window reaches that no earlier
// row of the task computed, into ring slot iy % span, so an expanded row is computed once per
// band and never leaves the thread's scratch (L2): mobilenet_v2's features.2 expands to
// 112x112x96, 4.8 MB an image, which the unfused steps write out and read back.
// The three kernels are the unfused steps' micro-kernels and depthwise strips with other
// strides; a task is a band of output rows, and consecutive bands of one image on one thread
// carry the ring over.

extension FastCEmitter {
    func invertedResidual(_ fn: String, _ step: PlanStep, _ f: InvertedResidual) -> (String, String) {
        guard case .directConvolution(let de) = f.expand.kernel, case .convolution(let ec)? = f.expand.layer?.kernel,
              case .depthwiseConvolution(let dd) = f.depthwise.kernel, case .convolution(let dc)? = f.depthwise.layer?.kernel,
              case .directConvolution(let dp) = f.project.kernel, case .convolution(let pc)? = f.project.layer?.kernel
        else { preconditionFailure("fused block \(step.name): its steps lost their convolutions") }
        let g = FusedBlockGeometry(plan, f)
        let eg = DirectGeometry(plan, f.expand, de, ec), pg = DirectGeometry(plan, f.project, dp, pc)
        let dg = DepthwiseGeometry(plan, f.depthwise, dd, dc)
        let H = g.H, W = g.W, OH = g.OH, OW = g.OW, span = g.span, XB = g.XB
        let KH = dg.KH, KW = dg.KW, SH = dg.SH, SW = dg.SW, DH = dg.DH, PT = dg.PT, PL = dg.PL
        let ringBlock = g.ringBlock
        let bands = f.bands

        // The expand writes ring blocks `ringBlock` apart; the projection reads the depthwise
        // row's blocks OW·16 apart.
        func expandKernel(_ strip: Int) -> MicroKernel {
            var k = eg.microKernel("\(fn)_x\(strip)", strip: strip, de, activation: f.expand.activation)
            k.outputBlockStride = ringBlock
            k.prefetch = false
            return k
        }
        func projectKernel(_ strip: Int) -> MicroKernel {
            var k = pg.microKernel("\(fn)_p\(strip)", strip: strip, dp, activation: f.project.activation)
            k.blockStride = OW * channelBlock
            k.prefetch = false
            return k
        }
        let expandRuns = DirectConvolution.stripRuns(width: W, strip: min(f.expandStrip, W))
        let projectRuns = DirectConvolution.stripRuns(width: OW, strip: min(f.projectStrip, OW))

        var s = "/* fused inverted residual: expand \(eg.NB * channelBlock)x\(expandRuns[0].pixels), depthwise 16x\(dg.S), "
        s += "project \(pg.NB * channelBlock)x\(projectRuns[0].pixels); a ring of \(span) expanded rows */\n"
        for strip in Set(expandRuns.map(\.pixels)).sorted() { s += microKernel(expandKernel(strip)) + "\n" }
        for strip in Set(projectRuns.map(\.pixels)).sorted() { s += microKernel(projectKernel(strip)) + "\n" }
        func strip(_ name: String, _ pixels: Int, columns: Range<Int>? = nil) -> String {
            depthwiseStrip(name, pixels: pixels, taps: (KH, KW), columns: columns ?? 0..<KW, pixelStep: SW * channelBlock,
                           tapStep: dg.DW * channelBlock, rowStep: 0, bias: dg.bias, activation: f.depthwise.activation,
                           rowTable: true) + "\n"
        }
        if dg.full > 0 { s += strip("\(fn)_d\(dg.S)", dg.S) }
        if dg.rest > 0 { s += strip("\(fn)_d\(dg.rest)", dg.rest) }
        for (k, taps) in dg.edgeTaps.enumerated() { s += strip("\(fn)_e\(k)", 1, columns: taps) }

        /// One loop per run of `runs` across a row, each calling `call(pixels)` at pixel `ox`.
        func rowCalls(_ runs: [(pixels: Int, count: Int)], _ c: inout CWriter, _ call: (_ pixels: Int) -> String) {
            var start = 0
            for (pixels, count) in runs {
                c.line("for (ox = \(start); ox < \(start + count * pixels); ox += \(pixels)) \(call(pixels))")
                start += count * pixels
            }
        }

        var c = CWriter()
        c.function("static void \(fn)(const cnnc_args *a, int begin, int end, float *scratch)") { c in
            c.line("""
                /* a->ins: expand weights and bias, depthwise weights and bias, project weights and bias */
                const float *const we = a->ins[0], *const be = a->ins[1], *const wd = a->ins[2], *const bd = a->ins[3];
                const float *const wp = a->ins[4], *const bp = a->ins[5];
                float *const ring = scratch, *const drow = scratch + \(g.ringElements);    /* [\(XB)][\(span)][\(W)][16], [\(XB)][\(OW)][16] */
                const float *rows[\(KH)];
                int t, next = 0, oy, ox, xb, grp, ky;
                """)
            c.scope("for (t = begin; t < end; t++)") { c in
                c.line("""
                    const int n = t / \(bands), band = t % \(bands);
                    const int oy0 = band * \(OH) / \(bands), oy1 = (band + 1) * \(OH) / \(bands);
                    const float *in = a->in + (size_t)n * \(g.imageIn);
                    float *out = a->out + (size_t)n * \(g.imageOut);
                    const float *res = a->res ? a->res + (size_t)n * \(g.imageOut) : NULL;
                    /* the ring holds the previous band's last rows only when this thread just computed them */
                    if (t == begin || band == 0) next = oy0 * \(SH) - \(PT) > 0 ? oy0 * \(SH) - \(PT) : 0;
                    """)
                c.scope("for (oy = oy0; oy < oy1; oy++)") { c in
                    c.line("""
                        const int iy = oy * \(SH) - \(PT);
                        const int ky0 = iy < 0 ? (-iy + \(DH - 1)) / \(DH) : 0;
                        int ky1 = \(H) - iy <= 0 ? 0 : (\(H) - iy + \(DH - 1)) / \(DH);
                        const int last = iy + \(span) < \(H) ? iy + \(span) : \(H);
                        if (ky1 > \(KH)) ky1 = \(KH);
                        if (ky1 < ky0) ky1 = ky0;
                        if (next < iy) next = iy;
                        """)
                    c.line("/* the expanded rows [next, last) into their ring slots */")
                    c.scope("for (; next < last; next++)") { c in
                        c.line("float *const slot = ring + (size_t)(next % \(span)) * \(g.slotElements);")
                        c.line("const ptrdiff_t row = (ptrdiff_t)next * \(g.slotElements);")
                        c.scope("for (grp = 0; grp < \(eg.KBG); grp++)") { c in
                            c.line("""
                                const float *const w = we + (size_t)grp * \(eg.wGroup);
                                const float *const bias = be ? be + grp * \(eg.NB * channelBlock) : NULL;
                                float *const o = slot + (size_t)grp * \(eg.NB * ringBlock);
                                """)
                            rowCalls(expandRuns, &c) { "\(fn)_x\($0)(o + ox * 16, in, row + ox * 16, w, bias, NULL, w, 0, 1, 0, 1);" }
                        }
                    }
                    c.line("for (ky = ky0; ky < ky1; ky++) rows[ky] = ring + (size_t)((iy + ky * \(DH)) % \(span)) * \(g.slotElements);")
                    c.scope("for (xb = 0; xb < \(XB); xb++)") { c in
                        c.line("""
                            const float *const wt = wd + (size_t)xb * \(KH * KW * channelBlock);
                            const float *const bias = bd ? bd + xb * 16 : NULL;
                            float *const orow = drow + (size_t)xb * \(OW * channelBlock);
                            const ptrdiff_t base = (ptrdiff_t)xb * \(ringBlock);
                            """)
                        if dg.full > 0 {
                            c.line("for (ox = \(dg.left); ox < \(dg.left + dg.full * dg.S); ox += \(dg.S))")
                            c.line("    \(fn)_d\(dg.S)(orow + ox * 16, rows, base + (ptrdiff_t)(ox * \(SW) - \(PL)) * 16, wt, bias, ky0, ky1);")
                        }
                        if dg.rest > 0 {
                            c.line("\(fn)_d\(dg.rest)(orow + \(dg.restStart * 16), rows, base + \((dg.restStart * SW - PL) * 16), wt, bias, ky0, ky1);")
                        }
                        for edge in dd.edges {
                            let k = dg.edgeTaps.firstIndex(of: edge.firstTap..<edge.endTap)!
                            c.line("\(fn)_e\(k)(orow + \(edge.x * 16), rows, base + \((edge.x * SW - PL) * 16), wt, bias, ky0, ky1);")
                        }
                    }
                    c.scope("for (grp = 0; grp < \(pg.KBG); grp++)") { c in
                        c.line("""
                            const float *const w = wp + (size_t)grp * \(pg.wGroup);
                            const float *const bias = bp ? bp + grp * \(pg.NB * channelBlock) : NULL;
                            const size_t at = (size_t)grp * \(pg.NB * pg.OBS) + (size_t)oy * \(OW * channelBlock);
                            """)
                        rowCalls(projectRuns, &c) {
                            "\(fn)_p\($0)(out + at + ox * 16, drow, ox * 16, w, bias, res ? res + at + ox * 16 : NULL, w, 0, 1, 0, 1);"
                        }
                    }
                }
            }
        }
        s += c.text + "\n"

        let weights = [ec.weight, ec.bias, dc.weight, dc.bias, pc.weight, pc.bias].map { weight($0) }
        return (s, call(fn, step, tasks: "batch * \(bands)", res: step.residualInput.map(pointer) ?? "NULL",
                        list: "weights", weights))
    }
}
