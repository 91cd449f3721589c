import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing

/// Layers of the same shape share one kernel function (fast C) or one set of constants (plain
/// C, Swift), so the generated code grows with the distinct layers plus a call per layer
/// (10,000 `fc 16` layers were 125 MB of C that clang never finished).
@Suite struct SharedKernelTests {
    /// `input` followed by `count` copies of `layer`.
    static func chain(_ layer: String, count: Int, input: String = "16") -> String {
        "network chain\ninput \(input)\n" + String(repeating: layer + "\n", count: count)
    }

    static func occurrences(of needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    /// Task functions of a fast C file: `static void cnnc_sN(const cnnc_args *a, …)`.
    static func taskFunctions(_ source: CSource) -> Int {
        source.implementation.contents.split(separator: "\n")
            .filter { $0.hasPrefix("static void cnnc_s") && $0.contains("(const cnnc_args *a,") }.count
    }

    static func fast(_ net: CheckedNetwork) throws -> CSource {
        try emitC(lowerForC(net, options: KernelOptions(target: .avx2)))
    }

    @Test func equalFullyConnectedLayersShareOneFastKernel() throws {
        let source = try Self.fast(try network(Self.chain("fc 16 relu", count: 40)))
        let c = source.implementation.contents
        #expect(Self.taskFunctions(source) == 1)
        #expect(Self.occurrences(of: "cnnc_parallel(cnnc_s0, &cnnc_a,", in: c) == 40)
        // Each call names its layer; the kernel's comment gives the shapes.
        #expect(c.contains("    /* fc40: fc 16: [16] -> [16], relu; fc 16 */\n"))
        #expect(c.contains("\n/* fc 16: [16] -> [16], relu; fc 16 */\n/* fc, 16 outputs per tile"))
        // Each layer still reads its own weights.
        #expect(c.contains("weights + 0, weights + 256, batch, NULL };"))
        #expect(c.contains("weights + 272, weights + 528, batch, NULL };"))
    }

    @Test func equalConvolutionsShareOneFastKernel() throws {
        let source = try Self.fast(try network(Self.chain("conv 16 3x3 pad 1 relu", count: 30, input: "8x8x16")))
        let c = source.implementation.contents
        // The first reads the caller's planar input; each other one a zero-bordered copy of the
        // blocked activations (a pad step); one reorder back to planar at the end.
        #expect(Self.taskFunctions(source) == 4, "\(c.split(separator: "\n").filter { $0.hasPrefix("static void cnnc_s") })")
        #expect(Self.occurrences(of: "cnnc_parallel(cnnc_s1, &cnnc_a,", in: c) == 29)
        #expect(Self.occurrences(of: "cnnc_parallel(cnnc_s2, &cnnc_a,", in: c) == 29)
    }

    /// Only identical specialisations are shared: another activation, shape or input layout
    /// is a kernel of its own.
    @Test func differentShapesAndEpiloguesDoNotShare() throws {
        let text = """
            input 16
            a: fc 16 relu
            b: fc 16 tanh
            c: fc 16 relu
            d: fc 32 relu
            e: fc 16 relu
            f: fc 16 relu
            """
        let source = try Self.fast(try network(text))
        let c = source.implementation.contents
        // a, c and f share one (16 → 16, relu); b (tanh), d (16 → 32) and e (32 → 16) have their own.
        #expect(Self.taskFunctions(source) == 4)
        #expect(Self.occurrences(of: "cnnc_parallel(cnnc_s0, &cnnc_a,", in: c) == 3)
        #expect(Self.occurrences(of: "cnnc_parallel(cnnc_s1, &cnnc_a,", in: c) == 1)
        let plain = try emitC(lower(try network(text))).implementation.contents
        #expect(Self.occurrences(of: "static const k_fc_shape ", in: plain) == 4)
        let swift = try emitSwift(lower(try network(text))).file.contents
        #expect(Self.occurrences(of: " = FullyConnected(inputs:", in: swift) == 4)
    }

    /// Twice the layers add a call's worth of text per layer (two for a convolution and the pad
    /// step before it), in every emitter: before sharing, 6 KB a convolution and 13 KB an fc.
    @Test(arguments: ["fc 16 relu", "conv 16 3x3 pad 1 relu", "relu", "maxpool 3x3 stride 1 pad 1", "batchnorm"])
    func codeGrowsByACallPerEqualLayer(_ layer: String) throws {
        let input = layer.hasPrefix("fc") ? "16" : "8x8x16"
        func sizes(_ count: Int) throws -> [Int] {
            let net = try network(Self.chain(layer, count: count, input: input))
            return [try Self.fast(net).implementation.contents.utf8.count,
                    try emitC(lower(net)).implementation.contents.utf8.count,
                    try emitSwift(lower(net)).file.contents.utf8.count]
        }
        let small = try sizes(20), large = try sizes(40)
        for (backend, (a, b)) in zip(["fast C", "plain C", "Swift"], zip(small, large)) {
            #expect((b - a) / 20 < 1_000, "\(layer), \(backend): \(a) bytes for 20 layers, \(b) for 40")
        }
    }

    @Test func equalLayersShareConstantsInPlainCAndSwift() throws {
        let net = try network(Self.chain("fc 16 relu", count: 25))
        let plain = try emitC(lower(net)).implementation.contents
        #expect(Self.occurrences(of: "static const k_fc_shape ", in: plain) == 1)
        #expect(Self.occurrences(of: ", batch, &fc_shape);", in: plain) == 25)
        #expect(plain.contains("    /* fc25: fc 16: [16] -> [16], relu */\n"))
        let swift = try emitSwift(lower(net)).file.contents
        #expect(Self.occurrences(of: " = FullyConnected(inputs:", in: swift) == 1)
        #expect(Self.occurrences(of: "batch: batch, Layers.fullyConnected)", in: swift) == 25)
    }

    /// Shared kernels still read each layer's own weights and buffers: a deep chain of equal
    /// layers, with a branch, runs as the reference interpreter does on every backend.
    @Test(arguments: [Backend.c, .swift])
    func sharedKernelsAgreeWithTheReference(_ backend: Backend) throws {
        var text = "network deep\ninput 8x8x16\n"
        for i in 0..<12 { text += "c\(i): conv 16 3x3 pad 1 relu\n" }
        text += "sum: add c11 c9 relu\n"
        for i in 0..<40 { text += "f\(i): fc 16 \(i % 3 == 0 ? "tanh" : "relu")\n" }
        let net = try network(text)
        let weights = WeightInit.weights(for: net, seed: 3).tensors
        let input = randomInput(for: net, batch: 3, seed: 5)
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        #expect(reference.storage.filter { $0 != 0 }.count > 8, "\(reference.storage.prefix(16))")
        var options = [ExecutorOptions()]
        if backend == .c { options.append(ExecutorOptions(plainKernels: true)) }
        for option in options {
            let executor = try CompiledExecutor(backend: backend, network: net, weights: weights, options: option, cache: testCache)
            compare(try executor.run(input), reference, "\(backend)\(option.plainKernels ? " plain" : "")")
        }
    }
}

/// NAME.h defines a hash of itself and NAME.c checks it, so the files of two different
/// networks of one name never build together.
@Suite struct HeaderPairingTests {
    static let first = "network pair\ninput 16\nfc 16 relu\n"
    static let second = "network pair\ninput 32\nfc 8 relu\n"

