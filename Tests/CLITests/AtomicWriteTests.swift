import Foundation
import Testing

/// Every file cnnc writes goes to a temporary name (`.cnnc-PID-RANDOM.tmp`) in the same folder
/// and is renamed over the target when complete (`OutputWriter`; the compiler cache has the
/// compiler write a temporary library and renames it). These run the built `cnnc` with a file-size limit, so
/// its write fails halfway: with SIGXFSZ ignored the write fails with EFBIG and cnnc reports
/// it; with the default action the process is killed in the middle of writing, as a crash or
/// a full disk would. Either way the previous file must be intact, byte for byte.
@Suite(.enabled(if: BuiltExecutable.cnnc != nil, "the cnnc executable is not built beside the tests"))
struct AtomicWriteTests {
    static var cnnc: String? { BuiltExecutable.cnnc }

    enum Failure {
        /// The write fails (EFBIG) and cnnc must report it and clean up.
        case error
        /// The process is killed halfway through the write.
        case killed
    }

    /// Runs cnnc with files limited to 2 KiB; its status (negative: killed by that signal) and output.
    func runLimited(_ arguments: [String], _ failure: Failure, environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        // `ulimit -f` counts 512-byte blocks in dash and 1024-byte blocks in bash: 1 to 2 KiB.
        // The signal is ignored to get the error; to get the kill its default action is restored
        // (the test runner may ignore it, and a shell cannot undo an ignore it inherited).
        let exec = failure == .error ? "trap '' XFSZ; exec" : "exec env --default-signal=XFSZ"
        return try shell("/bin/sh", ["-c", "ulimit -f 2 && " + exec + " \"$0\" \"$@\"", Self.cnnc!] + arguments, environment: environment)
    }

    /// A scratch folder with a network whose weights (and outputs) are larger than the limit.
    final class Scratch: ScratchFolder {
        init() throws {
            try super.init("atomic")
            try write("net.cnn", "input 16x16x1\nc1: conv 8 3x3 pad 1 relu\nc2: conv 8 3x3 pad 1\n")
        }
    }

