import Codegen
import Foundation
import Runtime
import ShapeCheck

/// `cnnc compile FILE [--emit c|swift] [-o DIR] [--weights W] [--embed-weights] [--listing]`:
/// write the generated code (NAME.h + NAME.c, or NAME.swift) and, with --weights, the packed
/// weights (NAME.weights, little-endian float32, the blob NAME_run takes) or, with
/// --embed-weights, the weights inside NAME.c. Prints what was written and the memory needed.
enum CompileCommand {
    static let usage = "cnnc compile FILE [--emit c|swift] [-o DIR] [--weights W] [--embed-weights] [--listing] [--precise] [--plain] [--target avx512|avx2|neon|generic]"

    static func run(_ words: [String], _ console: Console) -> Int32 {
        var arguments = Arguments(words)
        let emitText = arguments.option("--emit")
        let directory = arguments.option("-o", "--output") ?? "."
        let weightsPath = arguments.option("--weights", "-w")
        let embed = arguments.flag("--embed-weights")
        let listing = arguments.flag("--listing")
        let precise = arguments.flag("--precise")
        let plain = arguments.flag("--plain")
        let target = arguments.vectorTarget()
        let files = arguments.positional()

        var problems: [String] = []
        if files.count != 1 { problems.append(files.isEmpty ? "no network file given" : "give one network file, not \(files.count)") }
        let language: TargetLanguage
        switch emitText ?? "c" {
        case "c": language = .c
        case "swift": language = .swift
        default:
            language = .c
            problems.append("--emit is c or swift, not '\(emitText ?? "")'")
        }
        if embed && weightsPath == nil {
            problems.append("--embed-weights needs --weights W.safetensors (make one with `cnnc init FILE -o W.safetensors`)")
        }
        if embed && language == .swift {
            problems.append("--embed-weights is for --emit c; the Swift class takes its weights in init(weights:), "
                + "so pass --weights to write NAME.weights beside it")
        }
        if Driver.reportUsageProblems(arguments, problems, command: "compile", usage: usage, console: console) { return ExitCode.usage }
        guard let file = files.first else { return ExitCode.usage }
        guard let network = NetworkLoader.load(file, command: "compile", console: console) else { return ExitCode.failure }

        // C gets the fast kernels (no Winograd with --precise; the reference loops with --plain).
        let program = language == .c && !plain ? lowerForC(network, options: KernelOptions(winograd: !precise, target: target)) : lower(network)
        do {
            var packed: [Float]?
            if let weightsPath {
                let weights = try WeightFile.read(contentsOf: weightsPath).validated(for: network, path: weightsPath)
                do {
                    packed = try packWeights(program, weights: weights.mapValues(\.storage))
                } catch let error as WeightPackingError {
                    throw RuntimeError("\(weightsPath): \(error.message)")
                }
            }

            var outputs: [(name: String, bytes: [UInt8], note: String)] = []
            let prefix: String
            switch language {
            case .c:
                let source = try emitC(program, embeddedWeights: embed ? packed : nil)
                prefix = source.symbolPrefix
                outputs.append((source.header.name, Array(source.header.contents.utf8), "C header: the API"))
                outputs.append((source.implementation.name, Array(source.implementation.contents.utf8),
                                embed ? "C99 kernels and the embedded weights" : "C99 kernels"))
            case .swift:
                let source = try emitSwift(program)
                prefix = source.symbolPrefix
                outputs.append((source.file.name, Array(source.file.contents.utf8), "Swift class \(source.typeName) and the C API"))
            }
            if let packed, !embed {
                var bytes: [UInt8] = []
                bytes.reserveCapacity(packed.count * 4)
                for value in packed {
                    let bits = value.bitPattern
                    for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
                }
                outputs.append(("\(prefix).weights", bytes, "packed weights, little-endian float32"))
            }

            try makeOutputDirectory(directory)
            for output in outputs {
                let path = directory == "." ? output.name : (directory as NSString).appendingPathComponent(output.name)
                try writeFileAtomically(output.bytes, to: path)
                console.out("wrote \(path) (\(CheckReport.grouped(output.bytes.count)) bytes): \(output.note)")
            }
            if listing {
                console.out(program.listing)
                if let plan = program.kernelPlan { console.out("kernel plan:\n" + plan.listing) }
            }
            report(program, network: network, console: console)
        } catch let error as EmitError {
            console.err("cnnc compile: \(file): \(error.message)")
            return ExitCode.failure
        } catch {
            NetworkLoader.report(error, command: "compile", console: console)
            return ExitCode.failure
        }
        return ExitCode.success
    }

    static func report(_ program: LoweredProgram, network: CheckedNetwork, console: Console) {
        guard let plan = program.memory else { return }
        let g = CheckReport.grouped
        let saving = plan.naiveElements > 0 ? Double(plan.arenaElements) / Double(plan.naiveElements) * 100 : 0
        console.out("\(program.name): \(network.layers.count) layers lowered to \(program.steps.count) kernel calls")
        console.out("activation arena: \(g(plan.arenaBytes(batch: 1))) bytes per image "
            + "(naive sum of layer outputs \(g(plan.naiveBytes(batch: 1))) bytes; arena is \(String(format: "%.1f", saving))%); "
            + "the workspace is the arena times the batch")
        console.out("weights: \(g(plan.weightBytes)) bytes (\(g(plan.weightElements)) packed floats)")
    }

    private static func makeOutputDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if !isDirectory.boolValue { throw RuntimeError("\(path): is not a directory") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw RuntimeError("\(path): cannot create the output directory (\(error.localizedDescription))")
        }
    }
}
