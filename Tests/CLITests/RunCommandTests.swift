import Foundation
import Runtime
import Testing
@testable import cnnc

/// The spec's LeNet-5, used when models/lenet5.cnn is not in the tree.
private let lenet5Text = Networks.lenet5(named: "lenet5")

/// A fresh temporary folder per test, removed at the end.
private final class RunScratch {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("cnnc-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// models/lenet5.cnn, or the spec's text when the model is not there yet.
    func lenet5() throws -> String {
        let model = Paths.packageRoot.appendingPathComponent("models/lenet5.cnn").path
        if FileManager.default.fileExists(atPath: model) { return model }
        try lenet5Text.write(toFile: path("lenet5.cnn"), atomically: true, encoding: .utf8)
        return path("lenet5.cnn")
    }

    /// A P5 image: a white "7" on black, size × size.
    func digit(size: Int = 32) throws -> String {
        var pixels = [UInt8](repeating: 0, count: size * size)
        let top = size / 4, bottom = size - size / 5
        for x in (size / 4)..<(size * 3 / 4) { pixels[top * size + x] = 255; pixels[(top + 1) * size + x] = 230 }
        for y in top..<bottom {
            let x = size * 3 / 4 - 1 - (y - top) * (size / 3) / (bottom - top)
            pixels[y * size + x] = 255
            pixels[y * size + x - 1] = 200
        }
        let name = path("digit\(size).pgm")
        try Data(Array("P5\n# a seven\n\(size) \(size)\n255\n".utf8) + pixels).write(to: URL(fileURLWithPath: name))
        return name
    }
}

@Suite struct RunCommandTests {
    @Test func initThenRunLeNet5EndToEnd() throws {
        let scratch = try RunScratch()
        let model = try scratch.lenet5()
        let weights = scratch.path("w.safetensors")
        let initResult = runDriver(["init", model, "-o", weights])
        #expect(initResult.code == 0, "\(initResult.err)")
        #expect(initResult.out.contains("10 tensors"))
        #expect(initResult.out.contains("61,706 parameters"))

        let output = scratch.path("out.npy")
        let result = runDriver(["run", model, "--weights", weights, "--input", try scratch.digit(),
                           "--backend", "reference", "--output", output])
        #expect(result.code == 0, "\(result.err)")
        #expect(result.out.contains("top 5 of 10 classes"))
        #expect(result.out.contains("  #1  class "))
        #expect(result.out.contains("  #5  class "))
        #expect(!result.out.contains("  #6  class "))

        let probabilities = try NPY.read(contentsOf: output)
        #expect(probabilities.shape == [1, 10])
        let sum = probabilities.storage.reduce(0.0) { $0 + Double($1) }
        #expect(abs(sum - 1) <= 1e-5)
        #expect(probabilities.storage.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func initIsDeterministicForASeed() throws {
        let scratch = try RunScratch()
        let model = try scratch.lenet5()
        #expect(runDriver(["init", model, "-o", scratch.path("a.safetensors"), "--seed", "3"]).code == 0)
        #expect(runDriver(["init", model, "-o", scratch.path("b.safetensors"), "--seed", "3"]).code == 0)
        #expect(runDriver(["init", model, "-o", scratch.path("c.safetensors")]).code == 0)
        let a = try Data(contentsOf: URL(fileURLWithPath: scratch.path("a.safetensors")))
        let b = try Data(contentsOf: URL(fileURLWithPath: scratch.path("b.safetensors")))
        let c = try Data(contentsOf: URL(fileURLWithPath: scratch.path("c.safetensors")))
        #expect(a == b)
        #expect(a != c)
    }

    @Test func topKIsCappedAndBatchesArePrintedPerImage() throws {
        let scratch = try RunScratch()
        let model = try scratch.lenet5()
        let weights = scratch.path("w.safetensors")
        #expect(runDriver(["init", model, "-o", weights]).code == 0)
        let batch = Tensor(shape: [2, 1, 32, 32], storage: (0..<(2 * 32 * 32)).map { Float($0 % 7) / 7 })
        try NPY.write(batch, to: scratch.path("batch.npy"))
        let result = runDriver(["run", model, "--weights", weights, "--input", scratch.path("batch.npy"),
                           "--backend", "reference", "--top", "20"])
        #expect(result.code == 0, "\(result.err)")
        #expect(result.out.contains("image 0: top 10 of 10 classes"))
        #expect(result.out.contains("image 1: top 10 of 10 classes"))
        #expect(result.out.contains("  #10  class "))
    }

