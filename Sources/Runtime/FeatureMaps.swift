import Foundation
import Parser
import ShapeCheck

/// One value of the network as `run --show` and `--pictures` present it: the input or a
/// layer's output, for every image of the batch.
public struct FeatureMap: Sendable {
    /// `input` or the layer's name.
    public var name: String
    /// "c1: conv 6 5x5 stride 1 pad 0 → 28x28x6", the op as `check` spells it.
    public var title: String
    public var shape: TensorShape
    /// [N, D, H, W], or [N, K] for a vector.
    public var values: Tensor

    public var batch: Int { values.shape[0] }

    /// The `height` x `width` values of `channel` of `image`, row-major.
    public func plane(image: Int, channel: Int) -> ArraySlice<Float> {
        let size = shape.width * shape.height
        let start = (image * shape.depth + channel) * size
        return values.storage[start..<(start + size)]
    }
}

/// Every layer's output, computed by the reference interpreter (whatever backend runs the
/// network), for students to see what each layer does.
public enum FeatureMaps {
    /// Values per image past which a layer is not printed: a grid that large is read as a picture.
    public static let printLimit = 4096

    /// The values `selection` names, in network order: 0 is the input, i + 1 layer i. `all`
    /// is the input and every layer; otherwise names separated by commas (`input` among them).
    public static func slots(_ selection: String, in network: CheckedNetwork) throws -> [Int] {
        if selection == "all" { return Array(0...network.layers.count) }
        let names = ["input"] + network.layers.map(\.name)
        var chosen = Set<Int>()
        for part in selection.split(separator: ",", omittingEmptySubsequences: false) {
            let name = part.trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { throw RuntimeError("--show takes 'all' or layer names separated by commas, not '\(selection)'") }
            guard let slot = names.firstIndex(of: name) else {
                let guess = closestMatch(to: name, among: names).map { " (did you mean '\($0)'?)" } ?? ""
                throw RuntimeError("--show: network '\(network.name)' has no layer named '\(name)'\(guess)")
            }
            chosen.insert(slot)
        }
        return chosen.sorted()
    }

    /// The refusal of a layer too large to print, naming --pictures; nil when all fit.
    public static func printProblem(_ slots: [Int], in network: CheckedNetwork) -> String? {
        for slot in slots {
            let (name, shape) = slot == 0 ? ("input", network.input) : (network.layers[slot - 1].name, network.layers[slot - 1].output)
            if shape.elementCount > printLimit {
                return "--show: \(name) is \(shape) = \(CheckReport.grouped(shape.elementCount)) values per image, more than the "
                    + "\(CheckReport.grouped(printLimit)) that are printed; see it with --pictures DIR, or --show smaller layers"
            }
        }
        return nil
    }

    /// Runs `input` ([N, …]) through the reference interpreter, keeping the values `slots`
    /// name; the network's output too.
    public static func compute(_ network: CheckedNetwork, weights: [String: Tensor], input: Tensor,
                               slots: [Int]) throws -> (maps: [FeatureMap], output: Tensor) {
        let wanted = Set(slots)
        var kept: [Int: Tensor] = [:]
        let output = try ReferenceInterpreter(network: network, weights: weights).run(input) { slot, value in
            if wanted.contains(slot) { kept[slot] = value }
        }
        let maps = slots.compactMap { slot -> FeatureMap? in
            guard let values = kept[slot] else { return nil }
            if slot == 0 { return FeatureMap(name: "input", title: "input: \(network.input)", shape: network.input, values: values) }
            let layer = network.layers[slot - 1]
            let title = "\(layer.name): \(CheckReport.describe(layer, index: slot - 1, in: network)) → \(layer.output)"
            return FeatureMap(name: layer.name, title: title, shape: layer.output, values: values)
        }
        return (maps, output)
    }

    /// The map as grids: its title, then per image (named when the batch has more than one)
    /// each channel, 1-based, its values to two decimals right-aligned in the channel's widest.
    /// A vector prints as rows of ten.
    public static func text(_ map: FeatureMap) -> String {
        var lines = [map.title]
        for image in 0..<map.batch {
            if map.batch > 1 { lines.append("image \(image + 1) of \(map.batch)") }
            if map.shape.isVector {
                let cells = map.plane(image: image, channel: 0).startIndex
                let values = map.values.storage[cells..<(cells + map.shape.depth)]
                lines += grid(values, columns: 10)
                continue
            }
            for channel in 0..<map.shape.depth {
                lines.append("channel \(channel + 1) of \(map.shape.depth)")
                lines += grid(map.plane(image: image, channel: channel), columns: map.shape.width)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func grid(_ values: ArraySlice<Float>, columns: Int) -> [String] {
        let cells = values.map(cell)
        let width = cells.map(\.count).max() ?? 0
        return stride(from: 0, to: cells.count, by: max(columns, 1)).map { start in
            " " + cells[start..<min(start + columns, cells.count)].map { "  " + String(repeating: " ", count: width - $0.count) + $0 }.joined()
        }
    }

    /// "%.2f", with `nan`, `inf` and `-inf` spelled the same on every platform.
    static func cell(_ value: Float) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        return String(format: "%.2f", Double(value))
    }
}
