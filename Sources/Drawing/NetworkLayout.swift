import ShapeCheck

/// Places a checked network on a grid: one row per step of the longest path from the input,
/// one lane (column) per branch that runs beside another, so an inception module's four
/// branches and a ResNet projection shortcut stand side by side. A pure function of the
/// network; `SVGPrinter` turns the result into text.
public enum NetworkLayout {
    static let margin = 16.0
    static let titleHeight = 66.0
    /// Vertical gap between rows: every change of lane on an arrow happens inside one.
    static let rowGap = 26.0
    static let captionGap = 8.0
    static let laneRightPadding = 12.0
    /// A gutter left of each lane carries the arrows that skip rows of that lane (identity
    /// shortcuts, dense connections); each such arrow gets a track of its own when it can.
    static let gutterBase = 12.0
    static let trackSpacing = 5.0
    static let maxTracks = 8

    public static func layout(_ network: CheckedNetwork) -> NetworkDrawing {
        let graph = Graph(network)
        let grid = Grid(graph)
        let routes = Routes(graph: graph, grid: grid)
        return place(network, graph: graph, grid: grid, routes: routes)
    }

    /// Node 0 is the input, node i + 1 the i-th layer; `inputs` are node indices.
    struct Graph {
        var inputs: [[Int]]
        var kinds: [[EdgeKind]]
        var lines: [[String]]
        var shapes: [TensorShape]
        var categories: [LayerCategory]
        var names: [String]
        var count: Int { inputs.count }

        init(_ network: CheckedNetwork) {
            inputs = [[]]
            kinds = [[]]
            lines = [LayerCaption.inputLines(network.input)]
            shapes = [network.input]
            categories = [.input]
            names = ["input"]
            for (index, layer) in network.layers.enumerated() {
                let sources = layer.inputs.map { input -> Int in
                    switch input {
                    case .networkInput: 0
                    case .layer(let i): i + 1
                    }
                }
                let merge: EdgeKind? = switch layer.operation {
                case .add: .add
                case .concat: .concat
                case .multiply: .multiply
                default: nil
                }
                inputs.append(sources)
                kinds.append(sources.map { merge ?? ($0 == index ? .sequence : .from) })
                lines.append(LayerCaption.lines(layer))
                shapes.append(layer.output)
                categories.append(LayerCaption.category(layer.operation))
                names.append(layer.name)
            }
        }
    }

    /// Rows and lanes of every node.
    struct Grid {
        var row: [Int]
        var lane: [Int]
        var laneCount: Int
        var rowCount: Int
        /// The rows that hold a node, per lane, ascending (nodes are placed in increasing rows).
        var rowsInLane: [[Int]]

        init(_ graph: Graph) {
            let count = graph.count
            var row = Array(repeating: 0, count: count)
            for node in 1..<max(count, 1) {
                row[node] = 1 + (graph.inputs[node].map { row[$0] }.max() ?? -1)
            }
            var lastConsumer = Array(repeating: -1, count: count)
            for node in 0..<count {
                for source in graph.inputs[node] { lastConsumer[source] = node }
            }
            var lane = Array(repeating: 0, count: count)
            // A node hands its lane to the first reader that takes it; a lane is free again
            // once its last node is handed on or fully read and nothing runs through it.
            var handedOn = Array(repeating: false, count: count)
            var holder = [0]
            var busyUntil = [0]
            for node in 1..<max(count, 1) {
                let here = row[node]
                let open = graph.inputs[node].filter { !handedOn[$0] && holder[lane[$0]] == $0 }
                if let parent = open.min(by: { lane[$0] < lane[$1] }) {
                    lane[node] = lane[parent]
                    handedOn[parent] = true
                } else {
                    let parentLane = graph.inputs[node].first.map { lane[$0] } ?? 0
                    let order = Array((parentLane + 1)..<holder.count) + Array(0..<min(parentLane, holder.count))
                    let free = order.first { candidate in
                        let last = holder[candidate]
                        return busyUntil[candidate] < here && (handedOn[last] || lastConsumer[last] < node)
                    }
                    if let free {
                        lane[node] = free
                    } else {
                        lane[node] = holder.count
                        holder.append(node)
                        busyUntil.append(here)
                    }
                }
                holder[lane[node]] = node
                busyUntil[lane[node]] = max(busyUntil[lane[node]], here)
                for source in graph.inputs[node] {
                    busyUntil[lane[source]] = max(busyUntil[lane[source]], here - 1)
                }
            }
            var rowsInLane: [[Int]] = Array(repeating: [], count: holder.count)
            for node in 0..<count { rowsInLane[lane[node]].append(row[node]) }
            self.row = row
            self.lane = lane
            self.laneCount = holder.count
            self.rowCount = (row.max() ?? 0) + 1
            self.rowsInLane = rowsInLane
        }

