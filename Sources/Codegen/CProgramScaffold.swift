import ShapeCheck

// The parts of NAME.h and NAME.c that both C emitters print the same way: the header, the
// exported functions as data (so a declaration and its definition come from one value), the
// size functions, the argument checks and the embedded weights.

/// One exported function of the generated library: `int NAME_run(...)`.
struct CEntryPoint: Equatable {
    var returnType: String
    /// The name after the symbol prefix: `_run`.
    var suffix: String
    /// The parameters, one list per line of the signature; `[]` prints `(void)`.
    var parameterLines: [[String]]
    /// The lines of its comment in the header; one starts a paragraph there.
    var doc: [String] = []
    /// The `#if` condition it is declared and defined under, if any.
    var condition: String? = nil

    /// A wrapped signature's later lines start here. The column is the one of
    /// `int lenet5_run_threads(` and does not follow the prefix, so the emitted C stays as it was.
    static let continuation = String(repeating: " ", count: 23)

    /// `int lenet5_run(const float *weights, ...)`, without the `;`.
    func signature(prefix: String) -> String {
        let lines = parameterLines.isEmpty ? ["void"] : parameterLines.map { $0.joined(separator: ", ") }
        return "\(returnType) \(prefix)\(suffix)(" + lines.joined(separator: ",\n" + Self.continuation) + ")"
    }

    static let workspaceSize = CEntryPoint(returnType: "size_t", suffix: "_workspace_size", parameterLines: [["int batch"]])
    static let weightCount = CEntryPoint(returnType: "size_t", suffix: "_weight_count", parameterLines: [])
    static let inputSize = CEntryPoint(returnType: "size_t", suffix: "_input_size", parameterLines: [])
    static let outputSize = CEntryPoint(returnType: "size_t", suffix: "_output_size", parameterLines: [])
    static let runParameters = ["const float *weights", "float *workspace", "const float *input", "float *output", "int batch"]
    static let run = CEntryPoint(returnType: "int", suffix: "_run", parameterLines: [runParameters])

    /// Every C library's functions, in the header's order.
    static let plain: [CEntryPoint] = [workspaceSize, weightCount, inputSize, outputSize, run]

    static let runThreads = CEntryPoint(
        returnType: "int", suffix: "_run_threads", parameterLines: [runParameters, ["int threads"]],
        doc: ["NAME_run on `threads` threads of a pool the library keeps (created on first use). The",
              "workspace is the same; a run that finds the pool busy uses one thread."])
    static let profileSteps = CEntryPoint(
        returnType: "int", suffix: "_profile_steps", parameterLines: [],
        doc: ["Built with -DCNNC_PROFILE: the number of kernel steps and each one's seconds in the last run."],
        condition: "defined(CNNC_PROFILE)")
    static let profileSeconds = CEntryPoint(
        returnType: "double", suffix: "_profile_seconds", parameterLines: [["int step"]],
        condition: "defined(CNNC_PROFILE)")

    /// The fast C library's functions: the plain ones, the threaded run and the profile.
    static let fast: [CEntryPoint] = plain + [runThreads, profileSteps, profileSeconds]
}

/// The variable `--embed-weights` adds next to the functions.
let embeddedWeightsSuffix = "_embedded_weights"

/// What both C emitters print around their kernels.
struct CProgramScaffold {
    let program: LoweredProgram
    let prefix: String
    let entryPoints: [CEntryPoint]

    var macroPrefix: String { prefix.uppercased() }
    var guardName: String { "CNNC_\(macroPrefix)_H" }

    /// Every exported name, for the identifier table's reserved set.
    var exportedNames: [String] {
        entryPoints.map { prefix + $0.suffix } + [prefix + embeddedWeightsSuffix]
    }

    /// `/* a\n * b */`.
    static func comment(_ lines: [String]) -> String {
        "/* " + lines.joined(separator: "\n * ") + " */"
    }

    /// The entry points' declarations: paragraphs split at each documented entry point and at
    /// each change of `#if` condition.
    func declarations() -> String {
        var paragraphs: [(condition: String?, lines: [String])] = []
        for entry in entryPoints {
            if paragraphs.isEmpty || !entry.doc.isEmpty || entry.condition != paragraphs[paragraphs.count - 1].condition {
                paragraphs.append((entry.condition, []))
            }
            if !entry.doc.isEmpty { paragraphs[paragraphs.count - 1].lines.append(Self.comment(entry.doc)) }
            paragraphs[paragraphs.count - 1].lines.append(entry.signature(prefix: prefix) + ";")
        }
        return paragraphs.map { paragraph in
            guard let condition = paragraph.condition else { return paragraph.lines.joined(separator: "\n") }
            return (["#if \(condition)"] + paragraph.lines + ["#endif"]).joined(separator: "\n")
        }.joined(separator: "\n\n")
    }

