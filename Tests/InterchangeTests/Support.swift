import Foundation
import Testing
@testable import Interchange
// Re-exported so every file of this target sees the shared test support.
@_exported import TestSupport

/// Small models built in Swift with the encoder, for tests that need bytes of their own.
enum TinyModels {
    /// input [N, 1, 5, 5] → Conv 2 filters 3x3 pad 1 → Relu, opset 13.
    static func convRelu() -> ONNXModel {
        var model = ONNXModel()
        model.irVersion = 8
        model.opsets = [.init(domain: "", version: 13)]
        model.producerName = "tests"
        model.hasGraph = true
        var graph = ONNXGraph()
        graph.name = "tiny"
        graph.inputs = [.tensor("x", [.param("N"), .value(1), .value(5), .value(5)])]
        graph.outputs = [.tensor("y", [.param("N"), .value(2), .value(5), .value(5)])]
        graph.initializers = [.float("c.weight", dims: [2, 1, 3, 3], (0..<18).map { Float($0) / 10 - 0.8 }),
                              .float("c.bias", dims: [2], [0.5, -0.25])]
        graph.nodes = [.make("Conv", ["x", "c.weight", "c.bias"], ["h"], name: "/c/Conv",
                             [.ints("pads", [1, 1, 1, 1]), .ints("kernel_shape", [3, 3])]),
                       .make("Relu", ["h"], ["y"], name: "/relu/Relu")]
        model.graph = graph
        return model
    }
}

extension TinyModels {
    /// A model of `nodes` reading `x` of `dims` and making `y`, at `opset`.
    static func graph(_ dims: [ONNXValueInfo.Dimension], opset: Int64 = 13, _ nodes: [ONNXNode],
                      initializers: [ONNXTensor] = [], output: ONNXValueInfo = .tensor("y", nil)) -> ONNXModel {
        var model = ONNXModel()
        model.irVersion = 8
        model.opsets = [.init(domain: "", version: opset)]
        model.hasGraph = true
        model.graph.inputs = [.tensor("x", dims)]
        model.graph.outputs = [output]
        model.graph.nodes = nodes
        model.graph.initializers = initializers
        return model
    }

    /// One node `op` on x [1, 2, 6, 6] (or `dims`), named 'n'.
    static func one(_ op: String, _ attributes: [ONNXAttribute] = [], dims: [Int64] = [1, 2, 6, 6], opset: Int64 = 13,
                    inputs: [String] = [], initializers: [ONNXTensor] = []) -> ONNXModel {
        graph(dims.map { .value($0) }, opset: opset, [.make(op, ["x"] + inputs, ["y"], name: "n", attributes)], initializers: initializers)
    }

    /// The `.cnn` text the import makes of `model`, checked; or the import's error.
    static func imported(_ model: ONNXModel, inputShape: [Int]? = nil) -> Result<String, ImportError> {
        do {
            // Through the bytes, as a file is read.
            let decoded = try ONNXImport.decode(model.encoded())
            let network = try ONNXImport.translate(decoded, options: ImportOptions(inputShape: inputShape, networkName: "t",
                                                                                  modelName: "t.onnx", weightsName: "t.safetensors"))
            if let bug = ONNXImport.verify(network, path: "t.cnn", weightsPath: "t.safetensors").bug { return .failure(ImportError(bug)) }
            return .success(network.text)
        } catch {
            return .failure(error)
        }
    }

    /// The layer lines of an import (header, comments and blank lines dropped).
    static func layers(_ model: ONNXModel, inputShape: [Int]? = nil) -> [String] {
        guard case .success(let text) = imported(model, inputShape: inputShape) else { return [] }
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("network ") && !$0.hasPrefix("input ") }
            .map { String($0.prefix { $0 != "#" }).trimmingCharacters(in: .whitespaces) }
    }

    /// The reason the single node 'n' of `model` is refused, without the headline.
    static func refusal(_ model: ONNXModel) -> String? {
        guard case .failure(let error) = imported(model) else { return nil }
        let lines = error.message.split(separator: "\n")
        return lines.count == 2 ? String(lines[1]) : error.message
    }
}
