import Codegen
import Foundation
import Runtime
import ShapeCheck

/// `cnnc bench FILE [--batch N] [--threads T] [--backend c|swift|reference] [--json] [--layers]
/// [--precise] [--target T] [--fusion F] [--schedule S] [--weights W [--ignore-extra-weights]] [--seconds S] [--min-runs R]`: time the compiled network.
///
/// Weights are random (He, seed 1) unless --weights is given, the input uniform in [0, 1).
/// After a warm-up the network runs until it has run at least R times (10) and S seconds (3);
/// the median and minimum latency per batch, images/s and GFLOP/s (2·MACs·batch / median)
/// are printed. --layers also times each kernel step (a -DCNNC_PROFILE build of the same
/// code) and, after each profiled run, the machine's peak FMA rate on the same threads, so
/// each step shows its GFLOP/s (median over the runs) and share of that peak (the median
/// of the windows).
enum BenchCommand {
    static let spec = CommandSpec(
        name: "bench", summary: "time the compiled network on random weights: latency, images/s, GFLOP/s",
        discussion: "Compile the network and time it on random weights (He, seed 1) unless --weights is given, and a uniform "
            + "random input. After a warm-up it runs at least --min-runs times and --seconds seconds; print the median "
            + "and minimum latency per batch, images/s and GFLOP/s (2·MACs·batch / median).",
        positional: .networkFile,
        options: [
            .option("--batch", "-b", value: "N", help: "images per run", default: "1"),
            .option("--threads", "-j", value: "T", help: "threads for the c and swift backends", default: "1"),
            .choice("--backend", Backend.allCases.map(\.rawValue), help: "what runs it", default: "c"),
            .flag("--json", help: "print one JSON object (median_ms, min_ms, images_per_s, gflops, …)"),
            .flag("--layers", help: "also time every kernel step, against the machine's FMA peak on the same threads"),
            .flag("--precise", help: "no Winograd: every convolution direct"),
            .flag("--plain", help: "time the plain reference loops instead of the fast kernels"),
            .target, .fusion, .schedule,
            .weights, .ignoreExtraWeights,
            .option("--seconds", value: "S", help: "measure for at least S seconds (0 to 3600)", default: "3"),
            .option("--min-runs", value: "R", help: "and at least R runs", default: "10"),
        ],
        examples: ["cnnc bench models/resnet18.cnn --threads 2", "cnnc bench models/lenet5.cnn --layers"])
    static let usage = spec.usage

