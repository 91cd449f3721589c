import Foundation
import Parser

/// How a checked network reads to a person (the table, `--explain`) and to a tool (`--json`).
public enum CheckReport {
    // MARK: Table

    public static func table(_ network: CheckedNetwork, path: String) -> String {
        let header = ["layer", "op", "output", "values", "parameters", "MACs"]
        let columns = header.count
        // The cells row by row in one array: a network can have a hundred thousand layers.
        var cells: [String] = ["input", "", network.input.description, grouped(network.input.elementCount), "", ""]
        cells.reserveCapacity(columns * (network.layers.count + 1))
        for (index, layer) in network.layers.enumerated() {
            cells.append(layer.name)
            cells.append(describe(layer, index: index, in: network))
            cells.append(layer.output.description)
            cells.append(grouped(layer.output.elementCount))
            cells.append(grouped(layer.trainableParameters))
            cells.append(grouped(layer.multiplyAccumulates))
        }
        func rightAligned(_ column: Int) -> Bool { column >= 3 }  // values, parameters, MACs
        // A cell wider than this (an `add` of hundreds of layers, a very long name) does not
        // widen its column: it pushes the rest of its own row right instead of padding every row.
        let widest = 120
        var widths = header.map(\.count)
        for (i, cell) in cells.enumerated() { widths[i % columns] = max(widths[i % columns], min(displayWidth(cell), widest)) }
        func line(_ cells: ArraySlice<String>) -> String {
            cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: max(widths[i] - displayWidth(cell), 0))
                return rightAligned(i) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        var out = "\(network.name) (\(path))\n\n"
        out += line(header[...]) + "\n"
        out += widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ") + "\n"
        // A network of many layers makes a long table: rows of ASCII (all of them, as names
        // and ops are ASCII) are laid out as bytes, which gives the same text much faster.
        var bytes: [UInt8] = []
        for start in stride(from: 0, to: cells.count, by: columns) {
            let row = cells[start..<(start + columns)]
            guard row.allSatisfy(isASCII) else {
                out += String(decoding: bytes, as: UTF8.self) + line(row) + "\n"
                bytes.removeAll()
                continue
            }
            for (i, cell) in row.enumerated() {
                if i > 0 {
                    bytes.append(0x20)
                    bytes.append(0x20)
                }
                let pad = max(widths[i] - cell.utf8.count, 0)
                if rightAligned(i) { bytes.append(contentsOf: repeatElement(0x20, count: pad)) }
                bytes.append(contentsOf: cell.utf8)
                if !rightAligned(i) { bytes.append(contentsOf: repeatElement(0x20, count: pad)) }
            }
            while bytes.last == 0x20 { bytes.removeLast() }
            bytes.append(0x0A)
        }
        out += String(decoding: bytes, as: UTF8.self)
        out += "\n" + totals(network)
        return out
    }

