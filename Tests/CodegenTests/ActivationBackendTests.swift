import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing

/// relu6, hardswish, hardsigmoid, silu, sigmoid, gelu and gelu tanh in every backend against the
/// reference (itself held to torch by TorchActivationTests), on torch's grid of NaN, ±inf,
/// denormal and huge inputs: as layers and trailing, on planar values (the reference kernels)
/// and blocked ones (fast C's blocked activation and add, and the conv epilogue).
@Suite struct ActivationBackendTests {
    static let activations = ["relu6", "hardswish", "hardsigmoid", "silu", "sigmoid", "gelu", "gelu tanh"]
    static let perActivation = ["d", "s", "b", "a", "e", "c"]

    /// `e` and each `e_i` are the identity (1x1, weight I, no bias), so the grid reaches the
    /// blocked layers unchanged (0·inf makes a pixel's other channels NaN); each `d_i` is the
    /// identity too. The 3x3 convs read `m`, the input squashed into [0, 1] (NaN kept).
    static let text: String = {
        var lines = ["input 8x4x16", "e: conv 16 1x1 nobias", "m: hardsigmoid from input"]
        var outputs: [String] = []
        for (i, activation) in activations.enumerated() {
            lines += ["d\(i): depthwise 1x1 nobias \(activation) from input",
                      "s\(i): \(activation) from input",
                      "b\(i): \(activation) from e",
                      "a\(i): add e e \(activation)",
                      "e\(i): conv 16 1x1 nobias \(activation) from input",
                      "c\(i): conv 16 3x3 pad 1 \(activation) from m"]
            outputs += perActivation.map { "\($0)\(i)" }
        }
        return (lines + ["out: concat " + outputs.joined(separator: " ")]).joined(separator: "\n") + "\n"
    }()

    /// One grid value per pixel (image i / 32, pixel i % 32, channel i % 16), so that no other
    /// channel of its pixel holds a NaN or inf to spoil it in the identity convs.
    static func input(_ net: CheckedNetwork) throws -> Tensor {
        var input = randomInput(for: net, batch: 4, seed: 5)
        input.storage = input.storage.map { $0 * 8 }
        for (i, x) in try TorchActivations.inputs().enumerated() {
            input.storage[(i / 32 * 16 + i % 16) * 32 + i % 32] = x
        }
        return input
    }

    @Test(arguments: NaNSemanticsTests.backendNames)
    func backendsMatchTheReference(_ backend: String) throws {
        let net = try network(Self.text, path: "activations.cnn")
        var weights = WeightInit.weights(for: net, seed: 3).tensors
        let identity = (0..<256).map { Float($0 / 16 == $0 % 16 ? 1 : 0) }
        weights["e.weight"]!.storage = identity
        for i in Self.activations.indices {
            weights["d\(i).weight"]!.storage = [Float](repeating: 1, count: 16)
            weights["e\(i).weight"]!.storage = identity
        }
        let input = try Self.input(net)
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        #expect(reference.storage.contains(where: \.isNaN) && reference.storage.contains(.infinity))
        let output = try NaNSemanticsTests.run(backend, net, weights, input)
        try #require(output.shape == reference.shape)
        let wrong = reference.storage.indices.filter { i in
            let (a, b) = (output.storage[i], reference.storage[i])
            if b.isNaN || a.isNaN { return a.isNaN != b.isNaN }
            return !(a == b || abs(a - b) <= 1e-5 * max(1, abs(b)))
        }
        // Channel c of the concat is layer c / 16 of d0 s0 b0 a0 e0 c0 d1 …; a plane is 32 values.
        let channels = 16 * Self.perActivation.count * Self.activations.count
        let describe = { (i: Int) -> String in
            let layer = (i / 32 % channels) / 16
            let name = "\(Self.perActivation[layer % Self.perActivation.count])\(layer / Self.perActivation.count)"
            return "\(name) [\(i)]: \(output.storage[i]), reference \(reference.storage[i])"
        }
        #expect(wrong.isEmpty, "\(backend): \(wrong.count) wrong, first \(wrong.prefix(6).map(describe))")
    }
}
