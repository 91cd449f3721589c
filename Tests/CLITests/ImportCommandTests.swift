import Foundation
import Runtime
import Testing
@testable import cnnc

/// `cnnc import` end to end: the files it writes are what `check` and `run` take unchanged,
/// nothing is written when a node cannot be imported, and files it did not write are kept.
struct ImportCommandTests {
    static func fixture(_ name: String) -> String { Paths.fixtures.appendingPathComponent("onnx/\(name)").path }

    @Test func anImportedModelChecksAndRunsAsONNXRuntimeDoes() throws {
        let scratch = try ScratchFolder("import-chain")
        let (cnn, weights) = (scratch.file("chain.cnn"), scratch.file("chain.safetensors"))
        let result = runCNNC(["import", Self.fixture("chain.onnx"), "-o", cnn, "--weights", weights])
        #expect(result.status == ExitCode.success, "\(result.err)")
        #expect(result.out.hasPrefix("wrote \(cnn): network chain, 8 layers from 9 ONNX nodes (opset 13)\n"))
        #expect(runCNNC(["check", cnn]).status == ExitCode.success)
        let output = scratch.file("y.npy")
        let run = runCNNC(["run", cnn, "--weights", weights, "--input", Self.fixture("chain.input.npy"), "--backend", "reference",
                           "--output", output])
        #expect(run.status == ExitCode.success, "\(run.err)")
        let y = try NPY.read(contentsOf: output), expected = try NPY.read(contentsOf: Self.fixture("chain.expected.npy"))
        #expect(y.shape == expected.shape)
        let scale = max(1, expected.storage.map { abs($0) }.max() ?? 0)
        #expect(zip(y.storage, expected.storage).allSatisfy { abs($0 - $1) <= 1e-4 * scale })
        // A second import replaces the files it wrote without --force.
        #expect(runCNNC(["import", Self.fixture("chain.onnx"), "-o", cnn, "--weights", weights]).status == ExitCode.success)
    }

    @Test func weightsInAnExternalFileAreRead() throws {
        let scratch = try ScratchFolder("import-external")
        let (cnn, weights) = (scratch.file("e.cnn"), scratch.file("e.safetensors"))
        let result = runCNNC(["import", Self.fixture("external.onnx"), "-o", cnn, "--weights", weights])
        #expect(result.status == ExitCode.success, "\(result.err)")
        let output = scratch.file("y.npy")
        let run = runCNNC(["run", cnn, "--weights", weights, "--input", Self.fixture("external.input.npy"), "--backend", "reference",
                           "--output", output])
        #expect(run.status == ExitCode.success, "\(run.err)")
        let y = try NPY.read(contentsOf: output), expected = try NPY.read(contentsOf: Self.fixture("external.expected.npy"))
        #expect(zip(y.storage, expected.storage).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, expected.storage.map { abs($0) }.max() ?? 0) })
    }

    @Test func unsupportedNodesAreAllListedAndNothingIsWritten() throws {
        let scratch = try ScratchFolder("import-unsupported")
        let result = runCNNC(["import", Self.fixture("unsupported.onnx"), "-o", scratch.file("u.cnn"), "--weights", scratch.file("u.safetensors")])
        #expect(result.status == ExitCode.failure)
        let lines = result.err.split(separator: "\n").map(String.init)
        #expect(lines.first == "cnnc import: \(Self.fixture("unsupported.onnx")): 5 of 10 nodes cannot be imported; nothing was written")
        #expect(lines.contains("  unsupported op Erf: 2 nodes: 'erf_1', 'erf_2'"))
        #expect(lines.count == 5)  // the headline, two op types, the Conv refused for its pads, the MaxPool for its Pad
        #expect(scratch.names().isEmpty)
    }

