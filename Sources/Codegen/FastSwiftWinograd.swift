import ShapeCheck

// The fast Swift kernels' Winograd convolution, the C's (FastCWinograd.swift) in the same order
// of operations: per group of tiles the input transform into V, per output channel group and
// transformed cell a GEMM micro-kernel into M, the output transform with bias, residual and
// activation, and the direct fallback in double for a tile whose result is not finite
// (WinogradFallback.swift). V, M and the tiles' flags live in a per-thread scratch allocated
// when a thread starts its share of the step.

extension FastSwiftEmitter {
    /// `let outputs[i] = Σ_k m[i][k]·inputs[k]` for a constant matrix, one line each, in the
    /// C's order of additions.
    func linearCombination(_ m: [[Double]], inputs: [String], outputs: [String]) -> String {
        var lines = ""
        for (i, row) in m.enumerated() {
            var expression: String?
            for (k, c) in row.enumerated() where c != 0 {
                let term = c == 1 || c == -1 ? inputs[k] : "cv_mul(cv_set1(\(swiftFloat(Float(abs(c))))), \(inputs[k]))"
                if let e = expression {
                    expression = c > 0 ? "cv_add(\(e), \(term))" : "cv_sub(\(e), \(term))"
                } else {
                    expression = c > 0 ? term : "cv_sub(cv_zero(), \(term))"
                }
            }
            lines += "let \(outputs[i]) = \(expression ?? "cv_zero()")\n"
        }
        return lines
    }

    func winogradConvolution(_ fn: String, _ step: PlanStep, _ wg: WinogradConvolution, _ conv: ConvolutionKernel) -> (String, String) {
        let g = WinogradGeometry(step, wg, conv)
        let H = g.H, W = g.W, PT = g.PT, PL = g.PL, m = g.m, r = g.r, T2 = g.T2
        let CB = g.CB, NB = g.NB, KBG = g.KBG, TX = g.TX, tilesPerImage = g.tilesPerImage, TG = g.TG
        let imageIn = g.imageIn, OBS = g.OBS, imageOut = g.imageOut, residual = g.residual, vSize = g.vSize, R = g.R, mSize = g.mSize, bias = g.bias
        func gemm(_ strip: Int) -> MicroKernel { g.gemm("\(fn)_g\(strip)", strip: strip) }
        let strips = g.strips

        var s = "/// Winograd F(\(m)x\(m), \(r)x\(r)), \(TG) tiles per group\n"
        for strip in strips { s += microKernel(gemm(strip)) }
        s += winogradInputTransform(fn, wg, conv, CB: CB)
        s += winogradOutputTransform(fn, step, wg, conv)
        s += winogradFallback(fn, step, wg, conv)

        let tileIndex = "let gt = first + tile, n = gt / \(tilesPerImage), ty = (gt % \(tilesPerImage)) / \(TX), tx = gt % \(TX)"
        let out = "a.out + n * \(imageOut) + kb * \(OBS)"
        var extra = ""
        if residual { extra += ", a.res! + n * \(imageOut) + kb * \(OBS)" }
        if bias { extra += ", a.bias! + kb * 16" }
        let gemmCalls = strips.filter { $0 != R }.map { "case \($0): \(fn)_g\($0)(mx + r * 16, vx, r * 16, u)" }
        let body = """
            // a group of tiles, and a share of the output channel groups
            let group = task / \(wg.chunks), chunk = task % \(wg.chunks)
            let g0 = chunk * \(KBG) / \(wg.chunks), g1 = (chunk + 1) * \(KBG) / \(wg.chunks)
            let first = group * \(TG)
            let count = Swift.min(a.batch * \(tilesPerImage) - first, \(TG))
            for tile in 0..<count {
                \(tileIndex)
                for cb in 0..<\(CB) {
                    \(fn)_in(a.inp + n * \(imageIn) + cb * \(H * W * channelBlock), V + (cb * \(TG) + tile) * 16, ty * \(m) - \(PT), tx * \(m) - \(PL))
                }
            }
            for g in g0..<g1 {
                // M[xi][j][tile] = Σ_c U[xi][g][c][j] V[xi][c][tile]
                for xi in 0..<\(T2) {
                    let u = a.w! + (xi * \(KBG) + g) * \(CB * channelBlock * NB * channelBlock)
                    let vx = UnsafePointer(V + xi * \(CB * TG * channelBlock))
                    let mx = M + xi * \(NB * TG * channelBlock)
                    var r = 0
                    while r + \(R) <= count {
                        \(fn)_g\(R)(mx + r * 16, vx, r * 16, u)
                        r += \(R)
                    }
            \(gemmCalls.isEmpty ? "" : "        switch count - r {\n" + gemmCalls.map { "        \($0)\n" }.joined() + "        default: break\n        }")
                }
                // per tile: 0, or NaN in a lane where a result is not finite
                var any = cv_zero()
                for tile in 0..<count {
                    \(tileIndex)
                    var flag = cv_zero()
                    for j in 0..<\(NB) {
                        let kb = g * \(NB) + j
                        flag = cv_add(flag, \(fn)_out(UnsafePointer(M + (j * \(TG) + tile) * 16), \(out)\(extra), ty * \(m), tx * \(m)))
                    }
                    cv_store(bad + tile * 16, flag)
                    any = cv_add(any, flag)
                }
                // a tile whose result is not finite again, as a direct convolution (WinogradFallback.swift)
                if \(fn)_nonfinite(any) {
                    for tile in 0..<count where \(fn)_nonfinite(cv_load(bad + tile * 16)) {
                        \(tileIndex)
                        for j in 0..<\(NB) {
                            let kb = g * \(NB) + j
                            \(fn)_direct(a.inp + n * \(imageIn), a.w!, \(out)\(extra), kb, ty * \(m), tx * \(m))
                        }
                    }
                }
            }
            """
        s += """
            static func \(fn)(_ a: cnnc_args, _ begin: Int, _ end: Int) {
                withUnsafeTemporaryAllocation(of: Float.self, capacity: \(vSize + mSize + TG * channelBlock)) { scratch in
                    let V = scratch.baseAddress!, M = V + \(vSize), bad = M + \(mSize)
                    for task in begin..<end {

            """
        s += indent(body, 12) + "        }\n    }\n}\n"
        let groups = "(batch * \(tilesPerImage) + \(TG - 1)) / \(TG) * \(wg.chunks)"
        return (s, call(fn, step, tasks: groups, res: residual ? readPointer(step.inputs[1]) : "nil",
                        w: weight(conv.weight), bias: weight(conv.bias)))
    }

