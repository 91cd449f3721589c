import Foundation
import Interchange
import Parser
import Runtime
import ShapeCheck

/// `cnnc import MODEL.onnx -o NET.cnn --weights NET.safetensors [--input-shape CxHxW] [--force]`:
/// the ONNX graph as a readable `.cnn` and its weights in the layout cnnc reads. Every node that
/// cannot be imported is listed at once (exit 1, nothing written); the text goes through cnnc's
/// own parser and checker before anything is written.
enum ImportCommand {
    static let spec = CommandSpec(
        name: "import", summary: "translate an ONNX model into a .cnn file and its weights",
        discussion: "Read an ONNX model (the file torch.onnx.export, tf2onnx and the other exporters write) and write the same "
            + "network as a .cnn file, with layer names from the graph, and its weights as safetensors under those names, so "
            + "cnnc check, run and compile work on them as they are. Every node that cannot be imported is listed at once, "
            + "by op type and name, and nothing is written. Files cnnc did not write are never overwritten without --force.",
        positional: PositionalSpec(value: "MODEL.onnx", help: "the ONNX model to read", repeats: false, completion: .files(["onnx"])),
        options: [
            .option("--output", "-o", value: "NET.cnn", help: "the network file to write", required: true, completion: .files(["cnn"])),
            .option("--weights", "-w", value: "NET.safetensors", help: "the weights file to write", required: true,
                   completion: .files(["safetensors"])),
            .option("--input-shape", value: "CxHxW",
                   help: "the size of one input image in ONNX's order, CxHxW or NxCxHxW (K for a vector), where the model's is dynamic",
                   default: "the model's"),
            .flag("--force", help: "overwrite files in the way that cnnc did not write"),
        ],
        examples: ["cnnc import examples/onnx/small_cnn.onnx -o small_cnn.cnn --weights small_cnn.safetensors"])

    /// In the safetensors header of every weights file import writes, so a later import may replace it.
    static let weightsMarker = (key: "written_by", value: importMarker)

    static func run(_ words: [String], _ console: Console) -> Int32 {
        var arguments = Arguments(words, spec: spec)
        let output = arguments.option("--output")
        let weights = arguments.option("--weights")
        let shapeText = arguments.option("--input-shape")
        let force = arguments.flag("--force")
        let files = arguments.positional()
        var problems: [String] = []
        if files.count != 1 { problems.append(files.isEmpty ? "no ONNX model given" : "give one ONNX model, not \(files.count)") }
        if output == nil { problems.append("-o NET.cnn is required") }
        if weights == nil { problems.append("--weights NET.safetensors is required") }
        var inputShape: [Int]?
        if let shapeText {
            let parts = shapeText.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
            if (1...4).contains(parts.count), parts.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 1 << 24 }) {
                inputShape = parts.map { $0! }
            } else {
                problems.append("--input-shape takes sizes joined by 'x' in ONNX's order, CxHxW or NxCxHxW (K or NxK for a vector), "
                    + "not '\(shapeText)'")
            }
        }
        for (path, option) in [(output, "-o"), (weights, "--weights")] {
            guard let path else { continue }
            if let problem = OutputPaths.fileOptionProblem(path, option: option) { problems.append(problem) }
            if files.count == 1, let problem = OutputPaths.conflict(output: path, label: "\(option) \(path)",
                                                                     inputs: [("ONNX model", files[0])]) {
                problems.append(problem)
            }
        }
        if let output, let weights, output == weights || isSameFile(output, weights) {
            problems.append("-o and --weights name the same file; the network and its weights go to two files")
        }
        if Driver.reportUsageProblems(arguments, problems, spec: spec, console: console) { return ExitCode.usage }
        guard let output, let weights, let file = files.first else { return ExitCode.usage }

        if !force {
            let foreign = [output, weights].filter { OutputPaths.isRegularFile($0) && !writtenByImport($0) }
            for path in foreign {
                console.err("cnnc import: \(path) exists and was not written by cnnc; pass --force to overwrite it, or choose another name")
            }
            if !foreign.isEmpty { return ExitCode.failure }
        }

        let imported: ImportedNetwork
        let checked: CheckResult
        do {
            let bytes = try ONNXImport.read(file)
            var model = try ONNXImport.decode(bytes)
            try ONNXImport.loadExternalData(&model, folder: (file as NSString).deletingLastPathComponent)
            let name = ((output as NSString).lastPathComponent as NSString).deletingPathExtension
            imported = try ONNXImport.translate(model, options: ImportOptions(
                inputShape: inputShape, networkName: name, modelName: (file as NSString).lastPathComponent,
                weightsName: (weights as NSString).lastPathComponent))
            let verified = ONNXImport.verify(imported, path: output, weightsPath: weights)
            if let bug = verified.bug { throw ImportError(bug) }
            checked = verified.result
        } catch let error as ImportError {
            let lines = error.message.split(separator: "\n", omittingEmptySubsequences: false)
            console.err("cnnc import: \(file): \(lines.first ?? "")")
            for line in lines.dropFirst() { console.err(String(line)) }
            return ExitCode.failure
        } catch {
            NetworkLoader.report(error, command: "import", console: console)
            return ExitCode.failure
        }
        if !checked.diagnostics.isEmpty {  // warnings only: the stride notes `check` would print
            console.err(DiagnosticRenderer(colour: console.colour).render(checked.diagnostics, in: checked.file))
        }
        let weightBytes = WeightFile(tensors: imported.weights).serialized(metadata: [weightsMarker])
        do {
            try OutputWriter.write([OutputFile(path: output, bytes: Array(imported.text.utf8)),
                                    OutputFile(path: weights, bytes: weightBytes)])
        } catch {
            NetworkLoader.report(error, command: "import", console: console)
            return ExitCode.failure
        }
        let g = CheckReport.grouped
        let parameters = imported.weights.values.reduce(0) { $0 + $1.elementCount }
        console.out("wrote \(output): network \(checked.network?.name ?? "?"), \(imported.layerCount) layer\(imported.layerCount == 1 ? "" : "s") "
            + "from \(imported.nodeCount) ONNX node\(imported.nodeCount == 1 ? "" : "s") (opset \(imported.opset))")
        console.out("wrote \(weights): \(imported.weights.count) tensor\(imported.weights.count == 1 ? "" : "s"), \(g(parameters)) values, "
            + "\(g(weightBytes.count)) bytes")
        console.out("next: cnnc check \(output), then cnnc run \(output) --weights \(weights) --input X.npy")
        return ExitCode.success
    }

    /// A `.cnn` whose first line has the import marker, or a safetensors whose header (in its
    /// first 4 KiB) has the import's metadata.
    static func writtenByImport(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 4096)) ?? Data()
        let firstLine = head.split(separator: UInt8(ascii: "\n"), maxSplits: 1, omittingEmptySubsequences: false).first ?? Data()
        if String(decoding: firstLine, as: UTF8.self).contains(importMarker) { return true }
        let metadata = "\"__metadata__\":{\"\(weightsMarker.key)\":\"\(weightsMarker.value)\""
        return head.count > 8 && String(decoding: head.dropFirst(8), as: UTF8.self).hasPrefix("{" + metadata)
    }
}
