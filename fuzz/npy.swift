// libFuzzer target: any bytes as a .npy array. What parses must survive a round trip through
// the writer. Build and run with `fuzz/run.sh npy [SECONDS]`.
import Runtime

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        let tensor = try NPY.parse(bytes, path: "fuzz.npy")
        precondition(tensor.storage.count == tensor.shape.reduce(1, *), "storage does not match the shape")
        let again = try NPY.parse(NPY.serialized(tensor), path: "again.npy")
        precondition(again == tensor, "a round trip changed the array")
    } catch let error as RuntimeError {
        precondition(error.message.hasPrefix("fuzz.npy: "), "a message without the path: \(error.message)")
    } catch {
        preconditionFailure("an error that is not a RuntimeError: \(error)")
    }
    return 0
}
