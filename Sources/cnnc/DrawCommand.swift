import Drawing
import Foundation
import Runtime

/// `cnnc draw FILE -o FILE.svg`: a picture of the checked network.
enum DrawCommand {
    static let spec = CommandSpec(
        name: "draw", summary: "draw the network as an SVG picture: a box per layer, arrows between them",
        discussion: "Draw the checked network as one self-contained SVG file: a box per layer with its name, operation, "
            + "output W×H×D and parameters, and an arrow for every input.",
        positional: .networkFile,
        options: [
            .option("--output", "-o", value: "FILE.svg", help: "the picture to write", required: true, completion: .files(["svg"])),
        ],
        examples: ["cnnc draw models/lenet5.cnn -o lenet5.svg"])
    static let usage = spec.usage

    static func run(_ words: [String], _ console: Console) -> Int32 {
        var arguments = Arguments(words, spec: spec)
        let output = arguments.option("--output")
        let files = arguments.positional()
        var problems: [String] = []
        if files.count != 1 { problems.append(files.isEmpty ? "no network file given" : "give one network file, not \(files.count)") }
        if output == nil { problems.append("-o FILE.svg is required") }
        if let output {
            if let problem = OutputPaths.fileOptionProblem(output, option: "-o") { problems.append(problem) }
            if files.count == 1, let problem = OutputPaths.conflict(output: output, label: "-o \(output)",
                                                                     inputs: [("network file", files[0])]) {
                problems.append(problem)
            }
        }
        if Driver.reportUsageProblems(arguments, problems, spec: spec, console: console) { return ExitCode.usage }
        guard let output, let file = files.first else { return ExitCode.usage }

        guard let network = NetworkLoader.load(file, command: "draw", console: console) else { return ExitCode.failure }
        let svg = SVGPrinter.svg(network)
        // Written to /dev/stdout or a pipe, the picture is the output: no line after it.
        let toFile = (try? OutputTarget.resolve(output)).map { $0.kind == .absent || $0.kind == .regular } ?? true
        do {
            try OutputWriter.write([OutputFile(path: output, bytes: Array(svg.utf8))])
        } catch {
            NetworkLoader.report(error, command: "draw", console: console)
            return ExitCode.failure
        }
        if toFile {
            console.out("wrote \(output): \(network.layers.count + 1) boxes, "
                + "\(network.layers.reduce(0) { $0 + $1.inputs.count }) arrows")
        }
        return ExitCode.success
    }
}
