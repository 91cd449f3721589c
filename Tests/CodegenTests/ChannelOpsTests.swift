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

    /// Gathers of gathers (compose-gathers): a shuffle read only by the next unit's two halves,
    /// a shuffle also read by a conv (it stays), and a slice of a shuffle of a shuffle.
    static let chains = """
        input 6x5x24
        x: conv 24 3x3 pad 1 relu
        s: shuffle 2
        a: slice 0 12
        b: slice 12 24 from s
        c: conv 12 1x1 from b relu
        cat: concat a c
        t: shuffle 3
        u: shuffle 2
        v: slice 3 21
        w: conv 18 1x1 from t
        y: concat v w
        """

    @Test(arguments: NaNSemanticsTests.backendNames)
    func composedGathersMatchTheReference(_ backend: String) throws {
        let net = try network(Self.chains, path: "chains.cnn")
        let weights = WeightInit.weights(for: net, seed: 6).tensors
        let input = randomInput(for: net, batch: 2, seed: 9)
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        expectSameNaNs(try NaNSemanticsTests.run(backend, net, weights, input), reference, "chains/\(backend)")
    }

    @Test func gathersOfGathersCompose() throws {
        let program = lower(try network(Self.chains, path: "chains.cnn"))
        let gathers = program.steps.filter { if case .gatherChannels = $0.kernel { return true }; return false }
        // s is read only by a and b, so it is gone; t is read by w too, so it stays; u is folded into v.
        #expect(gathers.map(\.layers) == [["s", "a"], ["s", "b"], ["t"], ["t", "u", "v"]])
        guard case .gatherChannels(let first)? = gathers.first?.kernel, case .gatherChannels(let last)? = gathers.last?.kernel
        else { return }
        // shuffle 2 of 24 puts channel (j % 2)·12 + j / 2 at j; its first half is the even ones of each half.
        #expect(first.sources == (0..<12).map { ($0 % 2) * 12 + $0 / 2 })
        let t = (0..<24).map { ($0 % 3) * 8 + $0 / 3 }, u = (0..<24).map { ($0 % 2) * 12 + $0 / 2 }
        #expect(last.sources == (3..<21).map { t[u[$0]] } && last.inputChannels == 24)
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
