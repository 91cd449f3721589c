import Foundation

/// A fresh folder under the temporary directory, removed with the object; subclasses put
/// their starting files in it.
open class ScratchFolder {
    public let path: String

    public init(_ label: String) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("cnnc-\(label)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    public func file(_ name: String) -> String { path + "/" + name }

    public func contents(_ name: String) -> Data? { FileManager.default.contents(atPath: file(name)) }

    /// Writes `text` to `name` in place; its path.
    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        try Data(text.utf8).write(to: URL(fileURLWithPath: file(name)))
        return file(name)
    }

    /// The sorted names in the folder, or in `sub` below it.
    public func names(_ sub: String = "") -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: sub.isEmpty ? path : file(sub))) ?? []).sorted()
    }
}