    static func run(_ words: [String], _ console: Console) -> Int32 {
        var arguments = Arguments(words, spec: spec)
        let batch = arguments.intOption("--batch", range: 1...65536) ?? 1
        let threads = arguments.intOption("--threads", range: 1...1024) ?? 1
        let backendText = arguments.option("--backend")
        let json = arguments.flag("--json")
        let layers = arguments.flag("--layers")
        let precise = arguments.flag("--precise")
        let plain = arguments.flag("--plain")
        let weightsOption = WeightsOption(&arguments)
        let weightsPath = weightsOption.path
        let secondsText = arguments.option("--seconds")
        let minimumRuns = arguments.intOption("--min-runs", range: 1...1_000_000) ?? 10
        let target = arguments.vectorTarget()
        let fusion = arguments.fusionPolicy()
        let schedule = arguments.batchSchedule()
        let files = arguments.positional()

        var problems: [String] = []
        if files.count != 1 { problems.append(files.isEmpty ? "no network file given" : "give one network file, not \(files.count)") }
        var backend = Backend.c
        if let backendText {
            if let chosen = Backend(rawValue: backendText) { backend = chosen } else {
                problems.append("--backend is one of \(Backend.allCases.map(\.rawValue).joined(separator: ", ")), not '\(backendText)'")
            }
        }
        var seconds = 3.0
        if let secondsText {
            if let value = Double(secondsText), value >= 0, value <= maximumSeconds { seconds = value } else {
                problems.append("--seconds takes a number of seconds from 0 to \(Int(maximumSeconds)), not '\(secondsText)'")
            }
        }
        if layers && backend != .c { problems.append("--layers times the kernel steps of the c backend") }
        if let problem = weightsOption.problem { problems.append(problem) }
        if Driver.reportUsageProblems(arguments, spec: spec, console: console) { return ExitCode.usage }
        if !problems.isEmpty {
            for problem in problems { console.err("cnnc bench: \(problem)") }
            console.err(spec.usageError)
            return ExitCode.usage
        }
        guard let file = files.first else { return ExitCode.usage }
        guard let network = NetworkLoader.load(file, command: "bench", console: console) else { return ExitCode.failure }

        do {
            let budget = try MemoryBudget.current()
            let weights: [String: Tensor]
            if let weightsPath {
                weights = try WeightsOption.load(weightsPath, ignoreExtra: weightsOption.ignoreExtra, for: network,
                                                 command: "bench", console: console)
            } else {
                try WeightInit.checkMemory(for: network, budget: budget)
                weights = WeightInit.weights(for: network, seed: 1).tensors
            }
            let options = ExecutorOptions(threads: threads, precise: precise, plainKernels: plain, target: target,
                                          batchSchedule: schedule, fusion: fusion, progress: console.progress)
            let flops = 2.0 * Double(network.multiplyAccumulates) * Double(batch)

            let times: [Double]
            var profile: [(step: PlanStep, seconds: Double)]?
            var peak: Double?, peakBest: Double?, peakWindows = 0
            var description = backend.rawValue
            switch backend {
            case .reference:
                let executor = ReferenceInterpreter(network: network, weights: weights)
                try checkMemory(executor, batch: batch, budget: budget)
                let input = try uniformInput(network, batch: batch)
                times = try measure(seconds: seconds, minimumRuns: minimumRuns, console: console) {
                    _ = try executor.run(input, budget: MemoryBudget(bytes: Int.max))
                }
            case .c, .swift:
                let executor = try CompiledExecutor(backend: backend, network: network, weights: weights, options: options)
                description += plain ? ", plain kernels" : ", fast kernels for \(target.rawValue)" + (precise ? ", precise (no Winograd)" : "")
                try checkMemory(executor, batch: batch, budget: budget)
                let input = try uniformInput(network, batch: batch)
                let prepared = try executor.prepare(input)
                times = try measure(seconds: seconds, minimumRuns: minimumRuns, console: console) {
                    guard prepared.run() else { throw RuntimeError("\(executor.libraryPath): the compiled network returned an error") }
                }
                if layers {
                    var profiled = options
                    profiled.profile = true
                    let profiler = try CompiledExecutor(backend: .c, network: network, weights: weights, options: profiled)
                    let run = try profiler.prepare(input)
                    let paired = try profileBesidePeak(run, meter: try PeakMeter(), threads: threads,
                                                       seconds: min(seconds, 3), minimumRuns: max(5, min(minimumRuns, 10)))
                    if let plan = profiler.program.kernelPlan, !paired.steps.isEmpty {
                        profile = plan.steps.enumerated().map { index, step in
                            (step, median(paired.steps.map { index < $0.count ? $0[index] : 0 }))
                        }
                    } else if !plain {
                        console.err("cnnc bench: the profiled library reports no steps")
                    }
                    peak = median(paired.windows)
                    peakBest = paired.windows.max()
                    peakWindows = paired.windows.count
                }
            }

            let sorted = times.sorted()
            let medianTime = median(sorted), minimumTime = sorted.first ?? 0
            let result = BenchResult(network: network.name, backend: description, batch: batch, threads: threads,
                                     runs: times.count, medianSeconds: medianTime, minimumSeconds: minimumTime, flops: flops,
                                     peak: peak, peakBest: peakBest, peakWindows: peakWindows, profile: profile)
            console.out(json ? result.json : result.text)
        } catch {
            NetworkLoader.report(error, command: "bench", console: console)
            return ExitCode.failure
        }
        return ExitCode.success
    }

    /// The most seconds `--seconds` takes, and the most a measurement runs whatever `--min-runs`
    /// asks (a slow network times a million runs would take days).
    static let maximumSeconds = 3600.0

