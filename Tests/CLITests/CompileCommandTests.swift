import Foundation
import Testing
@testable import cnnc

struct CompileCommandTests {
    func folder() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cnnc-compile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    @Test func writesHeaderSourceAndPackedWeightsAndReportsMemory() throws {
        let dir = try folder()
        let model = Paths.packageRoot.appendingPathComponent("models/lenet5.cnn").path
        #expect(runCNNC(["init", model, "-o", "\(dir)/w.safetensors", "--seed", "2"]).status == 0)
        let result = runCNNC(["compile", model, "--emit", "c", "-o", dir, "--weights", "\(dir)/w.safetensors"])
        #expect(result.status == 0, "\(result.err)")
        for name in ["lenet5.h", "lenet5.c", "lenet5.weights"] {
            #expect(FileManager.default.fileExists(atPath: "\(dir)/\(name)"), "\(name) missing; printed:\n\(result.out)")
        }
        #expect(result.out.contains("arena"))
        let header = try String(contentsOfFile: "\(dir)/lenet5.h", encoding: .utf8)
        #expect(header.contains("lenet5_run("))
    }

    @Test func swiftEmitsOneFile() throws {
        let dir = try folder()
        let result = runCNNC(["compile", Paths.packageRoot.appendingPathComponent("models/digits.cnn").path, "--emit", "swift", "-o", dir])
        #expect(result.status == 0, "\(result.err)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(files == ["digits.swift"])
    }

    @Test func usageErrorsExitTwoAndBadNetworksExitOne() throws {
        let dir = try folder()
        let model = Paths.packageRoot.appendingPathComponent("models/lenet5.cnn").path
        #expect(runCNNC(["compile", model, "--embed-weights", "-o", dir]).status == 2)
        #expect(runCNNC(["compile", model, "--emit", "fortran", "-o", dir]).status == 2)
        let broken = try temporaryFile("broken.cnn", "input 8x8x1\nconv 2 9x9\n")
        let result = runCNNC(["compile", broken, "-o", dir])
        #expect(result.status == 1)
        #expect(result.err.contains("error: conv1: the kernel is larger than the padded input width"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    /// `--plan` prints the plan the snapshots hold (Tests/Snapshots/plan) and writes nothing.
    @Test func planPrintsTheKernelPlanAndWritesNothing() throws {
        let dir = try folder()
        let model = Paths.packageRoot.appendingPathComponent("models/lenet5.cnn").path
        let here = FileManager.default.currentDirectoryPath
        let before = try FileManager.default.contentsOfDirectory(atPath: here)
        let result = runCNNC(["compile", model, "--plan", "--target", "avx2"])
        #expect(result.status == 0, "\(result.err)")
        let snapshot = try String(contentsOf: Paths.packageRoot.appendingPathComponent("Tests/Snapshots/plan/lenet5-avx2.txt"), encoding: .utf8)
        #expect(result.out == "kernel plan of lenet5 (7 steps; see docs/codegen.md):\n" + snapshot)
        #expect(try FileManager.default.contentsOfDirectory(atPath: here) == before)

        let both = runCNNC(["compile", model, "--plan", "-o", dir, "--listing"])
        #expect(both.status == 2)
        #expect(both.err.contains("--plan prints the kernel plan and writes nothing; drop -o, --listing"))
        let swift = runCNNC(["compile", model, "--plan", "--emit", "swift"])
        #expect(swift.status == 2)
        #expect(swift.err.contains("--plan shows the fast C kernels' plan; --emit swift and --plain have none"))
    }

    @Test func wrongWeightsAreAnErrorAndWriteNothing() throws {
        let dir = try folder()
        let lenet = Paths.packageRoot.appendingPathComponent("models/lenet5.cnn").path
        let digits = Paths.packageRoot.appendingPathComponent("models/digits.cnn").path
        #expect(runCNNC(["init", digits, "-o", "\(dir)/digits.safetensors"]).status == 0)
        let out = "\(dir)/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let result = runCNNC(["compile", lenet, "-o", out, "--weights", "\(dir)/digits.safetensors"])
        #expect(result.status == 1)
        #expect(result.err.contains("tensor 'f6.weight' has shape [100, 120], expected [84, 120]"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty)
    }
}
