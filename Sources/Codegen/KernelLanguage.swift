// Which of the kernel plan's kernels each language's emitter prints. The planner asks this
// table, not the language: a step whose kernel the language lacks runs the reference kernel on
// planar values (with the reorders that needs), so a language gains kernels one entry at a
// time and its programs stay correct in between.

/// The language the fast kernels are printed in.
public enum KernelLanguage: String, Sendable, Hashable, CaseIterable {
    /// FastCEmitter: every kernel of the plan.
    case c
    /// FastSwiftEmitter: SIMD16<Float> micro-kernels over the same plan.
    case swift

    /// The language's entry of the table.
    public var capabilities: KernelCapabilities {
        switch self {
        case .c: .all
        case .swift: .swiftKernels
        }
    }
}

/// The plan kernels and schedule variants an emitter prints.
public struct KernelCapabilities: Sendable, Hashable {
    public var winograd: Bool
    public var depthwise: Bool
    /// Grouped direct convolutions (each output group reads its groups' input blocks).
    public var grouped: Bool
    /// The paired first-layer kernel (two pixels of 8 channels per register).
    public var pairs: Bool
    /// Zero-bordered copies (`pad` steps), so that strips need no edge columns.
    public var prepadded: Bool
    /// Strips of whole rows, and strips running on across row ends.
    public var wholeRowStrips: Bool
    public var flatStrips: Bool
    /// The reduction over input channels in L1-sized slices of the weights.
    public var slicedReduction: Bool
    /// The fully connected kernel with its packed tiles.
    public var fullyConnected: Bool
    /// Pooling, global pooling, add, activations, batchnorm and LRN on blocked values.
    public var blockedLayers: Bool
    /// Concat, multiply and the channel gathers (slice, shuffle) on blocked values.
    public var blockedChannelOps: Bool
    /// A batch run image by image (FastCImageSchedule.swift).
    public var imageByImage: Bool
    /// An inverted residual's three convolutions as one step (FastCFusedBlock.swift).
    public var fusedBlocks: Bool
    /// A squeeze-excitation's channel scale folded into the weights of the 1x1 convolution
    /// that reads the scaled tensor (ChannelScalePlanning.swift).
    public var scaledInputs: Bool

    public static let all = KernelCapabilities(winograd: true, depthwise: true, grouped: true, pairs: true, prepadded: true,
                                               wholeRowStrips: true, flatStrips: true, slicedReduction: true,
                                               fullyConnected: true, blockedLayers: true, blockedChannelOps: true,
                                               imageByImage: true, fusedBlocks: true, scaledInputs: true)
    /// The Swift kernels so far (issue #22): direct convolutions in row strips with edge
    /// columns, on zero-bordered copies and across rows (fused bias, residual, activation), grouped
    /// and depthwise ones, the paired first layer, Winograd, the fully connected kernel, the
    /// blocked pooling, element-wise and normalisation kernels, and the reorders.
    public static let swiftKernels = KernelCapabilities(winograd: true, depthwise: true, grouped: true, pairs: true,
                                                        prepadded: true, wholeRowStrips: false, flatStrips: true,
                                                        slicedReduction: false, fullyConnected: true, blockedLayers: true,
                                                        blockedChannelOps: false, imageByImage: false, fusedBlocks: false,
                                                        scaledInputs: false)
}
