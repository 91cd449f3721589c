@testable import Codegen
import Foundation
import Testing

/// The fixed C lives in Sources/Codegen/C and reaches Codegen as bytes SwiftPM compiles in
/// (`.embedInCode`), cut into sections by EmbeddedC.split.
@Suite struct EmbeddedCTests {
    static let cFolder = Paths.packageRoot.appendingPathComponent("Sources/Codegen/C")

    /// Every .c/.h file of the folder is compiled in, byte for byte (a new file needs its line
    /// in Package.swift and EmbeddedC.files).
    @Test func everyCFileIsCompiledInAsItIs() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.cFolder.path)
            .filter { $0.hasSuffix(".c") || $0.hasSuffix(".h") }.sorted()
        #expect(EmbeddedC.files.map(\.name) == names)
        for file in EmbeddedC.files {
            let onDisk = try Data(contentsOf: Self.cFolder.appendingPathComponent(file.name))
            #expect(Array(onDisk) == file.bytes, "\(file.name) differs from the bytes compiled in")
            #expect(EmbeddedC.sections.contains { $0.file == file.name }, "\(file.name) has no cnnc-embed section")
        }
    }

    /// Sections run from their marker to the next, trailing blank lines dropped; the text
    /// before the first marker is not a section.
    @Test func splitCutsAtTheMarkers() {
        let text = "/* header */\n#include <x.h>\n/* cnnc-embed: one */\nint a;\n\n  \n/* cnnc-embed: two */\n\nint b;\n"
        let sections = EmbeddedC.split(text)
        #expect(sections.map(\.name) == ["one", "two"])
        #expect(sections.map(\.text) == ["int a;", "\nint b;"])
        #expect(EmbeddedC.split("no markers at all\n").isEmpty)
    }

    /// Every reference kernel is a section of reference_kernels.c named after its case.
    @Test func everyKernelHasItsSection() {
        let sections = ReferenceKernel.cFiles.flatMap { file in EmbeddedC.sections.filter { $0.file == file } }
        #expect(sections.map(\.name) == ReferenceKernel.cKernels.map(\.rawValue))
        for kernel in ReferenceKernel.cKernels {
            #expect(kernel.cSource == sections.first { $0.name == kernel.rawValue }?.text)
        }
    }

    /// The placeholders of cnnc_pool.c are filled, whole.
    @Test func thePoolPlaceholdersAreFilled() {
        let threads = FastCSupport.threads(scratchMacro: "NET_SCRATCH")
        let profile = FastCSupport.profile(steps: 0)
        #expect(!threads.contains("CNNC_TEMPLATE_") && !profile.contains("CNNC_TEMPLATE_"))
        #expect(threads.contains("if (NET_SCRATCH > 0 && cnnc_pool.scratch[id] == NULL) {"))
        #expect(threads.contains("(size_t)NET_SCRATCH * sizeof(float)"))
        #expect(profile.contains("static double cnnc_profile_seconds[1];"))
        #expect(FastCSupport.profile(steps: 12).contains("static double cnnc_profile_seconds[12];"))
    }

    // ---- identifier lists read from the C equal the lists once kept by hand ----

    static let handKeptFastCIdentifiers: Set<String> = [
        "cv16", "cv_load", "cv_store", "cv_set1", "cv_zero", "cv_fma", "cv_add", "cv_sub", "cv_mul", "cv_max", "cv_max_nan", "cv_min",
        "cv_sqrt", "cv_div", "cv_bcast2", "cv_store_pairs", "cv_pair", "cv_exp2i", "cv_exp2i_half", "cv_exp2i_lane", "cv_exp", "cv_exp_signed",
        "cv_sigmoid", "cv_silu", "cv_lanes", "cv_lanes_make", "cv_lanes_pick", "cv_lanes_half", "CNNC_LANES", "CV_EACH", "CNNC_SIMD", "CNNC_PREFETCH", "CNNC_SPIN", "CNNC_LOAD", "CNNC_JOB",
        "CNNC_ATOMIC", "cnnc_pause", "cnnc_run_share", "CNNC_INLINE", "CNNC_NO_UNROLL", "CNNC_UNROLL2", "CNNC_MAX_THREADS",
        "CNNC_NO_THREADS", "CNNC_PROFILE", "cnnc_args", "cnnc_task", "cnnc_pool", "cnnc_worker", "cnnc_pool_acquire",
        "cnnc_pool_release", "cnnc_pool_shutdown", "cnnc_parallel", "cnnc_now", "cnnc_profile_seconds", "cnnc_profile_start", "CNNC_PROFILE_BEGIN",
        "CNNC_PROFILE_END", "cnnc_softmax", "cnnc_scratch0", "cnnc_threads", "cnnc_args_t", "cnnc_steps", "cnnc_image_task",
    ]

    static let handKeptKernelIdentifiers: [ReferenceKernel: Set<String>] = [
        .activate: ["k_activate", "K_NONE", "K_RELU", "K_LEAKY_RELU", "K_ELU", "K_SIGMOID", "K_TANH", "K_SOFTMAX",
                    "K_RELU6", "K_HARDSWISH", "K_HARDSIGMOID", "K_SILU", "K_GELU", "K_GELU_TANH"],
        .windowRange: ["k_first", "k_end"],
        .convolution: ["k_conv2d", "k_conv_shape"],
        .fullyConnected: ["k_fc", "k_fc_shape"],
        .poolShape: ["k_pool_shape"],
        .maxPool: ["k_maxpool"],
        .averagePool: ["k_avgpool"],
        .globalMaxPool: ["k_global_maxpool"],
        .globalAveragePool: ["k_global_avgpool"],
        .batchNorm: ["k_batchnorm", "k_batchnorm_shape"],
        .localResponseNorm: ["k_lrn", "k_lrn_shape"],
        .gatherChannels: ["k_gather_channels", "k_gather_shape"],
        .layerNorm: ["k_layernorm", "k_layernorm_shape"],
        .pad: ["k_pad", "k_pad_shape", "k_pad_source"],
        .adaptiveAveragePool: ["k_adaptive_avgpool", "k_adaptive_shape"],
        .maxout: ["k_maxout", "k_maxout_shape"],
        .transposedConvolution: ["k_deconv2d", "k_deconv_shape"],
        .upsample: ["k_upsample", "k_upsample_source", "k_upsample_shape"],
        .activation: ["k_activation", "k_activation_shape"],
        .add: ["k_add", "k_add_shape"],
        .multiply: ["k_mul", "k_mul_shape"],
        .concat: ["k_concat", "k_concat_shape"],
        .copy: ["k_copy"],
    ]

    @Test func theFastCIdentifiersReadFromTheTextAreTheHandKeptOnes() {
        #expect(FastCSupport.identifiers == Self.handKeptFastCIdentifiers)
        // The scan finds all but the entry point's locals itself.
        #expect(Self.handKeptFastCIdentifiers.subtracting(FastCSupport.identifiers.subtracting(FastCSupport.entryPointLocals))
            == FastCSupport.entryPointLocals)
    }

    @Test(arguments: ReferenceKernel.cKernels)
    func theKernelIdentifiersReadFromTheTextAreTheHandKeptOnes(kernel: ReferenceKernel) {
        #expect(kernel.cIdentifiers == Self.handKeptKernelIdentifiers[kernel])
    }

    /// The scanner on the kinds of definition the fixed C uses, so a new kind is noticed.
    @Test func theScannerFindsEachKindOfDefinition() {
        let text = """
            #define A_MACRO 1
            #define a_function_macro(x) ((x) + 1)
            #if defined(CNNC_KNOB) && defined(__SOMETHING__) || defined(OTHER)
            #ifndef CNNC_OTHER_KNOB
            #endif
            #endif
            typedef struct { int inner; } a_struct;   /* not_a_comment_name(x); */
            typedef void (*a_pointer)(int x, float *y);
            enum { E_ONE, E_TWO = 2, E_THREE };
            static struct { int field; } a_variable = { 0 };
            static double an_array[4];
            static inline int a_function(int parameter) { int local = parameter; return local + helper(parameter); }
            static void after_a_function(void)
            {
            #if defined(CNNC_INSIDE)
                call_inside();
            #endif
            }
            #define _RESERVED 1
            """
        #expect(CDefinitions.names(in: text) == [
            "A_MACRO", "a_function_macro", "CNNC_KNOB", "CNNC_OTHER_KNOB", "a_struct", "a_pointer", "E_ONE", "E_TWO", "E_THREE",
            "a_variable", "an_array", "a_function", "after_a_function", "CNNC_INSIDE",
        ])
    }

    /// Each file is C that clang accepts alone (the text above its first marker makes it so),
    /// without and with threads and profiling.
    @Test(arguments: ["fast_prelude.h", "cnnc_vector.h", "cnnc_pool.c", "reference_kernels.c", "reference_resampling.c"])
    func eachFileCompilesAlone(file: String) throws {
        let path = Self.cFolder.appendingPathComponent(file).path
        for flags in [[String](), ["-DCNNC_NO_THREADS", "-DCNNC_PROFILE"]] {
            let result = try shell(try cCompiler(), ["-std=c99", "-fsyntax-only", "-Werror", "-Wall", "-Wextra",
                                                     "-Wno-unused-function", "-Wno-unused-variable", "-x", "c"] + flags + [path])
            #expect(result.status == 0, "\(file) \(flags): \(result.output)")
        }
    }
}
