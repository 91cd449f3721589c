import Codegen
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

    /// NAME.weights starts with the header the generated code checks; compile says which
    /// target the kernels are blocked for, how to choose another, and how to make weights.
    @Test func saysTheTargetAndWritesAWeightsHeader() throws {
        let dir = try folder()
        let model = Paths.packageRoot.appendingPathComponent("models/lenet5.cnn").path
        #expect(runCNNC(["init", model, "-o", "\(dir)/w.safetensors"]).status == 0)
        let result = runCNNC(["compile", model, "-o", "\(dir)/a", "--weights", "\(dir)/w.safetensors", "--target", "avx2"])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("kernels: fast C blocked for avx2 (8 floats per vector), as --target avx2 asked; "
            + "for another machine pass --target avx512, neon or generic, and write its weights with the same --target"), "\(result.out)")
        #expect(!result.out.contains("weights: none written"))
        let blob = try #require(FileManager.default.contents(atPath: "\(dir)/a/lenet5.weights"))
        #expect(Array(blob.prefix(8)) == Array("CNNCWTS".utf8) + [0])
        #expect(blob[12] == 2 && blob[16] == 8 && blob[20] == 16, "target avx2, 8 floats, blocks of 16")
        let header = try String(contentsOfFile: "\(dir)/a/lenet5.h", encoding: .utf8)
        #expect(header.contains("#define LENET5_WEIGHTS_BYTES \(blob.count) "))
        #expect(header.contains("Made by cnnc \(cnncVersion): fast C kernels blocked for avx2 (cnnc compile --target avx2)."))

        let bare = runCNNC(["compile", model, "-o", "\(dir)/b", "--plain"])
        #expect(bare.status == 0, "\(bare.err)")
        #expect(bare.out.contains("kernels: the plain reference C loops (--plain)"), "\(bare.out)")
        #expect(bare.out.contains("weights: none written; make a file with `cnnc init \(model) -o W.safetensors`"), "\(bare.out)")
        let spaced = try temporaryFile("my net.cnn", "input 4x4x1\nconv 1 3x3\n")
        let quoted = runCNNC(["compile", spaced, "-o", "\(dir)/c"])
        #expect(quoted.out.contains("`cnnc init '\(spaced)' -o W.safetensors`"), "\(quoted.out)")
        #expect(quoted.out.contains("this machine's vector unit"), "\(quoted.out)")
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
        #expect(result.out == "kernel plan of lenet5 for the fast C kernels (7 steps; see docs/codegen.md):\n" + snapshot)
        #expect(try FileManager.default.contentsOfDirectory(atPath: here) == before)

        let both = runCNNC(["compile", model, "--plan", "-o", dir, "--listing"])
        #expect(both.status == 2)
        #expect(both.err.contains("--plan prints the kernel plan and writes nothing; drop -o, --listing"))
        // The Swift kernels' plan: LeNet-5's kernels all have Swift twins, so it is the C's.
        let swift = runCNNC(["compile", model, "--plan", "--emit", "swift", "--target", "avx2"])
        #expect(swift.status == 0, "\(swift.err)")
        #expect(swift.out == "kernel plan of lenet5 for the fast Swift kernels (7 steps; see docs/codegen.md):\n" + snapshot)
        let plain = runCNNC(["compile", model, "--plan", "--plain"])
        #expect(plain.status == 2)
        #expect(plain.err.contains("--plan shows the fast kernels' plan; --plain has none"))
    }

    /// `--fusion` and `--schedule` force the planner's two choices, in compile and bench alike.
    @Test func fusionAndScheduleForceThePlannersChoices() throws {
        let model = Paths.packageRoot.appendingPathComponent("models/torchvision/mobilenet_v2.cnn").path
        func fusedSteps(_ extra: [String]) -> Int {
            let result = runCNNC(["compile", model, "--plan"] + extra)
            #expect(result.status == 0)
            return result.out.split(separator: "\n").filter { $0.contains(" = fused ") }.count
        }
        let automatic = fusedSteps([])
        #expect(automatic > 0)
        #expect(fusedSteps(["--fusion", "never"]) == 0)
        #expect(fusedSteps(["--fusion", "always"]) > automatic)
        #expect(runCNNC(["compile", model, "--plan"]).out.contains("batches image by image"))
        #expect(runCNNC(["compile", model, "--plan", "--schedule", "whole-batch"]).out.contains("batches step by step"))
        let lenet = Paths.packageRoot.appendingPathComponent("models/lenet5.cnn").path
        #expect(runCNNC(["compile", lenet, "--plan", "--schedule", "image-by-image"]).out.contains("batches image by image"))
        for command in ["compile", "bench"] {
            let wrong = runCNNC([command, lenet, "--plan", "--fusion", "sometimes"].filter { command == "compile" || $0 != "--plan" })
            #expect(wrong.status == 2)
            #expect(wrong.err.contains("--fusion is one of automatic, never, always, not 'sometimes'"))
        }
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
