import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// NAME.weights: the header `weightBlob` writes, and every generated reader's verdict on it
/// (the fast and plain C, the Swift backend's @_cdecl functions), blob by damaged blob.
@Suite struct WeightBlobTests {
    typealias Check = @convention(c) (UnsafeRawPointer?, Int) -> Int32
    typealias Message = @convention(c) (Int32) -> UnsafePointer<CChar>?

    static func little<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int, as: T.Type) -> T {
        (0..<T.bitWidth / 8).reversed().reduce(T(0)) { $0 << 8 | T(bytes[offset + $1]) }
    }

    func packed(_ net: CheckedNetwork, _ program: LoweredProgram) throws -> [Float] {
        try packWeights(program, weights: WeightInit.weights(for: net, seed: 7).tensors.mapValues(\.storage))
    }

    @Test func theHeaderHoldsWhatItSays() throws {
        let net = try model("lenet5")
        for program in [lower(net), lowerForC(net, options: KernelOptions(target: .avx2))] {
            let weights = try packed(net, program)
            let blob = weightBlob(weights, for: program)
            #expect(blob.count == 64 + 4 * program.weightCount)
            #expect(Array(blob[0..<8]) == Array("CNNCWTS".utf8) + [0])
            #expect(Self.little(blob, 8, as: UInt32.self) == 1)
            let fast = program.kernelPlan != nil
            #expect(Self.little(blob, 12, as: UInt32.self) == (fast ? 2 : 0))
            #expect(Self.little(blob, 16, as: UInt32.self) == (fast ? 8 : 1))
            #expect(Self.little(blob, 20, as: UInt32.self) == (fast ? 16 : 0))
            #expect(Self.little(blob, 24, as: UInt64.self) == UInt64(program.weightCount))
            #expect(Self.little(blob, 32, as: UInt64.self) == weightLayoutHash(program))
            #expect(Self.little(blob, 40, as: UInt64.self) == weightChecksum(weights))
            let name = String(decoding: blob[48..<64].prefix { $0 != 0 }, as: UTF8.self)
            #expect(name == (fast ? "avx2" : "plain"))
            let payload = (0..<weights.count).map { Float(bitPattern: Self.little(blob, 64 + 4 * $0, as: UInt32.self)) }
            #expect(payload.map(\.bitPattern) == weights.map(\.bitPattern))
        }
    }

    /// The hash follows the layout: the same for the same program, different for another network
    /// or a blocking for another target; the checksum changes with any one weight.
    @Test func theLayoutHashAndChecksumTellBlobsApart() throws {
        let lenet = try model("lenet5"), alexnet = try model("alexnet")
        #expect(weightLayoutHash(lower(lenet)) == weightLayoutHash(lower(lenet)))
        #expect(weightLayoutHash(lower(lenet)) != weightLayoutHash(lower(alexnet)))
        #expect(weightLayoutHash(lower(lenet)) != weightLayoutHash(lowerForC(lenet, options: KernelOptions(target: .avx512))))
        #expect(weightLayoutHash(lowerForC(lenet, options: KernelOptions(target: .avx512)))
            != weightLayoutHash(lowerForC(lenet, options: KernelOptions(target: .avx2))))
        var weights = try packed(lenet, lower(lenet))
        let before = weightChecksum(weights)
        weights[weights.count / 2] = weights[weights.count / 2].nextUp
        #expect(weightChecksum(weights) != before)
    }

    /// Every damage a file can come to, with the code each backend's NAME_check_weights returns
    /// and NAME_weights_error's words for it (the same as WeightBlobProblem's).
    @Test(arguments: [Backend.c, .swift], [false, true])
    func everyReaderRefusesEveryBadBlob(backend: Backend, plain: Bool) throws {
        let net = try model("lenet5")
        let weights = WeightInit.weights(for: net, seed: 7).tensors
        var options = ExecutorOptions()
        options.plainKernels = plain
        let executor = try CompiledExecutor(backend: backend, network: net, weights: weights, options: options)
        let program = executor.program
        guard let handle = dlopen(executor.libraryPath, RTLD_NOW | RTLD_LOCAL) else {
            Issue.record("cannot load \(executor.libraryPath)")
            return
        }
        let prefix = cSymbolPrefix(program)
        let check = unsafeBitCast(try #require(dlsym(handle, "\(prefix)_check_weights")), to: Check.self)
        let message = unsafeBitCast(try #require(dlsym(handle, "\(prefix)_weights_error")), to: Message.self)
        func verdict(_ bytes: [UInt8]) -> Int32 { bytes.withUnsafeBytes { check($0.baseAddress, $0.count) } }

        let good = weightBlob(try packed(net, program), for: program)
        #expect(verdict(good) == 0)
        #expect(check(nil, 0) == WeightBlobProblem.tooShort.rawValue)
        #expect(verdict(Array(good.prefix(63))) == WeightBlobProblem.tooShort.rawValue)

        func damaged(_ offset: Int, _ change: (inout UInt8) -> Void) -> [UInt8] {
            var copy = good
            change(&copy[offset])
            return copy
        }
        #expect(verdict(damaged(3) { $0 = UInt8(ascii: "X") }) == WeightBlobProblem.magic.rawValue)
        #expect(verdict(damaged(8) { $0 = 2 }) == WeightBlobProblem.version.rawValue)
        #expect(verdict(damaged(12) { $0 ^= 3 }) == WeightBlobProblem.otherTarget.rawValue)
        #expect(verdict(damaged(33) { $0 ^= 1 }) == WeightBlobProblem.otherNetwork.rawValue)
        #expect(verdict(good + [0, 0, 0, 0]) == WeightBlobProblem.size.rawValue)
        #expect(verdict(Array(good.dropLast(4))) == WeightBlobProblem.size.rawValue)
        #expect(verdict(damaged(good.count - 2) { $0 ^= 0x40 }) == WeightBlobProblem.checksum.rawValue)
        #expect(verdict(damaged(41) { $0 ^= 1 }) == WeightBlobProblem.checksum.rawValue)

        // Real mix-ups: the blob of another target's blocking, and of another network.
        let language: KernelLanguage = backend == .swift ? .swift : .c
        let otherTarget: LoweredProgram = plain ? lowerForC(net, options: KernelOptions(target: .avx2, language: language)) : lower(net)
        #expect(verdict(weightBlob(try packed(net, otherTarget), for: otherTarget)) == WeightBlobProblem.otherTarget.rawValue)
        let alexnet = try model("alexnet")
        let other = plain ? lower(alexnet) : lowerForC(alexnet, options: KernelOptions(target: .host, language: language))
        let otherBlob = WeightBlobHeader(program: other, checksum: 0).bytes + [UInt8](repeating: 0, count: 64)
        #expect(verdict(otherBlob) == WeightBlobProblem.otherNetwork.rawValue)

        let target = program.kernelPlan.map { $0.options.target.rawValue } ?? "plain"
        for problem in WeightBlobProblem.allCases {
            #expect(message(problem.rawValue).map { String(cString: $0) } == problem.message(target: target))
        }
        #expect(message(0).map { String(cString: $0) } == "the weights are the ones this code reads")
    }
}
