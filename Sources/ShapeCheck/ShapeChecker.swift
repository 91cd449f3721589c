import Parser

/// Syntax tree → checked network. TODO(main session): being written now.
public func check(_ syntax: NetworkSyntax, defaultName: String, strict: Bool) -> (network: CheckedNetwork?, diagnostics: [Diagnostic]) {
    (nil, [])
}
