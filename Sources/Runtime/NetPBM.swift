/// PGM and PPM images (P2, P3 plain; P5, P6 raw), read into a [D, H, W] tensor.
public enum NetPBM {
    /// The most samples (width · height · channels) an image may hold: 2^28 (1 GiB of floats).
    public static let sampleLimit = 1 << 28

    /// P2, P3, P5, P6, 8- and 16-bit (maxval up to 65535), scaled to [0,1], then
    /// (x - mean[c]) / std[c] per channel if given (a single value applies to all channels).
    /// Returns shape [D, H, W] with D = 1 (PGM) or 3 (PPM).
    public static func read(contentsOf path: String, mean: [Float]? = nil, std: [Float]? = nil) throws -> Tensor {
        try read(InputFile(path), mean: mean, std: std)
    }

    /// The longest header (comments included) read before the pixels.
    public static let headerLimit = 1 << 16
    /// A plain (P2/P3) sample takes at most this many bytes with its whitespace, for the read bound.
    public static let plainBytesPerSample = 32

    /// Reads the header from a bounded prefix, then at most the bytes its size allows (the
    /// raster of a P5/P6, `plainBytesPerSample` a sample for P2/P3) and one more, so
    /// `/dev/zero` or an endless FIFO stops early. `checkShape` sees [D, H, W] before the pixels.
    public static func read(_ file: InputFile, mean: [Float]? = nil, std: [Float]? = nil,
                            checkShape: (([Int]) throws -> Void)? = nil) throws -> Tensor {
        let path = file.path
        var found: Header?
        for prefix in [512, headerLimit] {
            try file.fill(to: prefix)
            if file.atEnd { return try parse(file.bytes, path: path, mean: mean, std: std) }
            found = try header(file.bytes, path: path, complete: false)
            if found != nil { break }
        }
        guard let found else { throw RuntimeError("\(path): the header is longer than \(headerLimit) bytes (not a PGM/PPM image?)") }
        try checkShape?([found.channels, found.height, found.width])
        let samples = found.width * found.height * found.channels
        let bytesPerSample = found.maxval > 255 ? 2 : 1
        let total = found.binary ? found.position + 1 + samples * bytesPerSample
            : found.position + samples * plainBytesPerSample + headerLimit
        let layout = "\(found.width)x\(found.height), \(plural(found.channels, "channel")), "
            + (found.binary ? "\(plural(bytesPerSample, "byte")) per sample" : "plain text")
        if found.binary, let size = file.regularSize, size > total {
            throw RuntimeError("\(path): \(plural(size - total, "byte")) of extra data after the pixels "
                + "(expected \(plural(samples * bytesPerSample, "byte")): \(layout))")
        }
        try file.fill(to: total + 1)
        if file.bytes.count > total {
            throw RuntimeError("\(path): more data than a \(layout) image can take (\(total) bytes); stopped reading there")
        }
        try requireMemory(samples * 4, for: "the \(samples) samples of \(path)")
        return try parse(file.bytes, path: path, mean: mean, std: std)
    }

    /// What a header says, and the offset just after maxval.
    struct Header {
        var channels: Int
        var binary: Bool
        var width: Int
        var height: Int
        var maxval: Int
        var position: Int
    }

