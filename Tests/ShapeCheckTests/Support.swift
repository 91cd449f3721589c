import Foundation
import Parser
import ShapeCheck
import Testing
// Re-exported so every file of this target sees the shared test support.
@_exported import TestSupport

func checkModel(_ name: String, strict: Bool = false) throws -> CheckResult {
    let url = Paths.models.appendingPathComponent(name + ".cnn")
    let bytes = try [UInt8](Data(contentsOf: url))
    return checkSource(SourceFile(path: "models/\(name).cnn", bytes: bytes), strict: strict)
}

func rendered(_ result: CheckResult) -> String {
    DiagnosticRenderer(colour: false).render(result.diagnostics, in: result.file)
}

/// The errors of checking `text`, each `line:column: message` and its `note:` lines.
func errorMessages(_ text: String, path: String) -> [String] {
    checkSource(text, path: path).diagnostics.filter { $0.severity == .error }.map { d in
        (["\(d.range.start.line):\(d.range.start.column): \(d.message)"] + d.notes.map { "note: \($0.message)" }).joined(separator: "\n")
    }
}
