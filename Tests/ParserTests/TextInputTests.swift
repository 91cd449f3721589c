import Parser
import Testing

/// What a file's bytes can hold besides a network: a byte-order mark, another format
/// altogether, bytes that are not UTF-8, control characters. Each gives one located
/// diagnostic, and nothing of the file reaches the terminal raw.
struct TextInputTests {
    func diagnostics(_ bytes: [UInt8]) -> (file: SourceFile, found: [String]) {
        let file = SourceFile(path: "t.cnn", bytes: bytes)
        return (file, parse(file).diagnostics.map { "\($0.range.start.line):\($0.range.start.column): \($0.message)" })
    }

    @Test func byteOrderMarkIsSkipped() {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let clean = diagnostics(bom + Array("input 8x8x1\nconv 2 3x3\n".utf8))
        #expect(clean.found.isEmpty)
        #expect(clean.file.lines.first == "input 8x8x1")
        // Columns count from the first character after the mark.
        #expect(diagnostics(bom + Array("convv 2 3x3\n".utf8)).found.first == "1:1: unknown operation 'convv'")
        #expect(diagnostics(bom + Array("input 8x8x1 bad\n".utf8)).found == ["1:13: unexpected 'bad' in input"])
        #expect(parse(SourceFile(path: "t.cnn", text: "\u{FEFF}input 8x8x1\nfc 2\n")).diagnostics.isEmpty)
    }

    @Test func binaryFileIsOneError() {
        // A PNG's signature and the start of its IHDR chunk: the first byte is not UTF-8.
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D] + Array(repeating: 0xC8, count: 500)
        let result = parse(SourceFile(path: "cat.png", bytes: png))
        #expect(result.diagnostics.count == 1)
        let d = result.diagnostics[0]
        #expect(d.id == "not-text")
        #expect(d.message == "not a text file: byte 0x89 at offset 0")
        #expect(d.range.start == SourceLocation(line: 1, column: 1))
        #expect(d.notes.map(\.message) == ["this looks like a PNG image; inputs are given to 'cnnc run --input' as .npy, .pgm or .ppm"])

        // safetensors: an 8-byte header length, then JSON; the first byte that is not text is a NUL.
        let weights: [UInt8] = [0x20, 0, 0, 0, 0, 0, 0, 0] + Array(#"{"fc.weight":{"dtype":"F32"}}  "#.utf8) + [0, 0, 0x80, 0x3F]
        let w = parse(SourceFile(path: "w.safetensors", bytes: weights)).diagnostics
        #expect(w.map(\.message) == ["not a text file: byte 0x00 at offset 1"])
        #expect(w.first?.range.start == SourceLocation(line: 1, column: 2))
        #expect(w.first?.notes.first?.message == "this looks like a safetensors weight file; weights are given with --weights")

        // Text, then a NUL on the third line: located there, with the text before it shown.
        let text = Array("input 8x8x1\nfc 2\nrelu\u{0}\u{0}".utf8)
        let late = parse(SourceFile(path: "t.cnn", bytes: text))
        #expect(late.diagnostics.map { "\($0.range.start.line):\($0.range.start.column): \($0.message)" }
                == ["3:5: not a text file: byte 0x00 at offset 21"])
        #expect(DiagnosticRenderer().render(late.diagnostics, in: SourceFile(path: "t.cnn", bytes: text)) == """
            t.cnn:3:5: error: not a text file: byte 0x00 at offset 21
             3 | relu
               |     ^
            note: a network is a UTF-8 text file of lines such as 'conv 6 5x5 relu'

            """)
        // UTF-16 (Notepad's "Unicode"): every other byte of ASCII text is a NUL.
        let utf16: [UInt8] = [0xFF, 0xFE] + Array("input".utf8).flatMap { [$0, 0] }
        #expect(parse(SourceFile(path: "t.cnn", bytes: utf16)).diagnostics.first?.notes.first?.message
                == "this looks like UTF-16 text; save it as UTF-8")
    }

    @Test func invalidUTF8IsOneErrorAtTheFirstByte() {
        // Latin-1 comments: é (0xE9) on line 2, ï (0xEF) on line 3; the rest is read.
        let latin1 = Array("input 8x8x1\nconv 2 3x3 # caf".utf8) + [0xE9] + Array("\nfc 2 # na".utf8) + [0xEF] + Array("ve\nfc 3\n".utf8)
        let result = parse(SourceFile(path: "t.cnn", bytes: latin1))
        #expect(result.diagnostics.map { "\($0.range.start.line):\($0.range.start.column): \($0.message)" }
                == ["2:17: byte 0xE9 is not valid UTF-8"])
        #expect(result.diagnostics.first?.notes.map(\.message) == ["1 more line also holds bytes that are not UTF-8",
                                                                  "save the file as UTF-8; other encodings (Latin-1, Windows-1252) are not read"])
        #expect(result.syntax.layers.count == 3)
        // After valid multi-byte text, the column still counts characters; a sequence cut
        // short and an overlong form are both invalid.
        #expect(diagnostics(Array("input 8x8x1 # é ".utf8) + [0xC3]).found == ["1:17: byte 0xC3 is not valid UTF-8"])
        #expect(diagnostics(Array("input 8x8x1 #".utf8) + [0xC0, 0xAF]).found == ["1:14: byte 0xC0 is not valid UTF-8"])
        #expect(diagnostics(Array("input 8x8x1 #".utf8) + [0xED, 0xA0, 0x80]).found == ["1:14: byte 0xED is not valid UTF-8"])
        #expect(diagnostics(Array("input 8x8x1 # 😀 ✓ é\nfc 2\n".utf8)).found.isEmpty)
    }

    @Test func controlCharactersAreEscapedWhenShown() {
        // ESC in a name, BEL after a size, a right-to-left override before a word.
        let text = "input 8x8x1\nc\u{1B}[31m: conv 2 3x3\u{7}\nconv 2 3x3 \u{202E}x\n"
        let file = SourceFile(path: "t.cnn", text: text)
        let rendered = DiagnosticRenderer().render(parse(file).diagnostics, in: file)
        #expect(!rendered.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{7}" || $0 == "\u{202E}" })
        #expect(rendered == """
            t.cnn:2:1: error: 'c\\u{1B}[31m' is not a valid name; names are letters, digits, '_', '.' and '-', starting with a letter or '_'
             2 | c\\u{1B}[31m: conv 2 3x3\\u{7}
               | ^~~~~~~~~~~
            t.cnn:2:16: error: '3x3\\u{7}' is not a size; write W, WxH or WxHxD with a lower-case x and no spaces
             2 | c\\u{1B}[31m: conv 2 3x3\\u{7}
               |                     ^~~~~~~~
            t.cnn:3:12: error: unexpected '\\u{202E}x' in conv
             3 | conv 2 3x3 \\u{202E}x
               |            ^~~~~~~~~
            note: write '\(Grammar.form(of: "conv"))'

            """)
        // A carriage return alone separates words, as a space does; shown, it is escaped too.
        let cr = SourceFile(path: "t.cnn", text: "input 8x8x1\nconv 2 3x3\rbad\n")
        #expect(DiagnosticRenderer().render(parse(cr).diagnostics, in: cr).hasPrefix("""
            t.cnn:2:12: error: 'bad' is not an option of conv
             2 | conv 2 3x3\\u{D}bad
               |                ^~~
            """))
    }
}
