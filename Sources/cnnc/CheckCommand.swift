import Codegen
import Foundation
import Parser
import ShapeCheck

/// `cnnc check FILE… [--explain] [--strict] [--json] [--batch N] [--threads T] [--target T]`:
/// the table, then the memory the compiled network takes (MemoryReport) for that batch and
/// those threads, when the network is small enough for the generated code.
enum CheckCommand {
    static let spec = CommandSpec(
        name: "check", summary: "parse and check networks: shapes, parameters, MACs, memory",
        discussion: "Parse and check each network file. Print every layer's output shape, computed with "
            + "(W − F + 2P)/S + 1, its activation size, parameters and multiply-accumulates (MACs), then the totals. "
            + "Then the memory the compiled network takes: weights as trained and packed, the activation arena per image, "
            + "the fast kernels' scratch per thread, and the total for --batch and --threads. "
            + "Exit 0 when no file has an error (warnings allowed), 1 otherwise.",
        positional: PositionalSpec(value: "FILE", help: "the networks, .cnn files", repeats: true, completion: .files(["cnn"])),
        options: [
            .flag("--explain", help: "print each layer's formulas with the numbers filled in, and its receptive field, jump and start; "
                  + "and the memory of the fast and plain kernels side by side, with every value in their arenas"),
            .flag("--strict", help: "make a stride that does not fit the input an error, not a warning"),
            .flag("--json", help: "print the result as JSON (keys in docs/language.md)"),
            .option("--batch", "-b", value: "N", help: "images per run, for the memory total", default: "1"),
            .option("--threads", "-j", value: "T", help: "threads, for the memory total (each has its own scratch)", default: "1"),
            .target,
        ],
        examples: ["cnnc check models/lenet5.cnn", "cnnc check models/alexnet.cnn --explain", "cnnc check models/*.cnn --json",
                   "cnnc check models/resnet18.cnn --batch 8 --threads 2"])
    static let usage = spec.usage

    static func run(_ words: [String], _ console: Console) -> Int32 {
        var arguments = Arguments(words, spec: spec)
        let explain = arguments.flag("--explain")
        let strict = arguments.flag("--strict")
        let json = arguments.flag("--json")
        let run = MemoryReport.Run(batch: arguments.intOption("--batch", range: 1...65536) ?? 1,
                                   threads: arguments.intOption("--threads", range: 1...1024) ?? 1)
        let target = arguments.vectorTarget()
        let files = arguments.positional()
        if Driver.reportUsageProblems(arguments, spec: spec, console: console) { return ExitCode.usage }
        guard !files.isEmpty else {
            console.err("cnnc check: no file given\n" + spec.usageError)
            return ExitCode.usage
        }
        var failed = false
        var reports: [String] = []
        for (index, path) in files.enumerated() {
            guard let source = SourceLoader.load(path, console: console) else {
                failed = true
                continue
            }
            let result = checkSource(source, strict: strict)
            failed = failed || result.hasErrors
            let accounts = result.network.flatMap { MemoryReport.accounts($0, target: target) }
            if json {
                let memory = accounts.map { [("memory", MemoryReport.json(fast: $0.fast, plain: $0.plain, run))] } ?? []
                reports.append(CheckReport.json(result, after: memory))
                continue
            }
            let renderer = DiagnosticRenderer(colour: console.colour)
            if !result.diagnostics.isEmpty {
                console.err(renderer.render(result.diagnostics, in: result.file)
                            + "\(DiagnosticRenderer.summary(result.diagnostics)) in \(DiagnosticRenderer.escaped(path))")
            }
            if let network = result.network {
                if index > 0 { console.out("") }
                console.out(CheckReport.table(network, path: path))
                if let accounts {
                    console.out("\n" + MemoryReport.block(accounts.fast, run))
                    if let advice = MemoryReport.recommendation(fast: accounts.fast, plain: accounts.plain, run) { console.out(advice) }
                    if explain { console.out("\n" + MemoryReport.breakdown(fast: accounts.fast, plain: accounts.plain, run) + "\n") }
                }
                if explain { console.out(CheckReport.explain(network)) }
            }
        }
        if json {
            console.out(reports.count == 1 ? reports[0] : "[\n" + reports.joined(separator: ",\n") + "\n]")
        }
        return failed ? ExitCode.failure : ExitCode.success
    }
}

/// Reads a `.cnn` file for any command, with a one-line error when it cannot.
enum SourceLoader {
    /// Files past this are not networks anyone wrote; refuse before reading them whole.
    static let maxBytes = 64 << 20

    static func load(_ path: String, console: Console) -> SourceFile? {
        let shown = DiagnosticRenderer.escaped(path)  // a file name may hold control characters
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            console.err("\(shown): error: no such file")
            return nil
        }
        guard !isDirectory.boolValue else {
            console.err("\(shown): error: is a directory, not a .cnn file")
            return nil
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            console.err("\(shown): error: cannot be read (permission denied?)")
            return nil
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maxBytes + 1)) ?? Data()
        guard data.count <= maxBytes else {
            console.err("\(shown): error: larger than \(maxBytes >> 20) MiB; a .cnn file is a few lines of text")
            return nil
        }
        return SourceFile(path: path, bytes: [UInt8](data))
    }
}
