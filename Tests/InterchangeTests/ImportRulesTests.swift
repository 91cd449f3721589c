import Foundation
import Testing
@testable import Interchange

/// What each op becomes, and what is refused with which reason: one-node models built in
/// Swift, imported through their bytes and checked by cnnc's checker.
struct ImportRulesTests {
    static func weight(_ dims: [Int64], name: String = "w") -> ONNXTensor {
        .float(name, dims: dims, (0..<Int(dims.reduce(1, *))).map { Float($0 % 7) / 7 - 0.4 })
    }

    static func conv(_ attributes: [ONNXAttribute], weight dims: [Int64] = [3, 2, 3, 3], input: [Int64] = [1, 2, 6, 6]) -> ONNXModel {
        TinyModels.one("Conv", attributes, dims: input, inputs: ["w"], initializers: [weight(dims)])
    }

    @Test func convPaddingIsSymmetricOrPadSame() {
        #expect(TinyModels.layers(Self.conv([.ints("pads", [1, 2, 1, 2])])) == ["n: conv 3 3x3 pad 2x1 nobias"])
        // The pads 'pad same' would choose (the odd cell right and bottom) are written so.
        #expect(TinyModels.layers(Self.conv([.ints("pads", [0, 0, 1, 1]), .ints("strides", [2, 2])])) == ["n: conv 3 3x3 stride 2 pad same nobias"])
        #expect(TinyModels.layers(Self.conv([.string("auto_pad", "SAME_UPPER"), .ints("strides", [2, 2])])) == ["n: conv 3 3x3 stride 2 pad same nobias"])
        #expect(TinyModels.layers(Self.conv([.string("auto_pad", "SAME_LOWER")])) == ["n: conv 3 3x3 pad 1 nobias"])
        #expect(TinyModels.layers(Self.conv([.string("auto_pad", "VALID"), .ints("dilations", [1, 2])])) == ["n: conv 3 3x3 dilation 2x1 nobias"])
        #expect(TinyModels.refusal(Self.conv([.string("auto_pad", "SAME_LOWER"), .ints("strides", [2, 2])]))
            == "  Conv 'n': has auto_pad SAME_LOWER with an odd padding, whose extra cell goes left and top; the language's "
            + "'pad same' puts it right and bottom (SAME_UPPER)")
        #expect(TinyModels.refusal(Self.conv([.ints("pads", [1, 0, 0, 0])]))
            == "  Conv 'n': has asymmetric pads [1, 0, 0, 0] (top, left, bottom, right); the language pads both sides of an axis "
            + "alike, or as 'pad same' does (which here would be [1, 1, 1, 1])")
    }

    @Test func groupsBecomeGroupsOrDepthwise() {
        #expect(TinyModels.layers(Self.conv([.int("group", 2)], weight: [4, 1, 3, 3])) == ["n: depthwise 3x3 multiplier 2 nobias"])
        #expect(TinyModels.layers(Self.conv([.int("group", 2)], weight: [4, 2, 1, 1], input: [1, 4, 5, 5])) == ["n: conv 4 1x1 groups 2 nobias"])
        #expect(TinyModels.refusal(Self.conv([.int("group", 3)]))
            == "  Conv 'n': has group 3 and a weight [3, 2, 3, 3] that do not fit its input depth 2")
        #expect(TinyModels.refusal(Self.conv([], weight: [3, 2, 3])) == "  Conv 'n': has a weight of shape [3, 2, 3]; cnnc imports 2-D "
            + "convolutions (a float weight [K, C/group, kH, kW])")
    }

    @Test func poolsKeepTheirRounding() {
        let ceil = TinyModels.one("MaxPool", [.ints("kernel_shape", [3, 3]), .ints("strides", [2, 2]), .int("ceil_mode", 1)])
        #expect(TinyModels.layers(ceil) == ["n: maxpool 3x3 stride 2 round ceil"])
        let counted = TinyModels.one("AveragePool", [.ints("kernel_shape", [3, 3]), .ints("pads", [1, 1, 1, 1]), .int("count_include_pad", 1)])
        #expect(TinyModels.layers(counted) == ["n: avgpool 3x3 stride 1 pad 1"])
        let excluded = TinyModels.one("AveragePool", [.ints("kernel_shape", [3, 3]), .ints("pads", [1, 1, 1, 1])])
        #expect(TinyModels.refusal(excluded) == "  AveragePool 'n': averages without its padded cells (count_include_pad = 0) but pads "
            + "[1, 1, 1, 1]; cnnc's avgpool counts them, as torch's default count_include_pad=True")
        // Without padding, what is counted does not matter.
        #expect(TinyModels.layers(TinyModels.one("AveragePool", [.ints("kernel_shape", [2, 2]), .ints("strides", [2, 2])])) == ["n: avgpool 2x2"])
        let wide = TinyModels.one("MaxPool", [.ints("kernel_shape", [2, 2]), .ints("pads", [2, 2, 2, 2])])
        #expect(TinyModels.refusal(wide) == "  MaxPool 'n': pads more than half its 2x2 window (pads [2, 2, 2, 2]); torch and cnnc allow at most half")
        let dilated = TinyModels.one("MaxPool", [.ints("kernel_shape", [2, 2]), .ints("dilations", [2, 2])])
        #expect(TinyModels.refusal(dilated) == "  MaxPool 'n': has dilations [2, 2]; the language's pools have none")
    }

    @Test func activationsOutsideTheLanguageAreRefused() {
        #expect(TinyModels.layers(TinyModels.one("Softmax", [.int("axis", 1)])) == ["n: softmax"])
        #expect(TinyModels.refusal(TinyModels.one("Softmax"))
            == "  Softmax 'n': is over axis -1 of [1, 2, 6, 6]; the language's softmax is over the channels, axis 1")
        #expect(TinyModels.refusal(TinyModels.one("Softmax", [.int("axis", 1)], opset: 11))
            == "  Softmax 'n': is over axis 1 of [1, 2, 6, 6] (before opset 13, over every axis from it on); the language's "
            + "softmax is over the channels, axis 1")
        #expect(TinyModels.refusal(TinyModels.one("HardSigmoid"))
            == "  HardSigmoid 'n': has alpha 0.2 and beta 0.5; the language's hardsigmoid is torch's, relu6(x + 3)/6 (alpha 1/6, beta 0.5)")
        #expect(TinyModels.refusal(TinyModels.one("LRN", [.int("size", 4)]))
            == "  LRN 'n': has an even size 4; ONNX and torch centre an even window differently, so only odd sizes import")
        #expect(TinyModels.layers(TinyModels.one("LRN", [.int("size", 5)])) == ["n: lrn k 1"])
        let clip = TinyModels.one("Clip", inputs: ["lo", "hi"], initializers: [.float("lo", dims: [], [-1]), .float("hi", dims: [], [1])])
        #expect(TinyModels.refusal(clip) == "  Clip 'n': clips to [-1.0, 1.0]; the language clips only as relu (min 0) and relu6 (min 0, max 6)")
        let relu = TinyModels.one("Clip", inputs: ["lo"], initializers: [.float("lo", dims: [], [0])])
        #expect(TinyModels.layers(relu) == ["n: relu"])
        #expect(TinyModels.layers(TinyModels.one("Clip", [.float("min", 0), .float("max", 6)], opset: 10)) == ["n: relu6"])
        #expect(TinyModels.layers(TinyModels.one("LeakyRelu")) == ["n: leakyrelu"])
        #expect(TinyModels.layers(TinyModels.one("Gelu", [.string("approximate", "tanh")], opset: 20)) == ["n: gelu tanh"])
    }

    @Test func reshapesOtherThanFlattenAreRefused() {
        let rank3 = TinyModels.one("Reshape", inputs: ["s"], initializers: [.int64("s", dims: [3], [1, 2, 36])])
        #expect(TinyModels.refusal(rank3) == "  Reshape 'n': reshapes [1, 2, 6, 6] to [1, 2, 36]; cnnc imports a Reshape only as a flatten to [N, C·H·W] "
            + "or in a channel shuffle (to [N, G, C/G, H, W], Transpose [0, 2, 1, 3, 4], back)")
        let flat = TinyModels.one("Reshape", inputs: ["s"], initializers: [.int64("s", dims: [2], [0, -1])])
        #expect(TinyModels.layers(flat) == ["n: flatten"])
        #expect(TinyModels.refusal(TinyModels.one("Flatten", [.int("axis", 2)]))
            == "  Flatten 'n': flattens at axis 2; cnnc's flatten keeps the batch, axis 1")
    }

    @Test func gemmWeightsAreTransposedAndScaled() throws {
        let model = TinyModels.graph([.value(1), .value(3)], [.make("Gemm", ["x", "b", "c"], ["y"], name: "fc", [.float("alpha", 2), .float("beta", 0.5)])],
                                     initializers: [.float("b", dims: [3, 2], [1, 2, 3, 4, 5, 6]), .float("c", dims: [2], [10, 20])])
        let network = try ONNXImport.translate(ONNXImport.decode(model.encoded()),
                                               options: ImportOptions(networkName: "g", modelName: "g.onnx", weightsName: "g.safetensors"))
        // B is [K, N] without transB: the fc weight is its transpose, times alpha; the bias times beta.
        #expect(network.weights["fc.weight"]?.shape == [2, 3] && network.weights["fc.weight"]?.storage == [2, 6, 10, 4, 8, 12])
        #expect(network.weights["fc.bias"]?.storage == [5, 10])
        let transA = TinyModels.graph([.value(1), .value(3)], [.make("Gemm", ["x", "b"], ["y"], name: "fc", [.int("transA", 1)])],
                                      initializers: [.float("b", dims: [3, 2], [1, 2, 3, 4, 5, 6])])
        #expect(TinyModels.refusal(transA) == "  Gemm 'fc': has transA = 1; the layer's input is always [N, K]")
    }

    @Test func theModelAsAWholeIsChecked() {
        func failure(_ model: ONNXModel, inputShape: [Int]? = nil) -> String? {
            if case .failure(let error) = TinyModels.imported(model, inputShape: inputShape) { return error.message }
            return nil
        }
        var two = TinyModels.one("Relu")
        two.graph.inputs.append(.tensor("z", [.value(1)]))
        #expect(failure(two) == "the graph has 2 inputs ('x', 'z'); a cnnc network has one")
        var ints = TinyModels.one("Relu")
        ints.graph.inputs[0].elemType = ONNXTensor.DataType.int64.rawValue
        #expect(failure(ints) == "input 'x' is INT64; a cnnc network takes float32 (FLOAT)")
        #expect(failure(TinyModels.one("Relu", dims: [1, 2, 6])) == "input 'x' has rank 3 ([1, 2, 6]); cnnc imports an image input [N, C, H, W] or a vector [N, K]")
        var declared = TinyModels.one("Relu")
        declared.graph.outputs = [.tensor("y", [.value(1), .value(2), .value(6), .value(5)])]
        #expect(failure(declared) == "the model declares its output 'y' as [1, 2, 6, 5], but the imported network computes [1, 2, 6, 6]; nothing was written")
        #expect(failure(TinyModels.one("Identity")) == "the graph's output 'y' is its input; there is no layer to import")
        var old = TinyModels.one("Relu")
        old.opsets = [.init(domain: "", version: 6)]
        #expect(failure(old) == "uses ONNX opset 6; cnnc import reads opset 7 and later")
        var custom = TinyModels.one("Relu")
        custom.graph.nodes[0].domain = "com.example"
        #expect(failure(custom) == "1 of 1 node cannot be imported; nothing was written\n  unsupported op com.example.Relu: 1 node: 'n'")
        var unknown = TinyModels.one("Relu")
        unknown.graph.nodes[0].inputs = ["nowhere"]
        #expect(failure(unknown) == "1 of 1 node cannot be imported; nothing was written\n  Relu 'n': reads 'nowhere', which is not the "
            + "graph's input, an initializer or the output of a node before it")
    }

    @Test func tensorsAreCheckedAgainstTheirDims() {
        func message(_ tensor: ONNXTensor) -> String? {
            do { _ = try tensor.constant(); return nil } catch { return error.message }
        }
        var short = ONNXTensor.float("w", dims: [2, 3], [1, 2, 3, 4, 5, 6])
        short.rawData?.removeLast()
        #expect(message(short) == "tensor 'w' has 23 bytes of raw_data, but its dims [2, 3] of FLOAT need 24")
        var typed = ONNXTensor()
        typed.name = "t"
        typed.dims = [3]
        typed.dataType = ONNXTensor.DataType.float.rawValue
        typed.floatData = [1, 2]
        #expect(message(typed) == "tensor 't' has 2 values in float_data, but its dims [3] need 3")
        typed.dataType = ONNXTensor.DataType.float16.rawValue
        #expect(message(typed) == "tensor 't' has data type FLOAT16; cnnc import reads FLOAT, DOUBLE, INT32, INT64 and small integer "
            + "and BOOL tensors")
        typed.dims = [-1]
        #expect(message(typed) == "tensor 't' has a negative dimension -1 in dims [-1]")
        typed.dims = [1 << 40, 1 << 40]
        #expect(message(typed) == "tensor 't' has dims [1099511627776, 1099511627776], more than 2147483648 values")
        var external = ONNXTensor.float("e", dims: [1], [1])
        external.externalLocation = "weights.bin"
        external.dataLocation = 1
        #expect(message(external)?.hasPrefix("tensor 'e' keeps its data in another file ('weights.bin')") == true)
        var doubles = ONNXTensor()
        doubles.dims = [2]
        doubles.dataType = ONNXTensor.DataType.double.rawValue
        doubles.doubleData = [0.5, 1e300]
        #expect(message(doubles) == "a tensor at byte offset 0 has value 1e+300 at index 1, outside the float32 range cnnc computes in")
    }

    @Test func dropoutAndASumOfOneAreLeftOut() {
        var flag = ONNXTensor()
        flag.name = "training"
        flag.dataType = ONNXTensor.DataType.bool.rawValue
        flag.rawData = [0]
        let dropout = TinyModels.graph([.value(1), .value(4)], opset: 13, [
            .make("Dropout", ["x", "", "training"], ["d"], name: "drop"), .make("Sum", ["d"], ["s"], name: "sum"),
            .make("Relu", ["s"], ["y"], name: "relu"),
        ], initializers: [flag])
        #expect(TinyModels.layers(dropout) == ["relu: relu"])
        flag.rawData = [1]
        var training = dropout
        training.graph.initializers = [flag]
        #expect(TinyModels.refusal(training) == "  Dropout 'drop': is in training mode; cnnc runs inference, where dropout is the identity")
    }

    @Test func namesAreMadeValidAndUnique() {
        #expect(NameTable.cleaned("/layer1/layer1.0/conv1/Conv", opType: "Conv") == "layer1.0.conv1")
        #expect(NameTable.cleaned("/features/features.0/features.0.0/Conv", opType: "Conv") == "features.0.0")
        #expect(NameTable.cleaned("/layer1/layer1.0/relu_1/Relu", opType: "Relu") == "layer1.0.relu_1")
        #expect(NameTable.cleaned("/Flatten", opType: "Flatten") == "Flatten")
        #expect(NameTable.cleaned("onnx::Conv_12", opType: "Conv") == "onnx__Conv_12")
        #expect(NameTable.cleaned("123", opType: "Relu") == nil)
        #expect(NameTable.cleaned("x\u{1B}[2J", opType: "Relu") == "x__2J")
        var names = NameTable()
        #expect(names.unique(candidates: ["a"], fallback: "conv") == "a")
        #expect(names.unique(candidates: ["a"], fallback: "conv") == "a_2")
        #expect(names.unique(candidates: [nil], fallback: "conv") == "conv")
        #expect(names.unique(candidates: ["input"], fallback: "conv") == "input_2")
    }

    /// The fixtures' bytes corrupted a few thousand times: each import either works or says
    /// why, quickly; none crashes.
    @Test func corruptedModelsNeverCrashTheImport() throws {
        let valid = try [UInt8](Data(contentsOf: ONNXFixtures.folder.appendingPathComponent("chain.onnx")))
        let start = ContinuousClock.now
        var imported = 0, refused = 0
        forEachCorruption(of: valid, seed: 2121, runs: 3000, perCopy: 4) { bytes in
            do {
                let model = try ONNXImport.decode(bytes)
                _ = try ONNXImport.translate(model, options: ONNXFixtures.options("fuzz"))
                imported += 1
            } catch {
                refused += 1
            }
        }
        #expect(imported + refused == 3000 && imported > 0 && refused > 0)
        #expect(ContinuousClock.now - start < .seconds(30))
    }

    @Test func aFileOverTheLimitIsRefusedBeforeItIsRead() throws {
        let path = ONNXFixtures.file("chain", "onnx")
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        #expect(throws: (any Error).self) { _ = try ONNXImport.read(path, limit: 100) }
        do {
            _ = try ONNXImport.read(path, limit: 100)
        } catch {
            #expect("\(error)" == "\(path): file is larger than 100 bytes (\(size) bytes); protobuf, and so ONNX, allows at most 2 GiB in one file")
        }
    }
}
