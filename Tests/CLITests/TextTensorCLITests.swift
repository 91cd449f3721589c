import Foundation
import Testing

/// The lecture's convolution: a 5x5 image and a 3x3 filter, typed as text.
final class LectureFiles: ScratchFolder {
    static let image = "1 1 1 0 0\n0 1 1 1 0\n0 0 1 1 1\n0 0 1 1 0\n0 1 1 0 0\n"
    static let filter = "c1.weight:\n 1 0 1\n 0 1 0\n 1 0 1\nc1.bias: 0\n"

    var network: String { file("conv.cnn") }
    var weights: String { file("w.txt") }
    var input: String { file("x.txt") }

    init() throws {
        try super.init("text-tensors")
        try write("conv.cnn", "input 5x5x1\nc1: conv 1 3x3\n")
        try write("w.txt", Self.filter)
        try write("x.txt", "# the lecture's image\n" + Self.image)
    }

    func run(_ extra: [String] = [], input: String? = nil) -> (code: Int32, out: String, err: String) {
        runDriver(["run", network, "--weights", weights, "--input", input ?? self.input, "--backend", "reference"] + extra)
    }
}

@Suite struct TextTensorCLITests {
    @Test func runsOnTextWeightsAndInput() throws {
        let files = try LectureFiles()
        let result = files.run()
        #expect(result.code == 0, "\(result.err)")
        // The nine sums of the lecture's 3x3 output, 4 3 4 / 2 4 3 / 2 3 4: min 2, max 4, mean 29/9.
        #expect(result.out.contains("image 0: min 2.0000  max 4.0000  mean 3.2222"), "\(result.out)")
    }

    @Test func aNetworkWithoutParametersNeedsNoWeights() throws {
        let files = try LectureFiles()
        let pool = try files.write("pool.cnn", "input 4x4x1\npool: maxpool 2x2 stride 2\n")
        let grid = try files.write("grid.txt", "1 1 2 4\n5 6 7 8\n3 2 1 0\n1 2 3 4\n")
        for backend in ["reference", "c"] {
            let result = runDriver(["run", pool, "--input", grid, "--backend", backend])
            #expect(result.code == 0, "\(backend): \(result.err)")
            // The lecture's 2x2 max pooling: 6 8 / 3 4, so min 3, max 8, mean 21/4.
            #expect(result.out.contains("image 0: min 3.0000  max 8.0000  mean 5.2500"), "\(backend): \(result.out)")
        }
        let conv = runDriver(["run", files.network, "--input", files.input])
        #expect(conv.code == 2)
        #expect(conv.err.hasPrefix("cnnc run: --weights W is required: 'conv' has 10 parameters (make random ones with `cnnc init "),
                "\(conv.err)")
    }

    @Test func aBatchOfTwoThroughDashes() throws {
        let files = try LectureFiles()
        let batch = try files.write("batch.txt", LectureFiles.image + "--\n" + String(repeating: "0 0 0 0 0\n", count: 5))
        let result = files.run(input: batch)
        #expect(result.code == 0, "\(result.err)")
        #expect(result.out.contains("batch of 2"))
        #expect(result.out.contains("image 1: min 0.0000  max 0.0000  mean 0.0000"))
    }

    @Test func aBadWeightsFileIsLocatedOnStderr() throws {
        let files = try LectureFiles()
        try files.write("w.txt", "c1.weight:\n 1 0 1\n 0 1\n 1 0 1\nc1.bias: 0\n")
        let result = files.run()
        #expect(result.code == 1)
        #expect(result.err.contains("w.txt:3:2: error: row has 2 values; the rows above have 3\n 3 |  0 1\n   |  ^~~\n"), "\(result.err)")
        #expect(result.err.contains("cnnc run: \(files.weights): 1 error"))
        #expect(result.out.isEmpty)
    }

    @Test func theShapeCheckNamesKeyFoundAndExpected() throws {
        let files = try LectureFiles()
        try files.write("w.txt", "c1.weight:\n 1 0\n 0 1\nc1.bias: 0\n")
        let result = files.run()
        #expect(result.code == 1)
        #expect(result.err.contains("w.txt:1:1: error: c1.weight: found 2x2, expected 1x1x3x3"), "\(result.err)")
    }

    @Test func meanAndStdAreForImagesOnly() throws {
        let files = try LectureFiles()
        let result = files.run(["--mean", "0.5"])
        #expect(result.code == 2)
        #expect(result.err.contains("--mean and --std apply to PGM/PPM images, not to .txt input"))
    }

    @Test func compileTakesTextWeights() throws {
        let files = try LectureFiles()
        let result = runDriver(["compile", files.network, "--weights", files.weights, "-o", files.file("out")])
        #expect(result.code == 0, "\(result.err)")
        #expect(files.names("out").contains("conv.weights"), "\(files.names("out"))")
        try files.write("w.txt", "c1.weight:\n1 0 1\n0 1 0\n1 0 1\n")
        let missing = runDriver(["compile", files.network, "--weights", files.weights, "-o", files.file("out2")])
        #expect(missing.code == 1)
        #expect(missing.err.contains("w.txt:4:6: error: missing tensor 'c1.bias' (expected 1)"), "\(missing.err)")
    }
}
