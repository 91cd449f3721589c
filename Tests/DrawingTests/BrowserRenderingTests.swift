import Foundation
import Testing
@testable import Drawing

/// A headless Chromium on PATH, if any: Debian's `chromium-headless-shell` (the faster to
/// start) or its full `chromium`.
enum Chromium {
    static let path: String? = {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for name in ["chromium-headless-shell", "chromium", "chromium-browser"] {
            for folder in folders where FileManager.default.isExecutableFile(atPath: folder + "/" + name) {
                return folder + "/" + name
            }
        }
        return nil
    }()
}

// Skipped, and the test output says so, where no browser is installed; .ci/run installs one
// and renders every model (tools/draw/render_models.sh).
@Suite(.enabled(if: Chromium.path != nil, "no chromium on PATH: the browser rendering of a picture is not checked"))
struct BrowserRenderingTests {
    final class Scratch: ScratchFolder {
        init() throws { try super.init("draw-browser") }
    }

    @Test func lenet5RendersToAPictureThatIsNotBlank() throws {
        let scratch = try Scratch()
        let drawing = NetworkLayout.layout(try ShippedModels.network("lenet5.cnn"))
        try scratch.write("lenet5.svg", SVGPrinter.print(drawing))
        let width = Int(drawing.width.rounded(.up)), height = Int(drawing.height.rounded(.up))
        let started = try startProcess(try #require(Chromium.path), [
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=" + scratch.file("profile"),
            "--window-size=\(width),\(height)", "--screenshot=" + scratch.file("lenet5.png"),
            URL(fileURLWithPath: scratch.file("lenet5.svg")).absoluteString,
        ])
        // A browser that hangs must not hang the tests.
        let deadline = Date().addingTimeInterval(90)
        while started.0.isRunning && Date() < deadline { usleep(50_000) }
        if started.0.isRunning { started.0.terminate() }
        let (status, output) = finish(started)
        #expect(status == 0, "chromium: \(output.suffix(500))")
        let data = try #require(scratch.contents("lenet5.png"), "chromium wrote no screenshot: \(output.suffix(500))")
        let image = try PNGImage([UInt8](data))
        #expect(image.width == width && image.height == height)
        // Boxes of five colours, their outlines, arrows and anti-aliased text: many colours,
        // and a fair share of the page that is not background.
        #expect(image.colourCount > 20, "\(image.colourCount) colours")
        #expect(image.foregroundFraction > 0.05, "\(image.foregroundFraction) of the pixels drawn")
    }
}
