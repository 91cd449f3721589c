import Foundation
import Testing

/// README.md's examples run as written: every ```sh block, in order, in one scratch folder that
/// sees the repository's models/ and examples/, with the built cnnc first on PATH (the lines
/// that build cnnc or set PATH are what this test stands in for). A plain ``` block right after
/// an sh block is what it prints: each of its lines must be in the output. The README stays a
/// quick start: at most 200 lines.
@Suite(.enabled(if: BuiltExecutable.cnnc != nil, "the cnnc executable is not built beside the tests"))
struct ReadmeTests {
    struct Block {
        var language: String
        var lines: [String]
    }

    static let readme = Paths.packageRoot.appendingPathComponent("README.md")

    /// The fenced blocks of `text`, each with the word after its opening fence.
    static func blocks(_ text: String) -> [Block] {
        var blocks: [Block] = []
        var open: Block?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("```") {
                if let block = open { blocks.append(block); open = nil } else { open = Block(language: String(line.dropFirst(3)), lines: []) }
            } else if open != nil {
                open!.lines.append(line)
            }
        }
        return blocks
    }

    static func normalized(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    @Test func isAQuickStart() throws {
        let text = try String(contentsOf: Self.readme, encoding: .utf8)
        #expect(text.split(separator: "\n", omittingEmptySubsequences: false).count <= 201, "README.md is over 200 lines")
        #expect(Self.blocks(text).contains { $0.language == "sh" })
    }

    @Test func everyShellExampleRunsAsWritten() throws {
        let text = try String(contentsOf: Self.readme, encoding: .utf8)
        let blocks = Self.blocks(text)
        let scratch = try ScratchFolder("readme")
        for folder in ["models", "examples"] {
            try FileManager.default.createSymbolicLink(atPath: scratch.file(folder),
                                                       withDestinationPath: Paths.packageRoot.appendingPathComponent(folder).path)
        }
        let binaries = URL(fileURLWithPath: BuiltExecutable.cnnc!).deletingLastPathComponent().path
        let path = binaries + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        var ran = 0
        for (index, block) in blocks.enumerated() where block.language == "sh" {
            let script = block.lines.filter { !$0.hasPrefix("swift ") && !$0.hasPrefix("export PATH=") }.joined(separator: "\n")
            guard !script.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { continue }
            let result = try shell("/bin/bash", ["-e", "-c", script], in: scratch.path,
                                   environment: ["PATH": path, "NO_COLOR": "1", "CNNC_CACHE_DIR": scratch.file("cache")])
            #expect(result.status == 0, "README block \(index + 1) exited with \(result.status):\n\(script)\n\(result.output)")
            ran += 1
            guard index + 1 < blocks.count, blocks[index + 1].language.isEmpty else { continue }
            let printed = Self.normalized(result.output)
            for line in blocks[index + 1].lines where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                #expect(printed.contains(Self.normalized(line)), "README block \(index + 1) does not print '\(line)':\n\(result.output)")
            }
        }
        #expect(ran >= 5, "only \(ran) shell blocks ran")
    }
}
