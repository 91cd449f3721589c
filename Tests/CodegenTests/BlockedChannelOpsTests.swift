import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing

/// The blocked `mul` (squeeze-excitation's broadcast scale and same-shape products) and the
/// blocked channel gather (slice, shuffle, a concat of 58 + 58) on channel counts that are not
/// multiples of 16 (3, 17, 58, 116, 20), at width 1, height 1 and wider, against the reference
/// interpreter; and their plans: blocked, with no reorder on either side.
@Suite struct BlockedChannelOpsTests {
    /// Two squeeze-excitations (17 and 58 channels), then a three-way product of one tensor.
    static func excitation(_ input: String) -> String {
        """
        input \(input)
        x: conv 17 3x3 pad 1 relu
        p: globalavgpool
        f1: conv 4 1x1 relu
        f2: conv 17 1x1 hardsigmoid
        m: mul f2 x silu
        y: conv 58 1x1 relu
        q: globalavgpool
        g1: conv 8 1x1 relu
        g2: conv 58 1x1 sigmoid
        m2: mul y g2 hardswish
        m3: mul m2 m2 m2
        out: conv 8 1x1
        """
    }

    /// A shufflenet unit (halves of 116, a branch, concat 58 + 58, shuffle 2), a slice of 3
    /// channels across a block boundary (of the shuffle, so one gather `s+t` of the concat), a
    /// concat of 3 + 17 with an activation, shuffle 4.
    static func shuffle(_ input: String) -> String {
        """
        input \(input)
        x: conv 116 3x3 pad 1 relu
        l: slice 0 58
        r: slice 58 116 from x
        b: conv 58 1x1 relu from r
        cat: concat l b
        s: shuffle 2
        t: slice 14 17
        u: conv 17 1x1 from s
        c2: concat t u relu6
        s3: shuffle 4
        out: conv 8 1x1
        """
    }

    static let cases = NamedCases<(text: String, steps: [String])>([
        ("excitation-1x7", (excitation("1x7x3"), ["m", "m2", "m3"])),
        ("excitation-5x1", (excitation("5x1x3"), ["m", "m2", "m3"])),
        ("excitation-6x5", (excitation("6x5x3"), ["m", "m2", "m3"])),
        ("shuffle-1x5", (shuffle("1x5x3"), ["l", "r", "cat", "s", "s+t", "c2", "s3"])),
        ("shuffle-3x1", (shuffle("3x1x3"), ["l", "r", "cat", "s", "s+t", "c2", "s3"])),
        ("shuffle-7x6", (shuffle("7x6x3"), ["l", "r", "cat", "s", "s+t", "c2", "s3"])),
    ])
    // The Swift kernels run concat, mul and the gathers with the reference kernel, between reorders.
    static let backendNames = ["c-fast", "c-fast/2", "c-other-target", "c-fast-unvectorised", "swift"]

    @Test(arguments: cases.names, backendNames)
    func backendsMatchTheReference(_ name: String, _ backend: String) throws {
        let net = try network(Self.cases[name].text, path: "\(name).cnn")
        let weights = WeightInit.weights(for: net, seed: 6).tensors
        var input = randomInput(for: net, batch: 3, seed: 9)
        input.storage[net.input.elementCount + 2] = .nan  // image 1 only
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        #expect(reference.storage.contains(where: \.isNaN) && reference.storage.contains { !$0.isNaN })
        expectSameNaNs(try NaNSemanticsTests.run(backend, net, weights, input), reference, "\(name)/\(backend)")
    }

    @Test(arguments: cases.names)
    func planKeepsThemBlockedWithoutReorders(_ name: String) throws {
        let net = try network(Self.cases[name].text, path: "\(name).cnn")
        for target in [VectorTarget.avx2, .avx512] {
            let plan = try #require(lowerForC(net, options: KernelOptions(target: target)).kernelPlan)
            let steps = plan.steps.filter { Self.cases[name].steps.contains($0.name) }
            #expect(steps.map(\.name) == Self.cases[name].steps)
            #expect(steps.allSatisfy { $0.kernelName == "blocked" }, "\(steps.map { "\($0.name): \($0.kernelName)" })")
            let touched = Set(steps.flatMap { $0.inputs + [$0.output] })
            let reorders = plan.steps.filter { ["to-planar", "to-blocked"].contains($0.kernelName) }
            let around = reorders.filter { !touched.isDisjoint(with: $0.inputs + [$0.output]) }
            #expect(around.isEmpty, "\(target): \(around.map(\.name))")
        }
    }
}
