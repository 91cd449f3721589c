/// Reads the words after an operation keyword: positional arguments first, then options in
/// any order, `from NAME`, and a trailing activation where the operation allows one.
struct LayerReader {
    let keyword: Token
    private let words: [Token]
    private var position = 0
    /// Options already given on this line, with where (a few at most, so a list, not a dictionary).
    private var seen: [(option: String, range: SourceRange)] = []
    private(set) var diagnostics: [Diagnostic] = []
    private(set) var from: Located<String>?
    private(set) var activation: Located<ActivationSyntax>?
    /// The word the trailing activation was read from, to explain a misread layer name.
    private var activationWord: Token?
    /// The layers above this line, for saying which one a misread name was.
    private let earlierLayers: [LayerSyntax]
    /// How many problems this line may still report; past it, the rest of the line is skipped.
    private let budget: Int
    private(set) var truncated = false

    private var op: String { keyword.text }
    /// `Grammar.options(of: op)`, looked up once per line rather than once per word.
    private let options: [String]

    init(keyword: Token, arguments: [Token], budget: Int = .max, earlierLayers: [LayerSyntax] = []) {
        self.keyword = keyword
        self.words = arguments
        self.budget = budget
        self.earlierLayers = earlierLayers
        self.options = Grammar.options(of: keyword.text)
    }

