import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing

/// `deconv` (torch's ConvTranspose2d) and `upsample` (nn.Upsample) in every backend against the
/// reference interpreter; the fast C backend runs both on the reference kernels.
@Suite struct ResamplingOpsTests {
    /// A decoder: stride-2 deconv with output padding and a fused activation, grouped dilated
    /// deconv without bias, the three upsampling modes, and a conv after each so that fast C
    /// reorders around the reference kernels.
    static let text = """
        input 5x4x6
        d: deconv 8 3x3 stride 2 pad 1 outpad 1 relu
        c: conv 8 3x3 pad 1
        e: deconv 4 3x2 stride 1x2 pad 1x0 dilation 2 groups 2 nobias gelu
        u: upsample 2
        c2: conv 6 1x1 relu
        v: upsample 1x2 bilinear
        w: upsample 2 bilinear aligncorners
        x: deconv 3 2x2 stride 2 sigmoid
        y: maxpool 4x4
        """

    @Test(arguments: NaNSemanticsTests.backendNames)
    func backendsMatchTheReference(_ backend: String) throws {
        let net = try network(Self.text, path: "resample.cnn")
        let weights = WeightInit.weights(for: net, seed: 5).tensors
        var input = randomInput(for: net, batch: 2, seed: 9)
        input.storage[33] = .nan
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        #expect(reference.storage.contains(where: \.isNaN) && reference.storage.contains { !$0.isNaN })
        expectSameNaNs(try NaNSemanticsTests.run(backend, net, weights, input), reference, "resample/\(backend)")
    }

    /// Hand values: a 2x1 input through a 2x1-kernel deconv at stride 2 overlaps nothing, and
    /// at stride 1 the taps add; nearest repeats, bilinear interpolates.
    @Test func referenceOnKnownValues() throws {
        let weights = ["a.weight": Tensor(shape: [1, 1, 1, 2], storage: [10, 1]), "b.weight": Tensor(shape: [1, 1, 1, 2], storage: [10, 1])]
        let input = Tensor(shape: [1, 1, 1, 2], storage: [1, 2])
        let stride2 = try network("input 2x1x1\na: deconv 1 2x1 stride 2 nobias\n", path: "d.cnn")
        #expect(try ReferenceInterpreter(network: stride2, weights: weights).run(input).storage == [10, 1, 20, 2])
        let stride1 = try network("input 2x1x1\nb: deconv 1 2x1 nobias\n", path: "d.cnn")
        #expect(try ReferenceInterpreter(network: stride1, weights: weights).run(input).storage == [10, 21, 2])
        let cropped = try network("input 2x1x1\nb: deconv 1 2x1 stride 2 pad 1x0 nobias\n", path: "d.cnn")
        #expect(try ReferenceInterpreter(network: cropped, weights: weights).run(input).storage == [1, 20])

        let nearest = try network("input 2x1x1\nu: upsample 2x1\n", path: "u.cnn")
        #expect(try ReferenceInterpreter(network: nearest, weights: [:]).run(input).storage == [1, 1, 2, 2])
        // torch: F.interpolate(tensor([[[[1., 2.]]]]), scale_factor=(1, 2), mode='bilinear') → 1, 1.25, 1.75, 2.
        let bilinear = try network("input 2x1x1\nu: upsample 2x1 bilinear\n", path: "u.cnn")
        #expect(try ReferenceInterpreter(network: bilinear, weights: [:]).run(input).storage == [1, 1.25, 1.75, 2])
        // align_corners=True: 1, 4/3, 5/3, 2.
        let aligned = try network("input 2x1x1\nu: upsample 2x1 bilinear aligncorners\n", path: "u.cnn")
        let values = try ReferenceInterpreter(network: aligned, weights: [:]).run(input).storage
        #expect(values == [1, Float(4.0 / 3), Float(5.0 / 3), 2])
    }
}
