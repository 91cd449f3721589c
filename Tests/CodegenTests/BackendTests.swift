import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing

/// Both compiled backends against the conformance cases (answers from ONNX Runtime) and
/// against the reference interpreter, within 1e-4 · max(1, max |reference|).
@Suite struct BackendConformanceTests {
    static let backends: [Backend] = [.c, .swift]

    @Test func everyConformanceFolderIsListed() throws {
        #expect(try Conformance.folders() == Set(Conformance.cases))
    }

    @Test(arguments: Conformance.cases, backends)
    func conformance(_ name: String, _ backend: Backend) throws {
        let (net, weights, input, expected) = try conformanceCase(name)

        let executor = try CompiledExecutor(backend: backend, network: net, weights: weights, cache: testCache)
        let output = try executor.run(input)
        compare(output, expected, "\(name)/\(backend) vs ONNX Runtime")
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        compare(output, reference, "\(name)/\(backend) vs the reference interpreter")
    }

    @Test(arguments: Models.small, backends)
    func smallModel(_ name: String, _ backend: Backend) throws {
        try expectAgreement(model: name, backend: backend)
    }

    @Test func makeExecutorBuildsBothBackends() throws {
        let net = try model("lenet5")
        let weights = WeightInit.weights(for: net, seed: 1).tensors
        let input = randomInput(for: net, batch: 3, seed: 9)
        let reference = try makeExecutor(backend: .reference, network: net, weights: weights).run(input)
        for backend in Self.backends {
            compare(try makeExecutor(backend: backend, network: net, weights: weights).run(input), reference, "makeExecutor/\(backend)")
        }
    }

    @Test func wrongInputShapeIsAnError() throws {
        let net = try model("lenet5")
        let executor = try CompiledExecutor(backend: .c, network: net, weights: WeightInit.weights(for: net, seed: 1).tensors,
                                            cache: testCache)
        #expect(throws: RuntimeError.self) { try executor.run(Tensor(shape: [1, 1, 28, 28])) }
        #expect(try executor.run(Tensor(shape: [0, 1, 32, 32])).shape == [0, 10])
    }
}

/// A model from models/ with WeightInit weights (seed 1) at batch 2: the backend against the
/// reference interpreter.
func expectAgreement(model name: String, backend: Backend, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
    let net = try model(name)
    let weights = WeightInit.weights(for: net, seed: 1).tensors
    let input = randomInput(for: net, batch: 2, seed: 1)
    let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
    let executor = try CompiledExecutor(backend: backend, network: net, weights: weights, cache: testCache)
    compare(try executor.run(input), reference, "\(name)/\(backend)", sourceLocation: sourceLocation)
}

/// AlexNet, ZFNet, VGG, ResNet and GoogLeNet: too slow for a debug build's reference
/// interpreter. Run with `CNNC_LARGE_TESTS=1 swift test -c release --filter LargeNetworkTests`.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["CNNC_LARGE_TESTS"] == "1"))
struct LargeNetworkTests {
    @Test(arguments: Models.large)
    func cBackend(_ name: String) throws {
        try expectAgreement(model: name, backend: .c)
    }

    @Test(arguments: Models.large)
    func swiftBackend(_ name: String) throws {
        try expectAgreement(model: name, backend: .swift)
    }

    /// 3,000 `fc 16 relu` layers (#15): under 20 MB of C (40 MB before layers shared their
    /// kernel; 10,000 were 125 MB and clang never finished), and it runs as the reference does.
    /// Each layer's weight is a permutation and its bias small and positive, so the signal
    /// neither dies in the relus nor grows, and a layer reading another's weights would show.
    @Test func threeThousandEqualLayers() throws {
        let net = try network("network deep\ninput 16\n" + String(repeating: "fc 16 relu\n", count: 3_000))
        let source = try emitC(lowerForC(net, options: KernelOptions(target: .host)))
        let bytes = source.implementation.contents.utf8.count + source.header.contents.utf8.count
        #expect(bytes < 20_000_000, "\(bytes) bytes of C")
        var weights: [String: Tensor] = [:]
        for (index, layer) in net.layers.enumerated() {
            let shift = 1 + index % 15, flip = index % 7
            var weight = [Float](repeating: 0, count: 256)
            for row in 0..<16 { weight[row * 16 + ((row * 5 + shift) ^ flip) % 16] = 1 }
            weights["\(layer.name).weight"] = Tensor(shape: [16, 16], storage: weight)
            weights["\(layer.name).bias"] = Tensor(shape: [16], storage: (0..<16).map { Float(($0 * 7 + index) % 11) * 1e-4 })
        }
        let input = randomInput(for: net, batch: 3, seed: 2)
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        #expect(reference.storage.filter { $0 > 0.01 }.count > 8, "the signal died: \(reference.storage.prefix(16))")
        let executor = try CompiledExecutor(backend: .c, network: net, weights: weights, cache: testCache)
        compare(try executor.run(input), reference, "3,000 fc 16 relu")
    }

}
