import Foundation

/// Paths into the source tree, so fixtures need no resource bundle and tests run from a clone.
public enum Paths {
    public static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static let fixtures = packageRoot.appendingPathComponent("Tests/Fixtures")
    public static let snapshots = packageRoot.appendingPathComponent("Tests/Snapshots")
    public static let conformance = fixtures.appendingPathComponent("conformance")
    public static let models = packageRoot.appendingPathComponent("models")
    public static let examples = packageRoot.appendingPathComponent("examples")

    public static func text(_ url: URL) throws -> String {
        try String(contentsOf: url, encoding: .utf8)
    }
}

/// The conformance cases in Tests/Fixtures/conformance (answers from ONNX Runtime), listed so
/// a missing folder fails rather than silently not running.
public enum Conformance {
    public static let cases = ["activations", "groups", "lecture_5x5", "lenet5", "mlp", "norms", "pools",
                               "residual", "same", "strides_pads"]

    /// The folders on disk, to compare with `cases`.
    public static func folders() throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: Paths.conformance.path).filter { name in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: Paths.conformance.appendingPathComponent(name).path,
                                                  isDirectory: &isDirectory) && isDirectory.boolValue
        })
    }

    /// One case's files.
    public struct Files: Sendable {
        public let name: String
        public let folder: URL
        public init(_ name: String) {
            self.name = name
            folder = Paths.conformance.appendingPathComponent(name)
        }
        public var model: String { folder.appendingPathComponent("model.cnn").path }
        public var weights: String { folder.appendingPathComponent("weights.safetensors").path }
        public var input: String { folder.appendingPathComponent("input.npy").path }
        public var expected: String { folder.appendingPathComponent("expected.npy").path }
        public var expectedCheck: String { folder.appendingPathComponent("expected-check.tsv").path }
        public func modelText() throws -> String { try String(contentsOfFile: model, encoding: .utf8) }
    }
}

/// Small torchvision networks in Tests/Fixtures/torchvision (tools/torchvision/make_fixtures.py):
/// the .cnn make_models.py writes, torchvision's unchanged state_dict, an input and torch's answer.
public enum TorchvisionFixtures {
    public static let root = Paths.fixtures.appendingPathComponent("torchvision")
    public static let cases = ["convnext", "densenet", "efficientnet_b0", "efficientnet_v2", "googlenet", "mnasnet", "mobilenet_v2",
                               "mobilenet_v3", "regnet_y", "resnet_basic", "resnext_bottleneck", "shufflenet", "squeezenet",
                               "padmodes", "adaptivepool", "maxout", "deconv", "upsample"]

    /// The folders on disk, to compare with `cases`.
    public static func folders() throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: root.path).filter { name in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: root.appendingPathComponent(name).path, isDirectory: &isDirectory)
                && isDirectory.boolValue
        })
    }

    public static func file(_ name: String, _ file: String) -> String {
        root.appendingPathComponent(name).appendingPathComponent(file).path
    }
}
