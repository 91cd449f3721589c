import Foundation
import ShapeCheck

extension Reference {
    /// An activation, in place, on [N, D, H, W] (or [N, K]). Computed in Double, rounded once.
    static func activate(_ x: inout ReferenceActivations, _ activation: Activation) {
        switch activation {
        case .relu:
            map(&x) { $0 < 0 ? 0 : $0 }  // NaN stays NaN, as in PyTorch
        case .sigmoid:
            map(&x) { Float(1 / (1 + Foundation.exp(-Double($0)))) }
        case .tanh:
            map(&x) { Float(Foundation.tanh(Double($0))) }
        case .leakyRelu(let alpha):
            map(&x) { $0 < 0 ? Float(alpha * Double($0)) : $0 }
        case .elu(let alpha):
            map(&x) { $0 < 0 ? Float(alpha * Foundation.expm1(Double($0))) : $0 }
        case .softmax:
            softmax(&x)
        // PyTorch's formulas, in its order, so that NaN and ±inf come out as in torch:
        // hardswish(−inf), silu(−inf) and gelu(−inf) are −inf·0 = NaN there, and here.
        case .relu6:
            map(&x) { Float(clamp6(Double($0))) }
        case .hardsigmoid:
            map(&x) { Float(clamp6(Double($0) + 3) / 6) }
        case .hardswish:
            // The product rounded to float first, as torch's: x·6 is inf above 5.7e37 there.
            map(&x) { Float(Double(Float(Double($0) * clamp6(Double($0) + 3))) / 6) }
        case .silu:
            map(&x) { Float(Double($0) / (1 + Foundation.exp(-Double($0)))) }
        case .gelu(tanh: false):
            map(&x) { Float(Double($0) * 0.5 * (1 + Foundation.erf(Double($0) * 0.5.squareRoot()))) }
        case .gelu(tanh: true):
            map(&x) {
                let v = Double($0)
                return Float(0.5 * v * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v))))
            }
        }
    }

    /// min(max(v, 0), 6), NaN kept (torch's clamp propagates it).
    private static func clamp6(_ v: Double) -> Double { v < 0 ? 0 : v > 6 ? 6 : v }

    private static func map(_ x: inout ReferenceActivations, _ f: (Float) -> Float) {
        x.data.withUnsafeMutableBufferPointer { data in
            for i in data.indices { data[i] = f(data[i]) }
        }
    }

    /// Softmax across depth at each position (for a vector: across its features), stable:
    ///   out[n, c, y, x] = exp(x_c − m) / Σ_c' exp(x_c' − m), m = max_c x_c
    ///   x [N, D, H, W] in place
    static func softmax(_ x: inout ReferenceActivations) {
        let n = x.batch, d = x.depth, size = x.plane
        var exps = [Double](repeating: 0, count: d)
        x.data.withUnsafeMutableBufferPointer { data in
            for image in 0..<n {
                let base = image * d * size
                for i in 0..<size {
                    var largest = -Float.infinity
                    for c in 0..<d { largest = max(largest, data[base + c * size + i]) }
                    var sum: Double = 0
                    for c in 0..<d {
                        exps[c] = Foundation.exp(Double(data[base + c * size + i]) - Double(largest))
                        sum += exps[c]
                    }
                    for c in 0..<d { data[base + c * size + i] = Float(exps[c] / sum) }
                }
            }
        }
    }

    /// Element-wise product, in Double, rounded once:
    ///   out[n, c, y, x] = Π_j in_j[n, c, y, x], an input of 1x1 read at [n, c, 0, 0] (broadcast)
    static func multiply(_ out: inout ReferenceActivations, _ inputs: [ReferenceActivations]) {
        let n = out.batch, d = out.depth, size = out.plane
        var product = [Double](repeating: 1, count: out.data.count)
        for input in inputs {
            let broadcast = input.plane == 1 && size != 1
            precondition(input.batch == n && input.depth == d && (broadcast || input.plane == size))
            input.data.withUnsafeBufferPointer { x in
                for i in 0..<product.count {
                    product[i] *= Double(x[broadcast ? i / size : i])
                }
            }
        }
        for i in 0..<product.count { out.data[i] = Float(product[i]) }
    }

    /// Output channel c is input channel `source(c)`, every position copied (slice, shuffle):
    ///   out[n, c, y, x] = in[n, source(c), y, x]
    static func copyChannels(_ out: inout ReferenceActivations, _ input: ReferenceActivations, source: (Int) -> Int) {
        let size = out.plane
        precondition(input.plane == size && input.batch == out.batch)
        for n in 0..<out.batch {
            for c in 0..<out.depth {
                let from = (n * input.depth + source(c)) * size, to = (n * out.depth + c) * size
                for i in 0..<size { out.data[to + i] = input.data[from + i] }
            }
        }
    }

    /// Element-wise sum: out = Σ inputs, all [N, D, H, W] of one shape, summed in Double.
    static func add(_ out: inout ReferenceActivations, _ inputs: [ReferenceActivations]) {
        var sum = [Double](repeating: 0, count: out.data.count)
        for input in inputs {
            precondition(input.data.count == sum.count)
            input.data.withUnsafeBufferPointer { x in
                for i in 0..<sum.count { sum[i] += Double(x[i]) }
            }
        }
        for i in 0..<sum.count { out.data[i] = Float(sum[i]) }
    }

    /// Concatenation along depth: out [N, ΣD_i, H, W] ← inputs [N, D_i, H, W] in order.
    /// Vectors ([N, K_i]) concatenate along their features, which is the same thing.
    static func concat(_ out: inout ReferenceActivations, _ inputs: [ReferenceActivations]) {
        let batch = out.batch, outImage = out.image
        out.data.withUnsafeMutableBufferPointer { outp in
            for image in 0..<batch {
                var offset = image * outImage
                for input in inputs {
                    let count = input.image
                    input.data.withUnsafeBufferPointer { inp in
                        for i in 0..<count { outp[offset + i] = inp[image * count + i] }
                    }
                    offset += count
                }
            }
        }
    }
}
