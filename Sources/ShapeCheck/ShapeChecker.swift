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
    var checker = ShapeChecker(syntax: syntax, strict: strict || syntax.strict != nil)
    let network = checker.run(defaultName: defaultName)
    return (network, checker.diagnostics)
}

struct ShapeChecker {
    let syntax: NetworkSyntax
    let strict: Bool
    var diagnostics: [Diagnostic] = []

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
        var definitions: [String: Int] = [:]  // every name's first line, for forward references
        for (index, name) in names.enumerated() where definitions[name] == nil { definitions[name] = index }
        var firstDefinition: [String: Int] = [:]
        var layers: [CheckedLayer?] = []
        var readers = Array(repeating: 0, count: syntax.layers.count)
        for (index, layerSyntax) in syntax.layers.enumerated() {
            let name = names[index]
            let nameRange = layerSyntax.name?.range ?? layerSyntax.keyword.range
            if let first = firstDefinition[name] {
                diagnostics.append(Diagnostic(.duplicateName(name), at: nameRange,
                                              notes: [DiagnosticNote("first defined here", at: syntax.layers[first].name?.range ?? syntax.layers[first].keyword.range)]
                                                + (layerSyntax.name == nil ? [DiagnosticNote("'\(name)' is the automatic name of this \(layerSyntax.keyword.value); give it a name with '\(layerSyntax.keyword.value)_a: …'")] : [])))
            } else {
                firstDefinition[name] = index
            }
            // Resolve inputs by name against the layers above.
            var sources: [(input: LayerInput, range: SourceRange?)] = []
            var resolved = true
            for reference in references(of: layerSyntax) {
                switch resolve(reference, at: index, names: names, defined: firstDefinition, definitions: definitions) {
                case .some(let source):
                    if case .layer(let i) = source { readers[i] += 1 }
                    sources.append((source, reference.range))
                case .none:
                    resolved = false
                }
            }
            if references(of: layerSyntax).isEmpty {
                let source: LayerInput = index == 0 ? .networkInput : .layer(index - 1)
                if case .layer(let i) = source { readers[i] += 1 }
                sources.append((source, nil))
            }
            guard resolved, let input else {
                layers.append(nil)
                continue
            }
            var shapes: [TensorShape] = []
            for source in sources {
                switch source.input {
                case .networkInput: shapes.append(input)
                case .layer(let i):
                    guard let shape = layers[i]?.output else { break }
                    shapes.append(shape)
                }
            }
            guard shapes.count == sources.count else {
                layers.append(nil)  // an input failed to check; its error is already reported
                continue
            }
            var layerChecker = LayerChecker(name: name, syntax: layerSyntax, inputs: shapes,
                                            sourceRanges: sources.map(\.range), strict: strict)
            let checked = layerChecker.check()
            diagnostics += layerChecker.diagnostics
            guard var checked else {
                layers.append(nil)
                continue
            }
            checked.inputs = sources.map(\.input)
            layers.append(checked)
        }
        for (index, layerSyntax) in syntax.layers.enumerated().dropLast() where readers[index] == 0 && layers[index] != nil {
            diagnostics.append(Diagnostic(.unusedOutput(names[index]), at: layerSyntax.name?.range ?? layerSyntax.keyword.range,
                                          notes: [DiagnosticNote("only the last layer's output is the network's; read this one with 'from \(names[index])', 'add' or 'concat', or remove it")]))
        }
        guard !diagnostics.hasErrors, let input else { return nil }
        return CheckedNetwork(name: syntax.name?.value ?? defaultName, input: input,
                              layers: layers.map { $0! }, strict: strict)
    }

    private func references(of layer: LayerSyntax) -> [Located<String>] {
        switch layer.operation {
        case .add(let sources), .concat(let sources): sources
        default: layer.from.map { [$0] } ?? []
        }
    }

    private mutating func resolve(_ reference: Located<String>, at index: Int, names: [String], defined: [String: Int],
                                  definitions: [String: Int]) -> LayerInput? {
        if let i = defined[reference.value], i < index { return .layer(i) }
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
        let known = Array(names[max(0, index - 256)..<index]) + ["input"]
        var notes: [DiagnosticNote] = []
        var fixIt: FixIt?
        if let guess = closestMatch(to: reference.value, among: known) {
            notes.append(DiagnosticNote("did you mean '\(guess)'?"))
            fixIt = FixIt(range: reference.range, replacement: guess)
        } else if !known.isEmpty {
            notes.append(DiagnosticNote("layers above this line: " + known.suffix(8).joined(separator: ", ")))
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
    /// The product, or nil when it overflows.
    func checkedProduct() -> Int? {
        var product = 1
        for value in self {
            let (result, overflow) = product.multipliedReportingOverflow(by: value)
            if overflow { return nil }
            product = result
        }
        return product
    }
}
