/// cnnc's version: `cnnc --version`, and the header comment of every generated file.
public let cnncVersion = "0.11.0"

/// The second line of every generated file: which cnnc made it and the choices that shaped the
/// code (the weights' layout depends on them), as the options that reproduce them.
public func generatorLine(_ program: LoweredProgram, language: TargetLanguage) -> String {
    let kernels: String
    if language == .swift, let options = program.kernelPlan?.options {
        kernels = "fast Swift kernels blocked for \(options.target.rawValue) (cnnc compile --emit swift --target \(options.target.rawValue)"
            + (options.winograd ? ")" : " --precise: no Winograd)")
    } else if language == .swift {
        kernels = "Swift with the plain reference kernels (cnnc compile --emit swift --plain)"
    } else if let options = program.kernelPlan?.options {
        kernels = "fast C kernels blocked for \(options.target.rawValue) (cnnc compile --target \(options.target.rawValue)"
            + (options.winograd ? ")" : " --precise: no Winograd)")
    } else {
        kernels = "the plain reference C kernels (cnnc compile --plain)"
    }
    return "Made by cnnc \(cnncVersion): \(kernels)."
}
// The version is in every generated file, so a new one re-records the emitted snapshots
// (RECORD_SNAPSHOTS=1 swift test --filter CodegenSnapshotTests).