    /// `fn_in`: V[xi] = (Bᵀ d B)[xi] for the t x t cells at (y0, x0) of one channel block x
    /// (zero outside the input).
    func winogradInputTransform(_ fn: String, _ wg: WinogradConvolution, _ conv: ConvolutionKernel, CB: Int) -> String {
        let H = conv.input.height, W = conv.input.width
        let m = wg.tile, r = wg.taps, t = m + r - 1, T2 = t * t, TG = wg.tileGroup
        let bt = WinogradMatrices.bt(tile: m, taps: r)
        let d = (0..<T2).map { "d\($0)" }, u = (0..<T2).map { "u\($0)" }, e = (0..<T2).map { "e\($0)" }
        var s = "@inline(__always)\n"
        s += "static func \(fn)_in(_ x: UnsafePointer<Float>, _ v: UnsafeMutablePointer<Float>, _ y0: Int, _ x0: Int) {\n"
        s += "    let " + d.map { "\($0): cv16" }.joined(separator: ", ") + "\n"
        s += "    if y0 >= 0 && x0 >= 0 && y0 + \(t) <= \(H) && x0 + \(t) <= \(W) {\n"
        s += "        let x0p = x + (y0 * \(W) + x0) * 16\n"
        for i in 0..<t { s += "        " + (0..<t).map { "d\(i * t + $0) = cv_load(x0p + \((i * W + $0) * channelBlock))" }.joined(separator: "; ") + "\n" }
        s += "    } else {\n"
        s += "        func cell(_ i: Int, _ j: Int) -> cv16 {\n"
        s += "            let yy = y0 + i, xx = x0 + j\n"
        s += "            return yy >= 0 && yy < \(H) && xx >= 0 && xx < \(W) ? cv_load(x + (yy * \(W) + xx) * 16) : cv_zero()\n"
        s += "        }\n"
        for i in 0..<t { s += "        " + (0..<t).map { "d\(i * t + $0) = cell(\(i), \($0))" }.joined(separator: "; ") + "\n" }
        s += "    }\n"
        var transform = ""
        for j in 0..<t { transform += linearCombination(bt, inputs: (0..<t).map { d[$0 * t + j] }, outputs: (0..<t).map { u[$0 * t + j] }) }
        for i in 0..<t { transform += linearCombination(bt, inputs: (0..<t).map { u[i * t + $0] }, outputs: (0..<t).map { e[i * t + $0] }) }
        for i in 0..<T2 { transform += "cv_store(v + \(i * CB * TG * channelBlock), e\(i))\n" }
        return s + indent(transform, 4) + "}\n"
    }

