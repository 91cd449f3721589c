import ShapeCheck

extension Reference {
    /// torch's conv_transpose2d, gathered in Double (the C and Swift kernels scatter):
    ///   out    [N, K, OH, OW]      input [N, C, H, W]
    ///   weight [C, K/G, Fh, Fw]    bias  [K] or nil
    /// out[n, k, oy, ox] = bias[k] + Σ_{c in k's group, ky, kx} weight[c, k mod K/G, ky, kx] · input[n, c, iy, ix]
    /// over the taps with oy + P − ky·D = iy·S (and likewise for x) and (iy, ix) inside the input.
    static func transposedConvolution(_ out: inout ReferenceActivations, _ input: ReferenceActivations, weight: [Float], bias: [Float]?,
                                      _ conv: TransposedConvolution) {
        let c = input.depth, h = input.height, w = input.width
        let k = out.depth, ho = out.height, wo = out.width
        let cPerGroup = c / conv.groups, kPerGroup = k / conv.groups
        let window = conv.window
        let fh = window.kernelHeight, fw = window.kernelWidth
        precondition(weight.count == c * kPerGroup * fh * fw)
        /// The input index a tap reads for output index o, or nil where it falls between cells or outside.
        func source(_ o: Int, tap: Int, stride: Int, dilation: Int, pad: Int, size: Int) -> Int? {
            let shifted = o + pad - tap * dilation
            guard shifted >= 0, shifted % stride == 0, shifted / stride < size else { return nil }
            return shifted / stride
        }
        for n in 0..<input.batch {
            for filter in 0..<k {
                let group = filter / kPerGroup, j = filter % kPerGroup
                for oy in 0..<ho {
                    for ox in 0..<wo {
                        var sum = Double(bias?[filter] ?? 0)
                        for ky in 0..<fh {
                            guard let iy = source(oy, tap: ky, stride: window.strideHeight, dilation: window.dilationHeight,
                                                  pad: window.padding.top, size: h) else { continue }
                            for kx in 0..<fw {
                                guard let ix = source(ox, tap: kx, stride: window.strideWidth, dilation: window.dilationWidth,
                                                      pad: window.padding.left, size: w) else { continue }
                                for ci in 0..<cPerGroup {
                                    let channel = group * cPerGroup + ci
                                    sum += Double(weight[((channel * kPerGroup + j) * fh + ky) * fw + kx])
                                        * Double(input.data[((n * c + channel) * h + iy) * w + ix])
                                }
                            }
                        }
                        out.data[((n * k + filter) * ho + oy) * wo + ox] = Float(sum)
                    }
                }
            }
        }
    }

    /// torch's upsample_nearest2d and upsample_bilinear2d with integer scale factors, in Double.
    /// Nearest reads in[floor(o·in/out)]. Bilinear reads source s = (o + 0.5)·in/out − 0.5 clamped
    /// at 0 (or o·(in − 1)/(out − 1) with corners aligned), mixing cells ⌊s⌋ and ⌊s⌋ + 1 (the last
    /// cell repeated at the edge) by s − ⌊s⌋.
    static func upsample(_ out: inout ReferenceActivations, _ input: ReferenceActivations, _ up: Upsample) {
        let h = input.height, w = input.width, ho = out.height, wo = out.width
        func taps(_ o: Int, _ size: Int, _ outSize: Int) -> (Int, Int, Double) {
            if up.mode == .nearest { return (o * size / outSize, o * size / outSize, 0) }
            let s = up.alignCorners ? (outSize > 1 ? Double(o) * Double(size - 1) / Double(outSize - 1) : 0)
                                    : max((Double(o) + 0.5) * Double(size) / Double(outSize) - 0.5, 0)
            let first = Int(s.rounded(.down))
            return (first, min(first + 1, size - 1), s - Double(first))
        }
        let rows = (0..<ho).map { taps($0, h, ho) }, columns = (0..<wo).map { taps($0, w, wo) }
        for plane in 0..<(input.batch * input.depth) {
            let x = plane * h * w
            for (oy, (y0, y1, ly)) in rows.enumerated() {
                for (ox, (x0, x1, lx)) in columns.enumerated() {
                    let top = (1 - lx) * Double(input.data[x + y0 * w + x0]) + lx * Double(input.data[x + y0 * w + x1])
                    let bottom = (1 - lx) * Double(input.data[x + y1 * w + x0]) + lx * Double(input.data[x + y1 * w + x1])
                    // Nearest: lx = ly = 0, so a NaN in an unread neighbour cannot leak in.
                    let value = up.mode == .nearest ? Double(input.data[x + y0 * w + x0]) : (1 - ly) * top + ly * bottom
                    out.data[plane * ho * wo + oy * wo + ox] = Float(value)
                }
            }
        }
    }
}
