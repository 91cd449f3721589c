import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing

/// `slice` and `shuffle` (shufflenet_v2's chunk and channel_shuffle) in every backend against
/// the reference interpreter; the fast C backend runs them blocked (BlockedChannelOpsTests).
@Suite struct ChannelOpsTests {
    /// A shufflenet unit at stride 1 (halves, one branch, concat, shuffle), a three-group
    /// shuffle with a fused-away relu before it, and a slice of a vector.
    static let text = """
        input 7x5x16
        x: conv 16 3x3 pad 1 relu
        left: slice 0 8
        right: slice 8 16 from x
        b: conv 8 1x1 from right relu
        cat: concat left b
        s: shuffle 2
        t: conv 24 1x1 relu
        u: shuffle 3
        g: globalavgpool
        v: flatten
        w: slice 5 17
        """

    @Test(arguments: NaNSemanticsTests.backendNames)
    func backendsMatchTheReference(_ backend: String) throws {
        let net = try network(Self.text, path: "shuffle.cnn")
        let weights = WeightInit.weights(for: net, seed: 4).tensors
        var input = randomInput(for: net, batch: 3, seed: 8)
        input.storage[40] = .nan
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        #expect(reference.storage.contains(where: \.isNaN) && reference.storage.contains { !$0.isNaN })
        expectSameNaNs(try NaNSemanticsTests.run(backend, net, weights, input), reference, "channels/\(backend)")
    }

    /// The permutation itself, on known values: channel c of the input holds c.
    @Test func referenceShufflesAsTorch() throws {
        let net = try network("input 1x1x6\ns: shuffle 2\nt: shuffle 3 from s\nu: slice 1 4\n", path: "p.cnn")
        let out = try ReferenceInterpreter(network: net, weights: [:]).run(Tensor(shape: [1, 6, 1, 1], storage: [0, 1, 2, 3, 4, 5]))
        // torch: x.view(1, 2, 3).transpose(1, 2) → 0 3 1 4 2 5; 3 groups of 2 undo it → 0 1 2 3 4 5.
        #expect(out.storage == [1, 2, 3])
        let three = try network("input 1x1x6\ns: shuffle 3\n", path: "p.cnn")
        #expect(try ReferenceInterpreter(network: three, weights: [:]).run(Tensor(shape: [1, 6, 1, 1], storage: [0, 1, 2, 3, 4, 5])).storage
                == [0, 2, 4, 1, 3, 5])
        let first = try network("input 1x1x6\ns: shuffle 2\n", path: "p.cnn")
        #expect(try ReferenceInterpreter(network: first, weights: [:]).run(Tensor(shape: [1, 6, 1, 1], storage: [0, 1, 2, 3, 4, 5])).storage
                == [0, 3, 1, 4, 2, 5])
    }
}
