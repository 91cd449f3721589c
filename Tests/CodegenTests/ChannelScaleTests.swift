@testable import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing

/// Squeeze-excitation's multiply folded into the 1x1 convolution that reads it (issue #18,
/// ChannelScalePlanning.swift): each task scales its output group's weights by its image's
/// channel scale. Against the reference interpreter on the shapes that could break it (channels
/// not multiples of 16 or below 16, width 1, a residual after the scale, a batch whose image
/// changes inside one thread's tasks, a reduction sliced through L1), and the plans that choose it.
@Suite struct ChannelScaleTests {
    static let networks = NamedCases<String>([
        // MobileNetV3's / EfficientNet's block: SE between the depthwise and the projection,
        // the scale first in the mul (as torchvision's models write it), and the residual.
        ("residual", """
            input 13x11x3
            s: conv 24 3x3 pad 1 relu
            a: conv 72 1x1 silu
            b: depthwise 3x3 pad 1 silu
            se.pool: globalavgpool
            se.fc1: conv 8 1x1 silu
            se.fc2: conv 72 1x1 sigmoid
            m: mul se.fc2 b
            c: conv 24 1x1
            r: add c s
            """),
        // Fewer than 16 channels (one partial block, weight rows C apart), width 1, the volume
        // first, hardsigmoid, an activation on the projection, two output blocks of 20.
        ("narrow_width1", """
            input 40x1x3
            s: conv 8 3x3 pad 1
            se.pool: globalavgpool
            se.fc1: conv 4 1x1 relu
            se.fc2: conv 8 1x1 hardsigmoid
            m: mul s se.fc2
            c: conv 20 1x1 relu
            """),
        // Many input channels (weights sliced through L1), 33 of them past the last full block.
        ("wide_input", """
            input 9x8x3
            s: conv 561 3x3 pad 1 relu
            se.pool: globalavgpool
            se.fc1: conv 16 1x1 relu
            se.fc2: conv 561 1x1 sigmoid
            m: mul s se.fc2
            c: conv 40 1x1
            """),
    ])

    @Test(arguments: networks.names)
    func agreesWithTheReference(_ name: String) throws {
        for threads in [1, 2, 3] {
            for batch in [1, 3] {
                try expectFastAgreement(text: Self.networks[name], label: "\(name)/scaled/batch \(batch)", batch: batch,
                                        options: ExecutorOptions(threads: threads))
            }
        }
        try expectFastAgreement(text: Self.networks[name], label: "\(name)/scaled/whole batch", batch: 3,
                                options: ExecutorOptions(threads: 2, batchSchedule: .wholeBatch))
        // AVX2's plan slices wide reductions through L1 (AVX-512's does not).
        try expectFastAgreement(text: Self.networks[name], label: "\(name)/scaled/other target", batch: 2,
                                options: ExecutorOptions(threads: 2, target: NaNSemanticsTests.otherTarget))
    }

    static func plan(_ net: CheckedNetwork, language: KernelLanguage = .c, target: VectorTarget = .host) throws -> KernelPlan {
        try #require(lowerForC(net, options: KernelOptions(target: target, language: language)).kernelPlan)
    }

    static func scaledSteps(_ plan: KernelPlan) -> [PlanStep] { plan.steps.filter { $0.channelScaleInput != nil } }

