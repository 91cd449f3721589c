/// What parsing gives: a syntax tree with everything that could be read, and every problem.
public struct ParseResult: Sendable {
    public var syntax: NetworkSyntax
    public var diagnostics: [Diagnostic]
    /// Reading stopped at `DiagnosticLimit.perFile` problems; the rest of the file was not read.
    public var truncated = false
}

/// Text → syntax tree. Never throws and never stops at the first problem: a line that cannot
/// be read is reported and skipped, and the rest of the file is still read.
public func parse(_ file: SourceFile) -> ParseResult {
    var parser = LineParser()
    // Most lines of a file are layers: sized once rather than copied as it grows, up to a
    // bound so that a file of millions of empty lines does not reserve gigabytes.
    parser.syntax.layers.reserveCapacity(min(file.lines.count, 1 << 17))
    if let problem = file.encodingProblem {
        let at = SourceRange(line: problem.location.line, column: problem.location.column, length: 1)
        switch problem.kind {
        case .notText(let format):
            // Nothing of it is read: the bytes would be hundreds of meaningless errors.
            let note = DiagnosticNote(format ?? "a network is a UTF-8 text file of lines such as 'conv 6 5x5 relu'")
            return ParseResult(syntax: NetworkSyntax(), diagnostics: [Diagnostic(.notText(byte: problem.byte, offset: problem.offset),
                                                                                  at: at, notes: [note])])
        case .invalidUTF8(let otherLines):
            let more = otherLines == 0 ? [] : [DiagnosticNote("\(otherLines) more line\(otherLines == 1 ? "" : "s") also \(otherLines == 1 ? "holds" : "hold") bytes that are not UTF-8")]
            parser.report(Diagnostic(.invalidUTF8(byte: problem.byte), at: at,
                                     notes: more + [DiagnosticNote("save the file as UTF-8; other encodings (Latin-1, Windows-1252) are not read")]))
        }
    }
    for (index, line) in file.lines.enumerated() {
        if parser.diagnostics.count >= DiagnosticLimit.perFile {
            parser.truncated = true
            break
        }
        parser.parseLine(Lexer.tokens(of: line, number: index + 1))
    }
    let lastLine = max(file.lines.count, 1)
    parser.syntax.end = SourceLocation(line: lastLine, column: (file.line(lastLine)?.unicodeScalars.count ?? 0) + 1)
    if parser.syntax.input == nil && !parser.syntax.inputWritten {
        let at = parser.syntax.layers.first?.range.start ?? parser.syntax.end
        parser.diagnostics.append(Diagnostic(.missingInput, at: SourceRange(start: at, end: at),
                                             notes: [DiagnosticNote("add a line such as 'input 32x32x1' (width x height x depth) before the first layer")]))
    }
    return ParseResult(syntax: parser.syntax, diagnostics: parser.diagnostics, truncated: parser.truncated)
}

/// The operations and their syntax, for "did you mean" notes and for telling the expected form.
public enum Grammar {
    public static let activationKeywords = ["relu", "sigmoid", "tanh", "softmax", "leakyrelu", "elu",
                                            "relu6", "hardswish", "hardsigmoid", "silu", "gelu"]
    public static let headerKeywords = ["network", "strict", "input"]
    public static let operationKeywords = ["conv", "depthwise", "maxpool", "avgpool", "globalavgpool", "globalmaxpool",
                                           "fc", "flatten", "dropout", "batchnorm", "lrn", "add", "concat", "mul",
                                           "slice", "shuffle", "layernorm", "layerscale", "pointwise", "deconv", "upsample",
                                           "adaptiveavgpool", "maxout"] + activationKeywords
    /// Operations that take a trailing activation word.
    public static let activatable: Set<String> = ["conv", "deconv", "depthwise", "fc", "pointwise", "add", "concat", "mul"]

