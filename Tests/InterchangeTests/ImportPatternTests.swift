import Foundation
import Testing
@testable import Interchange

/// Patterns of several nodes that become one line: channel shuffle, chunk and split as
/// slices, ReduceMean as globalavgpool; and what is refused when a pattern is broken.
struct ImportPatternTests {
    static func body(_ text: String) -> [String] {
        text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("network ") && !$0.hasPrefix("input ") }
            .map { String($0.prefix { $0 != "#" }).trimmingCharacters(in: .whitespaces) }
    }

    @Test func theShuffleUnitReadsAsTheLanguageWritesIt() throws {
        let text = try ONNXFixtures.imported("shuffle").text
        #expect(Self.body(text) == ["stem: conv 8 1x1 relu", "shuffle: shuffle 2", "chunk: slice 0 4", "chunk_2: slice 4 8 from shuffle",
                                    "branch.0: conv 4 3x3 pad 1 relu", "cat: concat chunk branch.0", "split: slice 0 3",
                                    "split_2: slice 3 8 from cat", "split_3: relu", "cat2: concat split_3 split",
                                    "ReduceMean: globalavgpool", "ReduceMean.flatten: flatten", "fc: fc 3"])
        let legacy = Self.body(try ONNXFixtures.imported("split_legacy").text)
        #expect(legacy.contains("split_even_2: slice 2 4 from split_2") && legacy.contains("slice_b: slice 1 2"))
        #expect(legacy.suffix(2) == ["mean: globalavgpool", "flatten: flatten"])
    }

    static let x: [ONNXValueInfo.Dimension] = [.value(1), .value(4), .value(3), .value(3)]

    /// Reshape to [1, 2, 2, 3, 3], Transpose by `perm`, Reshape to `back`.
    static func shuffle(perm: [Int64], back: [Int64]) -> ONNXModel {
        TinyModels.graph(x, [.make("Reshape", ["x", "five"], ["g"], name: "split_groups"),
                             .make("Transpose", ["g"], ["t"], name: "swap", [.ints("perm", perm)]),
                             .make("Reshape", ["t", "back"], ["y"], name: "join")],
                         initializers: [.int64("five", dims: [5], [1, 2, 2, 3, 3]), .int64("back", dims: [Int64(back.count)], back)])
    }

    @Test func aBrokenShuffleIsRefused() {
        #expect(TinyModels.layers(Self.shuffle(perm: [0, 2, 1, 3, 4], back: [1, -1, 3, 3])) == ["join: shuffle 2"])
        // Without the Transpose, the Reshapes cancel out and nothing is left to import.
        let flat = TinyModels.refusal(Self.shuffle(perm: [0, 2, 1, 3, 4], back: [1, 36]))
        #expect(flat == "  Reshape 'join': reads the 2 channel groups of 'input' transposed [1, 2, 2, 3, 3], which cnnc imports "
            + "only when a Reshape back to [1, 4, 3, 3] completes the channel shuffle")
        let other = TinyModels.refusal(Self.shuffle(perm: [0, 1, 2, 4, 3], back: [1, 4, 3, 3]))
        #expect(other?.hasPrefix("  Transpose 'swap': transposes [1, 2, 2, 3, 3] by perm [0, 1, 2, 4, 3]; cnnc imports a Transpose "
            + "only as the channels-last permute") == true)
        let rank5 = TinyModels.graph(Self.x, [.make("Reshape", ["x", "five"], ["y"], name: "r")],
                                     initializers: [.int64("five", dims: [5], [1, 2, 2, 3, 3])])
        guard case .failure(let error) = TinyModels.imported(rank5) else { Issue.record("imported"); return }
        #expect(error.message.hasPrefix("the graph's output 'y' is the channels of 'input' split into 2 groups [1, 2, 2, 3, 3]"))
    }

    static func slice(_ starts: [Int64], _ ends: [Int64], axes: [Int64], steps: [Int64]? = nil) -> ONNXModel {
        var initializers: [ONNXTensor] = [.int64("s", dims: [Int64(starts.count)], starts), .int64("e", dims: [Int64(ends.count)], ends),
                                          .int64("a", dims: [Int64(axes.count)], axes)]
        if let steps { initializers.append(.int64("p", dims: [Int64(steps.count)], steps)) }
        return TinyModels.one("Slice", dims: [1, 4, 3, 3], inputs: steps == nil ? ["s", "e", "a"] : ["s", "e", "a", "p"], initializers: initializers)
    }

    @Test func slicesKeepAChannelRange() {
        #expect(TinyModels.layers(Self.slice([1], [3], axes: [1])) == ["n: slice 1 3"])
        #expect(TinyModels.layers(Self.slice([-2, 0], [Int64.max, 3], axes: [1, 3])) == ["n: slice 2 4"])
        #expect(TinyModels.refusal(Self.slice([0], [2], axes: [2])) == "  Slice 'n': slices axis 2 of [1, 4, 3, 3] from 0 to 2; cnnc "
            + "imports a Slice only of a channel range (axis 1), step 1, as 'slice FROM TO'")
        #expect(TinyModels.refusal(Self.slice([0], [4], axes: [1], steps: [2])) == "  Slice 'n': slices axis 1 of [1, 4, 3, 3] from 0 "
            + "to 4 by 2; cnnc imports a Slice only of a channel range (axis 1), step 1, as 'slice FROM TO'")
        #expect(TinyModels.refusal(Self.slice([3], [1], axes: [1])) == "  Slice 'n': keeps no channels (3 to 1 of 4)")
    }

    @Test func splitsAndReductionsOutsideTheLanguageAreRefused() {
        let batch = TinyModels.graph(Self.x, [.make("Split", ["x"], ["y", "z"], name: "n", [.int("axis", 0)])])
        #expect(TinyModels.refusal(batch) == "  Split 'n': splits axis 0 of [1, 4, 3, 3]; cnnc imports a Split only of the channels (axis 1)")
        let uneven = TinyModels.graph(Self.x, [.make("Split", ["x", "s"], ["y", "z"], name: "n", [.int("axis", 1)])],
                                      initializers: [.int64("s", dims: [2], [1, 2])])
        #expect(TinyModels.refusal(uneven) == "  Split 'n': has split [1, 2] for 2 outputs of 4 channels")
        #expect(TinyModels.layers(TinyModels.one("ReduceMean", [.ints("axes", [-2, -1])])) == ["n: globalavgpool"])
        #expect(TinyModels.layers(TinyModels.one("ReduceMax", [.ints("axes", [2, 3]), .int("keepdims", 0)]))
            == ["n: globalmaxpool", "n.flatten: flatten"])
        let axesInput = TinyModels.one("ReduceMean", [.int("keepdims", 1)], opset: 18, inputs: ["a"],
                                       initializers: [.int64("a", dims: [2], [2, 3])])
        #expect(TinyModels.layers(axesInput) == ["n: globalavgpool"])
        #expect(TinyModels.refusal(TinyModels.one("ReduceMean", [.ints("axes", [1])])) == "  ReduceMean 'n': reduces axes [1] of "
            + "[1, 2, 6, 6]; cnnc imports a ReduceMean only over the height and width (axes [2, 3]) as 'globalavgpool'")
        #expect(TinyModels.refusal(TinyModels.one("ReduceMean")) == "  ReduceMean 'n': reduces axes (all) of [1, 2, 6, 6]; cnnc "
            + "imports a ReduceMean only over the height and width (axes [2, 3]) as 'globalavgpool'")
    }
}