    /// Folded: no mul step, its product gets no arena, the convolution reads the volume, its
    /// residual and the scale, and the scratch holds one group's scaled weights.
    @Test func plans() throws {
        let net = try network(Self.networks["residual"])
        let plan = try Self.plan(net)
        let scaled = Self.scaledSteps(plan)
        #expect(scaled.map(\.name) == ["m+c+r"])
        #expect(scaled.first?.kernelName.hasSuffix(" scaled") == true)
        #expect(!plan.steps.contains { $0.name == "m" })
        let step = try #require(scaled.first)
        #expect(step.inputs.count == 3 && step.residualInput == step.inputs[1] && step.channelScaleInput == step.inputs[2])
        #expect(plan.values[step.inputs[0]].shape.depth == 72 && plan.values[step.inputs[2]].shape.width == 1)
        let products = plan.values.indices.filter { id in plan.values[id].shape.depth == 72 && plan.values[id].shape.width == 13 }
        #expect(products.filter { plan.offsets[$0] != nil }.count == 2, "a's and b's outputs only, not the product")
        guard case .directConvolution(let d) = step.kernel else { Issue.record("not direct"); return }
        #expect(plan.scratchElements >= 80 * d.outputBlocks * 16, "72 channels' rows, padded to 80")
        #expect(Self.scaledSteps(try Self.plan(net, language: .swift)).isEmpty, "the Swift kernels keep the mul")
        guard case .directConvolution(let wide)? = Self.scaledSteps(try Self.plan(try network(Self.networks["wide_input"]), target: .avx2)).first?.kernel
        else { Issue.record("wide_input did not fold"); return }
        #expect(wide.inputBlocksPerPass != nil, "AVX2 slices the wide case's reduction")
    }

    /// Kept as a mul: where the output channels outnumber the positions (7x7 of 64 channels,
    /// EfficientNet's last stage), where the product has a second reader, and on a 3x3 conv.
    @Test func keepsTheMultiply() throws {
        let kept = [
            "input 7x7x3\ns: conv 32 3x3 pad 1\np: globalavgpool\nf: conv 32 1x1 sigmoid\nm: mul f s\nc: conv 64 1x1",
            "input 9x9x3\ns: conv 32 3x3 pad 1\np: globalavgpool\nf: conv 32 1x1 sigmoid\nm: mul f s\nc: conv 16 1x1\nd: conv 16 1x1 from m\nr: add c d",
            "input 9x9x3\ns: conv 32 3x3 pad 1\np: globalavgpool\nf: conv 32 1x1 sigmoid\nm: mul f s\nc: conv 16 3x3 pad 1",
        ]
        for text in kept {
            let plan = try Self.plan(try network(text))
            #expect(Self.scaledSteps(plan).isEmpty && plan.steps.contains { $0.name == "m" }, "\(text)")
            try expectFastAgreement(text: text, label: "kept", batch: 2, options: ExecutorOptions(threads: 2))
        }
    }

    /// efficientnet_b0 folds its SE multiplies up to the 14x14 stage and keeps them at 7x7
    /// (192 and 320 output channels against 49 positions).
    @Test func efficientNetChoice() throws {
        let plan = try Self.plan(try model("torchvision/efficientnet_b0"))
        let folded = Self.scaledSteps(plan).map { $0.name.components(separatedBy: ".block").first ?? "" }
        #expect(folded == ["features.1.0", "features.2.0", "features.2.1", "features.3.0", "features.3.1",
                           "features.4.0", "features.4.1", "features.4.2", "features.5.0", "features.5.1", "features.5.2"])
        #expect(plan.steps.filter { $0.name.hasSuffix(".mul") }.count == 5)
    }

    /// A NaN in one image reaches all of its pixels through the pooled scale, and none of the
    /// other images' (the scaled weights are per image).
    @Test func nanStaysInItsImage() throws {
        let net = try network(Self.networks["residual"])
        let weights = WeightInit.weights(for: net, seed: 4).tensors
        var input = randomInput(for: net, batch: 3, seed: 8)
        input.storage[input.storage.count / 3 + 7] = .nan  // image 1
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        let perImage = reference.storage.count / 3
        let first = Array(reference.storage[0..<perImage]), second = Array(reference.storage[perImage..<(2 * perImage)])
        #expect(second.allSatisfy(\.isNaN) && !first.contains(where: \.isNaN))
        for threads in [1, 2] {
            let executor = try CompiledExecutor(backend: .c, network: net, weights: weights, options: ExecutorOptions(threads: threads),
                                                cache: testCache)
            expectSameNaNs(try executor.run(input), reference, "scaled/NaN/threads \(threads)")
        }
    }
}
