import ShapeCheck

// The fast C backend's register-blocked micro-kernel (a strip of pixels x blocks of 16 output
// channels, unrolled, with a plain-loop fallback; the MicroKernel value is in
// DirectConvolutionGeometry.swift) and the epilogue activations every kernel uses.

extension FastCEmitter {
    // MARK: activations

    /// Statements applying `activation` to the cv16 `v`. `v` is cv_max's second operand, the
    /// one it returns when either is NaN, so a NaN stays NaN (PyTorch) at no cost.
    func vectorActivation(_ activation: Activation?, _ v: String = "v") -> String {
        switch activation {
        case nil, .softmax?: return ""
        case .relu?: return " \(v) = cv_max(cv_zero(), \(v));"
        case .leakyRelu(let alpha)?:
            return " \(v) = cv_add(cv_max(cv_zero(), \(v)), cv_mul(cv_set1(\(cFloat(Float(alpha)))), cv_min(\(v), cv_zero())));"
        // The clamps as cv_min(6, cv_max(0, ·)): `v` second both times, so a NaN falls through
        // as the reference's `< 0`/`> 6` tests let it; hardswish and hardsigmoid divide by 6
        // as the reference does (bit for bit).
        case .relu6?: return " \(v) = cv_min(cv_set1(6.0f), cv_max(cv_zero(), \(v)));"
        case .hardswish?:
            return " \(v) = cv_div(cv_mul(\(v), cv_min(cv_set1(6.0f), cv_max(cv_zero(), cv_add(\(v), cv_set1(3.0f))))), cv_set1(6.0f));"
        case .hardsigmoid?:
            return " \(v) = cv_div(cv_min(cv_set1(6.0f), cv_max(cv_zero(), cv_add(\(v), cv_set1(3.0f)))), cv_set1(6.0f));"
        // cnnc_vector.h's cv_exp, within 1 ulp of expf.
        case .sigmoid?: return " \(v) = cv_sigmoid(\(v));"
        case .silu?: return " \(v) = cv_silu(\(v));"
        // elu (expm1), tanh and gelu (erf) stay lane by lane through libm.
        case .elu?, .tanh?, .gelu?:
            return " { float t_[16]; int l_; cv_store(t_, \(v)); for (l_ = 0; l_ < 16; l_++) t_[l_] = \(scalarActivation(activation!, "t_[l_]")); \(v) = cv_load(t_); }"
        }
    }

    /// Tested `< 0` so that a NaN takes the identity branch and stays NaN.
    func scalarActivation(_ activation: Activation, _ x: String) -> String {
        switch activation {
        case .relu: "(\(x) < 0.0f ? 0.0f : \(x))"
        case .leakyRelu(let a): "(\(x) < 0.0f ? \(cFloat(Float(a))) * \(x) : \(x))"
        case .elu(let a): "(\(x) < 0.0f ? \(cFloat(Float(a))) * expm1f(\(x)) : \(x))"
        case .sigmoid: "(1.0f / (1.0f + expf(-\(x))))"
        case .tanh: "tanhf(\(x))"
        // As reference_kernels.c's k_activate: torch's order, clamps that let a NaN through.
        case .relu6: "(\(x) < 0.0f ? 0.0f : \(x) > 6.0f ? 6.0f : \(x))"
        case .hardswish: "(\(x) * (\(x) + 3.0f < 0.0f ? 0.0f : \(x) + 3.0f > 6.0f ? 6.0f : \(x) + 3.0f) / 6.0f)"
        case .hardsigmoid: "((\(x) + 3.0f < 0.0f ? 0.0f : \(x) + 3.0f > 6.0f ? 6.0f : \(x) + 3.0f) / 6.0f)"
        case .silu: "(\(x) / (1.0f + expf(-\(x))))"
        case .gelu(tanh: false): "(\(x) * 0.5f * (1.0f + erff(\(x) * 0.70710678118654752f)))"
        case .gelu(tanh: true):
            "(0.5f * \(x) * (1.0f + tanhf(0.79788456080286536f * (\(x) + 0.044715f * \(x) * \(x) * \(x)))))"
        case .softmax: x
        }
    }

    // MARK: micro-kernel

    func pixelOffset(_ k: MicroKernel, _ r: Int) -> String {
        if k.flat { return "o\(r)" }
        guard let row = k.pixelRow else { return "\(r * k.pixelStride)" }
        return "\((r / row.width) * row.jump + (r % row.width) * k.pixelStride)"
    }

