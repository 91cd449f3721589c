import Foundation
import Testing
@testable import cnnc

func temporaryFile(_ name: String, _ contents: String) throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cnnc-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let url = folder.appendingPathComponent(name)
    try contents.write(to: url, atomically: true, encoding: .utf8)
    return url.path
}

struct CheckCommandTests {
    @Test func checksAModelAndExitsZero() {
        let result = runCNNC(["check", Paths.packageRoot.appendingPathComponent("models/lenet5.cnn").path])
        #expect(result.status == 0)
        #expect(result.out.contains("trainable parameters         61,706"))
        #expect(result.err.isEmpty)
    }

    @Test func errorsExitOneAndAreAllReported() throws {
        let path = try temporaryFile("broken.cnn", "input 32x32x3\nconv 6 5x5 strid 2\nfc\n")
        let result = runCNNC(["check", path])
        #expect(result.status == 1)
        #expect(result.err.contains("\(path):2:12: error: 'strid' is not an option of conv"))
        #expect(result.err.contains("\(path):3:1: error: fc needs the number of neurons N"))
        #expect(result.err.contains("2 errors in \(path)"))
        #expect(result.out.isEmpty)
    }

    @Test func warningsStillExitZeroUnlessStrict() throws {
        let path = try temporaryFile("stride.cnn", "input 7x7x1\nconv 1 3x3 stride 3\n")
        let relaxed = runCNNC(["check", path])
        #expect(relaxed.status == 0)
        #expect(relaxed.err.contains("warning: conv1: the stride does not fit the width and height"))
        #expect(relaxed.err.contains("note: (7 − 3 + 2·0)/3 + 1 = 2.33, floored to 2"))
        let strict = runCNNC(["check", "--strict", path])
        #expect(strict.status == 1)
        #expect(strict.err.contains("error: conv1: the stride does not fit"))
    }

    @Test func badUsageExitsTwo() {
        #expect(runCNNC(["check"]).status == 2)
        #expect(runCNNC(["check", "--frobnicate", "x.cnn"]).status == 2)
        #expect(runCNNC(["frobnicate"]).status == 2)
        #expect(runCNNC([]).status == 2)
    }

    @Test func missingFileIsAnErrorNotACrash() {
        let result = runCNNC(["check", "/nonexistent/net.cnn"])
        #expect(result.status == 1)
        #expect(result.err == "/nonexistent/net.cnn: error: no such file\n")
    }

    @Test func explainAndJSON() throws {
        let path = try temporaryFile("ex.cnn", "input 32x32x3\nconv1: conv 10 5x5 stride 1 pad 2\n")
        let explained = runCNNC(["check", "--explain", path])
        #expect(explained.out.contains("conv1: (32 − 5 + 2·2)/1 + 1 = 32  →  32x32x10;  params (5·5·3 + 1)·10 = 760"))
        let json = runCNNC(["check", "--json", path])
        #expect(json.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        let totals = try #require(object["totals"] as? [String: Any])
        #expect(totals["parameters"] as? Int == 760)
        #expect(totals["macs"] as? Int == 32 * 32 * 10 * 3 * 25)
        let layers = try #require(object["layers"] as? [[String: Any]])
        #expect((layers[0]["output"] as? [String: Any])?["shape"] as? String == "32x32x10")
        // A 5x5 window on the input sees 5x5 pixels, one apart, centred on pixel 2 − 2 of padding = 0.
        #expect(layers[0]["receptive_field"] as? [Int] == [5, 5])
        #expect(layers[0]["jump"] as? [Int] == [1, 1] && layers[0]["start"] as? [Int] == [0, 0])
    }

    @Test func padFitIsShownWithItsSearch() throws {
        // 10 − 5 + 2P is a multiple of 3 first at P = 2: (10 − 5 + 4)/3 + 1 = 4.
        let path = try temporaryFile("fit.cnn", "input 10x10x1\nc: conv 6 5x5 stride 3 pad fit\n")
        let result = runCNNC(["check", "--explain", path])
        #expect(result.status == 0 && result.err.isEmpty)
        #expect(result.out.contains("c      conv 6 5x5 stride 3 pad fit (2)  4x4x6"), "\(result.out)")
        #expect(result.out.contains("P = 2: (10 − 5 + 4)/3 = 3 ✓  →  pad 2\n"))
    }

    @Test func jsonReportsDiagnosticsToo() throws {
        let path = try temporaryFile("bad.cnn", "input 8x8x1\nconv 2 9x9\n")
        let json = runCNNC(["check", "--json", path])
        #expect(json.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        #expect(object["ok"] as? Bool == false)
        let diagnostics = try #require(object["diagnostics"] as? [[String: Any]])
        #expect(diagnostics.first?["id"] as? String == "kernel-larger-than-input")
        #expect(diagnostics.first?["line"] as? Int == 2)
    }
}
