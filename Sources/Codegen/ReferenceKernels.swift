// The plain backends' kernels: one list for C (CKernels.swift) and Swift (SwiftKernels.swift),
// a kernel per kind of layer and the helpers they call. Which kernels a step needs is decided
// here once; each backend gives, as data, the helpers its kernels call and their text.

/// In the order they are printed: each helper before the first kernel that calls it.
enum ReferenceKernel: String, CaseIterable, Comparable {
    case activate
    /// C: the taps of a convolution inside the input.
    case windowRange
    /// Swift: the same, as an output range.
    case outputRange
    case convolution
    case fullyConnected
    /// C: a pooling window's shape struct.
    case poolShape
    case maxPool
    case averagePool
    case globalMaxPool
    case globalAveragePool
    case batchNorm
    case localResponseNorm
    case activation
    case add
    case multiply
    case concat
    case gatherChannels
    case layerNorm
    case maxout
    case copy
    // reference_resampling.c
    case pad
    case adaptiveAveragePool
    case transposedConvolution
    case upsample

    /// The order the kernels are printed in.
    static func < (a: ReferenceKernel, b: ReferenceKernel) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// The kernel a step of `kernel` calls (none for an identity).
    static func kernels(for kernel: Kernel) -> [ReferenceKernel] {
        switch kernel {
        case .convolution: [.convolution]
        case .fullyConnected: [.fullyConnected]
        case .pooling(let p): [p.kind == .max ? .maxPool : .averagePool]
        case .globalPooling(let p): [p.kind == .max ? .globalMaxPool : .globalAveragePool]
        case .batchNorm: [.batchNorm]
        case .localResponseNorm: [.localResponseNorm]
        case .activation: [.activation]
        case .add: [.add]
        case .multiply: [.multiply]
        case .gatherChannels: [.gatherChannels]
        case .layerNorm: [.layerNorm]
        case .pad: [.pad]
        case .adaptiveAveragePool: [.adaptiveAveragePool]
        case .maxout: [.maxout]
        case .transposedConvolution: [.transposedConvolution]
        case .upsample: [.upsample]
        case .concat: [.concat]
        case .copy: [.copy]
        case .identity: []
        }
    }

    /// The kernels `program`'s steps call in a backend whose helpers are `helpers`, with them.
    static func closure(of steps: [Kernel], helpers: (ReferenceKernel) -> [ReferenceKernel]) -> [ReferenceKernel] {
        var kernels = Set(steps.flatMap(Self.kernels(for:)))
        for kernel in kernels { kernels.formUnion(helpers(kernel)) }
        return kernels.sorted()
    }
}
