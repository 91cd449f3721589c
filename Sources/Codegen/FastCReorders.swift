import ShapeCheck

// The fast C backend's layout kernels: zero-bordered copies (a prepadded convolution's input)
// and the reorders between the planar and blocked layouts.

extension FastCEmitter {
    // MARK: pad

    func pad(_ fn: String, _ step: PlanStep, top: Int, left: Int) -> (String, String) {
        let input = plan.values[step.inputs[0]].shape, output = plan.values[step.output].shape
        let H = input.height, W = input.width, H2 = output.height, W2 = output.width, CB = (input.depth + channelBlock - 1) / channelBlock
        let right = W2 - left - W
        var s = "/* a zero-bordered copy, \(W)x\(H) to \(W2)x\(H2) */\n"
        s += taskFunction(fn, integers: ["y"]) { c in
            c.line("""
                const float *x = a->in + (size_t)t * \(H * W * channelBlock);
                float *o = a->out + (size_t)t * \(H2 * W2 * channelBlock);
                """)
            c.scope("for (y = 0; y < \(H2); y++)") { c in
                c.line("""
                    float *row = o + (size_t)y * \(W2 * channelBlock);
                    const int iy = y - \(top);
                    """)
                c.ifElse("iy < 0 || iy >= \(H)") { c in
                    c.line("memset(row, 0, \(W2 * channelBlock) * sizeof(float));")
                } else: { c in
                    if left > 0 { c.line("memset(row, 0, \(left * channelBlock) * sizeof(float));") }
                    c.line("memcpy(row + \(left * channelBlock), x + (size_t)iy * \(W * channelBlock), \(W * channelBlock) * sizeof(float));")
                    if right > 0 { c.line("memset(row + \((left + W) * channelBlock), 0, \(right * channelBlock) * sizeof(float));") }
                }
            }
        }
        s += "\n"
        return (s, call(fn, step, tasks: "batch * \(CB)"))
    }

    // MARK: reorders

    func reorder(_ fn: String, _ step: PlanStep) -> (String, String) {
        let value = plan.values[step.output]
        let C = value.shape.depth, P = value.shape.height * value.shape.width, CB = (C + channelBlock - 1) / channelBlock
        let toBlocked = step.kernel == .toBlocked
        var s = "/* \(toBlocked ? "[C, H, W] to [C/16, H, W, 16]" : "[C/16, H, W, 16] to [C, H, W]") */\n"
        s += taskFunction(fn, integers: ["p", "l"]) { c in
            c.line("""
                const int n = t / \(CB), cb = t % \(CB);
                const int channels = \(C) - cb * 16 < 16 ? \(C) - cb * 16 : 16;
                const float *x = a->in + (size_t)n * \(toBlocked ? C * P : CB * P * channelBlock);
                float *y = a->out + (size_t)n * \(toBlocked ? CB * P * channelBlock : C * P);
                """)
            if toBlocked {
                c.line("""
                    float *yb = y + (size_t)cb * \(P * channelBlock);
                    for (p = 0; p < \(P); p++) {
                        for (l = 0; l < channels; l++) yb[p * 16 + l] = x[(size_t)(cb * 16 + l) * \(P) + p];
                        for (; l < 16; l++) yb[p * 16 + l] = 0.0f;
                    }
                    """)
            } else {
                c.line("""
                    const float *xb = x + (size_t)cb * \(P * channelBlock);
                    for (l = 0; l < channels; l++) {
                        float *yc = y + (size_t)(cb * 16 + l) * \(P);
                        for (p = 0; p < \(P); p++) yc[p] = xb[p * 16 + l];
                    }
                    """)
            }
        }
        return (s, call(fn, step, tasks: "batch * \(CB)"))
    }
}
