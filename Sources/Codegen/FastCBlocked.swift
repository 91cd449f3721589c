import ShapeCheck

// The fast C backend's blocked kernels: pooling, global pooling, add, activation, batchnorm,
// LRN and concat on [N, C/16, H, W, 16] values (mul and the channel gather: FastCChannelOps.swift).

extension FastCEmitter {
    // MARK: blocked element-wise, pooling and normalisation kernels

    func blocked(_ fn: String, _ step: PlanStep, _ schedule: BlockedKernel, _ programStep: Step) -> (String, String) {
        let output = plan.values[step.output]
        let OC = output.shape.depth, OH = output.shape.height, OW = output.shape.width
        var s = "/* \(describeStep(programStep, program: program)), blocked */\n"
        switch programStep.kernel {
        case .pooling(let pool):
            let input = plan.values[step.inputs[0]].shape
            let H = input.height, W = input.width, CB = (OC + channelBlock - 1) / channelBlock
            s += taskFunction(fn) { c in
                c.line("""
                    const int plane = t / \(OH), oy = t % \(OH);
                    const float *x = a->in + (size_t)plane * \(H * W * channelBlock);
                    float *y = a->out + ((size_t)plane * \(OH) + (size_t)oy) * \(OW * channelBlock);
                    int ox, iy, ix, ky, kx;
                    (void)iy; (void)ix; (void)ky; (void)kx;
                    """)
                c.scope("for (ox = 0; ox < \(OW); ox++)") { c in c.line(poolingWindow(pool, unrolled: schedule.unrolledTaps)) }
            }
            return (s + "\n", call(fn, step, tasks: "batch * \(CB * OH)"))
        case .globalPooling(let pool):
            let input = plan.values[step.inputs[0]].shape
            let C = input.depth, P = input.height * input.width, CB = (C + channelBlock - 1) / channelBlock
            let combine = pool.kind == .max ? "cv_max_nan" : "cv_add"
            s += taskFunction(fn, integers: ["p", "l"]) { c in
                c.line("""
                    const int n = t / \(CB), cb = t % \(CB);
                    const float *x = a->in + ((size_t)n * \(CB) + (size_t)cb) * \(P * channelBlock);
                    float r[16];
                    cv16 acc = cv_load(x);
                    for (p = 1; p < \(P); p++) acc = \(combine)(acc, cv_load(x + (size_t)p * 16));
                    """)
                if pool.kind != .max { c.line("acc = cv_div(acc, cv_set1((float)\(P)));") }
                if output.layout == .blocked {
                    c.line("(void)r; (void)l;")
                    c.line("cv_store(a->out + (size_t)t * 16, acc);")
                } else {
                    c.line("""
                        cv_store(r, acc);
                        for (l = 0; l < 16 && cb * 16 + l < \(C); l++) a->out[(size_t)n * \(C) + (size_t)(cb * 16 + l)] = r[l];
                        """)
                }
            }
            return (s + "\n", call(fn, step, tasks: "batch * \(CB)"))
        case .add, .activation:
            let E = output.elements
            guard let chunk = schedule.elementsPerTask else { preconditionFailure("an element-wise step without its task size") }
            let chunks = (E + chunk - 1) / chunk
            let isAdd = programStep.kernel.mnemonic == "add"
            s += taskFunction(fn) { c in
                c.line("""
                    const int n = t / \(chunks), c = t % \(chunks);
                    const size_t base = (size_t)n * \(E) + (size_t)c * \(chunk);
                    const int count = \(E) - c * \(chunk) < \(chunk) ? \(E) - c * \(chunk) : \(chunk);
                    int i;
                    """)
                c.scope("for (i = 0; i < count; i += 16)") { c in
                    c.line("cv16 v = \(isAdd ? "cv_load(a->ins[0] + base + i)" : "cv_load(a->in + base + i)");")
                    if isAdd { for j in 1..<step.inputs.count { c.line("v = cv_add(v, cv_load(a->ins[\(j)] + base + i));") } }
                    c.line(epilogue(step.activation))
                    c.line("cv_store(a->out + base + i, v);")
                }
            }
            if isAdd {
                return (s, callOnInputs(fn, step, tasks: "batch * \(chunks)"))
            }
            return (s, call(fn, step, tasks: "batch * \(chunks)"))
        case .batchNorm(let norm):
            let P = OH * OW, CB = (OC + channelBlock - 1) / channelBlock
            s += taskFunction(fn, integers: ["p"]) { c in
                c.line("""
                    const int cb = t % \(CB);
                    const float *x = a->in + (size_t)t * \(P * channelBlock);
                    float *y = a->out + (size_t)t * \(P * channelBlock);
                    const cv16 scale = cv_load(a->w + cb * 16), shift = cv_load(a->bias + cb * 16);
                    """)
                c.scope("for (p = 0; p < \(P); p++)") { c in
                    c.line("cv16 v = cv_fma(cv_load(x + (size_t)p * 16), scale, shift);")
                    c.line(epilogue(step.activation))
                    c.line("cv_store(y + (size_t)p * 16, v);")
                }
            }
            return (s + "\n", call(fn, step, tasks: "batch * \(CB)", w: weight(norm.scale), bias: weight(norm.shift)))
        case .localResponseNorm(let lrn):
            let P = OH * OW
            s += localResponseNorm(fn, lrn.parameters, channels: OC, pixels: P)
            return (s + "\n", call(fn, step, tasks: "batch * \(P)"))
        case .multiply:
            return blockedMultiply(fn, step, schedule, header: s)
        case .gatherChannels:
            return blockedGather(fn, step, header: s)
        case .concat(let concat) where concat.inputChannels.contains(where: { $0 % channelBlock != 0 }):
            return blockedGather(fn, step, header: s)
        case .concat:
            let P = OH * OW
            let blocks = step.inputs.map { (plan.values[$0].shape.depth / channelBlock) }
            let total = blocks.reduce(0, +)
            let table = "static const int blocks[\(blocks.count)] = { \(blocks.map(String.init).joined(separator: ", ")) };"
            s += taskFunction(fn, integers: ["j", "i"], locals: [table], setup: { c in c.line("(void)i;") }) { c in
                c.line("float *y = a->out + (size_t)t * \(total * P * channelBlock);")
                c.scope("for (j = 0; j < \(blocks.count); j++)") { c in
                    c.line("""
                        const size_t count = (size_t)blocks[j] * \(P * channelBlock);
                        memcpy(y, a->ins[j] + (size_t)t * count, count * sizeof(float));
                        y += count;
                        """)
                }
                if step.activation != nil {
                    c.line("y = a->out + (size_t)t * \(total * P * channelBlock);")
                    c.scope("for (i = 0; i < \(total * P * channelBlock); i += 16)") { c in
                        c.line("cv16 v = cv_load(y + i);")
                        c.line(epilogue(step.activation))
                        c.line("cv_store(y + i, v);")
                    }
                }
            }
            return (s, callOnInputs(fn, step, tasks: "batch"))
        default:
            preconditionFailure("no blocked kernel for \(programStep.kernel.mnemonic)")
        }
    }

