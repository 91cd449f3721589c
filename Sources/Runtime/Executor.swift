import Codegen
import ShapeCheck

/// Something that runs a checked network on a batch: the reference interpreter or a
/// compiled backend. `run` splits a batch whose scratch memory exceeds the memory budget
/// into pieces (`run(_:budget:)`), the same way for every backend.
public protocol NetworkExecutor {
    var network: CheckedNetwork { get }
    /// Throws a RuntimeError naming the shape found and the one expected when `input` is not
    /// [N, D, H, W] (or [N, K] for a vector input) for the network.
    func checkInput(_ input: Tensor) throws
    /// Bytes of scratch memory a piece of `batch` images takes besides the whole input and output.
    func workspaceBytes(batch: Int) -> Int
    /// Pieces are a multiple of this many images when the budget allows, so that a kernel that
    /// blocks images (the fast C fc takes 4–8 per pass, a partial group sums in another order)
    /// sees the same groups as in one run, and the result is bit-identical.
    var batchGranule: Int { get }
    /// Runs `batch` images (`batch` ≥ 1) from `input` into `output`, both exactly that long.
    func runPiece(_ input: UnsafeBufferPointer<Float>, batch: Int, into output: UnsafeMutableBufferPointer<Float>) throws
}

/// A batch's result and how it was split.
public struct BatchRun {
    public var output: Tensor
    /// Images per piece (the last may have fewer) and the number of pieces.
    public var pieceSize: Int
    public var pieces: Int
    public var budget: MemoryBudget

    /// "batch of 100000 run in 4 pieces of 25000 (workspace budget 1 GiB; set CNNC_MEMORY_LIMIT to change)",
    /// nil when the batch ran whole.
    public var splitDescription: String? {
        guard pieces > 1 else { return nil }
        let batch = output.shape.first ?? 0
        let size = batch % pieceSize == 0 ? "\(pieceSize)" : "up to \(pieceSize)"
        return "batch of \(batch) run in \(pieces) pieces of \(size) (\(budget.explanation))"
    }
}

extension NetworkExecutor {
    public var batchGranule: Int { 1 }

    /// `input` is [N, D, H, W] (or [N, K]); the result is [N, D, H, W] or [N, K], run in pieces
    /// under the current budget (CNNC_MEMORY_LIMIT or the default).
    public func run(_ input: Tensor) throws -> Tensor {
        try run(input, budget: MemoryBudget.current()).output
    }

    /// The most images per piece whose workspace fits `budget` (at least 1: one image always runs,
    /// and its allocation reports failure if it cannot).
    public func pieceSize(batch: Int, budget: MemoryBudget) -> Int {
        guard batch > 1, workspaceBytes(batch: batch) > budget.bytes else { return max(batch, 1) }
        var low = 1, high = batch  // workspaceBytes(low) fits, or low is 1; high does not fit
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if workspaceBytes(batch: middle) <= budget.bytes { low = middle } else { high = middle }
        }
        let granule = max(batchGranule, 1)
        return low >= granule ? low / granule * granule : low
    }

    /// The whole output is allocated once; each piece runs straight from the input into it, so
    /// a result is the same whole or in pieces for a backend whose images are independent.
    public func run(_ input: Tensor, budget: MemoryBudget) throws -> BatchRun {
        try checkInput(input)
        let batch = input.shape[0]
        let outputShape = [batch] + network.output.dimensions
        let perInput = network.input.elementCount, perOutput = network.output.elementCount
        guard batch > 0 else { return BatchRun(output: Tensor(shape: outputShape), pieceSize: 0, pieces: 0, budget: budget) }
        let size = pieceSize(batch: batch, budget: budget)
        let (outputCount, overflow) = batch.multipliedReportingOverflow(by: perOutput)
        if overflow { throw RuntimeError("a batch of \(batch) has more outputs than can be counted") }
        var storage = try zeroFloats(outputCount, for: "the output of \(batch) image\(batch == 1 ? "" : "s")")
        try input.storage.withUnsafeBufferPointer { x in
            try storage.withUnsafeMutableBufferPointer { y in
                var start = 0
                while start < batch {
                    let count = min(size, batch - start)
                    try runPiece(UnsafeBufferPointer(rebasing: x[(start * perInput)..<((start + count) * perInput)]), batch: count,
                                 into: UnsafeMutableBufferPointer(rebasing: y[(start * perOutput)..<((start + count) * perOutput)]))
                    start += count
                }
            }
        }
        return BatchRun(output: Tensor(shape: outputShape, storage: storage), pieceSize: size,
                        pieces: (batch + size - 1) / size, budget: budget)
    }
}

/// How a network is executed: generated C, generated Swift, or the reference interpreter.
public enum Backend: String, CaseIterable, Sendable {
    case c
    case swift
    case reference
}

public struct ExecutorOptions: Sendable {
    /// Worker threads a compiled backend may use (the reference interpreter uses one).
    public var threads: Int = 1
    /// Ask a compiled backend for bit-faithful float arithmetic (no fast-math reassociation);
    /// the C backend then computes every convolution directly (no Winograd).
    public var precise: Bool = false
    /// The C backend's plain reference kernels (CKernels.swift) instead of the fast ones.
    public var plainKernels: Bool = false
    /// Compile the C backend with -DCNNC_PROFILE, so `PreparedRun.stepSeconds()` reports each step's time.
    public var profile: Bool = false
    /// The vector unit the fast C kernels are blocked for (this machine's unless set).
    public var target: VectorTarget = .host
    /// Whole batch or image by image in the fast C kernels (the planner's choice unless set).
    public var batchSchedule: BatchSchedule = .automatic
    /// Whether the fast C fuses inverted residuals (the planner's choice unless set).
    public var fusion: FusionPolicy = .automatic
    /// The vector unit whose instructions the fast Swift kernels' arithmetic is compiled with
    /// (this machine's unless set; `.generic` for the standard library's lane loops), so the
    /// tests check every spelling of it on one machine.
    public var swiftArithmetic: VectorTarget = .host
    /// Told when a compiled backend runs the compiler (a cache miss): the CLI's progress line.
    public var progress: ProgressReporter = .silent

    public init(threads: Int = 1, precise: Bool = false, plainKernels: Bool = false, profile: Bool = false,
                target: VectorTarget = .host, batchSchedule: BatchSchedule = .automatic,
                fusion: FusionPolicy = .automatic, progress: ProgressReporter = .silent) {
        self.batchSchedule = batchSchedule
        self.fusion = fusion
        self.threads = threads
        self.progress = progress
        self.precise = precise
        self.plainKernels = plainKernels
        self.profile = profile
        self.target = target
    }

    /// The fast C kernels' options these stand for.
    public var kernelOptions: KernelOptions { KernelOptions(winograd: !precise, target: target, batchSchedule: batchSchedule, fusion: fusion) }
}

/// An executor for `network` with `weights` (already validated for it).
public func makeExecutor(backend: Backend, network: CheckedNetwork, weights: [String: Tensor],
                         options: ExecutorOptions = ExecutorOptions()) throws -> NetworkExecutor {
    switch backend {
    case .reference:
        return ReferenceInterpreter(network: network, weights: weights)
    // MARK: compiled backends: generated code, compiled and cached (CompiledExecutor.swift).
    case .c, .swift:
        return try CompiledExecutor(backend: backend, network: network, weights: weights, options: options)
    }
}
