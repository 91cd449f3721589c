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
        let folders = try FileManager.default.contentsOfDirectory(atPath: Paths.conformance.path).filter { name in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: Paths.conformance.appendingPathComponent(name).path,
                                                  isDirectory: &isDirectory) && isDirectory.boolValue
        }
        #expect(Set(folders) == Set(conformanceCases))
    }

    @Test(arguments: conformanceCases, backends)
    func conformance(_ name: String, _ backend: Backend) throws {
        let folder = Paths.conformance.appendingPathComponent(name)
        let modelPath = folder.appendingPathComponent("model.cnn").path
        let net = try network(try String(contentsOfFile: modelPath, encoding: .utf8), path: modelPath)
        let weightsPath = folder.appendingPathComponent("weights.safetensors").path
        let weights = try WeightFile.read(contentsOf: weightsPath).validated(for: net, path: weightsPath)
        let input = try NPY.read(contentsOf: folder.appendingPathComponent("input.npy").path)
        let expected = try NPY.read(contentsOf: folder.appendingPathComponent("expected.npy").path)

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
}
