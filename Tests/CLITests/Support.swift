import Foundation
import ShapeCheck
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

/// The network at `path` as the commands load it, checked.
func checkedNetwork(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> CheckedNetwork {
    let console = Console(writeOut: { _ in }, writeErr: { _ in }, colour: false)
    return try #require(NetworkLoader.load(path, command: "check", console: console), sourceLocation: sourceLocation)
}

/// The first line of `text` that starts with `start` once its indent is dropped.
func line(_ start: String, in text: String) -> String? {
    text.split(separator: "\n").map(String.init).first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(start) }
}

/// The built cnnc beside the test bundle, for tests that need a separate process.
enum BuiltExecutable {
    static let cnnc: String? = {
        guard let test = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        let path = URL(fileURLWithPath: test).deletingLastPathComponent().appendingPathComponent("cnnc").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }()
}
