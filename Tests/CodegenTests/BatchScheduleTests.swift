import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing

/// The fast C's two batch schedules (FastCImageSchedule.swift) against the reference
/// interpreter: whole batch and image by image, on batches that fill a round of threads, that
/// leave images over and that are smaller than the thread count; and the planner's choice.
@Suite struct BatchScheduleTests {
    static let networks = NamedCases<String>([
        ("lenet5", (try? String(contentsOf: Paths.models.appendingPathComponent("lenet5.cnn"), encoding: .utf8)) ?? ""),
        // Scratch (Winograd's tiles, a depthwise multiplier's gathered lanes) per thread, a
        // residual, a global pool and a softmax fc: every per-image pointer the schedule moves.
        ("mobile", """
            input 17x15x5
            c1: conv 32 3x3 stride 2 pad 1 relu6
            d1: depthwise 3x3 multiplier 2 pad 1 relu
            p1: conv 24 1x1
            c2: conv 24 3x3 pad 1 relu from p1
            r: add c2 p1
            w: conv 32 3x3 pad 1 relu
            g: globalavgpool
            fc 7 softmax
            """),
        ("no_arena", """
            input 6x6x3
            c: conv 8 3x3
            """),
    ])

    @Test(arguments: networks.names, [BatchSchedule.wholeBatch, .imageByImage])
    func agreesWithTheReference(_ name: String, _ schedule: BatchSchedule) throws {
        let text = Self.networks[name]
        try #require(!text.isEmpty, "models/lenet5.cnn could not be read")
        for threads in [1, 2, 3] {
            for batch in [1, 2, 5] {
                try expectFastAgreement(text: text, label: "\(name)/\(schedule)/batch \(batch)", batch: batch,
                                        options: ExecutorOptions(threads: threads, batchSchedule: schedule))
            }
        }
    }

    /// The forced schedule is the one emitted, and the automatic one follows the fc weights'
    /// share of the work: light classifiers image by image, AlexNet's and VGG's not.
    @Test func plannerChoice() throws {
        func imageByImage(_ net: CheckedNetwork, _ schedule: BatchSchedule = .automatic) throws -> Bool {
            try #require(lowerForC(net, options: KernelOptions(target: .host, batchSchedule: schedule)).kernelPlan).imageByImage
        }
        let mobile = try network(Self.networks["mobile"])
        #expect(try imageByImage(mobile, .imageByImage))
        #expect(try !imageByImage(mobile, .wholeBatch))
        for name in ["resnet18", "googlenet", "torchvision/mobilenet_v2", "torchvision/efficientnet_b0"] {
            #expect(try imageByImage(try model(name)), "\(name)")
        }
        for name in ["alexnet", "vgg16", "lenet5", "torchvision/mobilenet_v3_large"] {
            #expect(try !imageByImage(try model(name)), "\(name)")
        }
    }
}
