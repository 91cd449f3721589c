import Runtime
import ShapeCheck
import Testing

/// A torchvision state_dict saved as safetensors carries `bn.num_batches_tracked` (an I64
/// step counter) beside each batchnorm's weights; it loads as it is and is not a weight.
@Suite struct TorchStateDictTests {
    static let source = "network t\ninput 4x4x1\nc: conv 2 3x3 nobias\nbn: batchnorm\nout: fc 2\n"

    func file(counterKey: String, dtype: String = "I64") -> [UInt8] {
        let counter: [UInt8] = [7, 0, 0, 0, 0, 0, 0, 0]
        let header = "{\"\(counterKey)\":{\"dtype\":\"\(dtype)\",\"shape\":[],\"data_offsets\":[0,8]}}"
        return safetensors(header, counter)
    }

    @Test func batchnormStepCounterIsAccepted() throws {
        let network = try #require(checkSource(Self.source).network)
        var weights = try WeightFile.parse(file(counterKey: "bn.num_batches_tracked"), path: "w.safetensors")
        for (key, tensor) in network.parameterTensors { weights.tensors[key] = Tensor(shape: tensor.shape, repeating: 1) }
        let validated = try weights.validated(for: network, path: "w.safetensors")
        #expect(validated["bn.num_batches_tracked"] == nil)
        #expect(validated.count == network.parameterTensors.count)
    }

    @Test func counterOfALayerThatIsNoBatchnormIsUnexpected() throws {
        let network = try #require(checkSource(Self.source).network)
        var weights = try WeightFile.parse(file(counterKey: "c.num_batches_tracked"), path: "w.safetensors")
        for (key, tensor) in network.parameterTensors { weights.tensors[key] = Tensor(shape: tensor.shape, repeating: 1) }
        expectRuntimeError("w.safetensors: unexpected tensor 'c.num_batches_tracked' with shape [] (the network 't' has no such parameter)") {
            _ = try weights.validated(for: network, path: "w.safetensors")
        }
    }

    @Test func integerTensorsOtherwiseStayUnsupported() {
        expectRuntimeError("w.safetensors: tensor 'bn.weight' has dtype I64; supported dtypes are F32, F16, BF16 and F64") {
            _ = try WeightFile.parse(file(counterKey: "bn.weight"), path: "w.safetensors")
        }
    }

    /// regnet's keys load unrenamed: a layer named with `-` is looked up under its own name.
    @Test func regnetKeysWithDashesLoadAsTheyAre() throws {
        let network = try #require(checkSource("network r\ninput 4x4x3\ntrunk_output.block1.block1-0.proj.0: conv 2 1x1 nobias\n"
                                               + "trunk_output.block1.block1-0.proj.1: batchnorm\n").network)
        let file = WeightInit.weights(for: network, seed: 1)
        #expect(file.tensors.keys.sorted() == ["trunk_output.block1.block1-0.proj.0.weight", "trunk_output.block1.block1-0.proj.1.bias",
                                               "trunk_output.block1.block1-0.proj.1.running_mean", "trunk_output.block1.block1-0.proj.1.running_var",
                                               "trunk_output.block1.block1-0.proj.1.weight"])
        let bytes = file.serialized()
        #expect(try WeightFile.parse(bytes, path: "w.safetensors").validated(for: network, path: "w.safetensors").count == 5)
        var renamed = file
        renamed.tensors["trunk_output.block1.block1_0.proj.0.weight"] = renamed.tensors.removeValue(forKey: "trunk_output.block1.block1-0.proj.0.weight")
        expectRuntimeError("""
            w.safetensors: missing tensor 'trunk_output.block1.block1-0.proj.0.weight' (expected shape [2, 3, 1, 1])
            w.safetensors: unexpected tensor 'trunk_output.block1.block1_0.proj.0.weight' with shape [2, 3, 1, 1] (the network 'r' has no such parameter)
            """, multiLine: true) { _ = try renamed.validated(for: network, path: "w.safetensors") }
    }
}
