import Foundation
import Parser
import ShapeCheck
import Testing

/// Each conformance case's expected-check.tsv (shapes from ONNX shape inference, parameter
/// counts from the weights) against what `check` computes for its model.cnn.
struct ConformanceCheckTests {
    @Test(arguments: Conformance.cases)
    func shapesAndParametersMatch(_ name: String) throws {
        let files = Conformance.Files(name)
        let result = checkSource(try files.modelText(), path: "\(name)/model.cnn")
        let network = try #require(result.network, "\(rendered(result))")
        var expectedRows: [(name: String, shape: String, parameters: Int)] = []
        var expectedTotal: Int?
        for line in try String(contentsOfFile: files.expectedCheck, encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if fields[0] == "total" { expectedTotal = Int(fields[2]) } else { expectedRows.append((fields[0], fields[1], Int(fields[2])!)) }
        }
        #expect(network.layers.map(\.name) == expectedRows.map(\.name))
        for (layer, row) in zip(network.layers, expectedRows) {
            #expect(layer.output.description == row.shape, "\(name)/\(layer.name)")
            #expect(layer.trainableParameters == row.parameters, "\(name)/\(layer.name)")
        }
        #expect(network.trainableParameters == expectedTotal)
    }

    /// The cases whose NOTE.md says a stride does not fit: check warns for those that leave
    /// input cells unread (d: (7 − 3)/3 leaves one column and one row), not for those that
    /// leave only padding (b: (12 − 5 + 2·2)/2 across, the cell left is the right padding;
    /// ap: (8 − 3 + 2·1)/2 likewise); strict makes every one of them an error.
    @Test func stridesThatDoNotFitAreWarned() throws {
        for (name, lost, misfits) in [("strides_pads", ["d"], ["b", "d"]), ("pools", [], ["ap"])] {
            let text = try Conformance.Files(name).modelText()
            let result = checkSource(text, path: name)
            let warned = Set(result.diagnostics.filter { $0.id == "stride-does-not-fit" }.map { String($0.message.prefix { $0 != ":" }) })
            #expect(warned == Set(lost), "\(name): \(rendered(result))")
            #expect(result.diagnostics.allSatisfy { $0.severity == .warning })
            let strictResult = checkSource(text, path: name, strict: true)
            #expect(strictResult.hasErrors && strictResult.network == nil)
            let refused = Set(strictResult.diagnostics.filter { $0.severity == .error }.map { String($0.message.prefix { $0 != ":" }) })
            #expect(refused == Set(misfits), "\(name): \(rendered(strictResult))")
        }
    }
}
