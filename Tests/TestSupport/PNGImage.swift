import Foundation

/// The pixels of a PNG file as headless Chromium writes its screenshots: 8-bit RGB or RGBA,
/// not interlaced. Enough to tell a rendered picture from a blank page; Foundation has no
/// inflate on Linux, so the DEFLATE decoder (RFC 1951) is here too.
public struct PNGImage {
    public let width: Int
    public let height: Int
    /// Row-major pixels, 0xRRGGBBAA.
    public let pixels: [UInt32]

    public struct DecodeError: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    public init(_ bytes: [UInt8]) throws {
        guard bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else { throw DecodeError("not a PNG file") }
        var offset = 8
        var header: [UInt8] = []
        var compressed: [UInt8] = []
        func bigEndian(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        while offset + 8 <= bytes.count {
            let length = bigEndian(offset)
            let type = String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self)
            let start = offset + 8
            guard length >= 0, start + length + 4 <= bytes.count else { throw DecodeError("chunk \(type) runs past the end") }
            if type == "IHDR" { header = Array(bytes[start..<start + length]) }
            if type == "IDAT" { compressed += bytes[start..<start + length] }
            if type == "IEND" { break }
            offset = start + length + 4
        }
        guard header.count == 13 else { throw DecodeError("no IHDR chunk") }
        func headerInt(_ at: Int) -> Int { header[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        width = headerInt(0)
        height = headerInt(4)
        let bitDepth = header[8], colourType = header[9], interlace = header[12]
        guard bitDepth == 8, colourType == 2 || colourType == 6, interlace == 0 else {
            throw DecodeError("only 8-bit RGB or RGBA without interlacing, not depth \(bitDepth) type \(colourType)")
        }
        guard compressed.count > 2 else { throw DecodeError("no image data") }
        var inflater = Inflater(Array(compressed.dropFirst(2)))  // past the zlib header
        let raw = try inflater.inflate()
        let channels = colourType == 6 ? 4 : 3
        let stride = width * channels
        guard raw.count >= height * (stride + 1) else { throw DecodeError("image data is short") }
        var previous = [UInt8](repeating: 0, count: stride)
        var current = [UInt8](repeating: 0, count: stride)
        var pixels: [UInt32] = []
        pixels.reserveCapacity(width * height)
        for row in 0..<height {
            let base = row * (stride + 1)
            let filter = raw[base]
            for i in 0..<stride {
                let x = raw[base + 1 + i]
                let left = i >= channels ? Int(current[i - channels]) : 0
                let up = Int(previous[i])
                let upLeft = i >= channels ? Int(previous[i - channels]) : 0
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = left
                case 2: predicted = up
                case 3: predicted = (left + up) / 2
                case 4:
                    let estimate = left + up - upLeft
                    let (a, b, c) = (abs(estimate - left), abs(estimate - up), abs(estimate - upLeft))
                    predicted = a <= b && a <= c ? left : (b <= c ? up : upLeft)
                default: throw DecodeError("unknown filter \(filter) on row \(row)")
                }
                current[i] = UInt8(truncatingIfNeeded: Int(x) + predicted)
            }
            for column in 0..<width {
                let p = column * channels
                let alpha: UInt32 = channels == 4 ? UInt32(current[p + 3]) : 255
                pixels.append(UInt32(current[p]) << 24 | UInt32(current[p + 1]) << 16 | UInt32(current[p + 2]) << 8 | alpha)
            }
            swap(&previous, &current)
        }
        self.pixels = pixels
    }

    /// How many different colours the picture has.
    public var colourCount: Int { Set(pixels).count }

    /// The share of pixels that differ from the most common one (the background).
    public var foregroundFraction: Double {
        var counts: [UInt32: Int] = [:]
        for pixel in pixels { counts[pixel, default: 0] += 1 }
        let background = counts.values.max() ?? 0
        return pixels.isEmpty ? 0 : Double(pixels.count - background) / Double(pixels.count)
    }
}

/// A DEFLATE stream decoder: stored, fixed-Huffman and dynamic-Huffman blocks.
struct Inflater {
    private let input: [UInt8]
    private var position = 0
    private var bitBuffer = 0
    private var bitCount = 0

    init(_ input: [UInt8]) { self.input = input }