    public static func form(of op: String) -> String {
        switch op {
        case "conv": "conv K FwxFh [stride S|SwxSh] [pad P|PwxPh|same|valid|fit] [padmode MODE] [dilation D] [groups G] [nobias] [from NAME] [ACTIVATION]"
        case "depthwise": "depthwise FwxFh [stride S|SwxSh] [pad P|PwxPh|same|valid|fit] [padmode MODE] [dilation D] [multiplier M] [nobias] [from NAME] [ACTIVATION]"
        case "deconv": "deconv K FwxFh [stride S|SwxSh] [pad P|PwxPh] [outpad A|AwxAh] [dilation D] [groups G] [nobias] [from NAME] [ACTIVATION]"
        case "upsample": "upsample S|SwxSh [nearest|bilinear] [aligncorners] [from NAME]"
        case "maxpool", "avgpool": "\(op) FwxFh [stride S|SwxSh] [pad P|PwxPh|same|valid|fit] [round floor|ceil] [from NAME]"
        case "fc": "fc N [from NAME] [ACTIVATION]"
        case "dropout": "dropout P [from NAME]   (0 ≤ P < 1)"
        case "batchnorm": "batchnorm [eps E] [from NAME]"
        case "lrn": "lrn [size 5] [alpha 1e-4] [beta 0.75] [k 2] [from NAME]"
        case "leakyrelu": "leakyrelu [A] [from NAME]"
        case "elu": "elu [A] [from NAME]"
        case "gelu": "gelu [tanh] [from NAME]"
        case "slice": "slice FROM TO [from NAME]   (channels FROM..<TO)"
        case "shuffle": "shuffle G [from NAME]"
        case "adaptiveavgpool": "adaptiveavgpool WxH [from NAME]"
        case "maxout": "maxout K [from NAME]"
        case "layernorm": "layernorm [eps E] [from NAME]"
        case "pointwise": "pointwise N [nobias] [from NAME] [ACTIVATION]"
        case "add", "concat", "mul": "\(op) NAME NAME… [ACTIVATION]"
        default: "\(op) [from NAME]"
        }
    }

    /// add, concat and mul list the layers they combine, so they take no `from`.
    static func namesItsInputs(_ op: String) -> Bool { op == "add" || op == "concat" || op == "mul" }

    static let optionsWithValues: Set<String> = ["stride", "pad", "padmode", "outpad", "dilation", "groups", "multiplier", "round", "eps",
                                                 "size", "alpha", "beta", "k", "from"]

    static func options(of op: String) -> [String] {
        optionsByOperation[op] ?? listOptions(of: op)
    }

    /// Asked for every word of every line, so made once.
    private static let optionsByOperation: [String: [String]] =
        Dictionary(uniqueKeysWithValues: operationKeywords.map { ($0, listOptions(of: $0)) })

    private static func listOptions(of op: String) -> [String] {
        var options: [String]
        switch op {
        case "conv": options = ["stride", "pad", "padmode", "dilation", "groups", "nobias"]
        case "depthwise": options = ["stride", "pad", "padmode", "dilation", "multiplier", "nobias"]
        case "deconv": options = ["stride", "pad", "outpad", "dilation", "groups", "nobias"]
        case "upsample": options = ["nearest", "bilinear", "aligncorners"]
        case "maxpool", "avgpool": options = ["stride", "pad", "round"]
        case "batchnorm", "layernorm": options = ["eps"]
        case "pointwise": options = ["nobias"]
        case "lrn": options = ["size", "alpha", "beta", "k"]
        default: options = []
        }
        if !Grammar.namesItsInputs(op) { options.append("from") }
        return options
    }
}

/// Reads a file line by line into a `NetworkSyntax`, collecting diagnostics.
struct LineParser {
    var syntax = NetworkSyntax()
    var diagnostics: [Diagnostic] = []
    /// Problems past `DiagnosticLimit.perFile` were dropped.
    var truncated = false
    private var reportedLayerBeforeInput = false

