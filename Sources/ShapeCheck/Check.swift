import Parser

/// What checking a file gives: the network when there is no error, and every diagnostic.
public struct CheckResult: Sendable {
    public var file: SourceFile
    public var network: CheckedNetwork?
    public var diagnostics: [Diagnostic]

    public var hasErrors: Bool { diagnostics.hasErrors }
}

/// Parse and check one file's text. `strict` makes strides that do not fit errors.
public func checkSource(_ file: SourceFile, strict: Bool = false) -> CheckResult {
    let parsed = parse(file)
    let checked = check(parsed.syntax, defaultName: file.baseName, strict: strict,
                        budget: max(0, DiagnosticLimit.perFile - parsed.diagnostics.count))
    var diagnostics = (parsed.diagnostics + checked.diagnostics).sortedByLocation()
    if parsed.truncated || checked.truncated, !diagnostics.isEmpty {
        diagnostics[diagnostics.count - 1].notes.append(DiagnosticLimit.note)
    }
    // A network is only given when the whole file is right, parse errors included.
    return CheckResult(file: file, network: parsed.diagnostics.hasErrors ? nil : checked.network,
                       diagnostics: diagnostics)
}

/// Convenience for tests and tools: check text as if read from `path`.
public func checkSource(_ text: String, path: String = "<input>.cnn", strict: Bool = false) -> CheckResult {
    checkSource(SourceFile(path: path, text: text), strict: strict)
}
