import Parser
import ShapeCheck

// The reference's torch padding modes, adaptive average pooling and maxout, each written
// from its definition (no shared code with the generated kernels).
extension Reference {
    /// The input with its border filled by torch's `padding_mode`; a conv on it then uses zero padding.
    ///   reflect   x[-i] = x[i], x[H-1+i] = x[H-1-i]      (edge cell not repeated)
    ///   replicate x[-i] = x[0], x[H-1+i] = x[H-1]
    ///   circular  x[-i] = x[H-i], x[H-1+i] = x[i-1]
    static func padded(_ input: ReferenceActivations, _ padding: Padding, mode: PaddingMode) -> ReferenceActivations {
        func source(_ i: Int, _ size: Int) -> Int? {
            switch mode {
            case .zeros: return (0..<size).contains(i) ? i : nil
            case .replicate: return min(max(i, 0), size - 1)
            case .circular: return ((i % size) + size) % size
            case .reflect:
                // Reflection has period 2(size − 1); fold into it, then mirror the second half.
                guard size > 1 else { return 0 }
                let period = 2 * (size - 1), m = ((i % period) + period) % period
                return m < size ? m : period - m
            }
        }
        let h = input.height + padding.top + padding.bottom, w = input.width + padding.left + padding.right
        var out = ReferenceActivations(batch: input.batch, depth: input.depth, height: h, width: w)
        for plane in 0..<(input.batch * input.depth) {
            for y in 0..<h {
                guard let sy = source(y - padding.top, input.height) else { continue }
                for x in 0..<w {
                    guard let sx = source(x - padding.left, input.width) else { continue }
                    out.data[plane * h * w + y * w + x] = input.data[plane * input.plane + sy * input.width + sx]
                }
            }
        }
        return out
    }

    /// torch's AdaptiveAvgPool2d, summed in Double: output row i covers input rows
    /// floor(i·H/Ho) ..< ceil((i+1)·H/Ho), columns likewise.
    static func adaptiveAveragePool(_ out: inout ReferenceActivations, _ input: ReferenceActivations) {
        func window(_ i: Int, _ size: Int, _ count: Int) -> Range<Int> {
            let start = (i * size) / count
            let end = ((i + 1) * size) / count + (((i + 1) * size) % count == 0 ? 0 : 1)
            return start..<end
        }
        for plane in 0..<(input.batch * input.depth) {
            for i in 0..<out.height {
                let rows = window(i, input.height, out.height)
                for j in 0..<out.width {
                    let columns = window(j, input.width, out.width)
                    var sum = 0.0
                    for y in rows { for x in columns { sum += Double(input.data[plane * input.plane + y * input.width + x]) } }
                    out.data[plane * out.plane + i * out.width + j] = Float(sum / Double(rows.count * columns.count))
                }
            }
        }
    }

    /// Maxout: out[n, c, p] = max over j < K of in[n, c·K + j, p], NaN when any of them is (torch's max).
    static func maxout(_ out: inout ReferenceActivations, _ input: ReferenceActivations, pieces: Int) {
        for n in 0..<out.batch {
            for c in 0..<out.depth {
                for p in 0..<out.plane {
                    let values = (0..<pieces).map { input.data[(n * input.depth + c * pieces + $0) * input.plane + p] }
                    out.data[(n * out.depth + c) * out.plane + p] = values.contains { $0.isNaN } ? .nan : values.max()!
                }
            }
        }
    }
}
