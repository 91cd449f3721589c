import Parser

/// What cnnc agrees to hold: no tensor, activation or weight, of more elements than this
/// (8 GiB of float32). Checking itself allocates nothing, but a network past this could not run.
public enum Limits {
    public static let maxTensorElements = 1 << 31
}

/// Syntax tree → checked network: names, inputs, shapes, parameters and MACs, or the reasons
/// why not. Every layer is checked even after an error; a layer whose input failed is skipped
/// quietly so one mistake is not reported again for every layer below it.
public func check(_ syntax: NetworkSyntax, defaultName: String, strict: Bool) -> (network: CheckedNetwork?, diagnostics: [Diagnostic]) {
    let checked = check(syntax, defaultName: defaultName, strict: strict, budget: DiagnosticLimit.perFile)
    return (checked.network, checked.diagnostics)
}

/// As `check`, stopping once `budget` problems are reported (`truncated` then says so).
func check(_ syntax: NetworkSyntax, defaultName: String, strict: Bool,
           budget: Int) -> (network: CheckedNetwork?, diagnostics: [Diagnostic], truncated: Bool) {
    var checker = ShapeChecker(syntax: syntax, strict: strict || syntax.strict != nil)
    checker.budget = budget
    let network = checker.run(defaultName: defaultName)
    return (network, checker.diagnostics, checker.truncated)
}

struct ShapeChecker {
    let syntax: NetworkSyntax
    let strict: Bool
    var diagnostics: [Diagnostic] = []
    /// Checking stops once this many problems are reported, and `truncated` is set.
    var budget = DiagnosticLimit.perFile
    var truncated = false
    private var full: Bool { diagnostics.count >= budget }

    init(syntax: NetworkSyntax, strict: Bool) {
        self.syntax = syntax
        self.strict = strict
    }

    /// Each layer's name, in file order; the automatic `OPn` counts every layer of that op.
    static func names(of layers: [LayerSyntax]) -> [String] {
        var counts: [String: Int] = [:]
        return layers.map { layer in
            counts[layer.keyword.value, default: 0] += 1
            return layer.name?.value ?? "\(layer.keyword.value)\(counts[layer.keyword.value]!)"
        }
    }

    mutating func run(defaultName: String) -> CheckedNetwork? {
        guard let inputSyntax = syntax.input else { return nil }  // the parser said so
        let input = checkInput(inputSyntax)
        if syntax.layers.isEmpty && syntax.unreadableStatements == 0 {
            diagnostics.append(Diagnostic(.emptyNetwork, at: inputSyntax.keyword,
                                          notes: [DiagnosticNote("add a layer, e.g. 'conv 6 5x5 relu' or 'fc 10'")]))
            return nil
        }
        guard !syntax.layers.isEmpty else { return nil }
        let names = ShapeChecker.names(of: syntax.layers)
        // Every name's first layer. Above layer i, a name is defined when its first layer is
        // before i; below it, a reference is a forward one.
        var definitions: [String: Int] = [:]
        definitions.reserveCapacity(names.count)
        for (index, name) in names.enumerated() where definitions[name] == nil { definitions[name] = index }
        var layers: [CheckedLayer] = []  // the layers that checked; all of them when the network does
        layers.reserveCapacity(names.count)
        var outputs: [TensorShape?] = []  // each layer's output, nil where it failed to check
        outputs.reserveCapacity(names.count)
        var readers = Array(repeating: 0, count: syntax.layers.count)
        for (index, layerSyntax) in syntax.layers.enumerated() {
            if full {
                truncated = true
                break
            }
            let name = names[index]
            let nameRange = layerSyntax.name?.range ?? layerSyntax.keyword.range
            if let first = definitions[name], first < index {
                diagnostics.append(Diagnostic(.duplicateName(name), at: nameRange,
                                              notes: [DiagnosticNote("first defined here", at: syntax.layers[first].name?.range ?? syntax.layers[first].keyword.range)]
                                                + (layerSyntax.name == nil ? [DiagnosticNote("'\(name)' is the automatic name of this \(layerSyntax.keyword.value); give it a name with '\(layerSyntax.keyword.value)_a: …'")] : [])))
            }
            // Resolve inputs by name against the layers above.
            let references = references(of: layerSyntax)
            var sources: [(input: LayerInput, range: SourceRange?)] = []
            sources.reserveCapacity(max(references.count, 1))
            var resolved = true
            for reference in references {
                if full {
                    truncated = true
                    resolved = false
                    break
                }
                switch resolve(reference, at: index, names: names, definitions: definitions) {
                case .some(let source):
                    if case .layer(let i) = source { readers[i] += 1 }
                    sources.append((source, reference.range))
                case .none:
                    resolved = false
                }
            }
            if references.isEmpty {
                let source: LayerInput = index == 0 ? .networkInput : .layer(index - 1)
                if case .layer(let i) = source { readers[i] += 1 }
                sources.append((source, nil))
            }
            guard resolved, let input else {
                outputs.append(nil)
                continue
            }
            var shapes: [TensorShape] = []
            shapes.reserveCapacity(sources.count)
            for source in sources {
                switch source.input {
                case .networkInput: shapes.append(input)
                case .layer(let i):
                    guard let shape = outputs[i] else { break }
                    shapes.append(shape)
                }
            }
            guard shapes.count == sources.count else {
                outputs.append(nil)  // an input failed to check; its error is already reported
                continue
            }
            var layerChecker = LayerChecker(name: name, syntax: layerSyntax, inputs: shapes,
                                            sourceRanges: sources.map(\.range), strict: strict)
            let checked = layerChecker.check()
            diagnostics += layerChecker.diagnostics
            guard var checked else {
                outputs.append(nil)
                continue
            }
            checked.inputs = sources.map(\.input)
            layers.append(checked)
            outputs.append(checked.output)
        }
        for (index, layerSyntax) in syntax.layers.enumerated().dropLast() where !truncated && readers[index] == 0 && outputs[index] != nil {
            diagnostics.append(Diagnostic(.unusedOutput(names[index]), at: layerSyntax.name?.range ?? layerSyntax.keyword.range,
                                          notes: [DiagnosticNote("only the last layer's output is the network's; read this one with 'from \(names[index])', 'add', 'concat' or 'mul', or remove it")]))
        }
        guard !diagnostics.hasErrors, let input, layers.count == syntax.layers.count else { return nil }
        var network = CheckedNetwork(name: syntax.name?.value ?? defaultName, input: input, layers: layers, strict: strict)
        network.computeReceptiveFields()
        return network
    }

