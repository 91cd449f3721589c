import ShapeCheck

// The fast C backend's fully connected kernel: tiles of 16·nb outputs, each tile's weights
// streamed once per pass of up to `imagesPerPass` images, the reduction split into chains.

extension FastCEmitter {
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
            var accumulators: [String] = []
            for c in 0..<chains { for b in 0..<images { for j in 0..<NB { accumulators.append("a\(b)_\(j)_\(c)") } } }
            var c = CWriter()
            c.function("static void \(fn)_n\(images)(float *restrict y, const float *restrict x, const float *restrict w, const float *restrict bias, int tile)") { c in
                c.line("#if defined(CNNC_SIMD)")
                c.line("cv16 \(accumulators.joined(separator: ", "));")
                c.line("size_t i;")
                c.line(accumulators.map { "\($0) = cv_zero();" }.joined(separator: " "))
                c.scope("for (i = 0; i + \(chains) <= \(rows); i += \(chains))") { c in
                    c.line("cv16 xv;")
                    for k in 0..<chains {
                        for j in 0..<NB { c.line("const cv16 w\(j)_\(k) = cv_load(w + (i + \(k)) * \(TW) + \(channelBlock * j));") }
                        for b in 0..<images {
                            c.line("xv = cv_set1(x[\(b * rows) + i + \(k)]);" + (0..<NB).map { " a\(b)_\($0)_\(k) = cv_fma(xv, w\($0)_\(k), a\(b)_\($0)_\(k));" }.joined())
                        }
                    }
                }
                if rows % chains != 0 {
                    c.scope("for (; i < \(rows); i++)") { c in
                        c.line("cv16 xv;")
                        for j in 0..<NB { c.line("const cv16 w\(j) = cv_load(w + i * \(TW) + \(channelBlock * j));") }
                        for b in 0..<images {
                            c.line("xv = cv_set1(x[\(b * rows) + i]);" + (0..<NB).map { " a\(b)_\($0)_0 = cv_fma(xv, w\($0), a\(b)_\($0)_0);" }.joined())
                        }
                    }
                }
                for k in 1..<max(chains, 1) where chains > 1 {
                    for b in 0..<images { for j in 0..<NB { c.line("a\(b)_\(j)_0 = cv_add(a\(b)_\(j)_0, a\(b)_\(j)_\(k));") } }
                }
                c.line("{")
                c.indented { c in
                    c.line("cv16 v;")
                    for b in 0..<images {
                        for j in 0..<NB {
                            var line = "v = a\(b)_\(j)_0;"
                            if fc.bias != nil { line += " v = cv_add(v, cv_load(bias + tile * \(TW) + \(channelBlock * j)));" }
                            line += vectorActivation(step.activation)
                            let target = "y + \(b * OUT + channelBlock * j)"
                            if fullTiles == tiles {
                                line += " cv_store(\(target), v);"
                            } else {
                                line += " if (tile < \(fullTiles)) cv_store(\(target), v); else { float t_[16]; int l_; const int valid = \(OUT) - tile * \(TW) - \(channelBlock * j); cv_store(t_, v); for (l_ = 0; l_ < valid && l_ < 16; l_++) (\(target))[l_] = t_[l_]; }"
                            }
                            c.line(line)
                        }
                    }
                }
                c.line("}")
                if fc.bias == nil { c.line("(void)bias;") }
                c.line("#else")
                let activation = step.activation.map { $0 == .softmax ? "" : " v = \(scalarActivation($0, "v"));" } ?? ""
                c.line("""
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
                            float v = acc[b][l]\(fc.bias != nil ? " + bias[tile * \(TW) + l]" : "");\(activation)
                            y[(size_t)b * \(OUT) + l] = v;
                        }
                    }
                    (void)bias;
                    """)
                c.line("#endif")
            }
            s += c.text + "\n\n"
        }
        s += taskFunction(fn, counter: "tile", integers: ["n0"]) { c in
            c.line("const float *w = a->w + (size_t)tile * \(rows * TW);")
            c.scope("for (n0 = 0; n0 < a->batch; n0 += \(most))") { c in
                c.line("""
                    float *y = a->out + (size_t)n0 * \(OUT) + (size_t)tile * \(TW);
                    const float *x = a->in + (size_t)n0 * \(rows);
                    """)
                c.scope("switch (a->batch - n0 < \(most) ? a->batch - n0 : \(most))") { c in
                    for images in 1...most { c.line("case \(images): \(fn)_n\(images)(y, x, w, a->bias, tile); break;") }
                    c.line("default: break;")
                }
            }
        }
        var after = ""
        if step.activation == .softmax {
            after = "{ int i_; for (i_ = 0; i_ < batch; i_++) cnnc_softmax(\(pointer(step.output)) + (size_t)i_ * \(OUT), \(OUT)); }"
        }
        let callText = call(fn, step, tasks: "\(tiles)", w: weight(fc.weight), bias: weight(fc.bias), after: after)
        return (s, callText)
    }
}
