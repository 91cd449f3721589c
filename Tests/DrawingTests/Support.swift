import Foundation
import ShapeCheck
import Testing
@_exported import TestSupport
@testable import Drawing

/// Every model shipped in models/ and models/torchvision/, read from disk so a new one is
/// drawn too.
enum ShippedModels {
    static let files: [String] = {
        ["", "torchvision"].flatMap { sub -> [String] in
            let folder = sub.isEmpty ? Paths.models : Paths.models.appendingPathComponent(sub)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            return names.filter { $0.hasSuffix(".cnn") }.sorted().map { sub.isEmpty ? $0 : sub + "/" + $0 }
        }
    }()

    static func network(_ file: String) throws -> CheckedNetwork {
        let text = try Paths.text(Paths.models.appendingPathComponent(file))
        let result = checkSource(text, path: file)
        return try #require(result.network, "\(file) does not check")
    }
}

/// What every picture must be, checked on the SVG text and on the layout it came from.
enum PictureChecks {
    static func check(_ network: CheckedNetwork, file: String) throws {
        let drawing = NetworkLayout.layout(network)
        let text = SVGPrinter.print(drawing)
        let svg = try SVGDocument(text)
        selfContained(svg, text: text, file: file)
        namesEveryLayer(network, svg, file: file)
        oneArrowPerEdge(network, svg, file: file)
        boxesApart(svg, file: file)
        cellsApart(drawing, file: file)
        arrowsAvoidBoxes(drawing, file: file)
    }

