import Foundation
import ShapeCheck

/// Prints a `NetworkDrawing` as one self-contained SVG file: no scripts, no external fonts or
/// images, every piece of text escaped.
public enum SVGPrinter {
    /// `cnnc draw`'s whole job: layout, then text.
    public static func svg(_ network: CheckedNetwork) -> String {
        print(NetworkLayout.layout(network))
    }

    public static func print(_ drawing: NetworkDrawing) -> String {
        var out = ""
        out.reserveCapacity(400 * drawing.layers.count + 2000)
        let width = number(drawing.width), height = number(drawing.height)
        out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"\(width)\" height=\"\(height)\" "
            + "viewBox=\"0 0 \(width) \(height)\" font-family=\"sans-serif\" font-size=\"\(number(DrawingScale.fontSize))\">\n"
        out += "<title>\(escape(drawing.title))</title>\n"
        out += "<defs>\n"
        for kind in EdgeKind.allCases {
            out += "<marker id=\"arrow-\(kind.rawValue)\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
                + "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">"
                + "<path d=\"M0,0 L10,5 L0,10 z\" fill=\"\(colour(kind))\"/></marker>\n"
        }
        out += "</defs>\n"
        out += "<rect class=\"background\" x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>\n"
        let margin = NetworkLayout.margin
        out += "<text class=\"title\" x=\"\(number(margin))\" y=\"\(number(margin + 16))\" font-size=\"\(number(DrawingScale.titleFontSize))\" "
            + "font-weight=\"bold\">\(escape(drawing.title))</text>\n"
        out += "<text class=\"summary\" x=\"\(number(margin))\" y=\"\(number(margin + 34))\" fill=\"#444444\">"
            + "\(escape(drawing.summary))</text>\n"

        out += "<g class=\"legend\" stroke-width=\"1.3\">"
        var x = margin
        let y = margin + 52
        let used = Set(drawing.edges.map(\.kind))
        for (kind, label) in LayerCaption.legend where used.contains(kind) {
            out += "<line x1=\"\(number(x))\" y1=\"\(number(y - 4))\" x2=\"\(number(x + LayerCaption.legendSwatch))\" "
                + "y2=\"\(number(y - 4))\" stroke=\"\(colour(kind))\" marker-end=\"url(#arrow-\(kind.rawValue))\"/>"
            out += "<text x=\"\(number(x + LayerCaption.legendSwatch + 4))\" y=\"\(number(y))\" fill=\"#444444\">\(escape(label))</text>"
            x += LayerCaption.legendWidth(label)
        }
        out += "</g>\n"

        // Arrows first, so boxes are drawn over their ends.
        out += "<g class=\"edges\" fill=\"none\" stroke-width=\"1.3\">\n"
        for edge in drawing.edges {
            let source = drawing.layers[edge.source].name, target = drawing.layers[edge.target].name
            out += "<path class=\"edge \(edge.kind.rawValue)\" data-from=\"\(escape(source))\" data-to=\"\(escape(target))\" "
                + "d=\"\(path(edge.points))\" stroke=\"\(colour(edge.kind))\" marker-end=\"url(#arrow-\(edge.kind.rawValue))\"/>\n"
        }
        out += "</g>\n"

        out += "<g class=\"layers\">\n"
        for layer in drawing.layers {
            let (fill, stroke) = colours(layer.category)
            out += "<g class=\"layer \(layer.category.rawValue)\">"
            out += "<title>\(escape(layer.lines.joined(separator: "\n")))</title>"
            out += "<rect class=\"box\" x=\"\(number(layer.box.x))\" y=\"\(number(layer.box.y))\" "
                + "width=\"\(number(layer.box.width))\" height=\"\(number(layer.box.height))\" rx=\"2\" "
                + "fill=\"\(fill)\" stroke=\"\(stroke)\"/>"
            let x = number(layer.caption.x)
            out += "<text class=\"caption\" x=\"\(x)\" y=\"\(number(layer.caption.y))\">"
            for (index, line) in layer.lines.enumerated() {
                let weight = index == 0 ? " font-weight=\"bold\"" : " fill=\"#333333\""
                out += "<tspan x=\"\(x)\" dy=\"\(number(index == 0 ? DrawingScale.fontSize : DrawingScale.lineHeight))\"\(weight)>"
                    + "\(escape(line))</tspan>"
            }
            out += "</text></g>\n"
        }
        out += "</g>\n</svg>\n"
        return out
    }

    /// Text for XML content and attribute values: markup characters as entities, and
    /// characters XML 1.0 forbids (controls other than tab and newline) replaced.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += "&#10;"
            case "\t": out.unicodeScalars.append(scalar)
            default:
                let value = scalar.value
                let allowed = value >= 0x20 && !(0x7F...0x9F).contains(value) && value != 0xFFFE && value != 0xFFFF
                out.unicodeScalars.append(allowed ? scalar : "\u{FFFD}")
            }
        }
        return out
    }

    /// Vertical runs as lines, changes of lane as S-curves whose control points stay inside
    /// the gap between the rows.
    static func path(_ points: [DrawingPoint]) -> String {
        guard let first = points.first else { return "" }
        var d = "M\(number(first.x)),\(number(first.y))"
        for (from, to) in zip(points, points.dropFirst()) {
            if from.x == to.x {
                d += " L\(number(to.x)),\(number(to.y))"
            } else {
                let middle = number((from.y + to.y) / 2)
                d += " C\(number(from.x)),\(middle) \(number(to.x)),\(middle) \(number(to.x)),\(number(to.y))"
            }
        }
        return d
    }

    /// One decimal at most: `12`, `12.5`.
    static func number(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        let whole = tenths / 10, fraction = abs(tenths % 10)
        if fraction == 0 { return String(whole) }
        return (tenths < 0 && whole == 0 ? "-" : "") + "\(whole).\(fraction)"
    }

    static func colour(_ kind: EdgeKind) -> String {
        switch kind {
        case .sequence: "#555555"
        case .from: "#2b6cb0"
        case .add: "#c53030"
        case .concat: "#2f855a"
        case .multiply: "#9c4221"
        }
    }

    /// (fill, stroke) of a box.
    static func colours(_ category: LayerCategory) -> (String, String) {
        switch category {
        case .input: ("#e2e8f0", "#4a5568")
        case .convolution: ("#90cdf4", "#2c5282")
        case .pooling: ("#9ae6b4", "#276749")
        case .fullyConnected: ("#fbd38d", "#9c4221")
        case .normalization: ("#d6bcfa", "#553c9a")
        case .activation: ("#faf089", "#975a16")
        case .merge: ("#feb2b2", "#9b2c2c")
        case .reshape: ("#e2e8f0", "#4a5568")
        case .other: ("#edf2f7", "#718096")
        }
    }
}
