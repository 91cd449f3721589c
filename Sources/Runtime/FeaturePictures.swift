import Foundation

/// `run --pictures DIR`: every channel of every map as a grey PNG, and DIR/index.html showing
/// them per layer with its name and shape (plain HTML: no scripts, links relative to DIR).
public enum FeaturePictures {
    /// Each channel stretched on its own: its smallest value black, its largest white; a
    /// constant channel mid-grey. NaN is black; ±inf are the ends of the range.
    public static func pixels(_ values: ArraySlice<Float>) -> [UInt8] {
        let finite = values.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max(), high > low else {
            return values.map { $0.isNaN ? 0 : $0 == .infinity ? 255 : $0 == -.infinity ? 0 : 128 }
        }
        let scale = 255 / (Double(high) - Double(low))
        return values.map { value in
            if value.isNaN { return 0 }
            if value.isInfinite { return value > 0 ? 255 : 0 }
            return UInt8(((Double(value) - Double(low)) * scale).rounded().clamped(to: 0...255))
        }
    }

    /// The picture of one channel (a vector is one row): its file name in DIR, width, height.
    struct Picture {
        var file: String
        var width: Int
        var height: Int
        var caption: String
    }

    /// Writes the pictures and the index through OutputWriter, one layer at a time (so a large
    /// network is never all in memory at once), the index last; the number of pictures.
    @discardableResult
    public static func write(_ maps: [FeatureMap], to directory: String, network: String) throws -> Int {
        try makeDirectory(directory)
        var sections: [(map: FeatureMap, pictures: [Picture])] = []
        var count = 0
        for map in maps {
            var files: [OutputFile] = []
            var pictures: [Picture] = []
            let (width, height, channels) = map.shape.isVector ? (map.shape.depth, 1, 1) : (map.shape.width, map.shape.height, map.shape.depth)
            for image in 0..<map.batch {
                for channel in 0..<channels {
                    let values = map.shape.isVector
                        ? map.values.storage[(image * width)..<((image + 1) * width)] : map.plane(image: image, channel: channel)
                    var name = map.name
                    if map.batch > 1 { name += "-img\(image + 1)" }
                    if !map.shape.isVector { name += "-ch\(channel + 1)" }
                    let caption = (map.batch > 1 ? "image \(image + 1), " : "") + (map.shape.isVector ? "\(width) values" : "channel \(channel + 1)")
                    files.append(OutputFile(path: directory + "/" + name + ".png",
                                            bytes: PNG.grey(width: width, height: height, pixels: pixels(values))))
                    pictures.append(Picture(file: name + ".png", width: width, height: height, caption: caption))
                }
            }
            try OutputWriter.write(files)
            count += files.count
            sections.append((map, pictures))
        }
        try OutputWriter.write([OutputFile(path: directory + "/index.html", bytes: Array(index(sections, network: network).utf8))])
        return count
    }

    static func index(_ sections: [(map: FeatureMap, pictures: [Picture])], network: String) -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>\(escaped(network)): feature maps</title>
            <style>
            body { font-family: sans-serif; margin: 2em; }
            figure { display: inline-block; margin: 0 1em 1em 0; text-align: center; }
            img { image-rendering: pixelated; border: 1px solid #888; }
            figcaption { font-size: small; }
            </style>
            </head>
            <body>
            <h1>\(escaped(network)): feature maps</h1>
            <p>Each channel is scaled on its own: its smallest value black, its largest white (a constant channel is grey).</p>

            """
        for (map, pictures) in sections {
            html += "<h2 id=\"\(escaped(map.name))\">\(escaped(map.title))</h2>\n"
            for picture in pictures {
                // Small maps are drawn larger (whole pixels, no smoothing) so a 3x3 grid can be seen.
                let zoom = max(1, 96 / max(picture.width, picture.height))
                let width = min(picture.width * zoom, 1024), height = picture.height * width / picture.width
                html += "<figure><img src=\"\(escaped(picture.file))\" width=\"\(width)\" height=\"\(max(height, 1))\" "
                    + "alt=\"\(escaped(map.name)) \(escaped(picture.caption))\"><figcaption>\(escaped(picture.caption))</figcaption></figure>\n"
            }
        }
        return html + "</body>\n</html>\n"
    }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    private static func makeDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if !isDirectory.boolValue { throw RuntimeError("\(path): is not a directory (--pictures names the directory to write into)") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw RuntimeError("\(path): cannot create the pictures directory (\(error.localizedDescription))")
        }
    }
}

extension Double {
    fileprivate func clamped(to range: ClosedRange<Double>) -> Double { Swift.min(Swift.max(self, range.lowerBound), range.upperBound) }
}
