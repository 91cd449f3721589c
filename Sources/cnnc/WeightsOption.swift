import Runtime
import ShapeCheck

/// `--weights W [--ignore-extra-weights]`, declared once for run, compile and bench: where the
/// weights are, and whether tensors the network has no parameter for (a state_dict saved with
/// auxiliary heads, as torchvision's googlenet and inception_v3 ship) are ignored. Ignored
/// tensors are never silent: their count and first names go to stderr as a warning.
struct WeightsOption {
    static let ignoreFlag = OptionSpec.ignoreExtraWeights.name

    var path: String?
    var ignoreExtra: Bool

    /// Takes both options from `arguments`.
    init(_ arguments: inout Arguments) {
        path = arguments.option(OptionSpec.weights.name)
        ignoreExtra = arguments.flag(Self.ignoreFlag)
    }

    /// The usage problem of the flag without a weight file, where --weights is optional.
    var problem: String? {
        ignoreExtra && path == nil ? "\(Self.ignoreFlag) needs --weights W.safetensors" : nil
    }

    /// The network's tensors from the file at `path`, validated; extras refused unless ignored,
    /// and then listed on stderr. A refusal that extras alone caused names the flag.
    static func load(_ path: String, ignoreExtra: Bool, for network: CheckedNetwork, command: String,
                     console: Console) throws -> [String: Tensor] {
        if TextTensorFile.isText(path) {
            let (weights, extras) = try TextTensorFile.read(path, kind: .weights).weights(for: network, ignoringExtra: ignoreExtra)
            if let warning = WeightFile.ignoredExtrasWarning(extras, path: path, network: network.name) {
                console.err("cnnc \(command): \(warning)")
            }
            return weights
        }
        let file = try WeightFile.read(contentsOf: path)
        let extras = file.extraKeys(for: network)
        do {
            let weights = try file.validated(for: network, path: path, ignoringExtra: ignoreExtra)
            if ignoreExtra, let warning = WeightFile.ignoredExtrasWarning(extras, path: path, network: network.name) {
                console.err("cnnc \(command): \(warning)")
            }
            return weights
        } catch let error as RuntimeError where !ignoreExtra && !extras.isEmpty
                    && (try? file.validated(for: network, path: path, ignoringExtra: true)) != nil {
            // When the extras are all that is wrong, say how to load the file anyway: first, so
            // that the report's line limit never hides it behind hundreds of extras.
            let (noun, pronoun) = extras.count == 1 ? ("tensor", "it") : ("tensors", "them")
            throw RuntimeError("\(path): \(extras.count) \(noun) the network '\(network.name)' has no parameter for "
                               + "(\(ignoreFlag) loads the file without \(pronoun))\n" + error.message)
        }
    }

    func load(for network: CheckedNetwork, command: String, console: Console) throws -> [String: Tensor]? {
        guard let path else { return nil }
        return try Self.load(path, ignoreExtra: ignoreExtra, for: network, command: command, console: console)
    }
}