    func microKernel(_ k: MicroKernel) -> String {
        let width = channelBlock * k.blocks
        var accumulators: [String] = []
        for j in 0..<k.blocks { for r in 0..<k.strip { accumulators.append("a\(j)_\(r)") } }
        // a<j>_<r> for every pixel r of output block j, as one line of statements.
        func each(_ j: Int, _ statement: (Int) -> String) -> String { (0..<k.strip).map(statement).joined(separator: " ") }
        var signature = "static void \(k.name)(float *restrict out, const float *restrict in, ptrdiff_t off, const float *restrict w,\n"
        signature += "    const float *restrict bias, const float *restrict res, const float *pf, int ky0, int ky1, int kx0, int kx1"
        signature += (k.chunked ? ",\n    int cb0, int cb1" : "") + (k.flat ? ",\n    const ptrdiff_t *restrict po" : "") + ")"
        var c = CWriter()
        c.function(signature) { c in
            c.line("#if defined(CNNC_SIMD)")
            c.line("cv16 \(accumulators.joined(separator: ", "));")
            if k.flat { c.line("const ptrdiff_t " + (0..<k.strip).map { "o\($0) = po[\($0)]" }.joined(separator: ", ") + ";") }
            c.line("int cb, ic;")
            c.line(k.taps != nil ? "int ky, kx;" : "(void)ky0; (void)ky1; (void)kx0; (void)kx1;")
            if !k.bias { c.line("(void)bias;") }
            if !k.residual { c.line("(void)res;") }
            if !k.prefetch { c.line("(void)pf;") }
            let start = { (c: inout CWriter) in
                if k.bias {
                    c.line("{")
                    c.indented { c in
                        for j in 0..<k.blocks { c.line("const cv16 b\(j) = cv_load(bias + \(channelBlock * j));") }
                        for j in 0..<k.blocks { c.line(each(j) { "a\(j)_\($0) = b\(j);" }) }
                    }
                    c.line("}")
                } else {
                    for j in 0..<k.blocks { c.line(each(j) { "a\(j)_\($0) = cv_zero();" }) }
                }
            }
            if k.chunked {
                c.ifElse("cb0 == 0", start) { c in
                    for j in 0..<k.blocks { c.line(each(j) { "a\(j)_\($0) = cv_load(out + \(j * k.outputBlockStride + $0 * channelBlock));" }) }
                }
            } else {
                start(&c)
            }
            let channels = k.lastChannels == channelBlock ? "16" : (k.inputBlocks == 1 ? "\(k.lastChannels)" : "(cb == \(k.inputBlocks - 1) ? \(k.lastChannels) : 16)")
            let reduction = { (c: inout CWriter) in
                switch k.reductionUnroll {
                case 1?: c.line("CNNC_NO_UNROLL")
                case 2?: c.line("CNNC_UNROLL2")
                default: break
                }
                c.scope("for (ic = 0; ic < \(channels); ic++)") { c in
                    c.line("const float *restrict xi = x + ic * \(k.channelStride);")
                    c.line("cv16 xv;")
                    if k.prefetch {
                        for line in 0..<k.blocks { c.line("CNNC_PREFETCH(pf + (wp - w) + ic * \(width) + \(channelBlock * line));") }
                    }
                    for j in 0..<k.blocks { c.line("const cv16 w\(j) = cv_load(wp + ic * \(width) + \(channelBlock * j));") }
                    for r in 0..<k.strip {
                        c.line("xv = cv_set1(xi[\(pixelOffset(k, r))]);" + (0..<k.blocks).map { " a\($0)_\(r) = cv_fma(xv, w\($0), a\($0)_\(r));" }.joined())
                    }
                }
            }
            c.scope(k.chunked ? "for (cb = cb0; cb < cb1; cb++)" : "for (cb = 0; cb < \(k.inputBlocks); cb++)") { c in
                if let taps = k.taps {
                    c.scope("for (ky = ky0; ky < ky1; ky++)") { c in
                        c.scope("for (kx = kx0; kx < kx1; kx++)") { c in
                            c.line("const float *restrict x = in + (off + (ptrdiff_t)cb * \(k.blockStride) + (ptrdiff_t)ky * \(k.rowStep) + (ptrdiff_t)kx * \(k.columnStep));")
                            c.line("const float *restrict wp = w + ((size_t)(cb * \(taps.height) + ky) * \(taps.width) + (size_t)kx) * \(k.tapChannels * width);")
                            reduction(&c)
                        }
                    }
                } else {
                    c.line("const float *restrict x = in + (off + (ptrdiff_t)cb * \(k.blockStride));")
                    c.line("const float *restrict wp = w + (size_t)cb * \(channelBlock * width);")
                    reduction(&c)
                }
            }
            if k.chunked {
                c.scope("if (cb1 < \(k.inputBlocks))") { c in
                    for j in 0..<k.blocks { c.line(each(j) { "cv_store(out + \(j * k.outputBlockStride + $0 * channelBlock), a\(j)_\($0));" }) }
                    c.line("return;")
                }
            }
            c.line("{")
            c.indented { c in
                c.line("cv16 v;")
                for j in 0..<k.blocks {
                    for r in 0..<k.strip {
                        let offset = j * k.outputBlockStride + r * channelBlock
                        var line = "v = a\(j)_\(r);"
                        if k.residual { line += " v = cv_add(v, cv_load(res + \(offset)));" }
                        c.line(line + vectorActivation(k.activation) + " cv_store(out + \(offset), v);")
                    }
                }
            }
            c.line("}")
            c.line("#else")
            scalarMicroKernel(k, &c)
            c.line("#endif")
        }
        return c.text
    }

