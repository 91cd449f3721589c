// Seeded generators for test data. Tests pin their seeds, and some their exact values, so each
// algorithm in use is kept as it was: splitmix64, xorshift64 and Knuth's 64-bit LCG.

/// splitmix64, for `Int.random(in:using:)` and friends.
public struct SplitMix: RandomNumberGenerator {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xorshift64 (13, 7, 17); the state must not be zero.
public struct XorShift: RandomNumberGenerator {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
    /// A value in 0..<bound.
    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

/// Knuth's MMIX linear congruential generator; its low bits are weak, so values come from the top.
public struct LCG: RandomNumberGenerator {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state
    }
}

extension RandomNumberGenerator {
    /// A value in [0, 1) from the top 24 bits.
    public mutating func unit() -> Float {
        let bits: UInt64 = next()
        return Float(bits >> 40) / Float(1 << 24)
    }
    /// A value in [-1, 1) from the top 24 bits.
    public mutating func signedUnit() -> Float {
        let bits: UInt64 = next()
        return Float(bits >> 40) / Float(1 << 23) - 1
    }
}

/// `runs` copies of `valid`, each with `perCopy` bytes overwritten at random places, for tests
/// that a parser never crashes; one generator runs through all copies.
public func forEachCorruption(of valid: [UInt8], seed: UInt64, runs: Int = 2000, perCopy: Int, _ body: ([UInt8]) -> Void) {
    var generator = LCG(seed: seed)
    for _ in 0..<runs {
        var bytes = valid
        for _ in 0..<perCopy {
            let state = generator.next()
            bytes[Int((state >> 33) % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: state >> 17)
        }
        body(bytes)
    }
}
