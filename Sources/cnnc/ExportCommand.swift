import Codegen
import Foundation
import Interchange
import Runtime
import ShapeCheck

/// `cnnc export FILE -o NET.onnx [--weights W [--ignore-extra-weights]] [--seed S]`: the network
/// as an ONNX model (ONNX Runtime runs it, Netron shows it), layer names kept.
enum ExportCommand {
    static let spec = CommandSpec(
        name: "export", summary: "write the network and its weights as an ONNX model",
        discussion: "Write an ONNX model (opset \(ONNXExport.opset)) of the network: one node per layer under the layer's name "
            + "(more where ONNX needs them), the weights as initializers under their weight-file keys, the batch a dimension N. "
            + "Without --weights, random He-initialised weights of --seed, as `cnnc init` draws them.",
        positional: .networkFile,
        options: [
            .option("--output", "-o", value: "NET.onnx", help: "the file to write", required: true, completion: .files(["onnx"])),
            .weights, .ignoreExtraWeights,
            .option("--seed", value: "S", help: "the random weights' seed without --weights, a whole number", default: "0"),
        ],
        examples: ["cnnc export models/lenet5.cnn --weights lenet5.safetensors -o lenet5.onnx",
                   "cnnc export models/resnet18.cnn -o resnet18.onnx --seed 1"])

    static func run(_ words: [String], _ console: Console) -> Int32 {
        var arguments = Arguments(words, spec: spec)
        let output = arguments.option("--output")
        let weightsOption = WeightsOption(&arguments)
        let seedText = arguments.option("--seed")
        let files = arguments.positional()
        var problems: [String] = []
        if files.count != 1 { problems.append(files.isEmpty ? "no network file given" : "give one network file, not \(files.count)") }
        if output == nil { problems.append("-o NET.onnx is required") }
        if let problem = weightsOption.problem { problems.append(problem) }
        var seed: UInt64 = 0
        if let seedText {
            if weightsOption.path != nil { problems.append("--seed draws random weights; drop it with --weights") }
            if let value = UInt64(seedText) { seed = value } else {
                problems.append("--seed takes a whole number from 0 to \(UInt64.max), not '\(seedText)'")
            }
        }
        if let output {
            if let problem = OutputPaths.fileOptionProblem(output, option: "-o") { problems.append(problem) }
            let inputs: [OutputPaths.Input] = (files.count == 1 ? [("network file", files[0])] : [])
                + (weightsOption.path.map { [("weights file", $0)] } ?? [])
            if let problem = OutputPaths.conflict(output: output, label: "-o \(output)", inputs: inputs) { problems.append(problem) }
        }
        if Driver.reportUsageProblems(arguments, problems, spec: spec, console: console) { return ExitCode.usage }
        guard let output, let file = files.first else { return ExitCode.usage }
        guard let network = NetworkLoader.load(file, command: "export", console: console) else { return ExitCode.failure }
        do {
            let weights: [String: Tensor]
            if let loaded = try weightsOption.load(for: network, command: "export", console: console) {
                weights = loaded
            } else {
                try WeightInit.checkMemory(for: network, budget: MemoryBudget.current())
                weights = WeightInit.weights(for: network, seed: seed).tensors
            }
            let model = try ONNXExport.model(network, weights: weights, producerVersion: cnncVersion)
            let bytes = model.encoded()
            try OutputWriter.write([OutputFile(path: output, bytes: bytes)])
            console.out("wrote \(output) (\(CheckReport.grouped(bytes.count)) bytes): \(model.graph.nodes.count) ONNX nodes "
                + "for \(network.layers.count) layers, \(model.graph.initializers.count) initializers, opset \(ONNXExport.opset)"
                + (weightsOption.path == nil ? "; random weights, seed \(seed)" : ""))
        } catch let error as ExportError {
            console.err("cnnc export: \(file): \(error.message)")
            return ExitCode.failure
        } catch {
            NetworkLoader.report(error, command: "export", console: console)
            return ExitCode.failure
        }
        return ExitCode.success
    }
}
