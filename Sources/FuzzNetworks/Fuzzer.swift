import Codegen
import Foundation
import NetworkFuzz
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// The parent side: draws networks, runs each in a child, shrinks what fails.
final class Fuzzer: @unchecked Sendable {
    let generator: NetworkGenerator
    let findings: String
    let deadline: Date
    let start = Date()
    let lock = NSLock()
    var networks = 0, backendRuns = 0, failures = 0
    /// Networks per language feature and per fast C and fast Swift kernel of this machine's plans.
    var features: [String: Int] = [:], kernels: [String: Int] = [:], swiftKernels: [String: Int] = [:]
    var nextSeed: UInt64 = 1
    /// A child that has not answered in this long is hung: that is a finding too.
    let childTimeout: TimeInterval = 600

    init(limits: NetworkGenerator.Limits, findings: String, seconds: Double) {
        generator = NetworkGenerator(limits: limits)
        self.findings = findings
        deadline = Date().addingTimeInterval(seconds)
    }

    /// Runs until the deadline on `jobs` workers; the exit status: 0 when nothing disagreed.
    func run(firstSeed: UInt64, jobs: Int) -> Int32 {
        nextSeed = firstSeed
        try? FileManager.default.createDirectory(atPath: findings, withIntermediateDirectories: true)
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<max(1, jobs) { Thread.detachNewThread { self.work(); done.signal() } }
        var lastReport = Date()
        for _ in 0..<max(1, jobs) {
            while done.wait(timeout: .now() + 30) == .timedOut {
                if Date().timeIntervalSince(lastReport) >= 60 { report(final: false); lastReport = Date() }
            }
        }
        report(final: true)
        return failures == 0 ? 0 : 1
    }

