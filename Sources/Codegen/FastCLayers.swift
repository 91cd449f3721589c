import ShapeCheck

// The fast C backend's other kernels: zero-bordered copies, fully connected layers, layout
// reorders, and the blocked pooling, element-wise, normalisation and concat kernels.

extension FastCEmitter {
    // MARK: pad

    func pad(_ fn: String, _ step: PlanStep, top: Int, left: Int) -> (String, String) {
        let input = plan.values[step.inputs[0]].shape, output = plan.values[step.output].shape
        let H = input.height, W = input.width, H2 = output.height, W2 = output.width, CB = (input.depth + channelBlock - 1) / channelBlock
        let right = W2 - left - W
        var s = "/* a zero-bordered copy, \(W)x\(H) to \(W2)x\(H2) */\n"
        s += """
            static void \(fn)(const cnnc_args *a, int begin, int end, float *scratch)
            {
                int t, y;
                (void)scratch;
                for (t = begin; t < end; t++) {
                    const float *x = a->in + (size_t)t * \(H * W * channelBlock);
                    float *o = a->out + (size_t)t * \(H2 * W2 * channelBlock);
                    for (y = 0; y < \(H2); y++) {
                        float *row = o + (size_t)y * \(W2 * channelBlock);
                        const int iy = y - \(top);
                        if (iy < 0 || iy >= \(H)) {
                            memset(row, 0, \(W2 * channelBlock) * sizeof(float));
                        } else {
                            \(left > 0 ? "memset(row, 0, \(left * channelBlock) * sizeof(float));" : "")
                            memcpy(row + \(left * channelBlock), x + (size_t)iy * \(W * channelBlock), \(W * channelBlock) * sizeof(float));
                            \(right > 0 ? "memset(row + \((left + W) * channelBlock), 0, \(right * channelBlock) * sizeof(float));" : "")
                        }
                    }
                }
            }

            """
        return (s, call(fn, step, tasks: "batch * \(CB)"))
    }

    // MARK: fully connected

