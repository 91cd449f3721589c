@testable import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// NaN is PyTorch's in every backend: relu, leaky relu, elu, max pooling and global max
/// pooling keep a NaN (issue 14). The reference interpreter is checked against NaN positions
/// worked out by hand, every compiled backend against the reference: NaN exactly where it
/// has NaN, the other values within the usual tolerance.
@Suite struct NaNSemanticsTests {
    static let otherTarget: VectorTarget = VectorTarget.host == .avx512 ? .avx2 : .avx512
    static let backends: [(String, Backend, ExecutorOptions)] = [
        ("c-plain", .c, ExecutorOptions(plainKernels: true)),
        ("c-fast", .c, ExecutorOptions()),
        ("c-fast/2", .c, ExecutorOptions(threads: 2)),
        ("c-precise", .c, ExecutorOptions(precise: true)),
        ("c-other-target", .c, ExecutorOptions(target: otherTarget)),
        ("swift", .swift, ExecutorOptions()),
    ]
    static let backendNames = backends.map(\.0) + ["c-fast-unvectorised"]

    /// 1x1 convolutions keep a NaN pixel in place (in every channel); the 2x2 pool then meets
    /// it at each of its four taps in turn (a running max that keeps only its last NaN fails),
    /// and the padded 3x3 pool spreads each pooled NaN to its neighbours.
    static let pointwise = """
        input 16x12x3
        c1: conv 20 1x1 relu
        l: leakyrelu 0.1
        c2: conv 24 1x1 leakyrelu 0.2
        e: elu
        p: maxpool 2x2 stride 2
        c3: conv 16 1x1 relu
        q: maxpool 3x3 stride 1 pad 1
        """
    /// (x, y) of the input NaNs: taps 0, 1, 2 and 3 of the pooled cells (0, 0), (4, 0), (2, 4), (7, 5).
    static let pointwiseNaNs = [(0, 0), (9, 0), (4, 9), (15, 11)]

    /// A NaN anywhere in a channel makes its global max NaN; the batch's other images stay finite.
    static let global = """
        input 7x5x3
        c1: conv 20 3x3 pad 1 leakyrelu 0.1
        r: relu
        m: maxpool 3x3 stride 2 pad 1
        c2: conv 32 1x1 relu
        g: globalmaxpool
        """

    static func input(for net: CheckedNetwork, batch: Int, nans: [(image: Int, x: Int, y: Int)]) -> Tensor {
        var input = randomInput(for: net, batch: batch, seed: 11)
        let w = net.input.width, h = net.input.height, d = net.input.depth
        for nan in nans {
            for c in 0..<d { input.storage[((nan.image * d + c) * h + nan.y) * w + nan.x] = .nan }
        }
        return input
    }

    static func weights(for net: CheckedNetwork) -> [String: Tensor] {
        WeightInit.weights(for: net, seed: 7).tensors
    }

    static func cases() throws -> [(name: String, net: CheckedNetwork, input: Tensor)] {
        let a = try network(pointwise, path: "pointwise.cnn")
        let b = try network(global, path: "global.cnn")
        return [
            ("pointwise", a, input(for: a, batch: 2, nans: pointwiseNaNs.map { (0, $0.0, $0.1) })),
            ("global", b, input(for: b, batch: 3, nans: [(0, 0, 0), (2, 3, 2), (2, 6, 4)])),
        ]
    }

    @Test func referenceKeepsNaNWhereTorchDoes() throws {
        let (_, net, input) = try Self.cases()[0]
        let output = try ReferenceInterpreter(network: net, weights: Self.weights(for: net)).run(input)
        // After the 2x2 pool the NaNs sit at (0, 0), (4, 0), (2, 4), (7, 5) of 8x6; the 3x3
        // pool makes NaN every cell within one step of them, in all 16 channels, image 0 only.
        let pooled = Self.pointwiseNaNs.map { ($0.0 / 2, $0.1 / 2) }
        for image in 0..<2 {
            for c in 0..<16 {
                for y in 0..<6 {
                    for x in 0..<8 {
                        let near = image == 0 && pooled.contains { abs($0.0 - x) <= 1 && abs($0.1 - y) <= 1 }
                        let value = output.storage[((image * 16 + c) * 6 + y) * 8 + x]
                        #expect(value.isNaN == near, "image \(image) channel \(c) (\(x), \(y)) is \(value)")
                    }
                }
            }
        }
        let (_, globalNet, globalInput) = try Self.cases()[1]
        let global = try ReferenceInterpreter(network: globalNet, weights: Self.weights(for: globalNet)).run(globalInput)
        for (i, value) in global.storage.enumerated() {
            #expect(value.isNaN == (i / 32 != 1), "global max \(i) is \(value)")
        }
    }

    @Test(arguments: ["pointwise", "global"], backendNames)
    func backendsKeepNaNWhereTheReferenceDoes(_ name: String, _ backend: String) throws {
        let (_, net, input) = try #require(try Self.cases().first { $0.name == name })
        let weights = Self.weights(for: net)
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        let output = try Self.run(backend, net, weights, input)
        expectSameNaNs(output, reference, "\(name)/\(backend)")
    }

