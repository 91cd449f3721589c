import Foundation
import Parser

/// How a checked network reads to a person (the table, `--explain`) and to a tool (`--json`).
public enum CheckReport {
    // MARK: Table

    public static func table(_ network: CheckedNetwork, path: String) -> String {
        let header = ["layer", "op", "output", "values", "parameters", "MACs"]
        var rows: [[String]] = [["input", "", network.input.description, grouped(network.input.elementCount), "", ""]]
        for (index, layer) in network.layers.enumerated() {
            rows.append([layer.name, describe(layer, index: index, in: network), layer.output.description,
                         grouped(layer.output.elementCount), grouped(layer.trainableParameters), grouped(layer.multiplyAccumulates)])
        }
        let rightAligned: Set<Int> = [3, 4, 5]
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return rightAligned.contains(i) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        var out = "\(network.name) (\(path))\n\n"
        out += line(header) + "\n"
        out += widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ") + "\n"
        for row in rows { out += line(row) + "\n" }
        out += "\n" + totals(network)
        return out
    }

    public static func totals(_ network: CheckedNetwork) -> String {
        let trainable = network.trainableParameters
        let frozen = network.nonTrainableParameters
        let macs = network.multiplyAccumulates
        let activationBytes = network.activationElements.multipliedReportingOverflow(by: 4).partialValue
        let weightBytes = (trainable + frozen).multipliedReportingOverflow(by: 4).partialValue
        let rows: [(String, String, String)] = [
            ("trainable parameters", grouped(trainable), ""),
            ("non-trainable parameters", grouped(frozen), frozen > 0 ? "batchnorm running statistics" : ""),
            ("multiply-accumulates", grouped(macs), "\(grouped(macs.multipliedReportingOverflow(by: 2).partialValue)) FLOPs, per image"),
            ("activation memory", grouped(activationBytes) + " B", (activationBytes >= 1024 ? "\(bytes(activationBytes)); " : "") + "every layer's output at once, per image, float32"),
            ("weight memory", grouped(weightBytes) + " B", (weightBytes >= 1024 ? "\(bytes(weightBytes)) " : "") + "as float32"),
        ]
        let nameWidth = rows.map(\.0.count).max()!
        let valueWidth = rows.map(\.1.count).max()!
        return rows.map { name, value, detail in
            let text = name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  "
                + String(repeating: " ", count: valueWidth - value.count) + value
            return (detail.isEmpty ? text : text + "   (\(detail))")
        }.joined(separator: "\n") + "\n"
    }

    /// The op column: the line as written, with every default spelled out.
    public static func describe(_ layer: CheckedLayer, index: Int, in network: CheckedNetwork) -> String {
        var parts: [String] = []
        switch layer.operation {
        case .convolution(let conv):
            if conv.isDepthwise {
                parts = ["depthwise", "\(conv.window.kernelWidth)x\(conv.window.kernelHeight)"]
            } else {
                parts = ["conv", "\(conv.filters)", "\(conv.window.kernelWidth)x\(conv.window.kernelHeight)"]
            }
            parts += windowWords(conv.window)
            if conv.isDepthwise && conv.filters != conv.groups { parts += ["multiplier", "\(conv.filters / conv.groups)"] }
            if !conv.isDepthwise && conv.groups != 1 { parts += ["groups", "\(conv.groups)"] }
            if !conv.hasBias { parts.append("nobias") }
        case .pooling(let pool):
            parts = [pool.kind == .max ? "maxpool" : "avgpool", "\(pool.window.kernelWidth)x\(pool.window.kernelHeight)"]
            parts += windowWords(pool.window)
            if pool.ceilMode { parts += ["round", "ceil"] }
        case .globalPooling(let kind):
            parts = [kind == .max ? "globalmaxpool" : "globalavgpool"]
        case .fullyConnected(let outputs):
            parts = ["fc", "\(outputs)"]
        case .flatten:
            parts = ["flatten"]
        case .dropout(let p):
            parts = ["dropout", formatNumber(p)]
        case .batchNorm(let eps):
            parts = ["batchnorm", "eps", formatNumber(eps)]
        case .localResponseNorm(let lrn):
            parts = ["lrn", "size", "\(lrn.size)", "alpha", formatNumber(lrn.alpha), "beta", formatNumber(lrn.beta), "k", formatNumber(lrn.k)]
        case .activation(let activation):
            parts = [activation.description]
        case .add, .concat:
            parts = [layer.keyword] + layer.inputs.map { name(of: $0, in: network) }
        }
        switch layer.operation {
        case .add, .concat: break
        default:
            let previous: LayerInput = index == 0 ? .networkInput : .layer(index - 1)
            if layer.inputs.first != previous { parts += ["from", name(of: layer.inputs[0], in: network)] }
        }
        if let activation = layer.activation { parts.append(activation.description) }
        return parts.joined(separator: " ")
    }

