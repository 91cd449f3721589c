import Testing
@testable import cnnc

/// Misspelt commands and options get a suggestion built from the names the command knows,
/// and an option given twice says so instead of reading its second value as a file.
struct UsageSuggestionTests {
    @Test func misspeltCommandSuggestsTheClosest() {
        let result = runCNNC(["chek", "net.cnn"])
        #expect(result.status == ExitCode.usage)
        #expect(result.err.hasPrefix("cnnc: unknown command 'chek'; did you mean 'check'?\n"))
        #expect(runCNNC(["complie"]).err.hasPrefix("cnnc: unknown command 'complie'; did you mean 'compile'?\n"))
        // Nothing close: no guess.
        #expect(runCNNC(["frobnicate"]).err.hasPrefix("cnnc: unknown command 'frobnicate'\n"))
    }

    @Test func misspeltOptionSuggestsOneTheCommandTakes() {
        let check = runCNNC(["check", "--explian", "net.cnn"])
        #expect(check.status == ExitCode.usage)
        #expect(check.err == "cnnc check: unknown option '--explian'; did you mean '--explain'?\n"
                + "\(CheckCommand.spec.usageError)\n")
        // The value after `=` is not part of the name; names of another command are not offered.
        #expect(runCNNC(["run", "n.cnn", "--wieghts=w", "--input", "x"]).err
            .hasPrefix("cnnc run: unknown option '--wieghts=w'; did you mean '--weights'?\n"))
        #expect(runCNNC(["check", "--seconds", "2", "n.cnn"]).err.hasPrefix("cnnc check: unknown option '--seconds'\n"))
        // One letter is too little to guess from.
        #expect(runCNNC(["check", "-x", "n.cnn"]).err.hasPrefix("cnnc check: unknown option '-x'\n"))
    }

    @Test func repeatedOptionIsGivenTwice() {
        let run = runCNNC(["run", "n.cnn", "--weights", "w", "--input", "x", "--top", "2", "--top", "3"])
        #expect(run.status == ExitCode.usage)
        #expect(run.err == "cnnc run: --top is given twice\n\(RunCommand.spec.usageError)\n")
        let spellings = runCNNC(["run", "n.cnn", "--weights", "w", "--input", "x", "-o", "a.npy", "--output", "b.npy"])
        #expect(spellings.err.hasPrefix("cnnc run: -o is given twice (--output is the same option)\n"))
        #expect(runCNNC(["check", "--json", "--json", "n.cnn"]).err.hasPrefix("cnnc check: --json is given twice\n"))
    }
}
