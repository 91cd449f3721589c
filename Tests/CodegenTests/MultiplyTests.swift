import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing

/// `mul`: squeeze-excitation's channel-wise scale (a 1x1xC volume broadcast over WxHxC) and
/// same-shape products, in every backend against the reference interpreter. The fast C backend
/// runs it blocked on volumes (BlockedChannelOpsTests), on the reference kernel on vectors.
@Suite struct MultiplyTests {
    /// torchvision's SqueezeExcitation (mobilenet_v3's, with hardsigmoid), then a three-way
    /// product with the scale first and a trailing activation, and one of two vectors.
    static let text = """
        input 8x6x16
        x: conv 16 3x3 pad 1 relu
        se.avgpool: globalavgpool
        se.fc1: conv 4 1x1 relu
        se.fc2: conv 16 1x1 hardsigmoid
        scaled: mul x se.fc2
        three: mul se.fc2 scaled x silu
        g: globalmaxpool from three
        v: flatten
        h: fc 16 tanh
        w: fc 16 from v
        out: mul h w
        """

    @Test(arguments: NaNSemanticsTests.backendNames)
    func backendsMatchTheReference(_ backend: String) throws {
        let net = try network(Self.text, path: "se.cnn")
        let weights = WeightInit.weights(for: net, seed: 4).tensors
        var input = randomInput(for: net, batch: 3, seed: 8)
        input.storage[5] = .nan  // image 0, channel 0: its NaN reaches every pixel through the pooled scale
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        #expect(reference.storage.contains(where: \.isNaN) && reference.storage.contains { !$0.isNaN })
        expectSameNaNs(try NaNSemanticsTests.run(backend, net, weights, input), reference, "mul/\(backend)")
    }

    /// The blocked kernel reads the scale whatever the operands' order, fused activations
    /// apply, and a mul of vectors stays on the reference kernel.
    @Test func planRunsBroadcastInputsBlocked() throws {
        let net = try network(Self.text, path: "se.cnn")
        let listing = try #require(lowerForC(net, options: KernelOptions(target: .avx2)).kernelPlan?.listing)
        #expect(listing.contains("p5 blocked 8x6x16 = blocked(p1, p4)  ; scaled"), "\(listing)")
        #expect(listing.contains("p6 blocked 8x6x16 = blocked(p4, p5, p1)  ; three"), "\(listing)")
        #expect(listing.contains("reference(p8, p9)  ; out"), "\(listing)")
        #expect(listing.contains("activation silu"))
    }
}
