// libFuzzer target: any bytes as an ONNX model through `cnnc import`'s reader and translator.
// What imports must be a .cnn that cnnc's checker accepts, with exactly the weights it needs;
// what does not must be refused with a message. Build and run with `fuzz/run.sh onnx [SECONDS]`.
import Interchange
import Runtime
import ShapeCheck

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let options = ImportOptions(networkName: "fuzz", modelName: "fuzz.onnx", weightsName: "fuzz.safetensors")
    let imported: ImportedNetwork
    do {
        imported = try ONNXImport.translate(try ONNXImport.decode(bytes), options: options)
    } catch {
        precondition(!"\(error)".isEmpty, "a refusal without a message")
        return 0
    }
    let checked = checkSource(imported.text, path: "fuzz.cnn")
    guard let network = checked.network, !checked.hasErrors else {
        preconditionFailure("the import wrote a .cnn that does not check: \(checked.diagnostics.map(\.message))\n\(imported.text)")
    }
    let needed = network.parameterTensors
    for (key, parameter) in needed {
        precondition(imported.weights[key]?.shape == parameter.shape, "weight \(key): \(String(describing: imported.weights[key]?.shape)), needs \(parameter.shape)")
    }
    precondition(imported.weights.count == needed.count, "\(imported.weights.count) weights for the \(needed.count) needed")
    return 0
}
