import Foundation

/// Tests/Fixtures/activations/torch.txt: PyTorch's float32 output of each activation on a grid
/// of inputs with NaN, ±inf, ±0, denormals and huge values (tools/activation_fixture.py).
public enum TorchActivations {
    public struct Sample: Sendable {
        public let input: Float
        public let output: Float
    }

    /// The activation's spelling in .cnn (`gelu tanh`) → its samples, in file order.
    public static func samples() throws -> [(activation: String, samples: [Sample])] {
        let url = Paths.fixtures.appendingPathComponent("activations/torch.txt")
        var table: [(activation: String, samples: [Sample])] = []
        for line in try Paths.text(url).split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 3, let input = Float(fields[1]), let output = Float(fields[2]) else {
                throw FixtureError("\(url.path): cannot read '\(line)'")
            }
            let sample = Sample(input: input, output: output)
            if table.last?.activation == fields[0] { table[table.count - 1].samples.append(sample) }
            else { table.append((fields[0], [sample])) }
        }
        return table
    }

    /// The grid of inputs (the same for every activation).
    public static func inputs() throws -> [Float] {
        try samples().first?.samples.map(\.input) ?? []
    }

    /// NaN exactly where `expected` is NaN, the same infinity, else within
    /// 1e-6 + 1e-5·|expected| (float32 against a double computation rounded once).
    public static func agrees(_ value: Float, _ expected: Float) -> Bool {
        if expected.isNaN { return value.isNaN }
        if expected.isInfinite || value.isInfinite || value.isNaN { return value == expected }
        return abs(value - expected) <= 1e-6 + 1e-5 * abs(expected)
    }

    public struct FixtureError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
