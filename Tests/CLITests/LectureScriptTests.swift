import Foundation
import Testing

/// examples/lectures: each script run as a reader runs it (/bin/bash, the built cnnc first on
/// PATH), its printed answer compared with the lecture's numbers, typed here from the lectures
/// (or, where the lecture gives only part, from arithmetic done by hand) — never cnnc's own
/// output recorded. A script in the folder without a test here fails `everyScriptHasATest`.
@Suite(.enabled(if: BuiltExecutable.cnnc != nil, "the cnnc executable is not built beside the tests"))
struct LectureScriptTests {
    static let folder = Paths.examples.appendingPathComponent("lectures")

    /// The scripts tested below, one test function each.
    static let tested: Set<String> = [
        "01-convolution", "02-x-or-o", "03-max-pooling", "04-average-pooling", "05-vertical-edges",
        "06-image-kernels", "07-strides", "08-conv-layers", "09-pad-fit", "10-lenet5", "11-alexnet",
        "12-conv-vs-fc",
    ]

    @Test func everyScriptHasATest() throws {
        let scripts = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path)
            .filter { $0.hasSuffix(".sh") }.map { String($0.dropLast(3)) }
        #expect(Set(scripts).subtracting(Self.tested).sorted() == [], "scripts without a test in LectureScriptTests")
        #expect(Self.tested.subtracting(scripts).sorted() == [], "tests of scripts that are not in examples/lectures")
    }

    // MARK: The examples, in lecture order

    @Test func convolutionOfTheImageWithTheXFilter() throws {
        let run = try Script("01-convolution").run()
        try expectShown(run, "c1", [[4, 3, 4,
                                     2, 4, 3,
                                     2, 3, 4]])
    }

    @Test func xOrOToyNetwork() throws {
        let run = try Script("02-x-or-o").run()
        // The lecture prints 7/9 as 0.77 and 5/9 as 0.55 (cut, not rounded): the exact ninths here.
        let ninths = { (values: [Double]) in values.map { $0 / 9 } }
        let match = try #require(PrintedOutput.shownLayers(run.output).first { $0.name == "match" }, "\(run.output)")
        try #require(match.channels.count == 3, "\(match)")
        expectValues(Array(match.channels[0].prefix(7)), ninths([7, -1, 1, 3, 5, -1, 3]), "the \\ feature's first row")
        let relu = try #require(PrintedOutput.shownLayers(run.output).first { $0.name == "relu" }, "\(run.output)")
        try #require(relu.channels.count == 3, "\(relu)")
        expectValues(Array(relu.channels[0].prefix(7)), ninths([7, 0, 1, 3, 5, 0, 3]), "after ReLU")
        let pool = try #require(PrintedOutput.shownLayers(run.output).first { $0.name == "pool" }, "\(run.output)")
        try #require(pool.channels.count == 3, "\(pool)")
        expectValues(pool.channels[0], ninths([9, 3, 5, 3,
                                               3, 9, 3, 5,
                                               5, 3, 9, 1,
                                               3, 5, 1, 7]), "the \\ feature pooled to 4x4")
        // The votes (the weights file explains them): each class averages the cells where its
        // ideal picture matches perfectly. The X picture at the O's four cells: 5/9, 5/9, 3/9,
        // 1/9, so 14/36; the O picture at the X's eight cells: (5+5+5+1+1+5+1+5)/9/8 = 28/72.
        let votes = PrintedOutput.rankedClasses(run.output)
        try #require(votes.count == 4, "\(run.output)")
        #expect(votes[0].classIndex == 0 && votes[1].classIndex == 1, "the X picture votes X first: \(votes)")
        expectValues([votes[0].score, votes[1].score], [1, 14.0 / 36], "the X picture's votes", tolerance: 0.00005)
        #expect(votes[2].classIndex == 1 && votes[3].classIndex == 0, "the O picture votes O first: \(votes)")
        expectValues([votes[2].score, votes[3].score], [1, 28.0 / 72], "the O picture's votes", tolerance: 0.00005)
    }

    @Test func maxPooling() throws {
        try expectShown(Script("03-max-pooling").run(), "pool", [[6, 8,
                                                                  3, 4]])
    }

    @Test func averagePooling() throws {
        try expectShown(Script("04-average-pooling").run(), "pool", [[1, 5,
                                                                      6, 2]])
    }

    @Test func verticalEdges() throws {
        let run = try Script("05-vertical-edges").run()
        let maps = PrintedOutput.shownLayers(run.output).filter { $0.name == "edge" }
        try #require(maps.count == 2 && maps.allSatisfy { $0.channels.count == 1 }, "\(run.output)")
        // The lecture's first row; the other two rows by hand: (4+3+2) − (3+2+8) = −3, …
        expectValues(maps[0].channels[0], [6, -9, -8,
                                           -3, -2, -3,
                                           -3, 0, -2], "the 5x5 image")
        expectValues(maps[1].channels[0], Array(repeating: [0, 0, 30, 30, 0, 0], count: 6).flatMap { $0 }, "the 8x8 image")
    }

    @Test func imageKernels() throws {
        let script = Script("06-image-kernels")
        let run = try script.run(arguments: ["pictures"])
        // The pictures: an index naming every kernel, and 64x64 grey PNGs.
        let pictures = run.scratch.path + "/pictures"
        let index = try String(contentsOfFile: pictures + "/index.html", encoding: .utf8)
        for kernel in ["edge", "sharpen", "emboss", "boxblur", "gaussian"] {
            #expect(index.contains(kernel), "index.html does not name \(kernel)")
        }
        let pngs = (FileManager.default.subpaths(atPath: pictures) ?? []).filter { $0.hasSuffix(".png") }
        #expect(pngs.count >= 5, "\(pngs)")
        for png in pngs {
            let bytes = try #require(FileManager.default.contents(atPath: pictures + "/" + png))
            expectGreyPNG([UInt8](bytes), width: 64, height: 64, png)
        }
        // The dot of brightness 16: a conv slides the kernel unflipped, so the dot answers with
        // the kernel turned half a turn, times 16.
        let kernels: [(String, [[Double]])] = [
            ("edge", [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
            ("sharpen", [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
            ("emboss", [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
            ("boxblur", Array(repeating: Array(repeating: 1.0 / 9, count: 3), count: 3)),
            ("gaussian", [[1, 2, 1], [2, 4, 2], [1, 2, 1]].map { $0.map { $0 / 16 } }),
        ]
        let shown = PrintedOutput.shownLayers(run.output)
        for (name, kernel) in kernels {
            var expected = Array(repeating: Array(repeating: 0.0, count: 5), count: 5)
            for i in 1...3 { for j in 1...3 { expected[i][j] = 16 * kernel[3 - i][3 - j] } }
            let layer = try #require(shown.first { $0.name == name }, "\(name) not shown: \(run.output)")
            try #require(layer.channels.count == 1, "\(layer)")
            expectValues(layer.channels[0], expected.flatMap { $0 }, "\(name) on the dot")
        }
    }

    @Test func strides() throws {
        let run = try Script("07-strides").run()
        // (7 − 3)/1 + 1 = 5, (7 − 3)/2 + 1 = 3, (7 − 3)/3 + 1 = 2.33 floored, (7 − 3 + 2)/1 + 1 = 7.
        expectRows(run, every: "c", [["5x5x1"], ["3x3x1"], ["2x2x1"], ["7x7x1"]])
        expectContains(run, "(7 − 3 + 2·0)/3 + 1 = 2.33, floored to 2")
    }

    @Test func convLayerSizes() throws {
        let run = try Script("08-conv-layers").run()
        // (32 − 5 + 4)/1 + 1 = 32, (5·5·3 + 1)·10 = 760; stride 2: 16.5 floored; (3·3·3 + 1)·10 =
        // 280; (64 + 1)·32 = 2,080; dilation 2 spans 5: (7 − 5)/1 + 1 = 3.
        expectRows(run, every: "c", [["32x32x10", "760"], ["16x16x10", "760"], ["32x32x10", "280"],
                                     ["56x56x32", "2,080"], ["3x3x1", "10"]])
    }

    @Test func paddingThatFits() throws {
        let run = try Script("09-pad-fit").run()
        // 33 − 5 = 28 is even: P = 0, 28/2 + 1 = 15. Then 15 − 5 = 10 is not a multiple of 3,
        // 10 + 2 = 12 is: P = 1, 12/3 + 1 = 5.
        expectRows(run, ["a", "b"], [["15x15x10", "(0)"], ["5x5x10", "(1)"]])
        expectContains(run, "P = 0: (33 − 5 + 0)/2 = 14 ✓")
        expectContains(run, "P = 0: (15 − 5 + 0)/3 = 3.33 ✗, P = 1: (15 − 5 + 2)/3 = 4 ✓")
        // On 32x32, 32 − 5 = 27 is odd; pad same: ⌈32/2⌉ = 16, (16 − 1)·2 + 5 − 32 = 3, split 1 and 2.
        expectContains(run, "32 − 5 = 27 is odd")
        expectContains(run, "'pad same' fits: 1 left, 2 right")
    }

    @Test func leNet5Table() throws {
        let run = try Script("10-lenet5").run()
        expectRows(run, ["c1", "c3", "f5", "f6", "out"], [["156"], ["2,416"], ["48,120"], ["10,164"], ["850"]])
        expectContains(run, "trainable parameters 61,706")
    }

    @Test func alexNetShapes() throws {
        let run = try Script("11-alexnet").run()
        // conv1's parameters: (11·11·3 + 1)·96 = 34,944.
        expectRows(run, ["conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool3", "fc6", "fc7", "fc8"],
                   [["55x55x96", "34,944"], ["27x27x96"], ["27x27x256"], ["13x13x256"], ["13x13x384"], ["13x13x384"],
                    ["13x13x256"], ["6x6x256"], ["4096"], ["4096"], ["1000"]])
    }

    @Test func convolutionVersusFullyConnected() throws {
        let run = try Script("12-conv-vs-fc").run()
        // 28·28·6 = 4,704 outputs; (5·5·3 + 1)·6 = 456 against (3,072 + 1)·4,704 = 14,455,392,
        // whose weights alone are 3,072 × 4,704 = 14,450,688 (also its MACs).
        expectRows(run, ["conv", "fc"], [["28x28x6", "4,704", "456"], ["4704", "14,455,392", "14,450,688"]])
    }

    // MARK: Running a script and reading what it printed

    struct Run {
        var output: String
        var scratch: ScratchFolder
    }

    struct Script {
        var name: String
        init(_ name: String) {
            precondition(LectureScriptTests.tested.contains(name), "\(name) is not in LectureScriptTests.tested")
            self.name = name
        }

        /// Runs the script with /bin/bash in a scratch folder (what it writes goes there), the
        /// built cnnc's folder first on PATH; exit status 0 is required.
        func run(arguments: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws -> Run {
            let scratch = try ScratchFolder("lecture-\(name)")
            let binaries = URL(fileURLWithPath: BuiltExecutable.cnnc!).deletingLastPathComponent().path
            let path = binaries + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
            let script = LectureScriptTests.folder.appendingPathComponent(name + ".sh").path
            let result = try shell("/bin/bash", [script] + arguments, in: scratch.path,
                                   environment: ["PATH": path, "NO_COLOR": "1", "CNNC_CACHE_DIR": scratch.file("cache")])
            try #require(result.status == 0, "\(name).sh exited with \(result.status):\n\(result.output)", sourceLocation: sourceLocation)
            return Run(output: result.output, scratch: scratch)
        }
    }

    /// Each shown channel of `layer` (the first time it is shown) equals the expected values.
    func expectShown(_ run: Run, _ layer: String, _ channels: [[Double]], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let shown = try #require(PrintedOutput.shownLayers(run.output).first { $0.name == layer },
                                 "\(layer) not shown:\n\(run.output)", sourceLocation: sourceLocation)
        try #require(shown.channels.count == channels.count, "\(shown)", sourceLocation: sourceLocation)
        for (found, expected) in zip(shown.channels, channels) {
            expectValues(found, expected, layer, sourceLocation: sourceLocation)
        }
    }

    /// Printed values (two decimals) against exact ones: within half a unit of the last place.
    func expectValues(_ found: [Double], _ expected: [Double], _ what: String, tolerance: Double = 0.005 + 1e-9,
                      sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(found.count == expected.count && zip(found, expected).allSatisfy { abs($0 - $1) <= tolerance },
                "\(what): printed \(found), expected \(expected.map { ($0 * 100).rounded() / 100 })", sourceLocation: sourceLocation)
    }

    func expectContains(_ run: Run, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(PrintedOutput.normalized(run.output).contains(PrintedOutput.normalized(fragment)),
                "'\(fragment)' not in:\n\(run.output)", sourceLocation: sourceLocation)
    }

    /// `check` table rows: the row named `layers[i]` holds each of `words[i]` as a word of its own.
    func expectRows(_ run: Run, _ layers: [String], _ words: [[String]], sourceLocation: SourceLocation = #_sourceLocation) {
        check(layers.map { PrintedOutput.tableRows(run.output, layer: $0).first ?? [$0, "(not printed)"] }, words,
              sourceLocation: sourceLocation)
    }

    /// The same for files whose layers share one name: the i-th row named `layer` holds `words[i]`.
    func expectRows(_ run: Run, every layer: String, _ words: [[String]], sourceLocation: SourceLocation = #_sourceLocation) {
        let rows = PrintedOutput.tableRows(run.output, layer: layer)
        #expect(rows.count == words.count, "\(rows.count) rows named \(layer):\n\(run.output)", sourceLocation: sourceLocation)
        check(rows, words, sourceLocation: sourceLocation)
    }

    private func check(_ rows: [[String]], _ words: [[String]], sourceLocation: SourceLocation) {
        for (row, expected) in zip(rows, words) {
            for word in expected {
                #expect(row.contains(word), "\(row.joined(separator: " ")) lacks \(word)", sourceLocation: sourceLocation)
            }
        }
    }

    /// A PNG's signature and header: 8-bit greyscale of the given size.
    func expectGreyPNG(_ bytes: [UInt8], width: Int, height: Int, _ name: String) {
        func be32(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        guard bytes.count > 33 else { Issue.record("\(name): \(bytes.count) bytes"); return }
        #expect(bytes.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "\(name): not a PNG")
        #expect(String(decoding: bytes[12..<16], as: UTF8.self) == "IHDR", "\(name)")
        #expect(be32(16) == width && be32(20) == height, "\(name): \(be32(16))x\(be32(20))")
        #expect(bytes[24] == 8 && bytes[25] == 0, "\(name): bit depth \(bytes[24]), colour type \(bytes[25])")
    }
}
