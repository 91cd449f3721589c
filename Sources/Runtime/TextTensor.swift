import Parser

/// One tensor typed as text: rows of numbers, a blank line between channels, `--` between
/// items (docs/language.md, "Tensors as text"). The shape is read from the layout alone.
public struct TextTensor: Sendable {
    /// The header's name (`conv1.weight`), nil for an input file without one.
    public var name: Located<String>?
    /// Row-major, in file order.
    public var values: [Float]
    /// [items, channels, rows, columns]; a dimension the layout did not use is 1.
    public var layout: [Int]
    /// Where the tensor starts: its header, or its first row.
    public var range: SourceRange
    /// The line of each row, so a value's index can be located again.
    var rowLines: [Int]

    /// The layout without its leading 1s ("3x3" for one 3x3 grid), for messages.
    public var foundDescription: String {
        let used = layout.drop { $0 == 1 }
        return (used.isEmpty ? [1] : Array(used)).map(String.init).joined(separator: "x")
    }

    /// The layout right-aligned against `expected`: the trailing dims must equal it and the
    /// leading ones be 1, so a 3x3 grid fills [1, 1, 3, 3] and one row of 2 a bias of 2.
    public func fits(_ expected: [Int]) -> Bool {
        expected.count <= layout.count && Array(layout.suffix(expected.count)) == expected
            && layout.dropLast(expected.count).allSatisfy { $0 == 1 }
    }
}

/// A located problem in a text tensor file: the diagnostics, rendered as the `.cnn` ones are.
public struct TextTensorError: Error, CustomStringConvertible {
    public var source: SourceFile
    public var diagnostics: [Diagnostic]

    public func rendered(colour: Bool = false) -> String {
        DiagnosticRenderer(colour: colour).render(diagnostics, in: source)
    }

    /// "w.txt: 2 errors", the summary line under the diagnostics.
    public var summary: String { "\(source.path): \(DiagnosticRenderer.summary(diagnostics))" }

    public var description: String { rendered() + summary }
}

/// The tensors of one text file, parsed.
public struct TextTensorFile: Sendable {
    public enum Kind: Sendable {
        /// One header per tensor, names as in safetensors.
        case weights
        /// One tensor; its header is optional and is `input:`.
        case input
    }

    /// Bigger than anyone types; a larger array belongs in a .npy file. Bounds `/dev/zero`.
    public static let byteLimit = 64 << 20
    /// Past this many errors the file is not read further (each would repeat the last).
    static let errorLimit = 50

    public let source: SourceFile
    public var tensors: [TextTensor]

    /// A path the text reader takes: its extension is `.txt`.
    public static func isText(_ path: String) -> Bool { path.lowercased().hasSuffix(".txt") }

    /// Reads and parses `path`; a problem in the file throws a `TextTensorError`.
    public static func read(_ path: String, kind: Kind) throws -> TextTensorFile {
        let bytes: [UInt8]
        do {
            bytes = try readFileBytes(path, limit: byteLimit)
        } catch let error as RuntimeError where error.message.contains("is larger than") {
            throw RuntimeError(error.message + "; a text tensor is for typing by hand, write a larger one as .npy")
        }
        let file = parse(SourceFile(path: path, bytes: bytes), kind: kind)
        if !file.diagnostics.isEmpty { throw TextTensorError(source: file.file.source, diagnostics: file.diagnostics) }
        return file.file
    }

    /// Every tensor the file holds and every problem found, in file order.
    public static func parse(_ source: SourceFile, kind: Kind) -> (file: TextTensorFile, diagnostics: [Diagnostic]) {
        var reader = TextTensorReader(kind: kind, source: source)
        reader.readAll()
        return (TextTensorFile(source: source, tensors: reader.tensors), reader.diagnostics)
    }

    /// The range of the number at flat `index` of `tensor`, for an error about that value.
    public func range(ofValue index: Int, in tensor: TextTensor) -> SourceRange {
        let width = max(tensor.layout[3], 1)
        let row = index / width, column = index % width
        guard row < tensor.rowLines.count, let line = source.line(tensor.rowLines[row]) else { return tensor.range }
        var tokens = TextTensorReader.tokens(of: line, number: tensor.rowLines[row])
        if let first = tokens.first, first.text.contains(":") { tokens = TextTensorReader.splitHeader(first).rest + tokens.dropFirst() }
        return column < tokens.count ? tokens[column].range : tensor.range
    }

    /// Where a tensor that is missing would go: after the last line.
    public var endRange: SourceRange {
        let last = max(source.lines.count, 1)
        return SourceRange(line: last, column: (source.line(last)?.unicodeScalars.count ?? 0) + 1, length: 1)
    }
}

/// The line-by-line reader behind `TextTensorFile.parse`.
struct TextTensorReader {
    struct Token {
        var text: String
        var range: SourceRange
    }