    /// The operation, or nil when a required part is missing or unreadable.
    mutating func read() -> OperationSyntax? {
        switch op {
        case "conv":
            if let first = peek(), first.text.contains("x"), Lexer.isAllDigits(Substring(first.text.filter { $0 != "x" })),
               words.count < 2 || isOptionWord(words[1].text) {
                // `conv 5x5`: the kernel is there, the filter count is not.
                error(.missingArgument(what: "the number of filters K", op: op), first.range,
                      notes: [DiagnosticNote("write '\(Grammar.form(of: op))', e.g. 'conv 6 \(first.text)'")],
                      fixIt: FixIt(range: first.range, replacement: "6 " + first.text))
                readOptions { _, _ in true }
                return nil
            }
            let filters = positionalInteger("the number of filters K")
            let kernel = positionalSize("a kernel size FwxFh")
            var options = WindowOptions()
            var groups: Located<Int>?
            var bias = true
            readOptions { reader, word in
                if reader.windowOption(word, into: &options) { return true }
                switch word.text {
                case "groups": groups = reader.integerValue(after: word)
                case "nobias": bias = false
                default: return false
                }
                return true
            }
            guard let filters, let kernel else { return nil }
            return .conv(filters: filters, window: options.window(kernel), groups: groups, bias: bias)
        case "deconv":
            let filters = positionalInteger("the number of output channels K")
            let kernel = positionalSize("a kernel size FwxFh")
            var options = WindowOptions()
            var outputPadding: Located<SizeSyntax>?
            var groups: Located<Int>?
            var bias = true
            readOptions { reader, word in
                if reader.windowOption(word, into: &options) { return true }
                switch word.text {
                case "outpad": outputPadding = reader.sizeValue(after: word)
                case "groups": groups = reader.integerValue(after: word)
                case "nobias": bias = false
                default: return false
                }
                return true
            }
            if let padding = options.padding, padding.value == .same || padding.value == .fit {
                // torch's ConvTranspose2d has no 'same'; its output size is set by outpad instead.
                error(.expectedValue(what: "a padding P or PwxPh", after: "pad", found: padding.value == .same ? "same" : "fit"), padding.range,
                      notes: [DiagnosticNote("a transposed convolution's output is (W − 1)·S − 2P + D·(F − 1) + A + 1; choose P and outpad A")])
                return nil
            }
            guard let filters, let kernel else { return nil }
            return .transposedConv(filters: filters, window: options.window(kernel), outputPadding: outputPadding, groups: groups, bias: bias)
        case "upsample":
            let scale = positionalSize("a scale factor S or SwxSh")
            var mode = UpsampleMode.nearest
            var modeWord: Token?
            var alignCorners: SourceRange?
            readOptions { _, word in
                switch word.text {
                case "nearest", "bilinear":
                    mode = word.text == "nearest" ? .nearest : .bilinear
                    modeWord = word
                case "aligncorners": alignCorners = word.range
                default: return false
                }
                return true
            }
            if let alignCorners, mode != .bilinear {
                error(.alignCornersNeedsBilinear, alignCorners,
                      notes: [DiagnosticNote(modeWord == nil ? "the mode is nearest unless 'bilinear' is written" : "torch's align_corners needs an interpolating mode")])
                return nil
            }
            guard let scale else { return nil }
            return .upsample(scale: scale, mode: mode, alignCorners: alignCorners)
        case "depthwise":
            let kernel = positionalSize("a kernel size FwxFh")
            var options = WindowOptions()
            var multiplier: Located<Int>?
            var bias = true
            readOptions { reader, word in
                if reader.windowOption(word, into: &options) { return true }
                switch word.text {
                case "multiplier": multiplier = reader.integerValue(after: word)
                case "nobias": bias = false
                default: return false
                }
                return true
            }
            guard let kernel else { return nil }
            return .depthwise(window: options.window(kernel), multiplier: multiplier, bias: bias)
        case "maxpool", "avgpool":
            let kernel = positionalSize("a window size FwxFh")
            var options = WindowOptions()
            var ceil = false
            readOptions { reader, word in
                if word.text == "dilation" || word.text == "padmode" { return false }
                if reader.windowOption(word, into: &options) { return true }
                guard word.text == "round" else { return false }
                guard let value = reader.next() else {
                    reader.error(.expectedValue(what: "'floor' or 'ceil'", after: "round", found: nil), word.range)
                    return true
                }
                switch value.text {
                case "ceil": ceil = true
                case "floor": ceil = false
                default: reader.error(.expectedValue(what: "'floor' or 'ceil'", after: "round", found: value.text), value.range)
                }
                return true
            }
            guard let kernel else { return nil }
            return .pool(op == "maxpool" ? .max : .average, window: options.window(kernel), ceil: ceil)
        case "globalavgpool", "globalmaxpool":
            readOptions { _, _ in false }
            return .globalPool(op == "globalmaxpool" ? .max : .average)
        case "fc":
            let outputs = positionalInteger("the number of neurons N")
            readOptions { _, _ in false }
            guard let outputs else { return nil }
            return .fullyConnected(outputs: outputs)
        case "layerscale":
            readOptions { _, _ in false }
            return .layerScale
        case "pointwise":
            let outputs = positionalInteger("the number of outputs N")
            var bias = true
            readOptions { _, word in
                guard word.text == "nobias" else { return false }
                bias = false
                return true
            }
            guard let outputs else { return nil }
            return .pointwise(outputs: outputs, bias: bias)
        case "flatten":
            readOptions { _, _ in false }
            return .flatten
        case "dropout":
            let probability = positionalDecimal("a probability P")
            readOptions { _, _ in false }
            guard let probability else { return nil }
            guard probability.value >= 0 && probability.value < 1 else {
                error(.valueOutOfRange(what: "the dropout probability", value: formatDecimal(probability.value), range: "at least 0 and below 1"), probability.range)
                return nil
            }
            return .dropout(probability: probability)
        case "batchnorm", "layernorm":
            var epsilon: Located<Double>?
            readOptions { reader, word in
                guard word.text == "eps" else { return false }
                epsilon = reader.decimalValue(after: word)
                if let e = epsilon, !(e.value > 0) {
                    reader.error(.valueOutOfRange(what: "eps", value: formatDecimal(e.value), range: "above 0"), e.range)
                }
                return true
            }
            return op == "layernorm" ? .layerNorm(epsilon: epsilon) : .batchNorm(epsilon: epsilon)
        case "lrn":
            var size: Located<Int>?
            var alpha, beta, k: Located<Double>?
            readOptions { reader, word in
                switch word.text {
                case "size": size = reader.integerValue(after: word)
                case "alpha": alpha = reader.decimalValue(after: word)
                case "beta": beta = reader.decimalValue(after: word)
                case "k": k = reader.decimalValue(after: word)
                default: return false
                }
                return true
            }
            if let k, !(k.value > 0) {
                error(.valueOutOfRange(what: "k", value: formatDecimal(k.value), range: "above 0"), k.range)
            }
            return .lrn(size: size, alpha: alpha, beta: beta, k: k)
        case "slice":
            let start = positionalInteger("the first channel FROM")
            let end = positionalInteger("the end channel TO (exclusive)")
            readOptions { _, _ in false }
            guard let start, let end else { return nil }
            guard end.value > start.value else {
                error(.valueOutOfRange(what: "the end channel", value: "\(end.value)", range: "above the first channel \(start.value)"), end.range,
                      notes: [DiagnosticNote("'slice FROM TO' keeps channels FROM..<TO, as torch's x[:, FROM:TO]")])
                return nil
            }
            return .slice(from: start, to: end)
        case "adaptiveavgpool":
            let size = positionalSize("an output size WxH")
            readOptions { _, _ in false }
            guard let size else { return nil }
            return .adaptiveAveragePool(size)
        case "maxout":
            let pieces = positionalInteger("the number of pieces K")
            readOptions { _, _ in false }
            guard let pieces else { return nil }
            return .maxout(pieces: pieces)
        case "shuffle":
            let groups = positionalInteger("the number of groups G")
            readOptions { _, _ in false }
            guard let groups else { return nil }
            return .shuffle(groups: groups)
        case "relu", "sigmoid", "tanh", "softmax", "relu6", "hardswish", "hardsigmoid", "silu":
            readOptions { _, _ in false }
            return .activation(plainActivation(op))
        case "gelu":
            let approximate = peek()?.text == "tanh"
            if approximate { position += 1 }
            readOptions { _, _ in false }
            return .activation(.gelu(tanh: approximate))
        case "leakyrelu", "elu":
            let parameter = optionalPositionalDecimal()
            readOptions { _, _ in false }
            return .activation(op == "elu" ? .elu(parameter?.value) : .leakyRelu(parameter?.value))
        case "add", "concat", "mul":
            var sources: [Located<String>] = []
            readOptions { reader, word in
                guard word.text != "from" else {
                    reader.error(.fromNotAllowed(reader.op), word.range, notes: [DiagnosticNote("list the layers to combine: '\(Grammar.form(of: reader.op))'")])
                    _ = reader.next()
                    return true
                }
                guard Lexer.isName(word.text), !reader.isTrailingActivation(word) else { return false }
                sources.append(Located(word.text, word.range))
                return true
            }
            guard sources.count >= 2 else {
                reportTooFewSources(sources)
                return nil
            }
            switch op {
            case "add": return .add(sources: sources)
            case "concat": return .concat(sources: sources)
            default: return .multiply(sources: sources)
            }
        default:
            return nil
        }
    }

