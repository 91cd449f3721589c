import Parser
import ShapeCheck
import Testing
@testable import Runtime

private func checked(_ text: String) throws -> CheckedNetwork {
    try #require(checkSource(text, path: "net.cnn").network, "the checker returned no network")
}

private func parse(_ text: String, kind: TextTensorFile.Kind = .weights) -> (file: TextTensorFile, diagnostics: [Diagnostic]) {
    TextTensorFile.parse(SourceFile(path: "t.txt", text: text), kind: kind)
}

/// The one diagnostic `body` throws in a TextTensorError: message, line and column.
private func expectLocated(_ message: String, line: Int, column: Int, sourceLocation: Testing.SourceLocation = #_sourceLocation,
                           _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected \"\(message)\", nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as TextTensorError {
        #expect(error.diagnostics.count == 1, "\(error)", sourceLocation: sourceLocation)
        #expect(error.diagnostics.first?.message == message, sourceLocation: sourceLocation)
        #expect(error.diagnostics.first?.range.start == SourceLocation(line: line, column: column), sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a TextTensorError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// The parse's diagnostics as (message, line, column).
private func problems(_ text: String, kind: TextTensorFile.Kind = .weights) -> [String] {
    parse(text, kind: kind).diagnostics.map { "\($0.range.start.line):\($0.range.start.column) \($0.message)" }
}

@Suite struct TextTensorTests {
    // MARK: Good files

    @Test func convWeightOfTwoFiltersAndItsBias() throws {
        let network = try checked("input 3x3x1\nc1: conv 2 3x3\n")
        let text = """
            # two filters, '--' between them
            c1.weight:
              1, 0, 1     # commas work as spaces
              0 1 0
              1 0 1
            --
              -0.5 1e-3 .5
              0 0 0
              0 0 2
            c1.bias: 0 0.5
            """
        let (file, diagnostics) = parse(text)
        #expect(diagnostics.isEmpty)
        let (weights, extras) = try file.weights(for: network)
        #expect(extras.isEmpty)
        #expect(weights["c1.weight"]?.shape == [2, 1, 3, 3])
        #expect(weights["c1.weight"]?.storage == [1, 0, 1, 0, 1, 0, 1, 0, 1, -0.5, 0.001, 0.5, 0, 0, 0, 0, 0, 2])
        #expect(weights["c1.bias"] == Tensor(shape: [2], storage: [0, 0.5]))
    }

    @Test func oneGridFillsASingleFilterAndRowsFillAnFCWeight() throws {
        let conv = try checked("input 5x5x1\nc1: conv 1 3x3 nobias\n")
        let grid = try parse("c1.weight:\n1 0 1\n0 1 0\n1 0 1\n").file.weights(for: conv).weights
        #expect(grid["c1.weight"]?.shape == [1, 1, 3, 3])

        let fc = try checked("input 4\nf: fc 3\n")
        let (file, diagnostics) = parse("f.weight:\n1 2 3 4\n5 6 7 8\n9 10 11 12\n\nf.bias:\n0.1 0.2 0.3\n")
        #expect(diagnostics.isEmpty)
        let weights = try file.weights(for: fc).weights
        #expect(weights["f.weight"] == Tensor(shape: [3, 4], storage: (1...12).map(Float.init)))
        #expect(weights["f.bias"]?.shape == [3])
    }

    @Test func threeChannelInputAndABatchOfTwo() throws {
        let colour = try checked("input 2x2x3\nc: conv 1 1x1\n")
        let three = try parse("input:\n1 2\n3 4\n\n5 6\n7 8\n\n\n9 10\n11 12\n", kind: .input).file.input(for: colour)
        #expect(three == Tensor(shape: [1, 3, 2, 2], storage: (1...12).map(Float.init)))

        let grey = try checked("input 2x2x1\nc: conv 1 1x1\n")
        let (file, diagnostics) = parse("1 2\n3 4\n--\n5 6\n7 8\n", kind: .input)
        #expect(diagnostics.isEmpty)
        #expect(try file.input(for: grey) == Tensor(shape: [2, 1, 2, 2], storage: (1...8).map(Float.init)))

        let vector = try checked("input 3\nf: fc 2\n")
        #expect(try parse("1 2 3\n4 5 6\n", kind: .input).file.input(for: vector).shape == [2, 3])
    }

    @Test func numbersInSwiftAndCSyntaxAndNonFinite() throws {
        let values = try #require(parse("x:\n-0.5 1e-3 .5 5. nan inf -inf +2 0x1p3\n").file.tensors.first?.values)
        #expect(Array(values.prefix(3)) == [-0.5, 0.001, 0.5])
        #expect(values[3] == 5 && values[4].isNaN && values[5] == .infinity && values[6] == -.infinity)
        #expect(Array(values.suffix(2)) == [2, 8])
    }

    @Test func commentOnlyLinesDoNotSplitChannels() throws {
        let tensor = try #require(parse("x:\n1 2\n# between\n3 4\n\n5 6\n7 8\n").file.tensors.first)
        #expect(tensor.layout == [1, 2, 2, 2])
        #expect(tensor.foundDescription == "2x2x2")
    }

    // MARK: Errors, each with its place

    @Test func rowOfTheWrongLength() {
        #expect(problems("c1.weight:\n 1 0 1\n 0 1\n") == ["3:2 row has 2 values; the rows above have 3"])
        let error = TextTensorError(source: SourceFile(path: "w.txt", text: "c1.weight:\n 1 0 1\n 0 1\n"),
                                    diagnostics: parse("c1.weight:\n 1 0 1\n 0 1\n").diagnostics)
        #expect(error.rendered() == "w.txt:3:2: error: row has 2 values; the rows above have 3\n 3 |  0 1\n   |  ^~~\n")
        #expect(error.summary == "w.txt: 1 error")
    }

    @Test func channelsOfDifferentHeights() {
        // Taller: the first row too many; shorter: its last row.
        #expect(problems("x:\n1 2\n3 4\n\n5 6\n7 8\n9 9\n").first == "7:1 channel has 3 rows; the channels above have 2")
        #expect(problems("x:\n1 2\n3 4\n\n5 6\n\n7 8\n8 9\n") == ["5:1 channel has 1 row; the channels above have 2"])
        #expect(problems("x:\n1\n\n2\n--\n3\n") == ["6:1 item has 1 channel; the items above have 2"])
    }

    @Test func aWordThatIsNotANumber() {
        #expect(problems("b:\n1 0 x1\n") == ["2:5 'x1' is not a number"])
        #expect(problems("b:\n1 1e50\n") == ["2:3 the number 1e50 is too large"])
    }

    @Test func aRepeatedNamePointsAtTheFirst() throws {
        let diagnostics = parse("a:\n1\nb:\n2\na: 3\n").diagnostics
        #expect(diagnostics.map(\.message) == ["tensor 'a' is given more than once"])
        #expect(diagnostics.first?.range.start == SourceLocation(line: 5, column: 1))
        #expect(diagnostics.first?.notes.first?.range?.start == SourceLocation(line: 1, column: 1))
    }

    @Test func valuesBeforeAnyHeaderInAWeightsFile() {
        #expect(problems("# weights\n  1 2\n3 4\nc1.bias: 0\n")
                == ["2:3 values come before any 'NAME:' header; in a weights file each tensor starts with its name and a colon"])
        // An input file needs none, but holds one tensor.
        #expect(problems("1 2\n", kind: .input).isEmpty)
        #expect(problems("1 2\nsecond:\n3 4\n", kind: .input)
                == ["2:1 'second:' starts a second tensor; an input file holds one (its header, if any, is 'input:')"])
        #expect(problems("image:\n1\n", kind: .input) == ["1:1 an input file's header is 'input:' (or there is none), not 'image:'"])
    }

    @Test func emptyFilesAndHeadersWithoutValues() {
        #expect(problems("# nothing\n") == ["1:1 the file holds no values"])
        #expect(problems("a:\nb: 1\n") == ["1:1 'a:' has no values"])
        #expect(problems("a:\n--\n1\n") == ["2:1 '--' comes before any values of this tensor"])
    }

    @Test func shapeCheckedAgainstTheNetworkAsSafetensorsWordsIt() throws {
        let network = try checked("input 28x28x1\nc1: conv 6 5x5\n")
        let twoChannels = "c1.weight:\n1 2 3\n4 5 6\n7 8 9\n\n1 2 3\n4 5 6\n7 8 9\nc1.bias: 0 0 0 0 0 0\n"
        expectLocated("c1.weight: found 2x3x3, expected 6x1x5x5", line: 1, column: 1) {
            _ = try parse(twoChannels).file.weights(for: network)
        }
        let input = try checked("input 3x2x1\nc: conv 1 1x1\n")
        expectLocated("input: found 2x2, expected 1x2x3 per image (channels x rows x columns for the input 3x2x1, W x H x D)",
                      line: 1, column: 1) { _ = try parse("input:\n1 2\n3 4\n", kind: .input).file.input(for: input) }
    }

    @Test func missingAndUnexpectedTensors() throws {
        let network = try checked("input 3x3x1\nc1: conv 1 3x3\n")
        expectLocated("missing tensor 'c1.bias' (expected 1)", line: 4, column: 6) {
            _ = try parse("c1.weight:\n1 0 1\n0 1 0\n1 0 1\n").file.weights(for: network)
        }
        let misspelt = "c1.weight:\n1 0 1\n0 1 0\n1 0 1\nc1.bais: 0\n"
        do {
            _ = try parse(misspelt).file.weights(for: network)
            Issue.record("a misspelt key was accepted")
        } catch let error as TextTensorError {
            #expect(error.diagnostics.map(\.message) == ["unexpected tensor 'c1.bais' (the network 'net' has no such parameter)",
                                                         "missing tensor 'c1.bias' (expected 1)"])
            #expect(error.diagnostics.first?.notes.first?.message == "did you mean 'c1.bias'?")
            #expect(error.diagnostics.first?.range.start == SourceLocation(line: 5, column: 1))
        }
    }

    @Test func extraTensorsPassWhenIgnored() throws {
        let network = try checked("input 1x1x1\nc1: conv 1 1x1\n")
        let (weights, extras) = try parse("c1.weight: 2\nc1.bias: 1\naux.bias: 3\n").file.weights(for: network, ignoringExtra: true)
        #expect(extras == ["aux.bias"])
        #expect(weights.keys.sorted() == ["c1.bias", "c1.weight"])
    }

    @Test func aNegativeVarianceIsLocatedAtItsValue() throws {
        let network = try checked("input 1x1x2\nbn: batchnorm\n")
        let text = "bn.weight: 1 1\nbn.bias: 0 0\nbn.running_mean: 0 0\nbn.running_var:\n  1   -0.5\n"
        expectLocated("bn.running_var has value -0.5 at index 1; a variance must be ≥ 0", line: 5, column: 7) {
            _ = try parse(text).file.weights(for: network)
        }
    }

    @Test func manyBadLinesStopAtTheLimit() {
        let text = "x:\n" + String(repeating: "y\n", count: 500)
        let diagnostics = parse(text).diagnostics
        #expect(diagnostics.count == TextTensorFile.errorLimit)
        #expect(diagnostics.last?.notes.last?.message.contains("stops after") == true)
    }

    @Test func crlfLinesTabsAndBadUTF8() throws {
        let crlf = TextTensorFile.parse(SourceFile(path: "t.txt", bytes: Array("x:\r\n1\t2\r\n\r\n3 4\r\n".utf8)), kind: .weights)
        #expect(crlf.diagnostics.isEmpty)
        #expect(crlf.file.tensors.first?.layout == [1, 2, 1, 2])
        let bad = TextTensorFile.parse(SourceFile(path: "t.txt", bytes: Array("x:\n1 2\n3 ".utf8) + [0xFF] + Array("\n".utf8)),
                                       kind: .weights)
        #expect(bad.diagnostics.map { "\($0.range.start.line):\($0.range.start.column) \($0.message)" }
                == ["3:3 byte 0xFF is not valid UTF-8"])
    }
}
