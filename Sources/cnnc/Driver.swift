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

/// A command's arguments: positional words, `--flag`s and `--option value`s, consumed as the
/// command asks for them; whatever is left over is a usage error.
struct Arguments {
    private var words: [String]
    private(set) var problems: [String] = []

    init(_ words: [String]) { self.words = words }

    /// Every flag and option name the command asked for, so a misspelt one can be matched.
    private var known: [String] = []

    mutating func flag(_ name: String) -> Bool {
        known.append(name)
        guard let i = words.firstIndex(of: name) else { return false }
        words.remove(at: i)
        if words.contains(name) {
            problems.append("\(name) is given twice")
            words.removeAll { $0 == name }
        }
        return true
    }

    mutating func option(_ names: String...) -> String? {
        option(names)
    }

    /// The value of the first of `names` given; a second one of them is "given twice" rather
    /// than an unknown option and a stray positional word.
    private mutating func option(_ names: [String]) -> String? {
        known += names
        guard let (first, value) = takeOption(names) else { return nil }
        while let (again, _) = takeOption(names) {
            problems.append("\(again) is given twice" + (again == first ? "" : " (\(first) is the same option)"))
        }
        return value
    }

    /// The first of `names` given, and its value; nil when none is (or it lacks a value).
    private mutating func takeOption(_ names: [String]) -> (name: String, value: String)? {
        for name in names {
            if let i = words.firstIndex(of: name) {
                guard i + 1 < words.count else {
                    problems.append("\(name) needs a value")
                    words.remove(at: i)
                    return nil
                }
                let value = words[i + 1]
                words.removeSubrange(i...(i + 1))
                return (name, value)
            }
            if let i = words.firstIndex(where: { $0.hasPrefix(name + "=") }) {
                let value = String(words[i].dropFirst(name.count + 1))
                words.remove(at: i)
                return (name, value)
            }
        }
        return nil
    }

    mutating func intOption(_ names: String..., range: ClosedRange<Int>) -> Int? {
        guard let value = option(names) else { return nil }
        guard let n = Int(value), range.contains(n) else {
            problems.append("\(names[0]) takes a whole number from \(range.lowerBound) to \(range.upperBound), not '\(value)'")
            return nil
        }
        return n
    }

    /// The positional words left once options are taken; a leftover `--x` is a usage error.
    mutating func positional() -> [String] {
        let unknown = words.filter { $0.hasPrefix("-") && $0 != "-" }
        problems += unknown.map { word in
            let guess = Self.suggestion(for: word, among: known)
            return "unknown option '\(word)'" + (guess.map { "; did you mean '\($0)'?" } ?? "")
        }
        let rest = words.filter { !($0.hasPrefix("-") && $0 != "-") }
        words = []
        return rest
    }

    /// The closest known name, compared without the dashes (and a `=value`), so `--explian`
    /// finds `--explain`; one-letter words are too short to guess from.
    static func suggestion(for word: String, among names: [String]) -> String? {
        func bare(_ name: String) -> String {
            String(name.drop { $0 == "-" }.prefix { $0 != "=" })
        }
        let stem = bare(word)
        guard stem.count >= 2 else { return nil }
        let long = names.filter { bare($0).count >= 2 }
        return closestMatch(to: stem, among: long.map(bare)).flatMap { match in long.first { bare($0) == match } }
    }
}

enum Driver {
    struct Command: Sendable {
        let name: String
        let summary: String
        let run: @Sendable ([String], Console) -> Int32
    }

    static let commands: [Command] = [
        Command(name: "check", summary: "parse and check networks; print shapes, parameters and MACs", run: CheckCommand.run),
        Command(name: "run", summary: "run a network on an input (.npy, .txt, .pgm, .ppm) and print the result", run: RunCommand.run),
        Command(name: "init", summary: "write random weights of the right shapes (He/Kaiming)", run: InitCommand.run),
        Command(name: "compile", summary: "write the network as C or Swift kernels; print the memory it needs", run: CompileCommand.run),
        Command(name: "draw", summary: "draw the network as an SVG picture: a box per layer, arrows between them", run: DrawCommand.run),
        Command(name: "bench", summary: "time the compiled network on random weights: latency, images/s, GFLOP/s", run: BenchCommand.run),
    ]

    static func run(_ arguments: [String], console: Console) -> Int32 {
        guard let first = arguments.first else {
            console.err(usage)
            return ExitCode.usage
        }
        if first == "--help" || first == "-h" || first == "help" {
            console.out(usage)
            return ExitCode.success
        }
        guard let command = commands.first(where: { $0.name == first }) else {
            let guess = closestMatch(to: first, among: commands.map(\.name) + ["help"])
            console.err("cnnc: unknown command '\(DiagnosticRenderer.escaped(first))'" + (guess.map { "; did you mean '\($0)'?" } ?? "") + "\n\n" + usage)
            return ExitCode.usage
        }
        return command.run(Array(arguments.dropFirst()), console)
    }

    static var usage: String {
        let width = commands.map(\.name.count).max() ?? 0
        return "usage: cnnc COMMAND [ARGUMENTS]\n\ncommands:\n"
            + commands.map { "  " + $0.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.summary }
            .joined(separator: "\n")
    }

    /// Prints the usage problems, the parser's and the command's own (`problems`), then the
    /// usage line once; says whether there were any.
    static func reportUsageProblems(_ arguments: Arguments, _ problems: [String] = [], command: String, usage: String,
                                    console: Console) -> Bool {
        let all = arguments.problems + problems
        guard !all.isEmpty else { return false }
        // Problems quote the words given, which may hold control characters.
        for problem in all { console.err("cnnc \(command): \(DiagnosticRenderer.escaped(problem))") }
        console.err("usage: \(usage)")
        return true
    }
}

extension Arguments {
    /// `--target avx512|avx2|neon|generic`: the vector unit the fast C kernels are blocked for
    /// (this machine's when absent).
    mutating func vectorTarget() -> VectorTarget {
        guard let text = option("--target") else { return .host }
        if let target = VectorTarget(rawValue: text) { return target }
        problems.append("--target is one of \(VectorTarget.allCases.map(\.rawValue).joined(separator: ", ")), not '\(text)'")
        return .host
    }
}
