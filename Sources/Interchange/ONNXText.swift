import Parser
import Runtime
import ShapeCheck

/// The entry points of `cnnc import`: bytes → model → lines → `.cnn` text and weights, then
/// the text through cnnc's own parser and checker (an import that does not check is a bug,
/// reported as one).
public enum ONNXImport {
    /// protobuf's own limit; a larger ONNX file keeps its weights in external files.
    public static let fileLimit = 2 << 30

    /// The file's bytes, at most `limit`. Its first 64 KiB are scanned first, so a file that
    /// is not protobuf at all (`/dev/zero`, a PNG) fails before the rest is read.
    public static func read(_ path: String, limit: Int = fileLimit) throws -> [UInt8] {
        let file = try InputFile(path)
        if let size = file.regularSize, size > limit {
            throw RuntimeError("\(path): file is larger than \(limit) bytes (\(size) bytes); protobuf, and so ONNX, allows at most "
                + "2 GiB in one file")
        }
        try file.fill(to: min(limit, 1 << 16))
        if !file.atEnd {
            var reader = ProtobufReader(file.bytes, messageName: "ModelProto")
            do {
                while let field = try reader.nextField() { try reader.skip(field) }
            } catch where !error.truncated {
                throw RuntimeError("\(path): not a valid ONNX file: \(error)")
            } catch {}
            try file.fill(to: limit + 1)
            if file.bytes.count > limit {
                throw RuntimeError("\(path): file is larger than \(limit) bytes; protobuf, and so ONNX, allows at most 2 GiB in one file")
            }
        }
        return file.bytes
    }

    /// The most bytes read from one external data file (8 GiB, 2³¹ float32 values).
    public static let externalLimit = 8 << 30

    /// Weights kept beside the model (`save_as_external_data`, the dynamo exporter's
    /// MODEL.onnx.data) read into their tensors. Locations are relative to `folder`, as ONNX
    /// defines them; one that is absolute or climbs out with `..` is refused.
    public static func loadExternalData(_ model: inout ONNXModel, folder: String) throws(ImportError) {
        var files: [String: [UInt8]] = [:]
        for i in model.graph.initializers.indices {
            let tensor = model.graph.initializers[i]
            guard tensor.dataLocation == 1 || tensor.externalLocation != nil else { continue }
            let label = "tensor '\(tensor.name)'"
            guard let location = tensor.externalLocation, !location.isEmpty else {
                throw ImportError("\(label) is marked external but names no location")
            }
            let parts = location.split(separator: "/", omittingEmptySubsequences: false)
            guard !location.hasPrefix("/"), !location.contains("\\"), !location.contains("\0"), !parts.contains("..") else {
                throw ImportError("\(label) keeps its data in '\(DiagnosticRenderer.escaped(location))'; cnnc import reads external "
                    + "data only from files in the model's folder (a relative location without '..')")
            }
            if files[location] == nil {
                let path = folder.isEmpty ? location : folder + "/" + location
                do {
                    let file = try InputFile(path)
                    try file.fill(to: externalLimit + 1)
                    guard file.bytes.count <= externalLimit else {
                        throw ImportError("\(path): external data is larger than \(externalLimit) bytes")
                    }
                    files[location] = file.bytes
                } catch let error as ImportError {
                    throw error
                } catch {
                    throw ImportError("\(label) keeps its data in another file: \(error)")
                }
            }
            let bytes = files[location]!
            let start = tensor.externalOffset ?? 0
            let length = tensor.externalLength ?? (Int64(bytes.count) - start)
            guard start >= 0, length >= 0, start <= Int64(bytes.count), length <= Int64(bytes.count) - start else {
                throw ImportError("\(label) has external data at offset \(start), \(length) bytes, outside '\(location)' of "
                    + "\(bytes.count) bytes")
            }
            model.graph.initializers[i].rawData = Array(bytes[Int(start)..<Int(start + length)])
            model.graph.initializers[i].dataLocation = 0
            model.graph.initializers[i].externalLocation = nil
        }
    }

    public static func decode(_ bytes: [UInt8]) throws(ImportError) -> ONNXModel {
        do {
            let model = try ONNXModel.decode(bytes)
            guard model.hasGraph else {
                throw ImportError(bytes.isEmpty ? "the file is empty" : "has no graph: it is not an ONNX model")
            }
            return model
        } catch let error as ProtobufError {
            throw ImportError("not a valid ONNX file: \(error)")
        } catch let error as ImportError {
            throw error
        } catch {
            throw ImportError("\(error)")
        }
    }

