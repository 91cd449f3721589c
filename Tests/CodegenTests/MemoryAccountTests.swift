import Codegen
import Foundation
@testable import Runtime
import ShapeCheck
import Testing

/// The memory account `check` and `compile` print, against the numbers the generated code
/// itself gives: NAME_ARENA_SIZE, NAME_SCRATCH_SIZE, the packed blob and NAME_workspace_size.
@Suite struct MemoryAccountTests {
    static let networks = NamedCases<String>([
        ("winograd", FastKernelTests.oddNetworks["winograd"]),
        ("channels", FastKernelTests.oddNetworks["channels"]),
        // A depthwise multiplier gathers its input plane into the thread's scratch.
        ("multiplier", """
            input 20x20x8
            d: depthwise 3x3 multiplier 2 pad 1 relu
            e: conv 16 1x1
            """),
        ("empty arena", """
            input 8x8x3
            c: conv 4 3x3
            """),
    ])

    func fast(_ net: CheckedNetwork, target: VectorTarget = .host) -> LoweredProgram {
        lowerForC(net, options: KernelOptions(target: target))
    }

    @Test func lenet5FromItsOwnFiles() throws {
        let net = try model("lenet5")
        let weights = WeightInit.weights(for: net, seed: 1).tensors
        for program in [fast(net, target: .avx512), lower(net)] {
            let account = try #require(MemoryAccount(network: net, program: program))
            // As trained: every tensor of the weight file, float32.
            #expect(account.logicalWeightBytes == 4 * weights.values.reduce(0) { $0 + $1.storage.count })
            #expect(account.logicalWeightBytes == 4 * (net.trainableParameters + net.nonTrainableParameters))
            #expect(account.packedWeightBytes == 4 * (try packWeights(program, weights: weights.mapValues(\.storage))).count)
            let source = try emitC(program)
            #expect(account.arenaBytes == 4 * (try #require(cDefine("LENET5_ARENA_SIZE", in: source.header.contents))))
            #expect(account.packedWeightBytes == 4 * (try #require(cDefine("LENET5_WEIGHT_COUNT", in: source.header.contents))))
            if program.kernelPlan != nil {
                #expect(account.scratchBytes == 4 * (try #require(cDefine("LENET5_SCRATCH_SIZE", in: source.header.contents))))
            } else {
                #expect(account.scratchBytes == 0 && !source.header.contents.contains("SCRATCH_SIZE"))
            }
            // s2 reads c1: both alive, and nothing else is; the arena wastes nothing.
            let widest = try #require(account.widestStep)
            #expect(account.stepNames[widest] == "s2")
            #expect(account.widestValues.map { account.values[$0].name } == ["c1", "s2"])
            #expect(account.widestBytes == account.arenaBytes)
        }
        let fastAccount = try #require(MemoryAccount(network: net, program: fast(net, target: .avx512)))
        let plainAccount = try #require(MemoryAccount(network: net, program: lower(net)))
        // Six channels padded to 16: the fast kernels need more of both.
        #expect(fastAccount.arenaBytes > plainAccount.arenaBytes && fastAccount.packedWeightBytes > plainAccount.packedWeightBytes)
        #expect(fastAccount.values.first { $0.name == "c1" }?.bytes == 4 * 16 * 28 * 28)
        #expect(fastAccount.widestUnpaddedBytes == 4 * (28 * 28 * 6 + 14 * 14 * 6))
        #expect(plainAccount.totalBytes(batch: 1, threads: 1) < fastAccount.totalBytes(batch: 1, threads: 1))
    }

    @Test func totalIsWeightsWorkspaceAndTheOtherThreadsScratch() throws {
        let net = try network(Self.networks["multiplier"])
        let account = try #require(MemoryAccount(network: net, program: fast(net)))
        #expect(account.scratchBytes > 0 && account.scratchStep == "d")
        for (batch, threads) in [(1, 1), (3, 1), (2, 4)] {
            #expect(account.totalBytes(batch: batch, threads: threads)
                    == account.packedWeightBytes + account.workspaceBytes(batch: batch) + (threads - 1) * account.scratchBytes)
        }
        #expect(account.workspaceBytes(batch: 0) == 0)
        #expect(account.totalBytes(batch: Int.max, threads: 1) == Int.max)
    }

    /// The generated code's own NAME_workspace_size, compiled and called, is the account's.
    @Test(arguments: ["lenet5"] + networks.names)
    func workspaceIsTheGeneratedCodes(_ name: String) throws {
        let net = name == "lenet5" ? try model(name) : try network(Self.networks[name], path: "\(name).cnn")
        let weights = WeightInit.weights(for: net, seed: 1).tensors
        var scratch = 0
        for plain in [false, true] {
            let executor = try CompiledExecutor(backend: .c, network: net, weights: weights,
                                                options: ExecutorOptions(plainKernels: plain), cache: testCache)
            let account = try #require(MemoryAccount(network: net, program: executor.program))
            for batch in [1, 2, 5] {
                #expect(executor.workspaceBytes(batch: batch) == account.workspaceBytes(batch: batch), "\(name), plain \(plain), batch \(batch)")
            }
            #expect(account.packedWeightBytes + WeightBlobHeader.size == executor.blob.count)
            #expect(Int(bitPattern: executor.weights) % 64 == 0, "the kernels get 64-byte aligned weights")
            scratch += account.scratchBytes
        }
        if name == "multiplier" || name == "winograd" { #expect(scratch > 0, "\(name) should need scratch") }
        if name == "empty arena" { #expect(try #require(MemoryAccount(network: net, program: lower(net))).widestStep == nil) }
    }

    @Test func widestStepBoundsTheArena() throws {
        for name in Models.small + ["resnet18", "googlenet"] {
            let net = try model(name)
            for program in [fast(net), lower(net)] {
                let account = try #require(MemoryAccount(network: net, program: program))
                #expect(account.widestBytes <= account.arenaBytes, "\(name)")
                // The values said to be alive together are: each one's lifetime holds the step.
                let step = try #require(account.widestStep)
                #expect(account.widestValues.allSatisfy { account.values[$0].lifetime.contains(step) })
                #expect(account.values.allSatisfy { $0.offsetBytes + $0.bytes <= account.arenaBytes })
            }
        }
    }

    @Test func tooLargeForTheGeneratedCodeHasNoAccount() throws {
        // More weights than the generated code's int can index: check takes it, the emitters do not.
        let net = try network("input 65536\nf: fc 32768\n")
        #expect(net.trainableParameters > Int(Int32.max))
        #expect(MemoryAccount(network: net, program: lower(net)) == nil)
        #expect(MemoryAccount(network: net, program: fast(net)) == nil)
    }
}
