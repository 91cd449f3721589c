// The C kernels the emitter copies into a generated file (their text is in
// Sources/Codegen/C/reference_kernels.c, embedded by SwiftPM, EmbeddedC.swift): plain loops in llm.c's style,
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
        case .fullyConnected, .batchNorm, .activation, .add, .multiply, .concat, .transposedConvolution: [.activate]
        case .maxPool, .averagePool: [.poolShape]
        default: []
        }
    }

    /// Identifiers the kernel defines at file scope, so layer names never take them.
    var cIdentifiers: Set<String> { CDefinitions.names(in: cSource) }

    static let allCIdentifiers: Set<String> = Set(cKernels.flatMap(\.cIdentifiers))

    /// The files that hold the kernels, in ReferenceKernel's order.
    static let cFiles = ["reference_kernels.c", "reference_resampling.c"]

    /// The kernel's C, the section of Sources/Codegen/C/reference_*.c named after the case.
    var cSource: String {
        precondition(self != .outputRange, "outputRange is the Swift backend's")
        guard let section = EmbeddedC.sections.first(where: { Self.cFiles.contains($0.file) && $0.name == rawValue }) else {
            preconditionFailure("no C section for \(rawValue)")
        }
        return section.text
    }
}
