import Foundation
import Testing
import TestSupport
import Codegen
@testable import cnnc

/// `--help`, `-h`, `cnnc help COMMAND` and `--version`, all read from the commands' one
/// declaration (CommandSpec); the help text is under snapshot tests
/// (`RECORD_SNAPSHOTS=1 swift test --filter HelpTests` re-records).
struct HelpTests {
    @Test func generalHelpListsEveryCommand() throws {
        let result = runCNNC(["--help"])
        #expect(result.status == ExitCode.success)
        for spec in Driver.specs { #expect(result.out.contains("  \(spec.name)  "), "\(spec.name) is not listed") }
        #expect(runCNNC(["-h"]).out == result.out)
        #expect(runCNNC(["help"]).out == result.out)
        // No arguments at all: the same text, but as a usage error.
        let bare = runCNNC([])
        #expect(bare.status == ExitCode.usage && bare.err == result.out)
        try assertSnapshot(result.out, named: "help/cnnc.txt")
    }

    @Test(arguments: Driver.specs.map(\.name))
    func commandHelpIsTheSameEveryWay(_ name: String) throws {
        let long = runCNNC([name, "--help"])
        #expect(long.status == ExitCode.success)
        #expect(long.err.isEmpty)
        #expect(runCNNC([name, "-h"]).out == long.out)
        #expect(runCNNC(["help", name]).out == long.out)
        // Asked among other arguments, even wrong ones, help wins: nothing is run.
        #expect(runCNNC([name, "no-such-file.cnn", "--bogus", "--help"]).out == long.out)
        try assertSnapshot(long.out, named: "help/\(name).txt")
    }

    @Test(arguments: Driver.specs.map(\.name))
    func helpDescribesEveryOptionWithItsDefault(_ name: String) throws {
        let spec = try #require(Driver.specs.first { $0.name == name })
        let help = runCNNC([name, "--help"]).out
        #expect(help.hasPrefix("usage: \(spec.usage)\n"))
        for option in spec.allOptions {
            #expect(help.contains(HelpText.label(option)), "\(option.name) is not in \(name)'s help")
            if let value = option.defaultValue { #expect(help.contains("(default: \(value))"), "\(option.name)'s default") }
            if !option.required && option.name != "--help" {
                #expect(spec.usage.contains("[\(option.name)"), "\(option.name) is not in \(name)'s usage line")
            }
        }
        #expect(help.contains("examples:\n  cnnc \(name)"))
    }

    /// Parsing agrees with the declaration: every declared spelling is accepted (the error, if
    /// any, is about the missing file, never an unknown option), and an undeclared one is not.
    @Test(arguments: Driver.specs.map(\.name))
    func everyDeclaredSpellingParses(_ name: String) throws {
        let spec = try #require(Driver.specs.first { $0.name == name })
        for option in spec.options {
            for spelling in option.names {
                let value: [String] = option.isFlag ? [] : [Self.sampleValue(option)]
                let result = runCNNC([name, "missing-\(name).cnn", spelling] + value)
                #expect(!result.err.contains("unknown option"), "\(name) \(spelling): \(result.err)")
            }
        }
        #expect(runCNNC([name, "missing.cnn", "--no-such-option"]).err.contains("unknown option '--no-such-option'"))
    }

    /// A value the option accepts, so that only the missing file is wrong.
    static func sampleValue(_ option: OptionSpec) -> String {
        if case .choices(let values) = option.completion { return values[0] }
        switch option.value {
        case "N", "T", "K", "R", "S": return "1"
        case "M[,M,M]": return "0.5"
        case "all|NAME[,NAME…]": return "all"
        default: return "x"
        }
    }

    @Test func helpOfAnUnknownCommandSuggests() {
        let result = runCNNC(["help", "chek"])
        #expect(result.status == ExitCode.usage)
        #expect(result.err.hasPrefix("cnnc help: unknown command 'chek'; did you mean 'check'?\n"))
        #expect(runCNNC(["help", "check", "run"]).status == ExitCode.usage)
        #expect(runCNNC(["help", "completions"]).out.hasPrefix("usage: cnnc completions bash|zsh|fish\n"))
    }

    @Test func usageErrorsPointAtTheHelp() {
        let result = runCNNC(["draw", "net.cnn"])
        #expect(result.status == ExitCode.usage)
        #expect(result.err == "cnnc draw: -o FILE.svg is required\nusage: cnnc draw FILE --output FILE.svg\n"
                + "(cnnc draw --help lists every option)\n")
    }

    @Test func versionIsPrinted() {
        let result = runCNNC(["--version"])
        #expect(result.status == ExitCode.success)
        #expect(result.out.hasPrefix("cnnc \(cnncVersion) (fast C kernels for "))
        #expect(cnncVersion.split(separator: ".").count == 3 && cnncVersion.split(separator: ".").allSatisfy { Int($0) != nil })
    }
}

/// The examples in every command's help run as written, in a scratch folder that sees models/
/// and examples/ (init's first: run's example reads the weights it writes).
@Suite(.enabled(if: BuiltExecutable.cnnc != nil, "the cnnc executable is not built beside the tests"))
struct HelpExampleTests {
    @Test func everyExampleRuns() throws {
        let scratch = try ScratchFolder("help-examples")
        for folder in ["models", "examples"] {
            try FileManager.default.createSymbolicLink(atPath: scratch.file(folder),
                                                       withDestinationPath: Paths.packageRoot.appendingPathComponent(folder).path)
        }
        let binaries = URL(fileURLWithPath: BuiltExecutable.cnnc!).deletingLastPathComponent().path
        let ordered = Driver.specs.filter { $0.name == "init" } + Driver.specs.filter { $0.name != "init" }
        var ran = 0
        for spec in ordered {
            for example in spec.examples {
                // bench's examples time for seconds: once is enough to show they run.
                let line = spec.name == "bench" ? example + " --seconds 0 --min-runs 1" : example
                let result = try shell("/bin/bash", ["-e", "-c", line], in: scratch.path,
                                       environment: ["PATH": binaries + ":/usr/bin:/bin", "NO_COLOR": "1",
                                                     "CNNC_CACHE_DIR": scratch.file("cache")])
                #expect(result.status == 0, "\(example) exited with \(result.status):\n\(result.output)")
                ran += 1
            }
        }
        #expect(ran >= Driver.specs.count)
    }
}
