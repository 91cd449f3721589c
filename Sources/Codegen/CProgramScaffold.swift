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
        let space = returnType.hasSuffix("*") ? "" : " "
        return "\(returnType)\(space)\(prefix)\(suffix)(" + lines.joined(separator: ",\n" + Self.continuation) + ")"
    }

    static let workspaceSize = CEntryPoint(returnType: "size_t", suffix: "_workspace_size", parameterLines: [["int batch"]])
    static let weightCount = CEntryPoint(returnType: "size_t", suffix: "_weight_count", parameterLines: [])
    static let inputSize = CEntryPoint(returnType: "size_t", suffix: "_input_size", parameterLines: [])
    static let outputSize = CEntryPoint(returnType: "size_t", suffix: "_output_size", parameterLines: [])
    static let runParameters = ["const float *weights", "float *workspace", "const float *input", "float *output", "int batch"]
    static let run = CEntryPoint(returnType: "int", suffix: "_run", parameterLines: [runParameters])

    static let checkWeights = CEntryPoint(
        returnType: "int", suffix: "_check_weights", parameterLines: [["const void *blob", "size_t bytes"]],
        doc: ["NAME.weights as read from its file: NAME_WEIGHTS_OK (0) when it is the blob this code reads,",
              "else the NAME_WEIGHTS_* code of why not, which NAME_weights_error(code) says in words. It",
              "reads every byte (the checksum). NAME_weights_payload(blob) is then the `weights` argument."])
    static let weightsPayload = CEntryPoint(returnType: "const float *", suffix: "_weights_payload",
                                            parameterLines: [["const void *blob"]])
    static let weightsError = CEntryPoint(returnType: "const char *", suffix: "_weights_error", parameterLines: [["int code"]])

    /// Every C library's functions, in the header's order.
    static let plain: [CEntryPoint] = [workspaceSize, weightCount, inputSize, outputSize, run,
                                       checkWeights, weightsPayload, weightsError]

    static let runThreads = CEntryPoint(
        returnType: "int", suffix: "_run_threads", parameterLines: [runParameters, ["int threads"]],
        doc: ["NAME_run on `threads` threads of a pool the library keeps, started on first use. The",
              "workspace is the same; a run that finds the pool busy uses one thread. Each thread past",
              "the first allocates NAME_SCRATCH_SIZE floats of its own (malloc'd, 64-byte aligned)."])
    static let shutdownThreads = CEntryPoint(
        returnType: "void", suffix: "_shutdown_threads", parameterLines: [],
        doc: ["Stops the pool's threads and frees their scratch, waiting for a run in progress to end;",
              "a later NAME_run_threads starts them again. Does nothing when no pool was started."])
    static let profileSteps = CEntryPoint(
        returnType: "int", suffix: "_profile_steps", parameterLines: [],
        doc: ["Built with -DCNNC_PROFILE: the number of kernel steps and each one's seconds in the last run."],
        condition: "defined(CNNC_PROFILE)")
    static let profileSeconds = CEntryPoint(
        returnType: "double", suffix: "_profile_seconds", parameterLines: [["int step"]],
        condition: "defined(CNNC_PROFILE)")

    /// The fast C library's functions: the plain ones, the threaded run and the profile.
    static let fast: [CEntryPoint] = plain + [runThreads, shutdownThreads, profileSteps, profileSeconds]
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
            if !entry.doc.isEmpty {
                let doc = entry.doc.map {
                    $0.replacing("NAME_WEIGHTS", with: macroPrefix + "_WEIGHTS").replacing("NAME_SCRATCH", with: macroPrefix + "_SCRATCH")
                        .replacing("NAME_", with: prefix + "_").replacing("NAME.", with: prefix + ".")
                }
                paragraphs[paragraphs.count - 1].lines.append(Self.comment(doc))
            }
            paragraphs[paragraphs.count - 1].lines.append(entry.signature(prefix: prefix) + ";")
        }
        return paragraphs.map { paragraph in
            guard let condition = paragraph.condition else { return paragraph.lines.joined(separator: "\n") }
            return (["#if \(condition)"] + paragraph.lines + ["#endif"]).joined(separator: "\n")
        }.joined(separator: "\n\n")
    }

    /// NAME.h, sealed with its hash (HeaderSeal.swift) right after the include guard's #define.
    /// `scratchElements` is the fast kernels' scratch per thread (nil for the plain ones).
    func header(arenaElements: Int, scratchElements: Int?, embedded: Bool) -> (header: String, hash: UInt64) {
        let input = program.inputShape, output = program.outputShape
        let blobBytes = WeightBlobHeader.size + 4 * program.weightCount
        var paragraphs = ["""
            /* \(prefix).h: network \(commentText(program.name)), \(generatedFileMarker)
             * \(generatorLine(program, language: .c))
             *
             * Input:  \(input.elementCount) floats per image, \(shapeText(input)) (\(dimensionNames(input))), PyTorch's order.
             * Output: \(output.elementCount) floats per image, \(shapeText(output)).
             * A batch of N images is N such blocks one after the other.
             *
             * weights    the packed weights: \(program.weightCount) floats (\(prefix)_weight_count()). Batchnorm is folded
             *            into them and fc weights are transposed, so they are not the safetensors file's layout.
             *            `cnnc compile --weights W` writes them as \(prefix).weights (\(blobBytes) bytes): a 64-byte
             *            header (target, layout hash, size, checksum), then little-endian float32. Read the
             *            file into memory (64-byte aligned is best), check it with \(prefix)_check_weights and
             *            pass \(prefix)_weights_payload(blob); or embed the floats with --embed-weights
             *            (\(prefix)_embedded_weights, no header).
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
            """]
        var sizes = """
            #define \(macroPrefix)_INPUT_SIZE \(input.elementCount)    /* floats per input image, \(shapeText(input)) */
            #define \(macroPrefix)_OUTPUT_SIZE \(output.elementCount)    /* floats per output, \(shapeText(output)) */
            #define \(macroPrefix)_WEIGHT_COUNT \(program.weightCount)    /* floats in the packed weights */
            #define \(macroPrefix)_ARENA_SIZE \(arenaElements)    /* \(scratchElements == nil ? "workspace" : "activation") floats per image */
            """
        if let scratchElements {
            sizes += "\n#define \(macroPrefix)_SCRATCH_SIZE \(scratchElements)    /* floats of scratch per thread; "
                + "the workspace is batch · ARENA_SIZE + one SCRATCH_SIZE */"
        }
        paragraphs.append(sizes)
        paragraphs.append(blobMacros(bytes: blobBytes))
        paragraphs.append(declarations())
        if embedded {
            paragraphs.append(Self.comment(["The packed weights, ready for \(prefix)_run."])
                + "\nextern const float \(prefix)\(embeddedWeightsSuffix)[];")
        }
        paragraphs.append("#ifdef __cplusplus\n}\n#endif")
        paragraphs.append("#endif")
        return HeaderSeal.seal(paragraphs.joined(separator: "\n\n") + "\n", prefix: prefix, after: "#define \(guardName)")
    }

    /// The file-scope names blobFunctions defines, which no layer's name may take.
    static let blobIdentifiers: Set<String> = ["cnnc_blob_field"]

    /// The blob's size, its header's fields this code expects, and NAME_check_weights' codes.
    func blobMacros(bytes: Int) -> String {
        let header = WeightBlobHeader(program: program)
        var lines = [
            "#define \(macroPrefix)_WEIGHTS_BYTES \(bytes)    /* bytes of \(prefix).weights: the header, then the floats */",
            "#define \(macroPrefix)_WEIGHTS_HEADER_SIZE \(WeightBlobHeader.size)    /* bytes before the floats */",
            "#define \(macroPrefix)_WEIGHTS_TARGET \"\(header.targetName)\"    /* the layout the weights are packed in */",
            "#define \(macroPrefix)_WEIGHTS_LAYOUT_HASH \(HeaderSeal.literal(header.layoutHash))    /* of the weights' layout */",
            "/* \(prefix)_check_weights' answers. */",
            "#define \(macroPrefix)_WEIGHTS_OK 0",
        ]
        for problem in WeightBlobProblem.allCases {
            lines.append("#define \(macroPrefix)_WEIGHTS_\(problem.macroSuffix) \(problem.rawValue)")
        }
        return lines.joined(separator: "\n")
    }

    /// NAME_check_weights, NAME_weights_payload and NAME_weights_error. The header's fields are
    /// read byte by byte, so the check is the same on a big-endian machine.
    func blobFunctions() -> String {
        let header = WeightBlobHeader(program: program)
        let m = macroPrefix
        var c = CWriter()
        c.line("/* ---- \(prefix).weights: the header WeightBlob.swift writes (docs/codegen.md, \"The weight blob\") ---- */")
        c.line("static unsigned long long cnnc_blob_field(const unsigned char *p, int bytes)")
        c.line("{")
        c.line("""
                unsigned long long value = 0;
                while (bytes-- > 0) value = value << 8 | p[bytes];
                return value;
            """)
        c.line("}")
        c.line("")
        var check = CWriter(depth: 1)
        check.line("""
            static const unsigned char magic[8] = { 'C', 'N', 'N', 'C', 'W', 'T', 'S', 0 };
            const unsigned char *p = (const unsigned char *)blob;
            unsigned long long hash = 0xcbf29ce484222325ULL;
            size_t i;
            if (p == NULL || bytes < \(m)_WEIGHTS_HEADER_SIZE) return \(m)_WEIGHTS_TOO_SHORT;
            for (i = 0; i < 8; i++)
                if (p[i] != magic[i]) return \(m)_WEIGHTS_NOT_WEIGHTS;
            if (cnnc_blob_field(p + 8, 4) != \(WeightBlobHeader.formatVersion)u) return \(m)_WEIGHTS_OTHER_VERSION;
            if (cnnc_blob_field(p + 12, 4) != \(header.targetID)u || cnnc_blob_field(p + 16, 4) != \(header.floatsPerVector)u
                || cnnc_blob_field(p + 20, 4) != \(header.channelBlock)u)
                return \(m)_WEIGHTS_OTHER_TARGET;
            if (cnnc_blob_field(p + 32, 8) != \(m)_WEIGHTS_LAYOUT_HASH) return \(m)_WEIGHTS_OTHER_NETWORK;
            if (cnnc_blob_field(p + 24, 8) != \(m)_WEIGHT_COUNT || bytes != \(m)_WEIGHTS_BYTES) return \(m)_WEIGHTS_BAD_SIZE;
            for (i = \(m)_WEIGHTS_HEADER_SIZE; i < bytes; i += 4) {
                hash ^= cnnc_blob_field(p + i, 4);
                hash *= 0x100000001b3ULL;
            }
            return hash == cnnc_blob_field(p + 40, 8) ? \(m)_WEIGHTS_OK : \(m)_WEIGHTS_BAD_CHECKSUM;
            """)
        var out = c.text + definition(.checkWeights, body: check.text) + "\n"
        out += definition(.weightsPayload, body: "    return blob == NULL ? NULL : (const float *)(const void *)"
                          + "((const unsigned char *)blob + \(m)_WEIGHTS_HEADER_SIZE);\n") + "\n"
        var error = CWriter(depth: 1)
        error.line("switch (code) {")
        error.line("case \(m)_WEIGHTS_OK: return \"the weights are the ones this code reads\";")
        for problem in WeightBlobProblem.allCases {
            error.line("case \(m)_WEIGHTS_\(problem.macroSuffix): return \(stringLiteral(problem.message(target: header.targetName)));")
        }
        error.line("default: return \"not an answer of \(prefix)_check_weights\";")
        error.line("}")
        out += definition(.weightsError, body: error.text)
        return out
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
    func files(arenaElements: Int, scratchElements: Int? = nil, embeddedWeights: [Float]?,
               body: (UInt64) throws -> String) throws -> CSource {
        try checkSizes(program)
        if let embeddedWeights, embeddedWeights.count != program.weightCount {
            throw EmitError("\(embeddedWeights.count) embedded weights given, the program needs \(program.weightCount)")
        }
        let (sealed, hash) = header(arenaElements: arenaElements, scratchElements: scratchElements, embedded: embeddedWeights != nil)
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
