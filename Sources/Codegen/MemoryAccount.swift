import ShapeCheck

// The memory a compiled network takes, counted once for `check` and `compile` alike, in the
// generated code's own terms: the weight blob NAME_run reads, the arena behind
// NAME_workspace_size, and the per-thread scratch of the fast kernels' pool.
//
//   total(batch, threads) = packed weights + batch × arena + threads × scratch
//
// NAME_workspace_size(batch) is batch × arena + one scratch (the calling thread's); each
// further thread of the pool allocates its own scratch once (cnnc_pool.c).

/// One value in the activation arena, per image.
public struct ArenaValue: Sendable, Equatable {
    /// The step that writes it (`c1+bn1+relu1`, or a reorder's name).
    public var name: String
    public var shape: TensorShape
    /// Blocked values pad their channels to a multiple of 16 (KernelPlan.swift).
    public var layout: ValueLayout
    public var offsetBytes: Int
    /// What it holds, padding lanes included.
    public var bytes: Int
    /// Its place in the arena: `bytes` rounded up to the 64-byte alignment of every offset.
    public var placedBytes: Int
    /// Without padding lanes: the shape's elements × 4.
    public var unpaddedBytes: Int
    /// Steps (indices into `MemoryAccount.stepNames`) from the one that writes it to the last reader.
    public var lifetime: ClosedRange<Int>
}

public struct MemoryAccount: Sendable, Equatable {
    public enum Kernels: Sendable, Equatable {
        /// The reference loops: plain C (`--plain`) and Swift.
        case plain
        case fast(KernelOptions)
    }

    public var kernels: Kernels
    /// The generated code's symbol prefix (`lenet5` of `lenet5_workspace_size`).
    public var prefix: String
    /// The network's parameters (trainable and not), as the safetensors file holds them.
    public var parameters: Int
    /// parameters × 4: float32 as trained, what PyTorch and the weight file hold.
    public var logicalWeightBytes: Int
    /// The packed blob NAME_run reads (NAME.weights): batchnorm folded, slices 64-byte aligned,
    /// the fast kernels' blocks zero-padded. 4 × NAME_weight_count().
    public var packedWeightBytes: Int
    /// Why the packed blob differs from the weight file besides alignment: Winograd steps keep
    /// their filters transformed (36 floats per 3x3 filter for F(4,3)); batchnorm is folded
    /// into the conv or fc before it.
    public var transformsWinogradFilters: Bool
    public var foldsBatchNorm: Bool
    /// 4 × NAME_ARENA_SIZE: the activations between layers, for one image.
    public var arenaBytes: Int
    /// Bytes each thread needs besides the arena (Winograd tiles, a depthwise multiplier's
    /// gathered plane); 0 for the plain kernels.
    public var scratchBytes: Int
    /// The step whose scratch sets `scratchBytes`, if any needs scratch.
    public var scratchStep: String?
    /// The steps the lifetimes count, in order (plan steps for the fast kernels).
    public var stepNames: [String]
    /// Every value the arena holds.
    public var values: [ArenaValue]
    /// The step at which the most arena bytes are alive together, and those values (indices
    /// into `values`): no placement can make the arena smaller than their placed bytes.
    public var widestStep: Int?
    public var widestValues: [Int]