    let kind: TextTensorFile.Kind
    let source: SourceFile
    var tensors: [TextTensor] = []
    var diagnostics: [Diagnostic] = []
    private var errors = 0

    /// The tensor being read, its first channel's and first item's sizes once known.
    private var current: TextTensor?
    private var width: Int?
    private var height: Int?
    private var channelsPerItem: Int?
    /// Rows of the channel being read and channels of the item being read (with the ranges of
    /// the rows, to point at the one that breaks the pattern).
    private var channelRows: [SourceRange] = []
    private var itemChannels: [SourceRange] = []
    private var items = 0
    /// Whether the tensor being read had a row, good or not (a bad one was reported already).
    private var sawRow = false
    private enum Separator: Comparable { case none, channel, item }
    private var pending = Separator.none
    /// In a weights file, whether "values before any header" was said already.
    private var saidHeaderless = false
    private var firstHeader: [String: SourceRange] = [:]

    init(kind: TextTensorFile.Kind, source: SourceFile) {
        self.kind = kind
        self.source = source
    }

    mutating func readAll() {
        if let problem = source.encodingProblem {
            let at = SourceRange(line: problem.location.line, column: problem.location.column, length: 1)
            switch problem.kind {
            case .notText:
                error(.notText(byte: problem.byte, offset: problem.offset), at: at)
                return
            case .invalidUTF8:
                error(.invalidUTF8(byte: problem.byte), at: at, notes: [DiagnosticNote("save the file as UTF-8")])
            }
        }
        // A line with bytes that are not UTF-8 (read as U+FFFD) was reported above, as a whole.
        for (index, line) in source.lines.enumerated() where !line.unicodeScalars.contains("\u{FFFD}") {
            if errors >= TextTensorFile.errorLimit { break }
            readLine(line, number: index + 1)
        }
        finishTensor()
        if tensors.isEmpty && diagnostics.isEmpty {
            error(.fileWithoutValues, at: SourceRange(line: 1, column: 1, length: 1))
        }
        // Channel and item sizes are judged when the next one starts, after later lines.
        diagnostics = diagnostics.enumerated().sorted { ($0.element.range.start, $0.offset) < ($1.element.range.start, $1.offset) }.map(\.element)
        if errors >= TextTensorFile.errorLimit, !diagnostics.isEmpty {
            diagnostics[diagnostics.count - 1].notes.append(
                DiagnosticNote("cnnc stops after \(TextTensorFile.errorLimit) errors, so the rest of the file is not read"))
        }
    }

    /// Words split at spaces, tabs and commas, after the comment is cut off.
    static func tokens(of line: String, number: Int) -> [Token] {
        var tokens: [Token] = []
        var word = String.UnicodeScalarView()
        var start = 0
        func flush(at column: Int) {
            if !word.isEmpty { tokens.append(Token(text: String(word), range: SourceRange(line: number, column: start + 1, length: column - start))) }
            word = String.UnicodeScalarView()
        }
        var column = 0
        for scalar in line.unicodeScalars {
            if scalar == "#" { break }
            if scalar == " " || scalar == "\t" || scalar == "," || scalar == "\r" {
                flush(at: column)
            } else {
                if word.isEmpty { start = column }
                word.append(scalar)
            }
            column += 1
        }
        flush(at: column)
        return tokens
    }

    /// `name:` or `name:1` → the name and what follows the colon as a token of its own.
    static func splitHeader(_ token: Token) -> (name: Token, rest: [Token]) {
        let scalars = Array(token.text.unicodeScalars)
        let colon = scalars.firstIndex(of: ":")!
        let start = token.range.start
        let name = Token(text: String(String.UnicodeScalarView(scalars[..<colon])),
                         range: SourceRange(line: start.line, column: start.column, length: colon))
        guard colon + 1 < scalars.count else { return (name, []) }
        let rest = Token(text: String(String.UnicodeScalarView(scalars[(colon + 1)...])),
                         range: SourceRange(line: start.line, column: start.column + colon + 1, length: scalars.count - colon - 1))
        return (name, [rest])
    }