    /// NAME.h, sealed with its hash (HeaderSeal.swift) right after the include guard's #define.
    func header(arenaElements: Int, embedded: Bool) -> (header: String, hash: UInt64) {
        let input = program.inputShape, output = program.outputShape
        var paragraphs = ["""
            /* \(prefix).h: network \(commentText(program.name)), \(generatedFileMarker)
             *
             * Input:  \(input.elementCount) floats per image, \(shapeText(input)) (\(dimensionNames(input))), PyTorch's order.
             * Output: \(output.elementCount) floats per image, \(shapeText(output)).
             * A batch of N images is N such blocks one after the other.
             *
             * weights    the packed weight blob: \(program.weightCount) floats (\(prefix)_weight_count()), as written
             *            by `cnnc compile --weights W` (a .weights file of little-endian float32) or
             *            embedded with --embed-weights (\(prefix)_embedded_weights). Batchnorm is folded into it
             *            and fc weights are transposed, so it is not the safetensors file's layout.
             * workspace  scratch memory of \(prefix)_workspace_size(batch) bytes, aligned for float (64 bytes
             *            is best); it holds the activations between layers and may be reused between calls.
             * input, output  N images each; they must not overlap each other or the workspace.
             *
             * \(prefix)_run returns 0, or -1 when batch < 0 or a pointer it needs is NULL. It allocates
             * nothing, keeps no state and may run on several threads with separate workspaces.
             */
            #ifndef \(guardName)
            #define \(guardName)

            #include <stddef.h>

            #ifdef __cplusplus
            extern "C" {
            #endif
            """, """
            #define \(macroPrefix)_INPUT_SIZE \(input.elementCount)    /* floats per input image, \(shapeText(input)) */
            #define \(macroPrefix)_OUTPUT_SIZE \(output.elementCount)    /* floats per output, \(shapeText(output)) */
            #define \(macroPrefix)_WEIGHT_COUNT \(program.weightCount)    /* floats in the packed weight blob */
            #define \(macroPrefix)_ARENA_SIZE \(arenaElements)    /* workspace floats per image */
            """, declarations()]
        if embedded {
            paragraphs.append(Self.comment(["The packed weights, ready for \(prefix)_run."])
                + "\nextern const float \(prefix)\(embeddedWeightsSuffix)[];")
        }
        paragraphs.append("#ifdef __cplusplus\n}\n#endif")
        paragraphs.append("#endif")
        return HeaderSeal.seal(paragraphs.joined(separator: "\n\n") + "\n", prefix: prefix, after: "#define \(guardName)")
    }

    /// The definition of `entry` with `body` (lines, each already indented), and a newline.
    func definition(_ entry: CEntryPoint, body: String) -> String {
        entry.signature(prefix: prefix) + "\n{\n" + body + "}\n"
    }

    /// The size functions; `workspaceFloats` is the expression of floats for `batch` images.
    func sizeFunctions(workspaceFloats: String) -> String {
        [definition(.workspaceSize, body: "    return batch > 0 ? \(workspaceFloats) * sizeof(float) : 0;\n"),
         definition(.weightCount, body: "    return \(macroPrefix)_WEIGHT_COUNT;\n"),
         definition(.inputSize, body: "    return \(macroPrefix)_INPUT_SIZE;\n"),
         definition(.outputSize, body: "    return \(macroPrefix)_OUTPUT_SIZE;\n")].joined(separator: "\n")
    }

    /// NAME.h and NAME.c: checks the sizes and the embedded weights' count, seals the header,
    /// and wraps the implementation `body` prints for the header's hash.
    func files(arenaElements: Int, embeddedWeights: [Float]?, body: (UInt64) throws -> String) throws -> CSource {
        try checkSizes(program)
        if let embeddedWeights, embeddedWeights.count != program.weightCount {
            throw EmitError("\(embeddedWeights.count) embedded weights given, the program needs \(program.weightCount)")
        }
        let (sealed, hash) = header(arenaElements: arenaElements, embedded: embeddedWeights != nil)
        return CSource(symbolPrefix: prefix, header: EmittedFile(name: "\(prefix).h", contents: sealed),
                       implementation: EmittedFile(name: "\(prefix).c", contents: try body(hash)))
    }

    /// The run function's first checks: -1 for a negative batch or a NULL pointer it needs,
    /// 0 for an empty batch, and `weights` marked used when no step reads it.
    func argumentChecks(usesWorkspace: Bool, depth: Int = 1) -> String {
        let usesWeights = program.steps.contains { !$0.kernel.weightRefs.isEmpty }
        var required = ["input == NULL", "output == NULL"]
        if usesWeights { required.insert("weights == NULL", at: 0) }
        if usesWorkspace { required.insert("workspace == NULL", at: usesWeights ? 1 : 0) }
        var c = CWriter(depth: depth)
        c.line("if (batch < 0) return -1;")
        c.line("if (batch == 0) return 0;")
        c.line("if (\(required.joined(separator: " || "))) return -1;")
        if !usesWeights { c.line("(void)weights;") }
        return c.text
    }

    /// The definition of NAME_embedded_weights, eight floats a line.
    func embeddedWeights(_ weights: [Float]) -> String {
        var out = "\n/* The packed weights (\(weights.count) floats). */\n"
        out += "const float \(prefix)\(embeddedWeightsSuffix)[\(max(weights.count, 1))] = {\n"
        if weights.isEmpty { out += "    0.0f\n" }
        var index = 0
        while index < weights.count {
            let row = weights[index..<min(index + 8, weights.count)].map(cFloat)
            index += row.count
            out += "    " + row.joined(separator: ", ") + (index < weights.count ? ",\n" : "\n")
        }
        return out + "};\n"
    }
}
