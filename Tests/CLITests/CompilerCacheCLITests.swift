import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The compile cache and its child processes as a user meets them: the built `cnnc` with
/// settings in the environment, fake compilers (shell scripts), damage between runs, signals.
@Suite(.enabled(if: BuiltExecutable.cnnc != nil, "the cnnc executable is not built beside the tests"))
struct CompilerCacheCLITests {
    /// A folder with a small network, its weights and an input.
    final class Scratch: ScratchFolder {
        init() throws {
            try super.init("cache-cli")
            // LeNet-5: its C library is about 29 KB, which 20,000 bytes cuts through.
            let lenet = Paths.models.appendingPathComponent("lenet5.cnn")
            try FileManager.default.copyItem(atPath: lenet.path, toPath: file("net.cnn"))
            try Data("P5 32 32 255\n".utf8 + (0..<1024).map { UInt8($0 % 256) }).write(to: URL(fileURLWithPath: file("x.pgm")))
        }

        /// A shell script standing in for the compiler: answers `--version`, records its PID,
        /// then runs `body` with the output path in $OUT.
        func fakeCompiler(_ name: String, _ body: String) throws -> String {
            let script = """
                #!/bin/sh
                if [ "$1" = --version ]; then echo fake 1.0; exit 0; fi
                echo $$ > '\(file(name + ".pid"))'
                while [ $# -gt 0 ]; do if [ "$1" = -o ]; then OUT="$2"; fi; shift; done
                \(body)

                """
            try script.write(toFile: file(name), atomically: true, encoding: .utf8)
            chmod(file(name), 0o755)
            return file(name)
        }