/// ConvNeXt's channels-last block: Transpose, LayerNormalization, MatMul + Add as pointwise,
/// the Erf GELU, the layer scale, the Transpose back.
struct ImportChannelsLastTests {
    @Test func theConvNeXtBlockReadsAsTheLanguageWritesIt() throws {
        let text = try ONNXFixtures.imported("convnext").text
        let body = ImportPatternTests.body(text)
        #expect(body.prefix(7) == ["stem: conv 6 2x2 stride 2", "b0.dw: depthwise 3x3 pad 1", "b0.norm: layernorm eps 1e-06",
                                   "b0.fc1: pointwise 24 gelu", "b0.fc2: pointwise 6", "b0: layerscale", "b0_2: add b0 stem"])
        // The second block's GELU is written 0.5·x first and x·(1/√2): the same line.
        #expect(body.contains("b1.fc1: pointwise 24 gelu") && body.contains("b1: layerscale"))
        #expect(text.contains("# 3x4x24; onnx: MatMul, Add, Mul, Mul, Erf, Add, Mul\n"))
        #expect(body.suffix(4) == ["avgpool: globalavgpool", "head.norm: layernorm eps 1e-06", "head: flatten", "head.fc: fc 4"])
        let imported = try ONNXFixtures.imported("convnext")
        #expect(imported.weights["b0.layer_scale"]?.shape == [6, 1, 1] && imported.weights["b1.layer_scale"]?.shape == [6, 1, 1])
        #expect(imported.weights["b0.fc1.weight"]?.shape == [24, 6] && imported.weights["b0.fc1.bias"]?.shape == [24])
    }

    static let x: [ONNXValueInfo.Dimension] = [.value(1), .value(4), .value(3), .value(3)]
    static let toLast = ONNXNode.make("Transpose", ["x"], ["t"], name: "permute", [.ints("perm", [0, 2, 3, 1])])

    static func failure(_ model: ONNXModel) -> String? {
        if case .failure(let error) = TinyModels.imported(model) { return error.message }
        return nil
    }

    @Test func channelsLastOutsideTheBlockIsRefused() {
        let conv = TinyModels.graph(Self.x, [Self.toLast, .make("Conv", ["t", "w"], ["y"], name: "n")],
                                    initializers: [ImportRulesTests.weight([4, 4, 1, 1])])
        #expect(TinyModels.refusal(conv) == "  Conv 'n': reads 't', a channels-last [N, H, W, C] tensor (after a Transpose [0, 2, 3, 1]); "
            + "cnnc imports only LayerNormalization, MatMul, Add, Mul, activations and the Transpose back on it")
        #expect(Self.failure(TinyModels.graph(Self.x, [.make("Transpose", ["x"], ["y"], name: "p", [.ints("perm", [0, 2, 3, 1])])]))
            == "the graph's output 'y' is channels-last [N, H, W, C] (a Transpose [0, 2, 3, 1] not undone); a cnnc network's output is [N, C, H, W]")
        let norm = TinyModels.one("LayerNormalization", [.int("axis", 1)], dims: [1, 4, 3, 3], inputs: ["s"],
                                  initializers: [.float("s", dims: [4], [1, 1, 1, 1])])
        #expect(TinyModels.refusal(norm) == "  LayerNormalization 'n': normalises axes 1… of [1, 4, 3, 3]; the language's layernorm is "
            + "over the channels alone (the last axis after a Transpose [0, 2, 3, 1], as ConvNeXt's)")
        let scale = TinyModels.one("Mul", dims: [1, 4, 3, 3], inputs: ["s"], initializers: [.float("s", dims: [4, 1], [1, 2, 3, 4])])
        #expect(TinyModels.refusal(scale) == "  Mul 'n': multiplies [1, 4, 3, 3] by a constant [4, 1]; the language scales channels by "
            + "one value each (layerscale: [C, 1, 1], or [C] channels-last)")
        let layerScale = TinyModels.one("Mul", dims: [1, 4, 3, 3], inputs: ["s"], initializers: [.float("blk.layer_scale", dims: [4, 1, 1], [1, 2, 3, 4])])
        var renamed = layerScale
        renamed.graph.nodes[0].inputs = ["x", "blk.layer_scale"]
        #expect(TinyModels.layers(renamed) == ["blk: layerscale"])
    }

    @Test func activationsKeepTheLayout() {
        let nodes: [ONNXNode] = [Self.toLast, .make("Gelu", ["t"], ["g"], name: "gelu"), .make("Relu", ["g"], ["r"], name: "relu"),
                                 .make("Transpose", ["r"], ["y"], name: "back", [.ints("perm", [0, 3, 1, 2])])]
        #expect(TinyModels.layers(TinyModels.graph(Self.x, opset: 20, nodes)) == ["gelu: gelu", "relu: relu"])
    }

    @Test func aBrokenGeluIsRefused() {
        let two = ONNXTensor.float("two", dims: [], [2])
        // erf(x/2) is no GELU: the Erf is an op the language lacks.
        let half = TinyModels.graph(Self.x, [.make("Div", ["x", "two"], ["d"], name: "div"), .make("Erf", ["d"], ["y"], name: "erf")],
                                    initializers: [two])
        #expect(Self.failure(half) == "1 of 2 nodes cannot be imported; nothing was written\n  unsupported op Erf: 1 node: 'erf'")
        let scaled = TinyModels.graph(Self.x, [.make("Mul", ["x", "two"], ["m"], name: "mul"), .make("Relu", ["m"], ["y"], name: "relu")],
                                      initializers: [two])
        #expect(TinyModels.refusal(scaled)?.hasPrefix("  Relu 'relu': reads 'm', 2·x of 'input', which cnnc imports only as part of a GELU") == true)
        let sqrt2 = ONNXTensor.float("r", dims: [], [Float(2.0.squareRoot())]), one = ONNXTensor.float("one", dims: [], [1])
        let gelu = TinyModels.graph(Self.x, [.make("Div", ["x", "r"], ["d"]), .make("Erf", ["d"], ["e"]), .make("Add", ["one", "e"], ["a"]),
                                             .make("Mul", ["a", "x"], ["m"]), .make("Mul", ["m", "h"], ["y"], name: "g")],
                                    initializers: [sqrt2, one, .float("h", dims: [1], [0.5])])
        #expect(TinyModels.layers(gelu) == ["g: gelu"])
        var noHalf = gelu
        noHalf.graph.initializers[2] = .float("h", dims: [1], [0.25])
        #expect(Self.failure(noHalf)?.hasPrefix("the graph's output 'y' is 0.25·x·(1 + erf(x/√2)) of 'input'") == true)
    }
}