    // MARK: Positional arguments

    private mutating func next() -> Token? {
        guard !truncated, position < words.count else { return nil }
        defer { position += 1 }
        return words[position]
    }

    private func peek() -> Token? { !truncated && position < words.count ? words[position] : nil }

    private mutating func positionalInteger(_ what: String) -> Located<Int>? {
        guard let word = peek(), !isOptionWord(word.text) else {
            missing(what)
            return nil
        }
        position += 1
        return integer(word, what: what)
    }

    private mutating func positionalSize(_ what: String) -> Located<SizeSyntax>? {
        guard let word = peek(), !isOptionWord(word.text) else {
            missing(what)
            return nil
        }
        position += 1
        return size(word)
    }

    private mutating func positionalDecimal(_ what: String) -> Located<Double>? {
        guard let word = peek(), !isOptionWord(word.text) else {
            missing(what)
            return nil
        }
        position += 1
        return decimal(word)
    }

    private mutating func optionalPositionalDecimal() -> Located<Double>? {
        guard let word = peek(), Lexer.isDecimal(word.text) else { return nil }
        position += 1
        return decimal(word)
    }

    private mutating func missing(_ what: String) {
        let at = peek()?.range ?? SourceRange(start: keyword.range.end, end: keyword.range.end)
        error(.missingArgument(what: what, op: op), peek() == nil ? keyword.range : at,
              notes: [DiagnosticNote("write '\(Grammar.form(of: op))'")])
    }

    private func isOptionWord(_ text: String) -> Bool {
        options.contains(text) || Grammar.activationKeywords.contains(text)
    }

    // MARK: Options

    /// Reads the remaining words; `handle` takes an option word and reads its value, or
    /// returns false when the word is not one of the operation's own options.
    private mutating func readOptions(_ handle: (inout LayerReader, Token) -> Bool) {
        while let word = next() {
            if word.text != "from" && !Grammar.activationKeywords.contains(word.text), let first = seen.first(where: { $0.option == word.text })?.range,
               options.contains(word.text) {
                error(.duplicateOption(word.text), word.range, notes: [DiagnosticNote("first given here", at: first)])
            }
            if options.contains(word.text), !seen.contains(where: { $0.option == word.text }) { seen.append((word.text, word.range)) }
            if word.text == "from" && !Grammar.namesItsInputs(op) {
                if let first = from {
                    error(.duplicateOption("from"), word.range, notes: [DiagnosticNote("first given here", at: first.range)])
                }
                guard let source = next() else {
                    error(.expectedValue(what: "a layer name", after: "from", found: nil), word.range)
                    continue
                }
                guard Lexer.isName(source.text) else {
                    error(.invalidName(source.text), source.range)
                    continue
                }
                from = Located(source.text, source.range)
                continue
            }
            if handle(&self, word) { continue }
            if Grammar.activationKeywords.contains(word.text) {
                readActivation(word)
                continue
            }
            reportUnexpected(word)
        }
    }

