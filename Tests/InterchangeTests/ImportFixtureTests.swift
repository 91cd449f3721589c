import Foundation
import Parser
import Runtime
import ShapeCheck
import Testing
@testable import Interchange

/// The fixtures of tools/onnx/make_fixtures.py imported, checked by cnnc's own checker, and
/// run in the reference interpreter on the input ONNX Runtime was given: the answers agree
/// within 1e-4·max(1, max|y|).
struct ImportFixtureTests {
    static let runnable = ["chain", "residual", "concat", "depthwise", "activations", "shape_flatten", "legacy", "dynamic", "shuffle",
                           "split_legacy", "convnext", "decoder", "external",
                           "upsample_legacy"]

    @Test func everyFixtureIsTested() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: ONNXFixtures.folder.path)
        let models = Set(files.filter { $0.hasSuffix(".onnx") }.map { String($0.dropLast(5)) })
        #expect(models == Set(Self.runnable + ["unsupported"]))
        let bytes = try files.reduce(0) { $0 + (try Data(contentsOf: ONNXFixtures.folder.appendingPathComponent($1))).count }
        #expect(bytes < 1 << 20, "the ONNX fixtures are \(bytes) bytes")
    }

    @Test(arguments: runnable)
    func importedNetworkMatchesONNXRuntime(_ name: String) throws {
        let imported = try ONNXFixtures.imported(name, inputShape: name == "dynamic" ? [3, 12, 10] : nil)
        let verified = ONNXImport.verify(imported, path: "\(name).cnn", weightsPath: "\(name).safetensors")
        #expect(verified.bug == nil, "\(verified.bug ?? "")\n\(imported.text)")
        let network = try #require(verified.result.network)
        // The weights go through the file format cnnc reads, as `cnnc import` writes them.
        let file = try WeightFile.parse(WeightFile(tensors: imported.weights).serialized(metadata: [("written_by", importMarker)]),
                                        path: "\(name).safetensors")
        let weights = try file.validated(for: network, path: "\(name).safetensors")
        let input = try NPY.read(contentsOf: ONNXFixtures.file(name, "input.npy"))
        let expected = try NPY.read(contentsOf: ONNXFixtures.file(name, "expected.npy"))
        let output = try ReferenceInterpreter(network: network, weights: weights).run(input) { _, _ in }
        #expect(output.shape == expected.shape)
        let largest = expected.storage.map { abs($0) }.max() ?? 0
        let worst = zip(output.storage, expected.storage).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-4 * max(1, largest), "\(name): worst difference \(worst)\n\(imported.text)")
    }

    /// What the text says, line by line, for the chain torch-style names and the fusions.
    @Test func theChainReadsAsTheLanguageWritesIt() throws {
        let text = try ONNXFixtures.imported("chain").text
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.map {
            String($0.prefix { $0 != "#" }).trimmingCharacters(in: .whitespaces)
        }
        #expect(body == ["network chain", "input 16x16x3",
                         "features.0: conv 8 3x3 pad 1 nobias", "features.1: batchnorm", "features.2: relu",
                         "features.3: maxpool 2x2", "features.4: conv 16 3x3 stride 2 pad 1 relu", "avgpool: globalavgpool",
                         "Flatten: flatten", "classifier: fc 10"])
        #expect(text.hasPrefix("# chain: \(importMarker) from chain.onnx"))
        #expect(text.contains("classifier: fc 10") && text.contains("# 10; onnx: Gemm\n"))
    }

    @Test func branchesSayFromOnlyWhereTheGraphIsNotAChain() throws {
        let text = try ONNXFixtures.imported("residual").text
        let froms = text.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.contains(" from ") }
        #expect(froms.count == 1 && froms[0].hasPrefix("layer2.0.downsample.0: conv 12 1x1 stride 2 nobias from block1_sum"))
        #expect(text.contains("block1_sum: add layer1.0.conv2 conv1 relu"))
        #expect(text.contains("layer1.0.conv1: conv 8 3x3 pad 1 relu6"))
    }

    @Test func dynamicDimensionsNeedTheInputShape() throws {
        let model = try ONNXFixtures.model("dynamic")
        let message = ONNXFixtures.failure { _ = try ONNXImport.translate(model, options: ONNXFixtures.options("dynamic")) }
        #expect(message == "input 'input' has dynamic dimensions [N, 3, height, width]; give the size of one image with "
            + "--input-shape CxHxW, e.g. --input-shape 3x224x224")
        let conflict = ONNXFixtures.failure {
            _ = try ONNXImport.translate(try ONNXFixtures.model("chain"), options: ONNXFixtures.options("chain", inputShape: [3, 8, 8]))
        }
        #expect(conflict == "--input-shape 3x8x8 disagrees with input 'input' of shape [batch, 3, 16, 16] at dimension 2")
        // With the batch, N×C×H×W; the network still takes one image.
        let batched = try ONNXFixtures.imported("dynamic", inputShape: [4, 3, 12, 10])
        #expect(batched.text.contains("\ninput 10x12x3\n"))
    }

    @Test func everyUnsupportedNodeIsListedAtOnce() throws {
        let model = try ONNXFixtures.model("unsupported")
        let message = ONNXFixtures.failure { _ = try ONNXImport.translate(model, options: ONNXFixtures.options("unsupported")) }
        #expect(message == """
            5 of 10 nodes cannot be imported; nothing was written
              unsupported op Erf: 2 nodes: 'erf_1', 'erf_2'
              unsupported op Sub: 1 node: #4 (output 'diff')
              Conv 'conv': has asymmetric pads [1, 1, 0, 0] (top, left, bottom, right); the language pads both sides of an \
            axis alike, or as 'pad same' does (which here would be [0, 0, 1, 1])
              MaxPool 'pool': reads the reflect padding of Pad 'pad'; a max pool's padding never wins, so only a Pad of -inf \
            folds into it
            """)
    }
}

/// The committed ONNX fixtures and what importing them gives.
enum ONNXFixtures {
    static let folder = Paths.fixtures.appendingPathComponent("onnx")

    static func file(_ name: String, _ suffix: String) -> String { folder.appendingPathComponent("\(name).\(suffix)").path }

    static func model(_ name: String) throws -> ONNXModel {
        var model = try ONNXImport.decode(try ONNXImport.read(file(name, "onnx")))
        try ONNXImport.loadExternalData(&model, folder: folder.path)
        return model
    }

    static func options(_ name: String, inputShape: [Int]? = nil) -> ImportOptions {
        ImportOptions(inputShape: inputShape, networkName: name, modelName: "\(name).onnx", weightsName: "\(name).safetensors")
    }

    static func imported(_ name: String, inputShape: [Int]? = nil) throws -> ImportedNetwork {
        try ONNXImport.translate(try model(name), options: options(name, inputShape: inputShape))
    }

    /// The message of the ImportError `body` throws; nil when it throws none.
    static func failure(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            return (error as? ImportError)?.message ?? "\(error)"
        }
    }
}

/// docs/language.md shows an import and a refusal; they are what cnnc import prints.
struct ImportDocumentationTests {
    static func codeBlocks(after heading: String) throws -> [String] {
        let text = try String(contentsOf: Paths.packageRoot.appendingPathComponent("docs/language.md"), encoding: .utf8)
        let section = try #require(text.range(of: heading)).upperBound
        let rest = text[section...]
        let body = rest[..<(rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex)]
        return body.components(separatedBy: "```\n").enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
    }

    @Test func theDocumentedImportIsWhatImportWrites() throws {
        let blocks = try Self.codeBlocks(after: "## Importing ONNX\n")
        try #require(blocks.count == 2)
        let model = try ONNXImport.decode(try ONNXImport.read(Paths.examples.appendingPathComponent("onnx/small_cnn.onnx").path))
        let imported = try ONNXImport.translate(model, options: ImportOptions(networkName: "small_cnn", modelName: "small_cnn.onnx",
                                                                              weightsName: "small_cnn.safetensors"))
        #expect(blocks[0] == imported.text)
        let message = ONNXFixtures.failure { _ = try ONNXImport.translate(try ONNXFixtures.model("unsupported"),
                                                                           options: ONNXFixtures.options("unsupported")) }
        #expect(blocks[1] == "cnnc import: unsupported.onnx: \(message ?? "")\n")
    }
}
