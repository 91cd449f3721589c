import Runtime
import ShapeCheck

/// What `cnnc import` is asked for besides the model.
public struct ImportOptions: Sendable {
    /// `--input-shape`, in ONNX's order: [C, H, W] or [N, C, H, W] (or [K], [N, K]).
    public var inputShape: [Int]?
    /// The `network NAME` line.
    public var networkName: String
    /// File names for the header comment.
    public var modelName: String
    public var weightsName: String

    public init(inputShape: [Int]? = nil, networkName: String, modelName: String, weightsName: String) {
        self.inputShape = inputShape
        self.networkName = networkName
        self.modelName = modelName
        self.weightsName = weightsName
    }
}

/// A graph translated into the language: the `.cnn` text and its weights, keyed as cnnc reads them.
public struct ImportedNetwork: Sendable {
    public var text: String
    public var weights: [String: Tensor]
    public var layerCount: Int
    /// The nodes that made layers or constants (those that do not lead to the output are left out).
    public var nodeCount: Int
    public var opset: Int64
    /// Each layer's output, as the import computed it (checked against cnnc's checker).
    public var shapes: [TensorShape]
}

/// The first line of every `.cnn` cnnc import writes contains this, so a later import may
/// replace the file without `--force`.
public let importMarker = "written by cnnc import"

/// Where an activation comes from: a layer line, or the network input (-1).
typealias Ref = Int

enum Value {
    case activation(Ref)
    /// A layer's output seen as [N, H, W, C] after a Transpose [0, 2, 3, 1] (ConvNeXt's
    /// permute): per-position ops keep it so, and the Transpose back makes it an activation.
    case channelsLast(Ref)
    /// Part of a pattern of several nodes that becomes one line (or none) once complete.
    case pending(Pending)
    case constant(ConstantTensor)
    /// Made by a node that could not be imported; its readers are not checked further.
    case poisoned
}

/// One line of the `.cnn` file being written.
struct Line {
    var name: String
    var op: String
    var arguments: [String]
    var inputs: [Ref]
    /// add, concat and mul name their operands; other layers read one input (`from` when it is
    /// not the line above).
    var namesInputs = false
    var activation: String?
    var onnxOps: [String]
    var shape: TensorShape
    var weights: [(suffix: String, tensor: Tensor)] = []
    /// The ONNX value the line computes (before any alias), for the MatMul + Add bias.
    var onnxOutput = ""
    /// An fc made from a MatMul, whose zero bias a following Add may fill.
    var biasFromAdd = false
    /// Named after its weight (a torch parameter path), not after the node.
    var namedByWeight = false

    static let takingActivation: Set<String> = ["conv", "deconv", "depthwise", "fc", "pointwise", "add", "concat", "mul"]
}

/// The graph's nodes, in order, translated into lines; problems are collected, not thrown, so
/// that every node that cannot be imported is reported at once.
struct Importer {
    let model: ONNXModel
    let graph: ONNXGraph
    let opset: Int64
    var values: [String: Value] = [:]
    var lines: [Line] = []
    var names = NameTable()
    var problems: [(index: Int, node: ONNXNode, reason: String?)] = []
    var uses: [String: Int] = [:]
    var inputShape = TensorShape.vector(1)
    var batch = 1
    var initializerNames: Set<String> = []
    var translatedNodes = 0

    init(model: ONNXModel, opset: Int64) {
        self.model = model
        graph = model.graph
        self.opset = opset
    }

    func shape(_ ref: Ref) -> TensorShape { ref < 0 ? inputShape : lines[ref].shape }

    /// The ONNX dimensions of an activation, batch first: [N, C, H, W] or [N, K].
    func onnxDims(_ ref: Ref) -> [Int] {
        let s = shape(ref)
        return s.isVector ? [batch, s.depth] : [batch, s.depth, s.height, s.width]
    }

    // MARK: The input