    /// `fn_out`: out = act(Aᵀ M A + bias + residual) for the m x m outputs at (oy0, ox0) of one
    /// output block; returns 0 in each lane, or NaN where the sum of its Aᵀ M A + bias is not
    /// finite (the caller then redoes the tile).
    func winogradOutputTransform(_ fn: String, _ step: PlanStep, _ wg: WinogradConvolution, _ conv: ConvolutionKernel) -> String {
        let OH = conv.output.height, OW = conv.output.width
        let m = wg.tile, r = wg.taps, t = m + r - 1, T2 = t * t, TG = wg.tileGroup, NB = wg.outputBlocks
        let residual = step.inputs.count > 1, bias = conv.bias != nil
        let at = WinogradMatrices.at(tile: m, taps: r)
        let d = (0..<T2).map { "d\($0)" }, p = (0..<(m * t)).map { "p\($0)" }, y = (0..<(m * m)).map { "y\($0)" }
        var parameters = ["_ mm: UnsafePointer<Float>", "_ o: UnsafeMutablePointer<Float>"]
        if residual { parameters.append("_ rs: UnsafePointer<Float>") }
        if bias { parameters.append("_ bias: UnsafePointer<Float>") }
        parameters += ["_ oy0: Int", "_ ox0: Int"]
        var s = "@inline(__always)\n"
        s += "static func \(fn)_out(\(parameters.joined(separator: ", "))) -> cv16 {\n"
        var body = "let b = \(bias ? "cv_load(bias)" : "cv_zero()")\n"
        for i in 0..<T2 { body += "let d\(i) = cv_load(mm + \(i * NB * TG * channelBlock))\n" }
        for j in 0..<t { body += linearCombination(at, inputs: (0..<t).map { d[$0 * t + j] }, outputs: (0..<m).map { p[$0 * t + j] }) }
        for i in 0..<m { body += linearCombination(at, inputs: (0..<t).map { p[i * t + $0] }, outputs: (0..<m).map { y[i * m + $0] }) }
        body += "var bad = cv_zero()\n"
        for i in 0..<m {
            for j in 0..<m {
                body += """
                    if oy0 + \(i) < \(OH) && ox0 + \(j) < \(OW) {
                        let at = ((oy0 + \(i)) * \(OW) + ox0 + \(j)) * 16
                        let v = cv_add(y\(i * m + j), b)
                        bad = cv_add(bad, v)
                        cv_store(o + at, \(Self.vectorActivation(step.activation, residual ? "cv_add(v, cv_load(rs + at))" : "v")))
                    }

                    """
            }
        }
        body += "return cv_mul(bad, cv_zero())  // 0, or NaN where a sum was not finite\n"
        return s + indent(body, 4) + "}\n"
    }