/// The dynamo exporter's `as_strided` of a contiguous [1, C, 1, 1]: Reshape to [C], Gather
/// of 0..<C in the old shape.
struct ImportDynamoTests {
    static func asStrided(_ indices: [Int64], shape: [Int64]) -> ONNXModel {
        TinyModels.graph([.value(1), .value(4), .value(1), .value(1)],
                         [.make("Reshape", ["x", "flat"], ["f"], name: "view"), .make("Gather", ["f", "i"], ["g"], name: "strided"),
                          .make("Relu", ["g"], ["y"], name: "relu")],
                         initializers: [.int64("flat", dims: [1], [4]), .int64("i", dims: shape, indices)])
    }

    @Test func aSharedWeightNamesNoLayer() {
        let shared = TinyModels.graph([.value(1), .value(2), .value(4), .value(4)],
                                      [.make("Conv", ["x", "c.weight"], ["a"], name: "/first/Conv"),
                                       .make("Conv", ["a", "c.weight"], ["b"], name: "/second/Conv"),
                                       .make("Gelu", ["b"], ["y"], name: "/act/Gelu")],
                                      initializers: [ImportRulesTests.weight([2, 2, 1, 1], name: "c.weight")])
        #expect(TinyModels.layers(shared) == ["first: conv 2 1x1 nobias", "second: conv 2 1x1 nobias gelu"])
    }

