import Foundation
import Runtime
import Testing
@testable import cnnc

/// The progress line a long compile shows on stderr: on a terminal only, erased by the next
/// output, never in captured output.
struct ProgressLineTests {
    final class Capture: @unchecked Sendable {
        var out = ""
        var err = ""
    }

    func console(width: Int?) -> (Console, Capture) {
        let capture = Capture()
        return (Console(writeOut: { capture.out += $0 }, writeErr: { capture.err += $0 }, colour: false, progressWidth: width), capture)
    }

    @Test func theLineFitsTheTerminalAndIsErasedByTheNextOutput() {
        #expect(ProgressLine.text("compiling lenet5 (152.5 KiB of C, clang)", width: 80) == "cnnc: compiling lenet5 (152.5 KiB of C, clang)…")
        let cut = ProgressLine.text(String(repeating: "x", count: 200), width: 40)
        #expect(cut.count == 39 && cut.hasSuffix("x…"))
        #expect(ProgressLine.text("two\nlines", width: 80) == "cnnc: twolines…")

        let (shown, capture) = console(width: 80)
        shown.beginProgress("compiling n to C")
        #expect(capture.err == "cnnc: compiling n to C…")
        shown.out("wrote n.c")
        #expect(capture.err == "cnnc: compiling n to C…" + ProgressLine.erase(23))
        #expect(capture.out == "wrote n.c\n")
        // Erased once: a later output writes only itself.
        shown.err("done")
        #expect(capture.err.hasSuffix(ProgressLine.erase(23) + "done\n"))
        // Runtime's reporter draws the same line and ends it.
        shown.progress.began("compiling m (1 KiB of C, clang)")
        shown.progress.ended()
        #expect(capture.err.hasSuffix("cnnc: compiling m (1 KiB of C, clang)…" + ProgressLine.erase(38)))
    }

    @Test func notATerminalNoLine() {
        let (quiet, capture) = console(width: nil)
        quiet.beginProgress("compiling n to C")
        quiet.progress.began("compiling n (1 KiB of C, clang)")
        quiet.progress.ended()
        quiet.endProgress()
        #expect(capture.err.isEmpty && capture.out.isEmpty)
    }

    /// The built cnnc compiling into a fresh cache: the line on a terminal (a pty from
    /// `script`), and nothing of it when stderr is a pipe.
    @Test(.enabled(if: BuiltExecutable.cnnc != nil && FileManager.default.isExecutableFile(atPath: "/usr/bin/script"),
                   "needs the built cnnc and script(1)"))
    func onlyOnATerminal() throws {
        let scratch = try ScratchFolder("progress")
        let net = scratch.file("lenet.cnn")
        try Networks.lenet5(named: "lenet").write(toFile: net, atomically: true, encoding: .utf8)
        let cnnc = BuiltExecutable.cnnc!
        let compile = [cnnc, "compile", net, "-o", scratch.file("out")]
        let piped = try shell(cnnc, Array(compile.dropFirst()), environment: ["CNNC_CACHE_DIR": scratch.file("cache")])
        #expect(piped.status == 0 && !piped.output.contains("cnnc: compiling"), "\(piped.output)")
        #expect(piped.output.hasPrefix("wrote "))

        let run = [cnnc, "bench", net, "--seconds", "0", "--min-runs", "1"]
        let pipedRun = try shell(cnnc, Array(run.dropFirst()), environment: ["CNNC_CACHE_DIR": scratch.file("cache-piped")])
        #expect(pipedRun.status == 0 && !pipedRun.output.contains("compiling"), "\(pipedRun.output)")

        // On a pty: the compile's line, erased before the first output; bench's compiler run.
        let command = { (words: [String]) in words.map { "'\($0)'" }.joined(separator: " ") }
        let terminal = try shell("/usr/bin/script", ["-qec", command(compile + ["--force"]), "/dev/null"],
                                 environment: ["CNNC_CACHE_DIR": scratch.file("cache")])
        #expect(terminal.status == 0, "\(terminal.output)")
        #expect(terminal.output.hasPrefix("cnnc: compiling lenet to C…\r" + String(repeating: " ", count: 27) + "\rwrote "), "\(terminal.output)")
        let benchTerminal = try shell("/usr/bin/script", ["-qec", command(run), "/dev/null"],
                                      environment: ["CNNC_CACHE_DIR": scratch.file("cache-terminal")])
        #expect(benchTerminal.status == 0, "\(benchTerminal.output)")
        let line = try #require(benchTerminal.output.components(separatedBy: "\r").first)
        let tool = (try Compiler.c().path as NSString).lastPathComponent
        #expect(line.hasPrefix("cnnc: compiling lenet (") && line.hasSuffix(" of C, \(tool))…"), "\(benchTerminal.output)")
        // A second run hits the cache: no compiler, no line.
        let again = try shell("/usr/bin/script", ["-qec", command(run), "/dev/null"],
                              environment: ["CNNC_CACHE_DIR": scratch.file("cache-terminal")])
        #expect(!again.output.contains("cnnc: compiling"), "\(again.output)")
    }
}
