import Codegen
import Foundation
import Runtime
import ShapeCheck

/// One way of running a network besides the reference: a backend, its options, and the
/// thread counts run on one compiled library. Built only in `all`, by the synthesized
/// memberwise initialiser.
public struct BackendVariant: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var backend: Backend = .c
    public var precise = false
    public var plainKernels = false
    public var target: VectorTarget = .host
    public var batchSchedule: BatchSchedule = .automatic
    public var fusion: FusionPolicy = .automatic
    public var threads = [1]

    public var description: String { name }

    public func options(threads: Int) -> ExecutorOptions {
        ExecutorOptions(threads: threads, precise: precise, plainKernels: plainKernels, target: target,
                        batchSchedule: batchSchedule, fusion: fusion)
    }

    /// The command-line flags that select it, for a failure report.
    public var flags: String {
        var words = ["--backend \(backend.rawValue)"]
        if plainKernels { words.append("--plain") }
        if precise { words.append("--precise") }
        if target != .host { words.append("--target \(target.rawValue)") }
        // No flag chooses the schedule; the report names the planner's option it forces.
        if batchSchedule != .automatic { words.append("(KernelOptions.batchSchedule = .\(batchSchedule.rawValue))") }
        if fusion != .automatic { words.append("(KernelOptions.fusion = .\(fusion.rawValue))") }
        return words.joined(separator: " ")
    }

    /// Every backend and variant: the fast C kernels (the default) on 1, 2 and 3 threads,
    /// `--precise`, both batch schedules forced, every inverted residual fused however small,
    /// the plain C kernels, the other vector units' blockings (their C compiled
    /// for this machine), and the fast and plain Swift kernels.
    public static let all: [BackendVariant] = {
        var all = [BackendVariant(name: "c", threads: [1, 2, 3]),
                   BackendVariant(name: "c-precise", precise: true, threads: [1, 2]),
                   BackendVariant(name: "c-images", batchSchedule: .imageByImage, threads: [1, 2, 3]),
                   BackendVariant(name: "c-whole-batch", batchSchedule: .wholeBatch, threads: [2]),
                   BackendVariant(name: "c-fused", fusion: .always, threads: [1, 2, 3]),
                   BackendVariant(name: "c-plain", plainKernels: true)]
        for target in VectorTarget.allCases where target != .host {
            all.append(BackendVariant(name: "c-\(target.rawValue)", target: target, threads: [1, 2]))
        }
        all.append(BackendVariant(name: "swift", backend: .swift, threads: [1, 2]))
        all.append(BackendVariant(name: "swift-plain", backend: .swift, plainKernels: true))
        return all
    }()

    public static func named(_ name: String) -> BackendVariant? { all.first { $0.name == name } }
}

/// A backend that did not give the reference's answer (or failed to build or run).
public struct Disagreement: Hashable, Sendable, CustomStringConvertible {
    public var variant: String
    public var threads: Int
    public var message: String

    public var description: String { "\(variant) on \(threads) thread\(threads == 1 ? "" : "s"): \(message)" }
}

/// Runs a case through the reference interpreter and through each variant, and compares:
/// within 1e-4 · max(1, max |finite reference|), with NaN and ±inf in the same places.
public struct DifferentialRunner: Sendable {
    public var variants: [BackendVariant]
    public var cache: CompilerCache

    public init(variants: [BackendVariant] = BackendVariant.all, cache: CompilerCache) {
        self.variants = variants
        self.cache = cache
    }

    /// Every disagreement; empty when every variant agrees. A case whose network does not
    /// check is reported as one disagreement of the generator.
    public func run(_ fuzzCase: FuzzCase) -> [Disagreement] {
        guard let net = fuzzCase.checked else {
            return [Disagreement(variant: "generator", threads: 0, message: "the network does not check")]
        }
        let weights = fuzzCase.weights(for: net), input = fuzzCase.input(for: net)
        let reference: Tensor
        do { reference = try ReferenceInterpreter(network: net, weights: weights).run(input) } catch {
            return [Disagreement(variant: "reference", threads: 1, message: "\(error)")]
        }
        var found: [Disagreement] = []
        for variant in variants where Self.applies(variant, to: net) {
            for threads in variant.threads {
                do {
                    let executor = try CompiledExecutor(backend: variant.backend, network: net, weights: weights,
                                                        options: variant.options(threads: threads), cache: cache)
                    if let problem = Self.compare(try executor.run(input), reference) {
                        found.append(Disagreement(variant: variant.name, threads: threads, message: problem))
                    }
                } catch {
                    found.append(Disagreement(variant: variant.name, threads: threads, message: "failed: \(error)"))
                    break
                }
            }
        }
        return found
    }

    /// False for a variant that forces a choice the network gives the planner no occasion for
    /// (fusion without an inverted residual): it would compile the default's code again.
    static func applies(_ variant: BackendVariant, to net: CheckedNetwork) -> Bool {
        guard variant.fusion == .always else { return true }
        let plan = lowerForC(net, options: variant.options(threads: 1).kernelOptions).kernelPlan
        return plan?.steps.contains { if case .invertedResidual = $0.kernel { true } else { false } } ?? false
    }

    /// Nil when `output` is the reference's answer; otherwise the first element that is not.
    public static func compare(_ output: Tensor, _ reference: Tensor) -> String? {
        guard output.shape == reference.shape else {
            return "shape \(output.shapeDescription), expected \(reference.shapeDescription)"
        }
        let scale = max(1, reference.storage.lazy.filter(\.isFinite).map(abs).max() ?? 0)
        let tolerance = 1e-4 * scale
        var worst: (index: Int, error: Float)? = nil
        var nonFinite: Int? = nil, mismatches = 0
        for i in reference.storage.indices {
            let r = reference.storage[i], o = output.storage[i]
            if r.isNaN || o.isNaN || r.isInfinite || o.isInfinite {
                let same = (r.isNaN && o.isNaN) || r == o
                if !same { mismatches += 1; if nonFinite == nil { nonFinite = i } }
                continue
            }
            let error = abs(o - r)
            if error > tolerance, error > (worst?.error ?? 0) { worst = (i, error) }
            if error > tolerance { mismatches += 1 }
        }
        if let i = nonFinite {
            return "element \(i) is \(output.storage[i]), expected \(reference.storage[i]) (\(mismatches) of \(reference.storage.count) differ)"
        }
        if let (i, error) = worst {
            return "element \(i) is \(output.storage[i]), expected \(reference.storage[i]) (error \(error), tolerance \(tolerance); \(mismatches) of \(reference.storage.count) differ)"
        }
        return nil
    }
}
