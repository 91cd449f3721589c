import Foundation
import Parser
import ShapeCheck

/// `cnnc check FILE… [--explain] [--strict] [--json]`
enum CheckCommand {
    static let spec = CommandSpec(
        name: "check", summary: "parse and check networks; print shapes, parameters and MACs",
        discussion: "Parse and check each network file. Print every layer's output shape, computed with "
            + "(W − F + 2P)/S + 1, its activation size, parameters and multiply-accumulates (MACs), then the totals. "
            + "Exit 0 when no file has an error (warnings allowed), 1 otherwise.",
        positional: PositionalSpec(value: "FILE", help: "the networks, .cnn files", repeats: true, completion: .files(["cnn"])),
        options: [
            .flag("--explain", help: "print each layer's formulas with the numbers filled in, and its receptive field, jump and start"),
            .flag("--strict", help: "make a stride that does not fit the input an error, not a warning"),
            .flag("--json", help: "print the result as JSON (keys in docs/language.md)"),
        ],
        examples: ["cnnc check models/lenet5.cnn", "cnnc check models/alexnet.cnn --explain", "cnnc check models/*.cnn --json"])
    static let usage = spec.usage

    static func run(_ words: [String], _ console: Console) -> Int32 {
        var arguments = Arguments(words, spec: spec)
        let explain = arguments.flag("--explain")
        let strict = arguments.flag("--strict")
        let json = arguments.flag("--json")
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
            if json {
                reports.append(CheckReport.json(result))
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
