// Weight layouts of the fast C kernels (KernelPlan.swift). `WeightRecipe.packed(base, layout)`
// rearranges the tensor `base` evaluates to (PyTorch's layout, row-major) into `layout`;
// padding is zero, so padded output channels compute 0 and padded input channels add 0.

import ShapeCheck

extension WeightRef {
    /// This vector zero-padded to `padded` values: a blocked kernel loads whole blocks of 16.
    func padded(to padded: Int) -> WeightRef {
        WeightRef(.packed(recipe, .padded(count: count, to: padded)), count: padded)
    }
}

public enum PackedLayout: Sendable, Equatable {
    /// [count] → [padded], zeros after `count`.
    case padded(count: Int, to: Int)
    /// conv weight [K, C, KH, KW] → [⌈K/(16·nb)⌉][⌈C/16⌉][KH][KW][16 c][16·nb k]: for one group
    /// of `outputBlocks` output blocks, each input channel and tap is one row of 16·nb outputs.
    /// Fewer than 16 input channels (a first layer's 3) get C rows per tap, not 16: padded
    /// taps 1 KiB apart would all fall in a few sets of L1 and evict one another.
    case directConvolution(outputs: Int, inputs: Int, kernelHeight: Int, kernelWidth: Int, outputBlocks: Int)
    /// conv weight [K ≤ 8, C, KH, KW] → [⌈C/16⌉][KH][KW][16 c][16 lanes] where lanes 2k and
    /// 2k + 1 both hold output channel k: one register computes 8 channels of two adjacent
    /// pixels (the paired kernel of a first layer with few filters).
    case pairedConvolution(outputs: Int, inputs: Int, kernelHeight: Int, kernelWidth: Int)
    /// grouped conv weight [K, C/G, KH, KW] → [⌈K/(16·nb)⌉][ib·16 c][KH][KW]… as
    /// `directConvolution` packs a dense one over the ib input blocks output group g reads
    /// (from block firstBlocks[g]): zero where an input channel is not in the output's group.
    case groupedConvolution(outputs: Int, inputs: Int, groups: Int, kernelHeight: Int, kernelWidth: Int,
                            outputBlocks: Int, inputBlocks: Int, firstBlocks: [Int])
    /// depthwise conv weight [K, 1, KH, KW] → [⌈K/16⌉][KH][KW][16 k]: one vector per tap of
    /// each block of 16 output channels.
    case depthwiseConvolution(outputs: Int, kernelHeight: Int, kernelWidth: Int)
    /// [K ≤ 8] → [16], lanes 2k and 2k + 1 = value k (the paired kernel's bias).
    case pairedBias(count: Int)
    /// conv weight [K, C, r, r] → U = G g Gᵀ for F(m x m, r x r), t = m + r - 1:
    /// [t·t][⌈K/(16·nb)⌉][⌈C/16⌉·16 c][16·nb k].
    case winograd(outputs: Int, inputs: Int, tile: Int, taps: Int, outputBlocks: Int)
    /// fc weight [OUT, IN] → [⌈OUT/tile⌉][IN′][tile]: each tile of outputs streams its weights
    /// as one contiguous run. With `blockedInput` (the fc reads a blocked [C, H, W] volume),
    /// IN′ = ⌈C/16⌉·H·W·16 and row ((cb·H + y)·W + x)·16 + l holds input c·H·W + y·W + x for
    /// c = cb·16 + l (zero for padded channels).
    case fullyConnected(outputs: Int, inputs: Int, tile: Int, blockedInput: TensorShape?)

    /// Input channel rows per tap of a direct convolution's weights, over all its blocks:
    /// C itself below 16 (one block, no padding), else C rounded up to blocks of 16.
    public static func directChannelRows(_ inputs: Int) -> Int { inputs < channelBlock ? inputs : roundUp(inputs, to: channelBlock) }

    /// Of those, the rows of one input block of 16 channels (C itself below 16, else 16).
    public static func directBlockRows(_ inputs: Int) -> Int { directChannelRows(inputs) / (roundUp(inputs, to: channelBlock) / channelBlock) }

