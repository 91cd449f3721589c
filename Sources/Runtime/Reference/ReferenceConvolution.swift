import ShapeCheck

extension Reference {
    /// torch's Linear at every position, summed in Double:
    ///   out[n, o, y, x] = bias[o] + Σ_c weight[o, c] · input[n, c, y, x]     weight [O, C]
    static func pointwise(_ out: inout ReferenceActivations, _ input: ReferenceActivations, weight: [Float], bias: [Float]?) {
        let c = input.depth, o = out.depth, size = input.plane
        precondition(weight.count == o * c && out.plane == size)
        for n in 0..<input.batch {
            for j in 0..<o {
                for p in 0..<size {
                    var sum = Double(bias?[j] ?? 0)
                    for i in 0..<c { sum += Double(weight[j * c + i]) * Double(input.data[(n * c + i) * size + p]) }
                    out.data[(n * o + j) * size + p] = Float(sum)
                }
            }
        }
    }

    /// The output positions o in 0..<count whose input coordinate o·stride + offset lies in
    /// 0..<limit; every other position reads a padded (zero) cell for this kernel tap.
    static func validOutputs(offset: Int, stride: Int, count: Int, limit: Int) -> Range<Int> {
        // First o with o·stride + offset ≥ 0.
        let first = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        // Last o with o·stride + offset ≤ limit − 1.
        let span = limit - 1 - offset
        let end = span < 0 ? 0 : span / stride + 1
        let lower = min(first, count)
        return lower..<max(lower, min(end, count))
    }

    /// Convolution (PyTorch's conv2d), zero padding, with stride, dilation and groups.
    ///   out    [N, K, Ho, Wo]
    ///   input  [N, C, H, W]
    ///   weight [K, C/G, Fh, Fw]
    ///   bias   [K] or nil
    /// out[n, k, oy, ox] = bias[k] + Σ_{c in k's group, ky, kx}
    ///     weight[k, c − g·C/G, ky, kx] · input[n, c, oy·Sh + ky·Dh − Pt, ox·Sw + kx·Dw − Pl]
    /// where cells outside the input are zero. Depthwise is the case G = C, K = C·M.
    ///
    /// Loop order: one output row at a time (a Double accumulator that stays in L1); each
    /// (input channel, ky, kx) tap adds weight · (a shifted input row) to it, over the output
    /// columns whose input cell is inside the image — so there is no test for padding in the
    /// inner loop, and rows whose input row is padding are skipped.
    static func convolution(_ out: inout ReferenceActivations, _ input: ReferenceActivations, weight: [Float], bias: [Float]?,
                            _ conv: Convolution) {
        let n = input.batch, c = input.depth, h = input.height, w = input.width
        let k = out.depth, ho = out.height, wo = out.width
        let groups = conv.groups
        let cPerGroup = c / groups, kPerGroup = k / groups
        let window = conv.window
        let fh = window.kernelHeight, fw = window.kernelWidth
        let sh = window.strideHeight, sw = window.strideWidth
        let dh = window.dilationHeight, dw = window.dilationWidth
        let top = window.padding.top, left = window.padding.left
        precondition(weight.count == k * cPerGroup * fh * fw)
        // For tap column kx, output column ox reads input column ox·sw + kx·dw − left; these are
        // the ox for which that is inside the image (the same for every row).
        let columns = (0..<fw).map { kx in validOutputs(offset: kx * dw - left, stride: sw, count: wo, limit: w) }

        var accumulator = [Double](repeating: 0, count: wo)
        input.data.withUnsafeBufferPointer { inp in
        weight.withUnsafeBufferPointer { wgt in
        out.data.withUnsafeMutableBufferPointer { outp in
        accumulator.withUnsafeMutableBufferPointer { acc in
            for image in 0..<n {
                for filter in 0..<k {
                    let group = filter / kPerGroup
                    let start = bias.map { Double($0[filter]) } ?? 0
                    for oy in 0..<ho {
                        acc.update(repeating: start)
                        for channelInGroup in 0..<cPerGroup {
                            let channel = group * cPerGroup + channelInGroup
                            let plane = (image * c + channel) * h * w
                            for ky in 0..<fh {
                                let iy = oy * sh + ky * dh - top
                                guard iy >= 0 && iy < h else { continue }  // a padded row: zeros
                                for kx in 0..<fw {
                                    let tap = Double(wgt[((filter * cPerGroup + channelInGroup) * fh + ky) * fw + kx])
                                    // Output column ox reads row[ox·sw]. (Raw pointers so the
                                    // loop has no overflow checks and can be vectorised.)
                                    let row = inp.baseAddress! + (plane + iy * w + kx * dw - left)
                                    let sum = acc.baseAddress!
                                    let range = columns[kx]
                                    if sw == 1 {
                                        for ox in range { sum[ox] += tap * Double(row[ox]) }
                                    } else {
                                        for ox in range { sum[ox] += tap * Double(row[ox &* sw]) }
                                    }
                                }
                            }
                        }
                        let outRow = ((image * k + filter) * ho + oy) * wo
                        for ox in 0..<wo { outp[outRow + ox] = Float(acc[ox]) }
                    }
                }
            }
        }
        }
        }
        }
    }

    /// Fully connected layer (PyTorch's linear): out = weight · x + bias per image, where a
    /// volume input is flattened in depth, row, column order (NCHW flatten — its storage order).
    ///   out    [N, M]       (stored as [N, M, 1, 1])
    ///   input  [N, I]       (I = D·H·W of a volume)
    ///   weight [M, I]
    ///   bias   [M]
    static func fullyConnected(_ out: inout ReferenceActivations, _ input: ReferenceActivations, weight: [Float], bias: [Float]?) {
        let n = input.batch, inputs = input.image, outputs = out.image
        precondition(weight.count == outputs * inputs)
        input.data.withUnsafeBufferPointer { x in
        weight.withUnsafeBufferPointer { wgt in
        out.data.withUnsafeMutableBufferPointer { y in
            for image in 0..<n {
                let xBase = image * inputs
                for neuron in 0..<outputs {
                    let row = neuron * inputs
                    var sum: Double = bias.map { Double($0[neuron]) } ?? 0
                    for i in 0..<inputs { sum += Double(wgt[row + i]) * Double(x[xBase + i]) }
                    y[image * outputs + neuron] = Float(sum)
                }
            }
        }
        }
        }
    }
}
