import Codegen
import Foundation
import ShapeCheck
import Testing

@Suite struct MemoryPlanTests {
    /// Two values whose lifetimes overlap never share a float.
    func expectValid(_ program: LoweredProgram, _ label: String) {
        guard let plan = program.memory else { Issue.record("\(label): no plan"); return }
        let arena = program.values.indices.filter { plan.offsets[$0] != nil }
        for a in arena {
            let start = plan.offsets[a]!
            #expect(start % MemoryPlan.alignment == 0)
            #expect(start + program.values[a].elementCount <= plan.arenaElements, "\(label): v\(a) past the arena")
            for b in arena where b > a {
                guard plan.lifetimes[a]!.overlaps(plan.lifetimes[b]!) else { continue }
                let (sa, sb) = (plan.offsets[a]!, plan.offsets[b]!)
                let disjoint = sa + program.values[a].elementCount <= sb || sb + program.values[b].elementCount <= sa
                #expect(disjoint, "\(label): v\(a) and v\(b) are alive together but overlap")
            }
        }
    }

    @Test func residualInputStaysAliveUntilItsAdd() throws {
        let net = try network("""
            input 8x8x4
            stem: conv 4 3x3 pad 1 relu
            b1: conv 4 3x3 pad 1 relu
            b2: conv 4 3x3 pad 1
            res: add b2 stem relu
            out: conv 2 1x1
            """)
        let program = lower(net)
        let plan = try #require(program.memory)
        let stem = try #require(program.steps.firstIndex { $0.name == "stem" })
        let add = try #require(program.steps.firstIndex { $0.name == "res" })
        let value = program.steps[stem].output
        #expect(plan.lifetimes[value] == stem...add)
        // b1 and b2 live while stem does, so neither may take its space.
        for name in ["b1", "b2"] {
            let other = program.steps.first { $0.name == name }!.output
            let (a, b) = (plan.offsets[value]!, plan.offsets[other]!)
            #expect(a + 256 <= b || b + 256 <= a, "\(name) overlaps the skip connection")
        }
        expectValid(program, "residual")
    }

    @Test func aChainReusesTwoBuffers() throws {
        let net = try network("""
            input 16x16x8
            a: conv 8 3x3 pad 1
            b: conv 8 3x3 pad 1
            c: conv 8 3x3 pad 1
            d: conv 8 3x3 pad 1
            e: conv 8 3x3 pad 1
            """)
        let plan = try #require(lower(net).memory)
        // a..d are intermediate (e writes the caller's output): two live at a time.
        #expect(plan.arenaElements == 2 * 16 * 16 * 8)
        #expect(plan.unsharedElements == 4 * 16 * 16 * 8)
    }

    @Test func everyModelHasAValidPlan() throws {
        for name in Models.all {
            expectValid(lower(try model(name)), name)
        }
    }

    @Test func vgg16ArenaIsWellUnderTheNaiveSum() throws {
        let program = lower(try model("vgg16"))
        let plan = try #require(program.memory)
        let mb = { (bytes: Int) in String(format: "%.1f MB", Double(bytes) / 1_000_000) }
        print("VGG-16, batch 1: activation arena \(plan.arenaBytes(batch: 1)) bytes (\(mb(plan.arenaBytes(batch: 1)))), "
            + "naive sum of layer outputs \(plan.naiveBytes(batch: 1)) bytes (\(mb(plan.naiveBytes(batch: 1)))), "
            + "weights \(plan.weightBytes) bytes (\(mb(plan.weightBytes)))")
        // The two largest live at once: conv1_1's and conv1_2's 224x224x64 outputs.
        #expect(plan.arenaElements <= 2 * 224 * 224 * 64 + 2 * MemoryPlan.alignment)
        #expect(Double(plan.arenaElements) < 0.5 * Double(plan.naiveElements))
        #expect(plan.arenaBytes(batch: 4) == 4 * plan.arenaBytes(batch: 1))
    }
}
