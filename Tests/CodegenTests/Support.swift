import Codegen
import Foundation
import Parser
import Runtime
import ShapeCheck
import Testing
// Re-exported so every file of this target sees the shared test support.
@_exported import TestSupport

/// The networks in models/: small ones run in the normal suite, large ones only with
/// CNNC_LARGE_TESTS=1 (and `swift test -c release`).
enum Models {
    static let small = ["lenet5", "digits"]
    static let large = ["alexnet", "zfnet", "vgg16", "vgg19", "resnet18", "resnet34", "resnet50", "googlenet"]
    static let all = small + large
}

/// One conformance case: its network, validated weights, input and ONNX Runtime's answer.
func conformanceCase(_ name: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws
    -> (network: CheckedNetwork, weights: [String: Tensor], input: Tensor, expected: Tensor) {
    let files = Conformance.Files(name)
    let net = try network(try files.modelText(), path: files.model, sourceLocation: sourceLocation)
    let weights = try WeightFile.read(contentsOf: files.weights).validated(for: net, path: files.weights)
    return (net, weights, try NPY.read(contentsOf: files.input), try NPY.read(contentsOf: files.expected))
}

/// Checks network text, failing the test with the diagnostics when it has errors.
func network(_ text: String, path: String = "test.cnn", sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> CheckedNetwork {
    let result = checkSource(text, path: path)
    return try #require(result.network, "\(result.diagnostics.map { "\($0.range.start): \($0.message)" })",
                        sourceLocation: sourceLocation)
}

func model(_ name: String) throws -> CheckedNetwork {
    let url = Paths.models.appendingPathComponent(name + ".cnn")
    let bytes = try [UInt8](Data(contentsOf: url))
    let result = checkSource(SourceFile(path: "models/\(name).cnn", bytes: bytes))
    return try #require(result.network, "models/\(name).cnn: \(result.diagnostics.map(\.message))")
}

/// One cache for the whole test run, shared across runs (keys are content hashes, so it is
/// never stale): a test that compiles what another already compiled loads it.
let testCache = CompilerCache(directory: NSTemporaryDirectory() + "cnnc-codegen-tests-\(getuid())")

/// A fresh, empty folder.
func temporaryDirectory(_ label: String) throws -> String {
    let path = NSTemporaryDirectory() + "cnnc-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A deterministic batch of inputs in [-1, 1).
/// He-initialised weights (seed 2) whose batchnorm statistics are not the identity (variance
/// 0.5–1.5, mean ±0.1), so that folding batchnorm is exercised: the large networks' tests.
func weightsWithBatchNormStatistics(for net: CheckedNetwork) -> [String: Tensor] {
    var weights = WeightInit.weights(for: net, seed: 2).tensors
    var generator = LCG(seed: 0x9E37_79B9)
    func next() -> Float { generator.unit() }
    for key in weights.keys.sorted() where key.hasSuffix(".running_var") || key.hasSuffix(".running_mean") {
        weights[key]!.storage = weights[key]!.storage.map { _ in key.hasSuffix(".running_var") ? 0.5 + next() : (next() - 0.5) * 0.2 }
    }
    return weights
}

func randomInput(for network: CheckedNetwork, batch: Int, seed: UInt64) -> Tensor {
    var generator = XorShift(state: seed &* 0x9E37_79B9_7F4A_7C15 | 1)
    let values = (0..<(batch * network.input.elementCount)).map { _ in generator.signedUnit() }
    return Tensor(shape: [batch] + network.input.dimensions, storage: values)
}

/// The largest |a − b| and the tolerance 1e-4 · max(1, max |reference|).
func compare(_ output: Tensor, _ reference: Tensor, _ label: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    expectClose(output.storage, shape: output.shape, reference.storage, expectedShape: reference.shape, relative: 1e-4,
                label, sourceLocation: sourceLocation)
}

/// The C compiler the tests use to build emitted code: $CC, else the toolchain's clang.
func cCompiler() throws -> String {
    try Compiler.c().path
}

func write(_ text: String, to path: String) throws {
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}

/// The number a `#define NAME 123` line of emitted C gives, if there is one.
func cDefine(_ name: String, in text: String) -> Int? {
    for line in text.split(separator: "\n") where line.hasPrefix("#define \(name) ") {
        return Int(line.dropFirst("#define \(name) ".count).prefix { $0.isNumber })
    }
    return nil
}
