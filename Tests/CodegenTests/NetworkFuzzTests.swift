import Codegen
import Foundation
import NetworkFuzz
import Runtime
import ShapeCheck
import Testing

/// The network fuzzer (Sources/NetworkFuzz): random valid networks through every backend
/// against the reference interpreter, the generator's reach, the shrinker, and every
/// failure the fuzzer has found, replayed. `fuzz/networks.sh SECONDS` runs it unbounded.
@Suite struct NetworkFuzzTests {
    /// The fixed seeds: every one is generated and checked, and its features counted.
    static let coverageSeeds: [UInt64] = Array(1...300)
    /// Those that run through the backends here, in chunks the test runner spreads over the
    /// cores. Each builds the fast C once (1, 2 and 3 threads) and one other variant in turn;
    /// `fuzz/networks.sh` runs every variant on every network.
    static let differentialChunks = 13, perChunk = 4
    static let generator = NetworkGenerator(limits: .tests)

    @Test func generatorCoversTheLanguage() throws {
        var seen: [String: Int] = [:]
        for seed in Self.coverageSeeds {
            let spec = Self.generator.network(seed: seed)
            #expect(spec == Self.generator.network(seed: seed), "seed \(seed) draws two different networks")
            let net = try #require(spec.checked, "seed \(seed) does not check:\n\(spec.text)")
            #expect(net.multiplyAccumulates <= NetworkGenerator.Limits.tests.maxMACs)
            #expect(spec.keepsInputToPrologue, "seed \(seed) reads the 3e38 input past the NaN prologue")
            for feature in Coverage.features(spec, net) { seen[feature, default: 0] += 1 }
        }
        let missing = Coverage.all.subtracting(seen.keys).sorted()
        #expect(missing.isEmpty, "features no seed reaches: \(missing)")
        // Every feature reached is one of the list, so "reached N of M" counts like with like.
        let unlisted = Set(seen.keys).subtracting(Coverage.all).sorted()
        #expect(unlisted.isEmpty, "features reached but not in Coverage.all: \(unlisted)")
        // The seeds that run through the backends reach every feature too.
        var differential: Set<String> = []
        for seed in Self.differentialSeeds.flatMap({ $0 }) {
            let spec = Self.generator.network(seed: seed)
            differential.formUnion(Coverage.features(spec, try #require(spec.checked)))
        }
        #expect(Coverage.all.subtracting(differential).isEmpty,
                "features the backend seeds miss: \(Coverage.all.subtracting(differential).sorted())")
    }

    /// The fast C kernels the seeds reach (AVX2's plan, whatever this machine is): the backend
    /// seeds every fused and blocked path but Winograd, whose wide layers exceed the test
    /// limits; the release fuzzer's limits reach Winograd in about 4% of networks.
    @Test func generatorReachesTheFastKernels() throws {
        func kernels(_ seeds: [UInt64], _ limits: NetworkGenerator.Limits) throws -> Set<String> {
            var seen: Set<String> = []
            for seed in seeds {
                let net = try #require(NetworkGenerator(limits: limits).network(seed: seed).checked)
                seen.formUnion(KernelCoverage.features(net, options: KernelOptions(target: .avx2)))
            }
            return seen
        }
        let differential = try kernels(Self.differentialSeeds.flatMap { $0 }, .tests)
        let wanted: Set<String> = ["direct", "direct+residual", "paired", "paired+residual", "direct:across-rows", "direct:multi-row",
                                   "direct:prepadded", "direct:sliced", "direct:planar-input", "fc", "blocked", "reference",
                                   "to-blocked", "to-planar", "pad"]
        #expect(wanted.subtracting(differential).isEmpty, "missing: \(wanted.subtracting(differential).sorted())")
        // F(2,5)+residual is the rarest: a few in a thousand networks.
        let fuzz = try kernels(Array(1...700), .fuzz)
        let winograd: Set<String> = ["winograd F(4,3)", "winograd F(4,3)+residual", "winograd F(2,5)", "winograd F(2,5)+residual"]
        #expect(winograd.subtracting(fuzz).isEmpty, "missing: \(winograd.subtracting(fuzz).sorted())")
    }

    /// The mobile features are found by the graph's structure, so torchvision's own networks
    /// have them: the blocks the generator draws are the ones these are made of.
    @Test(arguments: [
        ("mobilenet_v3_large", ["motif:inverted-residual", "motif:inverted-residual+se", "motif:inverted-residual+add", "motif:se", "depthwise:5x5"]),
        ("efficientnet_b0", ["motif:inverted-residual+se", "motif:inverted-residual+add", "depthwise:5x5"]),
        ("shufflenet_v2_x1_0", ["motif:shuffle-unit", "motif:shuffle-unit-stride2", "depth:58", "depth:116"]),
        ("regnet_y_400mf", ["motif:grouped-bottleneck", "motif:se", "groups:small", "groups:stride2"]),
        ("regnet_x_1_6gf", ["motif:grouped-bottleneck", "groups:split-blocks"]),
        ("resnext50_32x4d", ["motif:grouped-bottleneck", "groups:small"]),
    ])
    func mobileFeaturesOfTorchvision(_ model: String, _ expected: [String]) throws {
        let path = Paths.packageRoot.appendingPathComponent("models/torchvision/\(model).cnn").path
        let net = try #require(checkSource(try String(contentsOfFile: path, encoding: .utf8), path: path).network)
        let found = Coverage.mobileFeatures(net)
        #expect(Set(expected).subtracting(found).isEmpty, "\(model) lacks \(Set(expected).subtracting(found).sorted()); has \(found.sorted())")
        #expect(found.isSubset(of: Coverage.all))
    }

    /// The same layers without the block around them are not the block.
    @Test func mobileFeaturesNeedTheWholeBlock() throws {
        let text = """
            network parts
            input 9x1x64
            a: depthwise 7x7 stride 2 pad 3
            b: conv 64 3x3 pad 1 groups 2
            c: globalavgpool
            d: conv 64 1x1 sigmoid
            e: mul b d
            f: concat b e
            g: shuffle 2

            """
        let net = try #require(checkSource(text, path: "parts.cnn").network)
        let found = Coverage.mobileFeatures(net)
        #expect(found == ["depthwise:7x7", "depthwise:stride2-odd", "depthwise:width1", "groups:width32"], "\(found.sorted())")
    }

    /// The backend seeds, chosen from the coverage seeds as libFuzzer's merge chooses a corpus:
    /// in seed order, each seed that reaches a language feature or a fast kernel the ones
    /// before it did not, then the lowest others up to the count; dealt into the chunks.
    static let differentialSeeds: [[UInt64]] = {
        var chosen: [UInt64] = [], seen: Set<String> = []
        for seed in coverageSeeds where chosen.count < differentialChunks * perChunk {
            let spec = generator.network(seed: seed)
            guard let net = spec.checked else { continue }
            let features = Coverage.features(spec, net).union(KernelCoverage.features(net, options: KernelOptions(target: .avx2)))
            if !features.isSubset(of: seen) { chosen.append(seed); seen.formUnion(features) }
        }
        for seed in coverageSeeds where chosen.count < differentialChunks * perChunk && !chosen.contains(seed) { chosen.append(seed) }
        return (0..<differentialChunks).map { chunk in stride(from: chunk, to: chosen.count, by: differentialChunks).map { chosen[$0] } }
    }()

    @Test(arguments: 0..<differentialChunks)
    func randomNetworksAgree(_ chunk: Int) throws {
        let others = BackendVariant.all.filter { $0.name != "c" }
        for seed in Self.differentialSeeds[chunk] {
            let spec = Self.generator.network(seed: seed)
            let variants = [BackendVariant.named("c")!, others[Int(seed) % others.count]]
            let found = DifferentialRunner(variants: variants, cache: testCache).run(spec.fuzzCase)
            #expect(found.isEmpty, "seed \(seed):\n\(spec.fuzzCase.file)\(found.map { "\($0)" }.joined(separator: "\n"))")
        }
    }

    /// Every failure the fuzzer found, minimized, and the issue's hand-made cases, through
    /// every backend and variant.
    static let findings: [String] = {
        let folder = Paths.packageRoot.appendingPathComponent("Tests/Fixtures/fuzz").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".cnn") }.sorted()
    }()

    @Test func findingsAreListed() {
        #expect(Self.findings.count >= 4, "Tests/Fixtures/fuzz has \(Self.findings.count) cases")
    }

    @Test(arguments: findings)
    func findingsAgree(_ name: String) throws {
        let path = Paths.packageRoot.appendingPathComponent("Tests/Fixtures/fuzz/\(name)").path
        let fuzzCase = try #require(FuzzCase(file: try String(contentsOfFile: path, encoding: .utf8)), "\(name) has no fuzz-case header")
        #expect(fuzzCase.checked != nil, "\(name) does not check")
        let found = DifferentialRunner(variants: BackendVariant.all, cache: testCache).run(fuzzCase)
        #expect(found.isEmpty, "\(name):\n\(found.map { "\($0)" }.joined(separator: "\n"))")
    }

    /// A planted bug: a "backend" that is the reference but off by one in its first output
    /// whenever the network has a `round ceil` pool. The shrinker must cut a large random
    /// network that has one down to that pool alone on a small input.
    @Test func shrinkerFindsAPlantedBug() throws {
        func planted(_ spec: NetworkSpec) -> Bool {
            guard let net = spec.checked else { return false }
            let fuzzCase = spec.fuzzCase
            let weights = fuzzCase.weights(for: net), input = fuzzCase.input(for: net)
            guard let reference = try? ReferenceInterpreter(network: net, weights: weights).run(input) else { return false }
            var buggy = reference
            if net.layers.contains(where: { if case .pooling(let p) = $0.operation { return p.ceilMode }; return false }) {
                buggy.storage[0] += 1
            }
            return DifferentialRunner.compare(buggy, reference) != nil
        }
        let seed = try #require((1...2000).map(UInt64.init).first { seed in
            let spec = Self.generator.network(seed: seed)
            return spec.layers.count >= 6 && planted(spec)
        })
        let start = Self.generator.network(seed: seed)
        let (small, tried) = Shrinker().shrink(start, stillFails: planted)
        #expect(planted(small), "the shrunk network no longer fails")
        #expect(small.layers.count == 1, "seed \(seed) shrunk in \(tried) tries to:\n\(small.text)")
        if case .pool(_, _, let ceil)? = small.layers.first?.op { #expect(ceil) } else { Issue.record("not a pool:\n\(small.text)") }
        #expect(small.batch == 1 && small.nanCells.isEmpty)
        #expect(small.width * small.height * small.depth <= 16, "input \(small.width)x\(small.height)x\(small.depth) left")
    }

    @Test func comparisonRules() {
        func t(_ values: [Float]) -> Tensor { Tensor(shape: [values.count], storage: values) }
        #expect(DifferentialRunner.compare(t([1, 2, 3]), t([1, 2, 3])) == nil)
        #expect(DifferentialRunner.compare(t([1.00005, 2]), t([1, 2])) == nil)      // within 1e-4 · max(1, 2)
        #expect(DifferentialRunner.compare(t([1.001, 2]), t([1, 2])) != nil)
        #expect(DifferentialRunner.compare(t([.nan, .infinity, -.infinity, 5]), t([.nan, .infinity, -.infinity, 5])) == nil)
        #expect(DifferentialRunner.compare(t([0, 1]), t([.nan, 1])) != nil)          // NaN turned into a number
        #expect(DifferentialRunner.compare(t([.nan, 1]), t([0, 1])) != nil)
        #expect(DifferentialRunner.compare(t([.infinity]), t([-.infinity])) != nil)
        #expect(DifferentialRunner.compare(t([.nan]), t([.infinity])) != nil)
        // The tolerance scales with the finite values only: an inf elsewhere does not loosen it.
        #expect(DifferentialRunner.compare(t([1.01, .infinity]), t([1, .infinity])) != nil)
        #expect(DifferentialRunner.compare(t([1, 2]), Tensor(shape: [1, 2], storage: [1, 2])) != nil)
    }

    @Test func caseFilesRoundTrip() throws {
        let spec = Self.generator.network(seed: 7)
        let read = try #require(FuzzCase(file: spec.fuzzCase.file))
        #expect(read.batch == spec.batch && read.dataSeed == spec.dataSeed && read.nanCells == spec.nanCells)
        #expect(read.checked != nil)
        #expect(FuzzCase(file: "input 4\nfc 2\n") == nil)
        // The NaN prologue turns each 3e38 cell into NaN and leaves the others as they were.
        let nanSpec = try #require((1...200).map { Self.generator.network(seed: UInt64($0)) }.first { !$0.nanCells.isEmpty })
        var prologue = nanSpec
        prologue.layers = Array(prologue.layers.prefix(3))
        let net = try #require(prologue.checked)
        let c = prologue.fuzzCase
        let input = c.input(for: net)
        let out = try ReferenceInterpreter(network: net, weights: c.weights(for: net)).run(input)
        for i in input.storage.indices {
            if input.storage[i] == 3e38 { #expect(out.storage[i].isNaN) } else { #expect(abs(out.storage[i] - input.storage[i]) <= 1e-6) }
        }
    }
}
