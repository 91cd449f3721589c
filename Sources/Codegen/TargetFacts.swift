// Every per-target number the kernel planner uses, in one table (as XNNPACK's
// src/configs/gemm-config.c keeps every hardware choice in one place): adding a target is
// one entry here, and no other file asks which target it is.

/// The vector unit the register blocking is chosen for. The emitted C is the same portable
/// code for every target (it uses AVX-512, AVX2, NEON or plain C as it is compiled); the
/// target only sets how many accumulators a micro-kernel keeps, so that they stay in
/// registers: 28 16-float accumulators fill AVX-512's 32 registers, but would be 56 of
/// AVX2's 16 and spill on every step of the reduction.
public enum VectorTarget: String, Sendable, Hashable, CaseIterable {
    /// 32 registers of 16 floats.
    case avx512
    /// 16 registers of 8 floats: a 16-float vector takes two.
    case avx2
    /// 32 registers of 4 floats: a 16-float vector takes four.
    case neon
    /// No vector unit cnnc knows: the kernels are plain loops.
    case generic

    /// The target's entry of the table (a switch, so a new target does not compile without one).
    public var facts: TargetFacts {
        switch self {
        case .avx512: .avx512
        case .avx2: .avx2
        case .neon: .neon
        case .generic: .generic
        }
    }
}

/// The hardware facts and tuned numbers of one vector target.
public struct TargetFacts: Sendable, Hashable {
    /// Vector registers, and floats per register (for the comments' register arithmetic).
    public var registers: Int
    public var lanes: Int

    /// Output pixels per direct-convolution micro-kernel call for 1 and for 2 blocks of 16
    /// output channels: the accumulators, leaving registers for the weights and the broadcast
    /// input (AVX2: 12 of 16 ymm accumulate, 1 block x 6 pixels or 2 x 3).
    public var pixelsPerCallOneBlock: Int
    public var pixelsPerCallTwoBlocks: Int
    /// Blocks of 16 output channels per direct micro-kernel call (when the layer has an even
    /// number): AVX2 keeps 1 block x 6 pixels (12 accumulators, 2 weight registers and a
    /// broadcast fill its 16), as 2 x 3 would need 17 and spill every step.
    public var directOutputBlocks: Int
    /// The bytes of weights a direct convolution sweeps over its pixels at a time (an L1
    /// slice), or nil to reduce over all input channels per call (AVX-512's 14-pixel strips
    /// reuse each weight vector enough to stream it from L2).
    public var weightSliceBytes: Int?
    /// The bytes of partial sums and input rows one weight slice sweeps before the next (L2).
    public var sweepBytes: Int
    /// Whether a row that divides badly into strips may run its strips on across row ends
    /// (off AVX-512 a strip holds at most 6 pixels, and a short one idles the FMA units).
    public var stripsAcrossRows: Bool
    /// Steps of the reduction over input channels per trip of the micro-kernel's loop, or nil
    /// to let the compiler unroll it whole. Unrolled whole, a step's weight vectors overlap
    /// the next one's and spill off AVX-512; AVX2 (15 of 16 ymm busy) takes two steps a trip:
    /// half the loop's counting, and 7% faster than rolled on two threads (VGG-16's
    /// features.12, batch 1, cold weights); NEON (29 of 32 q) stays rolled.
    public var reductionUnroll: Int?
    /// The most output pixels for which a direct convolution prefetches the next output
    /// channel group's weights (small outputs reuse each group for few pixels, so the layer
    /// streams its weights from memory).
    public var prefetchMaximumPixels: Int

    /// Winograd tiles per GEMM micro-kernel call, and blocks of 16 output channels per call:
    /// the direct kernels' register blocking (AVX2's 2 x 3 would need 17 ymm and spill).
    public var winogradTilesPerCall: Int
    public var winogradOutputBlocks: Int
    /// The fewest output pixels for which Winograd beats the direct kernel. Below it the
    /// transformed weights (4x the direct ones) cost more to stream than the multiplications
    /// Winograd saves: on AVX-512 that was below about 20x20 (2026-11-22); on AVX2, with half
    /// the FLOP rate to feed, 14x14 and 13x13 layers gain 1.3-1.6x and 7x7 ones lose
    /// (`cnnc bench models/resnet18.cnn --layers`, models/alexnet.cnn, 2026-11-30).
    public var winogradMinimumPixels: Int

