import Foundation
import Parser
import ShapeCheck
import Testing

/// Issue 6: bad or huge input never crashes, hangs or grows without bound. These check that
/// large files complete and what they print, never how long they take (there are no timed
/// tests); the timings are in docs/robustness.md with the commands that measure them.
struct LargeAndHostileInputTests {
    /// 100,000 lines in a release build (`swift test -c release`), fewer in a debug build,
    /// which is about ten times slower.
    #if DEBUG
    static let lines = 20_000
    #else
    static let lines = 100_000
    #endif

    @Test func aLargeValidFileIsCheckedAndTabled() throws {
        var text = "input 8x8x4\n"
        for i in 0..<Self.lines { text += "l\(i): conv 4 3x3 pad 1 relu\n" }
        let result = checkSource(text, path: "large.cnn")
        #expect(result.diagnostics.isEmpty)
        let network = try #require(result.network)
        #expect(network.layers.count == Self.lines)
        #expect(network.trainableParameters == Self.lines * (3 * 3 * 4 + 1) * 4)
        let table = CheckReport.table(network, path: "large.cnn")
        let rows = table.split(separator: "\n")
        #expect(rows.count == Self.lines + 9)  // title, header, rule, input, the layers, 5 totals
        let last = try #require(rows.first { $0.hasPrefix("l\(Self.lines - 1) ") })
        #expect(last.split(separator: " ").map(String.init)
                == ["l\(Self.lines - 1)", "conv", "4", "3x3", "stride", "1", "pad", "1", "relu", "8x8x4", "256", "148", "9,216"])
        let json = CheckReport.json(result)
        #expect(json.contains("\"name\": \"l\(Self.lines - 1)\""))
        #expect(CheckReport.explain(network).split(separator: "\n").count == 2 * Self.lines)  // the formula, then the receptive field
    }

    @Test func aLargeFileOfErrorsReportsEveryOne() {
        // Misspelt operations and options, and `from` names that come later: every one is an
        // error with a note, and a misspelt name is compared with the 256 layers above it.
        var text = "input 8x8x4\n"
        for i in 0..<Self.lines {
            text += i % 2 == 0 ? "l\(i): convv 4 3x3 strid 2\n" : "l\(i): conv 4 3x3 pad 1 from l\(i + 5)\n"
        }
        let result = checkSource(text, path: "errors.cnn")
        #expect(result.network == nil)
        #expect(result.diagnostics.count == Self.lines)
        #expect(result.diagnostics.allSatisfy { $0.severity == .error })
        let first = result.diagnostics[0]
        #expect(first.message == "unknown operation 'convv'" && first.notes.map(\.message) == ["did you mean 'conv'?"])
        // The lines that name l6 and later are not layers, so these are unknown names.
        let second = result.diagnostics[1]
        #expect(second.message == "no layer named 'l6'" && second.notes.map(\.message) == ["layers above this line: input"])
        let last = result.diagnostics[Self.lines - 1]
        #expect(last.message == "no layer named 'l\(Self.lines + 4)'")
        let rendered = DiagnosticRenderer().render(result.diagnostics, in: result.file)
        #expect(rendered.components(separatedBy: ": error: ").count == Self.lines + 1)
        #expect(DiagnosticRenderer.summary(result.diagnostics) == "\(Self.lines) errors")
    }

    @Test func misspeltNamesFarDownAFileStillGetSuggestions() {
        var text = "input 8x8x4\n"
        for i in 0..<2_000 { text += "block\(i): conv 4 3x3 pad 1\n" }
        text += "out: fc 10 from block1999x\n"  // one edit from the layer above
        text += "bad: fc 10 from nothing_like_it\n"
        let result = checkSource(text, path: "far.cnn")
        let notes = result.diagnostics.filter { $0.id == "unknown-layer" }.map { $0.notes.map(\.message) }
        #expect(notes == [
            ["did you mean 'block1999'?"],
            ["layers above this line: block1994, block1995, block1996, block1997, block1998, block1999, out, input"],
        ])
    }

    // MARK: Hostile files

    @Test func reportingStopsAtTheDiagnosticLimit() {
        // A line that is not a statement, 100,001 times: past the limit, reading stops and the
        // last diagnostic says so.
        let text = String(repeating: "x\n", count: DiagnosticLimit.perFile + 1)
        let result = checkSource(text, path: "many.cnn")
        #expect(result.diagnostics.count == DiagnosticLimit.perFile + 1)  // and 'no input line'
        #expect(result.diagnostics.last?.notes.last == DiagnosticLimit.note)
        #expect(DiagnosticLimit.note.message == "too many problems: cnnc stops after 100,000, so the rest of the file is not checked")
    }

    @Test func manyProblemsOnOneLineStopAtTheLimitToo() {
        let text = "input 8x8x4\nconv 1 1x1 " + String(repeating: "zz ", count: DiagnosticLimit.perFile + 10) + "\n"
        let result = checkSource(text, path: "one-line.cnn")
        #expect(result.diagnostics.count == DiagnosticLimit.perFile)
        #expect(result.diagnostics.last?.notes.last == DiagnosticLimit.note)
        // Each is shown with a window of the line, not the whole 300 KB line.
        let rendered = DiagnosticRenderer().render(Array(result.diagnostics.suffix(3)), in: result.file)
        #expect(rendered.count < 3 * 1_000)
    }

    @Test func aLongLineIsShownAsAWindowAroundTheCaret() throws {
        let line = "conv 1 1x1 " + String(repeating: "pad 0 ", count: 200) + "strde 2"
        let result = checkSource("input 8x8x4\n" + line + "\n", path: "long.cnn")
        let diagnostic = try #require(result.diagnostics.first { $0.id == "unknown-option" })
        #expect(diagnostic.range.start.column == 1212)
        // 64 scalars before the caret, "…" where the line is cut, the caret and fix-it in place.
        let lead = String(repeating: " ", count: 1 + 64)
        #expect(DiagnosticRenderer().render(diagnostic, in: result.file) == [
            "long.cnn:2:1212: error: 'strde' is not an option of conv",
            " 2 | …" + String(line.suffix(64 + 7)),
            "   | " + lead + "^~~~~",
            "   | " + lead + "stride",
            "note: did you mean 'stride'?",
            "note: write '\(Grammar.form(of: "conv"))'",
        ].joined(separator: "\n") + "\n")
    }

    @Test func anAddOfManyLayersIsCheckedAndTabledInLinearSpace() throws {
        let count = 20_000
        var text = "input 4x4x2\n"
        for i in 0..<count { text += "l\(i): conv 2 1x1 from input\n" }
        text += "sum: add " + (0..<count).map { "l\($0)" }.joined(separator: " ") + "\n"
        let result = checkSource(text, path: "wide.cnn")
        let network = try #require(result.network)
        let table = CheckReport.table(network, path: "wide.cnn")
        // The add's op cell is 160 KB; it must not set the width of every other row.
        #expect(table.utf8.count < 200_000 + count * 200)
        // The same with shapes that do not match: one error, one note per input.
        var mismatched = "input 4x4x2\n"
        for i in 0..<count { mismatched += "l\(i): conv \(i % 2 + 1) 1x1 from input\n" }
        mismatched += "sum: add " + (0..<count).map { "l\($0)" }.joined(separator: " ") + "\n"
        let bad = checkSource(mismatched, path: "wide.cnn")
        let error = try #require(bad.diagnostics.first { $0.id == "shape-mismatch" })
        #expect(error.notes.count == count + 1)
        #expect(error.notes.last?.message == "'l\(count - 1)' is 4x4x2")
    }

    @Test func veryLongNamesAreShortenedInListsOfNames() throws {
        let long = String(repeating: "a", count: 100_000)
        let result = checkSource("input 8x8x4\n\(long): conv 1 1x1\nfc 2 from b\n", path: "names.cnn")
        let note = try #require(result.diagnostics.first { $0.id == "unknown-layer" }?.notes.first?.message)
        #expect(note == "layers above this line: " + String(repeating: "a", count: 63) + "…, input")
    }

    // MARK: Random and mutated files

    /// Whole files that check, to mutate: every model and conformance case.
    static let seeds: [[UInt8]] = {
        var files = ((try? FileManager.default.contentsOfDirectory(atPath: Paths.models.path)) ?? [])
            .filter { $0.hasSuffix(".cnn") }.map { Paths.models.appendingPathComponent($0) }
        files += Conformance.cases.map { URL(fileURLWithPath: Conformance.Files($0).model) }
        return files.sorted { $0.path < $1.path }.compactMap { try? [UInt8](Data(contentsOf: $0)) }
    }()

    /// Two seconds of random and mutated files through parse, check and every report; the parser
    /// alone has its own in ParserTests, and fuzz/run.sh parser does this for as long as asked.
    @Test func randomAndMutatedFilesNeverCrashTheCheckerOrItsReports() throws {
        #expect(Self.seeds.count >= 10)
        var rng = SplitMix(seed: 6)
        let words = ["conv", "depthwise", "maxpool", "avgpool", "fc", "add", "concat", "from", "stride", "pad", "same", "fit",
                     "dilation", "groups", "multiplier", "round", "ceil", "relu", "softmax", "leakyrelu", "batchnorm",
                     "lrn", "dropout", "flatten", "globalavgpool", "input", "network", "strict", "0", "1", "3x3",
                     "2147483648", "9223372036854775807", "1e-4", ":", "#", "\n", "\t", "x", "a.b", "\u{FFFD}"].map { Array($0.utf8) }
        let deadline = Date().addingTimeInterval(2)
        var runs = 0, networks = 0
        while Date() < deadline {
            var bytes = Self.seeds[runs % Self.seeds.count]
            for _ in 0..<Int.random(in: 1...6, using: &rng) where !bytes.isEmpty {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<5, using: &rng) {
                case 0: bytes[i] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes.insert(contentsOf: [UInt8(ascii: " ")] + words.randomElement(using: &rng)!, at: i)
                case 2: bytes.removeSubrange(i..<min(i + Int.random(in: 1...8, using: &rng), bytes.count))
                case 3: bytes.insert(contentsOf: bytes[i..<min(i + 40, bytes.count)], at: i)  // repeat a piece
                default:  // a digit becomes a large number
                    if bytes[i] >= UInt8(ascii: "0") && bytes[i] <= UInt8(ascii: "9") {
                        bytes.insert(contentsOf: Array("99999".utf8), at: i)
                    }
                }
            }
            let file = SourceFile(path: "fuzz.cnn", bytes: bytes)
            for strict in [false, true] {
                let result = checkSource(file, strict: strict)
                _ = DiagnosticRenderer(colour: strict).render(result.diagnostics, in: file)
                _ = CheckReport.json(result)
                for d in result.diagnostics { #expect(d.range.start.line >= 1 && d.range.start.column >= 1) }
                if let network = result.network {
                    #expect(!result.hasErrors)
                    _ = CheckReport.table(network, path: file.path)
                    _ = CheckReport.explain(network)
                    #expect(network.layers.allSatisfy { $0.output.elementCount >= 1 && $0.output.elementCount <= Limits.maxTensorElements })
                    networks += 1
                }
            }
            runs += 1
        }
        #expect(runs > 50)
        #expect(networks > 0)  // some mutations still check, so the reports run too
    }
}
