// libFuzzer target: any bytes as a PGM/PPM image (P2, P3, P5, P6), read plain and normalised.
// Build and run with `fuzz/run.sh netpbm [SECONDS]`.
import Runtime

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for (mean, std) in [(nil, nil), ([Float(0.5)], [Float(0.25)]), ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])] as [([Float]?, [Float]?)] {
        do {
            let image = try NetPBM.parse(bytes, path: "fuzz.pgm", mean: mean, std: std)
            precondition(image.shape.count == 3 && (image.shape[0] == 1 || image.shape[0] == 3), "shape \(image.shape)")
            precondition(image.storage.count == image.shape.reduce(1, *), "storage does not match the shape")
            if mean == nil { precondition(image.storage.allSatisfy { $0 >= 0 && $0 <= 1 }, "a sample outside [0, 1]") }
        } catch let error as RuntimeError {
            precondition(error.message.hasPrefix("fuzz.pgm: "), "a message without the path: \(error.message)")
        } catch {
            preconditionFailure("an error that is not a RuntimeError: \(error)")
        }
    }
    return 0
}