    /// The account of `program`, a lowering of `network` (`lower` or `lowerForC`); nil when
    /// the program is too large for the generated code (an emitter would refuse it).
    public init?(network: CheckedNetwork, program: LoweredProgram) {
        guard (try? checkSizes(program)) != nil else { return nil }
        let memory = program.memory ?? MemoryPlanner.plan(program)
        let float = MemoryLayout<Float>.size
        prefix = cSymbolPrefix(program)
        parameters = network.trainableParameters + network.nonTrainableParameters
        logicalWeightBytes = product(parameters, float)
        packedWeightBytes = program.weightCount * float
        arenaBytes = memory.arenaElements * float
        transformsWinogradFilters = program.kernelPlan?.steps.contains {
            if case .winogradConvolution = $0.kernel { return true } else { return false }
        } ?? false
        foldsBatchNorm = program.steps.contains { $0.kernel.weightRefs.contains { $0.recipe.foldsBatchNorm } }
        var sizes: [(name: String, shape: TensorShape, layout: ValueLayout, elements: Int)] = []
        var offsets: [Int?], lifetimes: [ClosedRange<Int>?]
        if let plan = program.kernelPlan {
            kernels = .fast(plan.options)
            scratchBytes = plan.scratchElements * float
            scratchStep = plan.scratchElements > 0
                ? plan.steps.first { KernelPlanner.scratchElements($0, plan) == plan.scratchElements }?.name : nil
            stepNames = plan.steps.map(\.name)
            var writer: [Int: String] = [:]
            for step in plan.steps { writer[step.output] = step.name }
            sizes = plan.values.enumerated().map { id, value in
                (writer[id] ?? program.values[value.source].name, value.shape, value.layout, value.elements)
            }
            (offsets, lifetimes) = (plan.offsets, plan.lifetimes)
        } else {
            kernels = .plain
            scratchBytes = 0
            scratchStep = nil
            stepNames = program.steps.map(\.name)
            var writer: [Int: String] = [:]
            for step in program.steps { writer[step.output] = step.name }
            sizes = program.values.enumerated().map { id, value in
                (writer[id] ?? value.name, value.shape, .planar, value.elementCount)
            }
            (offsets, lifetimes) = (memory.offsets, memory.lifetimes)
        }
        var values: [ArenaValue] = []
        var alive = [[Int]](repeating: [], count: stepNames.count)
        for (id, size) in sizes.enumerated() {
            guard id < offsets.count, let offset = offsets[id], let lifetime = lifetimes[id] else { continue }
            for step in lifetime where step < alive.count { alive[step].append(values.count) }
            values.append(ArenaValue(name: size.name, shape: size.shape, layout: size.layout, offsetBytes: offset * float,
                                     bytes: size.elements * float,
                                     placedBytes: roundUp(size.elements, to: MemoryPlan.alignment) * float,
                                     unpaddedBytes: size.shape.elementCount * float, lifetime: lifetime))
        }
        self.values = values
        let placed = alive.map { $0.reduce(0) { $0 + values[$1].placedBytes } }
        // The first such step, so the account reads the same on every run.
        let widest = placed.indices.max { placed[$0] < placed[$1] }.flatMap { placed[$0] > 0 ? $0 : nil }
        widestStep = widest
        widestValues = widest.map { alive[$0] } ?? []
    }

    /// The most arena bytes alive at one step: the least any placement of these values needs.
    public var widestBytes: Int { widestValues.reduce(0) { $0 + values[$1].placedBytes } }
    public var widestUnpaddedBytes: Int { widestValues.reduce(0) { $0 + values[$1].unpaddedBytes } }

    /// What NAME_workspace_size(batch) returns: the batch's arena and the calling thread's scratch.
    public func workspaceBytes(batch: Int) -> Int {
        batch > 0 ? sum(product(batch, arenaBytes), scratchBytes) : 0
    }

    /// Everything one run of `batch` images on `threads` threads holds besides its input and
    /// output: packed weights + batch × arena + threads × scratch.
    public func totalBytes(batch: Int, threads: Int) -> Int {
        sum(packedWeightBytes, sum(product(batch, arenaBytes), product(max(threads, 1), scratchBytes)))
    }
}

// Int.max when the exact number overflows: a batch too large to run still gets a number.
private func product(_ a: Int, _ b: Int) -> Int {
    let (value, overflow) = a.multipliedReportingOverflow(by: b)
    return overflow ? Int.max : value
}

private func sum(_ a: Int, _ b: Int) -> Int {
    let (value, overflow) = a.addingReportingOverflow(b)
    return overflow ? Int.max : value
}

extension WeightRecipe {
    /// Whether a batchnorm's scale is multiplied into these weights.
    var foldsBatchNorm: Bool {
        switch self {
        case .tensor, .batchNormScale, .batchNormShift: false
        case .scaledByBatchNorm: true
        case .transposed(let base, _, _), .packed(let base, _): base.foldsBatchNorm
        }
    }
}
