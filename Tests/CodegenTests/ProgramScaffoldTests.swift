@testable import Codegen
import Testing

/// The C emitters print their API from one list of entry points (CProgramScaffold.swift):
/// each is declared once in NAME.h and defined once in NAME.c with the same signature, so a
/// function cannot drop out of the header while the library still defines it, or the reverse.
@Suite struct ProgramScaffoldTests {
    static func count(_ needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    @Test(arguments: [false, true])
    func everyEntryPointIsDeclaredAndDefinedOnce(fast: Bool) throws {
        let net = try model("lenet5")
        let program = fast ? try lowerForC(net, options: KernelOptions(target: .avx2)) : try lower(net)
        let source = try emitC(program, embeddedWeights: [Float](repeating: 0, count: program.weightCount))
        let entries = fast ? CEntryPoint.fast : CEntryPoint.plain
        let header = source.header.contents, implementation = source.implementation.contents
        for entry in entries {
            let signature = entry.signature(prefix: source.symbolPrefix)
            #expect(Self.count(signature + ";\n", in: header) == 1, "\(signature) in the header")
            #expect(Self.count(signature + "\n{\n", in: implementation) == 1, "\(signature) in the .c")
        }
        #expect(Self.count("lenet5_run_threads(", in: header) == (fast ? 1 : 0))
        #expect(Self.count("extern const float lenet5_embedded_weights[];", in: header) == 1)
        #expect(Self.count("const float lenet5_embedded_weights[\(program.weightCount)] = {", in: implementation) == 1)
    }

    @Test func aConditionalEntryPointIsDeclaredInsideItsIf() throws {
        let program = try lower(try model("lenet5"))
        let scaffold = CProgramScaffold(program: program, prefix: "net", entryPoints: CEntryPoint.fast)
        let declarations = scaffold.declarations()
        #expect(declarations.hasSuffix("""
            #if defined(CNNC_PROFILE)
            /* Built with -DCNNC_PROFILE: the number of kernel steps and each one's seconds in the last run. */
            int net_profile_steps(void);
            double net_profile_seconds(int step);
            #endif
            """))
        #expect(declarations.contains("int batch,\n                       int threads);"))
    }
}