    /// The one graph input that is not an initializer, fixed with `--input-shape` where it is dynamic.
    mutating func readInput(_ given: [Int]?) throws(ImportError) {
        let inputs = graph.inputs.filter { !initializerNames.contains($0.name) }
        guard inputs.count == 1, let input = inputs.first else {
            if inputs.isEmpty { throw ImportError("the graph has no input (every graph input is an initializer)") }
            throw ImportError("the graph has \(inputs.count) inputs (\(inputs.map { "'\($0.name)'" }.joined(separator: ", "))); "
                + "a cnnc network has one")
        }
        let label = "input '\(input.name)'"
        guard input.isTensor else { throw ImportError("\(label) is not a tensor") }
        if let type = input.elemType, type != ONNXTensor.DataType.float.rawValue {
            throw ImportError("\(label) is \(ONNXTensor.typeName(type)); a cnnc network takes float32 (FLOAT)")
        }
        var dims = input.dims
        if dims == nil, let given {  // no shape in the model: the given one, with or without the batch
            dims = given.count == 3 || given.count == 1 ? [.unknown] + given.map { .value(Int64($0)) } : given.map { .value(Int64($0)) }
        }
        guard let dims else {
            throw ImportError("\(label) has no shape in the model; give it with --input-shape CxHxW")
        }
        guard dims.count == 4 || dims.count == 2 else {
            throw ImportError("\(label) has rank \(dims.count) (\(formatDims(dims))); cnnc imports an image input "
                + "[N, C, H, W] or a vector [N, K]")
        }
        for dim in dims {
            if case .value(let v) = dim, v <= 0 || v > Int64(tensorElementLimit) {
                throw ImportError("\(label) has dimension \(v) in \(formatDims(dims))")
            }
        }
        var resolved: [Int?] = dims.map { if case .value(let v) = $0 { Int(v) } else { nil } }
        if let given {
            let shown = given.map(String.init).joined(separator: "x")
            let full: [Int]
            if given.count == dims.count { full = given } else if given.count == dims.count - 1 { full = [resolved[0] ?? 1] + given } else {
                throw ImportError("--input-shape \(shown) has \(given.count) dimensions, but \(label) is \(formatDims(dims)): give "
                    + (dims.count == 4 ? "CxHxW or NxCxHxW" : "K or NxK"))
            }
            for i in dims.indices {
                if let fixed = resolved[i], fixed != full[i], !(i == 0 && given.count < dims.count) {
                    throw ImportError("--input-shape \(shown) disagrees with \(label) of shape \(formatDims(dims)) at dimension \(i)")
                }
                resolved[i] = full[i]
            }
        }
        if dims.indices.dropFirst().contains(where: { resolved[$0] == nil }) {
            let example = dims.indices.dropFirst().map { resolved[$0].map(String.init) ?? (dims.count == 2 ? "10" : $0 == 1 ? "3" : "224") }
            throw ImportError("\(label) has dynamic dimensions \(formatDims(dims)); give the size of one image with --input-shape "
                + (dims.count == 4 ? "CxHxW" : "K") + ", e.g. --input-shape " + example.joined(separator: "x"))
        }
        batch = resolved[0] ?? 1
        let d = resolved.dropFirst().map { $0! }
        inputShape = d.count == 3 ? .volume(width: d[2], height: d[1], depth: d[0]) : .vector(d[0])
        let (area, overflow) = inputShape.width.multipliedReportingOverflow(by: inputShape.height)
        let (volume, overflow2) = area.multipliedReportingOverflow(by: inputShape.depth)
        guard !overflow, !overflow2, volume <= tensorElementLimit else {
            throw ImportError("\(label) of \(formatDims(dims)) is more than \(tensorElementLimit) values per image")
        }
        values[input.name] = .activation(-1)
    }

    // MARK: The walk