    @Test func filesCNNCDidNotWriteAreKeptWithoutForce() throws {
        let scratch = try ScratchFolder("import-force")
        let cnn = try scratch.write("mine.cnn", "network mine\ninput 4\nfc 2\n")
        let weights = scratch.file("mine.safetensors")
        let arguments = ["import", Self.fixture("chain.onnx"), "-o", cnn, "--weights", weights]
        let refused = runCNNC(arguments)
        #expect(refused.status == ExitCode.failure)
        #expect(refused.err == "cnnc import: \(cnn) exists and was not written by cnnc; pass --force to overwrite it, or choose another name\n")
        #expect(try String(contentsOfFile: cnn, encoding: .utf8) == "network mine\ninput 4\nfc 2\n")
        #expect(!FileManager.default.fileExists(atPath: weights))
        #expect(runCNNC(arguments + ["--force"]).status == ExitCode.success)
        #expect(try String(contentsOfFile: cnn, encoding: .utf8).hasPrefix("# mine: written by cnnc import from chain.onnx"))
        // init's weights have no import marker: replacing them needs --force too.
        #expect(runCNNC(["init", cnn, "-o", weights]).status == ExitCode.success)
        #expect(runCNNC(arguments).status == ExitCode.failure)
    }

    @Test func dynamicDimensionsAreGivenWithInputShape() throws {
        let scratch = try ScratchFolder("import-dynamic")
        let base = ["import", Self.fixture("dynamic.onnx"), "-o", scratch.file("d.cnn"), "--weights", scratch.file("d.safetensors")]
        let missing = runCNNC(base)
        #expect(missing.status == ExitCode.failure)
        #expect(missing.err.contains("has dynamic dimensions [N, 3, height, width]; give the size of one image with --input-shape CxHxW"))
        #expect(runCNNC(base + ["--input-shape", "3x12x10"]).status == ExitCode.success)
        #expect(try String(contentsOfFile: scratch.file("d.cnn"), encoding: .utf8).contains("\ninput 10x12x3\n"))
        let bad = runCNNC(base + ["--input-shape", "3x12"])
        #expect(bad.status == ExitCode.failure && bad.err.contains("--input-shape 3x12 has 2 dimensions"))
    }

    @Test func usageProblemsAreReportedTogether() throws {
        let result = runCNNC(["import", Self.fixture("chain.onnx"), "--input-shape", "3by4"])
        #expect(result.status == ExitCode.usage)
        #expect(result.err.hasPrefix("""
            cnnc import: -o NET.cnn is required
            cnnc import: --weights NET.safetensors is required
            cnnc import: --input-shape takes sizes joined by 'x' in ONNX's order, CxHxW or NxCxHxW (K or NxK for a vector), not '3by4'
            usage: cnnc import MODEL.onnx --output NET.cnn --weights NET.safetensors
            """))
        let same = runCNNC(["import", Self.fixture("chain.onnx"), "-o", "x", "--weights", "x"])
        #expect(same.status == ExitCode.usage && same.err.contains("-o and --weights name the same file"))
        let model = runCNNC(["import", Self.fixture("chain.onnx"), "-o", Self.fixture("chain.onnx"), "--weights", "w.safetensors"])
        #expect(model.err.contains("-o \(Self.fixture("chain.onnx")) is the ONNX model it reads"))
    }

    @Test func filesThatAreNotONNXAreRefusedByOffset() throws {
        let scratch = try ScratchFolder("import-hostile")
        let outputs = ["-o", scratch.file("x.cnn"), "--weights", scratch.file("x.safetensors")]
        let zero = runCNNC(["import", "/dev/zero"] + outputs)
        #expect(zero.status == ExitCode.failure)
        #expect(zero.err == "cnnc import: /dev/zero: not a valid ONNX file: ModelProto: field number 0 is out of protobuf's range "
            + "1...536870911 at byte offset 0\n")
        let empty = try scratch.write("empty.onnx", "")
        #expect(runCNNC(["import", empty] + outputs).err == "cnnc import: \(empty): the file is empty\n")
        let text = try scratch.write("net.onnx", "network lenet5\ninput 32x32x1\n")
        #expect(runCNNC(["import", text] + outputs).err.hasPrefix("cnnc import: \(text): not a valid ONNX file: ModelProto: "))
        #expect(runCNNC(["import", scratch.file("missing.onnx")] + outputs).err == "cnnc import: \(scratch.file("missing.onnx")): no such file\n")
        #expect(Set(scratch.names()) == ["empty.onnx", "net.onnx"])
    }
}
