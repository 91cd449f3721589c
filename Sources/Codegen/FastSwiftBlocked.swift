import ShapeCheck

// The fast Swift kernels on blocked [N, C/16, H, W, 16] values: pooling, global pooling, add,
// activation, batchnorm and LRN, the C's (FastCBlocked.swift) task for task and in the same
// order of operations, so both give the same floats.

extension FastSwiftEmitter {
    func blocked(_ fn: String, _ step: PlanStep, _ schedule: BlockedKernel, _ layer: Step) -> (String, String) {
        let output = plan.values[step.output]
        let OC = output.shape.depth, OH = output.shape.height, OW = output.shape.width
        let header = "/// \(commentText(describeStep(layer, program: program))), blocked\n"
        switch layer.kernel {
        case .pooling(let pool):
            let input = plan.values[step.inputs[0]].shape
            let H = input.height, W = input.width, CB = (OC + channelBlock - 1) / channelBlock
            let body = """
                let plane = t / \(OH), oy = t % \(OH)
                let x = a.inp + plane * \(H * W * channelBlock)
                let y = a.out + (plane * \(OH) + oy) * \(OW * channelBlock)
                for ox in 0..<\(OW) {
                \(indent(poolingWindow(pool, unrolled: schedule.unrolledTaps), 4))}
                """
            return (header + taskFunction(fn, body), call(fn, step, tasks: "batch * \(CB * OH)"))
        case .globalPooling(let pool):
            let input = plan.values[step.inputs[0]].shape
            let C = input.depth, P = input.height * input.width, CB = (C + channelBlock - 1) / channelBlock
            let combine = pool.kind == .max ? "cv_max_nan" : "cv_add"
            var body = """
                let x = a.inp + t * \(P * channelBlock)
                var acc = cv_load(x)
                for p in 1..<\(P) { acc = \(combine)(acc, cv_load(x + p * 16)) }

                """
            if pool.kind != .max { body += "acc = cv_div(acc, cv_set1(\(P)))\n" }
            if output.layout == .blocked {
                body += "cv_store(a.out + t * 16, acc)\n"
            } else {
                body += """
                    let n = t / \(CB), cb = t % \(CB)
                    for l in 0..<Swift.min(16, \(C) - cb * 16) { a.out[n * \(C) + cb * 16 + l] = acc[l] }

                    """
            }
            return (header + taskFunction(fn, body), call(fn, step, tasks: "batch * \(CB)"))
        case .add, .activation:
            let E = output.elements
            guard let chunk = schedule.elementsPerTask else { preconditionFailure("an element-wise step without its task size") }
            let chunks = (E + chunk - 1) / chunk
            let inputs = layer.kernel.mnemonic == "add" ? step.inputs.count : 1
            let names = (0..<inputs).map { "x\($0)" }
            let before = inputs == 1 ? "let x0 = a.inp\n" : "let \(names.enumerated().map { "\($1) = a.ins[\($0)]" }.joined(separator: ", "))\n"
            let sum = names.dropFirst().reduce("cv_load(x0 + base + i)") { "cv_add(\($0), cv_load(\($1) + base + i))" }
            let body = """
                let n = t / \(chunks), c = t % \(chunks)
                let base = n * \(E) + c * \(chunk)
                for i in stride(from: 0, to: Swift.min(\(E) - c * \(chunk), \(chunk)), by: 16) {
                    let v = \(sum)
                    cv_store(a.out + base + i, \(Self.vectorActivation(step.activation, "v")))
                }
                """
            return (header + taskFunction(fn, before: before, body), call(fn, step, tasks: "batch * \(chunks)", onInputs: inputs > 1))
        case .batchNorm(let norm):
            let P = OH * OW, CB = (OC + channelBlock - 1) / channelBlock
            let body = """
                let cb = t % \(CB)
                let x = a.inp + t * \(P * channelBlock), y = a.out + t * \(P * channelBlock)
                let scale = cv_load(a.w! + cb * 16), shift = cv_load(a.bias! + cb * 16)
                for p in 0..<\(P) {
                    let v = cv_fma(cv_load(x + p * 16), scale, shift)
                    cv_store(y + p * 16, \(Self.vectorActivation(step.activation, "v")))
                }
                """
            return (header + taskFunction(fn, body),
                    call(fn, step, tasks: "batch * \(CB)", w: weight(norm.scale), bias: weight(norm.shift)))
        case .localResponseNorm(let lrn):
            let P = OH * OW
            return (header + localResponseNorm(fn, lrn.parameters, channels: OC, pixels: P), call(fn, step, tasks: "batch * \(P)"))
        default:
            // KernelCapabilities.swiftKernels has blockedLayers but not blockedChannelOps.
            preconditionFailure("no blocked Swift kernel for \(layer.kernel.mnemonic)")
        }
    }