    /// A batch is timed whole, so its workspace, input and output must fit the memory budget
    /// together; beyond it the OOM killer (or a trap under `ulimit -v`) would end the run.
    static func checkMemory(_ executor: NetworkExecutor, batch: Int, budget: MemoryBudget) throws {
        let network = executor.network
        let parts = [("workspace", executor.workspaceBytes(batch: batch)),
                     ("input", 4 * batch * network.input.elementCount), ("output", 4 * batch * network.output.elementCount)]
        let total = parts.reduce(0) { $0.addingReportingOverflow($1.1).partialValue }
        guard total > budget.bytes else { return }
        let detail = parts.map { "\($0.0) \(MemoryBudget.describe($0.1))" }.joined(separator: ", ")
        throw RuntimeError("a batch of \(batch) needs \(MemoryBudget.describe(total)) (\(detail)), more than the "
            + "memory budget of \(MemoryBudget.describe(budget.bytes)); use a smaller --batch"
            + (budget.fromEnvironment ? " or raise \(MemoryBudget.variable)" : " or set \(MemoryBudget.variable)"))
    }

    /// Uniform values in [0, 1), deterministic.
    static func uniformInput(_ network: CheckedNetwork, batch: Int) throws -> Tensor {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        let count = batch * network.input.elementCount
        var values = try zeroFloats(count, for: "the input of \(batch) image\(batch == 1 ? "" : "s")")
        for i in 0..<count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            values[i] = Float(state >> 40) / Float(1 << 24)
        }
        return Tensor(shape: [batch] + network.input.dimensions, storage: values)
    }

    /// Seconds of each timed run: one warm-up run (two when it is fast), then runs until there
    /// are `minimumRuns` and `seconds` have passed — or, with fewer runs, `limit` seconds have
    /// (said on stderr); at least one run is timed.
    static func measure(seconds: Double, minimumRuns: Int, limit: Double = maximumSeconds, console: Console? = nil,
                        _ body: () throws -> Void) throws -> [Double] {
        let warmStart = now()
        try body()
        if now() - warmStart < 0.5 { try body() }
        var times: [Double] = []
        let start = now()
        repeat {
            let t = now()
            try body()
            times.append(now() - t)
        } while (times.count < minimumRuns || now() - start < seconds) && now() - start < limit
        if times.count < minimumRuns {
            console?.err("cnnc bench: stopped after \(times.count) of the \(minimumRuns) runs --min-runs asks for: "
                + "a measurement takes at most \(Int(limit)) seconds")
        }
        return times
    }

    /// Each step's seconds in profiled runs, each run followed by a window of the peak FMA loop
    /// as long as the run (0.05–0.2 s), until there are `minimumRuns` and `seconds` have passed.
    /// The clock of a shared machine wanders by 10% and more over seconds; alternating the two
    /// samples both over the same stretch of time. An untimed run before each timed one wakes
    /// the pool's threads and refills the caches after the window (LeNet-5's steps took 2.6
    /// times as long in all when timed right after one).
    static func profileBesidePeak(_ run: PreparedRun, meter: PeakMeter, threads: Int, seconds: Double,
                                  minimumRuns: Int) throws -> (steps: [[Double]], windows: [Double]) {
        func once() throws -> (steps: [Double]?, seconds: Double) {
            let start = now()
            guard run.run() else { throw RuntimeError("the profiled network returned an error") }
            return (run.stepSeconds(), now() - start)
        }
        var steps: [[Double]] = [], windows: [Double] = []
        let start = now()
        while windows.count < minimumRuns || now() - start < seconds {
            _ = try once()
            let (times, elapsed) = try once()
            if let times { steps.append(times) }
            windows.append(meter.rate(threads: threads, seconds: min(max(elapsed, 0.05), 0.2)))
        }
        return (steps, windows)
    }

    static func now() -> Double { monotonicSeconds() }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

struct BenchResult {
    var network: String
    var backend: String
    var batch: Int
    var threads: Int
    var runs: Int
    var medianSeconds: Double
    var minimumSeconds: Double
    var flops: Double
    /// The median of the peak FMA loop's windows, one after each profiled run; their best.
    var peak: Double?
    var peakBest: Double?
    var peakWindows = 0
    var profile: [(step: PlanStep, seconds: Double)]?

    var imagesPerSecond: Double { medianSeconds > 0 ? Double(batch) / medianSeconds : 0 }
    var gflops: Double { medianSeconds > 0 ? flops / medianSeconds / 1e9 : 0 }

