import Foundation
import Parser
import Runtime
import ShapeCheck

/// `cnnc init FILE -o W.safetensors [--seed S]`: random weights of the right shapes.
enum InitCommand {
    static let spec = CommandSpec(
        name: "init", summary: "write random weights of the right shapes (He/Kaiming)",
        discussion: "Write a safetensors file with every tensor the network needs, under the keys PyTorch would use, "
            + "drawn with He/Kaiming initialization for conv and fc (batchnorm: weight 1, bias 0, mean 0, variance 1). "
            + "The same seed gives the same file.",
        positional: .networkFile,
        options: [
            .option("--output", "-o", value: "W.safetensors", help: "the file to write", required: true,
                   completion: .files(["safetensors"])),
            .option("--seed", value: "S", help: "the random seed, a whole number", default: "0"),
        ],
        examples: ["cnnc init models/lenet5.cnn -o lenet5.safetensors --seed 1"])
    static let usage = spec.usage

    static func run(_ words: [String], _ console: Console) -> Int32 {
        var arguments = Arguments(words, spec: spec)
        let output = arguments.option("--output")
        let seedText = arguments.option("--seed")
        let files = arguments.positional()
        var problems: [String] = []
        if files.count != 1 { problems.append(files.isEmpty ? "no network file given" : "give one network file, not \(files.count)") }
        if output == nil { problems.append("-o W.safetensors is required") }
        var seed: UInt64 = 0
        if let seedText {
            if let value = UInt64(seedText) { seed = value } else {
                problems.append("--seed takes a whole number from 0 to \(UInt64.max), not '\(seedText)'")
            }
        }
        if let output {
            if let problem = OutputPaths.fileOptionProblem(output, option: "-o") { problems.append(problem) }
            if files.count == 1, let problem = OutputPaths.conflict(output: output, label: "-o \(output)",
                                                                     inputs: [("network file", files[0])]) {
                problems.append(problem)
            }
        }
        if Driver.reportUsageProblems(arguments, problems, spec: spec, console: console) { return ExitCode.usage }
        guard let output, let file = files.first else { return ExitCode.usage }

        guard let network = NetworkLoader.load(file, command: "init", console: console) else { return ExitCode.failure }
        do {  // refuse a network too large for memory before allocating its weights
            try WeightInit.checkMemory(for: network, budget: MemoryBudget.current())
        } catch {
            NetworkLoader.report(error, command: "init", console: console)
            return ExitCode.failure
        }
        let weights = WeightInit.weights(for: network, seed: seed)
        // The size is what was written: a device or FIFO reports none.
        let bytes = weights.serialized()
        do {
            try OutputWriter.write([OutputFile(path: output, bytes: bytes)])
        } catch {
            NetworkLoader.report(error, command: "init", console: console)
            return ExitCode.failure
        }
        let parameters = weights.tensors.values.reduce(0) { $0 + $1.elementCount }
        let size = bytes.count
        console.out("wrote \(output): \(weights.tensors.count) tensor\(weights.tensors.count == 1 ? "" : "s"), "
            + "\(CheckReport.grouped(parameters)) parameters, \(CheckReport.grouped(size)) bytes (seed \(seed))")
        return ExitCode.success
    }
}

/// What `init` and `run` share: reading and checking the network file, reporting errors.
enum NetworkLoader {
    /// A network file's most bytes, as `check` reads (20,000 layers take under 1 MiB), so
    /// `/dev/zero` stops there.
    static let sourceLimit = 64 << 20

    /// Reads and checks `path`, printing its diagnostics to stderr; nil when it has errors
    /// (or cannot be read).
    static func load(_ path: String, command: String, console: Console) -> CheckedNetwork? {
        let bytes: [UInt8]
        do {
            bytes = try readFileBytes(path, limit: NetworkLoader.sourceLimit)
        } catch {
            report(error, command: command, console: console)
            return nil
        }
        let source = SourceFile(path: path, bytes: bytes)
        let result = checkSource(source)
        if !result.diagnostics.isEmpty {
            console.err(DiagnosticRenderer(colour: console.colour).render(result.diagnostics, in: source))
        }
        guard let network = result.network, !result.hasErrors else {
            let summary = DiagnosticRenderer.summary(result.diagnostics)
            console.err("cnnc \(command): \(path): \(summary.isEmpty ? "the network could not be checked" : summary)")
            return nil
        }
        return network
    }

    /// One line per problem, each `cnnc COMMAND: …` (a RuntimeError may list several, one per
    /// line, e.g. every missing weight); past `limit` lines the rest are counted, not listed,
    /// so the weights of a different network do not flood the terminal.
    static func report(_ error: Error, command: String, console: Console, limit: Int = 12) {
        if let error = error as? TextTensorError {  // located, as a .cnn file's diagnostics are
            console.err(error.rendered(colour: console.colour))
            console.err("cnnc \(command): \(error.summary)")
            return
        }
        let message = (error as? RuntimeError)?.message ?? "\(error)"
        let lines = message.split(separator: "\n", omittingEmptySubsequences: true)
        let shown = lines.count > limit ? lines.prefix(limit - 1) : lines[...]
        for line in shown { console.err("cnnc \(command): \(line)") }
        if shown.count < lines.count {
            console.err("cnnc \(command): … and \(lines.count - shown.count) more problems like these")
        }
    }

}
