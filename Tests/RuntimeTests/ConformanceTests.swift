import Foundation
import Runtime
import ShapeCheck
import Testing
import TestSupport

/// Every case in Tests/Fixtures/conformance, computed by an independent runtime (ONNX
/// Runtime): the reference interpreter must agree to within 1e-5 · max(1, max |expected|),
/// ten times tighter than the generated code's 1e-4.
@Suite struct ConformanceTests {
    @Test func everyFolderIsListed() throws {
        #expect(try Conformance.folders() == Set(Conformance.cases))
    }

    @Test(arguments: Conformance.cases)
    func referenceInterpreterMatches(_ name: String) throws {
        let files = Conformance.Files(name)
        let checked = checkSource(try files.modelText(), path: files.model)
        let network = try #require(checked.network, "\(name): \(checked.diagnostics.map(\.message))")
        let weights = try WeightFile.read(contentsOf: files.weights).validated(for: network, path: files.weights)
        let input = try NPY.read(contentsOf: files.input)
        let expected = try NPY.read(contentsOf: files.expected)

        let output = try ReferenceInterpreter(network: network, weights: weights).run(input)
        expectClose(output.storage, shape: output.shape, expected.storage, expectedShape: expected.shape, relative: 1e-5, name)
    }
}