    @Test func volumeOutputPrintsShapeAndStatistics() throws {
        let folder = Paths.packageRoot.appendingPathComponent("Tests/Fixtures/conformance/lecture_5x5")
        let result = runDriver(["run", folder.appendingPathComponent("model.cnn").path,
                           "--weights", folder.appendingPathComponent("weights.safetensors").path,
                           "--input", folder.appendingPathComponent("input.npy").path, "--backend", "reference"])
        #expect(result.code == 0, "\(result.err)")
        #expect(result.out.contains("[1, 1, 3, 3]"))
        #expect(result.out.contains("min 2.0000  max 4.0000  mean 3.2222"))
    }

    // MARK: - errors: one line naming the problem, exit 1

    /// LeNet-5 with weights from `init`, altered by `change`, run on a digit; returns the result.
    private func runWithAlteredWeights(_ change: (inout WeightFile) -> Void) throws -> (code: Int32, out: String, err: String, path: String) {
        let scratch = try RunScratch()
        let model = try scratch.lenet5()
        let weights = scratch.path("w.safetensors")
        #expect(runDriver(["init", model, "-o", weights]).code == 0)
        var file = try WeightFile.read(contentsOf: weights)
        change(&file)
        try file.write(to: weights)
        let result = runDriver(["run", model, "--weights", weights, "--input", try scratch.digit(), "--backend", "reference"])
        return (result.code, result.out, result.err, weights)
    }

    private func expectOneLineError(_ err: String, _ fragments: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let lines = err.split(separator: "\n")
        #expect(lines.count == 1, "expected one line, got: \(err)", sourceLocation: sourceLocation)
        #expect(err.hasPrefix("cnnc run: "), "\(err)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(err.contains(fragment), "'\(fragment)' not in: \(err)", sourceLocation: sourceLocation)
        }
    }

    @Test func missingWeightIsAnError() throws {
        let result = try runWithAlteredWeights { $0.tensors["f5.bias"] = nil }
        #expect(result.code == 1)
        expectOneLineError(result.err, [result.path, "missing", "'f5.bias'", "[120]"])
    }

