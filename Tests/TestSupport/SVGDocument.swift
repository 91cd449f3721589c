import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// An SVG file as `cnnc draw` writes it, read back with Foundation's XML parser: a file that
/// is not well-formed XML gives an error, never a partial document.
public struct SVGDocument {
    public struct Element {
        public var name: String
        public var attributes: [String: String]
        /// The text directly inside it.
        public var text: String
        public var classes: [String] { (attributes["class"] ?? "").split(separator: " ").map(String.init) }
    }

    /// A `<g class="layer …">`: its box and the lines of its caption (one per `tspan`).
    public struct Layer {
        public var box: (x: Double, y: Double, width: Double, height: Double)
        public var lines: [String]
    }

    public struct Edge: Hashable {
        public var from: String
        public var to: String
        public var kind: String
    }

    /// Every element in document order.
    public private(set) var elements: [Element] = []
    public private(set) var layers: [Layer] = []
    public private(set) var edges: [Edge] = []

    public init(_ text: String) throws {
        let delegate = Collector()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = delegate
        guard parser.parse() else {
            throw SVGError("not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "unknown error") "
                + "at line \(parser.lineNumber), column \(parser.columnNumber)")
        }
        elements = delegate.elements
        layers = delegate.layers
        for element in elements where element.name == "path" && element.classes.first == "edge" {
            edges.append(Edge(from: element.attributes["data-from"] ?? "", to: element.attributes["data-to"] ?? "",
                              kind: element.classes.dropFirst().first ?? ""))
        }
    }

    public struct SVGError: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    private final class Collector: NSObject, XMLParserDelegate {
        var elements: [Element] = []
        var layers: [Layer] = []
        private var open: [Int] = []
        private var layer: Layer?

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            elements.append(Element(name: name, attributes: attributes, text: ""))
            open.append(elements.count - 1)
            let classes = (attributes["class"] ?? "").split(separator: " ")
            if name == "g" && classes.first == "layer" {
                layer = Layer(box: (0, 0, 0, 0), lines: [])
            } else if name == "rect" && classes.first == "box" && layer != nil {
                func value(_ key: String) -> Double { Double(attributes[key] ?? "") ?? .nan }
                layer?.box = (value("x"), value("y"), value("width"), value("height"))
            } else if name == "tspan" && layer != nil {
                layer?.lines.append("")
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard let last = open.last else { return }
            elements[last].text += string
            if elements[last].name == "tspan", var current = layer, !current.lines.isEmpty {
                current.lines[current.lines.count - 1] += string
                layer = current
            }
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            guard let last = open.popLast() else { return }
            if name == "g" && elements[last].classes.first == "layer", let finished = layer {
                layers.append(finished)
                layer = nil
            }
        }
    }
}
