import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing

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
        let key = cache.key(source: "int x;", compiler: compiler, extraFlags: [])
        #expect(key.count == 64)
        #expect(key == cache.key(source: "int x;", compiler: compiler, extraFlags: []))
        #expect(key != cache.key(source: "int y;", compiler: compiler, extraFlags: []))
        #expect(key != cache.key(source: "int x;", compiler: other, extraFlags: []))
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
}
