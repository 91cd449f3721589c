import Foundation
import ShapeCheck
import Testing
@testable import Drawing

struct NetworkDrawingTests {
    @Test func resnet18IsAWellFormedCompletePicture() throws {
        try PictureChecks.check(ShippedModels.network("resnet18.cnn"), file: "resnet18.cnn")
    }

    @Test func googlenetIsAWellFormedCompletePicture() throws {
        try PictureChecks.check(ShippedModels.network("googlenet.cnn"), file: "googlenet.cnn")
    }

    @Test func theModelsAreThere() {
        #expect(ShippedModels.files.count > 60, "models/ and models/torchvision/ hold the seed networks")
    }

    @Test(arguments: ShippedModels.files) func everyShippedModelIsAWellFormedCompletePicture(file: String) throws {
        try PictureChecks.check(ShippedModels.network(file), file: file)
    }

    /// Sizes follow the lecture's shapes: ResNet-18's conv1 is 112x112x64, layer1 56x56x64,
    /// layer4 7x7x512, fc a vector of 1000.
    @Test func boxesGrowWithSpatialSizeAndDepth() throws {
        let drawing = NetworkLayout.layout(try ShippedModels.network("resnet18.cnn"))
        func box(_ name: String) throws -> DrawingRect { try #require(drawing.layers.first { $0.name == name }).box }
        let conv1 = try box("conv1"), layer1 = try box("layer1.0.conv1"), layer4 = try box("layer4.0.conv1")
        let fc = try box("fc")
        #expect(conv1.width > layer1.width && layer1.width > layer4.width && layer4.width > fc.width)
        #expect(layer4.height > layer1.height)
        #expect(try box("layer1.0.conv1").height == box("conv1").height, "both are 64 deep")
        // Compressed, so the largest and smallest stay within a readable range.
        for model in ["lenet5.cnn", "vgg16.cnn", "resnet50.cnn", "torchvision/efficientnet_b7.cnn"] {
            for layer in NetworkLayout.layout(try ShippedModels.network(model)).layers {
                #expect((20...260).contains(layer.box.width) && (8...100).contains(layer.box.height), "\(model): \(layer.name)")
            }
        }
    }

    /// Inception's four branches stand in one row, left to right, above their concat.
    @Test func googlenetBranchesStandSideBySide() throws {
        let drawing = NetworkLayout.layout(try ShippedModels.network("googlenet.cnn"))
        func layer(_ name: String) throws -> DrawnLayer { try #require(drawing.layers.first { $0.name == name }) }
        let heads = try ["b1", "b2_reduce", "b3_reduce", "b4_pool"].map { try layer("inception3a." + $0) }
        #expect(Set(heads.map(\.box.y)).count == 1)
        #expect(zip(heads, heads.dropFirst()).allSatisfy { $0.cell.maxX <= $1.box.x })
        let concat = try layer("inception3a")
        #expect(try ["b1", "b2", "b3", "b4"].allSatisfy { try layer("inception3a." + $0).box.maxY < concat.box.y })
    }

    /// A projection shortcut runs beside the block's convolutions; an identity shortcut
    /// (layer1) has no box of its own and goes round the block in the gutter.
    @Test func resnetShortcutsRunBesideTheBlock() throws {
        let drawing = NetworkLayout.layout(try ShippedModels.network("resnet18.cnn"))
        func layer(_ name: String) throws -> DrawnLayer { try #require(drawing.layers.first { $0.name == name }) }
        let main = try layer("layer2.0.conv1"), shortcut = try layer("layer2.0.downsample.0")
        #expect(main.box.y == shortcut.box.y && main.lane != shortcut.lane)
        let block = try layer("layer1.0.conv1")
        let identity = try #require(drawing.edges.first {
            drawing.layers[$0.source].name == "maxpool" && drawing.layers[$0.target].name == "layer1.0.out"
        })
        #expect(identity.kind == .add)
        #expect(identity.points.contains { $0.x < block.box.x }, "the identity arrow passes left of the block")
    }

    @Test func textIsEscaped() throws {
        let hostile = "a<b&c>\"d'e\u{1}f"
        #expect(SVGPrinter.escape(hostile) == "a&lt;b&amp;c&gt;&quot;d&apos;e\u{FFFD}f")
        var drawing = NetworkLayout.layout(try ShippedModels.network("lenet5.cnn"))
        drawing.title = hostile
        drawing.layers[1].lines[0] = "</text><script>alert(1)</script>"
        let text = SVGPrinter.print(drawing)
        let svg = try SVGDocument(text)
        #expect(!svg.elements.contains { $0.name == "script" })
        #expect(svg.elements.first { $0.name == "title" }?.text == "a<b&c>\"d'e\u{FFFD}f")
        #expect(svg.layers[1].lines[0] == "</text><script>alert(1)</script>")
    }
}
