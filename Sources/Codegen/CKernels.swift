// The C kernels the emitter copies into a generated file (their text is in
// Sources/Codegen/C/reference_kernels.c, embedded by tools/embed_c.py): plain loops in llm.c's style,
// output first, shapes in a comment, one function per kind of layer. Only the kernels a
// program calls are emitted (an unused static function is a warning). Every call passes
// constant shapes (a `static const` shape struct per layer); clang inlines and specialises
// them at -O3. Loops run output-channel outer and accumulate over contiguous output rows so
// the inner loops vectorise without fast-math.

/// The C backend's side of ReferenceKernel: the helpers each kernel calls and its text.
extension ReferenceKernel {
    /// The kernels with C text (every case but the Swift backend's `outputRange`).
    static let cKernels: [ReferenceKernel] = allCases.filter { $0 != .outputRange }

    /// Kernels and helpers this one calls in C.
    var cHelpers: [ReferenceKernel] {
        switch self {
        case .convolution: [.activate, .windowRange]
        case .fullyConnected, .batchNorm, .activation, .add, .multiply, .concat: [.activate]
        case .maxPool, .averagePool: [.poolShape]
        default: []
        }
    }

    /// Identifiers the kernel defines at file scope, so layer names never take them.
    var cIdentifiers: Set<String> { CDefinitions.names(in: cSource) }

    static let allCIdentifiers: Set<String> = Set(cKernels.flatMap(\.cIdentifiers))

    /// The kernel's C, a section of Sources/Codegen/C/reference_kernels.c named after the case.
    var cSource: String {
        switch self {
        case .outputRange: preconditionFailure("outputRange is the Swift backend's")
        case .activate: EmbeddedC.reference_kernels_activate
        case .windowRange: EmbeddedC.reference_kernels_windowRange
        case .convolution: EmbeddedC.reference_kernels_convolution
        case .fullyConnected: EmbeddedC.reference_kernels_fullyConnected
        case .poolShape: EmbeddedC.reference_kernels_poolShape
        case .maxPool: EmbeddedC.reference_kernels_maxPool
        case .averagePool: EmbeddedC.reference_kernels_averagePool
        case .globalMaxPool: EmbeddedC.reference_kernels_globalMaxPool
        case .globalAveragePool: EmbeddedC.reference_kernels_globalAveragePool
        case .batchNorm: EmbeddedC.reference_kernels_batchNorm
        case .localResponseNorm: EmbeddedC.reference_kernels_localResponseNorm
        case .activation: EmbeddedC.reference_kernels_activation
        case .add: EmbeddedC.reference_kernels_add
        case .multiply: EmbeddedC.reference_kernels_multiply
        case .concat: EmbeddedC.reference_kernels_concat
        case .copy: EmbeddedC.reference_kernels_copy
        }
    }
}