    private mutating func readLine(_ line: String, number: Int) {
        var tokens = Self.tokens(of: line, number: number)
        if tokens.isEmpty {
            // A blank line separates channels; a line holding only a comment does not.
            if line.unicodeScalars.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }), !channelRows.isEmpty {
                pending = max(pending, .channel)
            }
            return
        }
        if tokens.count == 1, tokens[0].text == "--" {
            if current == nil || current!.values.isEmpty && channelRows.isEmpty {
                error(.separatorBeforeValues, at: tokens[0].range)
            } else {
                pending = .item
            }
            return
        }
        if tokens[0].text.contains(":") {
            let (name, rest) = Self.splitHeader(tokens[0])
            startTensor(named: name)
            tokens = rest + tokens.dropFirst()
            if tokens.isEmpty { return }
        }
        readRow(tokens, number: number)
    }

    private mutating func startTensor(named name: Token) {
        let range = name.range
        if name.text.isEmpty {
            error(.invalidName(""), at: SourceRange(line: range.start.line, column: range.start.column, length: 1))
        }
        switch kind {
        case .input:
            if current != nil || !tensors.isEmpty {
                error(.secondInputTensor(name.text), at: range)
            } else if name.text != "input" {
                error(.inputHeader(name.text), at: range)
            }
        case .weights:
            if let first = firstHeader[name.text] {
                error(.repeatedTensor(name.text), at: range, notes: [DiagnosticNote("first given here", at: first)])
            } else {
                firstHeader[name.text] = range
            }
        }
        finishTensor()
        current = TextTensor(name: Located(name.text, range), values: [], layout: [1, 1, 1, 1], range: range, rowLines: [])
    }

    private mutating func readRow(_ tokens: [Token], number: Int) {
        if current == nil {
            if kind == .weights {
                if !saidHeaderless { error(.valuesBeforeHeader, at: tokens[0].range) }
                saidHeaderless = true
                return
            }
            current = TextTensor(name: nil, values: [], layout: [1, 1, 1, 1], range: tokens[0].range, rowLines: [])
        }
        sawRow = true
        var row: [Float] = []
        row.reserveCapacity(tokens.count)
        var bad = false
        for token in tokens {
            if let value = Self.number(token.text) {
                row.append(value)
            } else {
                bad = true
                let tooLarge = Double(token.text).map(\.isFinite) == true
                error(tooLarge ? .numberTooLarge(token.text) : .invalidNumber(token.text), at: token.range,
                      notes: tooLarge ? [DiagnosticNote("float32 holds magnitudes up to about 3.4e38")] : [])
            }
        }
        if bad { return }
        let range = tokens[0].range.extended(to: tokens[tokens.count - 1].range)
        if pending == .item {
            closeChannel()
            closeItem()
        } else if pending == .channel {
            closeChannel()
        }
        pending = .none
        if let width, row.count != width {
            error(.rowLength(found: row.count, expected: width), at: range)
            return
        }
        width = row.count
        channelRows.append(range)
        current!.values += row
        current!.rowLines.append(number)
    }

    /// Swift's (and C's) float syntax, `nan`, `inf`; a finite number beyond float32 is refused.
    static func number(_ text: String) -> Float? {
        guard let double = Double(text) else { return nil }
        let value = Float(double)
        return value.isFinite || !double.isFinite ? value : nil
    }

    private mutating func closeChannel() {
        guard let first = channelRows.first else { return }
        if let height, channelRows.count != height {
            // Point at the first row too many, or at the last row of a channel too short.
            let at = channelRows.count > height ? channelRows[height] : channelRows[channelRows.count - 1]
            error(.channelHeight(found: channelRows.count, expected: height), at: at,
                  notes: [DiagnosticNote("a blank line starts the next channel; '--' the next item")])
        }
        if height == nil { height = channelRows.count }
        itemChannels.append(first)
        channelRows = []
    }

    private mutating func closeItem() {
        guard !itemChannels.isEmpty else { return }
        if let channelsPerItem, itemChannels.count != channelsPerItem {
            let at = itemChannels.count > channelsPerItem ? itemChannels[channelsPerItem] : itemChannels[itemChannels.count - 1]
            error(.itemChannels(found: itemChannels.count, expected: channelsPerItem), at: at)
        }
        if channelsPerItem == nil { channelsPerItem = itemChannels.count }
        items += 1
        itemChannels = []
    }

    private mutating func finishTensor() {
        guard var tensor = current else { return }
        closeChannel()
        closeItem()
        if tensor.values.isEmpty && !sawRow {
            error(.tensorWithoutValues(tensor.name?.value ?? "input"), at: tensor.range)
        } else if errors == 0 {
            tensor.layout = [items, channelsPerItem ?? 1, height ?? 1, width ?? 1]
        }
        if !tensor.values.isEmpty { tensors.append(tensor) }
        current = nil
        width = nil; height = nil; channelsPerItem = nil
        channelRows = []; itemChannels = []; items = 0; sawRow = false
        pending = .none
    }

    private mutating func error(_ message: Message, at range: SourceRange, notes: [DiagnosticNote] = []) {
        errors += 1
        diagnostics.append(Diagnostic(message, at: range, notes: notes))
    }

    private mutating func error(_ message: TextTensorMessage, at range: SourceRange, notes: [DiagnosticNote] = []) {
        errors += 1
        diagnostics.append(Diagnostic(message, at: range, notes: notes))
    }
}
