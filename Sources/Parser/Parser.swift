/// Text → syntax tree. TODO(main session): being written now.
public struct ParseResult: Sendable {
    public var syntax: NetworkSyntax
    public var diagnostics: [Diagnostic]
}

public func parse(_ file: SourceFile) -> ParseResult {
    ParseResult(syntax: NetworkSyntax(), diagnostics: [])
}