    /// With positive weights no inf − inf arises: +inf and −inf stay infinite through the
    /// convolutions and leaky relu, relu makes −inf 0, a max pool lets +inf win and −inf lose.
    @Test(arguments: backendNames)
    func infinitiesFollowIEEE(_ backend: String) throws {
        let net = try network("""
            input 6x5x3
            c1: conv 20 1x1 leakyrelu 0.1
            p: maxpool 2x2 stride 2 pad 1
            c2: conv 20 1x1 relu
            q: maxpool 2x2 stride 1
            """, path: "infinities.cnn")
        var weights = Self.weights(for: net)
        for key in weights.keys { weights[key]!.storage = weights[key]!.storage.map { abs($0) } }
        var input = randomInput(for: net, batch: 2, seed: 3)
        for c in 0..<3 {
            input.storage[c * 30 + 7] = .infinity            // image 0, (1, 1)
            input.storage[(3 + c) * 30 + 22] = -.infinity    // image 1, (4, 3)
        }
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        #expect(reference.storage.contains(.infinity) && !reference.storage.contains(where: \.isNaN))
        expectSameNaNs(try Self.run(backend, net, weights, input), reference, "infinities/\(backend)")
    }

    /// 3.4e38 everywhere overflows c1 to ±inf, and inf − inf makes every class NaN; the
    /// compiled backends once turned those NaNs into 0 at the first relu and answered 0.1.
    @Test(arguments: ["reference"] + backendNames)
    func lenet5AtTheTopOfTheFloatRangeIsNaN(_ backend: String) throws {
        let net = try model("lenet5")
        let weights = Self.weights(for: net)
        let input = Tensor(shape: [2] + net.input.dimensions, storage: [Float](repeating: 3.4e38, count: 2 * net.input.elementCount))
        let output = backend == "reference"
            ? try ReferenceInterpreter(network: net, weights: weights).run(input)
            : try Self.run(backend, net, weights, input)
        #expect(output.storage.count == 20 && output.storage.allSatisfy(\.isNaN), "\(backend): \(output.storage)")
    }

    /// cv_max(0, v) and cv_max_nan lane by lane on NaN, ±inf and numbers, for each vector unit:
    /// run for plain C and this machine's, compiled only for AVX-512 where the machine has none.
    @Test func vectorMaxKeepsNaN() throws {
        let harness = """
            #include <stdio.h>
            static volatile float values[5] = { NAN, 1.0f, -2.0f, -INFINITY, INFINITY };
            int main(void)
            {
                float a[16], b[16], r[16], q[16];
                int failures = 0, i, j, l;
                for (i = 0; i < 5; i++) for (j = 0; j < 5; j++) {
                    for (l = 0; l < 16; l++) { a[l] = values[(i + l) % 5]; b[l] = values[(j + l / 3) % 5]; }
                    cv_store(r, cv_max(cv_zero(), cv_load(b)));
                    cv_store(q, cv_max_nan(cv_load(a), cv_load(b)));
                    for (l = 0; l < 16; l++) {
                        if (isnan(b[l]) ? !isnan(r[l]) : r[l] != (b[l] > 0.0f ? b[l] : 0.0f)) failures++;
                        if (isnan(a[l]) || isnan(b[l]) ? !isnan(q[l]) : q[l] != (a[l] > b[l] ? a[l] : b[l])) failures++;
                    }
                }
                printf("%d wrong lanes\\n", failures);
                return failures != 0;
            }
            """
        let directory = try temporaryDirectory("nan-vectors")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try write(FastCSupport.includes + "\n" + FastCSupport.vectors + "\n" + harness, to: "\(directory)/vectors.c")
        var variants: [(name: String, flags: [String], runs: Bool)] = [("host", ["-march=native"], true)]
        #if arch(x86_64)
        variants += [("plain C", [], true), ("avx512", ["-mavx512f"], VectorTarget.host == .avx512)]
        #endif
        for variant in variants {
            let flags = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2"] + variant.flags + ["vectors.c", "-o", "vectors", "-lm"]
            let built = try shell(try cCompiler(), variant.runs ? flags : flags.filter { $0 != "-lm" } + ["-c"], in: directory)
            #expect(built.status == 0, "\(variant.name): \(built.output.prefix(2000))")
            guard built.status == 0, variant.runs else { continue }
            let ran = try shell("\(directory)/vectors", [])
            #expect(ran.status == 0 && ran.output == "0 wrong lanes\n", "\(variant.name): \(ran.output)")
        }
    }

