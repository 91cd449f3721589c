import Foundation
import ShapeCheck

extension Reference {
    /// Batch normalisation at inference: y = (x − mean)/sqrt(var + eps)·γ + β per channel.
    ///   x [N, D, H, W] (in place); mean, variance, scale γ, shift β [D]
    static func batchNorm(_ x: inout ReferenceActivations, mean: [Float], variance: [Float], scale: [Float],
                          shift: [Float], epsilon: Double) {
        let n = x.batch, d = x.depth, size = x.plane
        x.data.withUnsafeMutableBufferPointer { data in
            for channel in 0..<d {
                let inverse = 1 / (Double(variance[channel]) + epsilon).squareRoot()
                let m = Double(mean[channel]), g = Double(scale[channel]), b = Double(shift[channel])
                for image in 0..<n {
                    let base = (image * d + channel) * size
                    for i in 0..<size {
                        data[base + i] = Float((Double(data[base + i]) - m) * inverse * g + b)
                    }
                }
            }
        }
    }

    /// LayerNorm over the channels at each position (torch's nn.LayerNorm on the channels-last
    /// view, convnext's LayerNorm2d), in Double, rounded once:
    ///   μ = Σ_c x[c]/D,  σ² = Σ_c (x[c] − μ)²/D (biased),  y[c] = (x[c] − μ)/sqrt(σ² + eps)·γ[c] + β[c]
    static func layerNorm(_ x: inout ReferenceActivations, scale: [Float], shift: [Float], epsilon: Double) {
        let d = x.depth, size = x.plane
        precondition(scale.count == d && shift.count == d)
        x.data.withUnsafeMutableBufferPointer { data in
            for image in 0..<x.batch {
                for p in 0..<size {
                    let base = image * d * size + p
                    var mean = 0.0
                    for c in 0..<d { mean += Double(data[base + c * size]) }
                    mean /= Double(d)
                    var variance = 0.0
                    for c in 0..<d { let v = Double(data[base + c * size]) - mean; variance += v * v }
                    let inverse = 1 / (variance / Double(d) + epsilon).squareRoot()
                    for c in 0..<d {
                        let v = (Double(data[base + c * size]) - mean) * inverse
                        data[base + c * size] = Float(v * Double(scale[c]) + Double(shift[c]))
                    }
                }
            }
        }
    }

    /// torchvision's layer scale: y[n, c, y, x] = γ[c]·x[n, c, y, x].
    static func layerScale(_ x: inout ReferenceActivations, _ scale: [Float]) {
        let d = x.depth, size = x.plane
        precondition(scale.count == d)
        for i in 0..<x.data.count { x.data[i] = Float(Double(scale[(i / size) % d]) * Double(x.data[i])) }
    }

    /// Local response normalisation across channels (PyTorch's local_response_norm, AlexNet's):
    ///   out[n, c, y, x] = input[n, c, y, x] / (k + alpha/size · Σ_{c'} input[n, c', y, x]²)^beta
    /// with c' from c − size/2 to c + (size − 1)/2, clipped to the channels that exist (the
    /// missing ones count as zeros; the divisor is still `size`).
    ///   out, input [N, D, H, W]
    static func localResponseNorm(_ out: inout ReferenceActivations, _ input: ReferenceActivations, _ lrn: LocalResponseNorm) {
        let n = input.batch, d = input.depth, size = input.plane
        let before = lrn.size / 2, after = (lrn.size - 1) / 2
        input.data.withUnsafeBufferPointer { inp in
        out.data.withUnsafeMutableBufferPointer { outp in
            for image in 0..<n {
                let base = image * d * size
                for channel in 0..<d {
                    let first = max(0, channel - before), last = min(d - 1, channel + after)
                    for i in 0..<size {
                        var squares: Double = 0
                        for other in first...last {
                            let a = Double(inp[base + other * size + i])
                            squares += a * a
                        }
                        let divisor = Foundation.pow(lrn.k + lrn.alpha / Double(lrn.size) * squares, lrn.beta)
                        outp[base + channel * size + i] = Float(Double(inp[base + channel * size + i]) / divisor)
                    }
                }
            }
        }
        }
    }
}
