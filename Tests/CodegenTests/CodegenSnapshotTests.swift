import Codegen
import Foundation
@testable import Runtime
import ShapeCheck
import Testing

/// The regression net for code generation (issue #16): golden files of the kernel plan of
/// every model for every target, precise or not; of the emitted C and Swift of LeNet-5 and
/// of odd-shape networks; and a hash manifest of every model's fast C. Any changed
/// scheduling decision or emitted byte fails here until re-recorded with RECORD_SNAPSHOTS=1.
@Suite struct CodegenSnapshotTests {
    /// Every models/*.cnn, so a new model fails until its snapshots are recorded.
    static let models: [String] = {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: Paths.models.path)) ?? []
        return files.filter { $0.hasSuffix(".cnn") }.map { String($0.dropLast(4)) }.sorted()
    }()
    static let precision = [false, true]

    static func options(_ target: VectorTarget, precise: Bool) -> KernelOptions {
        KernelOptions(winograd: !precise, target: target)
    }

    static func label(_ model: String, _ target: VectorTarget, precise: Bool) -> String {
        "\(model)-\(target.rawValue)\(precise ? "-precise" : "")"
    }

    @Test func everyModelIsCovered() {
        #expect(Self.models.count >= 10, "models/: \(Self.models)")
    }

    @Test(arguments: models)
    func plan(_ name: String) throws {
        let net = try model(name)
        for target in VectorTarget.allCases {
            for precise in Self.precision {
                let plan = try #require(lowerForC(net, options: Self.options(target, precise: precise)).kernelPlan)
                try assertSnapshot(plan.listing + "\n", named: "plan/\(Self.label(name, target, precise: precise)).txt")
            }
        }
    }

    /// A golden file no case writes any more (a model removed or renamed) fails too.
    @Test func noStalePlanSnapshots() throws {
        let expected = Set(Self.models.flatMap { name in
            VectorTarget.allCases.flatMap { target in Self.precision.map { Self.label(name, target, precise: $0) + ".txt" } }
        })
        let folder = Paths.snapshots.appendingPathComponent("plan").path
        let present = Set((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
        #expect(present.subtracting(expected).sorted() == [], "stale snapshots in Tests/Snapshots/plan")
    }

    @Test(arguments: [VectorTarget.avx2, .avx512])
    func lenet5FastC(_ target: VectorTarget) throws {
        let source = try emitC(lowerForC(try model("lenet5"), options: KernelOptions(target: target)))
        try assertFiles(source.files, prefix: "fast-\(target.rawValue)-")
    }

    /// The fast Swift kernels, blocked for AVX2.
    @Test func lenet5FastSwift() throws {
        let program = lowerForC(try model("lenet5"), options: KernelOptions(target: .avx2, language: .swift))
        try assertFiles([try emitSwift(program).file], prefix: "fast-swift-")
    }

    @Test func lenet5PlainCAndSwift() throws {
        let net = try model("lenet5")
        try assertFiles(try emitC(lower(net)).files, prefix: "plain-")
        try assertFiles([try emitSwift(lower(net)).file], prefix: "swift-")
    }

    /// Channels that are not multiples of 16, a fused residual add with AVX2 weight slices,
    /// and Winograd with a fused add (FastKernelTests.oddNetworks, checked there against the
    /// reference interpreter).
    @Test(arguments: ["channels", "large_taps", "winograd"])
    func oddShapeFastC(_ name: String) throws {
        let text = FastKernelTests.oddNetworks[name]
        let source = try emitC(lowerForC(try network(text, path: "\(name).cnn"), options: KernelOptions(target: .avx2)))
        try assertFiles(source.files, prefix: "fast-avx2-")
    }

    /// Per model × target × precise, the SHA-256 and size of the emitted fast C: too large
    /// to keep whole, and a changed byte anywhere changes its line.
    /// With DUMP_EMITTED_C=DIR, also writes every file to DIR/LABEL/NAME, so that a change's
    /// emitted C can be compared with the last one's (e.g. ignoring whitespace).
    @Test func fastCManifest() throws {
        let dump = ProcessInfo.processInfo.environment["DUMP_EMITTED_C"]
        var lines: [String] = []
        for name in Self.models {
            let net = try model(name)
            for target in VectorTarget.allCases {
                for precise in Self.precision {
                    let source = try emitC(lowerForC(net, options: Self.options(target, precise: precise)))
                    let files = source.files.map { file in
                        let bytes = Array(file.contents.utf8)
                        return "\(file.name) \(bytes.count) \(SHA256.hex(bytes))"
                    }
                    lines.append(([Self.label(name, target, precise: precise)] + files).joined(separator: " "))
                    if let dump {
                        let folder = URL(fileURLWithPath: dump).appendingPathComponent(Self.label(name, target, precise: precise))
                        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                        for file in source.files { try file.contents.write(to: folder.appendingPathComponent(file.name), atomically: true, encoding: .utf8) }
                    }
                }
            }
        }
        try assertSnapshot(lines.joined(separator: "\n") + "\n", named: "emitted/manifest.txt")
    }

    func assertFiles(_ files: [EmittedFile], prefix: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        for file in files {
            try assertSnapshot(file.contents, named: "emitted/\(prefix)\(file.name)", sourceLocation: sourceLocation)
        }
    }
}
