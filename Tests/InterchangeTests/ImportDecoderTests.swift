import Foundation
import Testing
@testable import Interchange

/// ConvTranspose as deconv, Resize as upsample, Pad folded into the Conv or pool reading it.
struct ImportDecoderTests {
    @Test func theDecoderReadsAsTheLanguageWritesIt() throws {
        let body = ImportPatternTests.body(try ONNXFixtures.imported("decoder").text)
        #expect(body == ["stem: conv 4 3x3 pad 1 relu", "up1: deconv 3 3x3 stride 2 pad 1 outpad 1",
                         "up2: deconv 4 3x3 stride 2 pad 1 outpad 1 groups 2 nobias from stem", "up3: upsample 2 from stem",
                         "up4: upsample 2 from stem", "up5: upsample 2 bilinear from stem", "up6: upsample 2 bilinear aligncorners from stem",
                         "cat: concat up1 up2 up3 up4 up5 up6", "mix: conv 6 3x3 pad 1 padmode reflect", "down: conv 5 3x3 stride 2 pad same",
                         "pool: avgpool 3x3 stride 1 pad 1"])
    }

    static let x: [ONNXValueInfo.Dimension] = [.value(1), .value(2), .value(4), .value(4)]

    static func deconv(_ attributes: [ONNXAttribute]) -> ONNXModel {
        TinyModels.one("ConvTranspose", attributes + [.ints("strides", [2, 2])], dims: [1, 2, 4, 4], inputs: ["w"],
                       initializers: [ImportRulesTests.weight([2, 3, 3, 3])])
    }

    @Test func transposedConvolutionsMapToTorchsPadding() {
        #expect(TinyModels.layers(Self.deconv([])) == ["n: deconv 3 3x3 stride 2 nobias"])
        #expect(TinyModels.layers(Self.deconv([.ints("output_shape", [8, 8])])) == ["n: deconv 3 3x3 stride 2 pad 1 outpad 1 nobias"])
        // The odd cell of the total padding is cropped at the start by SAME_LOWER (torch's way) and at the end by SAME_UPPER.
        #expect(TinyModels.layers(Self.deconv([.string("auto_pad", "SAME_LOWER")])) == ["n: deconv 3 3x3 stride 2 pad 1 outpad 1 nobias"])
        #expect(TinyModels.refusal(Self.deconv([.string("auto_pad", "SAME_UPPER")]))?.hasPrefix("  ConvTranspose 'n': has pads [0, 0, 1, 1]") == true)
        #expect(TinyModels.refusal(Self.deconv([.ints("pads", [0, 0, 1, 1])])) == "  ConvTranspose 'n': has pads [0, 0, 1, 1] and "
            + "output_padding [0, 0]; the language's deconv crops both sides alike and adds at most stride − 1 cells at the far side "
            + "(torch's padding and output_padding)")
    }

    /// TF's SAME (the odd cell right and bottom) is 'pad same'; other one-sided pads name the node and its pads.
    @Test func asymmetricPadsArePadSameOrRefused() {
        let pool = TinyModels.one("MaxPool", [.ints("kernel_shape", [3, 3]), .ints("strides", [2, 2]), .ints("pads", [0, 0, 1, 1])])
        #expect(TinyModels.layers(pool) == ["n: maxpool 3x3 stride 2 pad same"])
        let average = TinyModels.one("AveragePool", [.ints("kernel_shape", [2, 2]), .ints("pads", [0, 0, 1, 1]), .int("count_include_pad", 1)])
        #expect(TinyModels.layers(average) == ["n: avgpool 2x2 stride 1 pad same"])
        let other = TinyModels.one("MaxPool", [.ints("kernel_shape", [3, 3]), .ints("strides", [2, 2]), .ints("pads", [1, 1, 0, 0])])
        #expect(TinyModels.refusal(other) == "  MaxPool 'n': has asymmetric pads [1, 1, 0, 0] (top, left, bottom, right); the language "
            + "pads both sides of an axis alike, or as 'pad same' does (which here would be [0, 0, 1, 1])")
    }

    static func resize(_ attributes: [ONNXAttribute], scales: [Float] = [1, 1, 2, 2]) -> ONNXModel {
        TinyModels.graph(Self.x, [.make("Resize", ["x", "", "s"], ["y"], name: "n", attributes)],
                         initializers: [.float("s", dims: [4], scales)])
    }

    @Test func resizesByWholeFactorsAreUpsamples() {
        #expect(TinyModels.layers(Self.resize([.string("coordinate_transformation_mode", "asymmetric"), .string("nearest_mode", "floor")]))
            == ["n: upsample 2"])
        #expect(TinyModels.layers(Self.resize([.string("mode", "linear")], scales: [1, 1, 3, 2])) == ["n: upsample 2x3 bilinear"])
        // Upsample, opsets 7 to 9: nearest reads ⌊o/S⌋ (scales an attribute before 9); linear is asymmetric, unlike torch's.
        let upsample = { (mode: String, opset: Int64) in
            TinyModels.graph(Self.x, opset: opset, [.make("Upsample", opset >= 9 ? ["x", "s"] : ["x"], ["y"], name: "n",
                                                          [.string("mode", mode)] + (opset >= 9 ? [] : [.floats("scales", [1, 1, 2, 2])]))],
                             initializers: opset >= 9 ? [.float("s", dims: [4], [1, 1, 2, 2])] : [])
        }
        #expect(TinyModels.layers(upsample("nearest", 9)) == ["n: upsample 2"] && TinyModels.layers(upsample("nearest", 7)) == ["n: upsample 2"])
        #expect(TinyModels.refusal(upsample("linear", 9))?.hasPrefix("  Upsample 'n': is linear with coordinate_transformation_mode 'asymmetric'") == true)
        // Opset 18's axes, with sizes; an axis outside the rank is refused, not read.
        let sized = { (axes: [Int64]) in
            TinyModels.graph(Self.x, opset: 18, [.make("Resize", ["x", "", "", "z"], ["y"], name: "n", [.ints("axes", axes)])],
                             initializers: [.int64("z", dims: [2], [8, 12])])
        }
        #expect(TinyModels.layers(sized([2, -1])) == ["n: upsample 3x2"])
        #expect(TinyModels.refusal(sized([2, 7])) == "  Resize 'n': axis 7 is outside the rank 4")
        // align_corners picks ⌊o/2⌋ from 4 cells to 8, but not ⌊o/3⌋ from 4 to 12.
        #expect(TinyModels.layers(Self.resize([.string("coordinate_transformation_mode", "align_corners")])) == ["n: upsample 2"])
        #expect(TinyModels.refusal(Self.resize([.string("coordinate_transformation_mode", "align_corners")], scales: [1, 1, 3, 3]))
            == "  Resize 'n': picks input cell 1 for output cell 2 (coordinate_transformation_mode 'align_corners', nearest_mode 'round_prefer_floor'); the "
            + "language's nearest upsample reads cell ⌊o/S⌋, as torch's 'nearest'")
        #expect(TinyModels.refusal(Self.resize([], scales: [1, 1, 1.5, 1.5])) == "  Resize 'n': scales [1, 2, 4, 4] by [1.0, 1.0, 1.5, "
            + "1.5]; cnnc imports a Resize of the height and width by whole factors ('upsample S')")
        #expect(TinyModels.refusal(Self.resize([.string("mode", "cubic")])) == "  Resize 'n': has mode 'cubic'; the language upsamples "
            + "nearest and bilinear")
        #expect(TinyModels.refusal(Self.resize([.string("mode", "linear"), .string("coordinate_transformation_mode", "asymmetric")]))
            == "  Resize 'n': is linear with coordinate_transformation_mode 'asymmetric'; the language's bilinear upsample is half_pixel "
            + "(torch's align_corners=False) or align_corners")
    }

    /// Pad by `pads` (ONNX's order, eight values) then `reader`.
    static func pad(_ pads: [Int64], value: Float = 0, mode: String = "constant", _ reader: ONNXNode, _ initializers: [ONNXTensor] = []) -> ONNXModel {
        TinyModels.graph(Self.x, [.make("Pad", ["x", "p", "v"], ["padded"], name: "pad", [.string("mode", mode)]), reader],
                         initializers: [.int64("p", dims: [8], pads), .float("v", dims: [], [value])] + initializers)
    }

    static let conv = ONNXNode.make("Conv", ["padded", "w"], ["y"], name: "n", [.ints("strides", [2, 2])])
    static let weight = [ImportRulesTests.weight([3, 2, 3, 3])]

    @Test func padsFoldIntoTheirReader() {
        #expect(TinyModels.layers(Self.pad([0, 0, 1, 2, 0, 0, 1, 2], Self.conv, Self.weight)) == ["n: conv 3 3x3 stride 2 pad 2x1 nobias"])
        let pool = ONNXNode.make("MaxPool", ["padded"], ["y"], name: "n", [.ints("kernel_shape", [3, 3])])
        #expect(TinyModels.layers(Self.pad([0, 0, 1, 1, 0, 0, 1, 1], value: -.infinity, pool)) == ["n: maxpool 3x3 stride 1 pad 1"])
        #expect(TinyModels.refusal(Self.pad([0, 0, 1, 1, 0, 0, 1, 1], pool)) == "  MaxPool 'n': reads the zeros padding of Pad 'pad'; "
            + "a max pool's padding never wins, so only a Pad of -inf folds into it")
        #expect(TinyModels.refusal(Self.pad([0, 0, 1, 0, 0, 0, 0, 0], Self.conv, Self.weight)) == "  Conv 'n': has asymmetric padding "
            + "[1, 0, 0, 0] (top, left, bottom, right) with Pad 'pad' before it; the language pads both sides of an axis alike, or as "
            + "'pad same' does (which here would be [0, 0, 1, 1])")
        #expect(TinyModels.refusal(Self.pad([0, 0, 1, 1, 0, 0, 1, 1], value: 1, Self.conv, Self.weight)) == "  Conv 'n': reads the 1.0 "
            + "padding of Pad 'pad'; a reflect, edge or wrap Pad folds into a conv without pads of its own, and a constant Pad only of zeros")
        #expect(TinyModels.refusal(Self.pad([0, 1, 0, 0, 0, 0, 0, 0], Self.conv, Self.weight)) == "  Pad 'pad': has pads [0, 1, 0, 0, 0, 0, "
            + "0, 0]; cnnc imports a Pad of the height and width (0 or more) only")
        let relu = ONNXNode.make("Relu", ["padded"], ["y"], name: "n")
        #expect(TinyModels.refusal(Self.pad([0, 0, 1, 1, 0, 0, 1, 1], mode: "edge", relu)) == "  Relu 'n': reads 'padded', 'input' "
            + "padded by Pad 'pad', which cnnc imports only as the padding of the Conv or pool reading it; the language has no layer for it")
    }
}

