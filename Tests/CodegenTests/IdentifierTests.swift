import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing

/// Names become identifiers that are valid, not keywords and distinct; names in comments
/// cannot end the comment.
@Suite struct IdentifierTests {
    @Test func sanitising() {
        #expect(IdentifierTable.sanitize("conv1", for: .c) == "conv1")
        #expect(IdentifierTable.sanitize("inception3a.b2", for: .c) == "inception3a_b2")
        #expect(IdentifierTable.sanitize("int", for: .c) == "int_")
        #expect(IdentifierTable.sanitize("restrict", for: .c) == "restrict_")
        #expect(IdentifierTable.sanitize("func", for: .swift) == "func_")
        #expect(IdentifierTable.sanitize("2nd net", for: .c) == "n2nd_net")
        #expect(IdentifierTable.sanitize("_Reserved", for: .c) == "n_Reserved")
        #expect(IdentifierTable.sanitize("__x", for: .c) == "n__x")
        #expect(IdentifierTable.sanitize("", for: .c) == "unnamed")
        #expect(IdentifierTable.sanitize("résumé", for: .c) == "r_sum_")
        #expect(IdentifierTable.camelCase("inception3a.b2_reduce", upperFirst: false) == "inception3aB2Reduce")
        #expect(IdentifierTable.camelCase("resnet18", upperFirst: true) == "Resnet18")
    }

    @Test func collisionsAfterSanitisingAreDisambiguated() {
        var table = IdentifierTable(language: .c, reserved: ["k_conv2d"])
        #expect(table.make("a.b") == "a_b")
        #expect(table.make("a_b") == "a_b_2")
        #expect(table.make("a.b") == "a_b_3")
        #expect(table.make("k_conv2d") == "k_conv2d_2")
        #expect(table.make("for") == "for_")
        #expect(table.make("for_") == "for__2")
    }

    @Test func commentsCannotBeClosedFromInside() {
        for text in ["a*/b", "*/*/", "**//", "x/*y", "??/", "line\nbreak", "back\\slash"] {
            let safe = commentText(text)
            #expect(!safe.contains("*/") && !safe.contains("/*") && !safe.contains("??") && !safe.contains("\n") && !safe.contains("\\"),
                    "\(text) → \(safe)")
        }
    }

    /// Layer names that are C and Swift keywords, libc names, the generated code's own names,
    /// and names equal after sanitising: the code compiles strictly and computes the same.
    @Test(arguments: [Backend.c, Backend.swift])
    func hostileLayerNames(_ backend: Backend) throws {
        let net = try network("""
            network static
            input 6x6x2
            int: conv 4 3x3 pad 1 relu
            for: conv 4 3x3 pad 1
            a.b: add int for
            a_b: conv 3 1x1 from a.b
            k_conv2d: conv 3 1x1 from a.b
            y0: concat a_b k_conv2d relu
            exp: maxpool 2
            weights.bias: conv 2 1x1
            func: fc 5
            self: softmax
            """, path: "static.cnn")
        let program = lower(net)
        let c = try emitC(program)
        #expect(c.symbolPrefix == "static_")
        let directory = try temporaryDirectory("hostile")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for file in c.files { try write(file.contents, to: "\(directory)/\(file.name)") }
        let result = try shell(try cCompiler(), ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-c", c.implementation.name], in: directory)
        #expect(result.status == 0, "\(result.output.prefix(2000))")
        let swift = try emitSwift(program)
        #expect(swift.typeName == "Static")
        try write(swift.file.contents, to: "\(directory)/\(swift.file.name)")
        let typecheck = try shell(try Compiler.swift().path, ["-typecheck", "-parse-as-library", "-warnings-as-errors", swift.file.name], in: directory)
        #expect(typecheck.status == 0 && typecheck.output.isEmpty, "\(typecheck.output.prefix(2000))")

        let weights = WeightInit.weights(for: net, seed: 5).tensors
        let input = randomInput(for: net, batch: 2, seed: 5)
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        let executor = try CompiledExecutor(backend: backend, network: net, weights: weights, cache: testCache)
        compare(try executor.run(input), reference, "hostile names/\(backend)")
    }

    /// Names that try to break out of a comment (possible for a network named after its
    /// file, or a program built by hand) stay inside it.
    @Test func namesCannotEscapeComments() throws {
        var program = lower(try network("input 4x4x1\nc: conv 2 3x3 relu\nout: fc 3"))
        program.name = "evil */ int broken; /* x"
        for index in program.values.indices { program.values[index].name = "v*/ int leak\(index); /*" }
        for index in program.steps.indices { program.steps[index].layers = ["*/ #error escaped /*", "??/"] }
        let c = try emitC(program)
        #expect(c.symbolPrefix == "evil____int_broken_____x")
        let directory = try temporaryDirectory("comments")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for file in c.files { try write(file.contents, to: "\(directory)/\(file.name)") }
        let result = try shell(try cCompiler(), ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-trigraphs", "-c", c.implementation.name], in: directory)
        #expect(result.status == 0, "\(result.output.prefix(2000))")

        let swift = try emitSwift(program)
        try write(swift.file.contents, to: "\(directory)/\(swift.file.name)")
        let typecheck = try shell(try Compiler.swift().path, ["-typecheck", "-parse-as-library", "-warnings-as-errors", swift.file.name], in: directory)
        #expect(typecheck.status == 0 && typecheck.output.isEmpty, "\(typecheck.output.prefix(2000))")
    }
}