    /// Floats in the packed slice.
    public var count: Int {
        switch self {
        case .padded(_, let to):
            return to
        case .directConvolution(let k, let c, let kh, let kw, let nb):
            return roundUp(k, to: channelBlock * nb) * Self.directChannelRows(c) * kh * kw
        case .pairedConvolution(_, let c, let kh, let kw):
            return channelBlock * roundUp(c, to: channelBlock) * kh * kw
        case .pairedBias:
            return channelBlock
        case .depthwiseConvolution(let k, let kh, let kw):
            return roundUp(k, to: channelBlock) * kh * kw
        case .groupedConvolution(let k, _, _, let kh, let kw, let nb, let ib, _):
            return roundUp(k, to: channelBlock * nb) * ib * channelBlock * kh * kw
        case .winograd(let k, let c, let m, let r, let nb):
            return (m + r - 1) * (m + r - 1) * roundUp(k, to: channelBlock * nb) * roundUp(c, to: channelBlock)
        case .fullyConnected(let outputs, let inputs, let tile, let blocked):
            let rows = blocked.map { roundUp($0.depth, to: channelBlock) * $0.height * $0.width } ?? inputs
            return roundUp(outputs, to: tile) * rows
        }
    }

    /// Rearranges `values` (the base tensor, row-major).
    func pack(_ values: [Float]) throws -> [Float] {
        var out = [Float](repeating: 0, count: count)
        switch self {
        case .padded(let n, _):
            guard values.count == n else { throw WeightPackingError("expected \(n) values to pad, found \(values.count)") }
            for i in 0..<n { out[i] = values[i] }
        case .directConvolution(let k, let c, let kh, let kw, let nb):
            guard values.count == k * c * kh * kw else {
                throw WeightPackingError("expected \(k)·\(c)·\(kh)·\(kw) convolution weights, found \(values.count)")
            }
            let width = channelBlock * nb, cb = roundUp(c, to: channelBlock) / channelBlock, rows = Self.directBlockRows(c)
            values.withUnsafeBufferPointer { v in
                out.withUnsafeMutableBufferPointer { o in
                    for ko in 0..<k {
                        let group = ko / width, lane = ko % width
                        for ci in 0..<c {
                            let block = ci / channelBlock, ic = ci % channelBlock
                            for y in 0..<kh {
                                for x in 0..<kw {
                                    let index = ((((group * cb + block) * kh + y) * kw + x) * rows + ic) * width + lane
                                    o[index] = v[((ko * c + ci) * kh + y) * kw + x]
                                }
                            }
                        }
                    }
                }
            }
        case .pairedConvolution(let k, let c, let kh, let kw):
            guard values.count == k * c * kh * kw, k <= 8 else {
                throw WeightPackingError("expected at most 8 filters of \(c)·\(kh)·\(kw) weights, found \(values.count)")
            }
            for ko in 0..<k {
                for ci in 0..<c {
                    for y in 0..<kh {
                        for x in 0..<kw {
                            let row = ((((ci / channelBlock) * kh + y) * kw + x) * channelBlock + ci % channelBlock) * channelBlock
                            let value = values[((ko * c + ci) * kh + y) * kw + x]
                            out[row + 2 * ko] = value
                            out[row + 2 * ko + 1] = value
                        }
                    }
                }
            }
        case .groupedConvolution(let k, let c, let g, let kh, let kw, let nb, let ib, let first):
            let co = k / g, ci = c / g
            guard values.count == k * ci * kh * kw else {
                throw WeightPackingError("expected \(k)·\(ci)·\(kh)·\(kw) grouped convolution weights, found \(values.count)")
            }
            let width = channelBlock * nb, rows = ib * channelBlock
            for ko in 0..<k {
                let group = ko / width, lane = ko % width, own = ko / co
                for j in 0..<rows {
                    let channel = first[group] * channelBlock + j
                    guard channel < c, channel / ci == own else { continue }
                    for y in 0..<kh {
                        for x in 0..<kw {
                            // Rows of one input block per tap, as directConvolution packs them.
                            let index = ((((group * ib + j / channelBlock) * kh + y) * kw + x) * channelBlock + j % channelBlock) * width + lane
                            out[index] = values[((ko * ci + channel - own * ci) * kh + y) * kw + x]
                        }
                    }
                }
            }
        case .depthwiseConvolution(let k, let kh, let kw):
            guard values.count == k * kh * kw else {
                throw WeightPackingError("expected \(k)·1·\(kh)·\(kw) depthwise convolution weights, found \(values.count)")
            }
            for ko in 0..<k {
                for tap in 0..<kh * kw { out[((ko / channelBlock) * kh * kw + tap) * channelBlock + ko % channelBlock] = values[ko * kh * kw + tap] }
            }
        case .pairedBias(let n):
            guard values.count == n, n <= 8 else { throw WeightPackingError("expected at most 8 biases, found \(values.count)") }
            for k in 0..<n {
                out[2 * k] = values[k]
                out[2 * k + 1] = values[k]
            }
        case .winograd(let k, let c, let m, let r, let nb):
            guard values.count == k * c * r * r else {
                throw WeightPackingError("expected \(k)·\(c)·\(r)·\(r) convolution weights, found \(values.count)")
            }
            let t = m + r - 1, width = channelBlock * nb
            let groups = roundUp(k, to: width) / width, channels = roundUp(c, to: channelBlock)
            let g = WinogradMatrices.g(tile: m, taps: r)
            for ko in 0..<k {
                let group = ko / width, lane = ko % width
                for ci in 0..<c {
                    // U = G w Gᵀ in double, rounded once.
                    let base = (ko * c + ci) * r * r
                    var gw = [Double](repeating: 0, count: t * r)
                    for i in 0..<t {
                        for j in 0..<r {
                            var sum = 0.0
                            for l in 0..<r { sum += g[i][l] * Double(values[base + l * r + j]) }
                            gw[i * r + j] = sum
                        }
                    }
                    for i in 0..<t {
                        for j in 0..<t {
                            var sum = 0.0
                            for l in 0..<r { sum += gw[i * r + l] * g[j][l] }
                            let xi = i * t + j
                            out[((xi * groups + group) * channels + ci) * width + lane] = Float(sum)
                        }
                    }
                }
            }
        case .fullyConnected(let outputs, let inputs, let tile, let blocked):
            guard values.count == outputs * inputs else {
                throw WeightPackingError("expected \(outputs)·\(inputs) fc weights, found \(values.count)")
            }
            // The packed row each input index goes to.
            var row = Array(0..<inputs)
            var rows = inputs
            if let shape = blocked {
                let plane = shape.height * shape.width
                rows = roundUp(shape.depth, to: channelBlock) * plane
                for ci in 0..<shape.depth {
                    for p in 0..<plane { row[ci * plane + p] = ((ci / channelBlock) * plane + p) * channelBlock + ci % channelBlock }
                }
            }
            values.withUnsafeBufferPointer { v in
                out.withUnsafeMutableBufferPointer { o in
                    for j in 0..<outputs {
                        let base = (j / tile) * rows * tile + j % tile
                        for i in 0..<inputs { o[base + row[i] * tile] = v[j * inputs + i] }
                    }
                }
            }
        }
        return out
    }
}

