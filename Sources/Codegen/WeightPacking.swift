/// A weight file that does not fit the program: a missing tensor or a wrong element count.
public struct WeightPackingError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The packed weight blob the generated code reads: every kernel's slices at the constant
/// offsets `layoutWeights` chose, computed from the weight file's tensors (PyTorch layouts,
/// flattened row-major) by each slice's recipe. Gaps between slices are zero.
public func packWeights(_ program: LoweredProgram, weights: [String: [Float]]) throws -> [Float] {
    var blob = [Float](repeating: 0, count: program.weightCount)
    try blob.withUnsafeMutableBufferPointer { try packWeights(program, weights: weights, into: $0) }
    return blob
}

/// The same, into `out` (`program.weightCount` floats, zeroed by the caller): the runtime packs
/// straight into the aligned blob it hands the generated code, with no second copy.
public func packWeights(_ program: LoweredProgram, weights: [String: [Float]], into out: UnsafeMutableBufferPointer<Float>) throws {
    precondition(out.count == program.weightCount, "packWeights needs \(program.weightCount) floats to write into")
    for step in program.steps {
        for ref in step.kernel.weightRefs {
            precondition(ref.offset >= 0, "packWeights needs a program whose weights are laid out")
            let values = try evaluate(ref.recipe, weights: weights)
            guard values.count == ref.count else {
                throw WeightPackingError("\(step.name): expected \(ref.count) weight values, the recipe gives \(values.count)")
            }
            for (i, v) in values.enumerated() { out[ref.offset + i] = v }
        }
    }
}

/// Folding arithmetic is done in Double per element and rounded once.
private func evaluate(_ recipe: WeightRecipe, weights: [String: [Float]]) throws -> [Float] {
    func tensor(_ key: String) throws -> [Float] {
        guard let values = weights[key] else { throw WeightPackingError("missing weight tensor '\(key)'") }
        return values
    }
    func perChannel(_ key: String, _ bn: BatchNormSource) throws -> [Double] {
        let values = try tensor(key)
        guard values.count == bn.channels else {
            throw WeightPackingError("\(bn.layer): '\(key)' must hold \(bn.channels) values, found \(values.count)")
        }
        return values.map(Double.init)
    }
    func scale(_ bn: BatchNormSource) throws -> [Double] {
        let gamma = try perChannel(bn.gammaKey, bn), variance = try perChannel(bn.varianceKey, bn)
        return (0..<bn.channels).map { gamma[$0] / (variance[$0] + bn.epsilon).squareRoot() }
    }

    switch recipe {
    case .tensor(let key):
        return try tensor(key)
    case .transposed(let base, let rows, let columns):
        let values = try evaluate(base, weights: weights)
        guard values.count == rows * columns else {
            throw WeightPackingError("expected \(rows)·\(columns) values to transpose, found \(values.count)")
        }
        return [Float](unsafeUninitializedCapacity: values.count) { out, initialized in
            values.withUnsafeBufferPointer { input in
                for r in 0..<rows {
                    for c in 0..<columns { out[c * rows + r] = input[r * columns + c] }
                }
            }
            initialized = values.count
        }
    case .scaledByBatchNorm(let base, let bn, let perChannelCount):
        var values = try evaluate(base, weights: weights)
        let s = try scale(bn)
        guard values.count == bn.channels * perChannelCount else {
            throw WeightPackingError("\(bn.layer): cannot fold into \(values.count) weights (\(bn.channels) channels)")
        }
        for c in 0..<bn.channels {
            for j in 0..<perChannelCount {
                values[c * perChannelCount + j] = Float(Double(values[c * perChannelCount + j]) * s[c])
            }
        }
        return values
    case .packed(let base, let layout):
        return try layout.pack(try evaluate(base, weights: weights))
    case .batchNormScale(let bn):
        return try scale(bn).map { Float($0) }
    case .batchNormShift(let biasRecipe, let bn):
        let s = try scale(bn)
        let mean = try perChannel(bn.meanKey, bn), beta = try perChannel(bn.betaKey, bn)
        let bias = try biasRecipe.map { try evaluate($0, weights: weights) } ?? [Float](repeating: 0, count: bn.channels)
        guard bias.count == bn.channels else {
            throw WeightPackingError("\(bn.layer): bias must hold \(bn.channels) values to fold, found \(bias.count)")
        }
        return (0..<bn.channels).map { Float((Double(bias[$0]) - mean[$0]) * s[$0] + beta[$0]) }
    }
}
