import Foundation
import Parser
import ShapeCheck
import Testing

/// models/torchvision: every file make_models.py wrote checks without errors, and counts the
/// trainable parameters its header says torch counted (so a hand edit that breaks a layer shows
/// without torch; tools/torchvision/check_models.py compares outputs where torch is installed).
struct TorchvisionModelTests {
    static let folder = Paths.models.appendingPathComponent("torchvision")
    static let names = ["alexnet", "convnext_base", "convnext_large", "convnext_small", "convnext_tiny",
                        "densenet121", "densenet161", "densenet169", "densenet201", "efficientnet_b0",
                        "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "efficientnet_b4",
                        "efficientnet_b5", "efficientnet_b6", "efficientnet_b7", "efficientnet_v2_l",
                        "efficientnet_v2_m", "efficientnet_v2_s", "googlenet", "inception_v3", "mnasnet0_5",
                        "mnasnet0_75", "mnasnet1_0", "mnasnet1_3", "mobilenet_v2", "mobilenet_v3_large",
                        "mobilenet_v3_small", "regnet_x_16gf", "regnet_x_1_6gf", "regnet_x_32gf", "regnet_x_3_2gf",
                        "regnet_x_400mf", "regnet_x_800mf", "regnet_x_8gf", "regnet_y_16gf", "regnet_y_1_6gf",
                        "regnet_y_32gf", "regnet_y_3_2gf", "regnet_y_400mf", "regnet_y_800mf", "regnet_y_8gf",
                        "resnet101", "resnet152", "resnet18", "resnet34", "resnet50", "resnext101_32x8d",
                        "resnext101_64x4d", "resnext50_32x4d", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0",
                        "shufflenet_v2_x1_5", "shufflenet_v2_x2_0", "squeezenet1_0", "squeezenet1_1", "vgg11",
                        "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
                        "wide_resnet101_2", "wide_resnet50_2"]

    @Test func everyFileIsListed() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).filter { $0.hasSuffix(".cnn") }
        #expect(Set(files.map { String($0.dropLast(4)) }) == Set(Self.names))
    }

    @Test(arguments: names)
    func checksWithTorchsParameterCount(_ name: String) throws {
        let url = Self.folder.appendingPathComponent(name + ".cnn")
        let text = try String(contentsOf: url, encoding: .utf8)
        let result = checkSource(SourceFile(path: "models/torchvision/\(name).cnn", bytes: Array(text.utf8)))
        let network = try #require(result.network, "\(rendered(result))")
        #expect(!result.hasErrors, "\(rendered(result))")
        #expect(network.name == name)
        // "# 11,689,512 trainable parameters (torch's count)."
        let line = try #require(text.split(separator: "\n").first { $0.hasSuffix("trainable parameters (torch's count).") })
        let count = Int(line.dropFirst(2).prefix { $0 != " " }.filter { $0 != "," })
        #expect(network.trainableParameters == count)
    }
}
