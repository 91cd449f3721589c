import ShapeCheck
import Testing
@testable import Runtime

@Suite struct WeightInitTests {
    func network(_ source: String) throws -> CheckedNetwork {
        try #require(checkSource(source).network, "the checker returned no network for: \(source)")
    }

    @Test func keysAndShapesMatchTheNetwork() throws {
        let net = try network(smallNetworkSource)
        let weights = WeightInit.weights(for: net, seed: 1)
        #expect(weights.tensors.count == net.parameterTensors.count)
        for (key, parameter) in net.parameterTensors {
            #expect(weights.tensors[key]?.shape == parameter.shape, "\(key)")
        }
        #expect(try weights.validated(for: net, path: "init").count == 4)
        #expect(weights.tensors["c.bias"] == Tensor(shape: [2], repeating: 0))
        #expect(weights.tensors["out.bias"] == Tensor(shape: [3], repeating: 0))
    }

    @Test func deterministicPerSeedAndDifferentAcrossSeeds() throws {
        let net = try network(smallNetworkSource)
        let a = WeightInit.weights(for: net, seed: 42)
        let b = WeightInit.weights(for: net, seed: 42)
        let c = WeightInit.weights(for: net, seed: 43)
        #expect(a.tensors == b.tensors)
        #expect(a.serialized() == b.serialized())
        #expect(a.tensors["c.weight"] != c.tensors["c.weight"])
        #expect(a.tensors["out.weight"] != c.tensors["out.weight"])
        // Different tensors of one network do not share a stream.
        #expect(a.tensors["c.weight"]!.storage.prefix(3) != a.tensors["out.weight"]!.storage.prefix(3))
    }

    @Test func addingALayerKeepsTheOtherLayersWeights() throws {
        let small = WeightInit.weights(for: try network(smallNetworkSource), seed: 7)
        let larger = WeightInit.weights(for: try network(
            "network t\ninput 8x8x1\nc: conv 2 3x3\nd: conv 2 3x3\nout: fc 3\n"), seed: 7)
        #expect(small.tensors["c.weight"] == larger.tensors["c.weight"])
    }

    @Test func batchNormTensors() throws {
        let net = try network("network t\ninput 8x8x1\nc: conv 4 3x3\nbn: batchnorm\nout: fc 3\n")
        let weights = WeightInit.weights(for: net, seed: 3)
        #expect(weights.tensors["bn.weight"] == Tensor(shape: [4], repeating: 1))
        #expect(weights.tensors["bn.bias"] == Tensor(shape: [4], repeating: 0))
        #expect(weights.tensors["bn.running_mean"] == Tensor(shape: [4], repeating: 0))
        #expect(weights.tensors["bn.running_var"] == Tensor(shape: [4], repeating: 1))
        #expect(try weights.validated(for: net, path: "init").count == net.parameterTensors.count)
    }

    @Test func heNormalStatistics() throws {
        // fan_in = 64·3·3 = 576, so std = sqrt(2/576) ≈ 0.0589; 36,864 samples.
        let net = try network("network big\ninput 16x16x64\nc: conv 64 3x3\n")
        let weight = try #require(WeightInit.weights(for: net, seed: 2024).tensors["c.weight"])
        #expect(weight.shape == [64, 64, 3, 3])
        let n = Double(weight.storage.count)
        let mean = weight.storage.reduce(0) { $0 + Double($1) } / n
        let variance = weight.storage.reduce(0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / (n - 1)
        let expected = (2.0 / 576).squareRoot()
        #expect(abs(variance.squareRoot() - expected) < 0.1 * expected)
        #expect(abs(mean) < 0.05 * expected)
        // A normal distribution: about 68% within one std.
        let within = weight.storage.filter { abs(Double($0)) < expected }.count
        #expect(abs(Double(within) / n - 0.6827) < 0.02)
        #expect(weight.storage.allSatisfy { $0.isFinite })
    }

    @Test func fullyConnectedFanIn() throws {
        // out.weight is [3, 72]: fan_in 72.
        let net = try network(smallNetworkSource)
        var all: [Float] = []
        for seed in 0..<200 as Range<UInt64> {
            all += WeightInit.weights(for: net, seed: seed).tensors["out.weight"]!.storage
        }
        let n = Double(all.count)
        let std = (all.reduce(0) { $0 + Double($1) * Double($1) } / n).squareRoot()
        #expect(abs(std - (2.0 / 72).squareRoot()) < 0.05 * (2.0 / 72).squareRoot())
    }

    @Test func generatorIsDeterministicAndUniform() {
        var a = Xoshiro256StarStar(seed: 0)
        var b = Xoshiro256StarStar(seed: 0)
        var sum = 0.0
        for _ in 0..<10_000 {
            let x = a.nextUnit()
            #expect(x == b.nextUnit())
            #expect(x >= 0 && x < 1)
            sum += x
        }
        #expect(abs(sum / 10_000 - 0.5) < 0.02)
        // splitmix64's published first output for seed 0.
        var state: UInt64 = 0
        #expect(SplitMix64.next(&state) == 0xE220_A839_7B1D_CDAF)
    }
}
