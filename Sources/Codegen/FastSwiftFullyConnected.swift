import ShapeCheck

// The fast Swift kernels' fully connected layer, the C's (FastCFullyConnected.swift): tiles of
// 16·nb outputs, each tile's packed weights streamed once per pass of up to `imagesPerPass`
// images, the reduction split into interleaved chains to hide the FMA latency.

extension FastSwiftEmitter {
    func fullyConnected(_ fn: String, _ step: PlanStep, _ f: FullyConnected, _ fc: FullyConnectedKernel) -> (String, String) {
        let NB = f.outputBlocks, TW = channelBlock * NB
        let OUT = fc.outputs
        let rows = plan.values[step.inputs[0]].elements
        let tiles = (OUT + TW - 1) / TW, fullTiles = OUT / TW
        let most = f.imagesPerPass
        var s = "/// fc, \(TW) outputs per tile, up to \(most) images per pass over the weights\n"
        for images in 1...most {
            let chains = f.chains[images - 1]
            func accumulator(_ b: Int, _ j: Int, _ k: Int) -> String { "a\(b)_\(j)_\(k)" }
            var accumulators: [String] = []
            for k in 0..<chains { for b in 0..<images { for j in 0..<NB { accumulators.append(accumulator(b, j, k)) } } }
            let bias = fc.bias != nil ? "_ bias: UnsafePointer<Float>" : "_: UnsafePointer<Float>?"
            s += "static func \(fn)_n\(images)(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, \(bias), _ tile: Int) {\n"
            s += "    var " + accumulators.map { "\($0) = cv_zero()" }.joined(separator: ", ") + "\n"
            s += "    var i = 0\n"
            // One pass of the reduction over rows i ..< i + count, each row in its own chain.
            func rowsBody(_ count: Int, chained: Bool) -> String {
                var body = ""
                for k in 0..<count {
                    let row = k == 0 ? "i" : "i + \(k)"
                    for j in 0..<NB { body += "let w\(j)_\(k) = cv_load(w + (\(row)) * \(TW) + \(channelBlock * j))\n" }
                    for b in 0..<images {
                        body += "let x\(b)_\(k) = cv_set1(x[\(b * rows) + \(row)])"
                        body += (0..<NB).map { j in
                            let a = accumulator(b, j, chained ? k : 0)
                            return "; \(a) = cv_fma(x\(b)_\(k), w\(j)_\(k), \(a))"
                        }.joined() + "\n"
                    }
                }
                return body
            }
            s += "    while i + \(chains) <= \(rows) {\n" + indent(rowsBody(chains, chained: true), 8) + "        i += \(chains)\n    }\n"
            if rows % chains != 0 {
                s += "    while i < \(rows) {\n" + indent(rowsBody(1, chained: false), 8) + "        i += 1\n    }\n"
            }
            for k in stride(from: 1, to: chains, by: 1) {
                for b in 0..<images { for j in 0..<NB { s += "    \(accumulator(b, j, 0)) = cv_add(\(accumulator(b, j, 0)), \(accumulator(b, j, k)))\n" } }
            }
            for b in 0..<images {
                for j in 0..<NB {
                    let sum = fc.bias != nil ? "cv_add(\(accumulator(b, j, 0)), cv_load(bias + tile * \(TW) + \(channelBlock * j)))" : accumulator(b, j, 0)
                    let value = Self.vectorActivation(step.activation, sum)
                    let target = "y + \(b * OUT + channelBlock * j)"
                    if fullTiles == tiles {
                        s += "    cv_store(\(target), \(value))\n"
                    } else {
                        s += """
                                do {
                                    let v = \(value)
                                    if tile < \(fullTiles) {
                                        cv_store(\(target), v)
                                    } else {
                                        let valid = \(OUT) - tile * \(TW) - \(channelBlock * j)
                                        for l in 0..<Swift.max(0, Swift.min(valid, 16)) { (\(target))[l] = v[l] }
                                    }
                                }

                            """
                    }
                }
            }
            s += "}\n"
        }
        let cases = (1...most).map { "    case \($0): \(fn)_n\($0)(y, x, w, a.bias\(fc.bias != nil ? "!" : ""), tile)" }.joined(separator: "\n")
        s += taskFunction(fn, counter: "tile", """
            let w = a.w! + tile * \(rows * TW)
            for n0 in stride(from: 0, to: a.batch, by: \(most)) {
                let y = a.out + n0 * \(OUT) + tile * \(TW), x = a.inp + n0 * \(rows)
                switch Swift.min(a.batch - n0, \(most)) {
            \(cases)
                default: break
                }
            }
            """)
        var text = call(fn, step, tasks: "\(tiles)", w: weight(fc.weight), bias: weight(fc.bias))
        if step.activation == .softmax {
            text += "\nfor n in 0..<batch { cnnc_softmax(\(pointer(step.output)) + n * \(OUT), \(OUT)) }"
        }
        return (s, text)
    }
}