    private static func isASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 < 0x80 }
    }

    /// Characters, as a terminal shows them; the same as bytes for ASCII.
    private static func displayWidth(_ text: String) -> Int {
        isASCII(text) ? text.utf8.count : text.count
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
        // Words written straight into one buffer: every row of a table and of JSON has one.
        var words = Words()
        switch layer.operation {
        case .convolution(let conv):
            if conv.isDepthwise {
                words.add("depthwise")
            } else {
                words.add("conv")
                words.add(conv.filters)
            }
            words.add(size(conv.window.kernelWidth, conv.window.kernelHeight))
            windowWords(conv.window, to: &words)
            if conv.window.paddingMode != .zeros {
                words.add("padmode")
                words.add(conv.window.paddingMode.rawValue)
            }
            if conv.isDepthwise && conv.filters != conv.groups {
                words.add("multiplier")
                words.add(conv.filters / conv.groups)
            }
            if !conv.isDepthwise && conv.groups != 1 {
                words.add("groups")
                words.add(conv.groups)
            }
            if !conv.hasBias { words.add("nobias") }
        case .pooling(let pool):
            words.add(pool.kind == .max ? "maxpool" : "avgpool")
            words.add(size(pool.window.kernelWidth, pool.window.kernelHeight))
            windowWords(pool.window, to: &words)
            if pool.ceilMode {
                words.add("round")
                words.add("ceil")
            }
        case .globalPooling(let kind):
            words.add(kind == .max ? "globalmaxpool" : "globalavgpool")
        case .fullyConnected(let outputs):
            words.add("fc")
            words.add(outputs)
        case .flatten:
            words.add("flatten")
        case .dropout(let p):
            words.add("dropout")
            words.add(formatNumber(p))
        case .batchNorm(let eps):
            words.add("batchnorm")
            words.add("eps")
            words.add(formatNumber(eps))
        case .localResponseNorm(let lrn):
            for word in ["lrn", "size", "\(lrn.size)", "alpha", formatNumber(lrn.alpha), "beta", formatNumber(lrn.beta), "k", formatNumber(lrn.k)] {
                words.add(word)
            }
        case .activation(let activation):
            words.add(activation.description)
        case .slice(let start, let end):
            words.add("slice")
            words.add(start)
            words.add(end)
        case .shuffle(let groups):
            words.add("shuffle")
            words.add(groups)
        case .adaptiveAveragePool(let width, let height):
            words.add("adaptiveavgpool")
            words.add(size(width, height))
        case .maxout(let pieces):
            words.add("maxout")
            words.add(pieces)
        case .layerNorm(let eps):
            words.add("layernorm")
            words.add("eps")
            words.add(formatNumber(eps))
        case .layerScale:
            words.add("layerscale")
        case .pointwise(let outputs, let hasBias):
            words.add("pointwise")
            words.add(outputs)
            if !hasBias { words.add("nobias") }
        case .transposedConvolution(let conv):
            words.add("deconv")
            words.add(conv.filters)
            words.add(size(conv.window.kernelWidth, conv.window.kernelHeight))
            windowWords(conv.window, to: &words)
            if conv.outputPaddingWidth != 0 || conv.outputPaddingHeight != 0 {
                words.add("outpad")
                words.add(conv.outputPaddingWidth == conv.outputPaddingHeight ? String(conv.outputPaddingWidth)
                          : size(conv.outputPaddingWidth, conv.outputPaddingHeight))
            }
            if conv.groups != 1 {
                words.add("groups")
                words.add(conv.groups)
            }
            if !conv.hasBias { words.add("nobias") }
        case .upsample(let up):
            words.add("upsample")
            words.add(up.scaleWidth == up.scaleHeight ? String(up.scaleWidth) : size(up.scaleWidth, up.scaleHeight))
            words.add(up.mode.rawValue)
            if up.alignCorners { words.add("aligncorners") }
        case .add, .concat, .multiply:
            words.add(layer.keyword)
            for input in layer.inputs { words.add(name(of: input, in: network)) }
        }
        switch layer.operation {
        case .add, .concat, .multiply: break
        default:
            let previous: LayerInput = index == 0 ? .networkInput : .layer(index - 1)
            if layer.inputs.first != previous {
                words.add("from")
                words.add(name(of: layer.inputs[0], in: network))
            }
        }
        if let activation = layer.activation { words.add(activation.description) }
        return words.text
    }

    /// Words separated by single spaces.
    private struct Words {
        var buffer = TextBuffer()
        mutating func add(_ word: String) {
            if !buffer.bytes.isEmpty { buffer.write(UInt8(ascii: " ")) }
            buffer.write(word)
        }
        mutating func add(_ value: Int) { add(String(value)) }
        var text: String { buffer.text }
    }

    /// `5x3`.
    private static func size(_ width: Int, _ height: Int) -> String { "\(width)x\(height)" }

    private static func windowWords(_ window: Window, to words: inout Words) {
        words.add("stride")
        words.add(window.strideWidth == window.strideHeight ? String(window.strideWidth) : size(window.strideWidth, window.strideHeight))
        words.add("pad")
        switch window.paddingRule {
        case .written: words.add(paddingText(window.padding))
        case .same: words.add("same (\(chosenPadding(window.padding)))")
        case .fit: words.add("fit (\(chosenPadding(window.padding)))")
        }
        if window.dilationWidth != 1 || window.dilationHeight != 1 {
            words.add("dilation")
            words.add(window.dilationWidth == window.dilationHeight ? String(window.dilationWidth) : size(window.dilationWidth, window.dilationHeight))
        }
    }

    /// `1`, `2x1` (width x height), or `0+1x0+1` (left+right x top+bottom) when the sides differ.
    public static func paddingText(_ p: Padding) -> String {
        if p.left == p.right && p.top == p.bottom {
            return p.left == p.top ? "\(p.left)" : "\(p.left)x\(p.top)"
        }
        return "\(p.left)+\(p.right)x\(p.top)+\(p.bottom)"
    }

    /// The padding `pad same` or `pad fit` chose: `1`, `2x1`, or each side when they differ
    /// (`1 left, 2 right; 1 top, 2 bottom`).
    public static func chosenPadding(_ p: Padding) -> String {
        if p.left == p.right && p.top == p.bottom { return paddingText(p) }
        return "\(p.left) left, \(p.right) right; \(p.top) top, \(p.bottom) bottom"
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
            if let search = paddingSearch(layer) { out += "    " + search + "\n" }
            out += "    " + fieldExplanation(layer, in: network) + "\n"
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
            switch conv.window.paddingMode {
            case .zeros: break
            case .reflect: text += ";  padded cells mirror the input, edge not repeated (torch's reflect)"
            case .replicate: text += ";  padded cells repeat the edge cell (torch's replicate)"
            case .circular: text += ";  padded cells wrap around to the opposite edge (torch's circular)"
            }
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
        case .multiply:
            text = layer.inputShapes.map(\.description).joined(separator: " · ") + "  →  \(layer.output)"
                + (layer.inputShapes.contains { $0 != layer.output } ? " (1x1 broadcast over width and height)" : "")
        case .concat:
            text = "depth " + layer.inputShapes.map { "\($0.depth)" }.joined(separator: " + ") + " = \(layer.output.depth)  →  \(layer.output)"
        case .dropout:
            text = "unchanged \(layer.output) (identity at inference)"
        case .slice(let start, let end):
            text = "channels \(start)..<\(end) of \(input.depth)  →  \(layer.output)"
        case .layerNorm(let eps):
            text = "over the \(input.depth) channels at each of \(positions(input)): y = (x − mean)/sqrt(var + \(formatNumber(eps)))·γ + β  →  \(layer.output)"
            text += ";  params 2·\(input.depth) = \(grouped(layer.trainableParameters)) (γ, β)"
        case .layerScale:
            text = "y[c] = γ[c]·x[c] at each of \(positions(input))  →  \(layer.output);  params \(grouped(layer.trainableParameters)) (γ, [\(input.depth), 1, 1])"
        case .pointwise(let outputs, let hasBias):
            text = "\(input.depth) → \(outputs) at each of \(positions(input))  →  \(layer.output)"
            text += ";  params \(hasBias ? "(\(input.depth) + 1)" : "\(input.depth)")·\(outputs) = \(grouped(layer.trainableParameters))"
            text += ";  MACs \(input.width)·\(input.height)·\(outputs)·\(input.depth) = \(grouped(layer.multiplyAccumulates))"
        case .adaptiveAveragePool(let width, let height):
            text = "cell i averages floor(i·\(input.width)/\(width))..<ceil((i+1)·\(input.width)/\(width)) across, "
                + "floor(j·\(input.height)/\(height))..<ceil((j+1)·\(input.height)/\(height)) down  →  \(layer.output)"
        case .maxout(let pieces):
            text = "max over \(layer.output.depth) runs of \(pieces) channels: y[c] = max over j < \(pieces) of x[c·\(pieces) + j]  →  \(layer.output)"
        case .shuffle(let groups):
            let perGroup = input.depth / groups
            text = "\(groups) groups of \(perGroup) channels interleaved: out[c·\(groups) + g] = in[g·\(perGroup) + c]  →  \(layer.output)"
        case .transposedConvolution(let conv):
            text = transposedExplanation(conv, input: input, layer: layer)
        case .upsample(let up):
            text = "width \(input.width)·\(up.scaleWidth) = \(layer.output.width), height \(input.height)·\(up.scaleHeight) = \(layer.output.height) ("
                + (up.mode == .nearest ? "nearest" : up.alignCorners ? "bilinear, corners aligned" : "bilinear") + ")  →  \(layer.output)"
        case .localResponseNorm, .activation:
            text = "unchanged \(layer.output)"
        }
        if let activation = layer.activation { text += ";  then \(activation)" }
        return text
    }

    /// `pad fit`'s search on each axis (once when both are alike), for the line under a layer.
    static func paddingSearch(_ layer: CheckedLayer) -> String? {
        let window: Window
        switch layer.operation {
        case .convolution(let conv): window = conv.window
        case .pooling(let pool): window = pool.window
        default: return nil
        }
        guard window.paddingRule == .fit, layer.arithmetic.count == 2 else { return nil }
        let (w, h) = (layer.arithmetic[0], layer.arithmetic[1])
        func search(_ a: SizeArithmetic) -> String {
            Arithmetic.fitSearch(input: a.input, extent: a.extent, stride: a.stride, chosen: a.padBefore) + "  →  pad \(a.padBefore)"
        }
        if w.input == h.input && w.extent == h.extent && w.stride == h.stride { return "pad fit: " + search(w) }
        return "pad fit, width: " + search(w) + ";  height: " + search(h)
    }

    /// `8x6 positions`, or `1 position` for a vector.
    private static func positions(_ shape: TensorShape) -> String {
        shape.isVector ? "1 position" : "\(shape.width)x\(shape.height) positions"
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
            text += "\(a.output)"
            // What check does not warn about, said here: the cells left over are padding, or
            // the gap a window narrower than the stride leaves after it anyway.
            if !a.fits && !a.ceilMode && a.lostInputCells == 0 {
                text += a.unreadInputCells == 0 ? " (only padding is left unread)"
                    : " (the last \(a.unreadInputCells == 1 ? "cell unread is" : "\(a.unreadInputCells) cells unread are") the gap every \(a.extent)-wide window leaves at stride \(a.stride))"
            }
            return text
        }
        guard arithmetic.count == 2 else { return "" }
        let (w, h) = (arithmetic[0], arithmetic[1])
        if w == h { return one(w) }
        return "width " + one(w) + ", height " + one(h)
    }

    // MARK: JSON

    /// `after` is more fields (key, JSON text) for after `totals`: `check`'s memory account,
    /// which needs the later stages.
    public static func json(_ result: CheckResult, after: [(String, String)] = []) -> String {
        var fields: [(String, String)] = [("file", quoted(result.file.path)), ("ok", result.hasErrors ? "false" : "true")]
        if let network = result.network {
            fields.append(("network", quoted(network.name)))
            fields.append(("input", shapeJSON(network.input)))
            // Written as bytes rather than as an object of fields: a network of many layers
            // makes this the bulk of the output.
            var text = TextBuffer()
            text.write("[\n")
            for (index, layer) in network.layers.enumerated() {
                if index > 0 { text.write(",\n") }
                text.write("    {\"name\": ")
                text.writeQuoted(layer.name)
                text.write(", \"op\": ")
                text.writeQuoted(layer.keyword)
                text.write(", \"description\": ")
                text.writeQuoted(describe(layer, index: index, in: network))
                text.write(", \"inputs\": [")
                for (i, input) in layer.inputs.enumerated() {
                    if i > 0 { text.write(", ") }
                    text.writeQuoted(name(of: input, in: network))
                }
                text.write("], \"output\": ")
                text.writeShape(layer.output)
                text.write(", \"activation\": ")
                if let activation = layer.activation { text.writeQuoted(activation.description) } else { text.write("null") }
                text.write(", \"values\": ")
                text.write(layer.output.elementCount)
                text.write(", \"parameters\": ")
                text.write(layer.trainableParameters)
                text.write(", \"non_trainable_parameters\": ")
                text.write(layer.nonTrainableParameters)
                text.write(", \"macs\": ")
                text.write(layer.multiplyAccumulates)
                text.writeField(layer.receptiveField)
                text.write(", \"tensors\": [")
                for (i, tensor) in layer.parameters.enumerated() {
                    if i > 0 { text.write(", ") }
                    text.write("{\"key\": ")
                    text.writeQuoted(layer.key(tensor))
                    text.write(", \"shape\": [")
                    for (j, dimension) in tensor.shape.enumerated() {
                        if j > 0 { text.write(", ") }
                        text.write(dimension)
                    }
                    text.write(tensor.isTrainable ? "], \"trainable\": true}" : "], \"trainable\": false}")
                }
                text.write("]}")
            }
            text.write("\n  ]")
            fields.append(("layers", text.text))
            fields.append(("totals", object([
                ("parameters", "\(network.trainableParameters)"),
                ("non_trainable_parameters", "\(network.nonTrainableParameters)"),
                ("macs", "\(network.multiplyAccumulates)"),
                ("flops", "\(network.multiplyAccumulates.multipliedReportingOverflow(by: 2).partialValue)"),
                ("activation_bytes", "\(network.activationElements.multipliedReportingOverflow(by: 4).partialValue)"),
                ("weight_bytes", "\((network.trainableParameters + network.nonTrainableParameters).multipliedReportingOverflow(by: 4).partialValue)"),
            ])))
            fields += after
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
            ? "{\"shape\": \(quoted(shape.description)), \"features\": \(shape.depth)}"
            : "{\"shape\": \(quoted(shape.description)), \"width\": \(shape.width), \"height\": \(shape.height), \"depth\": \(shape.depth)}"
    }

    private static func object(_ fields: [(String, String)]) -> String {
        var out = "{"
        for (i, field) in fields.enumerated() {
            if i > 0 { out += ", " }
            out += quoted(field.0)
            out += ": "
            out += field.1
        }
        return out + "}"
    }

    /// `text` as a JSON string: the one escaper of every JSON cnnc writes (`check --json`,
    /// `bench --json`, safetensors headers), so they all escape alike.
    public static func quoted(_ text: String) -> String {
        // Most strings need no escape; they are quoted whole rather than scalar by scalar.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            return "\"" + text + "\""
        }
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
        // Written from the right into a buffer on the stack: tables print this for every cell.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buffer in
            var magnitude = value.magnitude
            var end = buffer.count
            var digits = 0
            repeat {
                if digits > 0 && digits % 3 == 0 {
                    end -= 1
                    buffer[end] = UInt8(ascii: ",")
                }
                end -= 1
                buffer[end] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                digits += 1
            } while magnitude > 0
            if value < 0 {
                end -= 1
                buffer[end] = UInt8(ascii: "-")
            }
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[end...]), as: UTF8.self)
        }
    }

    /// 246824 → "241.0 KiB" (MemoryBudget.describe drops a ".0" from the same text).
    public static func bytes(_ value: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
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

extension TextBuffer {
    /// `"text"` with JSON's escapes, as `CheckReport.quoted`; copied as it is when it needs none.
    mutating func writeQuoted(_ text: String) {
        var text = text
        let plain = text.withUTF8 { bytes in
            !bytes.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
        }
        guard plain else { return write(CheckReport.quoted(text)) }
        write(UInt8(ascii: "\""))
        write(text)
        write(UInt8(ascii: "\""))
    }

    /// `CheckReport.shapeJSON`, written in place.
    mutating func writeShape(_ shape: TensorShape) {
        write("{\"shape\": ")
        writeQuoted(shape.description)
        if shape.isVector {
            write(", \"features\": ")
            write(shape.depth)
        } else {
            write(", \"width\": ")
            write(shape.width)
            write(", \"height\": ")
            write(shape.height)
            write(", \"depth\": ")
            write(shape.depth)
        }
        write(UInt8(ascii: "}"))
    }
}
