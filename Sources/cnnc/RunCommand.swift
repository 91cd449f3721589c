import Foundation
import Runtime
import ShapeCheck

/// `cnnc run FILE [--weights W [--ignore-extra-weights]] --input X [--top K] [--output O.npy] [--threads T]
/// [--backend c|swift|reference] [--mean M[,M,M]] [--std S[,S,S]] [--precise] [--show all|NAME,…] [--pictures DIR]`:
/// execute and print; --show and --pictures present the layers' outputs (FeatureMaps, in Runtime).
enum RunCommand {
    static let spec = CommandSpec(
        name: "run", summary: "run a network on an input (.npy, .txt, .pgm, .ppm) and print the result",
        discussion: "Compile the network (cached), run it on the input and print the output: the top classes of a vector, "
            + "or the values. A network without parameters (a pooling grid) needs no --weights.",
        positional: .networkFile,
        options: [
            .option("--input", "-i", value: "X", help: "the input: .npy (N, C, H, W or C, H, W), a .txt tensor, or a .pgm/.ppm image",
                   required: true, completion: .files(["npy", "txt", "pgm", "ppm"])),
            .weights, .ignoreExtraWeights,
            .option("--top", value: "K", help: "rank the K largest classes of a vector output", default: "5"),
            .option("--output", "-o", value: "O.npy", help: "also write the output as a .npy file", completion: .files(["npy"])),
            .option("--threads", "-j", value: "T", help: "threads for the c and swift backends", default: "1"),
            .choice("--backend", Backend.allCases.map(\.rawValue), help: "what runs it: the generated C, the generated Swift, "
                    + "or the reference interpreter the others are tested against", default: "c"),
            .option("--mean", value: "M[,M,M]", help: "subtract this from an image's channels (after scaling to [0, 1])"),
            .option("--std", value: "S[,S,S]", help: "then divide the channels by this"),
            .flag("--precise", help: "no Winograd: every convolution direct, as the reference computes it"),
            .option("--show", value: "all|NAME[,NAME…]", help: "print these layers' outputs as grids of numbers (reference backend)"),
            .option("--pictures", value: "DIR", help: "draw every layer's output as PNG pictures into DIR, with an index.html",
                   completion: .directories),
        ],
        examples: ["cnnc run examples/lectures/03-max-pooling.cnn --input examples/lectures/03-max-pooling-input.txt",
                   "cnnc run models/lenet5.cnn --weights lenet5.safetensors --input examples/lenet5_c/digit.pgm --top 3"])
    static let usage = spec.usage

