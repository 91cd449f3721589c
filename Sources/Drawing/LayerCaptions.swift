import Foundation
import ShapeCheck

/// How big a box is and how much room its caption takes.
enum DrawingScale {
    /// Box width from the spatial size: logarithmic in the side √(W·H), so a 1x1 vector,
    /// LeNet's 32x32 and EfficientNet-B7's 600x600 are all visible and none dominates.
    static func boxWidth(_ shape: TensorShape) -> Double {
        14 + 22 * log2(1 + Double(shape.width * shape.height).squareRoot())
    }

    /// Box height from the depth, logarithmic too: 3 channels to 25,088 flattened features.
    static func boxHeight(_ shape: TensorShape) -> Double {
        6 + 4.5 * log2(1 + Double(shape.depth))
    }

    static let fontSize = 11.0
    static let titleFontSize = 16.0
    static let lineHeight = 13.0
    /// Generous average advances for a sans-serif face (Arial's are about 0.5–0.55 em,
    /// DejaVu Sans's about 0.6): the estimate errs on the wide side, so captions never
    /// run into the next lane.
    static let regularAdvance = 0.62
    static let boldAdvance = 0.68

    /// Estimated width of a caption whose first line is bold.
    static func captionWidth(_ lines: [String]) -> Double {
        var widest = 0.0
        for (index, line) in lines.enumerated() {
            let advance = index == 0 ? boldAdvance : regularAdvance
            widest = max(widest, Double(line.unicodeScalars.count) * advance * fontSize)
        }
        return widest
    }

    static func captionHeight(_ lines: [String]) -> Double {
        Double(lines.count) * lineHeight + 3
    }
}

/// The words in a layer's caption.
enum LayerCaption {
    static func lines(_ layer: CheckedLayer) -> [String] {
        var lines = [layer.name, operation(layer) + " · " + layer.output.description]
        let parameters = layer.trainableParameters
        if parameters > 0 { lines.append("\(CheckReport.grouped(parameters)) parameter\(parameters == 1 ? "" : "s")") }
        return lines
    }

    /// What the arrow colours mean, for the legend under the title.
    static let legend: [(EdgeKind, String)] = [(.sequence, "previous line"), (.from, "from"), (.add, "add"),
                                                (.concat, "concat"), (.multiply, "mul")]
    static let legendSwatch = 20.0
    static let legendSpacing = 14.0

    static func legendWidth(_ label: String) -> Double {
        legendSwatch + 4 + Double(label.unicodeScalars.count) * DrawingScale.regularAdvance * DrawingScale.fontSize + legendSpacing
    }

    static func inputLines(_ shape: TensorShape) -> [String] {
        ["input", "input · " + shape.description]
    }

    /// The operation the way figures in papers label it: `3x3 conv, 128, /2`.
    static func operation(_ layer: CheckedLayer) -> String {
        var text: String
        switch layer.operation {
        case .convolution(let conv):
            text = kernel(conv.window) + (conv.isDepthwise ? " depthwise" : " conv, \(conv.filters)")
                + stride(conv.window) + dilation(conv.window)
            if !conv.isDepthwise && conv.groups != 1 { text += ", groups \(conv.groups)" }
        case .transposedConvolution(let conv):
            let up = conv.window.strideWidth == conv.window.strideHeight ? "\(conv.window.strideWidth)"
                : "\(conv.window.strideWidth)x\(conv.window.strideHeight)"
            text = kernel(conv.window) + " deconv, \(conv.filters)" + (up == "1" ? "" : ", ×" + up)
        case .pooling(let pool):
            text = kernel(pool.window) + (pool.kind == .max ? " maxpool" : " avgpool") + stride(pool.window)
        case .adaptiveAveragePool(let width, let height):
            text = "adaptiveavgpool \(width)x\(height)"
        case .fullyConnected(let outputs):
            text = "fc \(outputs)"
        case .pointwise(let outputs, _):
            text = "pointwise \(outputs)"
        case .upsample(let up):
            let factor = up.scaleWidth == up.scaleHeight ? "\(up.scaleWidth)" : "\(up.scaleWidth)x\(up.scaleHeight)"
            text = "upsample ×\(factor) \(up.mode.rawValue)"
        case .slice(let from, let to):
            text = "slice \(from)..<\(to)"
        case .shuffle(let groups):
            text = "shuffle \(groups)"
        case .maxout(let pieces):
            text = "maxout \(pieces)"
        case .dropout(let probability):
            text = "dropout \(formatNumber(probability))"
        case .activation(let activation):
            text = activation.description
        default:
            text = layer.keyword
        }
        if let activation = layer.activation { text += " + \(activation.description)" }
        return text
    }

    static func category(_ operation: ShapeCheck.Operation) -> LayerCategory {
        switch operation {
        case .convolution, .transposedConvolution, .pointwise: .convolution
        case .pooling, .globalPooling, .adaptiveAveragePool, .maxout, .upsample: .pooling
        case .fullyConnected: .fullyConnected
        case .batchNorm, .layerNorm, .localResponseNorm, .layerScale: .normalization
        case .activation: .activation
        case .add, .concat, .multiply: .merge
        case .flatten, .slice, .shuffle: .reshape
        case .dropout: .other
        }
    }

    /// "61,706 parameters · 0.42 M MACs" for the title line.
    static func summary(_ network: CheckedNetwork) -> String {
        "\(network.layers.count) layers · input \(network.input) · output \(network.output) · "
            + "\(CheckReport.grouped(network.trainableParameters)) parameters · "
            + "\(scaled(network.multiplyAccumulates)) MACs"
    }

    /// 1_814_073_344 → "1.81 G", 416_520 → "416.5 K".
    static func scaled(_ value: Int) -> String {
        let units: [(Double, String)] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")]
        for (size, unit) in units where Double(value) >= size {
            let scaled = Double(value) / size
            return String(format: scaled < 10 ? "%.2f" : "%.1f", scaled) + " " + unit
        }
        return "\(value)"
    }

    private static func kernel(_ window: Window) -> String { "\(window.kernelWidth)x\(window.kernelHeight)" }

    private static func stride(_ window: Window) -> String {
        if window.strideWidth == 1 && window.strideHeight == 1 { return "" }
        return window.strideWidth == window.strideHeight ? ", /\(window.strideWidth)"
            : ", /\(window.strideWidth)x\(window.strideHeight)"
    }

    private static func dilation(_ window: Window) -> String {
        if window.dilationWidth == 1 && window.dilationHeight == 1 { return "" }
        return window.dilationWidth == window.dilationHeight ? ", dilation \(window.dilationWidth)"
            : ", dilation \(window.dilationWidth)x\(window.dilationHeight)"
    }
}