/// Weights kept in a file beside the model, as the dynamo exporter writes them.
struct ImportExternalDataTests {
    static func external(_ location: String, offset: Int64? = nil, length: Int64? = nil) -> ONNXModel {
        var model = TinyModels.convRelu()
        for i in model.graph.initializers.indices {
            model.graph.initializers[i].rawData = nil
            model.graph.initializers[i].dataLocation = 1
            model.graph.initializers[i].externalLocation = location
            model.graph.initializers[i].externalOffset = i == 0 ? offset : 72
            model.graph.initializers[i].externalLength = i == 0 ? length : 8
        }
        return model
    }

    static func message(_ model: ONNXModel, folder: String) -> String? {
        ONNXFixtures.failure {
            var decoded = try ONNXImport.decode(model.encoded())
            try ONNXImport.loadExternalData(&decoded, folder: folder)
            _ = try ONNXImport.translate(decoded, options: ONNXFixtures.options("t"))
        }
    }

    @Test func externalDataIsReadFromTheModelsFolderOnly() throws {
        let scratch = try ScratchFolder("external-data")
        let original = TinyModels.convRelu()
        let bytes = original.graph.initializers.flatMap { $0.rawData ?? [] }
        try Data(bytes).write(to: URL(fileURLWithPath: scratch.file("w.bin")))
        #expect(Self.message(Self.external("w.bin", offset: 0, length: 72), folder: scratch.path) == nil)
        #expect(Self.message(Self.external("../w.bin"), folder: scratch.path) == "tensor 'c.weight' keeps its data in '../w.bin'; cnnc "
            + "import reads external data only from files in the model's folder (a relative location without '..')")
        #expect(Self.message(Self.external("/etc/passwd"), folder: scratch.path)?.hasPrefix("tensor 'c.weight' keeps its data in '/etc/passwd'") == true)
        #expect(Self.message(Self.external("w.bin", offset: 60, length: 72), folder: scratch.path) == "tensor 'c.weight' has external data "
            + "at offset 60, 72 bytes, outside 'w.bin' of 80 bytes")
        #expect(Self.message(Self.external("gone.bin"), folder: scratch.path)
            == "tensor 'c.weight' keeps its data in another file: \(scratch.file("gone.bin")): no such file")
        // Without loading, the tensor says where its data is.
        let unread = ONNXFixtures.failure { _ = try ONNXImport.translate(try ONNXImport.decode(Self.external("w.bin").encoded()),
                                                                          options: ONNXFixtures.options("t")) }
        #expect(unread?.contains("tensor 'c.weight' keeps its data in another file ('w.bin'), which was not read") == true)
    }
}
