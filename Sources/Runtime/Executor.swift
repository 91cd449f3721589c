import Codegen
import ShapeCheck

/// Something that runs a checked network on a batch: the reference interpreter or a
/// compiled backend.
public protocol NetworkExecutor {
    /// `input` is [N, D, H, W] (or [N, K] for a vector input); the result is [N, D, H, W] or
    /// [N, K]. A wrong-shaped input is a RuntimeError naming the shape found and the one expected.
    func run(_ input: Tensor) throws -> Tensor
}

/// How a network is executed: generated C, generated Swift, or the reference interpreter.
public enum Backend: String, CaseIterable, Sendable {
    case c
    case swift
    case reference
}

public struct ExecutorOptions: Sendable {
    /// Worker threads a compiled backend may use (the reference interpreter uses one).
    public var threads: Int = 1
    /// Ask a compiled backend for bit-faithful float arithmetic (no fast-math reassociation);
    /// the C backend then computes every convolution directly (no Winograd).
    public var precise: Bool = false
    /// The C backend's plain reference kernels (CKernels.swift) instead of the fast ones.
    public var plainKernels: Bool = false
    /// Compile the C backend with -DCNNC_PROFILE, so `PreparedRun.stepSeconds()` reports each step's time.
    public var profile: Bool = false
    /// The vector unit the fast C kernels are blocked for (this machine's unless set).
    public var target: VectorTarget = .host

    public init(threads: Int = 1, precise: Bool = false, plainKernels: Bool = false, profile: Bool = false,
                target: VectorTarget = .host) {
        self.threads = threads
        self.precise = precise
        self.plainKernels = plainKernels
        self.profile = profile
        self.target = target
    }

    /// The fast C kernels' options these stand for.
    public var kernelOptions: KernelOptions { KernelOptions(winograd: !precise, target: target) }
}

/// An executor for `network` with `weights` (already validated for it).
public func makeExecutor(backend: Backend, network: CheckedNetwork, weights: [String: Tensor],
                         options: ExecutorOptions = ExecutorOptions()) throws -> NetworkExecutor {
    switch backend {
    case .reference:
        return ReferenceInterpreter(network: network, weights: weights)
    // MARK: compiled backends: generated code, compiled and cached (CompiledExecutor.swift).
    case .c, .swift:
        return try CompiledExecutor(backend: backend, network: network, weights: weights, options: options)
    }
}
