import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing

/// `layernorm`, `layerscale` and `pointwise` (convnext's CNBlock) in every backend against the
/// reference interpreter. pointwise and layerscale lower to 1x1 convolutions (dense and
/// depthwise), so the fast C backend runs its own kernels on them; layernorm runs on the
/// reference kernel.
@Suite struct ConvNeXtOpsTests {
    static let text = """
        input 9x7x12
        x: conv 12 3x3 pad 1
        dw: depthwise 7x7 pad 3
        ln: layernorm eps 1e-6
        up: pointwise 48 gelu
        down: pointwise 12 nobias
        ls: layerscale
        sum: add ls x
        p: pointwise 5 relu from sum
        q: layerscale
        g: globalavgpool
        v: flatten
        n: layernorm
        """

    static func weights(_ net: CheckedNetwork) -> [String: Tensor] {
        var weights = WeightInit.weights(for: net, seed: 4).tensors
        var state: UInt64 = 99
        for key in weights.keys.sorted() where key.hasPrefix("ln.") || key.hasPrefix("n.") || key.hasSuffix(".layer_scale") {
            weights[key]!.storage = weights[key]!.storage.map { _ in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Float(state >> 40) / Float(1 << 24) * 2 - 0.5
            }
        }
        return weights
    }

    @Test(arguments: NaNSemanticsTests.backendNames)
    func backendsMatchTheReference(_ backend: String) throws {
        let net = try network(Self.text, path: "cnblock.cnn")
        let weights = Self.weights(net)
        var input = randomInput(for: net, batch: 3, seed: 8)
        input.storage[9 * 7 * 12 + 20] = .nan  // image 1: a NaN spreads through the depthwise window and each layernorm
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        #expect(reference.storage.contains(where: \.isNaN) && reference.storage.contains { !$0.isNaN })
        expectSameNaNs(try NaNSemanticsTests.run(backend, net, weights, input), reference, "cnblock/\(backend)")
    }

    /// Hand values: layernorm of (1, 2, 3, 6) is (x − 3)/sqrt(3.5 + eps); pointwise reads [out, in].
    @Test func referenceOnKnownValues() throws {
        let net = try network("input 1x1x4\nn: layernorm eps 0.5\ns: layerscale\np: pointwise 2\n", path: "k.cnn")
        let weights: [String: Tensor] = [
            "n.weight": Tensor(shape: [4], storage: [1, 2, 1, 1]), "n.bias": Tensor(shape: [4], storage: [0, 0, 0, 10]),
            "s.layer_scale": Tensor(shape: [4, 1, 1], storage: [2, 1, 1, -1]),
            "p.weight": Tensor(shape: [2, 4], storage: [1, 0, 0, 0, 0, 0, 0, 1]), "p.bias": Tensor(shape: [2], storage: [0.5, 0]),
        ]
        let out = try ReferenceInterpreter(network: net, weights: weights).run(Tensor(shape: [1, 4, 1, 1], storage: [1, 2, 3, 6]))
        // (x − 3)/2 = (−1, −0.5, 0, 1.5); ·γ + β = (−1, −1, 0, 11.5); ·scale = (−2, −1, 0, −11.5).
        #expect(out.storage == [-1.5, -11.5])
    }

    /// pointwise is a 1x1 convolution on the fast C backend and layerscale a depthwise one.
    @Test func pointwiseAndLayerScaleLowerToConvolutions() throws {
        let net = try network(Self.text, path: "cnblock.cnn")
        let program = lower(net)
        let kinds = program.steps.map { "\($0.name):\($0.kernel.mnemonic)" }
        #expect(kinds.contains("up:conv") && kinds.contains("ls:conv") && kinds.contains("ln:layernorm"), "\(kinds)")
        guard case .convolution(let scale) = try #require(program.steps.first { $0.name == "ls" }).kernel else {
            Issue.record("ls is not a convolution"); return
        }
        #expect(scale.groups == 12 && scale.bias == nil && scale.weight.count == 12)
    }
}
