#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ShapeCheck

public enum WeightInit {
    /// Refuses, before anything is allocated, a network whose float32 parameters exceed the
    /// memory budget (`init` of `fc 100000` on a large input), naming the numbers; then checks
    /// the memory can be had, so an allocation failure is this error and not a trap.
    public static func checkMemory(for network: CheckedNetwork, budget: MemoryBudget) throws {
        let count = network.trainableParameters.addingReportingOverflow(network.nonTrainableParameters).partialValue
        let (bytes, overflow) = count.multipliedReportingOverflow(by: 4)
        if overflow || bytes > budget.bytes {
            throw RuntimeError("network '\(network.name)' has \(CheckReport.grouped(count)) parameters "
                + "(\(overflow ? "more than can be counted" : MemoryBudget.describe(bytes)) as float32), more than the "
                + "memory budget of \(MemoryBudget.describe(budget.bytes))"
                + (budget.fromEnvironment ? " from \(MemoryBudget.variable)" : "; set \(MemoryBudget.variable) to change"))
        }
        try requireMemory(bytes, for: "the \(CheckReport.grouped(count)) parameters of network '\(network.name)'")
    }

    /// He/Kaiming-normal weights (std = sqrt(2 / fan_in), fan_in = product of shape[1...]) for
    /// conv and fc weights, zero biases, batchnorm weight 1 / bias 0 / running_mean 0 /
    /// running_var 1. Deterministic for a seed: each tensor draws from its own stream, seeded
    /// from `seed` and its key, so adding a layer does not change the other layers' weights.
    public static func weights(for network: CheckedNetwork, seed: UInt64) -> WeightFile {
        var tensors: [String: Tensor] = [:]
        for layer in network.layers {
            let isBatchNorm: Bool
            switch layer.operation {
            case .batchNorm, .layerNorm: isBatchNorm = true  // γ 1 and β 0, as torch initialises both
            default: isBatchNorm = false
            }
            for parameter in layer.parameters {
                let key = layer.key(parameter)
                let shape = parameter.shape
                if isBatchNorm {
                    let one = parameter.name == "weight" || parameter.name == "running_var"
                    tensors[key] = Tensor(shape: shape, repeating: one ? 1 : 0)
                } else if parameter.name == "weight" || parameter.name == "layer_scale" {
                    let fanIn = max(shape.dropFirst().reduce(1, *), 1)
                    var generator = NormalGenerator(seed: streamSeed(seed, key))
                    let std = (2.0 / Double(fanIn)).squareRoot()
                    let count = shape.reduce(1, *)
                    var values = [Float](repeating: 0, count: count)
                    for i in 0..<count { values[i] = Float(generator.next() * std) }
                    tensors[key] = Tensor(shape: shape, storage: values)
                } else {
                    tensors[key] = Tensor(shape: shape, repeating: 0)
                }
            }
        }
        return WeightFile(tensors: tensors)
    }

    /// The seed and the key mixed (FNV-1a of the key, then splitmix64).
    static func streamSeed(_ seed: UInt64, _ key: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        var state = seed ^ hash
        return SplitMix64.next(&state)
    }
}

/// splitmix64: seeds xoshiro and mixes keys.
enum SplitMix64 {
    static func next(_ state: inout UInt64) -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** (Blackman and Vigna), a small, fast, deterministic generator.
struct Xoshiro256StarStar {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    init(seed: UInt64) {
        var state = seed
        s = (SplitMix64.next(&state), SplitMix64.next(&state), SplitMix64.next(&state), SplitMix64.next(&state))
    }

    mutating func next() -> UInt64 {
        let result = rotateLeft(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = rotateLeft(s.3, 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

/// Standard normal samples by the Box–Muller transform, two per pair of uniforms.
struct NormalGenerator {
    private var uniform: Xoshiro256StarStar
    private var spare: Double?

    init(seed: UInt64) {
        uniform = Xoshiro256StarStar(seed: seed)
    }

    mutating func next() -> Double {
        if let value = spare {
            spare = nil
            return value
        }
        let u1 = 1 - uniform.nextUnit()  // (0, 1]: log is finite
        let u2 = uniform.nextUnit()
        let radius = (-2 * log(u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        spare = radius * sin(angle)
        return radius * cos(angle)
    }
}