    /// The body of a blocked pooling's loop over output columns `ox`: every tap unrolled
    /// (BlockedKernel.unrolledTaps), else bounded loops; padded cells count in an average, as
    /// in the C's and the reference's.
    func poolingWindow(_ pool: PoolingKernel, unrolled: Bool) -> String {
        let w = pool.window, H = pool.input.height, W = pool.input.width
        if unrolled {
            var taps: [String] = []
            for ky in 0..<w.kernelHeight {
                for kx in 0..<w.kernelWidth {
                    taps.append("cv_load(x + ((oy * \(w.strideHeight) + \(ky * w.dilationHeight)) * \(W) + ox * \(w.strideWidth) + \(kx * w.dilationWidth)) * 16)")
                }
            }
            return "cv_store(y + ox * 16, \(taps.dropFirst().reduce(taps[0]) { "cv_max_nan(\($0), \($1))" }))"
        }
        if pool.kind == .max {
            return """
                var m = cv_set1(-Float.infinity)
                for ky in 0..<\(w.kernelHeight) {
                    let iy = oy * \(w.strideHeight) - \(w.padTop) + ky * \(w.dilationHeight)
                    if iy < 0 || iy >= \(H) { continue }
                    for kx in 0..<\(w.kernelWidth) {
                        let ix = ox * \(w.strideWidth) - \(w.padLeft) + kx * \(w.dilationWidth)
                        if ix >= 0 && ix < \(W) { m = cv_max_nan(m, cv_load(x + (iy * \(W) + ix) * 16)) }
                    }
                }
                cv_store(y + ox * 16, m)
                """
        }
        return """
            let y0 = oy * \(w.strideHeight) - \(w.padTop), x0 = ox * \(w.strideWidth) - \(w.padLeft)
            let y1 = Swift.min(y0 + \(w.kernelHeight), \(H + w.padBottom)), x1 = Swift.min(x0 + \(w.kernelWidth), \(W + w.padRight))
            let ya = Swift.max(y0, 0), yb = Swift.max(ya, Swift.min(y1, \(H)))
            let xa = Swift.max(x0, 0), xb = Swift.max(xa, Swift.min(x1, \(W)))
            var sum = cv_zero()
            for iy in ya..<yb {
                for ix in xa..<xb { sum = cv_add(sum, cv_load(x + (iy * \(W) + ix) * 16)) }
            }
            cv_store(y + ox * 16, cv_div(sum, cv_set1(Float((y1 - y0) * (x1 - x0)))))
            """
    }

    /// LRN across channels, one pixel a task, as the C's: the squares of all its channels in a
    /// zero-margined buffer (zero past the last real channel), then each block's window sums.
    func localResponseNorm(_ fn: String, _ p: LocalResponseNorm, channels C: Int, pixels P: Int) -> String {
        let CB = (C + channelBlock - 1) / channelBlock, margin = 16, size = CB * channelBlock + 2 * margin
        let before = p.size / 2, after = (p.size - 1) / 2
        let beta = Float(p.beta)
        let power: String
        if beta == 0.75 {
            power = "let r = d.squareRoot(); v = cv_div(v, cv_mul(r, r.squareRoot()))"
        } else if beta == 0.5 {
            power = "v = cv_div(v, d.squareRoot())"
        } else if beta == 1 {
            power = "v = cv_div(v, d)"
        } else {
            power = "for l in 0..<16 { v[l] /= powf(d[l], \(swiftFloat(beta))) }"
        }
        var window = "cv_load(sq + c)"
        for o in stride(from: 1, through: before, by: 1) { window = "cv_add(\(window), cv_load(sq + c - \(o)))" }
        for o in stride(from: 1, through: after, by: 1) { window = "cv_add(\(window), cv_load(sq + c + \(o)))" }
        var s = "static func \(fn)(_ a: cnnc_args, _ begin: Int, _ end: Int) {\n"
        s += "    withUnsafeTemporaryAllocation(of: Float.self, capacity: \(size)) { buffer in\n"
        s += "        let sq = buffer.baseAddress! + \(margin)\n"
        s += "        buffer.initialize(repeating: 0)\n"
        var body = """
            let n = t / \(P), p = t % \(P)
            let x = a.inp + n * \(CB * P * channelBlock) + p * 16
            let y = a.out + n * \(CB * P * channelBlock) + p * 16
            for c in stride(from: 0, to: \(CB * channelBlock), by: 16) {
                let v = cv_load(x + (c / 16) * \(P * channelBlock))
                cv_store(sq + c, cv_mul(v, v))
            }

            """
        if C < CB * channelBlock { body += "for c in \(C)..<\(CB * channelBlock) { sq[c] = 0 }\n" }
        body += """
            for c in stride(from: 0, to: \(CB * channelBlock), by: 16) {
                var v = cv_load(x + (c / 16) * \(P * channelBlock))
                let d = cv_add(cv_set1(\(swiftFloat(Float(p.k)))), cv_mul(cv_set1(\(swiftFloat(Float(p.alpha) / Float(p.size)))), \(window)))
                \(power)
                cv_store(y + (c / 16) * \(P * channelBlock), v)
            }
            """
        s += "        for t in begin..<end {\n" + indent(body, 12) + "        }\n"
        return s + "    }\n}\n"
    }
}