    /// The slow path: `fn_nonfinite` tests a flag of the output transform, and `fn_direct`
    /// computes the m x m outputs at (oy0, ox0) of output block kb directly, in double as the
    /// reference interpreter does, from the filters g = L U Lᵀ recovered from U.
    func winogradFallback(_ fn: String, _ step: PlanStep, _ wg: WinogradConvolution, _ conv: ConvolutionKernel) -> String {
        let C = conv.input.depth, H = conv.input.height, W = conv.input.width
        let K = conv.output.depth, OH = conv.output.height, OW = conv.output.width
        let PT = conv.window.padTop, PL = conv.window.padLeft
        let m = wg.tile, r = wg.taps, t = m + r - 1
        let NB = wg.outputBlocks, KB = roundUp(K, to: channelBlock) / channelBlock, KBG = KB / NB, channels = roundUp(C, to: channelBlock)
        let residual = step.inputs.count > 1, bias = conv.bias != nil
        // U's layout (PackedLayout.winograd): [t·t][KBG][channels][NB·16].
        let xiStride = KBG * channels * NB * channelBlock
        let l = WinogradMatrices.filterRecovery(tile: m, taps: r)
        let lText = "[" + l.flatMap { $0 }.map { "\($0)" }.joined(separator: ", ") + "]"
        var parameters = ["_ x: UnsafePointer<Float>", "_ u: UnsafePointer<Float>", "_ o: UnsafeMutablePointer<Float>"]
        if residual { parameters.append("_ rs: UnsafePointer<Float>") }
        if bias { parameters.append("_ bias: UnsafePointer<Float>") }
        parameters += ["_ kb: Int", "_ oy0: Int", "_ ox0: Int"]
        let value = Self.scalarActivation(step.activation, residual ? "Float(acc[(i * \(m) + j) * 16 + l]) + rs[at + l]" : "Float(acc[(i * \(m) + j) * 16 + l])")
        return """
            @inline(__always)
            static func \(fn)_nonfinite(_ flag: cv16) -> Bool { any(flag .!= cv_zero()) }

            /// The outputs of block kb at (oy0, ox0) as a direct convolution in double; only for a
            /// tile whose Winograd result is not finite.
            @inline(never)
            static func \(fn)_direct(\(parameters.joined(separator: ", "))) {
                let lt: [Double] = \(lText)  // L, \(r) x \(t)
                var acc = [Double](repeating: 0, count: \(m * m * 16)), f = [Double](repeating: 0, count: \(16 * r * r))
                var h = [Double](repeating: 0, count: \(r * t))
                let g = kb / \(NB), lanes = Swift.min(\(K) - kb * 16, 16)
                for i in 0..<\(m * m) { for l in 0..<16 { acc[i * 16 + l] = \(bias ? "Double(bias[l])" : "0") } }
                for c in 0..<\(C) {
                    let uc = u + (g * \(channels) + c) * \(NB * channelBlock) + (kb % \(NB)) * 16
                    for l in 0..<lanes {
                        for p in 0..<\(r) {
                            for q in 0..<\(t) {
                                var s = 0.0
                                for i in 0..<\(t) { s += lt[p * \(t) + i] * Double(uc[(i * \(t) + q) * \(xiStride) + l]) }
                                h[p * \(t) + q] = s
                            }
                        }
                        for p in 0..<\(r) {
                            for q in 0..<\(r) {
                                var s = 0.0
                                for i in 0..<\(t) { s += h[p * \(t) + i] * lt[q * \(t) + i] }
                                f[(l * \(r) + p) * \(r) + q] = s
                            }
                        }
                    }
                    for i in 0..<\(m) where oy0 + i < \(OH) {
                        for j in 0..<\(m) where ox0 + j < \(OW) {
                            for ky in 0..<\(r) {
                                let iy = oy0 + i + ky - \(PT)
                                if iy < 0 || iy >= \(H) { continue }
                                for kx in 0..<\(r) {
                                    let ix = ox0 + j + kx - \(PL)
                                    if ix < 0 || ix >= \(W) { continue }
                                    let xv = Double(x[(((c / 16) * \(H) + iy) * \(W) + ix) * 16 + c % 16])
                                    for l in 0..<lanes { acc[(i * \(m) + j) * 16 + l] += f[(l * \(r) + ky) * \(r) + kx] * xv }
                                }
                            }
                        }
                    }
                }
                for i in 0..<\(m) where oy0 + i < \(OH) {
                    for j in 0..<\(m) where ox0 + j < \(OW) {
                        let at = ((oy0 + i) * \(OW) + ox0 + j) * 16
                        for l in 0..<16 { o[at + l] = \(value) }
                    }
                }
            }

            """
    }

    /// `x` (a Float expression) through `activation`, lane by lane, as the C's scalarActivation:
    /// each test `< 0`, so a NaN takes the identity branch and stays NaN.
    static func scalarActivation(_ activation: Activation?, _ x: String) -> String {
        func through(_ body: String) -> String { "{ (v: Float) -> Float in \(body) }(\(x))" }
        switch activation {
        case nil, .softmax?: return x
        case .relu?: return through("v < 0 ? 0 : v")
        case .leakyRelu(let a)?: return through("v < 0 ? \(swiftFloat(Float(a))) * v : v")
        case .elu(let a)?: return through("v < 0 ? \(swiftFloat(Float(a))) * expm1f(v) : v")
        case .sigmoid?: return through("1 / (1 + expf(-v))")
        case .tanh?: return through("tanhf(v)")
        case .relu6?: return through("v < 0 ? 0 : v > 6 ? 6 : v")
        case .hardswish?: return through("v * (v + 3 < 0 ? 0 : v + 3 > 6 ? 6 : v + 3) / 6")
        case .hardsigmoid?: return through("(v + 3 < 0 ? 0 : v + 3 > 6 ? 6 : v + 3) / 6")
        case .silu?: return through("v / (1 + expf(-v))")
        case .gelu(tanh: false)?: return through("v * 0.5 * (1 + erff(v * 0.70710678118654752))")
        case .gelu(tanh: true)?: return through("0.5 * v * (1 + tanhf(0.79788456080286536 * (v + 0.044715 * v * v * v)))")
        }
    }
}
