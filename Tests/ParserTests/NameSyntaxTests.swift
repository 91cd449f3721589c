import Foundation
import Parser
import Testing
import TestSupport

/// Names may hold `-` (torchvision's regnet: `trunk_output.block1.block1-0`), never first, so a
/// word starting with `-` or a digit is still a number: `leakyrelu -0.1` keeps its meaning.
struct NameSyntaxTests {
    func parsed(_ text: String) -> ParseResult {
        parse(SourceFile(path: "t.cnn", text: "input 8x8x3\n" + text))
    }

    func messages(_ text: String) -> [String] {
        parsed(text).diagnostics.map { "\($0.range.start.line):\($0.range.start.column): \($0.message)" }
    }

    @Test func regnetNames() throws {
        let result = parsed("""
            trunk_output.block1.block1-0.proj: conv 8 1x1
            trunk_output.block1.block1-0.f.a: conv 8 1x1 from input leakyrelu -0.1
            block1-1: add trunk_output.block1.block1-0.proj trunk_output.block1.block1-0.f.a leakyrelu -0.2
            x-: relu from block1-1
            _-1: leakyrelu -0.5
            a--b: concat x- _-1 block1-1 elu -1

            """)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.message))")
        let layers = result.syntax.layers
        try #require(layers.count == 6)
        #expect(layers.map { $0.name?.value } == ["trunk_output.block1.block1-0.proj", "trunk_output.block1.block1-0.f.a",
                                                  "block1-1", "x-", "_-1", "a--b"])
        #expect(layers[1].activation?.value == .leakyRelu(-0.1))
        guard case .add(let sources) = layers[2].operation, case .activation(.leakyRelu(-0.5)) = layers[4].operation,
              case .concat(let stacked) = layers[5].operation else {
            Issue.record("not add, leakyrelu -0.5, concat")
            return
        }
        #expect(sources.map(\.value) == ["trunk_output.block1.block1-0.proj", "trunk_output.block1.block1-0.f.a"])
        #expect(layers[2].activation?.value == .leakyRelu(-0.2))
        #expect(layers[3].from?.value == "block1-1")
        #expect(stacked.map(\.value) == ["x-", "_-1", "block1-1"] && layers[5].activation?.value == .elu(-1))
    }

    /// A word starting with `-`, a digit or `.` is no name: these are the errors they always were.
    @Test func wordsThatAreNotNames() {
        let invalid = "is not a valid name; names are letters, digits, '_', '.' and '-', starting with a letter or '_'"
        #expect(messages("-x: relu\n") == ["2:1: '-x' \(invalid)"])
        #expect(messages("1-0: relu\n") == ["2:1: '1-0' \(invalid)"])
        #expect(messages("relu from -x\n") == ["2:11: '-x' \(invalid)"])
        #expect(messages("a: relu\nb: relu\nadd a -b\n") == ["4:7: unexpected '-b' in add", "4:1: add needs at least two layers to combine"])
        #expect(messages("a: relu\nb: relu\nadd a b -0.1\n") == ["4:9: unexpected '-0.1' in add"])
        #expect(messages("conv 4 3x3 pad -1\n") == ["2:16: '-1' is not a size; write W, WxH or WxHxD with a lower-case x and no spaces"])
        #expect(parse(SourceFile(path: "t.cnn", text: "network my-net\ninput 4\nfc 2\n")).syntax.name?.value == "my-net")
    }
}
