import ShapeCheck

/// A point in the drawing's units (SVG pixels), y pointing down.
public struct DrawingPoint: Hashable, Sendable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// An axis-aligned rectangle in the drawing's units.
public struct DrawingRect: Hashable, Sendable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var maxX: Double { x + width }
    public var maxY: Double { y + height }

    /// Whether the interiors meet; rectangles that only touch along an edge do not.
    public func overlaps(_ other: DrawingRect) -> Bool {
        x < other.maxX && other.x < maxX && y < other.maxY && other.y < maxY
    }

    /// The smallest rectangle holding both.
    public func union(_ other: DrawingRect) -> DrawingRect {
        let left = min(x, other.x), top = min(y, other.y)
        return DrawingRect(x: left, y: top, width: max(maxX, other.maxX) - left, height: max(maxY, other.maxY) - top)
    }
}

/// What a layer does, as far as its colour in the picture goes.
public enum LayerCategory: String, Sendable, CaseIterable {
    case input, convolution, pooling, fullyConnected, normalization, activation, merge, reshape, other
}

/// One box: the network's input or a layer, with its caption beside it.
public struct DrawnLayer: Sendable {
    /// The layer's name (`input` for the network's input).
    public var name: String
    public var category: LayerCategory
    /// The caption, one line each: the name, then the operation and output shape, then the
    /// parameters when the layer has any.
    public var lines: [String]
    public var output: TensorShape
    /// The box, sized by the output volume.
    public var box: DrawingRect
    /// The caption's extent, estimated from its characters (there are no font metrics here).
    public var caption: DrawingRect
    /// Column (lane) and row of the layout grid.
    public var lane: Int
    public var row: Int

    /// Box and caption together: what must not overlap another layer.
    public var cell: DrawingRect { box.union(caption) }
}

/// Why one layer reads another: the previous line (a chain), `from`, or a merge operand.
public enum EdgeKind: String, Sendable, CaseIterable {
    case sequence, from, add, concat, multiply
}

/// One arrow from a layer's output to a layer that reads it.
public struct DrawnEdge: Sendable {
    /// Indices into `NetworkDrawing.layers` (0 is the network's input).
    public var source: Int
    public var target: Int
    public var kind: EdgeKind
    /// The route: consecutive points with the same x are a straight vertical run; points with
    /// different x lie in the gap between two rows and are joined by an S-curve.
    public var points: [DrawingPoint]
}

/// The whole picture, before it is printed: positions only, no SVG.
public struct NetworkDrawing: Sendable {
    public var title: String
    public var summary: String
    public var width: Double
    public var height: Double
    /// The input first, then every layer in file order.
    public var layers: [DrawnLayer]
    public var edges: [DrawnEdge]
}
