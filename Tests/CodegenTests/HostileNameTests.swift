import Codegen
import Foundation
import Parser
import Runtime
import ShapeCheck
import Testing

/// Names cannot break out of identifiers, comments or strings in the emitted C and Swift.
/// Layer names are `[A-Za-z_][A-Za-z0-9_.-]*`, so their attack surface is dots, dashes, keywords,
/// names the generated code or its headers use, length and collisions after sanitising; a
/// network's name defaults to the file's base name, which can hold anything a path can.
/// IdentifierTests.hostileLayerNames covers a first set; these go wider.
@Suite struct HostileNameTests {
    static let strictC = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O0", "-c"]

    /// File names whose base name becomes the network's name (no `network` line): comment
    /// terminators, quotes, backslashes, a newline, trigraphs, keywords of both languages,
    /// names of the standard library, a leading digit or underscore, nothing usable at all.
    static let fileNames = [
        "x*/ int evil; /*.cnn", "quote\"and\\back'slash.cnn", "new\nline.cnn", "??=trigraph??/.cnn", "return.cnn",
        "int.cnn", "_Bool.cnn", "__reserved.cnn", "class.cnn", "Type.cnn", "self.cnn", "Void.cnn", "Error.cnn",
        "UInt8.cnn", "Kernels.cnn", "123.cnn", "+++.cnn", "é-ü.cnn", "main.cnn", "k_conv2d.cnn", "NAN.cnn",
        String(repeating: "long", count: 500) + ".cnn",
    ]

    static let smallNetwork = "input 5x5x2\nc: conv 3 3x3 pad 1 relu\np: maxpool 2\nf: fc 4 softmax\n"

