import ShapeCheck

/// The mobile networks' features (issue 18), found in the checked graph by their structure,
/// not by the generator's names, so a network written by hand or shrunk still counts.
/// `motif:inverted-residual` is the 1x1 → depthwise → 1x1 chain the fused kernels take,
/// whoever draws it (shufflenet's branch is one too); `groups:*` name the channels per group.
extension Coverage {
    static let mobile: Set<String> = [
        "motif:inverted-residual", "motif:inverted-residual+se", "motif:inverted-residual+add", "motif:se",
        "motif:grouped-bottleneck", "motif:shuffle-unit", "motif:shuffle-unit-stride2",
        "groups:width1", "groups:small", "groups:width16", "groups:width32", "groups:split-blocks", "groups:stride2",
        "depthwise:5x5", "depthwise:7x7", "depthwise:stride2-odd", "depthwise:width1", "depthwise:partial-block",
        "depth:58", "depth:116",
    ]

    /// The features of any checked network, hand-written or loaded, as well as drawn.
    public static func mobileFeatures(_ net: CheckedNetwork) -> Set<String> {
        var f: Set<String> = []
        let layers = net.layers
        var consumers = [[Int]](repeating: [], count: layers.count)
        for (i, layer) in layers.enumerated() {
            for case .layer(let j) in layer.inputs { consumers[j].append(i) }
        }
        // batchnorm, activations and dropout between the blocks' layers are looked through.
        func transparent(_ i: Int) -> Bool {
            switch layers[i].operation {
            case .batchNorm, .activation, .dropout: true
            default: false
            }
        }
        func back(_ input: LayerInput?) -> Int? {
            guard case .layer(let j)? = input else { return nil }
            return transparent(j) ? back(layers[j].inputs.first) : j
        }
        func forward(_ i: Int) -> [Int] { consumers[i].flatMap { transparent($0) ? forward($0) : [$0] } }
        func convolution(_ i: Int?) -> Convolution? {
            guard let i, case .convolution(let c) = layers[i].operation else { return nil }
            return c
        }
        func pointwise(_ i: Int?) -> Bool {
            guard let c = convolution(i) else { return false }
            return !c.isDepthwise && c.groups == 1 && c.window.kernelWidth == 1 && c.window.kernelHeight == 1
        }
        func isMultiply(_ i: Int) -> Bool { if case .multiply = layers[i].operation { return true }; return false }
        func isDepthwise(_ i: Int?, stride2: Bool = false) -> Bool {
            guard let c = convolution(i), c.isDepthwise else { return false }
            return !stride2 || c.window.strideWidth == 2
        }
        // Squeeze-excitation's scale: conv 1x1 ← conv 1x1 ← globalavgpool.
        func excitation(_ input: LayerInput) -> Bool {
            guard let fc2 = back(input), pointwise(fc2), layers[fc2].output.elementCount == layers[fc2].output.depth,
                  let fc1 = back(layers[fc2].inputs.first), pointwise(fc1),
                  let pool = back(layers[fc1].inputs.first), case .globalPooling(.average) = layers[pool].operation else { return false }
            return true
        }

        for (i, layer) in layers.enumerated() {
            for (range, label) in [(58...58, "58"), (116...116, "116")] where range.contains(layer.output.depth) { f.insert("depth:\(label)") }
            switch layer.operation {
            case .convolution(let c) where c.isDepthwise:
                let input = layer.inputShapes[0], w = c.window
                if w.kernelWidth == 5 && w.kernelHeight == 5 { f.insert("depthwise:5x5") }
                if w.kernelWidth == 7 && w.kernelHeight == 7 { f.insert("depthwise:7x7") }
                if (w.strideWidth == 2 && input.width % 2 == 1) || (w.strideHeight == 2 && input.height % 2 == 1) {
                    f.insert("depthwise:stride2-odd")
                }
                if input.width == 1 || input.height == 1 { f.insert("depthwise:width1") }
                if input.depth > 16 && input.depth % 16 != 0 { f.insert("depthwise:partial-block") }
                // expand 1x1 → depthwise → (squeeze-excitation) → project 1x1
                guard pointwise(back(layer.inputs.first)) else { break }
                let next = forward(i)
                if next.contains(where: pointwise) { f.insert("motif:inverted-residual") }
                if next.contains(where: { isMultiply($0) && forward($0).contains(where: pointwise) }) {
                    f.insert("motif:inverted-residual")
                    f.insert("motif:inverted-residual+se")
                }
            case .convolution(let c) where c.groups > 1:
                let width = layer.inputShapes[0].depth / c.groups
                switch width {
                case 1: f.insert("groups:width1")
                case 2..<16: f.insert("groups:small")
                case 16: f.insert("groups:width16")
                case 32: f.insert("groups:width32")
                case _ where width % 16 != 0: f.insert("groups:split-blocks")
                default: break
                }
                if c.window.strideWidth == 2 || c.window.strideHeight == 2 { f.insert("groups:stride2") }
                if pointwise(back(layer.inputs.first)),
                   forward(i).contains(where: { pointwise($0) || (isMultiply($0) && forward($0).contains(where: pointwise)) }) {
                    f.insert("motif:grouped-bottleneck")
                }
            case .multiply:
                if layer.inputs.contains(where: excitation) { f.insert("motif:se") }
            case .add:
                // The project 1x1 of an inverted residual, added to the block's input.
                for input in layer.inputs {
                    guard let project = back(input), pointwise(project), let before = back(layers[project].inputs.first) else { continue }
                    if isDepthwise(before) || (isMultiply(before) && layers[before].inputs.contains { isDepthwise(back($0)) }) {
                        f.insert("motif:inverted-residual+add")
                    }
                }
            case .shuffle(groups: 2):
                guard let joined = back(layer.inputs.first), case .concat = layers[joined].operation else { break }
                let branches = layers[joined].inputs
                if branches.contains(where: { if let b = back($0), case .slice = layers[b].operation { return true }; return false }) {
                    f.insert("motif:shuffle-unit")
                }
                // Both branches end in 1x1 after a stride-2 depthwise.
                if branches.count == 2, branches.allSatisfy({ input in
                    guard let last = back(input), pointwise(last) else { return false }
                    return isDepthwise(back(layers[last].inputs.first), stride2: true)
                }) { f.insert("motif:shuffle-unit-stride2") }
            default: break
            }
        }
        return f
    }
}