    /// `vectorActivation`'s statements on `v` as lines of their own (none without an activation).
    func epilogue(_ activation: Activation?) -> String {
        let text = vectorActivation(activation)
        return text.hasPrefix(" ") ? String(text.dropFirst()) : text
    }

    /// The body of a blocked pooling's loop over output columns `ox`: every tap unrolled
    /// (BlockedKernel.unrolledTaps), else bounded loops.
    func poolingWindow(_ pool: PoolingKernel, unrolled: Bool) -> String {
        let w = pool.window, H = pool.input.height, W = pool.input.width
        if unrolled {
            var taps: [String] = []
            for ky in 0..<w.kernelHeight {
                for kx in 0..<w.kernelWidth {
                    taps.append("cv_load(x + ((size_t)(oy * \(w.strideHeight) + \(ky * w.dilationHeight)) * \(W) + (size_t)(ox * \(w.strideWidth) + \(kx * w.dilationWidth))) * 16)")
                }
            }
            return "cv_store(y + ox * 16, \(taps.dropFirst().reduce(taps[0]) { "cv_max_nan(\($0), \($1))" }));"
        }
        if pool.kind == .max {
            return """
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
        }
        return """
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

    /// LRN across channels on a blocked input, one pixel a task: the squares of all its
    /// channels in a zero-margined buffer (zero past the last real channel), then each
    /// block's window sums.
    func localResponseNorm(_ fn: String, _ p: LocalResponseNorm, channels C: Int, pixels P: Int) -> String {
        let CB = (C + channelBlock - 1) / channelBlock
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
        let locals = ["float buffer[\(CB * channelBlock + 2 * margin)];", "float *const sq = buffer + \(margin);"]
        return taskFunction(fn, integers: ["c", "l"], locals: locals, setup: { c in
            c.line("for (l = 0; l < \(CB * channelBlock + 2 * margin); l++) buffer[l] = 0.0f;")
        }) { c in
            c.line("""
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
                """)
        }
    }
}
