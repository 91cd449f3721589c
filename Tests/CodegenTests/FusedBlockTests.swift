@testable import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing

/// The fused inverted residual of the fast C (FastCFusedBlock.swift, issue #18): expand 1x1 →
/// depthwise → project 1x1 as one step, against the reference interpreter on the shapes that
/// break a ring of rows (stride 2 on odd sizes, width 1, dilation, 1x1 windows that skip rows,
/// channels that are not multiples of 16, rows that split into uneven strips), and the plans
/// that choose it. Each network starts with a 3x3 stem: a first 1x1 would read the planar input.
@Suite struct FusedBlockTests {
    static let networks = NamedCases<String>([
        // MobileNetV2's block with its residual, and one with stride 2 and no residual.
        ("residual", """
            input 13x11x3
            s: conv 24 3x3 pad 1 relu
            a: conv 72 1x1 relu6
            b: depthwise 3x3 pad 1 relu6
            c: conv 24 1x1
            r: add c s
            """),
        ("stride2_odd", """
            input 15x13x3
            s: conv 20 3x3 pad 1
            a: conv 44 1x1 relu6
            b: depthwise 3x3 stride 2 pad 1 relu6
            c: conv 33 1x1
            """),
        ("width1", """
            input 9x1x3
            s: conv 16 3x3 pad 1
            a: conv 40 1x1 nobias
            b: depthwise 5x5 pad 2 hardswish
            c: conv 16 1x1 nobias relu
            """),
        // 5x5 and 7x7 windows (MobileNetV3, EfficientNet), silu epilogues, two blocks in a
        // row (the second's input is the first's fused output), rows of 29 (strips 10, 10, 9).
        ("wide_windows", """
            input 11x29x3
            s: conv 16 3x3 pad 1 relu
            a: conv 96 1x1 silu
            b: depthwise 5x5 stride 2 pad 2 silu
            c: conv 40 1x1
            d: conv 120 1x1 hardswish
            e: depthwise 7x7 pad 3
            f: conv 40 1x1
            r: add f c relu
            """),
        // A dilated window (ring slots two rows apart), a 1x1 depthwise of stride 2 (a ring of
        // one row, every other expanded row never computed), padding wider than the window
        // reaches (edge columns whose taps all fall outside).
        ("dilated_and_skipping", """
            input 10x9x3
            s: conv 8 3x3 pad 1
            a: conv 24 1x1 relu
            b: depthwise 3x3 dilation 2 pad 2 relu6
            c: conv 8 1x1
            d: conv 32 1x1
            e: depthwise 1x1 stride 2
            f: conv 16 1x1 relu
            g: conv 20 1x1
            h: depthwise 3x3 pad 3 relu
            i: conv 12 1x1
            """),
    ])

    @Test(arguments: networks.names)
    func agreesWithTheReference(_ name: String) throws {
        for threads in [1, 2, 3] {
            for batch in [1, 3] {
                try expectFastAgreement(text: Self.networks[name], label: "\(name)/fused/batch \(batch)", batch: batch,
                                        options: ExecutorOptions(threads: threads, fusion: .always))
            }
        }
        // Whole batches too: a task's image then changes inside one thread's range of tasks.
        try expectFastAgreement(text: Self.networks[name], label: "\(name)/fused/whole batch", batch: 3,
                                options: ExecutorOptions(threads: 2, batchSchedule: .wholeBatch, fusion: .always))
    }

    static func fusedSteps(_ net: CheckedNetwork, _ fusion: FusionPolicy, language: KernelLanguage = .c) throws -> [PlanStep] {
        let plan = try #require(lowerForC(net, options: KernelOptions(target: .host, language: language, fusion: fusion)).kernelPlan)
        return plan.steps.filter { if case .invertedResidual = $0.kernel { true } else { false } }
    }

    /// Forced, every chain fuses and its intermediates get no arena; never, none does; the Swift
    /// kernels have no fused block.
    @Test func plans() throws {
        let net = try network(Self.networks["wide_windows"])
        let fused = try Self.fusedSteps(net, .always)
        #expect(fused.map(\.name) == ["a+b+c", "d+e+f+r"])
        #expect(fused[1].inputs.count == 2, "the second block keeps its residual")
        #expect(try Self.fusedSteps(net, .never).isEmpty)
        #expect(try Self.fusedSteps(net, .always, language: .swift).isEmpty)
        let plan = try #require(lowerForC(net, options: KernelOptions(target: .host, fusion: .always)).kernelPlan)
        for step in fused {
            guard case .invertedResidual(let f) = step.kernel else { continue }
            #expect(plan.offsets[f.expand.output] == nil && plan.offsets[f.depthwise.output] == nil, "\(step.name)")
        }
        // The larger block's: a ring of 7 rows (the 7x7 window) of 120 channels (8 blocks) and
        // 6 columns (11x29 is width x height; stride 2 leaves 6 columns), and one output row.
        #expect(plan.scratchElements == 8 * 7 * 6 * 16 + 8 * 6 * 16)
    }

    /// Automatic fuses only where the expanded tensor leaves L2 (TargetFacts.fusionExpandedBytes):
    /// mobilenet_v2's blocks at 112x112 and 56x56, none of the small networks'.
    @Test func automaticChoice() throws {
        let mobilenet = try Self.fusedSteps(try model("torchvision/mobilenet_v2"), .automatic)
        #expect(mobilenet.map { $0.name.components(separatedBy: ".conv").first ?? "" } == ["features.2", "features.3", "features.4"])
        #expect(try Self.fusedSteps(try network(Self.networks["residual"]), .automatic).isEmpty)
    }
}