    private func references(of layer: LayerSyntax) -> [Located<String>] {
        switch layer.operation {
        case .add(let sources), .concat(let sources), .multiply(let sources): sources
        default: layer.from.map { [$0] } ?? []
        }
    }

    private mutating func resolve(_ reference: Located<String>, at index: Int, names: [String],
                                  definitions: [String: Int]) -> LayerInput? {
        if let i = definitions[reference.value], i < index { return .layer(i) }
        if reference.value == names[index] {
            diagnostics.append(Diagnostic(.selfReference(reference.value), at: reference.range))
            return nil
        }
        if let later = definitions[reference.value], later > index {
            let definition = syntax.layers[later].name?.range ?? syntax.layers[later].keyword.range
            diagnostics.append(Diagnostic(.forwardReference(reference.value), at: reference.range,
                                          notes: [DiagnosticNote("'\(reference.value)' is defined here, at line \(definition.start.line)", at: definition)]))
            return nil
        }
        if reference.value == "input" { return .networkInput }
        // Suggestions come from the layers just above: a misspelling names a nearby layer, and
        // looking further would make a file of many bad references quadratic.
        let above = names[max(0, index - 256)..<index]
        var suggester = Suggester(reference.value)
        for name in above { suggester.consider(name) }
        suggester.consider("input")
        var notes: [DiagnosticNote] = []
        var fixIt: FixIt?
        if let guess = suggester.best {
            notes.append(DiagnosticNote("did you mean '\(guess)'?"))
            fixIt = FixIt(range: reference.range, replacement: guess)
        } else {
            // A name can be a whole line long; listed under every bad reference, it is shortened.
            let listed = above.suffix(7).map { $0.unicodeScalars.count > 64 ? String($0.unicodeScalars.prefix(63)) + "…" : $0 }
            notes.append(DiagnosticNote("layers above this line: " + (listed + ["input"]).joined(separator: ", ")))
        }
        diagnostics.append(Diagnostic(.unknownLayer(reference.value), at: reference.range, notes: notes, fixIt: fixIt))
        return nil
    }

    private mutating func checkInput(_ input: InputSyntax) -> TensorShape? {
        let dims = input.dimensions.value
        if dims.contains(0) {
            diagnostics.append(Diagnostic(.zeroValue(what: "every input dimension", layer: "input"), at: input.dimensions.range))
            return nil
        }
        guard let count = dims.checkedProduct(), count <= Limits.maxTensorElements else {
            diagnostics.append(Diagnostic(.exceedsLimit(layer: "input", what: "the input size \(dims.map(String.init).joined(separator: "x"))"),
                                          at: input.dimensions.range,
                                          notes: [DiagnosticNote("one image may hold at most \(CheckReport.grouped(Limits.maxTensorElements)) values (8 GiB of float32)")]))
            return nil
        }
        return dims.count == 1 ? .vector(dims[0]) : .volume(width: dims[0], height: dims[1], depth: dims[2])
    }
}

extension Array where Element == Int {
    /// The product, or nil when it overflows (also the readers' element counts).
    public func checkedProduct() -> Int? {
        var product = 1
        for value in self {
            let (result, overflow) = product.multipliedReportingOverflow(by: value)
            if overflow { return nil }
            product = result
        }
        return product
    }
}