    /// C text with its `/* … */` and `// …` comments removed (its only strings, NAME_weights_error's, hold no name).
    static func outsideComments(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.range(of: "/*") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "*/") else { return out }
            rest = rest[close.upperBound...]
        }
        out += rest
        return out.split(separator: "\n").map { $0.components(separatedBy: "//")[0] }.joined(separator: "\n")
    }

    func checked(_ text: String, path: String) throws -> CheckedNetwork {
        let result = checkSource(text, path: path)
        return try #require(result.network, "\(path): \(result.diagnostics.map(\.message))")
    }

    @Test func hostileFileNamesMakeSafeSymbolsCommentsAndTypes() throws {
        let directory = try temporaryDirectory("hostile-files")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var cFiles: [String] = []
        for (index, fileName) in Self.fileNames.enumerated() {
            let net = try checked(Self.smallNetwork, path: "some/dir/" + fileName)
            let program = lower(net)
            let c = try emitC(program)
            // The prefix is an identifier, and a file name in the output folder.
            #expect(c.symbolPrefix.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" },
                    "\(fileName) → \(c.symbolPrefix)")
            #expect(!c.symbolPrefix.hasPrefix("_") && !("0"..."9").contains(c.symbolPrefix.first!), "\(fileName) → \(c.symbolPrefix)")
            // The header inlined where it is included: a long name makes too long a file name.
            let folder = "\(directory)/\(index)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let include = "#include \"\(c.header.name)\""
            #expect(c.implementation.contents.contains(include))
            try write(c.implementation.contents.replacingOccurrences(of: include, with: c.header.contents), to: "\(folder)/net.c")
            cFiles.append("\(folder)/net.c")
            // The name stays inside comments: outside them, nothing of it is left.
            for file in c.files {
                let code = Self.outsideComments(file.contents)
                #expect(!code.contains("evil") && !code.contains("trigraph") && !code.contains("??"), "\(fileName): \(file.name)")
            }
            #expect(!c.header.contents.contains("new\nline"))

            let swift = try emitSwift(program)
            let swiftPath = "\(folder)/net.swift"
            try write(swift.file.contents, to: swiftPath)
            let typecheck = try shell(try Compiler.swift().path, ["-typecheck", "-parse-as-library", "-warnings-as-errors", swiftPath])
            #expect(typecheck.status == 0 && typecheck.output.isEmpty, "\(fileName) → \(swift.typeName):\n\(typecheck.output.prefix(2000))")
        }
        // Every C file at once, strictly.
        let compile = try shell(try cCompiler(), Self.strictC + cFiles, in: directory)
        #expect(compile.status == 0 && compile.output.isEmpty, "\(compile.output.prefix(3000))")
    }

    /// Layer names that are keywords, macros or functions of the headers the generated C
    /// includes, names of the generated code's parameters, very long names, and names that
    /// are equal once sanitised, all in one network: it compiles strictly in both languages
    /// and computes what the reference interpreter computes.
    @Test(arguments: [Backend.c, Backend.swift])
    func hostileLayerNamesStillComputeTheRightThing(_ backend: Backend) throws {
        let long = String(repeating: "a", count: 300)
        let text = """
            network hostile
            input 6x6x2
            return: conv 4 3x3 pad 1 relu
            while: conv 4 3x3 pad 1
            sizeof: add return while
            NAN: conv 4 1x1 from sizeof
            INFINITY: conv 4 1x1 from sizeof
            errno: add NAN INFINITY relu
            a.b: conv 3 1x1 from errno
            a_b: conv 3 1x1 from errno
            a_b_2: conv 3 1x1 from errno
            a__b: conv 3 1x1 from errno
            a-b: conv 3 1x1 from errno
            \(long)1: concat a.b a_b a_b_2 a__b a-b
            \(long)2: conv 4 1x1 from \(long)1
            memcpy: conv 4 1x1 from \(long)2
            workspace: batchnorm
            weights: relu
            batch: conv 4 3x3 pad 1 from weights
            input.output: maxpool 2
            _: conv 3 1x1
            __x: conv 3 1x1 from input.output
            self: add _ __x
            Self: conv 2 1x1
            init: flatten
            deinit: fc 6
            Type: leakyrelu 0.1
            inout: fc 3
            subscript: softmax
            """
        let net = try checked(text, path: "hostile.cnn")
        let program = lower(net)
        let directory = try temporaryDirectory("hostile-layers")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let c = try emitC(program)
        for file in c.files { try write(file.contents, to: "\(directory)/\(file.name)") }
        let compile = try shell(try cCompiler(), Self.strictC + [c.implementation.name], in: directory)
        #expect(compile.status == 0 && compile.output.isEmpty, "\(compile.output.prefix(3000))")
        let swift = try emitSwift(program)
        try write(swift.file.contents, to: "\(directory)/\(swift.file.name)")
        let typecheck = try shell(try Compiler.swift().path, ["-typecheck", "-parse-as-library", "-warnings-as-errors", swift.file.name], in: directory)
        #expect(typecheck.status == 0 && typecheck.output.isEmpty, "\(typecheck.output.prefix(3000))")

        var weights = WeightInit.weights(for: net, seed: 9).tensors
        // Batchnorm's statistics: not the identity, so a mix-up of layers shows.
        for (key, tensor) in weights where key.hasSuffix("running_var") {
            weights[key] = Tensor(shape: tensor.shape, storage: tensor.storage.indices.map { 0.5 + Float($0) * 0.25 })
        }
        let input = randomInput(for: net, batch: 2, seed: 9)
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        let executor = try CompiledExecutor(backend: backend, network: net, weights: weights, cache: testCache)
        compare(try executor.run(input), reference, "hostile layer names/\(backend)")
    }

    /// A network whose name is longer than a file name may be still compiles and runs: the
    /// compiler cache keeps only the start of the name in its file names.
    @Test(arguments: [Backend.c, Backend.swift])
    func aVeryLongNetworkNameRuns(_ backend: Backend) throws {
        let name = String(repeating: "verylongname", count: 40)
        let net = try checked("network \(name)\n" + Self.smallNetwork, path: "long.cnn")
        let weights = WeightInit.weights(for: net, seed: 3).tensors
        let input = randomInput(for: net, batch: 1, seed: 3)
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        let executor = try CompiledExecutor(backend: backend, network: net, weights: weights, cache: testCache)
        compare(try executor.run(input), reference, "long network name/\(backend)")
    }

    /// Names equal after sanitising, in the order that makes the generated suffixes collide
    /// with names written in the file.
    @Test func sanitisedCollisionsGetDistinctIdentifiers() {
        var table = IdentifierTable(language: .c)
        let names = ["a.b", "a_b", "a_b_2", "a.b_2", "a_b_2_2", "a.b.2"].map { table.make($0) }
        #expect(Set(names).count == names.count, "\(names)")
        var swift = IdentifierTable(language: .swift)
        let swiftNames = ["self", "self_", "Self", "_", "__", "init", "init_"].map { swift.make($0) }
        #expect(Set(swiftNames).count == swiftNames.count, "\(swiftNames)")
    }
}