    /// In `add a b relu`, an activation keyword that ends the line (with leakyrelu's or elu's
    /// number, or gelu's `tanh`, after it) is the trailing activation, even when a layer is
    /// named `relu`.
    fileprivate func isTrailingActivation(_ word: Token) -> Bool {
        guard Grammar.activationKeywords.contains(word.text) else { return false }
        let rest = words[position...]
        if rest.isEmpty { return true }
        return rest.count == 1 && takesModifier(word.text, rest.first!.text)
    }

    /// `leakyrelu 0.2`, `elu 0.5` and `gelu tanh`: the word after the activation belongs to it.
    private func takesModifier(_ activation: String, _ next: String) -> Bool {
        switch activation {
        case "leakyrelu", "elu": Lexer.isDecimal(next)
        case "gelu": next == "tanh"
        default: false
        }
    }

    private mutating func readActivation(_ word: Token) {
        guard Grammar.activatable.contains(op) else {
            error(.activationNotAllowed(activation: word.text, op: op), word.range,
                  notes: [DiagnosticNote("put '\(word.text)' on a line of its own after this layer")])
            if let value = peek(), takesModifier(word.text, value.text) { position += 1 }
            return
        }
        var parsed: ActivationSyntax = plainActivation(word.text)
        var range = word.range
        if word.text == "gelu", let value = peek(), value.text == "tanh" {
            position += 1
            parsed = .gelu(tanh: true)
            range = range.extended(to: value.range)
        }
        if word.text == "leakyrelu" || word.text == "elu" {
            var parameter: Double?
            if let value = peek(), Lexer.isDecimal(value.text) {
                position += 1
                parameter = decimal(value)?.value
                range = range.extended(to: value.range)
            }
            parsed = word.text == "elu" ? .elu(parameter) : .leakyRelu(parameter)
        }
        if let first = activation {
            error(.duplicateOption("activation"), word.range, notes: [DiagnosticNote("first given here", at: first.range)])
            return
        }
        activation = Located(parsed, range)
        activationWord = word
    }

    /// `concat b relu` with a layer named `relu`: the last word is the activation (the rule
    /// of docs/language.md), so say so, and how to name that layer: anywhere but last.
    private mutating func reportTooFewSources(_ sources: [Located<String>]) {
        let form = DiagnosticNote("write '\(Grammar.form(of: op))'")
        guard let word = activationWord else {
            error(.needsTwoSources(op), keyword.range, notes: [form])
            return
        }
        let read = "the last word, '\(word.text)', is read as the activation applied to the result"
        guard let layer = earlierLayers.first(where: { $0.name?.value == word.text })?.name else {
            error(.needsTwoSources(op), keyword.range, notes: [DiagnosticNote(read), form])
            return
        }
        let reordered = ([word.text] + sources.map(\.value)).joined(separator: " ")
        let fixIt = sources.first.map { FixIt(range: $0.range.extended(to: word.range), replacement: reordered) }
        error(.needsTwoSources(op), keyword.range,
              notes: [DiagnosticNote(read + ", not as the layer '\(word.text)'; an operand written before the last word is always a layer: '\(op) \(reordered)'"),
                      DiagnosticNote("the layer '\(word.text)' is defined here", at: layer.range)],
              fixIt: activation?.range == word.range ? fixIt : nil)
    }