    /// The network for `model`, or one error listing every node that cannot be imported.
    public static func translate(_ model: ONNXModel, options: ImportOptions) throws(ImportError) -> ImportedNetwork {
        guard let opset = model.defaultOpset else {
            throw ImportError("imports no ONNX operator set (opset_import names none for the default domain)")
        }
        guard opset >= 7 else { throw ImportError("uses ONNX opset \(opset); cnnc import reads opset 7 and later") }
        var importer = Importer(model: model, opset: opset)
        try importer.run(inputShape: options.inputShape)
        if !importer.problems.isEmpty { throw ImportError(importer.problemReport()) }
        importer.fuseActivations()
        try importer.checkWeights()
        try importer.checkDeclaredOutput()
        return ImportedNetwork(text: importer.text(options), weights: importer.weights(), layerCount: importer.lines.count,
                               nodeCount: importer.translatedNodes, opset: opset, shapes: importer.lines.map(\.shape))
    }

    /// The text checked as `cnnc check` would (`path` names it in diagnostics), and the
    /// weights validated against the checked network: nil and the network when all is well.
    public static func verify(_ imported: ImportedNetwork, path: String, weightsPath: String) -> (result: CheckResult, bug: String?) {
        let result = checkSource(SourceFile(path: path, text: imported.text))
        let bug = "the network cnnc import made does not check; this is a bug in cnnc import (please report it with the model)"
        guard let network = result.network, !result.hasErrors else {
            return (result, bug + ":\n" + DiagnosticRenderer().render(result.diagnostics.filter { $0.severity == .error }, in: result.file))
        }
        if network.layers.map(\.output) != imported.shapes {
            let i = zip(network.layers.map(\.output), imported.shapes).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? 0
            return (result, bug + ": layer '\(network.layers[min(i, network.layers.count - 1)].name)' checks to a different shape than the import computed")
        }
        do {
            _ = try WeightFile(tensors: imported.weights).validated(for: network, path: weightsPath)
        } catch {
            return (result, bug + ": \(error)")
        }
        return (result, nil)
    }
}

extension Importer {
    static let activationOps: Set<String> = ["relu", "sigmoid", "tanh", "softmax", "leakyrelu", "elu", "relu6", "hardswish",
                                             "hardsigmoid", "silu", "gelu"]

    /// An activation line right after a conv, fc, add, concat or mul that nothing else reads
    /// becomes that line's trailing activation (`conv 64 3x3 pad 1 relu`). One pass: readers
    /// are counted once, and the lines renumbered at the end.
    mutating func fuseActivations() {
        var readers = [Int](repeating: 0, count: lines.count)
        for line in lines { for input in line.inputs where input >= 0 { readers[input] += 1 } }
        var kept: [Line] = []
        var renumbered = [Int](repeating: 0, count: lines.count)
        for (i, line) in lines.enumerated() {
            if i > 0, Self.activationOps.contains(line.op), line.inputs == [i - 1], readers[i - 1] == 1,
               renumbered[i - 1] == kept.count - 1, let previous = kept.last, Line.takingActivation.contains(previous.op),
               previous.activation == nil {
                kept[kept.count - 1].activation = ([line.op] + line.arguments).joined(separator: " ")
                kept[kept.count - 1].onnxOps += line.onnxOps
                renumbered[i] = kept.count - 1
                continue
            }
            renumbered[i] = kept.count
            kept.append(line)
        }
        for j in kept.indices { kept[j].inputs = kept[j].inputs.map { $0 < 0 ? $0 : renumbered[$0] } }
        lines = kept
    }

    /// cnnc's weight files cannot hold NaN or ±inf; the model's are refused here, by key.
    func checkWeights() throws(ImportError) {
        for line in lines {
            for (suffix, tensor) in line.weights {
                if let bad = tensor.storage.firstIndex(where: { !$0.isFinite }) {
                    throw ImportError("the weight of '\(line.name).\(suffix)' has the value \(tensor.storage[bad]) at index \(bad); "
                        + "cnnc's weights must be finite")
                }
            }
        }
    }