    public static func parse(_ bytes: [UInt8], path: String, mean: [Float]? = nil, std: [Float]? = nil) throws -> Tensor {
        func fail(_ message: String) -> RuntimeError { RuntimeError("\(path): \(message)") }
        let found = try header(bytes, path: path, complete: true)!
        let (channels, binary, width, height, maxval) = (found.channels, found.binary, found.width, found.height, found.maxval)
        let planeSize = width * height  // both below 1e9: cannot overflow
        let samples = planeSize * channels
        let channelText = channels == 1 ? "1 channel" : "\(channels) channels"
        var scanner = Scanner(bytes: bytes, position: found.position)

        // Per-channel affine map from raw sample to output: (v / maxval - mean) / std.
        let means = try normalization(mean, name: "mean", channels: channels, default: 0, path: path)
        let stds = try normalization(std, name: "std", channels: channels, default: 1, path: path)
        for (c, s) in stds.enumerated() where !(s > 0) {
            throw fail("std\((std?.count ?? 1) == 1 ? "" : "[\(c)]") is \(s); expected a positive number")
        }
        // A pixel is in [0, 1], so (x − mean)/std is largest in magnitude at 0 or 1.
        for (c, s) in stds.enumerated() {
            if let x = [Float(0), 1].first(where: { !(($0 - means[c]) / s).isFinite }) {
                let channel = std?.count == 1 && channels > 1 ? " for channel \(c)" : ""
                throw fail("std\((std?.count ?? 1) == 1 ? "" : "[\(c)]") is \(s); (\(x) − \(means[c]))/\(s) overflows float32\(channel)")
            }
        }
        let range = Float(maxval)

        func location(_ sample: Int) -> String {
            let pixel = sample / channels
            let base = "row \(pixel / width), column \(pixel % width)"
            return channels == 1 ? base : base + ", channel \(sample % channels)"
        }

        // Allocated once the file is known to hold the samples: a 20-byte header can claim
        // 2^28 of them, and holding a gigabyte for a file that is then too short helps no one.
        var storage: [Float] = []
        func store(_ value: Int, sample i: Int) throws {
            if value > maxval {
                throw fail("sample value \(value) at \(location(i)) exceeds maxval \(maxval)")
            }
            let c = i % channels
            let pixel = i / channels
            storage[c * planeSize + pixel] = (Float(value) / range - means[c]) / stds[c]
        }

        if binary {
            // Exactly one whitespace byte separates maxval from the raster.
            guard let separator = scanner.current else {
                throw fail("pixel data is missing: expected a whitespace byte after maxval, then the pixels")
            }
            if !isWhitespace(separator) {
                throw fail("expected a single whitespace byte after maxval, found \(describeByte(separator))")
            }
            let start = scanner.position + 1
            let bytesPerSample = maxval > 255 ? 2 : 1
            let needed = samples * bytesPerSample
            let present = bytes.count - start
            let layout = "\(width)x\(height), \(channelText), \(plural(bytesPerSample, "byte")) per sample"
            if present < needed {
                throw fail("pixel data is truncated: expected \(plural(needed, "byte")) (\(layout)), found \(present)")
            }
            if present > needed {
                throw fail("\(plural(present - needed, "byte")) of extra data after the pixels (expected \(plural(needed, "byte")): \(layout))")
            }
            storage = [Float](repeating: 0, count: samples)
            if bytesPerSample == 1 {
                for i in 0..<samples { try store(Int(bytes[start + i]), sample: i) }
            } else {
                for i in 0..<samples {
                    try store(Int(bytes[start + 2 * i]) << 8 | Int(bytes[start + 2 * i + 1]), sample: i)
                }
            }
        } else {
            // Every sample takes at least a byte: with fewer left, the loop only finds where the
            // data ends (or an earlier bad sample), so nothing is stored.
            let fits = samples <= bytes.count - scanner.position
            if fits { storage = [Float](repeating: 0, count: samples) }
            for i in 0..<samples {
                scanner.skipWhitespaceAndComments()
                guard let token = scanner.token() else {
                    throw fail("pixel data is truncated: expected \(plural(samples, "sample")) (\(width)x\(height), \(channelText)), found \(i)")
                }
                guard let value = decimalValue(token) else {
                    throw fail("sample at \(location(i)) is '\(printable(token))'; expected a decimal integer")
                }
                if value > maxval {
                    throw fail("sample value \(printable(token)) at \(location(i)) exceeds maxval \(maxval)")
                }
                if fits { try store(value, sample: i) }
            }
            if !fits {  // cannot happen: fewer bytes than samples cannot hold them all
                throw fail("pixel data is truncated: expected \(plural(samples, "sample")) (\(width)x\(height), \(channelText))")
            }
            scanner.skipWhitespaceAndComments()
            if scanner.current != nil {
                throw fail("extra data after the \(plural(samples, "sample")) (\(width)x\(height), \(channelText)) at byte offset \(scanner.position)")
            }
        }
        return Tensor(shape: [channels, height, width], storage: storage)
    }

    /// The header of `bytes`; when `complete` is false (`bytes` is a prefix of the file), nil
    /// if the prefix ends before the header does.
    static func header(_ bytes: [UInt8], path: String, complete: Bool) throws -> Header? {
        func fail(_ message: String) -> RuntimeError { RuntimeError("\(path): \(message)") }

        if bytes.isEmpty { throw fail("file is empty") }
        let magicText = bytes.prefix(2).map(describeByte).joined(separator: " ")
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "P") else {
            throw fail("not a PGM/PPM file (it starts with \(magicText); expected P2, P3, P5 or P6)")
        }
        let channels: Int
        let binary: Bool
        switch bytes[1] {
        case UInt8(ascii: "2"): (channels, binary) = (1, false)
        case UInt8(ascii: "3"): (channels, binary) = (3, false)
        case UInt8(ascii: "5"): (channels, binary) = (1, true)
        case UInt8(ascii: "6"): (channels, binary) = (3, true)
        case UInt8(ascii: "1"), UInt8(ascii: "4"):
            throw fail("P\(Character(Unicode.Scalar(bytes[1]))) (PBM bitmap) is not supported; expected P2, P3, P5 or P6")
        case UInt8(ascii: "7"):
            throw fail("P7 (PAM) is not supported; expected P2, P3, P5 or P6")
        default:
            throw fail("not a PGM/PPM file (it starts with \(magicText); expected P2, P3, P5 or P6)")
        }
        let magic = "P" + String(Character(Unicode.Scalar(bytes[1])))

