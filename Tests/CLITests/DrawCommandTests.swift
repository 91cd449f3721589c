import Foundation
import Testing
@testable import cnnc

struct DrawCommandTests {
    final class Scratch: ScratchFolder {
        init() throws { try super.init("draw") }
    }

    static let lenet = Paths.models.appendingPathComponent("lenet5.cnn").path

    @Test func writesAnSVGOfTheNetwork() throws {
        let scratch = try Scratch()
        let result = runCNNC(["draw", Self.lenet, "-o", scratch.file("lenet5.svg")])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out == "wrote \(scratch.file("lenet5.svg")): 8 boxes, 7 arrows\n")
        let svg = try SVGDocument(String(decoding: try #require(scratch.contents("lenet5.svg")), as: UTF8.self))
        #expect(svg.layers.map { $0.lines[0] } == ["input", "c1", "s2", "c3", "s4", "f5", "f6", "out"])
        #expect(svg.edges.count == 7)
        // Only the picture: no temporary left beside it.
        #expect(scratch.names() == ["lenet5.svg"])
    }

    @Test func errorsAreReportedAsCheckReportsThem() throws {
        let scratch = try Scratch()
        let path = try scratch.write("broken.cnn", "input 32x32x3\nconv 6 5x5\nmaxpol 2x2\n")
        let check = runCNNC(["check", path])
        let draw = runCNNC(["draw", path, "-o", scratch.file("broken.svg")])
        #expect(draw.status == 1)
        #expect(draw.err.contains("\(path):3:1: error: unknown operation 'maxpol'"))
        let diagnostic = try #require(check.err.components(separatedBy: "1 error").first)
        #expect(draw.err.hasPrefix(diagnostic), "the same located message, line and caret as check")
        #expect(scratch.names() == ["broken.cnn"], "nothing written")
    }

    @Test func usageProblemsExitTwo() throws {
        let scratch = try Scratch()
        let noOutput = runCNNC(["draw", Self.lenet])
        #expect(noOutput.status == 2 && noOutput.err.contains("-o FILE.svg is required"))
        let noFile = runCNNC(["draw", "-o", scratch.file("x.svg")])
        #expect(noFile.status == 2 && noFile.err.contains("no network file given"))
        let folder = runCNNC(["draw", Self.lenet, "-o", scratch.path])
        #expect(folder.status == 2 && folder.err.contains("is a directory"))
        let source = try Paths.text(URL(fileURLWithPath: Self.lenet))
        let copy = try scratch.write("net.cnn", source)
        let overwrite = runCNNC(["draw", copy, "-o", copy])
        #expect(overwrite.status == 2 && overwrite.err.contains("is the network file it reads"))
        #expect(try Paths.text(URL(fileURLWithPath: copy)) == source, "the network file is left alone")
        let unknown = runCNNC(["draw", Self.lenet, "-o", scratch.file("x.svg"), "--colour"])
        #expect(unknown.status == 2 && unknown.err.contains("unknown option '--colour'"))
    }

    /// Through the writer to a device: the picture alone on stdout, no "wrote" line after it.
    @Test(.enabled(if: BuiltExecutable.cnnc != nil, "the cnnc executable is not built beside the tests"))
    func drawsToStandardOutput() throws {
        let result = try shell(try #require(BuiltExecutable.cnnc), ["draw", Self.lenet, "-o", "/dev/stdout"])
        #expect(result.status == 0)
        #expect(result.output.hasPrefix("<?xml") && result.output.hasSuffix("</svg>\n"))
        #expect(try SVGDocument(result.output).layers.count == 8)
    }

    @Test func helpListsDraw() {
        #expect(runCNNC(["help"]).out.contains("  draw "))
    }
}