    @Test func extraWeightIsAnError() throws {
        let result = try runWithAlteredWeights { $0.tensors["f7.weight"] = Tensor(shape: [3, 2]) }
        #expect(result.code == 1)
        // The first line offers --ignore-extra-weights (ExtraWeightsTests); the second is the extra.
        let lines = result.err.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3 && lines[0].hasSuffix("1 tensor the network 'lenet5' has no parameter for (--ignore-extra-weights loads the file without it)"))
        expectOneLineError(lines.dropFirst().joined(separator: "\n"), [result.path, "'f7.weight'", "[3, 2]"])
    }

    @Test func wrongShapeIsAnError() throws {
        let result = try runWithAlteredWeights { $0.tensors["c1.bias"] = Tensor(shape: [7]) }
        #expect(result.code == 1)
        expectOneLineError(result.err, [result.path, "'c1.bias'", "[7]", "[6]"])
    }

    /// Writes LeNet-5 weights, then rewrites the file's bytes with `change` and runs.
    private func runWithCorruptedWeights(_ change: (inout [UInt8]) -> Void) throws -> (code: Int32, err: String, path: String) {
        let scratch = try RunScratch()
        let model = try scratch.lenet5()
        let weights = scratch.path("w.safetensors")
        #expect(runDriver(["init", model, "-o", weights]).code == 0)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: weights)))
        change(&bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: weights))
        let result = runDriver(["run", model, "--weights", weights, "--input", try scratch.digit(), "--backend", "reference"])
        return (result.code, result.err, weights)
    }

    @Test func truncatedWeightsAreAnError() throws {
        let result = try runWithCorruptedWeights { $0.removeLast(1000) }
        #expect(result.code == 1)
        expectOneLineError(result.err, [result.path, "past the end"])
    }

    @Test func headerLengthPastTheEndIsAnError() throws {
        let result = try runWithCorruptedWeights { bytes in
            let length = UInt64(bytes.count)  // more than the bytes after the length field
            for i in 0..<8 { bytes[i] = UInt8((length >> (8 * UInt64(i))) & 0xFF) }
        }
        #expect(result.code == 1)
        expectOneLineError(result.err, [result.path, "header length", "past the end"])
    }

    @Test func wrongImageSizeIsAnErrorNamingBoth() throws {
        let scratch = try RunScratch()
        let model = try scratch.lenet5()
        let weights = scratch.path("w.safetensors")
        #expect(runDriver(["init", model, "-o", weights]).code == 0)
        let image = try scratch.digit(size: 28)
        let result = runDriver(["run", model, "--weights", weights, "--input", image, "--backend", "reference"])
        #expect(result.code == 1)
        expectOneLineError(result.err, [image, "28x28x1", "32x32x1"])
    }

    @Test func wrongArrayShapeIsAnErrorNamingBoth() throws {
        let scratch = try RunScratch()
        let model = try scratch.lenet5()
        let weights = scratch.path("w.safetensors")
        #expect(runDriver(["init", model, "-o", weights]).code == 0)
        try NPY.write(Tensor(shape: [2, 3, 32, 32]), to: scratch.path("x.npy"))
        let result = runDriver(["run", model, "--weights", weights, "--input", scratch.path("x.npy"), "--backend", "reference"])
        #expect(result.code == 1)
        expectOneLineError(result.err, [scratch.path("x.npy"), "[2, 3, 32, 32]", "[1, 32, 32]"])
    }

    @Test func aFailedRunLeavesTheOutputUntouched() throws {
        let scratch = try RunScratch()
        let model = try scratch.lenet5()
        let weights = scratch.path("w.safetensors")
        #expect(runDriver(["init", model, "-o", weights]).code == 0)
        let output = scratch.path("out.npy")
        let before = Data("keep me".utf8)
        try before.write(to: URL(fileURLWithPath: output))

        // A bad input, then bad weights: neither may touch the output.
        let small = try scratch.digit(size: 28)
        let badInput = runDriver(["run", model, "--weights", weights, "--input", small, "--backend", "reference", "--output", output])
        #expect(badInput.code == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == before)

        var file = try WeightFile.read(contentsOf: weights)
        file.tensors["out.weight"] = nil
        try file.write(to: weights)
        let badWeights = runDriver(["run", model, "--weights", weights, "--input", try scratch.digit(), "--backend", "reference",
                               "--output", output])
        #expect(badWeights.code == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == before)
    }

    @Test func missingFilesAreOneLineErrors() throws {
        let scratch = try RunScratch()
        let model = try scratch.lenet5()
        let result = runDriver(["run", model, "--weights", scratch.path("nope.safetensors"), "--input", scratch.path("nope.npy"),
                           "--backend", "reference"])
        #expect(result.code == 1)
        expectOneLineError(result.err, [scratch.path("nope.safetensors")])
    }

    @Test(arguments: [
        ["run"],
        ["run", "m.cnn", "--weights", "w.safetensors"],
        ["run", "m.cnn", "--weights", "w", "--input", "x.pgm", "--backend", "gpu"],
        ["run", "m.cnn", "--weights", "w", "--input", "x.pgm", "--top", "0"],
        ["run", "m.cnn", "--weights", "w", "--input", "x.pgm", "--mean", "1,2"],
        ["run", "m.cnn", "--weights", "w", "--input", "x.npy", "--mean", "0.5"],
        ["run", "m.cnn", "--weights", "w", "--input", "x.pgm", "--frobnicate"],
        ["init", "m.cnn"],
        ["init", "m.cnn", "-o", "w.safetensors", "--seed", "-1"],
    ])
    func badUsageExitsWithTwo(_ arguments: [String]) {
        let result = runDriver(arguments)
        #expect(result.code == 2, "\(arguments): \(result.err)")
        #expect(result.err.contains("usage: cnnc \(arguments[0])"))
    }
}

@Suite struct RunCommandReportingTests {
    @Test func weightsOfAnotherNetworkAreReportedInAFewLines() throws {
        let scratch = try RunScratch()
        let model = try scratch.lenet5()
        // Weights for a wider network: every LeNet key missing, as many extra.
        let other = scratch.path("other.cnn")
        try "input 32x32x1\na: conv 4 3x3\nb: conv 4 3x3\nc: conv 4 3x3\nd: conv 4 3x3\ne: conv 4 3x3\nf: fc 3"
            .write(toFile: other, atomically: true, encoding: .utf8)
        let weights = scratch.path("w.safetensors")
        #expect(runDriver(["init", other, "-o", weights]).code == 0)
        let result = runDriver(["run", model, "--weights", weights, "--input", try scratch.digit(), "--backend", "reference"])
        #expect(result.code == 1)
        let lines = result.err.split(separator: "\n")
        #expect(lines.count == 12)
        #expect(lines.allSatisfy { $0.hasPrefix("cnnc run: ") })
        #expect(lines[0].contains("missing tensor 'c1.weight'"))
        #expect(lines.last?.contains("and 11 more problems") == true)
    }
}

