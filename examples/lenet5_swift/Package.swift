// swift-tools-version:5.9
// LeNet-5 as a Swift program: Sources/Lenet5Digit/main.swift and the lenet5.swift that
// `cnnc compile --emit swift` writes beside it (README.md). No dependencies.
import PackageDescription

let package = Package(
    name: "Lenet5Digit",
    targets: [
        .executableTarget(
            name: "lenet5-digit",
            path: "Sources/Lenet5Digit",
            exclude: ["lenet5.weights"]),
    ]
)