        var scanner = Scanner(bytes: bytes, position: 2)
        if let c = scanner.current, !isWhitespace(c), c != UInt8(ascii: "#") {
            throw fail("expected whitespace after the magic number \(magic), found \(describeByte(c))")
        }

        struct Incomplete: Error {}
        func headerNumber(_ name: String) throws -> Int {
            scanner.skipWhitespaceAndComments()
            let token = scanner.token()
            // In a prefix, a number that reaches its end may go on in the rest of the file.
            if !complete && scanner.position >= bytes.count { throw Incomplete() }
            guard let token else { throw fail("header ends before the \(name)") }
            guard let value = decimalValue(token) else {
                throw fail("\(name) is '\(printable(token))'; expected a decimal integer")
            }
            if name == "maxval" {
                if value < 1 || value > 65535 { throw fail("maxval is \(printable(token)); expected 1 to 65535") }
            } else {
                if value == 0 { throw fail("\(name) is 0; expected at least 1") }
                if value >= 1_000_000_000 { throw fail("\(name) \(printable(token)) is too large") }
            }
            return value
        }
        do {
        let width = try headerNumber("width")
        let height = try headerNumber("height")
        let planeSize = width * height  // both below 1e9: cannot overflow
        let samples = planeSize * channels
        let channelText = channels == 1 ? "1 channel" : "\(channels) channels"
        if samples > sampleLimit {
            throw fail("image of \(width)x\(height) with \(channelText) has \(samples) samples; the limit is \(sampleLimit)")
        }
        let maxval = try headerNumber("maxval")
        return Header(channels: channels, binary: binary, width: width, height: height, maxval: maxval, position: scanner.position)
        } catch is Incomplete {
            return nil
        }
    }


    private static func normalization(_ values: [Float]?, name: String, channels: Int, default fill: Float, path: String) throws -> [Float] {
        guard let values else { return [Float](repeating: fill, count: channels) }
        if values.count != 1 && values.count != channels {
            let noun = channels == 1 ? "1 channel" : "\(channels) channels"
            throw RuntimeError("\(path): \(name) has \(values.count) values but the image has \(noun); give 1\(channels == 1 ? "" : " or \(channels)")")
        }
        for (i, v) in values.enumerated() where !v.isFinite {
            throw RuntimeError("\(path): \(name)\(values.count == 1 ? "" : "[\(i)]") is \(v); expected a finite number")
        }
        return values.count == 1 ? [Float](repeating: values[0], count: channels) : values
    }
}

private func plural(_ n: Int, _ noun: String) -> String {
    "\(n) \(noun)\(n == 1 ? "" : "s")"
}

private func isWhitespace(_ c: UInt8) -> Bool {
    c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0B || c == 0x0C
}

/// A decimal integer (saturating at Int.max, so the caller reports it as too large rather
/// than overflowing), or nil when the token is not all digits.
private func decimalValue(_ token: ArraySlice<UInt8>) -> Int? {
    guard !token.isEmpty, token.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
    var value = 0
    for c in token {
        let (times10, o1) = value.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times10.addingReportingOverflow(Int(c - 0x30))
        if o1 || o2 { return Int.max }
        value = sum
    }
    return value
}

/// A token for a message: printable ASCII kept, anything else as \xNN, at most 32 bytes.
private func printable(_ token: ArraySlice<UInt8>) -> String {
    var out = ""
    for c in token.prefix(32) {
        if c >= 0x20 && c < 0x7F && c != UInt8(ascii: "'") {
            out.append(Character(Unicode.Scalar(c)))
        } else {
            let hex = String(c, radix: 16, uppercase: true)
            out += "\\x" + (hex.count == 1 ? "0" : "") + hex
        }
    }
    return token.count > 32 ? out + "…" : out
}

private struct Scanner {
    let bytes: [UInt8]
    var position: Int

    var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    /// Skips whitespace and `#` comments (to the end of the line).
    mutating func skipWhitespaceAndComments() {
        while let c = current {
            if isWhitespace(c) {
                position += 1
            } else if c == UInt8(ascii: "#") {
                while let d = current, d != 0x0A, d != 0x0D { position += 1 }
            } else {
                return
            }
        }
    }

    /// The run of bytes up to the next whitespace or `#`, or nil at the end of the file.
    mutating func token() -> ArraySlice<UInt8>? {
        let start = position
        while let c = current, !isWhitespace(c), c != UInt8(ascii: "#") { position += 1 }
        return position > start ? bytes[start..<position] : nil
    }
}
