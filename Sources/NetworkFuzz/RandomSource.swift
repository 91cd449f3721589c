/// A small deterministic generator (splitmix64), so a seed names the same network on every
/// machine and in every Swift version (the standard library's generator promises neither).
public struct RandomSource: Sendable {
    var state: UInt64

    public init(seed: UInt64) { state = seed ^ 0x6A09_E667_F3BC_C908 }

    public mutating func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in range.
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound) + 1
        return range.lowerBound + Int(next() % span)
    }

    /// True with probability p.
    public mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// Uniform in [-1, 1) as a Float.
    public mutating func signedFloat() -> Float { Float(unit() * 2 - 1) }

    public mutating func pick<T>(_ items: [T]) -> T { items[int(0...items.count - 1)] }

    /// One of `items`, each drawn in proportion to its weight.
    public mutating func weighted<T>(_ items: [(T, Int)]) -> T {
        var r = int(0...items.reduce(0) { $0 + $1.1 } - 1)
        for (item, weight) in items {
            if r < weight { return item }
            r -= weight
        }
        return items[items.count - 1].0
    }

    public mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, to: 0, by: -1) { items.swapAt(i, int(0...i)) }
    }
}