    /// Translates every node the output depends on; returns the problems (empty when all went well).
    mutating func run(inputShape given: [Int]?) throws(ImportError) {
        for tensor in graph.initializers {
            initializerNames.insert(tensor.name)
        }
        try readInput(given)
        guard graph.outputs.count == 1, let output = graph.outputs.first else {
            throw ImportError(graph.outputs.isEmpty ? "the graph has no output"
                : "the graph has \(graph.outputs.count) outputs (\(graph.outputs.map { "'\($0.name)'" }.joined(separator: ", "))); a cnnc network has one")
        }
        let needed = neededNodes(for: output.name)
        for index in graph.nodes.indices where needed[index] {
            for name in graph.nodes[index].inputs where !name.isEmpty { uses[name, default: 0] += 1 }
        }
        uses[output.name, default: 0] += 1
        let initializers = Dictionary(graph.initializers.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        for index in graph.nodes.indices where needed[index] {
            let node = graph.nodes[index]
            var inputs: [Value?] = []
            var unknown: String?
            for name in node.inputs {
                if name.isEmpty { inputs.append(nil); continue }
                if let value = values[name] { inputs.append(value); continue }
                if let tensor = initializers[name] {
                    do {
                        let value = Value.constant(try tensor.constant())
                        values[name] = value
                        inputs.append(value)
                    } catch {
                        problem(index, node, error.message)
                        values[name] = .poisoned
                        inputs.append(.poisoned)
                    }
                    continue
                }
                unknown = unknown ?? name
                inputs.append(.poisoned)
            }
            if let unknown {
                problem(index, node, "reads '\(unknown)', which is not the graph's input, an initializer or the output of a node before it")
                poison(node)
                continue
            }
            translate(index, node, inputs)
        }
        if !problems.isEmpty { return }
        switch values[output.name] {
        case .activation(let ref)?:
            guard ref >= 0 else { throw ImportError("the graph's output '\(output.name)' is its input; there is no layer to import") }
            // A layer read only for its shape can come after the output's own (a no-op Reshape).
            guard ref == lines.count - 1 else {
                throw ImportError("the graph's output '\(output.name)' is layer '\(lines[ref].name)', but layer '\(lines[lines.count - 1].name)' "
                    + "comes after it; a cnnc network's output is its last layer")
            }
        case .channelsLast?:
            throw ImportError("the graph's output '\(output.name)' is channels-last [N, H, W, C] (a Transpose [0, 2, 3, 1] not undone); "
                + "a cnnc network's output is [N, C, H, W]")
        case .pending(let p)?:
            throw ImportError("the graph's output '\(output.name)' is \(describe(p)); the language has no layer for it")
        case .constant?: throw ImportError("the graph's output '\(output.name)' is a constant; there is no layer to import")
        default: throw ImportError("the graph's output '\(output.name)' is made by no node")
        }
    }

    /// Nodes the output depends on, found backwards from it: the others are left out.
    func neededNodes(for output: String) -> [Bool] {
        var producer: [String: Int] = [:]
        for (index, node) in graph.nodes.enumerated() {
            for name in node.outputs where !name.isEmpty && producer[name] == nil { producer[name] = index }
        }
        var needed = [Bool](repeating: false, count: graph.nodes.count)
        var stack = producer[output].map { [$0] } ?? []
        while let index = stack.popLast() {
            guard !needed[index] else { continue }
            needed[index] = true
            for name in graph.nodes[index].inputs { if let p = producer[name], !needed[p] { stack.append(p) } }
        }
        return needed
    }

    mutating func problem(_ index: Int, _ node: ONNXNode, _ reason: String?) {
        problems.append((index, node, reason))
    }

    mutating func poison(_ node: ONNXNode) {
        for name in node.outputs where !name.isEmpty { values[name] = .poisoned }
    }

    mutating func translate(_ index: Int, _ node: ONNXNode, _ inputs: [Value?]) {
        let domain = node.domain
        guard domain.isEmpty || domain == "ai.onnx" else {
            problem(index, node, nil)
            poison(node)
            return
        }
        // An op only folded (Sub, Gather, …) is unsupported as soon as a layer output reaches it.
        let translated = Self.translatedOps.contains(node.opType)
        let folds = Folding.ops.contains(node.opType) || node.opType == "Shape" || node.opType == "Size"
        let poisoned = inputs.contains { if case .poisoned? = $0 { true } else { false } }
        let constant = inputs.allSatisfy {
            switch $0 {
            case .activation?, .channelsLast?, .pending?: false
            default: true
            }
        }
        let shapeOfLayer = (node.opType == "Shape" || node.opType == "Size") && !poisoned
        if poisoned && translated {  // its reader was refused already; it is not checked further
            poison(node)
            return
        }
        guard translated || (folds && constant && !poisoned) || shapeOfLayer else {
            problem(index, node, nil)
            poison(node)
            return
        }
        do {
            if let folded = try foldIfConstant(node, inputs) {
                guard let first = node.outputs.first else { return }
                values[first] = .constant(folded)
                translatedNodes += 1
                return
            }
            let value = try translateOp(index, node, inputs)
            if let first = node.outputs.first { values[first] = value }
            translatedNodes += 1
        } catch {
            problem(index, node, error.unsupported ? nil : error.message)
            poison(node)
        }
    }

    /// Shape and Size of a layer output are known at import; other ops fold only on constants.
    mutating func foldIfConstant(_ node: ONNXNode, _ inputs: [Value?]) throws(ImportError) -> ConstantTensor? {
        if node.opType == "Shape" || node.opType == "Size", let first = inputs.first, let value = first {
            let dims: [Int]
            switch value {
            case .activation(let ref): dims = onnxDims(ref)
            case .channelsLast(let ref): dims = lastDims(ref)
            case .pending(let p): dims = pendingDims(p)
            case .constant(let c): dims = c.shape
            case .poisoned: return nil
            }
            if node.opType == "Size" { return .int([], [Int64(dims.reduce(1, *))]) }
            let rank = Int64(dims.count)
            func bound(_ name: String, _ fallback: Int64) -> Int {
                let v = node.attribute(name)?.i ?? fallback
                return Int(min(max(v < 0 ? v + rank : v, 0), rank))
            }
            let start = bound("start", 0), end = bound("end", rank)
            let picked = start < end ? dims[start..<end].map { Int64($0) } : []
            return .int([picked.count], picked)
        }
        var constants: [ConstantTensor?] = []
        for input in inputs {
            switch input {
            case nil: constants.append(nil)
            case .constant(let c)?: constants.append(c)
            default: return nil
            }
        }
        if node.opType == "Constant" || !constants.isEmpty {
            guard Folding.ops.contains(node.opType) else {
                throw ImportError("works on constants only here; cnnc import folds constant Constant, Shape, Gather, Unsqueeze, "
                    + "Squeeze, Concat, Reshape, Slice, Cast and arithmetic, and \(node.opType) is not among them")
            }
            return try Folding.fold(node, constants, opset: opset)
        }
        return nil
    }

    // MARK: Inputs and attributes

    func activation(_ node: ONNXNode, _ inputs: [Value?], _ i: Int) throws(ImportError) -> Ref {
        guard i < inputs.count, let value = inputs[i] else { throw ImportError("needs input \(i + 1)") }
        switch value {
        case .activation(let ref): return ref
        case .channelsLast:
            throw ImportError("reads '\(node.inputs[i])', a channels-last [N, H, W, C] tensor (after a Transpose [0, 2, 3, 1]); "
                + "cnnc imports only LayerNormalization, MatMul, Add, Mul, activations and the Transpose back on it")
        case .pending(let p):
            throw ImportError("reads '\(node.inputs[i])', \(describe(p)); the language has no layer for it")
        default:
            throw ImportError("reads the constant '\(node.inputs[i])' as input \(i + 1), where cnnc needs a layer's output")
        }
    }

    /// A layer output in either layout: (ref, channels-last).
    func laidOut(_ node: ONNXNode, _ inputs: [Value?], _ i: Int) throws(ImportError) -> (ref: Ref, last: Bool) {
        if i < inputs.count, case .channelsLast(let ref)? = inputs[i] { return (ref, true) }
        return (try activation(node, inputs, i), false)
    }

    /// A line's result in the layout its input had.
    func value(_ ref: Ref, last: Bool) -> Value { last ? .channelsLast(ref) : .activation(ref) }

    /// The ONNX dimensions of a channels-last activation: [N, H, W, C].
    func lastDims(_ ref: Ref) -> [Int] {
        let d = onnxDims(ref)
        return d.count == 4 ? [d[0], d[2], d[3], d[1]] : d
    }

    func constant(_ node: ONNXNode, _ inputs: [Value?], _ i: Int, _ what: String) throws(ImportError) -> ConstantTensor? {
        guard i < inputs.count, let value = inputs[i] else { return nil }
        guard case .constant(let c) = value else {
            throw ImportError("computes its \(what) ('\(node.inputs[i])') from layer outputs; cnnc needs it known at import "
                + "(an initializer or a Constant)")
        }
        return c
    }

    func int(_ node: ONNXNode, _ name: String, _ fallback: Int64) -> Int64 { node.attribute(name)?.i ?? fallback }
    func float(_ node: ONNXNode, _ name: String, _ fallback: Float) -> Float { node.attribute(name)?.f ?? fallback }
    func ints(_ node: ONNXNode, _ name: String) -> [Int64]? { node.attribute(name).map(\.ints) }

    /// Whether any output past the first is read (BatchNormalization's statistics, MaxPool's indices).
    func readsExtraOutputs(_ node: ONNXNode) -> String? {
        node.outputs.dropFirst().first { !$0.isEmpty && uses[$0, default: 0] > 0 }
    }

    /// A new line; its output is the node's first output, channels-last when `last`.
    mutating func add(_ line: Line, node: ONNXNode, preferred: String?, last: Bool = false) -> Value {
        value(addLine(line, node: node, preferred: preferred), last: last)
    }

    /// The same, giving the line's index (for a value in another layout, or a line after it).
    mutating func addLine(_ line: Line, node: ONNXNode, preferred: String?) -> Ref {
        var line = line
        line.namedByWeight = preferred.flatMap { NameTable.cleaned($0, opType: "") } != nil
        line.name = names.unique(candidates: [preferred.flatMap { NameTable.cleaned($0, opType: "") },
                                              NameTable.cleaned(node.name, opType: node.opType),
                                              node.outputs.first.flatMap { NameTable.cleaned($0, opType: node.opType) }],
                                 fallback: line.op)
        line.onnxOutput = node.outputs.first ?? ""
        lines.append(line)
        return lines.count - 1
    }

    /// The stem of a weight initializer named like a torch parameter (`layer1.0.conv1.weight`),
    /// so the layer keeps torch's module path.
    /// One read by several nodes is not (the dynamo exporter merges initializers of equal values).
    func weightStem(_ node: ONNXNode, _ i: Int, suffix: String = ".weight") -> String? {
        guard i < node.inputs.count, initializerNames.contains(node.inputs[i]), node.inputs[i].hasSuffix(suffix),
              uses[node.inputs[i], default: 0] == 1 else { return nil }
        return String(node.inputs[i].dropLast(suffix.count))
    }
}

func formatDims(_ dims: [ONNXValueInfo.Dimension]) -> String {
    "[" + dims.map(\.description).joined(separator: ", ") + "]"
}

/// Layer names: valid in the language (`[A-Za-z_][A-Za-z0-9_.-]*`) and unique; `input` is
/// kept for the network's input.
struct NameTable {
    private var taken: Set<String> = ["input"]
    /// The next suffix to try for a name, so a graph of many same-named nodes stays linear.
    private var next: [String: Int] = [:]