    private static func windowWords(_ window: Window) -> [String] {
        var words: [String] = []
        let s = window.strideWidth == window.strideHeight ? "\(window.strideWidth)" : "\(window.strideWidth)x\(window.strideHeight)"
        words += ["stride", s]
        words += ["pad", (window.paddingIsSame ? "same=" : "") + paddingText(window.padding)]
        if window.dilationWidth != 1 || window.dilationHeight != 1 {
            words += ["dilation", window.dilationWidth == window.dilationHeight ? "\(window.dilationWidth)" : "\(window.dilationWidth)x\(window.dilationHeight)"]
        }
        return words
    }

    /// `1`, `2x1` (width x height), or `0+1x0+1` (left+right x top+bottom) when the sides differ.
    public static func paddingText(_ p: Padding) -> String {
        if p.left == p.right && p.top == p.bottom {
            return p.left == p.top ? "\(p.left)" : "\(p.left)x\(p.top)"
        }
        return "\(p.left)+\(p.right)x\(p.top)+\(p.bottom)"
    }

    static func name(of input: LayerInput, in network: CheckedNetwork) -> String {
        switch input {
        case .networkInput: "input"
        case .layer(let i): network.layers[i].name
        }
    }

    // MARK: Explain

    /// One line per layer with the lecture's formulas, numbers filled in.
    public static func explain(_ network: CheckedNetwork) -> String {
        var out = ""
        for layer in network.layers {
            out += "\(layer.name): " + explanation(of: layer) + "\n"
        }
        return out
    }

    public static func explanation(of layer: CheckedLayer) -> String {
        let input = layer.inputShapes[0]
        var text: String
        switch layer.operation {
        case .convolution(let conv):
            text = sizeFormula(layer.arithmetic) + "  →  \(layer.output)"
            let window = "\(conv.window.kernelWidth)·\(conv.window.kernelHeight)"
            let depth = conv.groups == 1 ? "\(input.depth)" : conv.isDepthwise ? "1" : "(\(input.depth)/\(conv.groups))"
            let perFilter = conv.hasBias ? "(\(window)·\(depth) + 1)" : "\(window)·\(depth)"
            text += ";  params \(perFilter)·\(conv.filters) = \(grouped(layer.trainableParameters))"
            text += ";  MACs \(layer.output.width)·\(layer.output.height)·\(conv.filters)·\(conv.isDepthwise ? "1" : depth)·\(window) = \(grouped(layer.multiplyAccumulates))"
        case .pooling(let pool):
            text = sizeFormula(layer.arithmetic) + "  →  \(layer.output)"
            if pool.window.padding != .zero && pool.kind == .average { text += ";  padded cells count in the average" }
        case .globalPooling(let kind):
            text = "\(kind == .max ? "max" : "average") over each \(input.width)x\(input.height) channel  →  \(layer.output)"
        case .fullyConnected(let outputs):
            let features = input.elementCount
            text = (input.isVector ? "\(features) inputs" : "flatten \(input) = \(grouped(features)) inputs") + "  →  \(outputs)"
            text += ";  params (\(grouped(features)) + 1)·\(grouped(outputs)) = \(grouped(layer.trainableParameters))"
            text += ";  MACs \(grouped(features))·\(grouped(outputs)) = \(grouped(layer.multiplyAccumulates))"
        case .flatten:
            text = "\(input) = \(grouped(input.elementCount)) values  →  \(layer.output)"
        case .batchNorm:
            text = "unchanged \(layer.output);  params 2·\(input.depth) = \(layer.trainableParameters) trainable (γ, β) + 2·\(input.depth) = \(layer.nonTrainableParameters) running statistics"
        case .add:
            text = layer.inputShapes.map(\.description).joined(separator: " + ") + "  →  \(layer.output)"
        case .concat:
            text = "depth " + layer.inputShapes.map { "\($0.depth)" }.joined(separator: " + ") + " = \(layer.output.depth)  →  \(layer.output)"
        case .dropout:
            text = "unchanged \(layer.output) (identity at inference)"
        case .localResponseNorm, .activation:
            text = "unchanged \(layer.output)"
        }
        if let activation = layer.activation { text += ";  then \(activation)" }
        return text
    }