    private mutating func reportUnexpected(_ word: Token) {
        let options = self.options + (Grammar.activatable.contains(op) ? Grammar.activationKeywords : [])
        let form = DiagnosticNote("write '\(Grammar.form(of: op))'")
        guard Lexer.isName(word.text) else {
            // `relu 6`: a keyword split in two reads as relu and a stray number.
            if position >= 2, case let before = words[position - 2], Grammar.activationKeywords.contains(before.text + word.text),
               before.range.end == SourceLocation(line: word.range.start.line, column: word.range.start.column - 1) {
                let meant = before.text + word.text
                error(.unexpectedWord(word: word.text, op: op), word.range, notes: [DiagnosticNote("did you mean '\(meant)'?"), form],
                      fixIt: FixIt(range: before.range.extended(to: word.range), replacement: meant))
                return
            }
            error(.unexpectedWord(word: word.text, op: op), word.range, notes: [form])
            return
        }
        if let (note, fixIt) = habit(word) {
            error(.unknownOption(word: word.text, op: op), word.range, notes: [note, form], fixIt: fixIt)
            return
        }
        let lower = word.text.lowercased()
        if lower != word.text, options.contains(lower) {
            error(.unknownOption(word: word.text, op: op), word.range, notes: [DiagnosticNote("keywords are lower case"), form],
                  fixIt: FixIt(range: word.range, replacement: lower))
            skipValue(of: lower)
        } else if Grammar.allOptions.contains(word.text) {
            // Right elsewhere: an edit-distance guess would name a wrong keyword (`eps` → `elu`).
            let owners = listed(Grammar.operations(taking: word.text))
            error(.unknownOption(word: word.text, op: op), word.range,
                  notes: [DiagnosticNote("'\(word.text)' is an option of \(owners), not of \(op)"), form])
            skipValue(of: word.text)
        } else if Grammar.operationKeywords.contains(word.text) {
            error(.unknownOption(word: word.text, op: op), word.range,
                  notes: [DiagnosticNote("'\(word.text)' is an operation; put it on a line of its own"), form])
        } else if let guess = closestMatch(to: word.text, among: options) {
            error(.unknownOption(word: word.text, op: op), word.range, notes: [DiagnosticNote("did you mean '\(guess)'?"), form],
                  fixIt: FixIt(range: word.range, replacement: guess))
            skipValue(of: guess)
        } else {
            error(.unknownOption(word: word.text, op: op), word.range, notes: [form])
            skipValue(of: word.text)
        }
    }

    /// Another framework's spelling (`padding same`), a value without its option (`same`), or
    /// `activation relu`: what was meant, as a note and a fix-it; a value it covers is consumed.
    private mutating func habit(_ word: Token) -> (DiagnosticNote, FixIt?)? {
        if let option = Grammar.habits[word.text] {
            let value = peek().flatMap { isOptionWord($0.text) ? nil : $0 }
            guard !option.isEmpty else {
                if value != nil { position += 1 }
                return (DiagnosticNote("cnnc has no '\(word.text)'; the sizes are positional"), nil)
            }
            var meant = option
            var range = word.range
            if Grammar.optionsWithValues.contains(option), let value {
                position += 1
                meant += " " + value.text
                range = range.extended(to: value.range)
            }
            guard options.contains(option) else {
                let owners = listed(Grammar.operations(taking: option))
                return (DiagnosticNote("cnnc writes '\(word.text)' as '\(option)', an option of \(owners), not of \(op)"), nil)
            }
            return (DiagnosticNote("did you mean '\(meant)'?"), FixIt(range: range, replacement: meant))
        }
        if let option = Grammar.valueOwners[word.text], options.contains(option) {
            let meant = option + " " + word.text
            return (DiagnosticNote("did you mean '\(meant)'?"), FixIt(range: word.range, replacement: meant))
        }
        if word.text == "activation", Grammar.activatable.contains(op), let next = peek(), Grammar.activationKeywords.contains(next.text) {
            // The activation itself is still read, from the next word.
            return (DiagnosticNote("did you mean '\(next.text)'? an activation is written alone, last on the line"),
                    FixIt(range: word.range.extended(to: next.range), replacement: next.text))
        }
        return nil
    }

    /// After a misspelt or misplaced option, skip its value so it is not reported a second time.
    private mutating func skipValue(of option: String) {
        if Grammar.optionsWithValues.contains(option), let value = peek(), !isOptionWord(value.text) { position += 1 }
    }

