// libFuzzer target: any bytes as a safetensors weight file. What parses must survive a round
// trip through the writer. Build and run with `fuzz/run.sh safetensors [SECONDS]`.
import Runtime

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let file = try WeightFile.parse(bytes, path: "fuzz.safetensors")
        let again = try WeightFile.parse(file.serialized(), path: "again.safetensors")
        precondition(again.tensors == file.tensors, "a round trip changed the tensors")
    } catch let error as RuntimeError {
        precondition(error.message.hasPrefix("fuzz.safetensors: "), "a message without the path: \(error.message)")
    } catch {
        preconditionFailure("an error that is not a RuntimeError: \(error)")
    }
    return 0
}
