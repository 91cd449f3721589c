import Foundation
import Testing
@testable import cnnc

/// A file that is not a network, given as one, is one located error from every command that
/// reads networks; a byte-order mark is no error; control characters never reach stderr raw.
struct TextInputCLITests {
    @Test func imageGivenAsTheNetworkIsOneError() throws {
        let folder = try ScratchFolder("text-input")
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D] + (0..<2000).map { UInt8($0 % 251) }
        let path = folder.file("cat.png")
        try Data(png).write(to: URL(fileURLWithPath: path))
        let check = runCNNC(["check", path])
        #expect(check.status == ExitCode.failure)
        #expect(check.err == """
            \(path):1:1: error: not a text file: byte 0x89 at offset 0
            note: this looks like a PNG image; inputs are given to 'cnnc run --input' as .npy, .pgm or .ppm
            1 error in \(path)

            """)
        let initialize = runCNNC(["init", path, "-o", folder.file("w.safetensors")])
        #expect(initialize.status == ExitCode.failure)
        #expect(initialize.err == """
            \(path):1:1: error: not a text file: byte 0x89 at offset 0
            note: this looks like a PNG image; inputs are given to 'cnnc run --input' as .npy, .pgm or .ppm
            cnnc init: \(path): 1 error

            """)
    }

    @Test func byteOrderMarkIsNoError() throws {
        let folder = try ScratchFolder("text-input")
        let path = folder.file("bom.cnn")
        try Data([0xEF, 0xBB, 0xBF] + Array("input 8x8x1\nfc 2\n".utf8)).write(to: URL(fileURLWithPath: path))
        let check = runCNNC(["check", path])
        #expect(check.status == ExitCode.success)
        #expect(check.err.isEmpty)
    }

    @Test func controlCharactersInArgumentsAreEscaped() {
        let command = runCNNC(["che\u{1B}[2Jck"])
        #expect(command.err.hasPrefix("cnnc: unknown command 'che\\u{1B}[2Jck'\n"))
        let option = runCNNC(["check", "--x\u{7}", "n.cnn"])
        #expect(option.err.hasPrefix("cnnc check: unknown option '--x\\u{7}'\n"))
    }

    @Test func controlCharactersInFileNamesAreEscaped() throws {
        let folder = try ScratchFolder("text-input")
        let path = try folder.write("bad\u{1B}[31m.cnn", "input 8x8x1\nfc\n")
        let shown = folder.path + "/bad\\u{1B}[31m.cnn"
        let check = runCNNC(["check", path])
        #expect(check.err.hasPrefix("\(shown):2:1: error: fc needs the number of neurons N\n"))
        #expect(check.err.hasSuffix("1 error in \(shown)\n"))
        #expect(!check.err.contains("\u{1B}"))
        #expect(runCNNC(["check", folder.file("gone\u{7}.cnn")]).err == folder.path + "/gone\\u{7}.cnn: error: no such file\n")
    }
}
