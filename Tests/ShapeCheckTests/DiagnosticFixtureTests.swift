import Foundation
import Parser
import ShapeCheck
import Testing

/// Broken files under Tests/Fixtures/diagnostics carry their expected diagnostics inline, as
/// the Swift compiler's -verify tests do: `# expected-error {{text}}` on the line the error is
/// reported at (also `expected-warning`, and `expected-note` for a note of a diagnostic on
/// that line). Every expectation must be met and every error or warning must be expected.
struct DiagnosticFixtureTests {
    struct Expectation: CustomStringConvertible {
        var line: Int
        var kind: String
        var text: String
        var description: String { "\(line): expected-\(kind) {{\(text)}}" }
    }

    static let folder = Paths.fixtures.appendingPathComponent("diagnostics")

    static var fixtureNames: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".cnn") }.sorted()
    }

    static func expectations(in file: SourceFile) -> [Expectation] {
        var found: [Expectation] = []
        for (index, line) in file.lines.enumerated() {
            var rest = Substring(line)
            while let marker = rest.range(of: "expected-") {
                rest = rest[marker.upperBound...]
                let kind = String(rest.prefix { $0.isLetter })
                guard let open = rest.range(of: "{{"), let close = rest.range(of: "}}", range: open.upperBound..<rest.endIndex) else { break }
                found.append(Expectation(line: index + 1, kind: kind, text: String(rest[open.upperBound..<close.lowerBound])))
                rest = rest[close.upperBound...]
            }
        }
        return found
    }

    func run(_ name: String) throws -> CheckResult {
        let bytes = try [UInt8](Data(contentsOf: Self.folder.appendingPathComponent(name)))
        return checkSource(SourceFile(path: "diagnostics/\(name)", bytes: bytes))
    }

    @Test(arguments: fixtureNames)
    func diagnosticsMatchInlineExpectations(_ name: String) throws {
        let result = try run(name)
        let expected = Self.expectations(in: result.file)
        #expect(!expected.isEmpty, "\(name) has no expectations")
        var matched = Set<Int>()
        for expectation in expected {
            switch expectation.kind {
            case "error", "warning":
                let hit = result.diagnostics.indices.first { i in
                    let d = result.diagnostics[i]
                    return !matched.contains(i) && d.range.start.line == expectation.line
                        && d.severity.rawValue == expectation.kind && d.message.contains(expectation.text)
                }
                if let hit { matched.insert(hit) } else {
                    Issue.record("\(name):\(expectation) not produced; got:\n\(rendered(result))")
                }
            case "note":
                let hit = result.diagnostics.contains { d in
                    d.range.start.line == expectation.line && d.notes.contains { $0.message.contains(expectation.text) }
                }
                #expect(hit, "\(name):\(expectation) not produced; got:\n\(rendered(result))")
            default:
                Issue.record("\(name):\(expectation.line): unknown expectation kind '\(expectation.kind)'")
            }
        }
        for (i, d) in result.diagnostics.enumerated() where !matched.contains(i) {
            Issue.record("\(name):\(d.range.start.line): unexpected \(d.severity): \(d.message)")
        }
        #expect(result.hasErrors == expected.contains { $0.kind == "error" })
    }

    /// The rendered form (location, source line, caret, notes, fix-it) as a golden file.
    @Test(arguments: fixtureNames)
    func renderedDiagnosticsMatchSnapshot(_ name: String) throws {
        try assertSnapshot(rendered(try run(name)), named: "diagnostics/\(name.dropLast(4)).txt")
    }

    /// One fixture per message in the catalog, so no diagnostic goes untested.
    @Test func everyCatalogMessageHasAFixture() throws {
        let catalog = try Paths.text(Paths.packageRoot.appendingPathComponent("Sources/Parser/Messages.swift"))
        let ids = catalog.split(separator: "\n").compactMap { line -> String? in
            guard line.contains("case ."), let colon = line.range(of: ": \""), line.hasSuffix("\"") else { return nil }
            return String(line[colon.upperBound...].dropLast())
        }
        #expect(ids.count > 30)
        var produced = Set<String>()
        for name in Self.fixtureNames { produced.formUnion(try run(name).diagnostics.map(\.id)) }
        for id in ids {
            #expect(produced.contains(id), "no fixture under Tests/Fixtures/diagnostics produces '\(id)'")
        }
    }
}