    static func run(_ words: [String], _ console: Console) -> Int32 {
        var arguments = Arguments(words, spec: spec)
        let weightsOption = WeightsOption(&arguments)
        let weightsPath = weightsOption.path
        let inputPath = arguments.option("--input")
        let top = arguments.intOption("--top", range: 1...Int.max)
        let outputPath = arguments.option("--output")
        let threads = arguments.intOption("--threads", range: 1...1024)
        let precise = arguments.flag("--precise")
        let backendText = arguments.option("--backend")
        let meanText = arguments.option("--mean")
        let stdText = arguments.option("--std")
        let show = arguments.option("--show")
        let picturesPath = arguments.option("--pictures")
        let files = arguments.positional()

        var problems: [String] = []
        if files.count != 1 { problems.append(files.isEmpty ? "no network file given" : "give one network file, not \(files.count)") }
        if let problem = weightsOption.problem { problems.append(problem) }
        if inputPath == nil { problems.append("--input X is required (.npy, .txt, .pgm or .ppm)") }
        // Feature maps come from the reference interpreter; it then runs the whole network too.
        var backend = show != nil || picturesPath != nil ? Backend.reference : Backend.c
        if show?.isEmpty == true { problems.append("--show takes 'all' or layer names separated by commas") }
        if picturesPath?.isEmpty == true { problems.append("--pictures needs a directory name") }
        if let backendText {
            if let chosen = Backend(rawValue: backendText) { backend = chosen } else {
                problems.append("--backend is one of \(Backend.allCases.map(\.rawValue).joined(separator: ", ")), not '\(backendText)'")
            }
        }
        let mean = parseList(meanText, option: "--mean", problems: &problems)
        let std = parseList(stdText, option: "--std", problems: &problems)
        if let std { problems += normalizationProblems(mean: mean ?? [0], std: std) }
        if (mean != nil || std != nil), let inputPath, isNumPy(inputPath) || TextTensorFile.isText(inputPath) {
            problems.append("--mean and --std apply to PGM/PPM images, not to .\(isNumPy(inputPath) ? "npy" : "txt") input")
        }
        if let outputPath {
            if let problem = OutputPaths.fileOptionProblem(outputPath, option: "--output") { problems.append(problem) }
            let inputs: [OutputPaths.Input] = files.prefix(1).map { ("network file", $0) }
                + [weightsPath.map { ("weights file", $0) }, inputPath.map { ("input file", $0) }].compactMap { $0 }
            if let problem = OutputPaths.conflict(output: outputPath, label: "--output \(outputPath)", inputs: inputs) {
                problems.append(problem)
            }
        }
        if Driver.reportUsageProblems(arguments, problems, spec: spec, console: console) { return ExitCode.usage }
        guard let file = files.first, let inputPath else { return ExitCode.usage }

        guard let network = NetworkLoader.load(file, command: "run", console: console) else { return ExitCode.failure }
        // A network without parameters (a pooling grid, a lecture's worked example) needs no file.
        let parameters = network.trainableParameters + network.nonTrainableParameters
        if weightsPath == nil && parameters > 0 {
            _ = Driver.reportUsageProblems(nil, ["--weights W is required: '\(network.name)' has \(parameters) parameters "
                + "(make random ones with `cnnc init \(file) -o W.safetensors`)"], spec: spec, console: console)
            return ExitCode.usage
        }
        let shown: [Int]?
        do {
            shown = try show.map { try FeatureMaps.slots($0, in: network) } ?? picturesPath.map { _ in Array(0...network.layers.count) }
        } catch {
            NetworkLoader.report(error, command: "run", console: console)
            return ExitCode.usage
        }
        let outputShape = network.output
        var problemsFound: [String] = []
        if let top, !outputShape.isVector && (outputShape.width > 1 || outputShape.height > 1) {
            problemsFound.append("--top \(top): the output of '\(network.name)' is \(outputShape), not a vector; --top ranks "
                + "the classes of a vector output (--show \(network.layers.last?.name ?? "all") prints this one)")
        }
        if show != nil, let shown, let problem = FeatureMaps.printProblem(shown, in: network) { problemsFound.append(problem) }
        if !problemsFound.isEmpty {
            for problem in problemsFound { console.err("cnnc run: \(problem)") }
            return ExitCode.usage
        }
        do {
            let budget = try MemoryBudget.current()
            let weights = try weightsOption.load(for: network, command: "run", console: console) ?? [:]
            let input = try readInput(inputPath, for: network, mean: mean, std: std)
            var output = Tensor(shape: [0])
            if let shown {
                output = try presentFeatureMaps(shown, print: show != nil, pictures: picturesPath, network: network,
                                                weights: weights, input: input, console: console)
            }
            if shown == nil || backend != .reference {
                let executor = try makeExecutor(backend: backend, network: network, weights: weights,
                                                options: ExecutorOptions(threads: threads ?? 1, precise: precise, progress: console.progress))
                let result = try executor.run(input, budget: budget)
                output = result.output
                if let split = result.splitDescription { console.out(split) }
            }
            printResult(output, network: network, top: top ?? 5, rankAnyway: top != nil, console: console)
            if let outputPath {
                try NPY.write(output, to: outputPath)
                console.out("wrote \(outputPath) \(output.shapeDescription)")
            }
        } catch {
            NetworkLoader.report(error, command: "run", console: console)
            return ExitCode.failure
        }
        return ExitCode.success
    }

    /// The values `slots` names, printed and/or drawn into `pictures`, as the reference
    /// interpreter computes them; its output, which stands as the result on that backend.
    private static func presentFeatureMaps(_ slots: [Int], print: Bool, pictures: String?, network: CheckedNetwork,
                                           weights: [String: Tensor], input: Tensor, console: Console) throws -> Tensor {
        let (maps, output) = try FeatureMaps.compute(network, weights: weights, input: input, slots: slots)
        if print { for map in maps { console.out(FeatureMaps.text(map) + "\n") } }  // a blank line after each
        if let pictures {
            let written = try FeaturePictures.write(maps, to: pictures, network: network.name)
            console.out("wrote \(pictures)/index.html and \(written) pictures")
        }
        return output
    }

    /// "0.485,0.456,0.406" → [0.485, 0.456, 0.406]; one or three values.
    private static func parseList(_ text: String?, option: String, problems: inout [String]) -> [Float]? {
        guard let text else { return nil }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        let values = parts.compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard values.count == parts.count, values.count == 1 || values.count == 3, values.allSatisfy(\.isFinite) else {
            problems.append("\(option) takes one number or three separated by commas (M or M,M,M), not '\(text)'")
            return nil
        }
        return values
    }

    /// A std of 0 or below, or one so small that (x − mean)/std overflows float32 for a pixel
    /// x in [0, 1] (the network would see ±inf and answer NaN), naming the channel.
    static func normalizationProblems(mean: [Float], std: [Float]) -> [String] {
        let channels = max(mean.count, std.count)
        func text(_ v: Float) -> String { v == v.rounded() && abs(v) < 1e7 ? String(Int(v)) : "\(v)" }
        var problems: [String] = []
        for c in 0..<channels {
            let m = mean[mean.count == 1 ? 0 : c], s = std[std.count == 1 ? 0 : c]
            let option = std.count == 1 ? "--std is \(text(s))" : "--std for channel \(c) is \(text(s))"
            let channel = channels > 1 && std.count == 1 ? "for channel \(c), " : ""
            if !(s > 0) {
                problems.append("\(option); a standard deviation must be above 0")
                if std.count == 1 { break }
            } else if let x = [Float(0), 1].first(where: { !(($0 - m) / s).isFinite }) {
                problems.append("\(option): \(channel)(\(text(x)) − \(m < 0 ? "(\(text(m)))" : text(m)))/\(text(s)) overflows float32, "
                    + "so the normalized input would be infinite and the output NaN")
                if std.count == 1 { break }
            }
        }
        return problems
    }