    func fullyConnected(_ fn: String, _ step: PlanStep, _ f: FullyConnected, _ fc: FullyConnectedKernel) -> (String, String) {
        let NB = f.outputBlocks, TW = channelBlock * NB
        let OUT = fc.outputs
        let rows = plan.values[step.inputs[0]].elements
        let tiles = (OUT + TW - 1) / TW, fullTiles = OUT / TW
        let most = f.imagesPerPass
        var s = "/* fc, \(TW) outputs per tile, up to \(most) images per pass over the weights */\n"
        for images in 1...most {
            // Few images give few accumulators, each a chain of dependent FMAs: split the
            // reduction over `chains` interleaved partial sums so the FMA latency is hidden.
            let chains = f.chains[images - 1]
            let unroll = chains
            var accumulators: [String] = []
            for c in 0..<chains { for b in 0..<images { for j in 0..<NB { accumulators.append("a\(b)_\(j)_\(c)") } } }
            s += "static void \(fn)_n\(images)(float *restrict y, const float *restrict x, const float *restrict w, const float *restrict bias, int tile)\n{\n"
            s += "#if defined(CNNC_SIMD)\n"
            s += "    cv16 \(accumulators.joined(separator: ", "));\n    size_t i;\n"
            s += "    " + accumulators.map { "\($0) = cv_zero();" }.joined(separator: " ") + "\n"
            s += "    for (i = 0; i + \(unroll) <= \(rows); i += \(unroll)) {\n"
            s += "        cv16 xv;\n"
            for c in 0..<chains {
                for j in 0..<NB { s += "        const cv16 w\(j)_\(c) = cv_load(w + (i + \(c)) * \(TW) + \(channelBlock * j));\n" }
                for b in 0..<images {
                    s += "        xv = cv_set1(x[\(b * rows) + i + \(c)]);" + (0..<NB).map { " a\(b)_\($0)_\(c) = cv_fma(xv, w\($0)_\(c), a\(b)_\($0)_\(c));" }.joined() + "\n"
                }
            }
            s += "    }\n"
            if rows % unroll != 0 {
                s += "    for (; i < \(rows); i++) {\n        cv16 xv;\n"
                for j in 0..<NB { s += "        const cv16 w\(j) = cv_load(w + i * \(TW) + \(channelBlock * j));\n" }
                for b in 0..<images {
                    s += "        xv = cv_set1(x[\(b * rows) + i]);" + (0..<NB).map { " a\(b)_\($0)_0 = cv_fma(xv, w\($0), a\(b)_\($0)_0);" }.joined() + "\n"
                }
                s += "    }\n"
            }
            for c in 1..<max(chains, 1) where chains > 1 {
                for b in 0..<images { for j in 0..<NB { s += "    a\(b)_\(j)_0 = cv_add(a\(b)_\(j)_0, a\(b)_\(j)_\(c));\n" } }
            }
            s += "    {\n        cv16 v;\n"
            for b in 0..<images {
                for j in 0..<NB {
                    var line = "        v = a\(b)_\(j)_0;"
                    if fc.bias != nil { line += " v = cv_add(v, cv_load(bias + tile * \(TW) + \(channelBlock * j)));" }
                    line += vectorActivation(step.activation)
                    let target = "y + \(b * OUT + channelBlock * j)"
                    if fullTiles == tiles {
                        line += " cv_store(\(target), v);"
                    } else {
                        line += " if (tile < \(fullTiles)) cv_store(\(target), v); else { float t_[16]; int l_; const int valid = \(OUT) - tile * \(TW) - \(channelBlock * j); cv_store(t_, v); for (l_ = 0; l_ < valid && l_ < 16; l_++) (\(target))[l_] = t_[l_]; }"
                    }
                    s += line + "\n"
                }
            }
            s += "    }\n"
            if fc.bias == nil { s += "    (void)bias;\n" }
            s += """
                #else
                    float acc[\(images)][\(TW)];
                    size_t i;
                    int b, l;
                    for (b = 0; b < \(images); b++) for (l = 0; l < \(TW); l++) acc[b][l] = 0.0f;
                    for (i = 0; i < \(rows); i++) {
                        for (b = 0; b < \(images); b++) {
                            const float xv = x[(size_t)b * \(rows) + i];
                            for (l = 0; l < \(TW); l++) acc[b][l] += xv * w[i * \(TW) + l];
                        }
                    }
                    for (b = 0; b < \(images); b++) {
                        for (l = 0; l < \(TW) && tile * \(TW) + l < \(OUT); l++) {
                            float v = acc[b][l]\(fc.bias != nil ? " + bias[tile * \(TW) + l]" : "");\(step.activation.map { $0 == .softmax ? "" : " v = \(scalarActivation($0, "v"));" } ?? "")
                            y[(size_t)b * \(OUT) + l] = v;
                        }
                    }
                    (void)bias;
                #endif
                }


                """
        }
        s += """
            static void \(fn)(const cnnc_args *a, int begin, int end, float *scratch)
            {
                int tile, n0;
                (void)scratch;
                for (tile = begin; tile < end; tile++) {
                    const float *w = a->w + (size_t)tile * \(rows * TW);
                    for (n0 = 0; n0 < a->batch; n0 += \(most)) {
                        float *y = a->out + (size_t)n0 * \(OUT) + (size_t)tile * \(TW);
                        const float *x = a->in + (size_t)n0 * \(rows);
                        switch (a->batch - n0 < \(most) ? a->batch - n0 : \(most)) {

            """
        for images in 1...most {
            s += "            case \(images): \(fn)_n\(images)(y, x, w, a->bias, tile); break;\n"
        }
        s += "            default: break;\n            }\n        }\n    }\n}\n"
        var after = ""
        if step.activation == .softmax {
            after = "\n        { int i_; for (i_ = 0; i_ < batch; i_++) cnnc_softmax(\(pointer(step.output)) + (size_t)i_ * \(OUT), \(OUT)); }"
        }
        let callText = call(fn, step, tasks: "\(tiles)", w: weight(fc.weight), bias: weight(fc.bias), after: after)
        return (s, callText)
    }

    // MARK: reorders