    /// The same kernel as plain loops, for compilers without a vector unit cnnc knows (the
    /// unrolled form takes a plain C compiler minutes).
    func scalarMicroKernel(_ k: MicroKernel, _ c: inout CWriter) {
        let width = channelBlock * k.blocks
        let channels = k.lastChannels == channelBlock ? "16" : (k.inputBlocks == 1 ? "\(k.lastChannels)" : "(cb == \(k.inputBlocks - 1) ? \(k.lastChannels) : 16)")
        c.line("float acc[\(k.strip)][\(width)];")
        c.line("int r, l, cb, ic;")
        c.line("(void)pf;")
        c.line(k.taps != nil ? "int ky, kx;" : "(void)ky0; (void)ky1; (void)kx0; (void)kx1;")
        if !k.bias { c.line("(void)bias;") }
        if !k.residual { c.line("(void)res;") }
        let at = "(size_t)(l / 16) * \(k.outputBlockStride) + (size_t)r * 16 + (size_t)(l % 16)"
        let initial = k.bias ? "bias[l]" : "0.0f"
        c.line("for (r = 0; r < \(k.strip); r++) for (l = 0; l < \(width); l++) acc[r][l] = \(k.chunked ? "cb0 > 0 ? out[\(at)] : \(initial)" : initial);")
        let pixel = k.flat ? "po[r]" : k.pixelRow.map { "(r / \($0.width)) * \($0.jump) + (r % \($0.width)) * \(k.pixelStride)" } ?? "r * \(k.pixelStride)"
        c.scope(k.chunked ? "for (cb = cb0; cb < cb1; cb++)" : "for (cb = 0; cb < \(k.inputBlocks); cb++)") { c in
            let header: String, x: String, wp: String
            if let taps = k.taps {
                header = "for (ky = ky0; ky < ky1; ky++) for (kx = kx0; kx < kx1; kx++) {"
                x = "in + (off + (ptrdiff_t)cb * \(k.blockStride) + (ptrdiff_t)ky * \(k.rowStep) + (ptrdiff_t)kx * \(k.columnStep))"
                wp = "w + ((size_t)(cb * \(taps.height) + ky) * \(taps.width) + (size_t)kx) * \(k.tapChannels * width)"
            } else {
                header = "{"
                x = "in + (off + (ptrdiff_t)cb * \(k.blockStride))"
                wp = "w + (size_t)cb * \(channelBlock * width)"
            }
            c.line("""
                \(header)
                    const float *x = \(x);
                    const float *wp = \(wp);
                    for (ic = 0; ic < \(channels); ic++) {
                        for (r = 0; r < \(k.strip); r++) {
                            const float xv = x[ic * \(k.channelStride) + \(pixel)];
                            for (l = 0; l < \(width); l++) acc[r][l] += xv * wp[ic * \(width) + l];
                        }
                    }
                }
                """)
        }
        if k.chunked {
            c.scope("if (cb1 < \(k.inputBlocks))") { c in
                c.line("for (r = 0; r < \(k.strip); r++) for (l = 0; l < \(width); l++) out[\(at)] = acc[r][l];")
                c.line("return;")
            }
        }
        let activation = k.activation.map { $0 == .softmax ? "" : " v = \(scalarActivation($0, "v"));" } ?? ""
        c.line("""
            for (r = 0; r < \(k.strip); r++) {
                for (l = 0; l < \(width); l++) {
                    const size_t at = \(at);
                    float v = acc[r][l];\(k.residual ? " v += res[at];" : "")\(activation)
                    out[at] = v;
                }
            }
            """)
    }
}
