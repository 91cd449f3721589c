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
