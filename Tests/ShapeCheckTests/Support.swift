import Foundation
import Parser
import ShapeCheck
import Testing

/// Paths into the source tree, so fixtures need no resource bundle and tests run from a clone.
enum Paths {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = packageRoot.appendingPathComponent("Tests/Fixtures")
    static let snapshots = packageRoot.appendingPathComponent("Tests/Snapshots")
    static let models = packageRoot.appendingPathComponent("models")

    static func text(_ url: URL) throws -> String {
        try String(contentsOf: url, encoding: .utf8)
    }
}

/// Compares text with a file under Tests/Snapshots; `RECORD_SNAPSHOTS=1 swift test` rewrites
/// the files (and fails, so a recording run is never mistaken for a passing one).
func assertSnapshot(_ actual: String, named name: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
    let url = Paths.snapshots.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] != nil {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try actual.write(to: url, atomically: true, encoding: .utf8)
        Issue.record("recorded snapshot \(name); run again without RECORD_SNAPSHOTS", sourceLocation: sourceLocation)
        return
    }
    guard let expected = try? Paths.text(url) else {
        Issue.record("no snapshot \(name); record it with RECORD_SNAPSHOTS=1 swift test", sourceLocation: sourceLocation)
        return
    }
    if expected != actual {
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let line = zip(a, e).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, e.count)
        Issue.record("""
            snapshot \(name) differs at line \(line + 1):
              expected: \(line < e.count ? String(e[line]) : "<end>")
              actual:   \(line < a.count ? String(a[line]) : "<end>")
            re-record with RECORD_SNAPSHOTS=1 if the change is intended
            """, sourceLocation: sourceLocation)
    }
}

func checkModel(_ name: String, strict: Bool = false) throws -> CheckResult {
    let url = Paths.models.appendingPathComponent(name + ".cnn")
    let bytes = try [UInt8](Data(contentsOf: url))
    return checkSource(SourceFile(path: "models/\(name).cnn", bytes: bytes), strict: strict)
}

func rendered(_ result: CheckResult) -> String {
    DiagnosticRenderer(colour: false).render(result.diagnostics, in: result.file)
}