    /// A variance below 0 (or NaN) makes its channel NaN: an error that names the tensor, the
    /// index and the value; 0 itself is a variance.
    @Test func negativeRunningVarianceIsAnError() throws {
        let net = try network("input 4x4x3\nc: conv 8 3x3 nobias\nbn1: batchnorm\n", path: "bn.cnn")
        var file = WeightInit.weights(for: net, seed: 1)
        file.tensors["bn1.running_var"]!.storage[0] = 0
        #expect(try file.validated(for: net, path: "w.safetensors").count == 5)
        for (values, message) in [([(3, Float(-0.5))], "has value -0.5 at index 3; a variance must be ≥ 0"),
                                  ([(1, .nan), (6, -1e-30), (7, -2)], "has value nan at index 1; a variance must be ≥ 0 (and 2 more)")] {
            var bad = file
            for (i, v) in values { bad.tensors["bn1.running_var"]!.storage[i] = v }
            do {
                _ = try bad.validated(for: net, path: "w.safetensors")
                Issue.record("\(values): no error")
            } catch let error as RuntimeError {
                #expect(error.message == "w.safetensors: tensor 'bn1.running_var' \(message)")
            }
        }
    }

    /// The image reader refuses a std under which a pixel of 0 or 1 normalizes to ±inf.
    @Test func imageNormalizationThatOverflowsIsAnError() throws {
        let image = Array("P3 1 1 255\n0 128 255\n".utf8)
        for (mean, std, message) in [([Float(0)], [Float(1e-39)], "std is 1e-39; (1.0 − 0.0)/1e-39 overflows float32 for channel 0"),
                                     ([0, 0.5, 0], [1, Float(1e-39), 1], "std[1] is 1e-39; (0.0 − 0.5)/1e-39 overflows float32")] {
            do {
                _ = try NetPBM.parse(image, path: "i.ppm", mean: mean, std: std)
                Issue.record("\(std): no error")
            } catch let error as RuntimeError {
                #expect(error.message == "i.ppm: \(message)")
            }
        }
        #expect(try NetPBM.parse(image, path: "i.ppm", mean: [0.5], std: [1e-30]).storage.allSatisfy(\.isFinite))
    }

    static func run(_ backend: String, _ net: CheckedNetwork, _ weights: [String: Tensor], _ input: Tensor) throws -> Tensor {
        if backend == "c-fast-unvectorised" { return try runUnvectorised(net, weights, input) }
        let (_, kind, options) = try #require(backends.first { $0.0 == backend })
        return try CompiledExecutor(backend: kind, network: net, weights: weights, options: options, cache: testCache).run(input)
    }

    /// The fast C kernels built without -march=native: on x86-64 that is the plain-C cv16
    /// (no AVX), which CompiledExecutor never builds on this machine.
    static func runUnvectorised(_ net: CheckedNetwork, _ weights: [String: Tensor], _ input: Tensor) throws -> Tensor {
        let program = lowerForC(net, options: KernelOptions(target: .avx2))
        let packed = try packWeights(program, weights: weights.mapValues(\.storage))
        let emitted = try emitC(program)
        let source = emitted.implementation.contents.replacing("#include \"\(emitted.header.name)\"\n", with: emitted.header.contents)
        var compiler = try Compiler.c()
        compiler.flags.removeAll { $0 == "-march=native" }
        let path = try testCache.library(source: source, name: emitted.symbolPrefix, compiler: compiler).path
        let handle = try #require(dlopen(path, RTLD_NOW | RTLD_LOCAL))
        let run = unsafeBitCast(try #require(dlsym(handle, "\(emitted.symbolPrefix)_run")), to: CompiledExecutor.RunFunction.self)
        let size = unsafeBitCast(try #require(dlsym(handle, "\(emitted.symbolPrefix)_workspace_size")),
                                 to: CompiledExecutor.WorkspaceSizeFunction.self)
        let batch = input.shape[0]
        let bytes = max(size(Int32(batch)), 64)
        let workspace = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        defer { workspace.deallocate() }
        var output = [Float](repeating: 0, count: batch * net.output.elementCount)
        let status = run(packed, workspace.bindMemory(to: Float.self, capacity: bytes / 4), input.storage, &output, Int32(batch))
        #expect(status == 0)
        return Tensor(shape: [batch] + net.output.dimensions, storage: output)
    }
}

/// NaN exactly where `reference` has NaN, ±inf where it has the same infinity; elsewhere
/// within 1e-4 · max(1, max finite |reference|).
func expectSameNaNs(_ output: Tensor, _ reference: Tensor, _ label: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    #expect(output.shape == reference.shape, "\(label): shape \(output.shape), expected \(reference.shape)", sourceLocation: sourceLocation)
    guard output.shape == reference.shape else { return }
    let tolerance = 1e-4 * max(1, reference.storage.filter(\.isFinite).map(abs).max() ?? 0)
    let wrong = reference.storage.indices.filter { i in
        let (a, b) = (output.storage[i], reference.storage[i])
        return b.isNaN ? !a.isNaN : !(a == b || abs(a - b) <= tolerance)
    }
    let nans = reference.storage.filter(\.isNaN).count
    let first = wrong.prefix(5).map { "[\($0)] \(output.storage[$0]) for \(reference.storage[$0])" }.joined(separator: ", ")
    #expect(wrong.count == 0, "\(label): \(wrong.count) of \(reference.storage.count) values wrong (the reference has \(nans) NaNs), first \(first)",
            sourceLocation: sourceLocation)
}
