import Foundation
import Runtime
import ShapeCheck
import Testing
import TestSupport

/// relu6, hardswish, hardsigmoid, silu, gelu and gelu tanh in the reference interpreter, held
/// to PyTorch's float32 values (Tests/Fixtures/activations/torch.txt, tools/activation_fixture.py).
@Suite struct TorchActivationTests {
    static func reference(_ activation: String, _ x: [Float]) throws -> [Float] {
        let result = checkSource("input \(x.count)\n\(activation)\n", path: "act.cnn")
        let net = try #require(result.network, "\(result.diagnostics.map(\.message))")
        return try ReferenceInterpreter(network: net, weights: [:]).run(Tensor(shape: [1, x.count], storage: x)).storage
    }

    @Test func fixtureHasEveryActivation() throws {
        let names = try TorchActivations.samples().map(\.activation)
        #expect(names == ["relu6", "hardswish", "hardsigmoid", "silu", "gelu", "gelu tanh"])
        #expect(try TorchActivations.samples().allSatisfy { $0.samples.count == 124 })
    }

    @Test func referenceMatchesTorch() throws {
        for (activation, samples) in try TorchActivations.samples() {
            let out = try Self.reference(activation, samples.map(\.input))
            let wrong = samples.indices.filter { !TorchActivations.agrees(out[$0], samples[$0].output) }
            #expect(wrong.isEmpty, "\(activation): \(wrong.count) wrong, first \(wrong.prefix(5).map { "f(\(samples[$0].input)) = \(out[$0]), torch \(samples[$0].output)" })")
        }
    }

    /// PyTorch's NaN and infinities, spelled out: the clamps keep a NaN, and −inf·0 in
    /// hardswish, silu and gelu makes NaN at −inf. The fixture says the same.
    @Test(arguments: [
        ("relu6", Float.nan, Float(0), Float(6)),
        ("hardswish", .nan, .nan, .infinity),
        ("hardsigmoid", .nan, 0, 1),
        ("silu", .nan, .nan, .infinity),
        ("gelu", .nan, .nan, .infinity),
        ("gelu tanh", .nan, .nan, .infinity),
    ])
    func nanAndInfinities(_ activation: String, _ atNaN: Float, _ atMinusInf: Float, _ atInf: Float) throws {
        let out = try Self.reference(activation, [.nan, -.infinity, .infinity])
        let torch = try #require(try TorchActivations.samples().first { $0.activation == activation }).samples
        for (i, expected) in [atNaN, atMinusInf, atInf].enumerated() {
            #expect(expected.isNaN ? out[i].isNaN : out[i] == expected, "\(activation)(\([Float.nan, -.infinity, .infinity][i])) = \(out[i])")
            let fixture = try #require(torch.first { $0.input.isNaN ? (i == 0) : $0.input == [Float.nan, -.infinity, .infinity][i] })
            #expect(expected.isNaN ? fixture.output.isNaN : fixture.output == expected, "torch says \(fixture.output)")
        }
    }
}