    func stepGFLOPS(_ step: PlanStep, _ seconds: Double) -> Double {
        seconds > 0 ? 2 * Double(step.macs * batch) / seconds / 1e9 : 0
    }

    var text: String {
        func f(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
        var lines = [
            "\(network): batch \(batch), \(threads) thread\(threads == 1 ? "" : "s"), backend \(backend)",
            "  \(runs) runs; per batch: median \(f(medianSeconds * 1e3, 3)) ms, min \(f(minimumSeconds * 1e3, 3)) ms",
            "  \(f(imagesPerSecond, 1)) images/s, \(f(gflops, 1)) GFLOP/s (\(f(flops / Double(batch) / 1e9, 3)) GFLOP per image)",
        ]
        if let peak {
            var line = "  peak \(f(peak, 1)) GFLOP/s (\(threads) thread\(threads == 1 ? "" : "s") of FMA: the median of \(peakWindows) "
                + "window\(peakWindows == 1 ? "" : "s"), one after each profiled run"
            if let peakBest { line += "; best \(f(peakBest, 1))" }
            lines.append(line + ")")
        }
        if let profile {
            let total = profile.reduce(0) { $0 + $1.seconds }
            let nameWidth = min(48, max(12, profile.map { $0.step.name.count }.max() ?? 12))   // 12: "sum of steps"
            lines.append("")
            lines.append("  " + "step".padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                + "  kernel                ms      share   GFLOP/s  of peak")
            for (step, seconds) in profile {
                let name = String(step.name.prefix(nameWidth)).padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                let kernel = kernelName(step).padding(toLength: 18, withPad: " ", startingAt: 0)
                var line = "  \(name)  \(kernel) \(pad(f(seconds * 1e3, 4), 9))  \(pad(f(total > 0 ? seconds / total * 100 : 0, 1), 5))%"
                if step.macs > 0 {
                    let g = stepGFLOPS(step, seconds)
                    line += "  \(pad(f(g, 1), 8))"
                    if let peak, peak > 0 { line += "  \(pad(f(g / peak * 100, 1), 6))%" }
                }
                lines.append(line)
            }
            lines.append("  " + "sum of steps".padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                + "  " + "".padding(toLength: 18, withPad: " ", startingAt: 0) + " \(pad(f(total * 1e3, 3), 9))")
        }
        return lines.joined(separator: "\n")
    }

    func kernelName(_ step: PlanStep) -> String { step.kernelName }

    func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    var json: String {
        func number(_ value: Double) -> String { value.isFinite ? String(format: "%.6g", value) : "null" }
        let string = CheckReport.quoted
        var fields = [
            "\"network\": \(string(network))", "\"backend\": \(string(backend))", "\"batch\": \(batch)",
            "\"threads\": \(threads)", "\"runs\": \(runs)", "\"median_ms\": \(number(medianSeconds * 1e3))",
            "\"min_ms\": \(number(minimumSeconds * 1e3))", "\"images_per_s\": \(number(imagesPerSecond))",
            "\"gflops\": \(number(gflops))", "\"gflop_per_image\": \(number(flops / Double(batch) / 1e9))",
        ]
        if let peak { fields.append("\"peak_gflops\": \(number(peak))") }
        if let peakBest { fields.append("\"peak_best_gflops\": \(number(peakBest))") }
        if peak != nil { fields.append("\"peak_windows\": \(peakWindows)") }
        if let profile {
            let steps = profile.map { step, seconds -> String in
                var parts = ["\"name\": \(string(step.name))", "\"kernel\": \(string(kernelName(step)))",
                             "\"ms\": \(number(seconds * 1e3))", "\"macs\": \(step.macs * batch)"]
                if step.macs > 0 {
                    parts.append("\"gflops\": \(number(stepGFLOPS(step, seconds)))")
                    if let peak, peak > 0 { parts.append("\"peak_share\": \(number(stepGFLOPS(step, seconds) / peak))") }
                }
                return "{" + parts.joined(separator: ", ") + "}"
            }
            fields.append("\"layers\": [" + steps.joined(separator: ", ") + "]")
        }
        return "{" + fields.joined(separator: ", ") + "}"
    }
}
