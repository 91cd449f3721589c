@testable import Codegen
import Foundation
import ShapeCheck
import Testing

/// Lowering and memory planning take time linear in the layers of a chain (20,000 relu layers
/// took 61.5 s to compile, 2,500 took 1.1 s): checked by counting the planner's work, and by
/// comparing the planner with the quadratic one it replaced.
@Suite struct LinearLoweringTests {
    /// The placement `MemoryPlanner.place` made before it indexed values by step: every placed
    /// value whose lifetime overlaps, sorted by offset.
    static func quadraticPlace(sizes: [Int], lifetimes: [ClosedRange<Int>?]) -> (offsets: [Int?], arena: Int, unshared: Int) {
        let order = sizes.indices.filter { lifetimes[$0] != nil }.sorted { a, b in
            sizes[a] != sizes[b] ? sizes[a] > sizes[b] : lifetimes[a]!.lowerBound < lifetimes[b]!.lowerBound
        }
        var offsets = [Int?](repeating: nil, count: sizes.count)
        var placed: [(offset: Int, size: Int, lifetime: ClosedRange<Int>)] = []
        var arena = 0, unshared = 0
        for value in order {
            let size = (sizes[value] + MemoryPlan.alignment - 1) / MemoryPlan.alignment * MemoryPlan.alignment
            let lifetime = lifetimes[value]!
            unshared += size
            var offset = 0
            for other in placed.filter({ $0.lifetime.overlaps(lifetime) }).sorted(by: { $0.offset < $1.offset }) {
                if offset + size <= other.offset { break }
                offset = max(offset, other.offset + other.size)
            }
            offsets[value] = offset
            placed.append((offset, size, lifetime))
            arena = max(arena, offset + size)
        }
        return (offsets, arena, unshared)
    }

    @Test func placementIsTheQuadraticOnesOnRandomLifetimes() {
        var generator = XorShift(state: 0x2545_F491_4F6C_DD1D)
        func next(_ bound: Int) -> Int { generator.below(bound) }
        for _ in 0..<200 {
            let count = 1 + next(40), steps = 1 + next(30)
            let sizes = (0..<count).map { _ in [1, 16, 17, 64, 100, 1000][next(6)] }
            let lifetimes: [ClosedRange<Int>?] = (0..<count).map { _ in
                if next(8) == 0 { return nil }
                let start = next(steps)
                return start...min(steps - 1, start + next(6))
            }
            let fast = MemoryPlanner.place(sizes: sizes, lifetimes: lifetimes)
            let slow = Self.quadraticPlace(sizes: sizes, lifetimes: lifetimes)
            #expect(fast.offsets == slow.offsets && fast.arena == slow.arena && fast.unshared == slow.unshared,
                    "sizes \(sizes), lifetimes \(lifetimes)")
        }
    }

    /// A chain of n values, each alive from its step to the next: the planner looks at a few
    /// values per step, so its work grows as n (it was n²/2 comparisons).
    @Test func placementWorkIsLinearInAChain() {
        func work(_ n: Int) -> Int {
            let lifetimes: [ClosedRange<Int>?] = (0..<n).map { $0...($0 + 1) }
            var work = 0
            let plan = MemoryPlanner.place(sizes: [Int](repeating: 1024, count: n), lifetimes: lifetimes, work: &work)
            #expect(plan.arena == 2 * 1024)
            return work
        }
        let small = work(5_000), large = work(20_000)
        #expect(large <= 6 * 20_000, "\(large) for 20,000 values")
        #expect(large <= 4 * small + 100, "\(small) for 5,000 values, \(large) for 20,000")
    }

    /// 2,000 relu layers in a row (nothing to fuse them into): lowering keeps every one and
    /// plans two buffers; the fast C shares one constant set for their reference kernel.
    @Test func aLongChainOfActivationsLowers() throws {
        let net = try network("input 4x4x16\n" + String(repeating: "relu\n", count: 2_000))
        let program = lowerForC(net, options: KernelOptions(target: .avx2))
        #expect(program.steps.count == 2_000)
        #expect(program.memory?.arenaElements == 2 * 256)
        let c = try emitC(program).implementation.contents
        #expect(c.components(separatedBy: "static const k_activation_shape ").count - 1 == 1)
    }

    /// Fusion still reaches through a chain: each fc absorbs the activation after it, and the
    /// activation after that stays a step of its own.
    @Test func fusionInOnePassMatchesTheStepwiseRule() throws {
        let net = try network("""
            input 16
            a: fc 16
            ra: relu
            rb: tanh
            b: fc 16
            bn: batchnorm
            rc: relu
            c: fc 16
            """)
        let program = lower(net)
        #expect(program.steps.map(\.name) == ["a+ra", "rb", "b+bn+rc", "c"])
    }
}
