// The Swift kernels the emitter copies into a generated file: the same loops as the C ones
// (CKernels.swift), written as Swift over unsafe pointers. Only the kernels a program calls
// are emitted. They live in `enum Kernels` inside the generated class; each layer's
// constants are a `static let` of one of these shape structs in `enum Layers`.

/// The Swift backend's side of ReferenceKernel: the helpers each kernel calls and its text.
extension ReferenceKernel {
    /// Kernels and helpers this one calls in Swift.
    var swiftHelpers: [ReferenceKernel] {
        switch self {
        case .convolution: [.activate, .outputRange]
        case .fullyConnected, .batchNorm, .activation, .add, .multiply, .concat, .transposedConvolution: [.activate]
        default: []
        }
    }

    /// The shape struct declared beside the kernel, if any.
    var swiftShapeDeclaration: String? {
        switch self {
        case .activate: """
            /// A fused activation; softmax runs across the channels at each position.
            enum Activation {
                case identity, relu, sigmoid, tanh, softmax
                case leakyRelu(Float)
                case elu(Float)
                case relu6, hardswish, hardsigmoid, silu, gelu, geluTanh
            }
            """
        // A transposed convolution's shapes are a convolution's (its weight is [C, K/G, KH, KW]).
        case .convolution, .transposedConvolution: """
            /// Input [C, H, W] → output [K, OH, OW] per image; weight [K, C/G, KH, KW].
            struct Convolution {
                let inChannels: Int, inHeight: Int, inWidth: Int
                let outChannels: Int, outHeight: Int, outWidth: Int
                let kernelHeight: Int, kernelWidth: Int
                let strideHeight: Int, strideWidth: Int
                let dilationHeight: Int, dilationWidth: Int
                let padTop: Int, padLeft: Int
                let groups: Int
                let activation: Activation
            }
            """
        case .fullyConnected: """
            /// [IN] → [OUT] per image; weight packed [IN, OUT].
            struct FullyConnected {
                let inputs: Int, outputs: Int
                let activation: Activation
            }
            """
        case .maxPool, .averagePool: """
            /// Input [C, H, W] → output [C, OH, OW] per image.
            struct Pooling {
                let channels: Int
                let inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int
                let kernelHeight: Int, kernelWidth: Int
                let strideHeight: Int, strideWidth: Int
                let dilationHeight: Int, dilationWidth: Int
                let padTop: Int, padLeft: Int, padBottom: Int, padRight: Int
            }
            """
        case .globalMaxPool, .globalAveragePool: """
            /// [C, P] → [C] per image.
            struct GlobalPooling {
                let channels: Int, spatial: Int
            }
            """
        case .batchNorm, .activation: """
            /// [C, P] per image, unchanged in shape.
            struct Elementwise {
                let channels: Int, spatial: Int
                let activation: Activation
            }
            """
        case .localResponseNorm: """
            /// [C, P] per image; PyTorch's local response norm across channels.
            struct LocalResponseNorm {
                let channels: Int, spatial: Int, size: Int
                let alpha: Float, beta: Float, k: Float
            }
            """
        case .add: """
            /// Element-wise sum of same-shaped [C, P] tensors.
            struct Sum {
                let channels: Int, spatial: Int
                let activation: Activation
            }
            """
        case .multiply: """
            /// Element-wise product of [C, P] tensors; an input of one position per channel
            /// (`spatials[j]` 1) is broadcast over the P positions.
            struct Product {
                let channels: Int, spatial: Int
                let spatials: [Int]
                let activation: Activation
            }
            """
        case .concat: """
            /// Inputs [C_j, P] stacked along channels.
            struct Concatenation {
                let channels: [Int]
                let spatial: Int
                let activation: Activation
            }
            """
        case .layerNorm: """
            /// [C, P] per image, normalised over C at each position.
            struct LayerNormShape {
                let channels: Int, spatial: Int
                let epsilon: Double
            }
            """
        case .upsample: """
            /// [C, H, W] → [C, OH, OW] per image, nearest or bilinear.
            struct UpsampleShape {
                let channels: Int, inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int
                let bilinear: Bool, alignCorners: Bool
            }
            """
        case .gatherChannels: """
            /// Output channel c copies input channel `sources[c]`: slice and shuffle.
            struct ChannelGather {
                let inputChannels: Int, spatial: Int
                let sources: [Int]
            }
            """
        case .pad: """
            /// Input [C, H, W] → [C, H + top + bottom, W + left + right], the border from torch's padding_mode.
            struct PadShape {
                enum Mode { case reflect, replicate, circular }
                let channels: Int, height: Int, width: Int
                let top: Int, left: Int, bottom: Int, right: Int
                let mode: Mode
            }
            """
        case .adaptiveAveragePool: """
            /// torch's AdaptiveAvgPool2d from [C, H, W] to [C, outputHeight, outputWidth].
            struct AdaptivePoolShape {
                let channels: Int, height: Int, width: Int, outputHeight: Int, outputWidth: Int
            }
            """
        case .maxout: """
            /// [C·pieces, P] → [C, P]: the max over each run of `pieces` channels.
            struct MaxoutShape {
                let outputChannels: Int, pieces: Int, spatial: Int
            }
            """
        case .outputRange, .copy, .windowRange, .poolShape: nil
        }
    }