    /// NAME.c of `implementation` beside NAME.h of `header`, checked by the C compiler.
    func build(_ implementation: CSource, against header: CSource) throws -> (status: Int32, output: String) {
        let directory = try temporaryDirectory("pairing")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try write(header.header.contents, to: "\(directory)/\(header.header.name)")
        try write(implementation.implementation.contents, to: "\(directory)/\(implementation.implementation.name)")
        return try shell(try cCompiler(), ["-std=c99", "-fsyntax-only", implementation.implementation.name], in: directory)
    }

    @Test(arguments: [false, true])
    func aHeaderOfAnotherNetworkIsAnError(_ plain: Bool) throws {
        func emit(_ text: String) throws -> CSource {
            let net = try network(text)
            return try emitC(plain ? lower(net) : lowerForC(net, options: KernelOptions(target: .avx2)))
        }
        let a = try emit(Self.first), b = try emit(Self.second)
        #expect(a.header.name == b.header.name && a.header.contents != b.header.contents)
        let mixed = try build(a, against: b)
        #expect(mixed.status != 0)
        #expect(mixed.output.contains("#error \"pair.h is not the header of this pair.c (regenerate both with cnnc compile)\""),
                "\(mixed.output.prefix(2000))")
        let mixedBack = try build(b, against: a)
        #expect(mixedBack.status != 0 && mixedBack.output.contains("pair.h is not the header of this pair.c"))
        for source in [a, b] {
            let matching = try build(source, against: source)
            #expect(matching.status == 0 && matching.output.isEmpty, "\(matching.output.prefix(2000))")
        }
    }

    /// The hash is of the header without its own line, and both files keep cnnc's marker on
    /// their first line.
    @Test func theHashIsOfTheHeaderWithoutItsLine() throws {
        let source = try emitC(lowerForC(try network(Self.first), options: KernelOptions(target: .avx2)))
        let lines = source.header.contents.split(separator: "\n", omittingEmptySubsequences: false)
        let line = try #require(lines.first { $0.hasPrefix("#define PAIR_HEADER_HASH 0x") })
        let rest = lines.filter { $0 != line }.joined(separator: "\n")
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in rest.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        let digits = String(hash, radix: 16)
        #expect(line.hasPrefix("#define PAIR_HEADER_HASH 0x\(String(repeating: "0", count: 16 - digits.count) + digits)ULL "))
        #expect(source.implementation.contents.contains("PAIR_HEADER_HASH != 0x\(String(repeating: "0", count: 16 - digits.count) + digits)ULL\n"))
        for file in source.files {
            #expect(file.contents.prefix(while: { $0 != "\n" }).contains("generated by cnnc. Do not edit."), "\(file.name)")
        }
        // The runtime inlines the header where it is included; the check still holds.
        let inlined = source.implementation.contents.replacing("#include \"\(source.header.name)\"\n", with: source.header.contents)
        #expect(!inlined.contains("#include \"pair.h\""))
        let directory = try temporaryDirectory("pairing-inlined")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try write(inlined, to: "\(directory)/net.c")
        let result = try shell(try cCompiler(), ["-std=c99", "-fsyntax-only", "net.c"], in: directory)
        #expect(result.status == 0 && result.output.isEmpty, "\(result.output.prefix(2000))")
    }
}