        /// Whether `lane` holds no node in rows `from...to` (true for an empty range).
        func isClear(lane: Int, from: Int, to: Int) -> Bool {
            guard from <= to else { return true }
            // A binary search, so an input read from thousands of rows below stays cheap.
            let rows = rowsInLane[lane]
            var low = 0, high = rows.count
            while low < high {
                let middle = (low + high) / 2
                if rows[middle] < from { low = middle + 1 } else { high = middle }
            }
            return low == rows.count || rows[low] > to
        }
    }

    /// Which corridor each arrow takes through the rows it skips.
    enum Corridor {
        /// Adjacent rows: straight across the gap.
        case direct
        /// Down the source's lane, across in the last gap.
        case sourceLane
        /// Across in the first gap, down the target's lane.
        case targetLane
        /// Down the gutter left of `lane`, on track `track`.
        case gutter(lane: Int, track: Int)
    }

    struct Routes {
        /// Per node, per input: the corridor.
        var corridors: [[Corridor]]
        /// Tracks used in the gutter left of each lane.
        var tracks: [Int]

        init(graph: Graph, grid: Grid) {
            tracks = Array(repeating: 0, count: grid.laneCount)
            // The last row each track of each gutter runs down to: a track is taken again only
            // a row below that (so two arrows never meet in it), a few comparisons an arrow.
            var trackEnds = Array(repeating: [Int](), count: grid.laneCount)
            corridors = []
            for node in 0..<graph.count {
                var mine: [Corridor] = []
                for source in graph.inputs[node] {
                    let first = grid.row[source] + 1, last = grid.row[node] - 1
                    let sourceLane = grid.lane[source], targetLane = grid.lane[node]
                    if first > last {
                        mine.append(.direct)
                    } else if grid.isClear(lane: sourceLane, from: first, to: last) {
                        mine.append(.sourceLane)
                    } else if grid.isClear(lane: targetLane, from: first, to: last) {
                        mine.append(.targetLane)
                    } else {
                        let gutter = max(sourceLane, targetLane)
                        var track = trackEnds[gutter].firstIndex { $0 < first - 1 } ?? trackEnds[gutter].count
                        if track == NetworkLayout.maxTracks {
                            // Past the widest gutter arrows share the least recently used track.
                            track = trackEnds[gutter].indices.min { trackEnds[gutter][$0] < trackEnds[gutter][$1] } ?? 0
                        }
                        if track == trackEnds[gutter].count { trackEnds[gutter].append(last) }
                        trackEnds[gutter][track] = max(trackEnds[gutter][track], last)
                        tracks[gutter] = max(tracks[gutter], track + 1)
                        mine.append(.gutter(lane: gutter, track: track))
                    }
                }
                corridors.append(mine)
            }
        }
    }

