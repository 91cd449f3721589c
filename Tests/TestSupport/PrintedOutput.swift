import Foundation

/// Reads back what cnnc prints for people, so a test can compare numbers with the ones a
/// lecture or an independent calculation gives, whatever the spacing.
public enum PrintedOutput {
    /// Runs of spaces, tabs and newlines as one space, trimmed.
    public static func normalized(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// One layer as `run --show` prints it: its header line (`c1: conv 6 5x5 → 28x28x6`) and
    /// each channel's values in row order.
    public struct ShownLayer: Sendable {
        public var name: String
        public var header: String
        public var channels: [[Double]]
    }

    /// Every layer `--show` printed, in order (a layer shown by two runs appears twice). A
    /// header is `NAME: … → …`; `channel k of n` starts a channel; a line of numbers only is a
    /// row of the current channel; any other line ends the layer.
    public static func shownLayers(_ text: String) -> [ShownLayer] {
        var layers: [ShownLayer] = []
        var open = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
            guard let first = words.first else { continue }
            if first.hasSuffix(":"), first.count > 1, line.contains("→") {
                layers.append(ShownLayer(name: String(first.dropLast()), header: normalized(String(line)), channels: []))
                open = true
            } else if open, words.count == 4, first == "image", words[2] == "of" {
                continue    // the batch item of a single-image run; its channels follow
            } else if open, first == "channel" {
                layers[layers.count - 1].channels.append([])
            } else if open, let row = numbers(words) {
                if layers[layers.count - 1].channels.isEmpty { layers[layers.count - 1].channels.append([]) }
                layers[layers.count - 1].channels[layers[layers.count - 1].channels.count - 1] += row
            } else {
                open = false
            }
        }
        return layers
    }

    /// The words as numbers, or nil if one is not (`nan` and `inf` count as numbers).
    static func numbers(_ words: [String]) -> [Double]? {
        let values = words.compactMap(Double.init)
        return values.count == words.count ? values : nil
    }

    /// The words of every table line whose first word is `layer` (`cnnc check`'s rows), in order.
    public static func tableRows(_ text: String, layer: String) -> [[String]] {
        text.split(separator: "\n").map { $0.split(whereSeparator: \.isWhitespace).map(String.init) }
            .filter { $0.first == layer }
    }

    /// `run --top`'s ranking lines (`#1  class 3   0.9120`) as (class, score), in the order printed.
    public static func rankedClasses(_ text: String) -> [(classIndex: Int, score: Double)] {
        text.split(separator: "\n").compactMap { line in
            let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
            guard words.count == 4, words[0].hasPrefix("#"), words[1] == "class",
                  let index = Int(words[2]), let score = Double(words[3]) else { return nil }
            return (index, score)
        }
    }
}
