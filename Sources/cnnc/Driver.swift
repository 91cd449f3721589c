import Codegen
import Foundation
import Parser

/// Exit codes of every command: 0 success, 1 an error in the input, 2 bad usage.
enum ExitCode {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let usage: Int32 = 2
}

/// Where output goes. Tests pass a capturing console; the tool uses stdout and stderr.
final class Console: @unchecked Sendable {
    var writeOut: (String) -> Void
    var writeErr: (String) -> Void
    /// Colour only on a terminal, and never when NO_COLOR is set.
    var colour: Bool

    init(writeOut: @escaping (String) -> Void, writeErr: @escaping (String) -> Void, colour: Bool) {
        self.writeOut = writeOut
        self.writeErr = writeErr
        self.colour = colour
    }

    static var standard: Console {
        let terminal = isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        return Console(
            writeOut: { FileHandle.standardOutput.write(Data($0.utf8)) },
            writeErr: { FileHandle.standardError.write(Data($0.utf8)) },
            colour: terminal)
    }

    func out(_ text: String) { writeOut(text.hasSuffix("\n") ? text : text + "\n") }
    func err(_ text: String) { writeErr(text.hasSuffix("\n") ? text : text + "\n") }
}

enum Driver {
    struct Command: Sendable {
        let spec: CommandSpec
        let run: @Sendable ([String], Console) -> Int32
        var name: String { spec.name }
    }

    static let commands: [Command] = [
        Command(spec: CheckCommand.spec, run: CheckCommand.run),
        Command(spec: RunCommand.spec, run: RunCommand.run),
        Command(spec: InitCommand.spec, run: InitCommand.run),
        Command(spec: CompileCommand.spec, run: CompileCommand.run),
        Command(spec: DrawCommand.spec, run: DrawCommand.run),
        Command(spec: BenchCommand.spec, run: BenchCommand.run),
    ]

    static var specs: [CommandSpec] { commands.map(\.spec) }

    static func run(_ arguments: [String], console: Console) -> Int32 {
        guard let first = arguments.first else {
            console.err(usage)
            return ExitCode.usage
        }
        let rest = Array(arguments.dropFirst())
        switch first {
        case "--help", "-h":
            console.out(usage)
            return ExitCode.success
        case "--version":
            console.out(versionText)
            return ExitCode.success
        case "help":
            return help(rest, console: console)
        case "completions":
            return Completions.run(rest, specs: specs, console: console)
        default:
            break
        }
        guard let command = commands.first(where: { $0.name == first }) else {
            let guess = closestMatch(to: first, among: commands.map(\.name) + ["help", "completions"])
            console.err("cnnc: unknown command '\(DiagnosticRenderer.escaped(first))'" + (guess.map { "; did you mean '\($0)'?" } ?? "") + "\n\n" + usage)
            return ExitCode.usage
        }
        if Arguments.asksForHelp(rest) {
            console.out(HelpText.command(command.spec))
            return ExitCode.success
        }
        return command.run(rest, console)
    }

    /// `cnnc help` is the general usage; `cnnc help COMMAND` the command's `--help`.
    static func help(_ words: [String], console: Console) -> Int32 {
        guard let name = words.first else {
            console.out(usage)
            return ExitCode.success
        }
        guard words.count == 1 else {
            console.err("cnnc help: give one command, not \(words.count)\nusage: cnnc help COMMAND")
            return ExitCode.usage
        }
        if name == "completions" {
            console.out(Completions.help)
            return ExitCode.success
        }
        if name == "help" {
            console.out("usage: cnnc help COMMAND\n\nShow a command's options; the same as cnnc COMMAND --help.")
            return ExitCode.success
        }
        guard let command = commands.first(where: { $0.name == name }) else {
            let guess = closestMatch(to: name, among: commands.map(\.name) + ["completions"])
            console.err("cnnc help: unknown command '\(DiagnosticRenderer.escaped(name))'" + (guess.map { "; did you mean '\($0)'?" } ?? "") + "\n\n" + usage)
            return ExitCode.usage
        }
        console.out(HelpText.command(command.spec))
        return ExitCode.success
    }

    static var usage: String { HelpText.general(specs) }

    /// `cnnc --version`: the version, and the vector unit the fast kernels use on this machine.
    static var versionText: String {
        "cnnc \(cnncVersion) (fast C kernels for \(VectorTarget.host.rawValue) on this machine)"
    }

    /// Prints the usage problems, the parser's and the command's own (`problems`), then the
    /// usage line once, and where the help is; says whether there were any.
    static func reportUsageProblems(_ arguments: Arguments?, _ problems: [String] = [], spec: CommandSpec,
                                    console: Console) -> Bool {
        let all = (arguments?.problems ?? []) + problems
        guard !all.isEmpty else { return false }
        // Problems quote the words given, which may hold control characters.
        for problem in all { console.err("cnnc \(spec.name): \(DiagnosticRenderer.escaped(problem))") }
        console.err(spec.usageError)
        return true
    }
}
