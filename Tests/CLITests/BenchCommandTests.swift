import Foundation
import Testing
@testable import cnnc

/// `cnnc bench`: what it prints and its usage errors (its timings are not tested; speed is
/// measured by bench/run.sh, not by the tests).
@Suite struct BenchCommandTests {
    private static let lenet = Paths.models.appendingPathComponent("lenet5.cnn").path

    private func bench(_ arguments: [String]) -> (code: Int32, out: String, err: String) {
        runDriver(arguments, prefix: ["bench"])
    }

    @Test func jsonHasTheSpecFields() throws {
        let result = bench([Self.lenet, "--seconds", "0", "--min-runs", "2", "--batch", "2", "--threads", "2", "--json"])
        #expect(result.code == 0, "\(result.err)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
        for key in ["median_ms", "min_ms", "images_per_s", "gflops"] {
            let value = try #require(object[key] as? Double, "\(key) missing in \(result.out)")
            #expect(value > 0)
        }
        #expect(object["batch"] as? Int == 2)
        #expect(object["threads"] as? Int == 2)
        #expect((object["runs"] as? Int ?? 0) >= 2)
    }

    @Test func layersShowEveryStepAndThePeak() throws {
        let result = bench([Self.lenet, "--seconds", "0", "--min-runs", "2", "--layers", "--precise"])
        #expect(result.code == 0, "\(result.err)")
        #expect(result.out.contains("peak"))
        for step in ["c1", "s2", "c3", "s4", "f5", "f6", "out"] {
            #expect(result.out.split(separator: "\n").contains { $0.hasPrefix("  \(step) ") }, "no line for \(step):\n\(result.out)")
        }
        let json = bench([Self.lenet, "--seconds", "0", "--min-runs", "2", "--layers", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        let layers = try #require(object["layers"] as? [[String: Any]])
        #expect(layers.count >= 7)
        // The peak is the median of windows run between the profiled runs (at least 5), so
        // it is at most their best, and each step's share is measured against it.
        let peak = try #require(object["peak_gflops"] as? Double)
        let best = try #require(object["peak_best_gflops"] as? Double)
        #expect(peak > 0 && best >= peak)
        #expect((object["peak_windows"] as? Int ?? 0) >= 5)
        for layer in layers where (layer["macs"] as? Int ?? 0) > 0 {
            let gflops = try #require(layer["gflops"] as? Double), share = try #require(layer["peak_share"] as? Double)
            #expect(abs(share - gflops / peak) <= 1e-4 * share, "\(layer)")
        }
    }

    @Test func otherBackendsRun() {
        for backend in ["reference", "swift"] {
            let result = bench([Self.lenet, "--seconds", "0", "--min-runs", "1", "--backend", backend])
            #expect(result.code == 0, "\(backend): \(result.err)")
            #expect(result.out.contains("images/s"))
            if backend == "swift" { #expect(result.out.contains("backend swift, fast kernels for"), "\(result.out)") }
        }
    }

    @Test func usageErrors() {
        #expect(bench([]).code == 2)
        #expect(bench([Self.lenet, "--batch", "0"]).code == 2)
        #expect(bench([Self.lenet, "--seconds", "soon"]).code == 2)
        #expect(bench([Self.lenet, "--backend", "gpu"]).code == 2)
        #expect(bench([Self.lenet, "--layers", "--backend", "swift"]).code == 2)
        #expect(bench([Self.lenet, "--frobnicate"]).code == 2)
    }
}
