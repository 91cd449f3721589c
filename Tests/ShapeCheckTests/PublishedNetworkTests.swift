import Foundation
import ShapeCheck
import Testing

/// The seed networks against their published parameter counts and the MACs the spec defines.
struct PublishedNetworkTests {
    struct Published: Sendable, CustomStringConvertible {
        var model: String
        var trainable: Int
        var macs: Int?
        var description: String { model }
    }

    static let published: [Published] = [
        Published(model: "lenet5", trainable: 61_706, macs: 416_520),
        Published(model: "digits", trainable: 63_802),
        Published(model: "alexnet", trainable: 62_378_344, macs: 1_135_256_096),
        Published(model: "vgg16", trainable: 138_357_544, macs: 15_470_264_320),
        Published(model: "vgg19", trainable: 143_667_240),
        Published(model: "resnet18", trainable: 11_689_512, macs: 1_814_073_344),
        Published(model: "resnet34", trainable: 21_797_672),
        Published(model: "resnet50", trainable: 25_557_032),
        Published(model: "googlenet", trainable: 6_998_552),
    ]

    @Test(arguments: published)
    func parameterCountsAndMACs(_ expected: Published) throws {
        let result = try checkModel(expected.model)
        let network = try #require(result.network, "\(rendered(result))")
        #expect(!result.hasErrors, "\(rendered(result))")
        #expect(network.trainableParameters == expected.trainable)
        if let macs = expected.macs { #expect(network.multiplyAccumulates == macs) }
    }

    @Test func resnetBatchnormStatisticsAreCountedApart() throws {
        let network = try #require(try checkModel("resnet18").network)
        // 20 batchnorm layers; running mean and variance per channel.
        #expect(network.nonTrainableParameters == 9_600)
        #expect(network.layers.contains { $0.name == "layer2.0.downsample.0" })
    }

    @Test func alexnetShapesAreTheLectures() throws {
        let network = try #require(try checkModel("alexnet").network)
        let shapes = Dictionary(uniqueKeysWithValues: network.layers.map { ($0.name, $0.output.description) })
        #expect(shapes["conv1"] == "55x55x96")
        #expect(shapes["pool1"] == "27x27x96")
        #expect(shapes["conv2"] == "27x27x256")
        #expect(shapes["pool2"] == "13x13x256")
        #expect(shapes["conv3"] == "13x13x384")
        #expect(shapes["pool3"] == "6x6x256")
    }

    @Test func googlenetFollowsTable1() throws {
        let result = try checkModel("googlenet")
        let network = try #require(result.network, "\(rendered(result))")
        let shapes = Dictionary(uniqueKeysWithValues: network.layers.map { ($0.name, $0.output.description) })
        let table1 = ["inception3a": "28x28x256", "inception3b": "28x28x480", "inception4a": "14x14x512",
                      "inception4b": "14x14x512", "inception4c": "14x14x512", "inception4d": "14x14x528",
                      "inception4e": "14x14x832", "inception5a": "7x7x832", "inception5b": "7x7x1024"]
        for (name, shape) in table1 { #expect(shapes[name] == shape, "\(name)") }
    }

    /// Golden files of `check` output (table, totals and --explain) for every model.
    @Test(arguments: ["lenet5", "digits", "alexnet", "zfnet", "vgg16", "vgg19", "resnet18", "resnet34", "resnet50", "googlenet"])
    func checkOutputMatchesSnapshot(_ model: String) throws {
        let result = try checkModel(model)
        let network = try #require(result.network, "\(rendered(result))")
        let text = rendered(result) + CheckReport.table(network, path: "models/\(model).cnn") + "\n" + CheckReport.explain(network)
        try assertSnapshot(text, named: "check/\(model).txt")
    }

    @Test func everyModelFileIsTested() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Paths.models.path).filter { $0.hasSuffix(".cnn") }
        let tested = Set(Self.published.map(\.model) + ["zfnet"])
        for file in files { #expect(tested.contains(String(file.dropLast(4))), "models/\(file) has no test") }
    }
}