    /// No scripts, event handlers, foreign content or outside resources: only `url(#…)`.
    static func selfContained(_ svg: SVGDocument, text: String, file: String) {
        let forbidden: Set<String> = ["script", "foreignObject", "image", "iframe", "style", "use"]
        for element in svg.elements {
            #expect(!forbidden.contains(element.name), "\(file): <\(element.name)> in the SVG")
            for (key, value) in element.attributes {
                #expect(!key.lowercased().hasPrefix("on"), "\(file): event handler \(key)")
                #expect(!key.lowercased().hasSuffix("href"), "\(file): link \(key)=\(value)")
                if value.contains("url(") { #expect(value.hasPrefix("url(#"), "\(file): \(key)=\(value)") }
            }
        }
        #expect(!text.lowercased().contains("<script"))
        #expect(!text.contains("@import") && !text.contains("@font-face"))
    }

    /// A box per layer (and the input) whose caption starts with its name and has a line
    /// ending in its output shape.
    static func namesEveryLayer(_ network: CheckedNetwork, _ svg: SVGDocument, file: String) {
        #expect(svg.layers.count == network.layers.count + 1, "\(file)")
        let captions = Dictionary(svg.layers.map { ($0.lines.first ?? "", $0.lines) }, uniquingKeysWith: { a, _ in a })
        let expected = [("input", network.input)] + network.layers.map { ($0.name, $0.output) }
        for (name, shape) in expected {
            guard let lines = captions[name] else {
                Issue.record("\(file): no box captioned '\(name)'")
                continue
            }
            #expect(lines.contains { $0.hasSuffix(" " + shape.description) }, "\(file): \(name) lacks \(shape)")
        }
    }

    /// One `path.edge` per input of every layer, from that input's name to the layer's.
    static func oneArrowPerEdge(_ network: CheckedNetwork, _ svg: SVGDocument, file: String) {
        func name(_ input: LayerInput) -> String {
            switch input {
            case .networkInput: "input"
            case .layer(let i): network.layers[i].name
            }
        }
        var expected: [String: Int] = [:], found: [String: Int] = [:]
        for layer in network.layers {
            for input in layer.inputs { expected["\(name(input)) → \(layer.name)", default: 0] += 1 }
        }
        for edge in svg.edges { found["\(edge.from) → \(edge.to)", default: 0] += 1 }
        #expect(found == expected, "\(file): arrows differ from the layers' inputs")
        let mergeKinds = ["add": "add", "concat": "concat", "mul": "multiply"]
        for layer in network.layers {
            guard let kind = mergeKinds[layer.keyword] else { continue }
            #expect(svg.edges.filter { $0.to == layer.name }.allSatisfy { $0.kind == kind }, "\(file): \(layer.name)")
        }
    }

    static func boxesApart(_ svg: SVGDocument, file: String) {
        let boxes = svg.layers.map { DrawingRect(x: $0.box.x, y: $0.box.y, width: $0.box.width, height: $0.box.height) }
        for box in boxes { #expect(box.width > 0 && box.height > 0 && box.x >= 0 && box.y >= 0, "\(file): \(box)") }
        let overlapping = RectIndex(boxes).firstOverlap()
        #expect(overlapping == nil, "\(file): boxes \(overlapping.map { "\(svg.layers[$0.0].lines[0]) and \(svg.layers[$0.1].lines[0])" } ?? "") overlap")
    }

    /// Boxes with their captions, as the layout estimates them.
    static func cellsApart(_ drawing: NetworkDrawing, file: String) {
        let cells = drawing.layers.map(\.cell)
        let overlapping = RectIndex(cells).firstOverlap()
        #expect(overlapping == nil, "\(file): \(overlapping.map { "\(drawing.layers[$0.0].name) and \(drawing.layers[$0.1].name)" } ?? "") overlap")
        for cell in cells { #expect(cell.maxX <= drawing.width && cell.maxY <= drawing.height, "\(file)") }
    }

    /// Vertical runs pass no box or caption but their own ends'; changes of lane happen in
    /// a band no box or caption reaches into.
    static func arrowsAvoidBoxes(_ drawing: NetworkDrawing, file: String) {
        let index = RectIndex(drawing.layers.map(\.cell))
        var crossings: [String] = []
        for edge in drawing.edges {
            let route = "\(drawing.layers[edge.source].name) → \(drawing.layers[edge.target].name)"
            for (from, to) in zip(edge.points, edge.points.dropFirst()) {
                let top = min(from.y, to.y), bottom = max(from.y, to.y)
                let left = min(from.x, to.x), right = max(from.x, to.x)
                for i in index.meeting(top: top, bottom: bottom) {
                    let cell = index.rects[i]
                    if from.x == to.x {
                        if i != edge.source && i != edge.target && cell.x < from.x && from.x < cell.maxX {
                            crossings.append("\(route) crosses \(drawing.layers[i].name)")
                        }
                    } else if cell.x <= right && left <= cell.maxX {
                        crossings.append("\(route) bends across \(drawing.layers[i].name)")
                    }
                }
            }
        }
        #expect(crossings.isEmpty, "\(file): \(crossings.prefix(3).joined(separator: "; "))")
    }

    /// Rectangles sorted by top, so the ones meeting a band of y are found without a scan of all.
    struct RectIndex {
        var rects: [DrawingRect]
        private var order: [Int]
        private var tallest: Double

        init(_ rects: [DrawingRect]) {
            self.rects = rects
            order = rects.indices.sorted { rects[$0].y < rects[$1].y }
            tallest = rects.map(\.height).max() ?? 0
        }

        /// Indices of rectangles whose interior meets top < y < bottom.
        func meeting(top: Double, bottom: Double) -> [Int] {
            var low = 0, high = order.count
            while low < high {
                let middle = (low + high) / 2
                if rects[order[middle]].y < top - tallest { low = middle + 1 } else { high = middle }
            }
            var found: [Int] = []
            for position in low..<order.count {
                let rect = rects[order[position]]
                if rect.y >= bottom { break }
                if rect.maxY > top { found.append(order[position]) }
            }
            return found
        }

        func firstOverlap() -> (Int, Int)? {
            for i in rects.indices {
                for j in meeting(top: rects[i].y, bottom: rects[i].maxY) where j != i && rects[i].overlaps(rects[j]) {
                    return (min(i, j), max(i, j))
                }
            }
            return nil
        }
    }
}
