// cnnc-fuzz-networks: random valid networks through every backend against the reference
// interpreter; each disagreement is shrunk to a minimal `.cnn` and written to the findings
// folder. Each network runs in a child process, so a crash or a hang in generated code is a
// finding, not the end of the run, and the compiled libraries a process loads (and their
// thread pools) go with it.
import Codegen
import Foundation
import NetworkFuzz
import Runtime
#if canImport(Glibc)
import Glibc
#endif

let usage = """
    usage: cnnc-fuzz-networks run SECONDS [--seed N] [--findings DIR] [--jobs J] [--limits tests|fuzz]
           cnnc-fuzz-networks show SEED [--limits tests|fuzz]     print the network a seed draws
           cnnc-fuzz-networks cover COUNT [--seed N] [--limits tests|fuzz]  what COUNT seeds reach
           cnnc-fuzz-networks case FILE [--variants a,b]          run one case (the child's side)
    variants: \(BackendVariant.all.map(\.name).joined(separator: ", "))
    """

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("cnnc-fuzz-networks: \(message)\n\(usage)\n".utf8))
    exit(2)
}

func main() {
    // A signal to the fuzzer reaches each child's process group, and a child's to its compilers.
    SignalCleanup.install()
    var arguments = Array(CommandLine.arguments.dropFirst())
    func option(_ name: String) -> String? {
        guard let i = arguments.firstIndex(of: name) else { return nil }
        guard i + 1 < arguments.count else { fail("\(name) needs a value") }
        let value = arguments[i + 1]
        arguments.removeSubrange(i...i + 1)
        return value
    }
    let limits: NetworkGenerator.Limits
    switch option("--limits") ?? "fuzz" {
    case "tests": limits = .tests
    case "fuzz": limits = .fuzz
    case let other: fail("unknown --limits '\(other)'")
    }
    guard let command = arguments.first else { fail("no command") }

    switch command {
    case "show":
        guard arguments.count == 2, let seed = UInt64(arguments[1]) else { fail("show takes one seed") }
        let spec = NetworkGenerator(limits: limits).network(seed: seed)
        print(spec.fuzzCase.file, terminator: "")
    case "cover":
        // What COUNT seeds reach, without running them: language features and fast C and Swift kernels.
        let first = UInt64(option("--seed") ?? "1") ?? 1
        guard arguments.count == 2, let count = UInt64(arguments[1]), count > 0 else { fail("cover takes COUNT") }
        var features: [String: Int] = [:], kernels: [String: Int] = [:], swiftKernels: [String: Int] = [:]
        var layers = 0, macs = 0, values = 0
        for seed in first..<(first + count) {
            let spec = NetworkGenerator(limits: limits).network(seed: seed)
            guard let net = spec.checked else { fail("seed \(seed) does not check") }
            layers += net.layers.count; macs += net.multiplyAccumulates * spec.batch; values += net.activationElements * spec.batch
            for f in Coverage.features(spec, net) { features[f, default: 0] += 1 }
            for k in KernelCoverage.fastCFeatures(net) { kernels[k, default: 0] += 1 }
            for k in KernelCoverage.features(net, options: KernelOptions(target: .host, language: .swift)) { swiftKernels[k, default: 0] += 1 }
        }
        for (name, table) in [("language features", features), ("fast C kernels", kernels), ("fast Swift kernels", swiftKernels)] {
            say("\(name) (networks of \(count) using each):")
            for (key, n) in table.sorted(by: { $0.key < $1.key }) { say("  \(key) \(n)") }
        }
        let missing = Coverage.all.subtracting(features.keys).sorted()
        if !missing.isEmpty { say("missing: \(missing)") }
        // What a network costs to run, on average: the fuzzer's networks per second follow it.
        let n = Int(count)
        say("mean per network: \(String(format: "%.1f", Double(layers) / Double(n))) layers, \(macs / n) MACs and \(values / n) activation values over its batch")
    case "case":
        let variantNames = option("--variants")
        guard arguments.count == 2 else { fail("case takes one file") }
        dieWithParent()
        guard let text = try? String(contentsOfFile: arguments[1], encoding: .utf8), let fuzzCase = FuzzCase(file: text) else {
            fail("\(arguments[1]) is not a fuzz case")
        }
        var variants = BackendVariant.all
        if let variantNames {
            variants = variantNames.split(separator: ",").map {
                guard let v = BackendVariant.named(String($0)) else { fail("unknown variant '\($0)'") }
                return v
            }
        }
        let cacheFolder = NSTemporaryDirectory() + "cnnc-fuzz-cache-\(getpid())"
        SignalCleanup.registerTemporary(cacheFolder)
        defer { try? FileManager.default.removeItem(atPath: cacheFolder) }
        let runner = DifferentialRunner(variants: variants, cache: CompilerCache(directory: cacheFolder))
        let found = runner.run(fuzzCase)
        say("runs \(variants.reduce(0) { $0 + $1.threads.count })")
        for d in found { say("disagree \(d.variant) \(d.threads) \(d.message.replacingOccurrences(of: "\n", with: " "))") }
        try? FileManager.default.removeItem(atPath: cacheFolder)
        exit(0)
    case "run":
        let firstSeed = UInt64(option("--seed") ?? "1") ?? 1
        let findings = option("--findings") ?? "fuzz/findings"
        let jobs = Int(option("--jobs") ?? "2") ?? 2
        guard arguments.count == 2, let seconds = Double(arguments[1]), seconds > 0 else { fail("run takes SECONDS") }
        let fuzzer = Fuzzer(limits: limits, findings: findings, seconds: seconds)
        exit(fuzzer.run(firstSeed: firstSeed, jobs: jobs))
    default:
        fail("unknown command '\(command)'")
    }
}

/// A child polls for its parent: when the fuzzer dies, it is re-parented and exits, so no
/// orphan keeps compiling (Linux's PR_SET_PDEATHSIG is not in Swift's Glibc module).
func dieWithParent() {
    let parent = getppid()
    Thread.detachNewThread {
        while getppid() == parent { sleep(1) }
        exit(3)
    }
}

main()
