import Codegen
import Foundation
import Parser
import Runtime

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
    /// The terminal's width when stderr is one, for a progress line; nil draws none.
    var progressWidth: Int?
    /// The characters of the progress line on stderr now, which the next output erases.
    private var shownProgress = 0

    init(writeOut: @escaping (String) -> Void, writeErr: @escaping (String) -> Void, colour: Bool, progressWidth: Int? = nil) {
        self.writeOut = writeOut
        self.writeErr = writeErr
        self.colour = colour
        self.progressWidth = progressWidth
    }

    static var standard: Console {
        let terminal = isatty(STDERR_FILENO) != 0
        return Console(
            writeOut: { FileHandle.standardOutput.write(Data($0.utf8)) },
            writeErr: { FileHandle.standardError.write(Data($0.utf8)) },
            colour: terminal && ProcessInfo.processInfo.environment["NO_COLOR"] == nil,
            progressWidth: terminal ? ProgressLine.terminalWidth(STDERR_FILENO) : nil)
    }

    func out(_ text: String) {
        endProgress()
        writeOut(text.hasSuffix("\n") ? text : text + "\n")
    }

    func err(_ text: String) {
        endProgress()
        writeErr(text.hasSuffix("\n") ? text : text + "\n")
    }

    /// Shows `cnnc: TEXT…` on stderr until the next output or `endProgress`; nothing when
    /// stderr is not a terminal.
    func beginProgress(_ text: String) {
        guard let width = progressWidth else { return }
        endProgress()
        let line = ProgressLine.text(text, width: width)
        writeErr(line)
        shownProgress = line.count
    }

    /// Erases the progress line, if one is shown.
    func endProgress() {
        guard shownProgress > 0 else { return }
        writeErr(ProgressLine.erase(shownProgress))
        shownProgress = 0
    }

    /// The progress line as Runtime reports it (a compiler run).
    var progress: ProgressReporter {
        ProgressReporter(began: { [self] in beginProgress($0) }, ended: { [self] in endProgress() })
    }
}

/// The one line of progress a long step shows on a terminal, without a newline, so that a
/// carriage return and spaces erase it.
enum ProgressLine {
    /// `cnnc: compiling resnet18 (1.1 MiB of C, clang)…`, cut to fit `width` columns (a line
    /// that wrapped could not be erased by a carriage return).
    static func text(_ text: String, width: Int) -> String {
        let line = "cnnc: " + text.filter { !$0.isNewline } + "…"
        let room = max(width - 1, 8)
        return line.count <= room ? line : String(line.prefix(room - 1)) + "…"
    }

    static func erase(_ characters: Int) -> String {
        "\r" + String(repeating: " ", count: characters) + "\r"
    }

    /// Columns of the terminal on `descriptor`, 80 when it does not say.
    static func terminalWidth(_ descriptor: Int32) -> Int {
        var size = winsize()
        guard ioctl(descriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }
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
        Command(spec: ImportCommand.spec, run: ImportCommand.run),
        Command(spec: ExportCommand.spec, run: ExportCommand.run),
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
