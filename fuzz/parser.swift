// libFuzzer target: any bytes as a .cnn file, through the parser, the checker and every report
// `cnnc check` prints. Build and run with `fuzz/run.sh parser [SECONDS]`.
import Parser
import ShapeCheck

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let file = SourceFile(path: "fuzz.cnn", bytes: Array(UnsafeBufferPointer(start: data, count: size)))
    for strict in [false, true] {
        let result = checkSource(file, strict: strict)
        _ = DiagnosticRenderer(colour: strict).render(result.diagnostics, in: result.file)
        _ = DiagnosticRenderer.summary(result.diagnostics)
        _ = CheckReport.json(result)
        if let network = result.network {
            // A network is only given for a file without errors, and its every number is sane.
            precondition(!result.hasErrors, "a network came with errors")
            _ = CheckReport.table(network, path: file.path)
            _ = CheckReport.explain(network)
            for layer in network.layers {
                precondition(layer.output.elementCount > 0 && layer.output.elementCount <= Limits.maxTensorElements)
                precondition(layer.multiplyAccumulates >= 0 && layer.trainableParameters >= 0)
            }
        }
    }
    return 0
}