    mutating func parseLine(_ tokens: [Token]) {
        guard let first = tokens.first else { return }
        var words = tokens[...]
        var name: Located<String>?
        if first.text == ":" {
            error(.invalidName(":"), first.range, notes: [DiagnosticNote("a layer line is 'NAME: OP ARGS…'")])
            return
        }
        if tokens.count >= 2 && tokens[1].text == ":" {
            if Lexer.isName(first.text) {
                name = Located(first.text, first.range)
            } else {
                error(.invalidName(first.text), first.range)
            }
            words = tokens.dropFirst(2)
            guard let opWord = words.first else {
                error(.missingLayerAfterName(first.text), first.range)
                return
            }
            if opWord.text == ":" {
                error(.unexpectedWord(word: ":", op: "a layer line"), opWord.range)
                return
            }
        }
        let keyword = words.first!
        let arguments = Array(words.dropFirst())
        if name == nil {
            switch keyword.text {
            case "network": return parseNetwork(keyword, arguments)
            case "strict": return parseStrict(keyword, arguments)
            case "input": return parseInput(keyword, arguments)
            default: break
            }
        }
        guard Grammar.operationKeywords.contains(keyword.text) else {
            reportUnknownOperation(keyword)
            syntax.unreadableStatements += 1
            return
        }
        if syntax.input == nil && !syntax.inputWritten && !reportedLayerBeforeInput {
            reportedLayerBeforeInput = true
            error(.layerBeforeInput, keyword.range, notes: [DiagnosticNote("the 'input' line must come before the first layer")])
        }
        var reader = LayerReader(keyword: keyword, arguments: arguments, budget: DiagnosticLimit.perFile - diagnostics.count,
                                 earlierLayers: syntax.layers)
        let operation = reader.read()
        diagnostics += reader.diagnostics
        truncated = truncated || reader.truncated
        guard let operation else {
            syntax.unreadableStatements += 1
            return
        }
        let lineEnd = (tokens.last?.range ?? keyword.range)
        syntax.layers.append(LayerSyntax(name: name, keyword: Located(keyword.text, keyword.range), operation: operation,
                                         from: reader.from, activation: reader.activation,
                                         range: (name?.range ?? keyword.range).extended(to: lineEnd)))
    }

    private mutating func error(_ message: Message, _ range: SourceRange, notes: [DiagnosticNote] = [], fixIt: FixIt? = nil) {
        report(Diagnostic(message, at: range, notes: notes, fixIt: fixIt))
    }

    /// Keeps a problem, unless the file has already reported as many as it may.
    mutating func report(_ diagnostic: Diagnostic) {
        guard diagnostics.count < DiagnosticLimit.perFile else {
            truncated = true
            return
        }
        diagnostics.append(diagnostic)
    }

    private mutating func reportUnknownOperation(_ word: Token) {
        let candidates = Grammar.operationKeywords + Grammar.headerKeywords
        // Asked first: the case-blind distance would otherwise find `conv` for `Conv` as a misspelling.
        if word.text.lowercased() != word.text, candidates.contains(word.text.lowercased()) {
            error(.unknownOperation(word.text), word.range, notes: [DiagnosticNote("keywords are lower case")],
                  fixIt: FixIt(range: word.range, replacement: word.text.lowercased()))
        } else if word.text != "from", Grammar.allOptions.contains(word.text) {
            let owners = listed(Grammar.operations(taking: word.text))
            error(.unknownOperation(word.text), word.range,
                  notes: [DiagnosticNote("'\(word.text)' is an option of \(owners); write it after the operation, on the same line")])
        } else if let guess = closestMatch(to: word.text, among: candidates) {
            error(.unknownOperation(word.text), word.range, notes: [DiagnosticNote("did you mean '\(guess)'?")],
                  fixIt: FixIt(range: word.range, replacement: guess))
        } else {
            error(.unknownOperation(word.text), word.range,
                  notes: [DiagnosticNote("known operations: " + Grammar.operationKeywords.joined(separator: ", "))])
        }
    }

    private var headerIsClosed: Bool { syntax.input != nil || !syntax.layers.isEmpty }

    private mutating func parseNetwork(_ keyword: Token, _ arguments: [Token]) {
        if let existing = syntax.name {
            error(.duplicateStatement("network"), keyword.range, notes: [DiagnosticNote("first given here", at: existing.range)])
            return
        }
        if headerIsClosed || syntax.strict != nil {
            error(.misplacedHeader("network"), keyword.range, notes: [DiagnosticNote("'network NAME' must be the first statement")])
        }
        guard let nameToken = arguments.first else {
            error(.missingArgument(what: "a name", op: "network"), keyword.range, notes: [DiagnosticNote("write 'network NAME'")])
            return
        }
        guard Lexer.isName(nameToken.text) else {
            error(.invalidName(nameToken.text), nameToken.range)
            return
        }
        for extra in arguments.dropFirst() { error(.unexpectedWord(word: extra.text, op: "network"), extra.range) }
        syntax.name = Located(nameToken.text, nameToken.range)
    }