    private static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99,
                                     115, 131, 163, 195, 227, 258]
    private static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
                                       1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    private static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11,
                                        12, 12, 13, 13]
    private static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    /// A canonical Huffman code: how many codes each length has, and the symbols in code order.
    private struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int] = []

        init(lengths: [Int]) {
            for length in lengths { counts[length] += 1 }
            counts[0] = 0
            var offsets = [Int](repeating: 0, count: 16)
            for length in 1..<16 { offsets[length] = offsets[length - 1] + counts[length - 1] }
            symbols = [Int](repeating: 0, count: lengths.count)
            for (symbol, length) in lengths.enumerated() where length > 0 {
                symbols[offsets[length]] = symbol
                offsets[length] += 1
            }
        }
    }

    private mutating func bits(_ count: Int) throws -> Int {
        while bitCount < count {
            guard position < input.count else { throw PNGImage.DecodeError("compressed data ends early") }
            bitBuffer |= Int(input[position]) << bitCount
            position += 1
            bitCount += 8
        }
        let value = bitBuffer & ((1 << count) - 1)
        bitBuffer >>= count
        bitCount -= count
        return value
    }

    /// Codes are read most significant bit first, one bit at a time.
    private mutating func decode(_ code: Huffman) throws -> Int {
        var value = 0, first = 0, index = 0
        for length in 1..<16 {
            value |= try bits(1)
            let count = code.counts[length]
            if value - first < count { return code.symbols[index + value - first] }
            index += count
            first = (first + count) << 1
            value <<= 1
        }
        throw PNGImage.DecodeError("bad Huffman code")
    }

    mutating func inflate() throws -> [UInt8] {
        var out: [UInt8] = []
        var last = false
        while !last {
            last = try bits(1) == 1
            switch try bits(2) {
            case 0:
                bitBuffer = 0
                bitCount = 0
                guard position + 4 <= input.count else { throw PNGImage.DecodeError("stored block header ends early") }
                let length = Int(input[position]) | Int(input[position + 1]) << 8
                position += 4
                guard position + length <= input.count else { throw PNGImage.DecodeError("stored block ends early") }
                out += input[position..<position + length]
                position += length
            case 1:
                let literals = Huffman(lengths: Array(repeating: 8, count: 144) + Array(repeating: 9, count: 112)
                                       + Array(repeating: 7, count: 24) + Array(repeating: 8, count: 8))
                try inflateBlock(literals: literals, distances: Huffman(lengths: Array(repeating: 5, count: 30)), into: &out)
            case 2:
                let literalCount = try bits(5) + 257, distanceCount = try bits(5) + 1, lengthCount = try bits(4) + 4
                var codeLengths = [Int](repeating: 0, count: 19)
                for i in 0..<lengthCount { codeLengths[Self.codeLengthOrder[i]] = try bits(3) }
                let lengthCode = Huffman(lengths: codeLengths)
                var lengths: [Int] = []
                while lengths.count < literalCount + distanceCount {
                    let symbol = try decode(lengthCode)
                    switch symbol {
                    case 0...15: lengths.append(symbol)
                    case 16:
                        guard let previous = lengths.last else { throw PNGImage.DecodeError("repeat with nothing before") }
                        lengths += Array(repeating: previous, count: 3 + (try bits(2)))
                    case 17: lengths += Array(repeating: 0, count: 3 + (try bits(3)))
                    default: lengths += Array(repeating: 0, count: 11 + (try bits(7)))
                    }
                }
                try inflateBlock(literals: Huffman(lengths: Array(lengths[..<literalCount])),
                                 distances: Huffman(lengths: Array(lengths[literalCount..<literalCount + distanceCount])),
                                 into: &out)
            default:
                throw PNGImage.DecodeError("reserved block type")
            }
        }
        return out
    }

    private mutating func inflateBlock(literals: Huffman, distances: Huffman, into out: inout [UInt8]) throws {
        while true {
            let symbol = try decode(literals)
            if symbol < 256 {
                out.append(UInt8(symbol))
            } else if symbol == 256 {
                return
            } else {
                let index = symbol - 257
                guard index < Self.lengthBase.count else { throw PNGImage.DecodeError("bad length code") }
                let length = Self.lengthBase[index] + (try bits(Self.lengthExtra[index]))
                let distanceSymbol = try decode(distances)
                guard distanceSymbol < Self.distanceBase.count else { throw PNGImage.DecodeError("bad distance code") }
                let distance = Self.distanceBase[distanceSymbol] + (try bits(Self.distanceExtra[distanceSymbol]))
                guard distance <= out.count else { throw PNGImage.DecodeError("distance past the start") }
                let start = out.count - distance
                for i in 0..<length { out.append(out[start + i]) }
            }
        }
    }
}