    @Test func aLinearIsNamedAfterItsBiasWhenItsWeightHasNoTorchName() throws {
        let linear = TinyModels.graph([.value(1), .value(3)], [.make("MatMul", ["x", "val_4"], ["m"], name: "node_MatMul_1"),
                                                               .make("Add", ["m", "head.fc.bias"], ["y"], name: "node_linear")],
                                      initializers: [ImportRulesTests.weight([3, 2], name: "val_4"), .float("head.fc.bias", dims: [2], [1, 2])])
        #expect(TinyModels.layers(linear) == ["head.fc: fc 2"])
        let network = try ONNXImport.translate(ONNXImport.decode(linear.encoded()), options: ONNXFixtures.options("t"))
        #expect(network.weights["head.fc.bias"]?.storage == [1, 2] && network.weights["head.fc.weight"]?.shape == [2, 3])
    }

    @Test func aGatherOfEveryIndexGivesTheLayerBack() {
        #expect(TinyModels.layers(Self.asStrided([0, 1, 2, 3], shape: [1, 4, 1, 1])) == ["relu: relu"])
        #expect(TinyModels.layers(Self.asStrided([0, 1, 2, 3], shape: [1, 4])) == ["strided: flatten", "relu: relu"])
        #expect(TinyModels.refusal(Self.asStrided([1, 0, 2, 3], shape: [1, 4, 1, 1])) == "  Gather 'strided': gathers other elements "
            + "than all 4 of 'input' in order; cnnc imports a Gather of a layer output only as that (the dynamo exporter's as_strided "
            + "of a contiguous tensor)")
        let plain = TinyModels.graph([.value(1), .value(4)], [.make("Gather", ["x", "i"], ["y"], name: "g")],
                                     initializers: [.int64("i", dims: [1], [0])])
        guard case .failure(let error) = TinyModels.imported(plain) else { Issue.record("imported"); return }
        #expect(error.message == "1 of 1 node cannot be imported; nothing was written\n  unsupported op Gather: 1 node: 'g'")
    }
}
