import Codegen
import Foundation
@testable import Runtime
import ShapeCheck
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct CacheTests {
    func modificationTime(_ path: String) throws -> Date {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
    }

    func libraries(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".so") }
    }

    @Test(arguments: [Backend.c, Backend.swift])
    func secondExecutorLoadsTheCachedLibrary(_ backend: Backend) throws {
        let directory = try temporaryDirectory("cache")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cache = CompilerCache(directory: directory)
        let net = try model("lenet5")
        let weights = WeightInit.weights(for: net, seed: 1).tensors

        let first = try CompiledExecutor(backend: backend, network: net, weights: weights, cache: cache)
        #expect(!first.cacheHit)
        let built = try modificationTime(first.libraryPath)
        Thread.sleep(forTimeInterval: 0.05)
        let second = try CompiledExecutor(backend: backend, network: net, weights: weights, cache: cache)
        #expect(second.cacheHit)
        #expect(second.libraryPath == first.libraryPath)
        #expect(try modificationTime(second.libraryPath) == built, "the library was rebuilt")
        #expect(try libraries(in: directory).count == 1)

        // Different weights, same code: still a hit (weights are passed at run time).
        let third = try CompiledExecutor(backend: backend, network: net, weights: WeightInit.weights(for: net, seed: 2).tensors, cache: cache)
        #expect(third.cacheHit)
        let input = randomInput(for: net, batch: 2, seed: 4)
        compare(try third.run(input), try ReferenceInterpreter(network: net, weights: WeightInit.weights(for: net, seed: 2).tensors).run(input), "cached/\(backend)")
    }

    /// A miss tells the caller's progress reporter what it compiles; a hit runs no compiler and
    /// tells it nothing.
    @Test func aMissReportsItsCompileAndAHitDoesNot() throws {
        final class Heard: @unchecked Sendable {
            var events: [String] = []
        }
        let directory = try temporaryDirectory("cache-progress")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let heard = Heard()
        let progress = ProgressReporter(began: { heard.events.append("began " + $0) }, ended: { heard.events.append("ended") })
        let net = try model("digits")
        let weights = WeightInit.weights(for: net, seed: 1).tensors
        let options = ExecutorOptions(progress: progress)
        let first = try CompiledExecutor(backend: .c, network: net, weights: weights, options: options, cache: CompilerCache(directory: directory))
        let source = try emitC(first.program)
        let bytes = CompiledExecutor.inlineHeader(source).utf8.count
        let tool = (try Compiler.c().path as NSString).lastPathComponent
        #expect(heard.events == ["began compiling digits (\(CheckReport.bytes(bytes)) of C, \(tool))", "ended"])
        heard.events = []
        #expect(try CompiledExecutor(backend: .c, network: net, weights: weights, options: options,
                                     cache: CompilerCache(directory: directory)).cacheHit)
        #expect(heard.events.isEmpty)
    }

    @Test func concurrentMissesLeaveOneIntactLibrary() async throws {
        let directory = try temporaryDirectory("cache-race")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cache = CompilerCache(directory: directory)
        let net = try model("digits")
        let weights = WeightInit.weights(for: net, seed: 1).tensors
        let input = randomInput(for: net, batch: 1, seed: 2)
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        let outputs = try await withThrowingTaskGroup(of: Tensor.self) { group in
            for _ in 0..<3 {
                group.addTask { try CompiledExecutor(backend: .c, network: net, weights: weights, cache: cache).run(input) }
            }
            return try await group.reduce(into: [Tensor]()) { $0.append($1) }
        }
        for output in outputs { compare(output, reference, "concurrent") }
        let entries = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(entries.filter { $0.hasSuffix(".so") }.count == 1, "\(entries)")
        #expect(!entries.contains { $0.contains(".tmp-") || $0.hasPrefix(".build-") }, "\(entries)")
    }

    @Test func theKeyCoversSourceAndFlags() throws {
        let directory = try temporaryDirectory("cache-key")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cache = CompilerCache(directory: directory)
        let compiler = try Compiler.c()
        var other = compiler
        other.flags.append("-ffp-contract=off")
        let key = try cache.key(source: "int x;", compiler: compiler, extraFlags: [])
        #expect(key.count == 64)
        #expect(try key == cache.key(source: "int x;", compiler: compiler, extraFlags: []))
        #expect(try key != cache.key(source: "int y;", compiler: compiler, extraFlags: []))
        #expect(try key != cache.key(source: "int x;", compiler: other, extraFlags: []))
    }

    @Test func compilerFailureShowsTheCompilersOutput() throws {
        let directory = try temporaryDirectory("cache-broken")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cache = CompilerCache(directory: directory)
        do {
            _ = try cache.library(source: "int main(void) { return undeclared_thing; }\n", name: "broken", compiler: try Compiler.c())
            Issue.record("a broken source compiled")
        } catch let error as RuntimeError {
            #expect(error.message.hasPrefix("compiling the generated C failed"), "\(error.message)")
            #expect(error.message.contains("undeclared_thing"), "\(error.message)")
        }
        #expect(try libraries(in: directory).isEmpty)
    }

    // MARK: - A damaged library is never loaded

    /// A library of about 70 KB, so that 20,000 bytes is a cut through its segments.
    static let blobSource = """
        const unsigned char cnnc_test_blob[60000] = {1, 2, 3};
        int cnnc_test_answer(void) { return 40 + cnnc_test_blob[1]; }
        """

    enum Damage: String, CaseIterable, Sendable {
        case emptied, truncatedTo20000, oneByteChanged, manifestRemoved, manifestGarbled
    }

    @Test(arguments: Damage.allCases)
    func aDamagedLibraryIsRebuiltNotLoaded(_ damage: Damage) throws {
        let directory = try temporaryDirectory("cache-damage")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cache = CompilerCache(directory: directory)
        let first = try cache.library(source: Self.blobSource, name: "blob", compiler: try Compiler.c())
        #expect(!first.hit)
        let manifest = CompilerCache.manifestPath(library: first.path)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: first.path)[.size] as? Int)
        try #require(size > 20_000)
        #expect(try cache.library(source: Self.blobSource, name: "blob", compiler: try Compiler.c()).hit)

        // The damaged file is put in place by rename, not written in place: this process has
        // the library mapped (the cache loads what it builds), and cutting a mapped file short
        // is a SIGBUS here. `CompilerCacheCLITests` damage it in place between two runs of cnnc.
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: first.path)))
        switch damage {
        case .emptied: bytes = []
        case .truncatedTo20000: bytes = Array(bytes.prefix(20_000))
        case .oneByteChanged: bytes[10_000] ^= 0xff
        case .manifestRemoved: #expect(unlink(manifest) == 0)
        case .manifestGarbled: try Data("cnnc library manifest 1\nsize 12\n".utf8).write(to: URL(fileURLWithPath: manifest))
        }
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/damaged"))
        #expect(rename(directory + "/damaged", first.path) == 0)
        let again = try cache.library(source: Self.blobSource, name: "blob", compiler: try Compiler.c())
        #expect(!again.hit, "the damaged library was taken from the cache")
        #expect(again.path == first.path)
        #expect(try FileManager.default.attributesOfItem(atPath: again.path)[.size] as? Int == size)
        // Rebuilt whole: the next use verifies it, and it loads and runs (a fresh file, never
        // mapped by this process, so a short file would be a SIGBUS here).
        #expect(try cache.library(source: Self.blobSource, name: "blob", compiler: try Compiler.c()).hit)
        let handle = try #require(dlopen(again.path, RTLD_NOW | RTLD_LOCAL))
        let answer = unsafeBitCast(try #require(dlsym(handle, "cnnc_test_answer")), to: (@convention(c) () -> Int32).self)
        #expect(answer() == 42)
        let entries = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(!entries.contains { $0.contains(".tmp-") || $0.hasPrefix(".build-") }, "\(entries)")
    }

    /// A shell script standing in for a compiler, in `directory`.
    func fakeCompiler(_ directory: String, _ name: String, _ body: String) throws -> Compiler {
        let path = directory + "/" + name
        try Data(("#!/bin/sh\n" + body).utf8).write(to: URL(fileURLWithPath: path))
        #expect(chmod(path, 0o755) == 0)
        var compiler = try Compiler.c()
        compiler.path = path
        compiler.leadingArguments = []
        return compiler
    }

    static let answerVersion = "if [ \"$1\" = --version ]; then echo fake 1.0; exit 0; fi\n"
    static let writeOutput = "while [ $# -gt 0 ]; do if [ \"$1\" = -o ]; then OUT=\"$2\"; fi; shift; done\n"

    @Test func aCompilerThatExitsZeroWithGarbageCachesNothing() throws {
        let directory = try temporaryDirectory("cache-garbage")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cache = CompilerCache(directory: directory + "/cache")
        // A real library cut short, so the ELF header is right and the segments are not.
        let real = try CompilerCache(directory: directory + "/real").library(source: Self.blobSource, name: "blob", compiler: try Compiler.c())
        let fakes = [
            ("garbage", "printf garbage > \"$OUT\"", "its output is not a shared library (no ELF header)"),
            ("empty", ": > \"$OUT\"", "its output is not a shared library (it is empty)"),
            ("nothing", "true", "wrote no library"),
            ("cut", "head -c 20000 '\(real.path)' > \"$OUT\"", "its output is not a shared library (a segment is cut off (the file is 20000 bytes))"),
        ]
        for (name, write, problem) in fakes {
            let compiler = try fakeCompiler(directory, name, Self.answerVersion + Self.writeOutput + write + "\nexit 0\n")
            do {
                _ = try cache.library(source: Self.blobSource, name: "blob", compiler: compiler)
                Issue.record("\(name): no error")
            } catch let error as RuntimeError {
                #expect(error.message == "\(compiler.path): the compiler exited with status 0 but \(problem); nothing was cached")
            }
            let entries = try FileManager.default.contentsOfDirectory(atPath: directory + "/cache")
            #expect(!entries.contains { $0.hasSuffix(".so") || $0.hasSuffix(".manifest") || $0.hasPrefix(".build-") }, "\(name): \(entries)")
        }
    }

    @Test func aCompilerKilledByASignalIsAnError() throws {
        let directory = try temporaryDirectory("cache-killed")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let compiler = try fakeCompiler(directory, "crashes", Self.answerVersion + "kill -SEGV $$\n")
        do {
            _ = try CompilerCache(directory: directory + "/cache").library(source: "int x;", name: "x", compiler: compiler)
            Issue.record("no error")
        } catch let error as RuntimeError {
            #expect(error.message == "compiling the generated C failed (crashes was killed by signal 11): no output")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/cache").filter { $0 != "compilers" }.isEmpty)
    }

    @Test func aCompilerThatHangsOnVersionIsStopped() throws {
        let directory = try temporaryDirectory("cache-hang")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let compiler = try fakeCompiler(directory, "hangs", "echo $$ > '\(directory)/pid'\nexec sleep 100\n")
        do {
            _ = try CompilerCache(directory: directory + "/cache").library(source: "int x;", name: "x", compiler: compiler)
            Issue.record("no error")
        } catch let error as RuntimeError {
            #expect(error.message == "\(compiler.path): '--version' did not finish in 10 s, so it was stopped; is it a C compiler?")
        }
        let pid = try #require(pid_t(String(decoding: try Data(contentsOf: URL(fileURLWithPath: directory + "/pid")), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, 0) != 0 && errno == ESRCH, "the hung compiler is still running")
    }

    @Test func aCacheFolderBelowAFileIsAClearError() throws {
        let directory = try temporaryDirectory("cache-file")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("x".utf8).write(to: URL(fileURLWithPath: directory + "/file"))
        do {
            _ = try CompilerCache(directory: directory + "/file/c").library(source: "int x;", name: "x", compiler: try Compiler.c())
            Issue.record("no error")
        } catch let error as RuntimeError {
            #expect(error.message == "\(directory)/file/c: cannot create the cache folder ('\(directory)/file' is a file)")
        }
    }

    @Test func aRelativeCacheFolderIsMadeAbsolute() throws {
        let cwd = FileManager.default.currentDirectoryPath
        #expect(CompilerCache(directory: "rel/cache").directory == (cwd == "/" ? "" : cwd) + "/rel/cache")
        #expect(CompilerCache(directory: "/abs").directory == "/abs")
    }

    @Test func staleTemporariesOfDeadProcessesAreRemoved() throws {
        let directory = try temporaryDirectory("cache-stale")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A PID that is gone: a child that has been waited for.
        let dead = try runChild("/bin/true", [], timeout: 10).pid
        let alive = getpid()
        func make(_ name: String, folder: Bool, date: Date = Date().addingTimeInterval(-120)) throws {
            let path = directory + "/" + name
            if folder {
                try FileManager.default.createDirectory(atPath: path + "/inner", withIntermediateDirectories: true)
                try Data(count: 1000).write(to: URL(fileURLWithPath: path + "/inner/big.o"))
            } else {
                try Data(count: 1000).write(to: URL(fileURLWithPath: path))
            }
            try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: path)
        }
        try FileManager.default.createDirectory(atPath: directory + "/compilers", withIntermediateDirectories: true)
        let gone = [".build-net-\(dead)-abcdef", ".net-0123.so.tmp-\(dead)-12345", "compilers/.x.version.tmp-\(dead)-zz"]
        let kept = [".build-net-\(alive)-abcdef", ".net.so.tmp-\(alive)-1", ".build-net-\(dead)-fresh1", ".unrelated"]
        for name in gone { try make(name, folder: name.hasPrefix(".build-")) }
        for name in kept where name != ".build-net-\(dead)-fresh1" { try make(name, folder: name.hasPrefix(".build-")) }
        try make(".build-net-\(dead)-fresh1", folder: true, date: Date())
        _ = try CompilerCache(directory: directory).library(source: "int x;", name: "x", compiler: try Compiler.c())
        for name in gone { #expect(!FileManager.default.fileExists(atPath: directory + "/" + name), "\(name) is still there") }
        for name in kept { #expect(FileManager.default.fileExists(atPath: directory + "/" + name), "\(name) was removed") }
    }
}