    func reorder(_ fn: String, _ step: PlanStep) -> (String, String) {
        let value = plan.values[step.output]
        let C = value.shape.depth, P = value.shape.height * value.shape.width, CB = (C + channelBlock - 1) / channelBlock
        let toBlocked = step.kernel == .toBlocked
        var s = "/* \(toBlocked ? "[C, H, W] to [C/16, H, W, 16]" : "[C/16, H, W, 16] to [C, H, W]") */\n"
        s += """
            static void \(fn)(const cnnc_args *a, int begin, int end, float *scratch)
            {
                int t, p, l;
                (void)scratch;
                for (t = begin; t < end; t++) {
                    const int n = t / \(CB), cb = t % \(CB);
                    const int channels = \(C) - cb * 16 < 16 ? \(C) - cb * 16 : 16;
                    const float *x = a->in + (size_t)n * \(toBlocked ? C * P : CB * P * channelBlock);
                    float *y = a->out + (size_t)n * \(toBlocked ? CB * P * channelBlock : C * P);

            """
        if toBlocked {
            s += """
                        float *yb = y + (size_t)cb * \(P * channelBlock);
                        for (p = 0; p < \(P); p++) {
                            for (l = 0; l < channels; l++) yb[p * 16 + l] = x[(size_t)(cb * 16 + l) * \(P) + p];
                            for (; l < 16; l++) yb[p * 16 + l] = 0.0f;
                        }

                """
        } else {
            s += """
                        const float *xb = x + (size_t)cb * \(P * channelBlock);
                        for (l = 0; l < channels; l++) {
                            float *yc = y + (size_t)(cb * 16 + l) * \(P);
                            for (p = 0; p < \(P); p++) yc[p] = xb[p * 16 + l];
                        }

                """
        }
        s += "    }\n}\n"
        return (s, call(fn, step, tasks: "batch * \(CB)"))
    }

    // MARK: blocked element-wise, pooling and normalisation kernels