    var swiftSource: String {
        switch self {
        case .windowRange, .poolShape: preconditionFailure("\(self) is the C backend's")
        case .activate: """
            /// y = activation(y) in place for one image of `channels` × `spatial` values.
            static func activate(_ y: UnsafeMutablePointer<Float>, channels: Int, spatial: Int, _ activation: Activation) {
                let count = channels * spatial
                switch activation {
                case .identity:
                    break
                // Tested `< 0` so that a NaN takes the identity branch and stays NaN (PyTorch).
                case .relu:
                    for i in 0..<count { y[i] = y[i] < 0 ? 0 : y[i] }
                case .leakyRelu(let alpha):
                    for i in 0..<count { y[i] = y[i] < 0 ? alpha * y[i] : y[i] }
                case .elu(let alpha):
                    for i in 0..<count { y[i] = y[i] < 0 ? alpha * expm1f(y[i]) : y[i] }
                case .sigmoid:
                    for i in 0..<count { y[i] = 1 / (1 + expf(-y[i])) }
                case .tanh:
                    for i in 0..<count { y[i] = tanhf(y[i]) }
                // PyTorch's order: −inf·0 makes hardswish, silu and gelu of −inf NaN, as there.
                case .relu6:
                    for i in 0..<count { y[i] = y[i] < 0 ? 0 : y[i] > 6 ? 6 : y[i] }
                case .hardswish:
                    for i in 0..<count {
                        let t = y[i] + 3
                        y[i] = y[i] * (t < 0 ? 0 : t > 6 ? 6 : t) / 6
                    }
                case .hardsigmoid:
                    for i in 0..<count {
                        let t = y[i] + 3
                        y[i] = (t < 0 ? 0 : t > 6 ? 6 : t) / 6
                    }
                case .silu:
                    for i in 0..<count { y[i] = y[i] / (1 + expf(-y[i])) }
                case .gelu:
                    for i in 0..<count { y[i] = y[i] * 0.5 * (1 + erff(y[i] * 0.70710678118654752)) }
                case .geluTanh:
                    for i in 0..<count {
                        let x = y[i]
                        let inner: Float = 0.79788456080286536 * (x + 0.044715 * x * x * x)
                        y[i] = 0.5 * x * (1 + tanhf(inner))
                    }
                case .softmax:
                    for p in 0..<spatial {
                        var largest = y[p]
                        for c in 1..<max(channels, 1) { largest = Swift.max(largest, y[c * spatial + p]) }
                        var sum: Float = 0
                        for c in 0..<channels {
                            let e = expf(y[c * spatial + p] - largest)
                            y[c * spatial + p] = e
                            sum += e
                        }
                        for c in 0..<channels { y[c * spatial + p] /= sum }
                    }
                }
            }
            """
        case .outputRange: """
            /// The outputs o whose input index o·stride + offset falls inside 0..<size.
            static func outputRange(offset: Int, stride: Int, size: Int, outputs: Int) -> Range<Int> {
                let first = offset >= 0 ? 0 : (stride - 1 - offset) / stride
                let end = size - offset <= 0 ? 0 : Swift.min(outputs, (size - offset - 1) / stride + 1)
                return first..<Swift.max(first, end)
            }
            """
        case .convolution: """
            /// out[n, k, oy, ox] = act(bias[k] + Σ weight[k, c, ky, kx] · in[n, g·C/G + c, oy·SH − PT + ky·DH, ox·SW − PL + kx·DW]),
            /// zero outside the input; g is k's group.
            static func convolution(_ output: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>,
                                    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, batch: Int, _ s: Convolution) {
                let inPlane = s.inHeight * s.inWidth, outPlane = s.outHeight * s.outWidth
                let channelsPerGroup = s.inChannels / s.groups, filtersPerGroup = s.outChannels / s.groups
                for n in 0..<batch {
                    let x = input + n * s.inChannels * inPlane
                    let y = output + n * s.outChannels * outPlane
                    for k in 0..<s.outChannels {
                        let yk = y + k * outPlane
                        let xg = x + (k / filtersPerGroup) * channelsPerGroup * inPlane
                        yk.update(repeating: bias?[k] ?? 0, count: outPlane)
                        for c in 0..<channelsPerGroup {
                            let xc = xg + c * inPlane
                            let wc = weight + (k * channelsPerGroup + c) * s.kernelHeight * s.kernelWidth
                            for ky in 0..<s.kernelHeight {
                                let yOffset = ky * s.dilationHeight - s.padTop
                                let rows = outputRange(offset: yOffset, stride: s.strideHeight, size: s.inHeight, outputs: s.outHeight)
                                for kx in 0..<s.kernelWidth {
                                    let w = wc[ky * s.kernelWidth + kx]
                                    let xOffset = kx * s.dilationWidth - s.padLeft
                                    let columns = outputRange(offset: xOffset, stride: s.strideWidth, size: s.inWidth, outputs: s.outWidth)
                                    for oy in rows {
                                        let xr = xc + (oy * s.strideHeight + yOffset) * s.inWidth
                                        let yr = yk + oy * s.outWidth
                                        // &+ and &*: an index that may trap on overflow keeps the
                                        // optimizer from vectorizing the loop (the range above
                                        // already keeps every index inside the row).
                                        if s.strideWidth == 1 {
                                            for ox in columns { yr[ox] += w * xr[ox &+ xOffset] }
                                        } else {
                                            for ox in columns { yr[ox] += w * xr[ox &* s.strideWidth &+ xOffset] }
                                        }
                                    }
                                }
                            }
                        }
                        if case .softmax = s.activation {} else { activate(yk, channels: 1, spatial: outPlane, s.activation) }
                    }
                    if case .softmax = s.activation { activate(y, channels: s.outChannels, spatial: outPlane, .softmax) }
                }
            }
            """
        case .fullyConnected: """
            /// out[n, j] = act(bias[j] + Σ in[n, i] · weight[i, j]); weight is [IN, OUT].
            static func fullyConnected(_ output: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>,
                                       weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, batch: Int, _ s: FullyConnected) {
                for n in 0..<batch {
                    let x = input + n * s.inputs
                    let y = output + n * s.outputs
                    if let bias { y.update(from: bias, count: s.outputs) } else { y.update(repeating: 0, count: s.outputs) }
                    for i in 0..<s.inputs {
                        let xi = x[i]
                        let w = weight + i * s.outputs
                        for j in 0..<s.outputs { y[j] += xi * w[j] }
                    }
                    activate(y, channels: s.outputs, spatial: 1, s.activation)
                }
            }
            """
        case .maxPool: """
            /// out[n, c, oy, ox] = the largest input cell under the window; padded cells are never
            /// picked, and a NaN under the window gives NaN (PyTorch's max_pool2d).
            static func maxPool(_ output: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, batch: Int, _ s: Pooling) {
                for plane in 0..<(batch * s.channels) {
                    let x = input + plane * s.inHeight * s.inWidth
                    let y = output + plane * s.outHeight * s.outWidth
                    for oy in 0..<s.outHeight {
                        for ox in 0..<s.outWidth {
                            var largest = -Float.infinity
                            for ky in 0..<s.kernelHeight {
                                let iy = oy * s.strideHeight - s.padTop + ky * s.dilationHeight
                                guard iy >= 0 && iy < s.inHeight else { continue }
                                for kx in 0..<s.kernelWidth {
                                    let ix = ox * s.strideWidth - s.padLeft + kx * s.dilationWidth
                                    guard ix >= 0 && ix < s.inWidth else { continue }
                                    let value = x[iy * s.inWidth + ix]
                                    if value > largest || value.isNaN { largest = value }
                                }
                            }
                            y[oy * s.outWidth + ox] = largest
                        }
                    }
                }
            }
            """
        case .averagePool: """
            /// out[n, c, oy, ox] = the sum under the window / the window's size, padded cells
            /// counted but the window clipped to the padded extent first (PyTorch's avg_pool2d).
            static func averagePool(_ output: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, batch: Int, _ s: Pooling) {
                for plane in 0..<(batch * s.channels) {
                    let x = input + plane * s.inHeight * s.inWidth
                    let y = output + plane * s.outHeight * s.outWidth
                    for oy in 0..<s.outHeight {
                        let y0 = oy * s.strideHeight - s.padTop
                        let y1 = Swift.min(y0 + s.kernelHeight, s.inHeight + s.padBottom)
                        for ox in 0..<s.outWidth {
                            let x0 = ox * s.strideWidth - s.padLeft
                            let x1 = Swift.min(x0 + s.kernelWidth, s.inWidth + s.padRight)
                            var sum: Float = 0
                            for iy in Swift.max(y0, 0)..<Swift.max(Swift.min(y1, s.inHeight), Swift.max(y0, 0)) {
                                for ix in Swift.max(x0, 0)..<Swift.max(Swift.min(x1, s.inWidth), Swift.max(x0, 0)) {
                                    sum += x[iy * s.inWidth + ix]
                                }
                            }
                            y[oy * s.outWidth + ox] = sum / Float((y1 - y0) * (x1 - x0))
                        }
                    }
                }
            }
            """
        case .globalMaxPool: """
            /// out[n, c] = max over the positions of in[n, c], NaN if any is (PyTorch).
            static func globalMaxPool(_ output: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, batch: Int, _ s: GlobalPooling) {
                for plane in 0..<(batch * s.channels) {
                    let x = input + plane * s.spatial
                    var largest = x[0]
                    for p in 1..<Swift.max(s.spatial, 1) where x[p] > largest || x[p].isNaN { largest = x[p] }
                    output[plane] = largest
                }
            }
            """
        case .globalAveragePool: """
            /// out[n, c] = mean over the positions of in[n, c].
            static func globalAveragePool(_ output: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, batch: Int, _ s: GlobalPooling) {
                for plane in 0..<(batch * s.channels) {
                    let x = input + plane * s.spatial
                    var sum: Float = 0
                    for p in 0..<s.spatial { sum += x[p] }
                    output[plane] = sum / Float(s.spatial)
                }
            }
            """
        case .batchNorm: """
            /// out[n, c, p] = act(in[n, c, p] · scale[c] + shift[c]), scale and shift computed at packing.
            static func batchNorm(_ output: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>,
                                  scale: UnsafePointer<Float>, shift: UnsafePointer<Float>, batch: Int, _ s: Elementwise) {
                for n in 0..<batch {
                    for c in 0..<s.channels {
                        let x = input + (n * s.channels + c) * s.spatial
                        let y = output + (n * s.channels + c) * s.spatial
                        for p in 0..<s.spatial { y[p] = x[p] * scale[c] + shift[c] }
                    }
                    activate(output + n * s.channels * s.spatial, channels: s.channels, spatial: s.spatial, s.activation)
                }
            }
            """
        case .localResponseNorm: """
            /// out[n, c, p] = in[n, c, p] / (k + alpha/size · Σ in[n, j, p]²)^beta over j in c − size/2 … c + (size−1)/2.
            static func localResponseNorm(_ output: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, batch: Int, _ s: LocalResponseNorm) {
                let scale = s.alpha / Float(s.size)
                for n in 0..<batch {
                    let x = input + n * s.channels * s.spatial
                    let y = output + n * s.channels * s.spatial
                    for c in 0..<s.channels {
                        let low = Swift.max(c - s.size / 2, 0), high = Swift.min(c + (s.size - 1) / 2, s.channels - 1)
                        let yc = y + c * s.spatial, xc = x + c * s.spatial
                        yc.update(repeating: 0, count: s.spatial)
                        for j in low...high {
                            let xj = x + j * s.spatial
                            for p in 0..<s.spatial { yc[p] += xj[p] * xj[p] }
                        }
                        for p in 0..<s.spatial { yc[p] = xc[p] / powf(s.k + scale * yc[p], s.beta) }
                    }
                }
            }
            """
        case .activation: """
            /// out = act(in), image by image.
            static func activation(_ output: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, batch: Int, _ s: Elementwise) {
                let count = s.channels * s.spatial
                output.update(from: input, count: batch * count)
                for n in 0..<batch { activate(output + n * count, channels: s.channels, spatial: s.spatial, s.activation) }
            }
            """
        case .add: """
            /// out = act(in[0] + in[1] + …).
            static func add(_ output: UnsafeMutablePointer<Float>, _ inputs: [UnsafePointer<Float>], batch: Int, _ s: Sum) {
                let count = s.channels * s.spatial
                output.update(from: inputs[0], count: batch * count)
                for x in inputs.dropFirst() {
                    for i in 0..<(batch * count) { output[i] += x[i] }
                }
                for n in 0..<batch { activate(output + n * count, channels: s.channels, spatial: s.spatial, s.activation) }
            }
            """
        case .multiply: """
            /// out[c, p] = act(in[0][c, p] · in[1][c, p] · …), a broadcast input read at [c, 0].
            static func multiply(_ output: UnsafeMutablePointer<Float>, _ inputs: [UnsafePointer<Float>], batch: Int, _ s: Product) {
                let count = s.channels * s.spatial
                for n in 0..<batch {
                    let y = output + n * count
                    for (j, input) in inputs.enumerated() {
                        let broadcast = s.spatials[j] == 1 && s.spatial != 1
                        let x = input + n * s.channels * (broadcast ? 1 : s.spatial)
                        for c in 0..<s.channels {
                            for p in 0..<s.spatial {
                                let v = broadcast ? x[c] : x[c * s.spatial + p]
                                y[c * s.spatial + p] = j == 0 ? v : y[c * s.spatial + p] * v
                            }
                        }
                    }
                    activate(y, channels: s.channels, spatial: s.spatial, s.activation)
                }
            }
            """
        case .concat: """
            /// out[n] = act(in[0][n] ++ in[1][n] ++ …) along channels.
            static func concat(_ output: UnsafeMutablePointer<Float>, _ inputs: [UnsafePointer<Float>], batch: Int, _ s: Concatenation) {
                let total = s.channels.reduce(0, +) * s.spatial
                for n in 0..<batch {
                    var y = output + n * total
                    for (x, channels) in zip(inputs, s.channels) {
                        let count = channels * s.spatial
                        y.update(from: x + n * count, count: count)
                        y += count
                    }
                    activate(output + n * total, channels: total / s.spatial, spatial: s.spatial, s.activation)
                }
            }
            """
        case .layerNorm: """
            /// y[c, p] = (x[c, p] − mean_p)/sqrt(var_p + eps)·weight[c] + bias[c], the statistics over c in Double.
            static func layerNorm(_ output: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>,
                                  weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, batch: Int, _ s: LayerNormShape) {
                let count = s.channels * s.spatial
                for n in 0..<batch {
                    let x = input + n * count, y = output + n * count
                    for p in 0..<s.spatial {
                        var mean = 0.0, variance = 0.0
                        for c in 0..<s.channels { mean += Double(x[c * s.spatial + p]) }
                        mean /= Double(s.channels)
                        for c in 0..<s.channels { let d = Double(x[c * s.spatial + p]) - mean; variance += d * d }
                        let inverse = 1 / (variance / Double(s.channels) + s.epsilon).squareRoot()
                        for c in 0..<s.channels {
                            y[c * s.spatial + p] = Float((Double(x[c * s.spatial + p]) - mean) * inverse * Double(weight[c]) + Double(bias[c]))
                        }
                    }
                }
            }
            """
        case .transposedConvolution: """
            /// torch's conv_transpose2d as a scatter: in[c, iy, ix] adds weight[c, j, ky, kx] · x to
            /// out[g·K/G + j, iy·SH − PT + ky·DH, ix·SW − PL + kx·DW] (g = c / (C/G)), dropped outside.
            static func transposedConvolution(_ output: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>,
                                              weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, batch: Int, _ s: Convolution) {
                let inPlane = s.inHeight * s.inWidth, outPlane = s.outHeight * s.outWidth
                let channelsPerGroup = s.inChannels / s.groups, filtersPerGroup = s.outChannels / s.groups
                let taps = s.kernelHeight * s.kernelWidth
                for n in 0..<batch {
                    let x = input + n * s.inChannels * inPlane
                    let y = output + n * s.outChannels * outPlane
                    for k in 0..<s.outChannels { (y + k * outPlane).update(repeating: bias?[k] ?? 0, count: outPlane) }
                    for c in 0..<s.inChannels {
                        let xc = x + c * inPlane
                        for j in 0..<filtersPerGroup {
                            let yk = y + ((c / channelsPerGroup) * filtersPerGroup + j) * outPlane
                            let wk = weight + (c * filtersPerGroup + j) * taps
                            for ky in 0..<s.kernelHeight {
                                for iy in 0..<s.inHeight {
                                    let oy = iy * s.strideHeight - s.padTop + ky * s.dilationHeight
                                    guard oy >= 0 && oy < s.outHeight else { continue }
                                    for kx in 0..<s.kernelWidth {
                                        let w = wk[ky * s.kernelWidth + kx]
                                        for ix in 0..<s.inWidth {
                                            let ox = ix * s.strideWidth - s.padLeft + kx * s.dilationWidth
                                            if ox >= 0 && ox < s.outWidth { yk[oy * s.outWidth + ox] += w * xc[iy * s.inWidth + ix] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    activate(y, channels: s.outChannels, spatial: outPlane, s.activation)
                }
            }
            """
        case .upsample: """
            /// Along one axis: the two source cells and the second's weight (torch's nearest and bilinear rules).
            static func upsampleSource(_ o: Int, _ size: Int, _ outSize: Int, _ s: UpsampleShape) -> (Int, Int, Float) {
                guard s.bilinear else { return (o * size / outSize, o * size / outSize, 0) }
                var source: Double
                if s.alignCorners {
                    source = outSize > 1 ? Double(o) * Double(size - 1) / Double(outSize - 1) : 0
                } else {
                    source = Swift.max((Double(o) + 0.5) * Double(size) / Double(outSize) - 0.5, 0)
                }
                let first = Int(source)
                return (first, first < size - 1 ? first + 1 : first, Float(source - Double(first)))
            }

            /// out[c, oy, ox] = (1 − ly)·((1 − lx)·in[y0, x0] + lx·in[y0, x1]) + ly·((1 − lx)·in[y1, x0] + lx·in[y1, x1]).
            static func upsample(_ output: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, batch: Int, _ s: UpsampleShape) {
                let inPlane = s.inHeight * s.inWidth, outPlane = s.outHeight * s.outWidth
                for plane in 0..<(batch * s.channels) {
                    let x = input + plane * inPlane, y = output + plane * outPlane
                    for oy in 0..<s.outHeight {
                        let (y0, y1, ly) = upsampleSource(oy, s.inHeight, s.outHeight, s)
                        for ox in 0..<s.outWidth {
                            let (x0, x1, lx) = upsampleSource(ox, s.inWidth, s.outWidth, s)
                            let r0 = x + y0 * s.inWidth, r1 = x + y1 * s.inWidth
                            y[oy * s.outWidth + ox] = s.bilinear
                                ? (1 - ly) * ((1 - lx) * r0[x0] + lx * r0[x1]) + ly * ((1 - lx) * r1[x0] + lx * r1[x1])
                                : r0[x0]
                        }
                    }
                }
            }
            """
        case .gatherChannels: """
            /// out[c, p] = in[sources[c], p].
            static func gatherChannels(_ output: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, batch: Int, _ s: ChannelGather) {
                for n in 0..<batch {
                    let x = input + n * s.inputChannels * s.spatial, y = output + n * s.sources.count * s.spatial
                    for (c, source) in s.sources.enumerated() {
                        (y + c * s.spatial).update(from: x + source * s.spatial, count: s.spatial)
                    }
                }
            }
            """
        case .pad: """
            /// out[c, y, x] = in[c, source(y − top, H), source(x − left, W)]: reflect mirrors without
            /// repeating the edge, replicate repeats it, circular wraps (pads the checker allows).
            static func pad(_ output: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, batch: Int, _ s: PadShape) {
                func source(_ i: Int, _ size: Int) -> Int {
                    if i >= 0 && i < size { return i }
                    switch s.mode {
                    case .reflect: return i < 0 ? -i : 2 * (size - 1) - i
                    case .replicate: return i < 0 ? 0 : size - 1
                    case .circular: return i < 0 ? i + size : i - size
                    }
                }
                let oh = s.height + s.top + s.bottom, ow = s.width + s.left + s.right
                for plane in 0..<(batch * s.channels) {
                    let x = input + plane * s.height * s.width, y = output + plane * oh * ow
                    for oy in 0..<oh {
                        let row = x + source(oy - s.top, s.height) * s.width
                        for ox in 0..<ow { y[oy * ow + ox] = row[source(ox - s.left, s.width)] }
                    }
                }
            }
            """
        case .adaptiveAveragePool: """
            /// out[c, i, j] = mean of in[c, y, x], y in floor(i·H/OH)..<ceil((i+1)·H/OH), x likewise; summed in Double.
            static func adaptiveAveragePool(_ output: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, batch: Int, _ s: AdaptivePoolShape) {
                let h = s.height, w = s.width, oh = s.outputHeight, ow = s.outputWidth
                for plane in 0..<(batch * s.channels) {
                    let x = input + plane * h * w, y = output + plane * oh * ow
                    for i in 0..<oh {
                        let y0 = i * h / oh, y1 = ((i + 1) * h + oh - 1) / oh
                        for j in 0..<ow {
                            let x0 = j * w / ow, x1 = ((j + 1) * w + ow - 1) / ow
                            var sum = 0.0
                            for r in y0..<y1 { for c in x0..<x1 { sum += Double(x[r * w + c]) } }
                            y[i * ow + j] = Float(sum / Double((y1 - y0) * (x1 - x0)))
                        }
                    }
                }
            }
            """
        case .maxout: """
            /// out[c, p] = max over j < pieces of in[c·pieces + j, p], NaN if any is.
            static func maxout(_ output: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, batch: Int, _ s: MaxoutShape) {
                let p = s.spatial
                for plane in 0..<(batch * s.outputChannels) {
                    let x = input + plane * s.pieces * p, y = output + plane * p
                    for i in 0..<p { y[i] = x[i] }
                    for j in 1..<max(s.pieces, 1) {
                        let xj = x + j * p
                        for i in 0..<p where xj[i] > y[i] || xj[i].isNaN { y[i] = xj[i] }
                    }
                }
            }
            """
        case .copy: """
            /// out = in.
            static func copy(_ output: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, count: Int) {
                output.update(from: input, count: count)
            }
            """
        }
    }
}