    /// `(32 − 5 + 2·2)/1 + 1 = 32`, once when width and height agree, else for each.
    private static func sizeFormula(_ arithmetic: [SizeArithmetic]) -> String {
        func one(_ a: SizeArithmetic) -> String {
            var formula = Arithmetic.formula(input: a.input, extent: a.extent, padBefore: a.padBefore, padAfter: a.padAfter, stride: a.stride)
            if a.ceilMode && !a.fits {
                formula = "ceil(" + formula.replacingFirst(" + 1", with: ") + 1")
            }
            var text = "\(formula) = "
            if !a.fits && !a.ceilMode { text += "\(Arithmetic.decimal(a.span, a.stride, plus: 1)) → " }
            return text + "\(a.output)"
        }
        guard arithmetic.count == 2 else { return "" }
        let (w, h) = (arithmetic[0], arithmetic[1])
        if w == h { return one(w) }
        return "width " + one(w) + ", height " + one(h)
    }

    // MARK: JSON

    public static func json(_ result: CheckResult) -> String {
        var fields: [(String, String)] = [("file", quoted(result.file.path)), ("ok", result.hasErrors ? "false" : "true")]
        if let network = result.network {
            fields.append(("network", quoted(network.name)))
            fields.append(("input", shapeJSON(network.input)))
            let layers = network.layers.enumerated().map { index, layer in
                object([
                    ("name", quoted(layer.name)),
                    ("op", quoted(layer.keyword)),
                    ("description", quoted(describe(layer, index: index, in: network))),
                    ("inputs", "[" + layer.inputs.map { quoted(name(of: $0, in: network)) }.joined(separator: ", ") + "]"),
                    ("output", shapeJSON(layer.output)),
                    ("activation", layer.activation.map { quoted($0.description) } ?? "null"),
                    ("values", "\(layer.output.elementCount)"),
                    ("parameters", "\(layer.trainableParameters)"),
                    ("non_trainable_parameters", "\(layer.nonTrainableParameters)"),
                    ("macs", "\(layer.multiplyAccumulates)"),
                    ("tensors", "[" + layer.parameters.map { t in
                        object([("key", quoted(layer.key(t))), ("shape", "[" + t.shape.map(String.init).joined(separator: ", ") + "]"),
                                ("trainable", t.isTrainable ? "true" : "false")])
                    }.joined(separator: ", ") + "]"),
                ])
            }
            fields.append(("layers", "[\n" + layers.map { "    " + $0 }.joined(separator: ",\n") + "\n  ]"))
            fields.append(("totals", object([
                ("parameters", "\(network.trainableParameters)"),
                ("non_trainable_parameters", "\(network.nonTrainableParameters)"),
                ("macs", "\(network.multiplyAccumulates)"),
                ("flops", "\(network.multiplyAccumulates.multipliedReportingOverflow(by: 2).partialValue)"),
                ("activation_bytes", "\(network.activationElements.multipliedReportingOverflow(by: 4).partialValue)"),
                ("weight_bytes", "\((network.trainableParameters + network.nonTrainableParameters).multipliedReportingOverflow(by: 4).partialValue)"),
            ])))
        }
        let diagnostics = result.diagnostics.map { d in
            object([
                ("id", quoted(d.id)), ("severity", quoted(d.severity.rawValue)),
                ("line", "\(d.range.start.line)"), ("column", "\(d.range.start.column)"),
                ("message", quoted(d.message)),
                ("notes", "[" + d.notes.map { quoted($0.message) }.joined(separator: ", ") + "]"),
            ])
        }
        fields.append(("diagnostics", "[" + (diagnostics.isEmpty ? "" : "\n" + diagnostics.map { "    " + $0 }.joined(separator: ",\n") + "\n  ") + "]"))
        return "{\n" + fields.map { "  \(quoted($0.0)): \($0.1)" }.joined(separator: ",\n") + "\n}"
    }

    private static func shapeJSON(_ shape: TensorShape) -> String {
        shape.isVector
            ? object([("shape", quoted(shape.description)), ("features", "\(shape.depth)")])
            : object([("shape", quoted(shape.description)), ("width", "\(shape.width)"), ("height", "\(shape.height)"), ("depth", "\(shape.depth)")])
    }

    private static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\(quoted($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }

    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    // MARK: Numbers

    /// 61706 → "61,706".
    public static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return value < 0 ? "-" + out : out
    }

    /// 246824 → "241.0 KiB".
    public static func bytes(_ value: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var amount = Double(value)
        var unit = 0
        while amount >= 1024 && unit < units.count - 1 {
            amount /= 1024
            unit += 1
        }
        if unit == 0 { return "\(value) B" }
        let tenths = Int((amount * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }

    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