    private mutating func parseStrict(_ keyword: Token, _ arguments: [Token]) {
        if let existing = syntax.strict {
            error(.duplicateStatement("strict"), keyword.range, notes: [DiagnosticNote("first given here", at: existing)])
            return
        }
        if headerIsClosed { error(.misplacedHeader("strict"), keyword.range) }
        for extra in arguments { error(.unexpectedWord(word: extra.text, op: "strict"), extra.range) }
        syntax.strict = keyword.range
    }

    private mutating func parseInput(_ keyword: Token, _ arguments: [Token]) {
        if let existing = syntax.input {
            error(.duplicateStatement("input"), keyword.range, notes: [DiagnosticNote("first given here", at: existing.keyword)])
            return
        }
        syntax.inputWritten = true
        guard let sizeToken = arguments.first else {
            error(.missingArgument(what: "a size", op: "input"), keyword.range,
                  notes: [DiagnosticNote("write 'input WxHxD' (e.g. 'input 32x32x1') or 'input N' for a vector")])
            return
        }
        for extra in arguments.dropFirst() { error(.unexpectedWord(word: extra.text, op: "input"), extra.range) }
        switch readSize(sizeToken, maxParts: 3) {
        case .size(let parts) where parts.count == 3 || parts.count == 1:
            syntax.input = InputSyntax(dimensions: Located(parts, sizeToken.range), keyword: keyword.range)
        case .size:
            error(.invalidInputSize(sizeToken.text), sizeToken.range,
                  notes: [DiagnosticNote("add the depth, e.g. '\(sizeToken.text)x1' for one channel or '\(sizeToken.text)x3' for colour")],
                  fixIt: FixIt(range: sizeToken.range, replacement: sizeToken.text + "x1"))
        case .problem(let diagnostic):
            report(diagnostic)
        }
    }
}

enum SizeReading {
    case size([Int])
    case problem(Diagnostic)
}

/// Reads a size word: `5`, `5x3`, `227x227x3`.
func readSize(_ token: Token, maxParts: Int) -> SizeReading {
    if let values = plainSize(token.text, maxParts: maxParts) { return .size(values) }
    let parts = token.text.split(separator: "x", omittingEmptySubsequences: false)
    guard parts.count <= maxParts, parts.allSatisfy(Lexer.isAllDigits) else {
        var notes: [DiagnosticNote] = []
        var fixIt: FixIt?
        if token.text.contains("X") {
            let lower = token.text.replacingOccurrences(of: "X", with: "x")
            notes.append(DiagnosticNote("sizes use a lower-case 'x': '\(lower)'"))
            fixIt = FixIt(range: token.range, replacement: lower)
        } else if parts.count > maxParts {
            notes.append(DiagnosticNote(maxParts == 2 ? "expected W or WxH here" : "expected at most \(maxParts) numbers"))
        }
        return .problem(Diagnostic(.invalidSize(token.text), at: token.range, notes: notes, fixIt: fixIt))
    }
    var values: [Int] = []
    for part in parts {
        guard let value = Int(part) else {
            return .problem(Diagnostic(.numberTooLarge(String(part)), at: token.range))
        }
        values.append(value)
    }
    return .size(values)
}

/// The numbers of a well-formed size word (`3x3`), read straight from its bytes; nil for
/// anything else, which `readSize` reads the slow way to say what is wrong.
private func plainSize(_ text: String, maxParts: Int) -> [Int]? {
    var values: [Int] = []
    var value = 0
    var digits = 0
    for byte in text.utf8 {
        if byte == UInt8(ascii: "x") {
            guard digits > 0, values.count + 1 < maxParts else { return nil }
            values.append(value)
            value = 0
            digits = 0
        } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            guard !o1 && !o2 else { return nil }
            value = sum
            digits += 1
        } else {
            return nil
        }
    }
    guard digits > 0 else { return nil }
    values.append(value)
    return values
}

extension String {
    func replacingOccurrences(of a: Character, with b: Character) -> String {
        String(map { $0 == a ? b : $0 })
    }
}
