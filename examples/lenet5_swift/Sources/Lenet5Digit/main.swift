// Classify one handwritten digit with the LeNet-5 that cnnc generated as Swift.
//
//   lenet5-digit WEIGHTS DIGIT.pgm
//
// WEIGHTS is the lenet5.weights that `cnnc compile --emit swift --weights W` writes; the
// class checks its header and checksum (init(blob:)) before it runs. The image is a 32x32
// grey-scale PGM (P5 binary or P2 plain text), scaled to [0, 1] by its maxval as `cnnc run`
// does. Prints the ten class probabilities, one per line, and the most likely digit.
import Foundation

/// The pixels of a 32x32 PGM scaled to [0, 1], or why not.
func readPGM(_ path: String, width: Int, height: Int) throws -> [Float] {
    guard let data = FileManager.default.contents(atPath: path) else { throw Failure("\(path): cannot open") }
    let bytes = [UInt8](data)
    var index = 0
    func skipSpace() {
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "#") {
                while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
            } else if [9, 10, 11, 12, 13, 32].contains(bytes[index]) {
                index += 1
            } else {
                return
            }
        }
    }
    func number() throws -> Int {
        skipSpace()
        var value = 0, digits = 0
        while index < bytes.count, (48...57).contains(bytes[index]), value <= 65_535 {
            value = value * 10 + Int(bytes[index] - 48)
            digits += 1
            index += 1
        }
        guard digits > 0, value <= 65_535 else { throw Failure("\(path): a bad number at byte \(index)") }
        return value
    }
    guard bytes.count >= 2, bytes[0] == UInt8(ascii: "P"), bytes[1] == UInt8(ascii: "5") || bytes[1] == UInt8(ascii: "2") else {
        throw Failure("\(path): not a PGM file (expected P5 or P2)")
    }
    let binary = bytes[1] == UInt8(ascii: "5")
    index = 2
    let (w, h, maxval) = (try number(), try number(), try number())
    guard w == width, h == height, maxval >= 1 else {
        throw Failure("\(path): expected a \(width)x\(height) PGM, found \(w)x\(h) (maxval \(maxval))")
    }
    index += 1  // the one whitespace byte after maxval
    var pixels: [Float] = []
    for pixel in 0..<(width * height) {
        var value: Int
        if binary {
            let size = maxval > 255 ? 2 : 1
            guard index + size <= bytes.count else { throw Failure("\(path): the image ends after \(pixel) of \(width * height) pixels") }
            value = size == 2 ? Int(bytes[index]) << 8 | Int(bytes[index + 1]) : Int(bytes[index])
            index += size
        } else {
            value = try number()
        }
        pixels.append(Float(min(value, maxval)) / Float(maxval))
    }
    return pixels
}

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: lenet5-digit lenet5.weights DIGIT.pgm   (a 32x32 grey-scale image)\n".utf8))
    exit(2)
}
do {
    guard let blob = FileManager.default.contents(atPath: arguments[1]) else { throw Failure("\(arguments[1]): cannot open") }
    let network = try Lenet5(blob: [UInt8](blob))
    let image = try readPGM(arguments[2], width: 32, height: 32)
    let probabilities = network.run(image, batch: 1)
    for (digit, probability) in probabilities.enumerated() {
        print("\(digit) \(String(format: "%.6f", probability))")
    }
    print("digit \(probabilities.indices.max { probabilities[$0] < probabilities[$1] }!)")
} catch {
    FileHandle.standardError.write(Data("lenet5-digit: \(error)\n".utf8))
    exit(1)
}
