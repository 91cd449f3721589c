import Parser
import ShapeCheck

/// A text file checked against the network it is for, each problem located in the file, as
/// the safetensors checks word them: the key, the shape found and the shape expected.
extension TextTensorFile {
    /// The network's tensors, each reshaped to its parameter's shape, and the names of the
    /// tensors it has no parameter for (refused unless `ignoringExtra`).
    public func weights(for network: CheckedNetwork, ignoringExtra: Bool = false) throws -> (weights: [String: Tensor], extras: [String]) {
        let parameters = Dictionary(network.parameterTensors.map { ($0.key, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        var named: [String: TextTensor] = [:]
        for tensor in tensors { if let name = tensor.name?.value { named[name] = tensor } }
        let extras = WeightFile(tensors: named.mapValues { Tensor(shape: [$0.values.count], storage: $0.values) })
            .extraKeys(for: network)
        let extraSet = Set(extras)
        var diagnostics: [Diagnostic] = []
        var weights: [String: Tensor] = [:]
        for tensor in tensors {
            guard let name = tensor.name else { continue }
            guard let parameter = parameters[name.value] else {
                if extraSet.contains(name.value) && !ignoringExtra {
                    let guess = closestMatch(to: name.value, among: network.parameterTensors.map(\.key).filter { named[$0] == nil })
                    diagnostics.append(Diagnostic(.unexpectedTensor(key: name.value, network: network.name), at: name.range,
                                                  notes: guess.map { [DiagnosticNote("did you mean '\($0)'?")] } ?? []))
                }
                continue
            }
            guard tensor.fits(parameter.shape) else {
                diagnostics.append(Diagnostic(.tensorShape(key: name.value, found: tensor.foundDescription,
                                                           expected: Self.joined(parameter.shape)), at: name.range,
                                              notes: [Self.layoutNote]))
                continue
            }
            // A variance is never negative; below −eps, sqrt(var + eps) makes its channel all NaN.
            if parameter.name == "running_var", let bad = tensor.values.firstIndex(where: { !($0 >= 0) }) {
                diagnostics.append(Diagnostic(.negativeVariance(key: name.value, value: "\(tensor.values[bad])", index: bad),
                                              at: range(ofValue: bad, in: tensor)))
                continue
            }
            weights[name.value] = Tensor(shape: parameter.shape, storage: tensor.values)
        }
        for (key, parameter) in network.parameterTensors where named[key] == nil {
            diagnostics.append(Diagnostic(.missingTensor(key: key, expected: Self.joined(parameter.shape)), at: endRange,
                                          notes: [DiagnosticNote("add '\(key):' and its values")]))
        }
        if !diagnostics.isEmpty { throw TextTensorError(source: source, diagnostics: diagnostics) }
        return (weights, ignoringExtra ? extras : [])
    }

    /// The file's one tensor as a batch [N, D, H, W] (or [N, K]): the layout's last dims must
    /// be the network's input, and the ones before them count the images.
    public func input(for network: CheckedNetwork) throws -> Tensor {
        let expected = network.input.dimensions
        let tensor = tensors[0]
        let batch = tensor.layout.dropLast(expected.count).reduce(1, *)
        guard Array(tensor.layout.suffix(expected.count)) == expected else {
            let per = network.input.isVector
                ? "\(network.input.depth) per image (a row of \(network.input.depth) values for the input vector \(network.input))"
                : "\(Self.joined(expected)) per image (channels x rows x columns for the input \(network.input), W x H x D)"
            throw TextTensorError(source: source, diagnostics: [
                Diagnostic(.tensorShape(key: tensor.name?.value ?? "input", found: tensor.foundDescription, expected: per),
                           at: tensor.range, notes: [Self.layoutNote])])
        }
        return Tensor(shape: [batch] + expected, storage: tensor.values)
    }

    private static func joined(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "x") }

    private static var layoutNote: DiagnosticNote {
        DiagnosticNote("the shape is the layout: numbers per row, rows, channels (split by blank lines), items (split by '--')")
    }
}
