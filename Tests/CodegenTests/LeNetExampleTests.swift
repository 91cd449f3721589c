import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing

/// examples/lenet5_c: the weight-embedded LeNet-5 and main.c build with nothing but a C
/// compiler, and the program prints the reference interpreter's probabilities.
@Suite struct LeNetExampleTests {
    @Test func exampleProgramMatchesTheReference() throws {
        let net = try model("lenet5")
        let weights = WeightInit.weights(for: net, seed: 1).tensors
        let program = lower(net)
        let packed = try packWeights(program, weights: weights.mapValues(\.storage))
        let source = try emitC(program, embeddedWeights: packed)

        let directory = try temporaryDirectory("lenet5-example")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for file in source.files { try write(file.contents, to: "\(directory)/\(file.name)") }
        let main = Paths.examples.appendingPathComponent("lenet5_c/main.c").path
        try FileManager.default.copyItem(atPath: main, toPath: "\(directory)/main.c")
        let build = try shell(try cCompiler(), ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic",
                                                "-o", "lenet5_digit", "main.c", "lenet5.c", "-lm"], in: directory)
        try #require(build.status == 0, "\(build.output.prefix(2000))")

        // A blurry "7": a bar and a diagonal, P5 with a comment in the header.
        var pixels = [UInt8](repeating: 0, count: 32 * 32)
        for y in 0..<32 {
            for x in 0..<32 {
                let bar = y >= 6 && y <= 8 && x >= 8 && x <= 24
                let diagonal = y > 8 && y < 28 && abs(x - (24 - (y - 8) / 2)) <= 1
                pixels[y * 32 + x] = bar || diagonal ? 230 : UInt8((x * 7 + y * 3) % 40)
            }
        }
        let image = "\(directory)/seven.pgm"
        try Data(Array("P5\n# a test digit\n32 32\n255\n".utf8) + pixels).write(to: URL(fileURLWithPath: image))

        let run = try shell("\(directory)/lenet5_digit", [image])
        try #require(run.status == 0, "\(run.output)")
        let lines = run.output.split(separator: "\n")
        let probabilities = lines.prefix(10).compactMap { line -> Float? in
            let parts = line.split(separator: " ")
            return parts.count == 2 ? Float(parts[1]) : nil
        }
        try #require(probabilities.count == 10, "\(run.output)")

        var input = try NetPBM.read(contentsOf: image)
        input.shape = [1] + input.shape
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        // The program prints 6 decimals.
        for (digit, (printed, expected)) in zip(probabilities, reference.storage).enumerated() {
            #expect(abs(printed - expected) <= 2e-6 + 1e-4, "digit \(digit): printed \(printed), reference \(expected)")
        }
        let best = reference.storage.indices.max { reference.storage[$0] < reference.storage[$1] }!
        #expect(lines.last == "digit \(best)")
    }
}
