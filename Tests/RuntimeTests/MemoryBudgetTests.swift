import Foundation
import ShapeCheck
import Testing
import TestSupport
@testable import Runtime

private func checked(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> CheckedNetwork {
    let result = checkSource(text, path: "test.cnn")
    return try #require(result.network, "\(result.diagnostics.map(\.message))", sourceLocation: sourceLocation)
}

/// Deterministic values in [-1, 1).
private func values(_ count: Int, seed: UInt64) -> [Float] {
    var generator = LCG(seed: seed)
    return (0..<count).map { _ in generator.signedUnit() }
}

/// The memory budget, and a large batch run in pieces that fit it.
@Suite struct MemoryBudgetTests {
    @Test(arguments: [("2G", 2 << 30), ("512M", 512 << 20), ("1.5GiB", 3 << 29), ("64k", 64 << 10),
                      ("1048576", 1 << 20), (" 3 MB ", 3 << 20), ("1t", 1 << 40)])
    func sizesParse(_ text: String, _ bytes: Int) {
        #expect(MemoryBudget.parseSize(text) == bytes)
    }

    @Test(arguments: ["", "G", "abc", "-1G", "1e3", "2X", "1..5G", "99999999999T"])
    func nonSizesDoNotParse(_ text: String) {
        #expect(MemoryBudget.parseSize(text) == nil)
    }

    @Test func sizesAreDescribedInBinaryUnits() {
        #expect(MemoryBudget.describe(1 << 30) == "1 GiB")
        #expect(MemoryBudget.describe(3 << 29) == "1.5 GiB")
        #expect(MemoryBudget.describe(12) == "12 B")
        #expect(MemoryBudget.describe(6_500_000_000) == "6.1 GiB")
    }

    @Test func theVariableSetsTheBudgetAndABadValueIsAnError() throws {
        #expect(try MemoryBudget.current(environment: ["CNNC_MEMORY_LIMIT": "2G"]) == MemoryBudget(bytes: 2 << 30, fromEnvironment: true))
        let fallback = try MemoryBudget.current(environment: [:])
        #expect(!fallback.fromEnvironment && fallback.bytes <= MemoryBudget.defaultCap && fallback.bytes >= 16 << 20)
        for bad in ["lots", "100K"] {
            expectRuntimeError("CNNC_MEMORY_LIMIT is '\(bad)'; expected a size of at least 1M such as 512M or 2G") {
                _ = try MemoryBudget.current(environment: ["CNNC_MEMORY_LIMIT": bad])
            }
        }
    }

    @Test func aSplitRunSaysHowAndWhy() {
        let run = BatchRun(output: Tensor(shape: [100_000, 10]), pieceSize: 25_000, pieces: 4, budget: MemoryBudget(bytes: 1 << 30))
        #expect(run.splitDescription == "batch of 100000 run in 4 pieces of 25000 (workspace budget 1 GiB; set CNNC_MEMORY_LIMIT to change)")
        let uneven = BatchRun(output: Tensor(shape: [10, 2]), pieceSize: 4, pieces: 3, budget: MemoryBudget(bytes: 1 << 20, fromEnvironment: true))
        #expect(uneven.splitDescription == "batch of 10 run in 3 pieces of up to 4 (workspace budget 1 MiB; from CNNC_MEMORY_LIMIT)")
        #expect(BatchRun(output: Tensor(shape: [10, 2]), pieceSize: 10, pieces: 1, budget: MemoryBudget(bytes: 1 << 20)).splitDescription == nil)
    }

    static let lenet = Networks.lenet5(named: "lenet")

    /// The reference interpreter: 37 images whole and in pieces of at most a few, bit for bit.
    @Test func theReferenceInterpreterGivesTheSameBitsInPieces() throws {
        let network = try checked(Self.lenet)
        let interpreter = ReferenceInterpreter(network: network, weights: WeightInit.weights(for: network, seed: 3).tensors)
        let input = Tensor(shape: [37, 1, 32, 32], storage: values(37 * 1024, seed: 5))
        let whole = try interpreter.run(input, budget: MemoryBudget(bytes: Int.max))
        let budget = MemoryBudget(bytes: interpreter.workspaceBytes(batch: 5))
        let pieces = try interpreter.run(input, budget: budget)
        #expect(whole.pieces == 1 && pieces.pieces == 8 && pieces.pieceSize == 5)
        #expect(pieces.output.shape == [37, 10])
        #expect(pieces.output.storage.map(\.bitPattern) == whole.output.storage.map(\.bitPattern))
    }

    /// A budget below one image still runs, an image at a time.
    @Test func aBudgetBelowOneImageRunsOneAtATime() throws {
        let network = try checked("input 4x4x2\nconv 3 3x3 pad 1 relu")
        let interpreter = ReferenceInterpreter(network: network, weights: WeightInit.weights(for: network, seed: 1).tensors)
        #expect(interpreter.pieceSize(batch: 9, budget: MemoryBudget(bytes: 1)) == 1)
        #expect(interpreter.pieceSize(batch: 9, budget: MemoryBudget(bytes: Int.max)) == 9)
        let run = try interpreter.run(Tensor(shape: [9, 2, 4, 4], storage: values(9 * 32, seed: 2)), budget: MemoryBudget(bytes: 1))
        #expect(run.pieces == 9 && run.pieceSize == 1)
    }

    /// An allocation that cannot succeed is an error naming it, not a trap.
    @Test func anImpossibleAllocationIsAnError() {
        expectRuntimeError("cannot allocate 8 EiB (\(Int.max) bytes) for a test: out of memory") {
            try requireMemory(Int.max, for: "a test")
        }
        expectRuntimeError("cannot allocate 8 EiB (\(Int.max) bytes) for a test: out of memory") {
            _ = try allocateAligned(Int.max, for: "a test")
        }
    }

    /// `init` of a huge fc is refused before its weights are allocated, with the numbers.
    @Test func weightsOverTheBudgetAreRefusedWithTheNumbers() throws {
        let network = try checked("network big\ninput 1000x1000x1\nfc 2000")
        expectRuntimeError("network 'big' has 2,000,002,000 parameters (7.5 GiB as float32), more than the memory budget of 1 GiB; "
                           + "set CNNC_MEMORY_LIMIT to change") {
            try WeightInit.checkMemory(for: network, budget: MemoryBudget(bytes: 1 << 30))
        }
        expectRuntimeError("network 'big' has 2,000,002,000 parameters (7.5 GiB as float32), more than the memory budget of 2 GiB "
                           + "from CNNC_MEMORY_LIMIT") {
            try WeightInit.checkMemory(for: network, budget: MemoryBudget(bytes: 2 << 30, fromEnvironment: true))
        }
        try WeightInit.checkMemory(for: try checked(Self.lenet), budget: MemoryBudget(bytes: 1 << 30))
    }
}
