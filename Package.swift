// swift-tools-version:6.0
// cnnc: text → syntax tree (Parser) → checked network (ShapeCheck) → lowered program and
// emitted C/Swift (Codegen) → execution (Runtime). Each module imports only the stage before it.
import PackageDescription

let package = Package(
    name: "cnnc",
    products: [
        .executable(name: "cnnc", targets: ["cnnc"]),
        .executable(name: "cnnc-fuzz-networks", targets: ["FuzzNetworks"]),
    ],
    targets: [
        .target(name: "Parser"),
        .target(name: "ShapeCheck", dependencies: ["Parser"]),
        // C/ holds the fixed C as .c/.h files, compiled in as bytes (EmbeddedC.swift), not as C.
        .target(name: "Codegen", dependencies: ["ShapeCheck"],
                resources: ["cnnc_pool.c", "cnnc_vector.h", "fast_prelude.h", "reference_kernels.c", "reference_resampling.c"].map { .embedInCode("C/" + $0) }),
        // The reference interpreter runs the checked network itself (it is the oracle the
        // generated code is tested against); compiled backends run Codegen's output.
        // fork + exec of every child process, in C for PR_SET_PDEATHSIG (ChildProcess.swift).
        .target(name: "ChildProcessSupport"),
        .target(name: "Runtime", dependencies: ["Codegen", "ShapeCheck", "ChildProcessSupport"]),
        // Pictures of checked networks (`cnnc draw`): a layout, then SVG text; needs no codegen.
        .target(name: "Drawing", dependencies: ["ShapeCheck"]),
        // ONNX in (`cnnc import`): the protobuf wire format by hand, the ONNX messages, and the
        // graph translated into the language; only the CLI and its tests use it.
        .target(name: "Interchange", dependencies: ["Parser", "ShapeCheck", "Runtime"]),
        .executableTarget(name: "cnnc", dependencies: ["Parser", "ShapeCheck", "Codegen", "Runtime", "Drawing", "Interchange"]),
        // Random valid networks, every backend against the reference, failures shrunk
        // (tests and fuzz/networks.sh); it sits beside the CLI, reading every stage.
        .target(name: "NetworkFuzz", dependencies: ["Parser", "ShapeCheck", "Codegen", "Runtime"]),
        .executableTarget(name: "FuzzNetworks", dependencies: ["NetworkFuzz", "Codegen", "Runtime"]),
        // What the test targets share (paths, snapshots, the process runner, seeded generators,
        // the conformance cases): Foundation and Testing only, so any test target can use it.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "ParserTests", dependencies: ["Parser", "TestSupport"]),
        .testTarget(name: "ShapeCheckTests", dependencies: ["ShapeCheck", "Parser", "TestSupport"]),
        .testTarget(name: "CodegenTests", dependencies: ["Codegen", "Runtime", "ShapeCheck", "NetworkFuzz", "TestSupport"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "ShapeCheck", "TestSupport"]),
        .testTarget(name: "DrawingTests", dependencies: ["Drawing", "ShapeCheck", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["cnnc", "Codegen", "TestSupport"]),
        .testTarget(name: "InterchangeTests", dependencies: ["Interchange", "Runtime", "ShapeCheck", "Parser", "TestSupport"]),
        .testTarget(name: "TestSupportTests", dependencies: ["TestSupport"]),
    ]
)
