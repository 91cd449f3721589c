/// Problems are values, never thrown: every stage returns the ones it found beside its result.
public enum Severity: String, Sendable, Comparable {
    case note
    case warning
    case error

    public static func < (a: Severity, b: Severity) -> Bool {
        let order: [Severity] = [.note, .warning, .error]
        return order.firstIndex(of: a)! < order.firstIndex(of: b)!
    }
}

/// A replacement that would fix the problem, shown under the caret.
public struct FixIt: Hashable, Sendable {
    public var range: SourceRange
    public var replacement: String

    public init(range: SourceRange, replacement: String) {
        self.range = range
        self.replacement = replacement
    }
}

/// A `note:` line under a diagnostic: arithmetic, the expected form, where a name was defined.
public struct DiagnosticNote: Hashable, Sendable {
    public var message: String
    /// Set when the note points somewhere else in the file (e.g. "first defined here").
    public var range: SourceRange?

    public init(_ message: String, at range: SourceRange? = nil) {
        self.message = message
        self.range = range
    }
}

public struct Diagnostic: Hashable, Sendable {
    /// A stable identifier from the catalog, for tools and tests (`unknown-operation`).
    public var id: String
    public var severity: Severity
    public var range: SourceRange
    public var message: String
    public var notes: [DiagnosticNote]
    public var fixIt: FixIt?

    public init(_ message: Message, at range: SourceRange, notes: [DiagnosticNote] = [], fixIt: FixIt? = nil) {
        self.id = message.id
        self.severity = message.severity
        self.range = range
        self.message = message.text
        self.notes = notes
        self.fixIt = fixIt
    }

    /// A diagnostic about another kind of file, from that reader's own catalog (Runtime's
    /// text tensors), rendered by the same `DiagnosticRenderer`.
    public init(id: String, severity: Severity, message: String, at range: SourceRange, notes: [DiagnosticNote] = []) {
        self.id = id
        self.severity = severity
        self.range = range
        self.message = message
        self.notes = notes
        self.fixIt = nil
    }

    /// A warning made an error by `strict`.
    public func promoted() -> Diagnostic {
        var copy = self
        copy.severity = .error
        return copy
    }
}

extension Array where Element == Diagnostic {
    public var hasErrors: Bool { contains { $0.severity == .error } }

    /// In file order, so a reader meets them as they read.
    public func sortedByLocation() -> [Diagnostic] {
        enumerated().sorted { a, b in
            a.element.range.start != b.element.range.start
                ? a.element.range.start < b.element.range.start
                : a.offset < b.offset
        }.map(\.element)
    }
}
