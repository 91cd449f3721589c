import Foundation
import Testing
import TestSupport
@testable import cnnc

/// `cnnc completions bash|zsh|fish`, generated from the commands' declarations and tried in
/// the shells themselves: bash always, zsh and fish where installed (.ci/run installs both).
struct CompletionTests {
    static func installed(_ shell: String) -> String? {
        ["/usr/bin/", "/bin/", "/usr/local/bin/"].map { $0 + shell }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func script(_ shell: String) throws -> String {
        let result = runCNNC(["completions", shell])
        try #require(result.status == ExitCode.success, "\(result.err)")
        return result.out
    }

    /// What bash's completion offers for the words typed so far (the last one being completed).
    static func bashOffers(_ words: [String], in directory: String? = nil) throws -> [String] {
        let scratch = try ScratchFolder("completion-bash")
        let file = try scratch.write("cnnc.bash", script("bash"))
        let quoted = words.map { "'\($0)'" }.joined(separator: " ")
        let result = try shell("/bin/bash", ["-c", "source '\(file)'; COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1); "
                                             + "_cnnc; printf '%s\\n' \"${COMPREPLY[@]}\""], in: directory)
        withExtendedLifetime(scratch) {}
        try #require(result.status == 0, "\(result.output)")
        return result.output.split(separator: "\n").map(String.init)
    }

    @Test func bashCompletesCommandsOptionsAndValues() throws {
        #expect(try Self.bashOffers(["cnnc", "ch"]) == ["check"])
        #expect(try Set(Self.bashOffers(["cnnc", "c"])) == ["check", "compile", "completions"])
        #expect(try Self.bashOffers(["cnnc", "check", "--ex"]) == ["--explain"])
        #expect(try Self.bashOffers(["cnnc", "compile", "m.cnn", "--target", ""]) == ["avx512", "avx2", "neon", "generic"])
        #expect(try Self.bashOffers(["cnnc", "run", "m.cnn", "--backend", "s"]) == ["swift"])
        #expect(try Self.bashOffers(["cnnc", "completions", "f"]) == ["fish"])
        // Every option bash offers for a command is one the command parses, and the reverse.
        for spec in Driver.specs {
            let offered = try Set(Self.bashOffers(["cnnc", spec.name, "-"]))
            #expect(offered == Set(spec.allOptions.flatMap(\.names)), "\(spec.name)")
        }
    }

    @Test func bashCompletesFilesByExtension() throws {
        let folder = try ScratchFolder("completion-files")
        for name in ["net.cnn", "w.safetensors", "notes.md"] { FileManager.default.createFile(atPath: folder.file(name), contents: Data()) }
        try FileManager.default.createDirectory(atPath: folder.file("sub"), withIntermediateDirectories: true)
        #expect(try Set(Self.bashOffers(["cnnc", "check", ""], in: folder.path)) == ["net.cnn", "sub"])
        #expect(try Set(Self.bashOffers(["cnnc", "run", "net.cnn", "--weights", ""], in: folder.path)) == ["w.safetensors", "sub"])
    }

    @Test(.enabled(if: installed("zsh") != nil, "zsh is not installed (.ci/run installs it)"))
    func zshScriptParsesAndNamesEveryOption() throws {
        let text = try Self.script("zsh")
        let scratch = try ScratchFolder("completion-zsh")
        let file = try scratch.write("_cnnc", text)
        let syntax = try shell(Self.installed("zsh")!, ["-n", file])
        #expect(syntax.status == 0, "\(syntax.output)")
        // Loaded by compinit, the function defines itself without error.
        let loaded = try shell(Self.installed("zsh")!, ["-f", "-c", "autoload -U compinit; compinit -u; source '\(file)'; whence -w _cnnc"])
        #expect(loaded.output.contains("_cnnc: function"), "\(loaded.output)")
        for spec in Driver.specs {
            for option in spec.allOptions { #expect(text.contains("'\(option.name)[") || text.contains("{\(option.name),"), "zsh: \(spec.name) \(option.name)") }
        }
    }

    @Test(.enabled(if: installed("fish") != nil, "fish is not installed (.ci/run installs it)"))
    func fishCompletesOptionsAndValues() throws {
        let scratch = try ScratchFolder("completion-fish")
        let file = try scratch.write("cnnc.fish", Self.script("fish"))
        func offers(_ line: String) throws -> [String] {
            let result = try shell(Self.installed("fish")!, ["--no-config", "-c", "source '\(file)'; complete -C '\(line)'"])
            try #require(result.status == 0, "\(result.output)")
            return result.output.split(separator: "\n").map { String($0.prefix { $0 != "\t" }) }
        }
        #expect(try offers("cnnc chec").contains("check"))
        #expect(try offers("cnnc check --ex") == ["--explain"])
        #expect(try offers("cnnc compile m.cnn --target ").sorted() == ["avx2", "avx512", "generic", "neon"])
        #expect(try offers("cnnc bench m.cnn --th").contains("--threads"))
    }

    @Test func unknownShellIsAUsageError() {
        let result = runCNNC(["completions", "bsh"])
        #expect(result.status == ExitCode.usage)
        #expect(result.err.hasPrefix("cnnc completions: unknown shell 'bsh'; did you mean 'bash'?\n"))
        #expect(runCNNC(["completions"]).status == ExitCode.usage)
    }
}
