import Foundation
import ShapeCheck
import Testing
@testable import cnnc

/// `cnnc export`: the file written, its report, the usage errors, and a layer ONNX cannot
/// express refused with nothing written. ExportTests (InterchangeTests) checks the model itself.
struct ExportCommandTests {
    @Test func writesTheModelAndSaysWhatIsInIt() throws {
        let scratch = try ScratchFolder("export")
        let model = Paths.models.appendingPathComponent("lenet5.cnn").path
        #expect(runCNNC(["init", model, "-o", scratch.file("w.safetensors"), "--seed", "4"]).status == 0)
        let result = runCNNC(["export", model, "--weights", scratch.file("w.safetensors"), "-o", scratch.file("lenet5.onnx")])
        #expect(result.status == 0, "\(result.err)")
        let bytes = try #require(scratch.contents("lenet5.onnx"))
        #expect(result.out == "wrote \(scratch.file("lenet5.onnx")) (\(CheckReport.grouped(bytes.count)) bytes): "
            + "13 ONNX nodes for 7 layers, 10 initializers, opset 20\n")
        // ModelProto's field 1 (ir_version 10) comes first, and the producer's name follows.
        #expect(Array(bytes.prefix(2)) == [0x08, 10])
        #expect(bytes.range(of: Data("cnnc".utf8)) != nil)

        let random = runCNNC(["export", model, "-o", scratch.file("random.onnx"), "--seed", "1"])
        #expect(random.status == 0 && random.out.hasSuffix("; random weights, seed 1\n"), "\(random.out)\(random.err)")
    }

    @Test func usageErrorsAndRefusals() throws {
        let scratch = try ScratchFolder("export-errors")
        let model = Paths.models.appendingPathComponent("lenet5.cnn").path
        let missing = runCNNC(["export", model])
        #expect(missing.status == 2 && missing.err.contains("-o NET.onnx is required"), "\(missing.err)")
        #expect(runCNNC(["init", model, "-o", scratch.file("w.safetensors")]).status == 0)
        let both = runCNNC(["export", model, "--weights", scratch.file("w.safetensors"), "--seed", "2", "-o", scratch.file("x.onnx")])
        #expect(both.status == 2 && both.err.contains("--seed draws random weights; drop it with --weights"), "\(both.err)")
        let onItself = runCNNC(["export", model, "-o", model])
        #expect(onItself.status == 2, "\(onItself.err)")

        let odd = try scratch.write("odd.cnn", "input 10x10x2\np: adaptiveavgpool 3x3\n")
        let refused = runCNNC(["export", odd, "-o", scratch.file("odd.onnx")])
        #expect(refused.status == 1)
        #expect(refused.err == "cnnc export: \(odd): p: adaptiveavgpool 3x3 of 10x10 has windows of two sizes, which no ONNX pool has\n")
        #expect(scratch.contents("odd.onnx") == nil)
    }
}