    /// A fully static output shape in the model must be the one the network computes.
    func checkDeclaredOutput() throws(ImportError) {
        guard let output = graph.outputs.first, let dims = output.dims, let last = lines.indices.last else { return }
        var declared: [Int] = []
        for dim in dims {
            guard case .value(let v) = dim else { return }
            declared.append(Int(clamping: v))
        }
        var computed = onnxDims(last)
        if declared.count == computed.count, declared.first != computed.first { computed[0] = declared[0] }
        if declared != computed {
            throw ImportError("the model declares its output '\(output.name)' as \(declared), but the imported network computes "
                + "\(computed); nothing was written")
        }
    }

    func weights() -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for line in lines {
            for (suffix, tensor) in line.weights { result[line.name + "." + suffix] = tensor }
        }
        return result
    }

    /// A comment's text: control characters escaped, so a hostile producer name cannot end the line.
    static func commentText(_ text: String) -> String { DiagnosticRenderer.escaped(text) }

    func text(_ options: ImportOptions) -> String {
        let name = NameTable.cleaned(options.networkName, opType: "") ?? "imported"
        var producer = [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        if producer.isEmpty { producer = "an unnamed producer" }
        let c = Self.commentText
        var out = "# \(name): \(importMarker) from \(c(options.modelName)); edit as you like (a new import with --force replaces it)\n"
        out += "# ONNX ir_version \(model.irVersion), opset \(opset), made by \(c(producer))"
            + (graph.name.isEmpty ? "" : ", graph '\(c(graph.name))'") + "\n"
        out += "# \(translatedNodes) nodes imported as \(lines.count) layers: Dropout and Identity left out, constants folded;\n"
        out += "# weights in \(c(options.weightsName)) under each layer's name (NAME.weight, NAME.bias, ...)\n"
        out += "network \(name)\n"
        out += "input \(inputShape)\n\n"
        var texts: [String] = []
        var comments: [String] = []
        for (i, line) in lines.enumerated() {
            var words = ["\(line.name):", line.op] + line.arguments
            if line.namesInputs {
                words += line.inputs.map { $0 < 0 ? "input" : lines[$0].name }
            } else if let input = line.inputs.first, input != i - 1 {
                words += ["from", input < 0 ? "input" : lines[input].name]
            }
            if let activation = line.activation { words.append(activation) }
            texts.append(words.joined(separator: " "))
            let keywords = ([line.op] + (line.activation.map { [String($0.prefix { $0 != " " })] } ?? [])).joined(separator: ",")
            let onnx = line.onnxOps.joined(separator: ",")
            comments.append("\(line.shape)" + (onnx.lowercased() == keywords ? "" : "; onnx: " + line.onnxOps.joined(separator: ", ")))
        }
        let column = min((texts.map(\.count).max() ?? 0) + 2, 60)
        for (text, comment) in zip(texts, comments) {
            out += text + String(repeating: " ", count: max(column - text.count, 2)) + "# " + comment + "\n"
        }
        return out
    }

    // MARK: The report of what cannot be imported

    func displayName(_ index: Int, _ node: ONNXNode) -> String {
        if !node.name.isEmpty { return "'\(DiagnosticRenderer.escaped(node.name))'" }
        let output = node.outputs.first { !$0.isEmpty }.map { " (output '\(DiagnosticRenderer.escaped($0))')" } ?? ""
        return "#\(index)\(output)"
    }

    /// Every node at once: unsupported op types with their count and node names, then each
    /// node of a supported type refused for its attributes or inputs, with the reason.
    func problemReport() -> String {
        let needed = neededNodes(for: graph.outputs.first?.name ?? "").filter { $0 }.count
        var lines = ["\(problems.count) of \(needed) node\(needed == 1 ? "" : "s") cannot be imported; nothing was written"]
        var order: [String] = []
        var byOp: [String: [String]] = [:]
        for p in problems where p.reason == nil {
            let op = DiagnosticRenderer.escaped(p.node.domain.isEmpty || p.node.domain == "ai.onnx" ? p.node.opType : "\(p.node.domain).\(p.node.opType)")
            if byOp[op] == nil { order.append(op) }
            byOp[op, default: []].append(displayName(p.index, p.node))
        }
        for op in order {
            let names = byOp[op]!
            let shown = names.prefix(8).joined(separator: ", ") + (names.count > 8 ? " and \(names.count - 8) more" : "")
            lines.append("  unsupported op \(op): \(names.count) node\(names.count == 1 ? "" : "s"): \(shown)")
        }
        for p in problems {
            guard let reason = p.reason else { continue }
            lines.append("  \(DiagnosticRenderer.escaped(p.node.opType)) \(displayName(p.index, p.node)): \(reason)")
        }
        return lines.joined(separator: "\n")
    }
}