    private static func isNumPy(_ path: String) -> Bool { path.lowercased().hasSuffix(".npy") }

    /// The input as a batch: [N, D, H, W] (or [N, K]). A single image gets a batch of one;
    /// anything whose size is not the network's is an error naming both — never resized. The
    /// first bytes decide the format, and the shape is checked from the header before the
    /// data is read, so no more is read than the network can take.
    static func readInput(_ path: String, for network: CheckedNetwork, mean: [Float]?, std: [Float]?) throws -> Tensor {
        if TextTensorFile.isText(path) { return try TextTensorFile.read(path, kind: .input).input(for: network) }
        let expected = network.input.dimensions
        let file = try InputFile(path)
        try file.fill(to: NPY.magic.count)
        if file.bytes.starts(with: NPY.magic) || isNumPy(path) {
            func fits(_ shape: [Int]) -> Bool {
                shape == expected || shape.count == expected.count + 1 && Array(shape.dropFirst()) == expected && shape[0] >= 1
            }
            func check(_ shape: [Int]) throws {
                guard fits(shape) else {
                    let dims = expected.map(String.init).joined(separator: ", ")
                    throw RuntimeError("\(path): input has shape \(formatShape(shape)), but network '\(network.name)' "
                        + "expects [\(dims)] or a batch [N, \(dims)] (input \(network.input)); inputs are never resized")
                }
            }
            var tensor = try NPY.read(file, checkShape: check)
            try check(tensor.shape)
            if tensor.shape == expected { tensor.shape = [1] + expected }
            return tensor
        }
        func check(_ shape: [Int]) throws {
            guard shape == expected else {
                let found = shape.count == 3 ? "\(shape[2])x\(shape[1])x\(shape[0])" : formatShape(shape)
                throw RuntimeError("\(path): image is \(found) (width x height x depth) but network '\(network.name)' "
                    + "expects \(network.input); images are never resized")
            }
        }
        var image = try NetPBM.read(file, mean: mean, std: std, checkShape: check)
        try check(image.shape)
        image.shape = [1] + expected
        return image
    }

    private static func formatShape(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }

    /// Top-K classes per image for a vector output (and for 1x1xD when `rankAnyway`, an
    /// explicit --top); shape and min/max/mean for a volume.
    static func printResult(_ output: Tensor, network: CheckedNetwork, top: Int, rankAnyway: Bool = false, console: Console) {
        let batch = output.shape[0]
        let perImage = batch == 0 ? 0 : output.elementCount / batch
        let shape = network.output
        if shape.isVector || rankAnyway && shape.width == 1 && shape.height == 1 {
            let k = min(top, perImage)
            let rankWidth = String(k).count, classWidth = String(max(perImage - 1, 0)).count
            for image in 0..<batch {
                let scores = output.storage[(image * perImage)..<((image + 1) * perImage)]
                // Highest first, NaN above everything (as torch.topk ranks it); ties by class
                // index, so the order is stable.
                func above(_ a: Float, _ b: Float) -> Bool { a.isNaN ? !b.isNaN : !b.isNaN && a > b }
                let ranked = scores.indices.sorted { above(scores[$0], scores[$1]) || !above(scores[$1], scores[$0]) && $0 < $1 }
                console.out("image \(image): top \(k) of \(perImage) classes")
                for (rank, index) in ranked.prefix(k).enumerated() {
                    let r = String(rank + 1).padding(toLength: rankWidth, withPad: " ", startingAt: 0)
                    let c = String(index - scores.startIndex).padding(toLength: classWidth, withPad: " ", startingAt: 0)
                    console.out("  #\(r)  class \(c)   \(formatScore(scores[index]))")
                }
            }
        } else {
            console.out("output \(output.shapeDescription) (\(network.output) per image, batch of \(batch))")
            for image in 0..<batch {
                let values = output.storage[(image * perImage)..<((image + 1) * perImage)]
                let numbers = values.filter { !$0.isNaN }, nans = values.count - numbers.count
                let low = numbers.min() ?? .nan, high = numbers.max() ?? .nan
                let mean = values.reduce(0.0) { $0 + Double($1) } / Double(max(values.count, 1))
                console.out("image \(image): min \(formatScore(low))  max \(formatScore(high))  "
                    + "mean \(formatScore(Float(mean)))" + (nans > 0 ? "  (\(nans) of \(values.count) NaN)" : ""))
            }
        }
    }
}

/// Four decimals, and `nan`, `inf`, `-inf` spelled the same on every platform (printf gives `-nan`).
func formatScore(_ value: Float) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value > 0 ? "inf" : "-inf" }
    return String(format: "%.4f", value)
}
