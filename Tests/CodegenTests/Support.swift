import Codegen
import Foundation
import Parser
import Runtime
import ShapeCheck
import Testing

/// Paths into the source tree, so tests run from a clone with no resource bundle.
enum Paths {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let conformance = packageRoot.appendingPathComponent("Tests/Fixtures/conformance")
    static let models = packageRoot.appendingPathComponent("models")
    static let examples = packageRoot.appendingPathComponent("examples")
}

/// The networks in models/: small ones run in the normal suite, large ones only with
/// CNNC_LARGE_TESTS=1 (and `swift test -c release`).
enum Models {
    static let small = ["lenet5", "digits"]
    static let large = ["alexnet", "zfnet", "vgg16", "vgg19", "resnet18", "resnet34", "resnet50", "googlenet"]
    static let all = small + large
}

/// The conformance cases, listed so a missing folder fails rather than silently not running.
let conformanceCases = ["activations", "groups", "lecture_5x5", "lenet5", "mlp", "norms", "pools",
                        "residual", "same", "strides_pads"]

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
func randomInput(for network: CheckedNetwork, batch: Int, seed: UInt64) -> Tensor {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    let count = batch * network.input.elementCount
    var values = [Float](repeating: 0, count: count)
    for i in 0..<count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        values[i] = Float(state >> 40) / Float(1 << 23) - 1
    }
    return Tensor(shape: [batch] + network.input.dimensions, storage: values)
}

/// The largest |a − b| and the tolerance 1e-4 · max(1, max |reference|).
func compare(_ output: Tensor, _ reference: Tensor, _ label: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    #expect(output.shape == reference.shape, "\(label): shape \(output.shape), expected \(reference.shape)", sourceLocation: sourceLocation)
    guard output.shape == reference.shape else { return }
    let scale = max(1, reference.storage.map(abs).max() ?? 0)
    let tolerance = 1e-4 * scale
    var worst = (index: 0, error: Float(0))
    for i in reference.storage.indices {
        let error = abs(output.storage[i] - reference.storage[i])
        if !(error <= worst.error) { worst = (i, error) }
    }
    #expect(worst.error <= tolerance,
            "\(label): element \(worst.index) is \(output.storage[worst.index]), expected \(reference.storage[worst.index]) (error \(worst.error), tolerance \(tolerance))",
            sourceLocation: sourceLocation)
}

/// The C compiler the tests use to build emitted code: $CC, else the toolchain's clang.
func cCompiler() throws -> String {
    try Compiler.c().path
}

/// Runs a program; its status and combined output.
@discardableResult
func shell(_ executable: String, _ arguments: [String], in directory: String? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

func write(_ text: String, to path: String) throws {
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}