/// The transform matrices of Winograd's minimal filtering F(m, r) (Lavin & Gray 2016): F(4, 3)
/// and F(2, 5) on the interpolation points 0, ±1, ±2 and ∞ (6x6 tiles, the same Bᵀ), the
/// only two the planner chooses.
enum WinogradMatrices {
    /// The finite points of the 6-point transforms, and 1 / Π_{q≠p}(p − q) for each (the
    /// Lagrange denominators, which G carries).
    static let points: [Double] = [0, 1, -1, 2, -2]
    static let scales: [Double] = [1.0 / 4, -1.0 / 6, -1.0 / 6, 1.0 / 24, 1.0 / 24]

    static func power(_ p: Double, _ k: Int) -> Double { (0..<k).reduce(1.0) { product, _ in product * p } }

    /// G: (m + r - 1) x r, the filter transform: row p is scale_p·(1, p, p², …), the last
    /// (the point ∞) picks the filter's last tap.
    static func g(tile m: Int, taps r: Int = 3) -> [[Double]] {
        precondition(m + r - 1 == 6, "F(\(m), \(r)) is not one of the 6-point transforms")
        return zip(points, scales).map { p, f in (0..<r).map { f * power(p, $0) } }
            + [(0..<r).map { $0 == r - 1 ? 1 : 0 }]
    }

    /// Bᵀ: (m + r - 1) x (m + r - 1), the input transform; it depends only on the points.
    static func bt(tile m: Int, taps r: Int = 3) -> [[Double]] {
        precondition(m + r - 1 == 6, "F(\(m), \(r)) is not one of the 6-point transforms")
        return [[4, 0, -5, 0, 1, 0],
                [0, -4, -4, 1, 1, 0],
                [0, 4, -4, -1, 1, 0],
                [0, -2, -1, 2, 1, 0],
                [0, 2, -1, -2, 1, 0],
                [0, 4, 0, -5, 0, 1]]
    }

    /// Aᵀ: m x (m + r - 1), the output transform: row k is (p^k for each point), with the
    /// point ∞ in the last row only.
    static func at(tile m: Int, taps r: Int = 3) -> [[Double]] {
        precondition(m + r - 1 == 6, "F(\(m), \(r)) is not one of the 6-point transforms")
        return (0..<m).map { k in points.map { power($0, k) } + [k == m - 1 ? 1 : 0] }
    }
}
