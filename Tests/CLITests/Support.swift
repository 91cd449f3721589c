import Foundation
import Testing
@testable import cnnc
// Re-exported so every file of this target sees the shared test support.
@_exported import TestSupport

/// Runs the driver in-process with a console that captures what it prints.
func runCNNC(_ arguments: [String]) -> (status: Int32, out: String, err: String) {
    final class Capture: @unchecked Sendable {
        var out = ""
        var err = ""
    }
    let capture = Capture()
    let console = Console(writeOut: { capture.out += $0 }, writeErr: { capture.err += $0 }, colour: false)
    let status = Driver.run(arguments, console: console)
    return (status, capture.out, capture.err)
}

/// The driver in-process on `arguments` with `prefix` before them, with the status named `code`.
func runDriver(_ arguments: [String], prefix: [String] = []) -> (code: Int32, out: String, err: String) {
    let result = runCNNC(prefix + arguments)
    return (result.status, result.out, result.err)
}

/// The built cnnc beside the test bundle, for tests that need a separate process.
enum BuiltExecutable {
    static let cnnc: String? = {
        guard let test = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        let path = URL(fileURLWithPath: test).deletingLastPathComponent().appendingPathComponent("cnnc").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }()
}
