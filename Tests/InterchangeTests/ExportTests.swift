import Foundation
@testable import Interchange
import Parser
import Runtime
import ShapeCheck
import Testing

/// `cnnc export`'s models, read back with the project's own ONNX decoder: a valid graph (every
/// node's inputs defined before it, names unique), every weight under its key with its shape,
/// the layer names kept. tools/onnx/check_export.py runs the same models in ONNX Runtime
/// against cnnc (not here: CI has no ONNX Runtime).
@Suite struct ExportTests {
    static let everyOp = Paths.packageRoot.appendingPathComponent("Tests/Fixtures/export/every-op.cnn").path

    func model(_ name: String) throws -> CheckedNetwork {
        try checked(Paths.models.appendingPathComponent(name + ".cnn").path)
    }

    func checked(_ path: String) throws -> CheckedNetwork {
        let result = checkSource(SourceFile(path: path, bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path)))))
        return try #require(result.network, "\(path): \(result.diagnostics.map(\.message))")
    }

    /// Exports, encodes and decodes `network`, and checks what any ONNX reader needs.
    func roundTrip(_ network: CheckedNetwork, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> ONNXModel {
        let weights = WeightInit.weights(for: network, seed: 2).tensors
        let model = try ONNXExport.model(network, weights: weights, producerVersion: "test")
        let decoded = try ONNXModel.decode(model.encoded())
        let graph = decoded.graph
        #expect(decoded.defaultOpset == ONNXExport.opset, sourceLocation: sourceLocation)
        #expect(decoded.producerName == "cnnc", sourceLocation: sourceLocation)
        #expect(graph.inputs.map(\.name) == ["input"], sourceLocation: sourceLocation)
        #expect(graph.inputs.first?.dims == [.param("N")] + network.input.dimensions.map { .value(Int64($0)) },
                sourceLocation: sourceLocation)
        #expect(graph.outputs.map(\.name) == [network.layers.last!.name], sourceLocation: sourceLocation)

        // Every weight, under its key, with its values; and nothing twice.
        let initializers = Dictionary(graph.initializers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(initializers.count == graph.initializers.count, "an initializer name is used twice", sourceLocation: sourceLocation)
        for (key, tensor) in weights {
            guard let initializer = initializers[key] else {
                // A pointwise layer's weight is exported reshaped to a 1x1 convolution's.
                #expect(graph.initializers.contains { $0.name.hasPrefix(key + ".reshaped") }, "no initializer \(key)",
                        sourceLocation: sourceLocation)
                continue
            }
            #expect(initializer.dims == tensor.shape.map(Int64.init), "\(key)", sourceLocation: sourceLocation)
            #expect(try initializer.constant().floats == tensor.storage, "\(key)", sourceLocation: sourceLocation)
        }

        // In order: a node reads only the input, initializers and earlier nodes' outputs.
        var defined = Set(["input", ""]).union(initializers.keys)
        for node in graph.nodes {
            for input in node.inputs {
                #expect(defined.contains(input), "\(node.name) (\(node.opType)) reads \(input) before it is made",
                        sourceLocation: sourceLocation)
            }
            for output in node.outputs {
                #expect(!defined.contains(output), "\(output) is made twice", sourceLocation: sourceLocation)
                defined.insert(output)
            }
        }
        // Every layer's output is a tensor of the layer's name.
        for layer in network.layers {
            #expect(defined.contains(layer.name), "no tensor named \(layer.name)", sourceLocation: sourceLocation)
        }
        return decoded
    }

    @Test func lenet5IsTheChainOfOpsItSays() throws {
        let model = try roundTrip(try model("lenet5"))
        #expect(model.graph.nodes.map(\.opType) == ["Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Relu",
                                                     "Gemm", "Relu", "Gemm", "Softmax"])
        let gemm = try #require(model.graph.nodes.first { $0.opType == "Gemm" })
        #expect(gemm.attributes.first { $0.name == "transB" }?.i == 1)
        #expect(model.graph.nodes.last?.outputs == [try self.model("lenet5").layers.last!.name])
    }

    @Test(arguments: ["digits", "googlenet", "resnet18"])
    func seedNetworksExportWholeAndValid(_ name: String) throws {
        _ = try roundTrip(try model(name))
    }

    /// Every operation and activation, each as the ONNX ops that compute it.
    @Test func everyOperationExports() throws {
        let model = try roundTrip(try checked(Self.everyOp))
        let ops = Set(model.graph.nodes.map(\.opType))
        for op in ["Pad", "Conv", "Clip", "BatchNormalization", "HardSwish", "Sigmoid", "Mul", "GlobalAveragePool", "HardSigmoid",
                   "Slice", "Reshape", "Transpose", "LayerNormalization", "Gelu", "ReduceMax", "Resize", "ConvTranspose",
                   "AveragePool", "LeakyRelu", "MaxPool", "LRN", "Elu", "Tanh", "Concat", "Sum", "Add", "Relu", "GlobalMaxPool",
                   "Flatten", "Identity", "Gemm", "Softmax"] {
            #expect(ops.contains(op), "no \(op) node")
        }
        let pads = model.graph.nodes.filter { $0.opType == "Pad" }.compactMap { $0.attributes.first { $0.name == "mode" }?.text }
        #expect(pads == ["reflect", "wrap", "edge"])
    }

    /// import(export(net)) checks to the same table: each layer's output shape, the parameters
    /// and the MACs; and the imported network computes what the original does.
    @Test(arguments: ["lenet5", "digits", "resnet18", "googlenet"])
    func importOfExportChecksToTheSameTable(_ name: String) throws {
        let network = try model(name)
        let weights = WeightInit.weights(for: network, seed: 2).tensors
        let exported = try ONNXExport.model(network, weights: weights, producerVersion: "test")
        let imported = try ONNXImport.translate(try ONNXImport.decode(exported.encoded()),
                                                options: ImportOptions(inputShape: nil, networkName: name, modelName: "\(name).onnx",
                                                                       weightsName: "\(name).safetensors"))
        let verified = ONNXImport.verify(imported, path: "\(name).cnn", weightsPath: "\(name).safetensors")
        #expect(verified.bug == nil, "\(verified.bug ?? "")")
        let again = try #require(verified.result.network, "\(imported.text)")
        #expect(again.trainableParameters == network.trainableParameters)
        #expect(again.nonTrainableParameters == network.nonTrainableParameters)
        #expect(again.multiplyAccumulates == network.multiplyAccumulates)
        #expect(again.output == network.output)
        // The same shapes in the same order, once the layers ONNX needs no node for are left out.
        let shapes = { (net: CheckedNetwork) in net.layers.filter { $0.keyword != "dropout" && $0.keyword != "flatten" }.map(\.output) }
        #expect(shapes(again) == shapes(network), "\(imported.text)")

        if name == "lenet5" || name == "digits" {
            let input = Tensor(shape: [2] + network.input.dimensions,
                               storage: (0..<(2 * network.input.elementCount)).map { Float(($0 * 37) % 101) / 101 })
            let original = try ReferenceInterpreter(network: network, weights: weights).run(input)
            let back = try ReferenceInterpreter(network: again, weights: imported.weights).run(input)
            #expect(back.storage == original.storage, "the imported network computes something else")
        }
    }

    @Test func aPoolONNXCannotExpressIsRefusedWithTheReason() throws {
        let result = checkSource("input 10x10x2\np: adaptiveavgpool 3x3\n", path: "odd.cnn")
        let network = try #require(result.network)
        #expect(throws: ExportError("p: adaptiveavgpool 3x3 of 10x10 has windows of two sizes, which no ONNX pool has")) {
            try ONNXExport.model(network, weights: [:], producerVersion: "test")
        }
    }
}
