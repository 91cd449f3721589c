import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing

/// The emitted code compiles warning-free: C99 with -Wall -Wextra -Werror -pedantic, Swift
/// with -warnings-as-errors.
@Suite struct EmittedCodeTests {
    static let strictC = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O0", "-c"]

    /// Writes the C files to a fresh folder and compiles NAME.c; returns the compiler's verdict.
    func compileC(_ source: CSource, flags: [String] = strictC) throws -> (status: Int32, output: String) {
        let directory = try temporaryDirectory("emit-c")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for file in source.files { try write(file.contents, to: "\(directory)/\(file.name)") }
        return try shell(try cCompiler(), flags + [source.implementation.name, "-o", "out.o"], in: directory)
    }

    @Test(arguments: Models.all)
    func emittedCCompilesStrictly(_ name: String) throws {
        let source = try emitC(lower(try model(name)))
        let result = try compileC(source)
        #expect(result.status == 0, "\(name).c:\n\(result.output.prefix(3000))")
        #expect(result.output.isEmpty, "\(name).c: \(result.output.prefix(3000))")
    }

    /// What `cnnc compile --emit c` writes by default: the fast kernels, for either
    /// vector target, strict at -O0 and with the host's vector unit at -O3.
    @Test(arguments: Models.all)
    func fastCCompilesStrictly(_ name: String) throws {
        let net = try model(name)
        for target in [VectorTarget.avx512, .avx2] {
            let source = try emitC(lowerForC(net, options: KernelOptions(target: target)))
            let result = try compileC(source)
            #expect(result.status == 0, "\(name).c (\(target)):\n\(result.output.prefix(3000))")
            #expect(result.output.isEmpty, "\(name).c (\(target)): \(result.output.prefix(3000))")
        }
    }

    @Test(arguments: [[], ["-DCNNC_NO_THREADS"], ["-DCNNC_PROFILE"]])
    func fastCCompilesOptimisedForTheHost(_ defines: [String]) throws {
        let source = try emitC(lowerForC(try model("resnet18"), options: KernelOptions(target: .host)))
        let result = try compileC(source, flags: ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O3", "-march=native", "-c"] + defines)
        #expect(result.status == 0, "\(defines): \(result.output.prefix(3000))")
        #expect(result.output.isEmpty, "\(defines): \(result.output.prefix(3000))")
    }

    @Test(arguments: Conformance.cases)
    func conformanceCasesCompileStrictly(_ name: String) throws {
        let path = Paths.conformance.appendingPathComponent("\(name)/model.cnn").path
        let source = try emitC(lower(try network(try String(contentsOfFile: path, encoding: .utf8), path: path)))
        let result = try compileC(source)
        #expect(result.status == 0, "\(name).c:\n\(result.output.prefix(3000))")
    }

    @Test func emittedCCompilesOptimisedForTheHost() throws {
        let result = try compileC(try emitC(lower(try model("googlenet"))), flags: ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O3", "-march=native", "-c"])
        #expect(result.status == 0, "\(result.output.prefix(3000))")
    }

    @Test func embeddedWeightsCompile() throws {
        let net = try model("lenet5")
        let program = lower(net)
        let packed = try packWeights(program, weights: WeightInit.weights(for: net, seed: 1).tensors.mapValues(\.storage))
        let source = try emitC(program, embeddedWeights: packed)
        #expect(source.header.contents.contains("extern const float lenet5_embedded_weights[];"))
        let result = try compileC(source)
        #expect(result.status == 0, "\(result.output.prefix(3000))")
    }

    /// Every model's Swift type-checks without a warning; LeNet-5's also builds with -O.
    @Test func emittedSwiftHasNoWarnings() throws {
        let directory = try temporaryDirectory("emit-swift")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var files: [String] = []
        for name in Models.all + ["residual", "pools", "norms", "activations"].map({ "conformance:" + $0 }) {
            let net: CheckedNetwork
            if name.hasPrefix("conformance:") {
                let path = Paths.conformance.appendingPathComponent("\(name.dropFirst(12))/model.cnn").path
                net = try network(try String(contentsOfFile: path, encoding: .utf8), path: path)
            } else {
                net = try model(name)
            }
            let source = try emitSwift(lower(net))
            let path = "\(directory)/\(source.file.name)"
            try write(source.file.contents, to: path)
            files.append(path)
        }
        let swiftc = try Compiler.swift().path
        // Each file on its own: they are separate programs (same helper type names).
        for file in files {
            let result = try shell(swiftc, ["-typecheck", "-parse-as-library", "-warnings-as-errors", file])
            #expect(result.status == 0 && result.output.isEmpty, "\(file):\n\(result.output.prefix(3000))")
        }
        let lenet = files[0]
        let result = try shell(swiftc, ["-O", "-emit-library", "-parse-as-library", "-warnings-as-errors", lenet, "-o", "\(directory)/liblenet5.so"])
        #expect(result.status == 0 && result.output.isEmpty, "\(result.output.prefix(3000))")
    }

    /// The fast Swift kernels typecheck warning-free under each spelling of their arithmetic
    /// (no condition: lane loops; -D CNNC_AVX2; -D CNNC_AVX512), whatever this machine has:
    /// every activation, LRN, pooling, depthwise, grouped, Winograd and fc.
    @Test func fastSwiftTypechecksUnderEveryCondition() throws {
        let text = """
            input 20x20x6
            c: conv 16 3x3 pad 1 elu 0.5
            l: lrn size 5 alpha 0.0001 beta 0.75 k 2
            d: depthwise 3x3 pad 1 hardswish
            g: conv 32 3x3 pad 1 groups 2 silu
            w: conv 32 3x3 pad 1 gelu
            a: add g w tanh
            p: maxpool 2x2 stride 2
            q: conv 32 1x1 sigmoid
            r: conv 32 1x1 hardsigmoid
            s: conv 32 1x1 relu6
            t: conv 32 1x1 leakyrelu 0.1
            gp: globalavgpool
            fc 10 softmax
            """
        let program = lowerForC(try network(text, path: "every.cnn"), options: KernelOptions(target: .avx512, language: .swift))
        let source = try emitSwift(program)
        let directory = try temporaryDirectory("emit-fast-swift")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try write(source.file.contents, to: "\(directory)/\(source.file.name)")
        for condition in [[], ["-D", "CNNC_AVX2"], ["-D", "CNNC_AVX512"]] {
            let result = try shell(try Compiler.swift().path, ["-typecheck", "-parse-as-library", "-warnings-as-errors"] + condition + [source.file.name],
                                   in: directory)
            #expect(result.status == 0 && result.output.isEmpty, "\(condition): \(result.output.prefix(3000))")
        }
    }

    @Test func headerDocumentsTheAPI() throws {
        let source = try emitC(lower(try model("lenet5")))
        for line in ["size_t lenet5_workspace_size(int batch);", "size_t lenet5_weight_count(void);",
                     "int lenet5_run(const float *weights, float *workspace, const float *input, float *output, int batch);",
                     "#define LENET5_INPUT_SIZE 1024", "#define LENET5_OUTPUT_SIZE 10"] {
            #expect(source.header.contents.contains(line), "missing: \(line)")
        }
        #expect(!source.implementation.contents.contains("#include <stdio.h>"))
    }
}