    /// Stride, pad and dilation, shared by the windowed operations.
    private mutating func windowOption(_ word: Token, into options: inout WindowOptions) -> Bool {
        switch word.text {
        case "stride":
            options.stride = sizeValue(after: word)
        case "dilation":
            options.dilation = sizeValue(after: word)
        case "padmode":
            let modes = PaddingMode.allCases.map(\.rawValue)
            let what = "a padding mode (" + modes.joined(separator: ", ") + ")"
            guard let value = next() else {
                error(.expectedValue(what: what, after: "padmode", found: nil), word.range)
                return true
            }
            guard let mode = PaddingMode(rawValue: value.text) else {
                error(.expectedValue(what: what, after: "padmode", found: value.text), value.range)
                return true
            }
            options.paddingMode = Located(mode, value.range)
        case "pad":
            guard let value = next() else {
                error(.expectedValue(what: "a padding (P, PwxPh, same, valid or fit)", after: "pad", found: nil), word.range)
                return true
            }
            switch value.text {
            case "same": options.padding = Located(.same, value.range)
            case "valid": options.padding = Located(.valid, value.range)
            case "fit": options.padding = Located(.fit, value.range)
            default:
                if let size = size(value) { options.padding = Located(.explicit(size.value), value.range) }
            }
        default:
            return false
        }
        return true
    }

    private mutating func sizeValue(after word: Token) -> Located<SizeSyntax>? {
        guard let value = next() else {
            error(.expectedValue(what: "a size", after: word.text, found: nil), word.range)
            return nil
        }
        return size(value)
    }

    private mutating func integerValue(after word: Token) -> Located<Int>? {
        guard let value = next() else {
            error(.expectedValue(what: "a whole number", after: word.text, found: nil), word.range)
            return nil
        }
        return integer(value, what: "a whole number after '\(word.text)'")
    }

    private mutating func decimalValue(after word: Token) -> Located<Double>? {
        guard let value = next() else {
            error(.expectedValue(what: "a number", after: word.text, found: nil), word.range)
            return nil
        }
        return decimal(value)
    }

    // MARK: Values

    private mutating func integer(_ token: Token, what: String) -> Located<Int>? {
        guard Lexer.isAllDigits(Substring(token.text)) else {
            if Lexer.isDecimal(token.text) || token.text.contains("x") {
                error(.invalidNumber(token.text), token.range, notes: [DiagnosticNote("expected \(what), a whole number")])
            } else {
                error(.invalidNumber(token.text), token.range, notes: [DiagnosticNote("write '\(Grammar.form(of: op))'")])
            }
            return nil
        }
        guard let value = Int(token.text) else {
            error(.numberTooLarge(token.text), token.range)
            return nil
        }
        return Located(value, token.range)
    }

    private mutating func size(_ token: Token) -> Located<SizeSyntax>? {
        switch readSize(token, maxParts: 2) {
        case .size(let parts):
            let size = parts.count == 1 ? SizeSyntax(square: parts[0]) : SizeSyntax(width: parts[0], height: parts[1])
            return Located(size, token.range)
        case .problem(let diagnostic):
            report(diagnostic)
            return nil
        }
    }

    private mutating func decimal(_ token: Token) -> Located<Double>? {
        guard Lexer.isDecimal(token.text), let value = Double(token.text), value.isFinite else {
            error(.invalidNumber(token.text), token.range)
            return nil
        }
        return Located(value, token.range)
    }

    private mutating func error(_ message: Message, _ range: SourceRange, notes: [DiagnosticNote] = [], fixIt: FixIt? = nil) {
        report(Diagnostic(message, at: range, notes: notes, fixIt: fixIt))
    }

    private mutating func report(_ diagnostic: Diagnostic) {
        guard diagnostics.count < budget else {
            truncated = true  // and so `next` and `peek` read no further
            return
        }
        diagnostics.append(diagnostic)
    }
}

/// The options every windowed operation shares, gathered before the window is built.
private struct WindowOptions {
    var stride: Located<SizeSyntax>?
    var padding: Located<PaddingSyntax>?
    var dilation: Located<SizeSyntax>?
    var paddingMode: Located<PaddingMode>?

    func window(_ kernel: Located<SizeSyntax>) -> WindowSyntax {
        WindowSyntax(kernel: kernel, stride: stride, padding: padding, dilation: dilation, paddingMode: paddingMode)
    }
}

private func plainActivation(_ word: String) -> ActivationSyntax {
    switch word {
    case "sigmoid": .sigmoid
    case "tanh": .tanh
    case "softmax": .softmax
    case "leakyrelu": .leakyRelu(nil)
    case "elu": .elu(nil)
    case "relu6": .relu6
    case "hardswish": .hardswish
    case "hardsigmoid": .hardsigmoid
    case "silu": .silu
    case "gelu": .gelu(tanh: false)
    default: .relu
    }
}

func formatDecimal(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : "\(value)"
}