        func pid(_ name: String) -> pid_t? {
            (try? String(contentsOfFile: file(name + ".pid"), encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
    }

    /// Starts cnnc in `directory` with `environment` applied (nil removes a variable), and every
    /// signal at its default action (the test runner may ignore some, and an ignored signal is
    /// inherited and kept).
    func start(_ arguments: [String], in directory: String, environment: [String: String?]) throws -> (Process, Pipe) {
        try startProcess("/usr/bin/env", ["--default-signal=INT,TERM,HUP", BuiltExecutable.cnnc!] + arguments,
                         in: directory, environment: environment)
    }

    func run(_ arguments: [String], in directory: String, environment: [String: String?]) throws -> (status: Int32, output: String) {
        finish(try start(arguments, in: directory, environment: environment))
    }

    func runNetwork(_ scratch: Scratch, backend: String = "c", environment: [String: String?]) throws -> (status: Int32, output: String) {
        try run(["run", "net.cnn", "--weights", "w.safetensors", "--input", "x.pgm", "--backend", backend], in: scratch.path, environment: environment)
    }

    func initWeights(_ scratch: Scratch) throws {
        let result = try run(["init", "net.cnn", "-o", "w.safetensors"], in: scratch.path, environment: [:])
        #expect(result.status == 0, "\(result.output)")
    }

    func gone(_ pid: pid_t?) -> Bool {
        guard let pid else { return false }
        for _ in 0..<500 {
            if kill(pid, 0) != 0 && errno == ESRCH { return true }
            usleep(10_000)
        }
        return false
    }

    /// What a killed or timed-out compile must not leave: scratch folders and temporaries.
    func leftovers(_ scratch: Scratch, _ cache: String) -> [String] {
        scratch.names(cache).filter { $0.hasPrefix(".build-") || $0.contains(".tmp-") || $0.hasSuffix(".tmp") }
    }

    enum Setting: String, CaseIterable, Sendable { case cacheDirectory, home }

    @Test(arguments: Setting.allCases)
    func aRelativeCacheSettingWorks(_ setting: Setting) throws {
        let scratch = try Scratch()
        try initWeights(scratch)
        let environment: [String: String?] = setting == .cacheDirectory
            ? ["CNNC_CACHE_DIR": "rel/cache"]
            : ["CNNC_CACHE_DIR": nil, "XDG_CACHE_HOME": nil, "HOME": "relhome"]
        let result = try runNetwork(scratch, environment: environment)
        #expect(result.status == 0, "\(result.output)")
        let cache = setting == .cacheDirectory ? "rel/cache" : "relhome/.cache/cnnc"
        #expect(scratch.names(cache).filter { $0.hasSuffix(".so") }.count == 1, "\(scratch.names(cache))")
    }

    @Test func badSettingsAreClearErrors() throws {
        let scratch = try Scratch()
        try initWeights(scratch)
        try Data("x".utf8).write(to: URL(fileURLWithPath: scratch.file("file")))
        let cache = scratch.file("cache")
        let cases: [([String: String?], String, String)] = [
            (["CC": "/tmp", "CNNC_CACHE_DIR": cache], "c", "$CC is '/tmp', which is a directory, not an executable"),
            (["SWIFTC": "/nope", "CNNC_CACHE_DIR": cache], "swift", "$SWIFTC is '/nope', which is not an executable"),
            (["CNNC_CACHE_DIR": scratch.file("file/c")], "c",
             "CNNC_CACHE_DIR=\(scratch.file("file/c")): cannot create the cache folder ('\(scratch.file("file"))' is a file)"),
            (["CNNC_CACHE_DIR": "file/c/d"], "c", "CNNC_CACHE_DIR=file/c/d: cannot create the cache folder ('\(scratch.file("file"))' is a file)"),
            (["CNNC_COMPILE_TIMEOUT": "abc", "CNNC_CACHE_DIR": cache], "c", "CNNC_COMPILE_TIMEOUT is 'abc'; it takes a number of seconds greater than 0"),
        ]
        for (environment, backend, message) in cases {
            let result = try runNetwork(scratch, backend: backend, environment: environment)
            #expect(result.status == 1)
            #expect(result.output == "cnnc run: \(message)\n")
        }
    }

    @Test(arguments: [0, 20_000])
    func aCachedLibraryCutShortIsRebuilt(_ size: Int) throws {
        let scratch = try Scratch()
        try initWeights(scratch)
        let environment: [String: String?] = ["CNNC_CACHE_DIR": scratch.file("cache")]
        let first = try runNetwork(scratch, environment: environment)
        #expect(first.status == 0, "\(first.output)")
        let library = scratch.file("cache/" + (try #require(scratch.names("cache").first { $0.hasSuffix(".so") })))
        let built = try #require(try FileManager.default.attributesOfItem(atPath: library)[.size] as? Int)
        try #require(built > size)
        // In place, as a full disk or a crash would leave it: this used to fail "file too short"
        // (0 bytes) or die of SIGBUS (20,000 bytes) on every later run.
        #expect(truncate(library, off_t(size)) == 0)
        for _ in 0..<2 {
            let again = try runNetwork(scratch, environment: environment)
            #expect(again.status == 0, "\(again.output)")
            #expect(again.output == first.output)
        }
        #expect(try FileManager.default.attributesOfItem(atPath: library)[.size] as? Int == built)
    }

    @Test func theCompileTimeoutStopsTheCompiler() throws {
        let scratch = try Scratch()
        try initWeights(scratch)
        let compiler = try scratch.fakeCompiler("slowcc", "head -c 1000000 /dev/zero > \"$OUT\"\nexec sleep 100")
        let result = try runNetwork(scratch, environment: ["CC": compiler, "CNNC_COMPILE_TIMEOUT": "2", "CNNC_CACHE_DIR": scratch.file("cache")])
        #expect(result.status == 1)
        #expect(result.output == "cnnc run: \(compiler): compiling the generated C did not finish in 2 s, so it was stopped "
            + "(set CNNC_COMPILE_TIMEOUT to a number of seconds to allow longer)\n")
        #expect(gone(scratch.pid("slowcc")), "the compiler is still running")
        #expect(leftovers(scratch, "cache").isEmpty, "\(scratch.names("cache"))")
        #expect(!scratch.names("cache").contains { $0.hasSuffix(".so") })
    }

    @Test(arguments: [SIGTERM, SIGINT, SIGHUP])
    func aSignalStopsTheCompilerAndRemovesTemporaries(_ signal: Int32) throws {
        let scratch = try Scratch()
        try initWeights(scratch)
        // It writes a large library, then hangs: the state a real compile is in for seconds.
        let compiler = try scratch.fakeCompiler("slowcc", "head -c 20000000 /dev/zero > \"$OUT\"\nexec sleep 100")
        let (process, pipe) = try start(["run", "net.cnn", "--weights", "w.safetensors", "--input", "x.pgm", "--backend", "c"],
                                        in: scratch.path, environment: ["CC": compiler, "CNNC_CACHE_DIR": scratch.file("cache")])
        var waited = 0
        while scratch.pid("slowcc") == nil || !scratch.names("cache").contains(where: { $0.hasPrefix(".build-") }), waited < 3000 {
            usleep(10_000)
            waited += 1
        }
        usleep(300_000)    // into its `sleep`
        #expect(scratch.pid("slowcc") != nil, "the fake compiler never started")
        kill(process.processIdentifier, signal)
        waited = 0
        while process.isRunning, waited < 3000 {
            usleep(10_000)
            waited += 1
        }
        if process.isRunning {
            Issue.record("cnnc is still running 30 s after signal \(signal)")
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        _ = pipe.fileHandleForReading.readDataToEndOfFile()
        let diedOfIt = process.terminationReason == .uncaughtSignal && process.terminationStatus == signal
        let exitedWithIt = process.terminationReason == .exit && process.terminationStatus == 128 + signal
        #expect(diedOfIt || exitedWithIt, "reason \(process.terminationReason.rawValue) status \(process.terminationStatus)")
        #expect(gone(scratch.pid("slowcc")), "the compiler is still running")
        #expect(leftovers(scratch, "cache").isEmpty, "\(scratch.names("cache"))")
    }
}