    func blocked(_ fn: String, _ step: PlanStep, _ programStep: Step) -> (String, String) {
        let output = plan.values[step.output]
        let OC = output.shape.depth, OH = output.shape.height, OW = output.shape.width
        var s = "/* \(describeStep(programStep, program: program)), blocked */\n"
        switch programStep.kernel {
        case .pooling(let pool):
            let input = plan.values[step.inputs[0]].shape
            let H = input.height, W = input.width, CB = (OC + channelBlock - 1) / channelBlock
            let w = pool.window
            s += """
                static void \(fn)(const cnnc_args *a, int begin, int end, float *scratch)
                {
                    int t;
                    (void)scratch;
                    for (t = begin; t < end; t++) {
                        const int plane = t / \(OH), oy = t % \(OH);
                        const float *x = a->in + (size_t)plane * \(H * W * channelBlock);
                        float *y = a->out + ((size_t)plane * \(OH) + (size_t)oy) * \(OW * channelBlock);
                        int ox, iy, ix, ky, kx;
                        (void)iy; (void)ix; (void)ky; (void)kx;
                        for (ox = 0; ox < \(OW); ox++) {

                """
            let inside = w.padTop == 0 && w.padLeft == 0
                && (OH - 1) * w.strideHeight + (w.kernelHeight - 1) * w.dilationHeight < H
                && (OW - 1) * w.strideWidth + (w.kernelWidth - 1) * w.dilationWidth < W
            if pool.kind == .max && inside && w.kernelHeight * w.kernelWidth <= 16 {
                // Every window inside the input: the taps unrolled, no bounds.
                var taps: [String] = []
                for ky in 0..<w.kernelHeight {
                    for kx in 0..<w.kernelWidth {
                        taps.append("cv_load(x + ((size_t)(oy * \(w.strideHeight) + \(ky * w.dilationHeight)) * \(W) + (size_t)(ox * \(w.strideWidth) + \(kx * w.dilationWidth))) * 16)")
                    }
                }
                let expression = taps.dropFirst().reduce(taps[0]) { "cv_max_nan(\($0), \($1))" }
                s += "                cv_store(y + ox * 16, \(expression));\n"
            } else if pool.kind == .max {
                s += """
                                cv16 m = cv_set1(-INFINITY);
                                for (ky = 0; ky < \(w.kernelHeight); ky++) {
                                    iy = oy * \(w.strideHeight) - \(w.padTop) + ky * \(w.dilationHeight);
                                    if (iy < 0 || iy >= \(H)) continue;
                                    for (kx = 0; kx < \(w.kernelWidth); kx++) {
                                        ix = ox * \(w.strideWidth) - \(w.padLeft) + kx * \(w.dilationWidth);
                                        if (ix >= 0 && ix < \(W)) m = cv_max_nan(m, cv_load(x + ((size_t)iy * \(W) + (size_t)ix) * 16));
                                    }
                                }
                                cv_store(y + ox * 16, m);

                    """
            } else {
                s += """
                                const int y0 = oy * \(w.strideHeight) - \(w.padTop), x0 = ox * \(w.strideWidth) - \(w.padLeft);
                                const int y1 = y0 + \(w.kernelHeight) < \(H + w.padBottom) ? y0 + \(w.kernelHeight) : \(H + w.padBottom);
                                const int x1 = x0 + \(w.kernelWidth) < \(W + w.padRight) ? x0 + \(w.kernelWidth) : \(W + w.padRight);
                                const int ya = y0 > 0 ? y0 : 0, yb = y1 < \(H) ? y1 : \(H);
                                const int xa = x0 > 0 ? x0 : 0, xb = x1 < \(W) ? x1 : \(W);
                                cv16 sum = cv_zero();
                                for (iy = ya; iy < yb; iy++) {
                                    for (ix = xa; ix < xb; ix++) sum = cv_add(sum, cv_load(x + ((size_t)iy * \(W) + (size_t)ix) * 16));
                                }
                                cv_store(y + ox * 16, cv_div(sum, cv_set1((float)((y1 - y0) * (x1 - x0)))));

                    """
            }
            s += "        }\n    }\n}\n"
            return (s, call(fn, step, tasks: "batch * \(CB * OH)"))
        case .globalPooling(let pool):
            let input = plan.values[step.inputs[0]].shape
            let C = input.depth, P = input.height * input.width, CB = (C + channelBlock - 1) / channelBlock
            s += """
                static void \(fn)(const cnnc_args *a, int begin, int end, float *scratch)
                {
                    int t, p, l;
                    (void)scratch;
                    for (t = begin; t < end; t++) {
                        const int n = t / \(CB), cb = t % \(CB);
                        const float *x = a->in + ((size_t)n * \(CB) + (size_t)cb) * \(P * channelBlock);
                        float r[16];
                        cv16 acc = cv_load(x);
                        for (p = 1; p < \(P); p++) acc = \(pool.kind == .max ? "cv_max_nan" : "cv_add")(acc, cv_load(x + (size_t)p * 16));
                        \(pool.kind == .max ? "" : "acc = cv_div(acc, cv_set1((float)\(P)));")
                        cv_store(r, acc);
                        for (l = 0; l < 16 && cb * 16 + l < \(C); l++) a->out[(size_t)n * \(C) + (size_t)(cb * 16 + l)] = r[l];
                    }
                }

                """
            return (s, call(fn, step, tasks: "batch * \(CB)"))
        case .add, .activation:
            let E = output.elements
            let chunk = 4096
            let chunks = (E + chunk - 1) / chunk
            let inputs = step.inputs.count
            s += """
                static void \(fn)(const cnnc_args *a, int begin, int end, float *scratch)
                {
                    int t;
                    (void)scratch;
                    for (t = begin; t < end; t++) {
                        const int n = t / \(chunks), c = t % \(chunks);
                        const size_t base = (size_t)n * \(E) + (size_t)c * \(chunk);
                        const int count = \(E) - c * \(chunk) < \(chunk) ? \(E) - c * \(chunk) : \(chunk);
                        int i;
                        for (i = 0; i < count; i += 16) {
                            cv16 v = \(inputs == 1 && programStep.kernel.mnemonic != "add" ? "cv_load(a->in + base + i)" : "cv_load(a->ins[0] + base + i)");

                """
            if case .add = programStep.kernel {
                for j in 1..<inputs { s += "                v = cv_add(v, cv_load(a->ins[\(j)] + base + i));\n" }
            }
            s += "               " + vectorActivation(step.activation) + "\n"
            s += "                cv_store(a->out + base + i, v);\n            }\n    }\n}\n"
            if case .add = programStep.kernel {
                let list = "\(fn)_inputs"
                let text = call(fn, step, tasks: "batch * \(chunks)", ins: list)
                return (s, "{\n        const float *const \(list)[] = { \(step.inputs.map(pointer).joined(separator: ", ")) };\n        \(text)\n    }")
            }
            return (s, call(fn, step, tasks: "batch * \(chunks)"))
        case .batchNorm(let norm):
            let P = OH * OW, CB = (OC + channelBlock - 1) / channelBlock
            s += """
                static void \(fn)(const cnnc_args *a, int begin, int end, float *scratch)
                {
                    int t, p;
                    (void)scratch;
                    for (t = begin; t < end; t++) {
                        const int cb = t % \(CB);
                        const float *x = a->in + (size_t)t * \(P * channelBlock);
                        float *y = a->out + (size_t)t * \(P * channelBlock);
                        const cv16 scale = cv_load(a->w + cb * 16), shift = cv_load(a->bias + cb * 16);
                        for (p = 0; p < \(P); p++) {
                            cv16 v = cv_fma(cv_load(x + (size_t)p * 16), scale, shift);
                           \(vectorActivation(step.activation))
                            cv_store(y + (size_t)p * 16, v);
                        }
                    }
                }

                """
            return (s, call(fn, step, tasks: "batch * \(CB)",
                            w: weight(norm.scale), bias: weight(norm.shift)))
        case .localResponseNorm(let lrn):
            let p = lrn.parameters
            let C = OC, P = OH * OW, CB = (C + channelBlock - 1) / channelBlock
            let before = p.size / 2, after = (p.size - 1) / 2
            let margin = 16
            let beta = Float(p.beta)
            let power: String
            if beta == 0.75 {
                power = "{ const cv16 r = cv_sqrt(d); v = cv_div(v, cv_mul(r, cv_sqrt(r))); }"
            } else if beta == 0.5 {
                power = "v = cv_div(v, cv_sqrt(d));"
            } else if beta == 1 {
                power = "v = cv_div(v, d);"
            } else {
                power = "{ float dv[16], vv[16]; int l; cv_store(dv, d); cv_store(vv, v); for (l = 0; l < 16; l++) vv[l] /= powf(dv[l], \(cFloat(beta))); v = cv_load(vv); }"
            }
            var window = "cv_load(sq + c)"
            for o in 1...max(1, before) where o <= before { window = "cv_add(\(window), cv_load(sq + c - \(o)))" }
            for o in 1...max(1, after) where o <= after { window = "cv_add(\(window), cv_load(sq + c + \(o)))" }
            s += """
                static void \(fn)(const cnnc_args *a, int begin, int end, float *scratch)
                {
                    int t, c, l;
                    float buffer[\(CB * channelBlock + 2 * margin)];
                    float *const sq = buffer + \(margin);
                    (void)scratch;
                    for (l = 0; l < \(CB * channelBlock + 2 * margin); l++) buffer[l] = 0.0f;
                    for (t = begin; t < end; t++) {
                        const int n = t / \(P), p = t % \(P);
                        const float *x = a->in + (size_t)n * \(CB * P * channelBlock) + (size_t)p * 16;
                        float *y = a->out + (size_t)n * \(CB * P * channelBlock) + (size_t)p * 16;
                        for (c = 0; c < \(CB * channelBlock); c += 16) {
                            const cv16 v = cv_load(x + (size_t)(c / 16) * \(P * channelBlock));
                            cv_store(sq + c, cv_mul(v, v));
                        }
                        for (c = \(C); c < \(CB * channelBlock); c++) sq[c] = 0.0f;
                        for (c = 0; c < \(CB * channelBlock); c += 16) {
                            cv16 v = cv_load(x + (size_t)(c / 16) * \(P * channelBlock));
                            const cv16 d = cv_add(cv_set1(\(cFloat(Float(p.k)))), cv_mul(cv_set1(\(cFloat(Float(p.alpha) / Float(p.size)))), \(window)));
                            \(power)
                            cv_store(y + (size_t)(c / 16) * \(P * channelBlock), v);
                        }
                    }
                }

                """
            return (s, call(fn, step, tasks: "batch * \(P)"))
        case .concat:
            let P = OH * OW
            let blocks = step.inputs.map { (plan.values[$0].shape.depth / channelBlock) }
            let total = blocks.reduce(0, +)
            s += """
                static void \(fn)(const cnnc_args *a, int begin, int end, float *scratch)
                {
                    static const int blocks[\(blocks.count)] = { \(blocks.map(String.init).joined(separator: ", ")) };
                    int t, j, i;
                    (void)scratch; (void)i;
                    for (t = begin; t < end; t++) {
                        float *y = a->out + (size_t)t * \(total * P * channelBlock);
                        for (j = 0; j < \(blocks.count); j++) {
                            const size_t count = (size_t)blocks[j] * \(P * channelBlock);
                            memcpy(y, a->ins[j] + (size_t)t * count, count * sizeof(float));
                            y += count;
                        }

                """
            if step.activation != nil {
                s += """
                            y = a->out + (size_t)t * \(total * P * channelBlock);
                            for (i = 0; i < \(total * P * channelBlock); i += 16) {
                                cv16 v = cv_load(y + i);
                               \(vectorActivation(step.activation))
                                cv_store(y + i, v);
                            }

                    """
            }
            s += "    }\n}\n"
            let list = "\(fn)_inputs"
            let text = call(fn, step, tasks: "batch", ins: list)
            return (s, "{\n        const float *const \(list)[] = { \(step.inputs.map(pointer).joined(separator: ", ")) };\n        \(text)\n    }")
        default:
            preconditionFailure("no blocked kernel for \(programStep.kernel.mnemonic)")
        }
    }
}
