import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing

/// torchvision's own networks at reduced width and resolution (Tests/Fixtures/torchvision), with
/// torch's outputs: the reference interpreter and the C and Swift backends agree with torch within
/// 1e-4 · max(1, max |torch|), on the state_dict exactly as torch saved it.
@Suite struct TorchvisionFixtureTests {
    @Test func everyFolderIsListed() throws {
        #expect(try TorchvisionFixtures.folders() == Set(TorchvisionFixtures.cases))
    }

    @Test(arguments: TorchvisionFixtures.cases, [Backend.reference, .c, .swift])
    func matchesTorch(_ name: String, _ backend: Backend) throws {
        let path = TorchvisionFixtures.file(name, "model.cnn")
        let net = try network(try String(contentsOfFile: path, encoding: .utf8), path: path)
        let weightsPath = TorchvisionFixtures.file(name, "weights.safetensors")
        let file = try WeightFile.read(contentsOf: weightsPath)
        // The state_dict is unchanged: its batchnorm step counters (none in squeezenet and convnext) are not weights.
        let withoutBatchnorm = ["squeezenet", "convnext", "padmodes", "adaptivepool", "maxout", "deconv", "upsample"]
        #expect(file.tensors.keys.contains { $0.hasSuffix(".num_batches_tracked") } == !withoutBatchnorm.contains(name))
        let weights = try file.validated(for: net, path: weightsPath)
        let input = try NPY.read(contentsOf: TorchvisionFixtures.file(name, "input.npy"))
        let expected = try NPY.read(contentsOf: TorchvisionFixtures.file(name, "expected.npy"))

        let output: Tensor
        if backend == .reference {
            output = try ReferenceInterpreter(network: net, weights: weights).run(input)
        } else {
            output = try CompiledExecutor(backend: backend, network: net, weights: weights, cache: testCache).run(input)
        }
        compare(output, expected, "\(name)/\(backend) vs torch")
    }
}
