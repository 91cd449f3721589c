import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing

/// examples/lenet5_c and lenet5_swift: the weight-embedded LeNet-5 and main.c build with nothing
/// but a C compiler, the Swift package with nothing but the toolchain, and both programs print
/// the reference interpreter's probabilities.
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

        let image = try Self.writeSeven(in: directory)
        let run = try shell("\(directory)/lenet5_digit", [image])
        try Self.expectReferenceOutput(run, net: net, weights: weights, image: image)
    }

    /// examples/lenet5_swift: the package builds with the emitted lenet5.swift beside its
    /// main.swift (warnings are errors), reads lenet5.weights with init(blob:), prints the
    /// reference's probabilities, and refuses a damaged weights file with the class's words.
    @Test func swiftPackageExampleMatchesTheReference() throws {
        let net = try model("lenet5")
        let weights = WeightInit.weights(for: net, seed: 1).tensors
        let program = lower(net)
        let packed = try packWeights(program, weights: weights.mapValues(\.storage))
        let source = try emitSwift(program)

        let directory = try temporaryDirectory("lenet5-swift-example")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let package = "\(directory)/package"
        try FileManager.default.createDirectory(atPath: "\(package)/Sources/Lenet5Digit", withIntermediateDirectories: true)
        let example = Paths.examples.appendingPathComponent("lenet5_swift")
        for file in ["Package.swift", "Sources/Lenet5Digit/main.swift"] {
            try FileManager.default.copyItem(atPath: example.appendingPathComponent(file).path, toPath: "\(package)/\(file)")
        }
        try write(source.file.contents, to: "\(package)/Sources/Lenet5Digit/\(source.file.name)")
        let blob = weightBlob(packed, for: program)
        let weightsFile = "\(package)/Sources/Lenet5Digit/lenet5.weights"
        try Data(blob).write(to: URL(fileURLWithPath: weightsFile))

        let swift = URL(fileURLWithPath: try Compiler.swift().path).deletingLastPathComponent().appendingPathComponent("swift").path
        let build = try shell(swift, ["build", "--package-path", package, "-Xswiftc", "-warnings-as-errors"])
        try #require(build.status == 0, "\(build.output.suffix(3000))")
        let binary = "\(package)/.build/debug/lenet5-digit"

        let image = try Self.writeSeven(in: directory)
        try Self.expectReferenceOutput(try shell(binary, [weightsFile, image]), net: net, weights: weights, image: image)

        var damaged = blob
        damaged[damaged.count - 1] ^= 1
        try Data(damaged).write(to: URL(fileURLWithPath: "\(directory)/damaged.weights"))
        let refused = try shell(binary, ["\(directory)/damaged.weights", image])
        #expect(refused.status == 1)
        #expect(refused.output == "lenet5-digit: \(WeightBlobProblem.checksum.message(target: "plain"))\n")
    }

    /// A blurry "7": a bar and a diagonal, P5 with a comment in the header.
    static func writeSeven(in directory: String) throws -> String {
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
        return image
    }

    /// The program's ten `DIGIT PROBABILITY` lines (6 decimals) and `digit K` are the reference's.
    static func expectReferenceOutput(_ run: (status: Int32, output: String), net: CheckedNetwork, weights: [String: Tensor],
                                      image: String) throws {
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
        for (digit, (printed, expected)) in zip(probabilities, reference.storage).enumerated() {
            #expect(abs(printed - expected) <= 2e-6 + 1e-4, "digit \(digit): printed \(printed), reference \(expected)")
        }
        let best = reference.storage.indices.max { reference.storage[$0] < reference.storage[$1] }!
        #expect(lines.last == "digit \(best)")
    }
}
