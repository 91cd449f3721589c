import Codegen
import Runtime
import ShapeCheck
import Testing

/// The schedule the kernel planner writes into the plan (KernelSchedule.swift) is the one the
/// emitter prints: the plan names the loop variant, edge columns and thread threshold the C has.
@Suite struct KernelScheduleTests {
    static func directs(_ text: String, _ target: VectorTarget) throws -> (KernelPlan, [DirectConvolution]) {
        let plan = try #require(lowerForC(try network(text), options: KernelOptions(target: target)).kernelPlan)
        let directs = plan.steps.compactMap { step -> DirectConvolution? in
            if case .directConvolution(let d) = step.kernel { return d }
            return nil
        }
        return (plan, directs)
    }

    /// A 3x3 output fits two whole rows in AVX2's 6 pixels, but its 64 input channels are
    /// sliced: whole-row strips need the whole reduction, so the plan says row strips (as the
    /// emitter prints) rather than whole rows.
    @Test func wholeRowsWithASlicedReductionAreRowStrips() throws {
        let text = """
            input 5x5x64
            c1: conv 64 3x3 relu
            """
        let (plan, directs) = try Self.directs(text, .avx2)
        let d = try #require(directs.first)
        #expect(d.variant == .rowStrips && d.rows == 1 && d.strip == 6, "\(d)")
        #expect(d.reduction == .sliced(inputBlocks: 1, sweepRows: d.sweepRows ?? 0) && d.inputBlocksPerPass == 1)
        #expect(d.interior == 0..<3 && d.edges.isEmpty && !d.prefetch)
        #expect(plan.listing.contains("variant row strips"), "\(plan.listing)")
        let source = try emitC(lowerForC(try network(text), options: KernelOptions(target: .avx2)))
        #expect(!source.implementation.contents.contains("_rows2("))
        // The same layer on AVX-512 reduces whole and takes 4 whole rows (14 pixels a call).
        let (_, wide) = try Self.directs(text, .avx512)
        #expect(wide.first?.variant == .wholeRows(4) && wide.first?.reduction == .whole, "\(wide)")
    }

    /// Edge columns come from the input the kernel reads: a padded row has them with the taps
    /// inside; a prepadded one reads the zero-bordered copy and has none.
    @Test func edgeColumnsAreThoseOfTheInputRead() throws {
        // 2 edge columns of 64 are few enough to compute one pixel at a time.
        let (_, wide) = try Self.directs("""
            input 64x8x32
            c1: conv 32 3x3 pad 1 relu
            """, .avx512)
        let d = try #require(wide.first)
        #expect(!d.prepadded && d.interior == 1..<63, "\(d)")
        #expect(d.edges == [EdgeColumn(x: 0, firstTap: 1, endTap: 3), EdgeColumn(x: 63, firstTap: 0, endTap: 2)], "\(d)")
        // 2 of 56 are not: the input is copied into a zero border and every column is inside.
        let (_, narrow) = try Self.directs("""
            input 56x8x32
            c1: conv 32 3x3 pad 1 relu
            """, .avx512)
        let p = try #require(narrow.first)
        #expect(p.prepadded && p.edges.isEmpty && p.interior == 0..<56, "\(p)")
    }

    /// The fc step has its own thread threshold (it once borrowed the convolutions').
    @Test func everyFastStepHasItsThreading() throws {
        let plan = try #require(lowerForC(try model("lenet5"), options: KernelOptions(target: .avx2)).kernelPlan)
        for step in plan.steps {
            let expected: Int? = switch step.kernel {
            case .reference: nil
            case .directConvolution, .winogradConvolution: VectorTarget.avx2.facts.convolutionThreadWork
            case .fullyConnected: VectorTarget.avx2.facts.fullyConnectedThreadWork
            default: VectorTarget.avx2.facts.elementThreadWork
            }
            #expect(step.threading?.threshold == expected, "\(step.name)")
        }
        #expect(plan.steps.contains { if case .fullyConnected(let f) = $0.kernel { return f.chains.count == f.imagesPerPass }; return false })
    }
}
