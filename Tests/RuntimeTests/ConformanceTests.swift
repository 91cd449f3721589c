import Foundation
import Runtime
import ShapeCheck
import Testing

/// Every case in Tests/Fixtures/conformance, computed by an independent runtime (ONNX
/// Runtime): the reference interpreter must agree to within 1e-5 · max(1, max |expected|),
/// ten times tighter than the generated code's 1e-4.
@Suite struct ConformanceTests {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // RuntimeTests
        .deletingLastPathComponent()   // Tests
        .appendingPathComponent("Fixtures/conformance")

    /// Listed explicitly so a missing folder fails rather than silently not running.
    static let cases = ["activations", "groups", "lecture_5x5", "lenet5", "mlp", "norms", "pools",
                        "residual", "same", "strides_pads"]

    @Test func everyFolderIsListed() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures.path)
            .filter { name in
                var isDirectory: ObjCBool = false
                return FileManager.default.fileExists(atPath: Self.fixtures.appendingPathComponent(name).path,
                                                      isDirectory: &isDirectory) && isDirectory.boolValue
            }
        #expect(Set(folders) == Set(Self.cases))
    }

    @Test(arguments: cases)
    func referenceInterpreterMatches(_ name: String) throws {
        let folder = Self.fixtures.appendingPathComponent(name)
        let modelPath = folder.appendingPathComponent("model.cnn").path
        let text = try String(contentsOfFile: modelPath, encoding: .utf8)
        let checked = checkSource(text, path: modelPath)
        let network = try #require(checked.network, "\(name): \(checked.diagnostics.map(\.message))")

        let weightsPath = folder.appendingPathComponent("weights.safetensors").path
        let weights = try WeightFile.read(contentsOf: weightsPath).validated(for: network, path: weightsPath)
        let input = try NPY.read(contentsOf: folder.appendingPathComponent("input.npy").path)
        let expected = try NPY.read(contentsOf: folder.appendingPathComponent("expected.npy").path)

        let output = try ReferenceInterpreter(network: network, weights: weights).run(input)
        try #require(output.shape == expected.shape, "\(name): shape \(output.shape), expected \(expected.shape)")

        let scale = max(1, expected.storage.map(abs).max() ?? 0)
        let tolerance = 1e-5 * scale
        var worst = (index: 0, error: Float(0))
        for i in expected.storage.indices {
            let error = abs(output.storage[i] - expected.storage[i])
            if !(error <= worst.error) { worst = (i, error) }
        }
        #expect(worst.error <= tolerance,
                "\(name): element \(worst.index) is \(output.storage[worst.index]), expected \(expected.storage[worst.index]) (error \(worst.error), tolerance \(tolerance))")
    }
}