    static func isValid(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first,
              (first >= "A" && first <= "Z") || (first >= "a" && first <= "z") || first == "_" else { return false }
        return name.unicodeScalars.allSatisfy { isNameCharacter($0) }
    }

    static func isNameCharacter(_ c: Unicode.Scalar) -> Bool {
        (c >= "A" && c <= "Z") || (c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "_" || c == "." || c == "-"
    }

    /// A graph name made a layer name: torch's scope paths (`/layer1/layer1.0/conv1/Conv`) lose
    /// the scopes the next one repeats and the op type at the end (`layer1.0.conv1`); other
    /// characters become `_`. Nil when nothing usable is left (a bare number such as `123`).
    static func cleaned(_ raw: String, opType: String) -> String? {
        var parts = raw.split(separator: "/").map(String.init)
        parts = parts.indices.filter { !($0 + 1 < parts.count && parts[$0 + 1].hasPrefix(parts[$0] + ".")) }.map { parts[$0] }
        if parts.count > 1, let last = parts.last, !opType.isEmpty,
           last == opType || (last.hasPrefix(opType + "_") && Int(last.dropFirst(opType.count + 1)) != nil) {
            parts.removeLast()
        }
        var text = String(String.UnicodeScalarView(parts.joined(separator: ".").unicodeScalars.map { isNameCharacter($0) ? $0 : "_" }))
        while let last = text.last, last == "." || last == "-" { text.removeLast() }
        guard !text.isEmpty, isValid(text) else { return nil }
        return text
    }

    /// `name` given up for `candidate` when that is free (else kept).
    mutating func renamed(_ name: String, to candidate: String?) -> String {
        guard let candidate, candidate != name, !taken.contains(candidate) else { return name }
        taken.remove(name)
        taken.insert(candidate)
        return candidate
    }

    mutating func unique(candidates: [String?], fallback: String) -> String {
        let base = candidates.compactMap { $0 }.first ?? fallback
        var name = base
        var n = next[base, default: 2]
        while taken.contains(name) {
            name = "\(base)_\(n)"
            n += 1
        }
        next[base] = n
        taken.insert(name)
        return name
    }
}