/// Options and weights that would make every output NaN are errors naming the option or the
/// tensor and the channel or index (issue 14).
@Suite struct RunCommandNaNTests {
    @Test(arguments: [
        (["--std", "0"], "--std is 0; a standard deviation must be above 0"),
        (["--std", "1,-1,1"], "--std for channel 1 is -1; a standard deviation must be above 0"),
        (["--std", "1e-39"], "--std is 1e-39: (1 − 0)/1e-39 overflows float32, so the normalized input would be infinite and the output NaN"),
        (["--std", "1e-45"], "--std is 1e-45: (1 − 0)/1e-45 overflows float32, so the normalized input would be infinite and the output NaN"),
        (["--mean", "0,0.5,0", "--std", "1,1,1e-39"],
         "--std for channel 2 is 1e-39: (1 − 0)/1e-39 overflows float32, so the normalized input would be infinite and the output NaN"),
        (["--mean", "0,-5e30,0", "--std", "1e-10"],
         "--std is 1e-10: for channel 1, (0 − (-5e+30))/1e-10 overflows float32, so the normalized input would be infinite and the output NaN"),
    ])
    func stdThatMakesTheInputInfiniteIsAUsageError(_ options: [String], _ message: String) {
        let result = runDriver(["run", "m.cnn", "--weights", "w", "--input", "x.ppm"] + options)
        #expect(result.code == 2, "\(options): \(result.err)")
        #expect(result.err.hasPrefix("cnnc run: \(message)\n"), "\(result.err)")
        #expect(result.err.contains("usage: cnnc run"))
    }

    @Test func aSmallStdThatFitsRuns() throws {
        let scratch = try RunScratch()
        let model = try scratch.lenet5()
        let weights = scratch.path("w.safetensors")
        #expect(runDriver(["init", model, "-o", weights]).code == 0)
        let result = runDriver(["run", model, "--weights", weights, "--input", try scratch.digit(), "--backend", "reference",
                              "--mean", "0.5", "--std", "1e-30"])
        #expect(result.code == 0, "\(result.err)")
    }

    @Test func negativeRunningVarianceIsNamed() throws {
        let scratch = try RunScratch()
        let model = scratch.path("bn.cnn")
        try "input 32x32x1\nc1: conv 8 3x3 nobias\nbn1: batchnorm\nr: relu\nfc 3\n".write(toFile: model, atomically: true, encoding: .utf8)
        let weights = scratch.path("w.safetensors")
        #expect(runDriver(["init", model, "-o", weights]).code == 0)
        var file = try WeightFile.read(contentsOf: weights)
        file.tensors["bn1.running_var"]!.storage[3] = -0.5
        try file.write(to: weights)
        let result = runDriver(["run", model, "--weights", weights, "--input", try scratch.digit(), "--backend", "reference"])
        #expect(result.code == 1)
        #expect(result.err == "cnnc run: \(weights): tensor 'bn1.running_var' has value -0.5 at index 3; a variance must be ≥ 0\n",
                "\(result.err)")
    }

    /// A NaN score prints as `nan` on every platform (printf's `-nan` is not), ranks first as
    /// torch.topk ranks it, and a volume's summary counts its NaNs.
    @Test func nanScoresArePrintedAndRanked() throws {
        let scratch = try RunScratch()
        let model = try scratch.lenet5()
        let weights = scratch.path("w.safetensors"), input = scratch.path("x.npy")
        #expect(runDriver(["init", model, "-o", weights]).code == 0)
        try NPY.write(Tensor(shape: [1, 1, 32, 32], repeating: 3.4e38), to: input)
        let result = runDriver(["run", model, "--weights", weights, "--input", input, "--backend", "reference", "--top", "3"])
        #expect(result.code == 0, "\(result.err)")
        let scores = result.out.split(separator: "\n").filter { $0.hasPrefix("  #") }
        #expect(scores.count == 3 && scores.allSatisfy { $0.hasSuffix("   nan") }, "\(result.out)")

        let volume = scratch.path("v.cnn")
        // 2x − 2x + x: NaN where x is 3e38 (±inf summed), x elsewhere.
        try "input 2x1x1\np: conv 1 1x1 nobias\nm: conv 1 1x1 nobias from input\ns: add p m input\n"
            .write(toFile: volume, atomically: true, encoding: .utf8)
        #expect(runDriver(["init", volume, "-o", weights]).code == 0)
        var file = try WeightFile.read(contentsOf: weights)
        file.tensors["p.weight"]!.storage = [2]
        file.tensors["m.weight"]!.storage = [-2]
        try file.write(to: weights)
        try NPY.write(Tensor(shape: [1, 1, 1, 2], storage: [3e38, 1]), to: input)
        let summary = runDriver(["run", volume, "--weights", weights, "--input", input, "--backend", "reference"])
        #expect(summary.out.contains("mean nan  (1 of 2 NaN)"), "\(summary.out)")
    }
}