    func expectFailed(_ result: (status: Int32, output: String), _ failure: Failure, sourceLocation: SourceLocation = #_sourceLocation) {
        switch failure {
        case .error:
            #expect(result.status == 1, "\(result.output)", sourceLocation: sourceLocation)
            #expect(result.output.contains("cannot write (File too large)") || result.output.contains("File too large"),
                    "\(result.output)", sourceLocation: sourceLocation)
        case .killed:
            #expect(result.status == -SIGXFSZ, "status \(result.status): \(result.output)", sourceLocation: sourceLocation)
        }
    }

    /// Leftovers: none after a reported error; at most the temporary file after a kill, never under the target's name.
    func expectNoTemporaryFiles(_ scratch: Scratch, _ expected: [String], _ failure: Failure, sourceLocation: SourceLocation = #_sourceLocation) {
        let stray = scratch.names().filter { !expected.contains($0) }
        if failure == .error {
            #expect(stray.isEmpty, "left behind: \(stray)", sourceLocation: sourceLocation)
        } else {
            #expect(stray.allSatisfy(Self.isTemporary), "left behind: \(stray)", sourceLocation: sourceLocation)
        }
    }

    /// `OutputWriter`'s temporary names: 25 bytes whatever the target is called.
    static func isTemporary(_ name: String) -> Bool {
        name.hasPrefix(".cnnc-") && name.hasSuffix(".tmp") && name.utf8.count == 25
    }

    @Test(arguments: [Failure.error, .killed])
    func initLeavesThePreviousWeightsIntact(_ failure: Failure) throws {
        let scratch = try Scratch()
        let old = Data("previous weights".utf8)
        try old.write(to: URL(fileURLWithPath: scratch.file("w.safetensors")))
        expectFailed(try runLimited(["init", scratch.file("net.cnn"), "-o", scratch.file("w.safetensors")], failure), failure)
        #expect(scratch.contents("w.safetensors") == old)
        expectNoTemporaryFiles(scratch, ["net.cnn", "w.safetensors"], failure)
    }

    @Test(arguments: [Failure.error, .killed])
    func runLeavesThePreviousOutputIntact(_ failure: Failure) throws {
        let scratch = try Scratch()
        // Weights and input written without a limit; the 8 KiB output is what fails.
        let setup = try runUnlimited(["init", scratch.file("net.cnn"), "-o", scratch.file("w.safetensors")])
        #expect(setup.status == 0, "\(setup.output)")
        var input = [UInt8]("P5 16 16 255\n".utf8)
        input += (0..<256).map { UInt8($0) }
        try Data(input).write(to: URL(fileURLWithPath: scratch.file("x.pgm")))
        let old = Data("previous output".utf8)
        try old.write(to: URL(fileURLWithPath: scratch.file("out.npy")))
        let result = try runLimited(["run", scratch.file("net.cnn"), "--weights", scratch.file("w.safetensors"), "--input", scratch.file("x.pgm"),
                                     "--backend", "reference", "--output", scratch.file("out.npy")], failure)
        expectFailed(result, failure)
        #expect(scratch.contents("out.npy") == old)
        expectNoTemporaryFiles(scratch, ["net.cnn", "out.npy", "w.safetensors", "x.pgm"], failure)
    }

    /// The three files are one set: every temporary is written before any is renamed, so a
    /// failure while writing leaves all three old files.
    @Test(arguments: [Failure.error, .killed])
    func compileLeavesEveryPreviousFileWhenOneCannotBeWritten(_ failure: Failure) throws {
        let scratch = try Scratch()
        let out = scratch.file("out")
        let setup = try runUnlimited(["init", scratch.file("net.cnn"), "-o", scratch.file("w.safetensors")])
        #expect(setup.status == 0, "\(setup.output)")
        // What an unlimited compile writes, then the previous files it must not half-overwrite.
        let reference = scratch.file("reference")
        let full = try runUnlimited(["compile", scratch.file("net.cnn"), "--weights", scratch.file("w.safetensors"), "-o", reference])
        #expect(full.status == 0, "\(full.output)")
        let names = try FileManager.default.contentsOfDirectory(atPath: reference).sorted()
        #expect(names == ["net.c", "net.h", "net.weights"])
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        // Marked as cnnc's (the .weights by the cnnc .c beside it), so no --force is needed.
        func previous(_ name: String) -> Data { Data("/* previous \(name), generated by cnnc. Do not edit. */\n".utf8) }
        for name in names { try previous(name).write(to: URL(fileURLWithPath: out + "/" + name)) }

        expectFailed(try runLimited(["compile", scratch.file("net.cnn"), "--weights", scratch.file("w.safetensors"), "-o", out], failure), failure)
        // The C file is larger than the limit, so no file is replaced, not even the small header.
        for name in names {
            #expect(FileManager.default.contents(atPath: out + "/" + name) == previous(name), "\(name) was replaced")
        }
        let stray = try FileManager.default.contentsOfDirectory(atPath: out).filter { !names.contains($0) }
        #expect(failure == .killed ? stray.allSatisfy(Self.isTemporary) : stray.isEmpty, "left behind: \(stray)")
    }

    /// The compiler cache: a compiler that cannot finish writing the library leaves no library
    /// under its final name, so the next run compiles again rather than loading half a file.
    @Test func theCompilerCacheNeverHoldsAHalfWrittenLibrary() throws {
        let scratch = try Scratch()
        let cache = scratch.file("cache")
        let setup = try runUnlimited(["init", scratch.file("net.cnn"), "-o", scratch.file("w.safetensors")])
        #expect(setup.status == 0, "\(setup.output)")
        var input = [UInt8]("P5 16 16 255\n".utf8)
        input += (0..<256).map { UInt8($0) }
        try Data(input).write(to: URL(fileURLWithPath: scratch.file("x.pgm")))
        let arguments = ["run", scratch.file("net.cnn"), "--weights", scratch.file("w.safetensors"), "--input", scratch.file("x.pgm"),
                         "--backend", "c"]
        let failed = try runLimited(arguments, .error, environment: ["CNNC_CACHE_DIR": cache])
        #expect(failed.status == 1, "\(failed.output)")
        let libraries = { ((try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []).filter { $0.hasSuffix(".so") } }
        #expect(libraries().isEmpty)
        let ok = try runUnlimited(arguments, environment: ["CNNC_CACHE_DIR": cache])
        #expect(ok.status == 0, "\(ok.output)")
        #expect(libraries().count == 1)
    }

    /// cnnc without a limit.
    func runUnlimited(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        try shell(Self.cnnc!, arguments, environment: environment)
    }
}