    /// Output pixels per call of a depthwise convolution's strip kernel: 16-float
    /// accumulators, leaving registers for a tap's weight vector and the inputs a stride-1
    /// row of taps shares between neighbouring pixels.
    public var depthwisePixels: Int

    /// Images an fc tile serves per pass over its weights, and the 16-float accumulators its
    /// micro-kernel may keep when few images split the reduction into chains.
    public var fullyConnectedImages: Int
    public var fullyConnectedAccumulators: Int
    /// Blocks of 16 outputs per fc tile: AVX2's 6 images x 1 block fill its accumulators,
    /// and a tile of one block keeps each pass reading whole, consecutive cache lines.
    public var fullyConnectedBlocks: Int

    /// Multiply-adds (or elements touched) per image from which a step's tasks are shared
    /// among the pool's threads: below it a thread's start costs more than it saves.
    public var convolutionThreadWork: Int
    public var fullyConnectedThreadWork: Int
    public var elementThreadWork: Int
    /// Multiply-adds per image from which a depthwise convolution is shared among threads:
    /// it moves about two bytes per multiply-add where a dense one reuses each load for many.
    public var depthwiseThreadWork: Int

    /// Bytes of an image's expanded tensor from which an inverted residual's three
    /// convolutions run fused (FusionPolicy.automatic). Fused, the tensor takes no arena;
    /// on a Zen 4 core the time is the same within 2%, and smaller tensors cost little room.
    public var fusionExpandedBytes: Int = 1 << 20

    /// Output pixels per direct micro-kernel call for `outputBlocks` blocks of 16 channels.
    public func pixelsPerCall(outputBlocks: Int) -> Int {
        outputBlocks == 2 ? pixelsPerCallTwoBlocks : pixelsPerCallOneBlock
    }

    /// The narrow targets share everything but their registers and lanes.
    static func narrow(registers: Int, lanes: Int, reductionUnroll: Int) -> TargetFacts {
        TargetFacts(registers: registers, lanes: lanes, pixelsPerCallOneBlock: 6, pixelsPerCallTwoBlocks: 3,
                    directOutputBlocks: 1, weightSliceBytes: 10 * 1024, sweepBytes: 160 * 1024, stripsAcrossRows: true,
                    reductionUnroll: reductionUnroll, prefetchMaximumPixels: 28 * 28,
                    winogradTilesPerCall: 6, winogradOutputBlocks: 1, winogradMinimumPixels: 144,
                    depthwisePixels: 4, fullyConnectedImages: 6, fullyConnectedAccumulators: 6, fullyConnectedBlocks: 1,
                    convolutionThreadWork: 1_000_000, fullyConnectedThreadWork: 1_000_000, elementThreadWork: 60_000,
                    depthwiseThreadWork: 200_000)
    }

    public static let avx512 = TargetFacts(
        registers: 32, lanes: 16, pixelsPerCallOneBlock: 24, pixelsPerCallTwoBlocks: 14,
        directOutputBlocks: 2, weightSliceBytes: nil, sweepBytes: 160 * 1024, stripsAcrossRows: false,
        reductionUnroll: nil, prefetchMaximumPixels: 28 * 28,
        winogradTilesPerCall: 6, winogradOutputBlocks: 2, winogradMinimumPixels: 400,
        depthwisePixels: 8, fullyConnectedImages: 8, fullyConnectedAccumulators: 8, fullyConnectedBlocks: 2,
        convolutionThreadWork: 1_000_000, fullyConnectedThreadWork: 1_000_000, elementThreadWork: 60_000,
        depthwiseThreadWork: 200_000)
    public static let avx2 = narrow(registers: 16, lanes: 8, reductionUnroll: 2)
    public static let neon = narrow(registers: 32, lanes: 4, reductionUnroll: 1)
    public static let generic = narrow(registers: 0, lanes: 1, reductionUnroll: 1)
}
