import Foundation
import Runtime
import ShapeCheck

/// One network to run with its data: the `.cnn` text, the batch, the seed its weights and
/// input are drawn from, and the input cells that hold 3e38. Written to a file as the text
/// after a header comment (`# fuzz-case batch 2 seed 7 nan 3,40`), so a minimized failure
/// is a `.cnn` that `cnnc check` reads and a regression test replays.
public struct FuzzCase: Hashable, Sendable {
    public var text: String
    public var batch: Int
    public var dataSeed: UInt64
    public var nanCells: [Int]

    public init(text: String, batch: Int, dataSeed: UInt64, nanCells: [Int] = []) {
        self.text = text
        self.batch = batch
        self.dataSeed = dataSeed
        self.nanCells = nanCells
    }

    static let marker = "# fuzz-case"

    public var header: String {
        "\(Self.marker) batch \(batch) seed \(dataSeed)" + (nanCells.isEmpty ? "" : " nan " + nanCells.map(String.init).joined(separator: ","))
    }

    /// The file form: the header line, then the network.
    public var file: String { header + "\n" + text }

    /// Reads the file form; nil when the first line is not a fuzz-case header.
    public init?(file: String) {
        guard let first = file.split(separator: "\n", omittingEmptySubsequences: false).first,
              first.hasPrefix(Self.marker) else { return nil }
        let words = first.dropFirst(Self.marker.count).split(separator: " ").map(String.init)
        var batch = 1, seed: UInt64 = 1, cells: [Int] = []
        var i = 0
        while i + 1 < words.count {
            switch words[i] {
            case "batch": batch = Int(words[i + 1]) ?? 1
            case "seed": seed = UInt64(words[i + 1]) ?? 1
            case "nan": cells = words[i + 1].split(separator: ",").compactMap { Int($0) }
            default: return nil
            }
            i += 2
        }
        self.init(text: file, batch: batch, dataSeed: seed, nanCells: cells)
    }

    public var checked: CheckedNetwork? {
        let result = checkSource(text, path: "fuzz.cnn")
        return result.hasErrors ? nil : result.network
    }

    /// He-normal weights (WeightInit, this seed) with every bias and batchnorm statistic
    /// drawn too, so a kernel that drops a bias or folds batchnorm wrongly shows; the NaN
    /// prologue's convolutions get ±2 times the identity.
    public func weights(for net: CheckedNetwork) -> [String: Tensor] {
        var weights = WeightInit.weights(for: net, seed: dataSeed).tensors
        var random = RandomSource(seed: dataSeed ^ 0x5EED)
        let batchNorms = Set(net.layers.compactMap { layer -> String? in
            switch layer.operation {
            case .batchNorm, .layerNorm: return layer.name  // γ drawn positive, β signed, as batchnorm's
            default: return nil
            }
        })
        for key in weights.keys.sorted() {
            let layer = String(key[..<(key.lastIndex(of: ".") ?? key.endIndex)])
            if batchNorms.contains(layer) {
                let positive = key.hasSuffix(".running_var") || key.hasSuffix(".weight")
                weights[key]!.storage = weights[key]!.storage.map { _ in
                    positive ? Float(0.5 + random.unit()) : random.signedFloat() * 0.3
                }
            } else if key.hasSuffix(".layer_scale") {
                weights[key]!.storage = weights[key]!.storage.map { _ in random.signedFloat() }
            } else if key.hasSuffix(".bias") {
                weights[key]!.storage = weights[key]!.storage.map { _ in random.signedFloat() * 0.2 }
            }
        }
        for (name, sign) in [("nan.plus", Float(2)), ("nan.minus", Float(-2))] {
            guard var w = weights[name + ".weight"], w.shape.count == 4, w.shape[0] == w.shape[1] else { continue }
            let d = w.shape[0]
            w.storage = (0..<d * d).map { $0 / d == $0 % d ? sign : 0 }
            weights[name + ".weight"] = w
        }
        return weights
    }

    /// A batch of inputs uniform in [-1, 1), with 3e38 in the NaN cells of every image.
    public func input(for net: CheckedNetwork) -> Tensor {
        var random = RandomSource(seed: dataSeed ^ 0x1A9E7)
        let perImage = net.input.elementCount
        var values = (0..<batch * perImage).map { _ in random.signedFloat() }
        for n in 0..<batch {
            for cell in nanCells { values[n * perImage + cell % perImage] = 3e38 }
        }
        return Tensor(shape: [batch] + net.input.dimensions, storage: values)
    }
}