    func report(final: Bool) {
        lock.lock(); defer { lock.unlock() }
        let elapsed = Int(Date().timeIntervalSince(start))
        say("\(final ? "done" : "progress"): \(networks) networks, \(backendRuns) backend runs, \(failures) failing, \(elapsed) s")
        if final {
            let missing = Coverage.all.subtracting(features.keys).sorted()
            say("language features reached: \(features.count) of \(Coverage.all.count)" + (missing.isEmpty ? "" : "; missing \(missing)"))
            for (name, table) in [("fast C kernels", kernels), ("fast Swift kernels", swiftKernels)] {
                say("\(name) (networks using each): " + table.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            }
            say("fuzz: \(networks - failures) passed, \(failures) failed")
        }
    }

    func work() {
        while Date() < deadline {
            lock.lock(); let seed = nextSeed; nextSeed += 1; lock.unlock()
            let spec = generator.network(seed: seed)
            let result = runChild(spec.fuzzCase, variants: nil)
            guard let net = spec.checked else { continue }    // the generator returns only networks that check
            lock.lock()
            networks += 1
            backendRuns += result.runs
            for f in Coverage.features(spec, net) { features[f, default: 0] += 1 }
            for k in KernelCoverage.fastCFeatures(net) { kernels[k, default: 0] += 1 }
            for k in KernelCoverage.features(net, options: KernelOptions(target: .host, language: .swift)) { swiftKernels[k, default: 0] += 1 }
            lock.unlock()
            guard !result.problems.isEmpty else { continue }
            lock.lock(); failures += 1; lock.unlock()
            // Shrink against the first variant that failed alone: one compile per candidate.
            let kind = result.problems[0].kind
            var variants = Array(result.problems.compactMap(\.variant).prefix(1))
            if variants.isEmpty {
                // A crash or hang of the child that ran them all: find the variant that has it.
                variants = Array(BackendVariant.all.map(\.name).first { v in
                    self.runChild(spec.fuzzCase, variants: [v]).problems.contains { $0.kind == kind }
                }.map { [$0] } ?? [])
            }
            say("seed \(seed): \(result.problems.map(\.text).joined(separator: "; "))")
            let (small, tried) = Shrinker(budget: 300).shrink(spec) { candidate in
                // The same kind of failure: a miscompile must not shrink into a crash.
                self.runChild(candidate.fuzzCase, variants: variants.isEmpty ? nil : variants).problems.contains { $0.kind == kind }
            }
            let again = runChild(small.fuzzCase, variants: nil)
            let path = "\(findings)/seed-\(seed).cnn"
            var text = small.fuzzCase.header + "\n"
            text += "# found by `fuzz/networks.sh` (seed \(seed)), shrunk in \(tried) tries from \(spec.layers.count) layers\n"
            for p in again.problems { text += "# \(p.text.split(whereSeparator: \.isNewline).joined(separator: " ").prefix(300))\n" }
            text += small.text
            try? text.write(toFile: path, atomically: true, encoding: .utf8)
            say("seed \(seed): minimized to \(small.layers.count) layers, written to \(path)")
        }
    }

    struct Problem {
        enum Kind { case disagreement, crash, hang, other }
        var kind: Kind
        var variant: String?
        var text: String
    }

    /// Runs a case in a child process; its backend runs and its problems (a disagreement,
    /// a crash, a hang, or output that cannot be read).
    func runChild(_ fuzzCase: FuzzCase, variants: [String]?) -> (runs: Int, problems: [Problem]) {
        let file = NSTemporaryDirectory() + "cnnc-fuzz-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).cnn"
        SignalCleanup.registerTemporary(file)
        defer {
            try? FileManager.default.removeItem(atPath: file)
            SignalCleanup.unregisterTemporary(file)
        }
        do { try fuzzCase.file.write(toFile: file, atomically: true, encoding: .utf8) } catch {
            return (0, [Problem(kind: .other, variant: nil, text: "cannot write \(file): \(error)")])
        }
        var executable = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        if !FileManager.default.isExecutableFile(atPath: executable), let found = Bundle.main.executablePath { executable = found }
        let arguments = ["case", file] + (variants.map { ["--variants", $0.joined(separator: ",")] } ?? [])
        // The shared runner: its own process group (killed whole on a timeout or a signal to
        // the fuzzer) and SIGKILL when the fuzzer dies.
        let result: ChildResult
        do { result = try Runtime.runChild(executable, arguments, timeout: childTimeout) } catch {
            return (0, [Problem(kind: .other, variant: nil, text: "cannot start a child: \(error)")])
        }
        // A child that crashed left its compile cache behind (cnnc-fuzz-cache-PID, see main.swift).
        try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "cnnc-fuzz-cache-\(result.pid)")
        if result.termination == .timedOut {
            return (0, [Problem(kind: .hang, variant: variants?.first, text: "hung: no answer in \(Int(childTimeout)) s")])
        }
        let output = result.output
        var runs = 0, problems: [Problem] = []
        for line in output.split(separator: "\n") {
            if line.hasPrefix("runs "), let n = Int(line.dropFirst(5)) { runs = n }
            if line.hasPrefix("disagree ") {
                let words = line.split(separator: " ", maxSplits: 3).map(String.init)
                problems.append(Problem(kind: .disagreement, variant: words.count > 1 ? words[1] : nil, text: words.dropFirst().joined(separator: " ")))
            }
        }
        if case .signaled(let signal) = result.termination {
            problems.append(Problem(kind: .crash, variant: variants?.first, text: "the child died of signal \(signal): \(firstLine(output))"))
        } else if let status = result.status, status != 0 {
            problems.append(Problem(kind: .other, variant: variants?.first, text: "the child exited \(status): \(firstLine(output))"))
        }
        return (runs, problems)
    }
}

/// The first line with something on it (a crash's reason: `free(): invalid pointer`).
func firstLine(_ text: String) -> String {
    String(text.split(whereSeparator: \.isNewline).first { !$0.allSatisfy(\.isWhitespace) }?.prefix(200) ?? "no output")
}

/// One line to standard output, unbuffered (the run is watched as it goes).
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
