import ShapeCheck

extension Reference {
    /// Max pooling (PyTorch's max_pool2d): the largest input cell under the window. Padded
    /// cells are never picked — they are skipped, not read as zeros or −∞ — and a NaN wins.
    ///   out   [N, D, Ho, Wo]
    ///   input [N, D, H, W]
    /// out[n, d, oy, ox] = max_{ky, kx in the image} input[n, d, oy·Sh + ky·Dh − Pt, ox·Sw + kx·Dw − Pl]
    /// Ceil mode needs nothing special here: the checked output size already says how many
    /// windows there are, and a window hanging past the input just has fewer cells.
    static func maxPool(_ out: inout ReferenceActivations, _ input: ReferenceActivations, _ window: Window) {
        let planes = input.batch * input.depth, h = input.height, w = input.width
        let ho = out.height, wo = out.width
        input.data.withUnsafeBufferPointer { inp in
        out.data.withUnsafeMutableBufferPointer { outp in
            for plane in 0..<planes {
                let inBase = plane * h * w, outBase = plane * ho * wo
                for oy in 0..<ho {
                    for ox in 0..<wo {
                        var largest = -Float.infinity
                        for ky in 0..<window.kernelHeight {
                            let y = oy * window.strideHeight + ky * window.dilationHeight - window.padding.top
                            guard y >= 0 && y < h else { continue }
                            for kx in 0..<window.kernelWidth {
                                let x = ox * window.strideWidth + kx * window.dilationWidth - window.padding.left
                                guard x >= 0 && x < w else { continue }
                                let value = inp[inBase + y * w + x]
                                if value > largest || value.isNaN { largest = value }
                                if largest.isNaN { break }
                            }
                        }
                        outp[outBase + oy * wo + ox] = largest
                    }
                }
            }
        }
        }
    }

    /// Average pooling (PyTorch's avg_pool2d with count_include_pad = True): the sum of the
    /// input cells under the window divided by the window's size with padded cells counted —
    /// but, in ceil mode, not the cells of a last window that hang beyond the right (bottom)
    /// padding: PyTorch clips the window to the padded extent [−Pl, W + Pr) before counting.
    ///   out   [N, D, Ho, Wo]
    ///   input [N, D, H, W]
    /// x0 = ox·Sw − Pl, x1 = min(x0 + Fw, W + Pr), likewise y0, y1;
    /// out[n, d, oy, ox] = Σ_{y in [y0,y1) ∩ [0,H), x in [x0,x1) ∩ [0,W)} input[n, d, y, x] / ((y1 − y0)·(x1 − x0))
    static func averagePool(_ out: inout ReferenceActivations, _ input: ReferenceActivations, _ window: Window) {
        precondition(window.dilationWidth == 1 && window.dilationHeight == 1, "a dilated average pool")
        let planes = input.batch * input.depth, h = input.height, w = input.width
        let ho = out.height, wo = out.width
        let padding = window.padding
        input.data.withUnsafeBufferPointer { inp in
        out.data.withUnsafeMutableBufferPointer { outp in
            for plane in 0..<planes {
                let inBase = plane * h * w, outBase = plane * ho * wo
                for oy in 0..<ho {
                    let y0 = oy * window.strideHeight - padding.top
                    let y1 = min(y0 + window.kernelHeight, h + padding.bottom)
                    for ox in 0..<wo {
                        let x0 = ox * window.strideWidth - padding.left
                        let x1 = min(x0 + window.kernelWidth, w + padding.right)
                        let count = (y1 - y0) * (x1 - x0)
                        var sum: Double = 0
                        for y in max(y0, 0)..<max(max(y0, 0), min(y1, h)) {
                            for x in max(x0, 0)..<max(max(x0, 0), min(x1, w)) {
                                sum += Double(inp[inBase + y * w + x])
                            }
                        }
                        outp[outBase + oy * wo + ox] = Float(sum / Double(count))
                    }
                }
            }
        }
        }
    }

    /// Global average pooling: the mean of each channel.
    ///   out [N, D, 1, 1], input [N, D, H, W]
    static func globalAveragePool(_ out: inout ReferenceActivations, _ input: ReferenceActivations) {
        let planes = input.batch * input.depth, size = input.plane
        input.data.withUnsafeBufferPointer { inp in
            for plane in 0..<planes {
                var sum: Double = 0
                for i in 0..<size { sum += Double(inp[plane * size + i]) }
                out.data[plane] = Float(sum / Double(size))
            }
        }
    }

    /// Global max pooling: the largest value of each channel (a NaN wins).
    ///   out [N, D, 1, 1], input [N, D, H, W]
    static func globalMaxPool(_ out: inout ReferenceActivations, _ input: ReferenceActivations) {
        let planes = input.batch * input.depth, size = input.plane
        input.data.withUnsafeBufferPointer { inp in
            for plane in 0..<planes {
                var largest = -Float.infinity
                for i in 0..<size {
                    let value = inp[plane * size + i]
                    if value > largest || value.isNaN { largest = value }
                }
                out.data[plane] = largest
            }
        }
    }
}