    private static func place(_ network: CheckedNetwork, graph: Graph, grid: Grid, routes: Routes) -> NetworkDrawing {
        let count = graph.count
        let boxes = graph.shapes.map { (DrawingScale.boxWidth($0), DrawingScale.boxHeight($0)) }
        let captions = graph.lines.map { (DrawingScale.captionWidth($0), DrawingScale.captionHeight($0)) }

        var boxColumn = Array(repeating: 0.0, count: grid.laneCount)
        var captionColumn = Array(repeating: 0.0, count: grid.laneCount)
        var rowHeight = Array(repeating: 0.0, count: grid.rowCount)
        for node in 0..<count {
            let lane = grid.lane[node], row = grid.row[node]
            boxColumn[lane] = max(boxColumn[lane], boxes[node].0)
            captionColumn[lane] = max(captionColumn[lane], captions[node].0)
            rowHeight[row] = max(rowHeight[row], boxes[node].1, captions[node].1)
        }
        var gutterLeft: [Double] = [], laneX: [Double] = []
        var x = margin
        for lane in 0..<grid.laneCount {
            gutterLeft.append(x)
            x += gutterBase + trackSpacing * Double(routes.tracks[lane])
            laneX.append(x)
            x += boxColumn[lane] + captionGap + captionColumn[lane] + laneRightPadding
        }
        var rowTop: [Double] = []
        var y = margin + titleHeight
        for row in 0..<grid.rowCount {
            rowTop.append(y)
            y += rowHeight[row] + rowGap
        }
        let summary = LayerCaption.summary(network)
        let titleWidth = max(Double(network.name.unicodeScalars.count) * DrawingScale.boldAdvance * DrawingScale.titleFontSize,
                             DrawingScale.captionWidth(["", summary]),
                             LayerCaption.legend.reduce(0) { $0 + LayerCaption.legendWidth($1.1) })
        let width = max(x + margin, 2 * margin + titleWidth)
        let height = y - rowGap + margin
        func rowBottom(_ row: Int) -> Double { rowTop[row] + rowHeight[row] }
        func centre(_ lane: Int) -> Double { laneX[lane] + boxColumn[lane] / 2 }
        func gutterX(_ lane: Int, _ track: Int) -> Double { gutterLeft[lane] + gutterBase / 2 + trackSpacing * Double(track) }

        var layers: [DrawnLayer] = []
        for node in 0..<count {
            let lane = grid.lane[node], row = grid.row[node]
            let box = DrawingRect(x: centre(lane) - boxes[node].0 / 2, y: rowTop[row],
                                  width: boxes[node].0, height: boxes[node].1)
            let caption = DrawingRect(x: laneX[lane] + boxColumn[lane] + captionGap, y: rowTop[row],
                                      width: captions[node].0, height: captions[node].1)
            layers.append(DrawnLayer(name: graph.names[node], category: graph.categories[node], lines: graph.lines[node],
                                     output: graph.shapes[node], box: box, caption: caption, lane: lane, row: row))
        }

        var edges: [DrawnEdge] = []
        for node in 0..<count {
            let sources = graph.inputs[node]
            let box = layers[node].box
            // Several arrows into one box arrive spread along its top edge, in the order of
            // the x they come down at, so they do not cross just above the box.
            func approachX(_ index: Int) -> Double {
                if case .gutter(let lane, let track) = routes.corridors[node][index] { return gutterX(lane, track) }
                return centre(layers[sources[index]].lane)
            }
            let order = sources.indices.sorted { (approachX($0), $0) < (approachX($1), $1) }
            var slot = Array(repeating: 0, count: sources.count)
            for (position, index) in order.enumerated() { slot[index] = position }
            for (index, source) in sources.enumerated() {
                let entry = DrawingPoint(x: box.x + box.width * Double(slot[index] + 1) / Double(sources.count + 1), y: box.y)
                let from = layers[source]
                let exitX = centre(from.lane)
                var points = [DrawingPoint(x: exitX, y: from.box.maxY)]
                switch routes.corridors[node][index] {
                case .direct:
                    points.append(DrawingPoint(x: exitX, y: rowBottom(from.row)))
                case .sourceLane:
                    points.append(DrawingPoint(x: exitX, y: rowBottom(layers[node].row - 1)))
                case .targetLane:
                    points.append(DrawingPoint(x: exitX, y: rowBottom(from.row)))
                    points.append(DrawingPoint(x: entry.x, y: rowTop[from.row + 1]))
                case .gutter(let lane, let track):
                    let gutter = gutterX(lane, track)
                    points.append(DrawingPoint(x: exitX, y: rowBottom(from.row)))
                    points.append(DrawingPoint(x: gutter, y: rowTop[from.row + 1]))
                    points.append(DrawingPoint(x: gutter, y: rowBottom(layers[node].row - 1)))
                }
                points.append(entry)
                edges.append(DrawnEdge(source: source, target: node, kind: graph.kinds[node][index], points: points))
            }
        }
        return NetworkDrawing(title: network.name, summary: summary,
                              width: width, height: height, layers: layers, edges: edges)
    }
}
