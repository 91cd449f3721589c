import ShapeCheck

// The C backend: a lowered program as NAME.h and NAME.c, plain C99 with <math.h>,
// <stddef.h> and <string.h> only.
//
// The API (NAME is the network's name made a C identifier):
//
//   size_t NAME_workspace_size(int batch);   bytes of scratch memory for a batch
//   size_t NAME_weight_count(void);          floats in the packed weight blob
//   size_t NAME_input_size(void);            floats per input image, [D, H, W]
//   size_t NAME_output_size(void);           floats per output, [D, H, W] or [K]
//   int    NAME_run(const float *weights, float *workspace, const float *input,
//                   float *output, int batch); 0 on success, -1 on a bad argument
//   extern const float NAME_embedded_weights[];   with --embed-weights only
//
// plus the same numbers as macros (NAME_INPUT_SIZE …, upper case).

/// A generated source file: its name (no directory) and text.
public struct EmittedFile: Sendable, Equatable {
    public var name: String
    public var contents: String

    public init(name: String, contents: String) {
        self.name = name
        self.contents = contents
    }
}

/// The two files of the C backend.
public struct CSource: Sendable {
    /// The prefix of every exported symbol: `lenet5` for `lenet5_run`.
    public var symbolPrefix: String
    public var header: EmittedFile
    public var implementation: EmittedFile

    public var files: [EmittedFile] { [header, implementation] }
}

/// A problem the emitters cannot get around (a tensor too large for C's `int`).
public struct EmitError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The C identifier every exported symbol of `program` starts with.
public func cSymbolPrefix(_ program: LoweredProgram) -> String {
    let prefix = IdentifierTable.sanitize(program.name, for: .c)
    // Exported names are at file scope, where every identifier starting with `_` is reserved
    // (C99 7.1.3): a network named `_x` (or a file `.cnn`) exports `n_x_run`, not `_x_run`.
    return prefix.hasPrefix("_") ? "n" + prefix : prefix
}

/// Emits `program` as C. With `embeddedWeights` (the packed blob, `packWeights`), the .c
/// also defines `NAME_embedded_weights`.
public func emitC(_ program: LoweredProgram, embeddedWeights: [Float]? = nil) throws -> CSource {
    if let plan = program.kernelPlan {
        return try FastCEmitter(program: program, plan: plan).emit(embeddedWeights: embeddedWeights)
    }
    return try CEmitter(program: program).emit(embeddedWeights: embeddedWeights)
}

/// The largest constant the generated code keeps in an `int`.
let largestIntConstant = Int(Int32.max)

struct CEmitter {
    let program: LoweredProgram
    let plan: MemoryPlan
    let prefix: String

    init(program: LoweredProgram) {
        self.program = program
        self.plan = program.memory ?? MemoryPlanner.plan(program)
        self.prefix = cSymbolPrefix(program)
    }

    var macroPrefix: String { prefix.uppercased() }

    func emit(embeddedWeights: [Float]?) throws -> CSource {
        try checkSizes(program)
        if let embeddedWeights, embeddedWeights.count != program.weightCount {
            throw EmitError("\(embeddedWeights.count) embedded weights given, the program needs \(program.weightCount)")
        }
        let (header, hash) = scaffold.header(arenaElements: plan.arenaElements, embedded: embeddedWeights != nil)
        let implementation = emitImplementation(embeddedWeights: embeddedWeights, headerHash: hash)
        return CSource(symbolPrefix: prefix, header: EmittedFile(name: "\(prefix).h", contents: header),
                       implementation: EmittedFile(name: "\(prefix).c", contents: implementation))
    }

    /// The header, entry points, size functions and checks it shares with the fast emitter.
    var scaffold: CProgramScaffold {
        CProgramScaffold(program: program, prefix: prefix, entryPoints: CEntryPoint.plain)
    }

    // MARK: implementation

    func emitImplementation(embeddedWeights: [Float]?, headerHash: UInt64) -> String {
        var kernels = Set<CKernel>()
        for step in program.steps { kernels.formUnion(Self.kernels(for: step.kernel)) }
        var closed = kernels
        for kernel in kernels { closed.formUnion(kernel.dependencies) }

        var reserved = CKernel.allIdentifiers
        reserved.formUnion(["weights", "workspace", "input", "output", "batch", "n", "NULL", "size_t", "memcpy"])
        reserved.formUnion(scaffold.exportedNames)
        var names = IdentifierTable(language: .c, reserved: reserved)

        // One name for each arena value's pointer, one for each step's constants.
        var pointer = [String](repeating: "", count: program.values.count)
        pointer[program.input] = "input"
        pointer[program.output] = "output"
        for step in program.steps where step.output != program.output {
            pointer[step.output] = names.make(program.values[step.output].name + "_out")
        }

        var out = """
            /* \(prefix).c: network \(commentText(program.name)), generated by cnnc. Do not edit.
             *
             * \(program.steps.count) kernel calls; activations share one arena of \(plan.arenaElements) floats per image
             * (\(plan.naiveElements) if every layer kept its own buffer); \(program.weightCount) packed weights.
             * Compiles as C99 (-std=c99 -pedantic); links with -lm.
             */
            #include <math.h>
            #include <stddef.h>
            #include <string.h>

            #include "\(prefix).h"
            \(HeaderSeal.check(prefix: prefix, hash: headerHash))
            """
        for kernel in closed.sorted() {
            out += "\n" + kernel.source + "\n"
        }

        // The constants of the calls, one definition for all the steps that share them.
        var shared = SharedDefinitions(names: names)
        var calls: [String] = []
        for step in program.steps {
            let call = emitStep(step, pointer: { pointer[$0] }, shared: &shared)
            calls.append("    /* \(commentText(step.name)): \(describe(step)) */\n    \(call)")
        }
        out += "\n/* The layers' constants, one for all the layers of the same shape. */\n" + shared.text

        out += "\n" + scaffold.sizeFunctions(workspaceFloats: "(size_t)batch * \(macroPrefix)_ARENA_SIZE")
        out += "\n" + CEntryPoint.run.signature(prefix: prefix) + "\n{\n"
        let usesArena = plan.arenaElements > 0
        out += scaffold.argumentChecks(usesWorkspace: usesArena)
        if !usesArena { out += "    (void)workspace;\n" }
        if program.steps.contains(where: { $0.output != program.output }) {
            out += "    const size_t n = (size_t)batch;\n"
        }
        for step in program.steps where step.output != program.output {
            let value = step.output
            out += "    float *const \(pointer[value]) = workspace + (size_t)\(plan.offsets[value]!) * n;"
            out += "    /* \(shapeText(program.values[value].shape)) per image */\n"
        }
        out += "\n" + calls.joined(separator: "\n") + "\n    return 0;\n}\n"

        if let embeddedWeights { out += scaffold.embeddedWeights(embeddedWeights) }
        return out
    }

    static func kernels(for kernel: Kernel) -> [CKernel] {
        switch kernel {
        case .convolution: [.convolution]
        case .fullyConnected: [.fullyConnected]
        case .pooling(let p): [p.kind == .max ? .maxPool : .averagePool]
        case .globalPooling(let p): [p.kind == .max ? .globalMaxPool : .globalAveragePool]
        case .batchNorm: [.batchNorm]
        case .localResponseNorm: [.localResponseNorm]
        case .activation: [.activation]
        case .add: [.add]
        case .concat: [.concat]
        case .copy: [.copy]
        case .identity: []
        }
    }

    /// The call that runs a step; its `static const` constants go to `shared`, one definition
    /// for all the steps whose constants (and their comment, the shapes) are the same.
    func emitStep(_ step: Step, pointer: (Int) -> String, shared: inout SharedDefinitions) -> String {
        let out = pointer(step.output)
        let ins = step.inputs.map(pointer)
        let comment = "/* \(describe(step)) */\n"
        let P = SharedDefinitions.placeholder
        func define(_ body: String, _ kind: String) -> String {
            shared.define(body + "\n", comment: comment) { $0.make(kind + "_shape") }
        }
        func local(_ suffix: String) -> String { shared.names.make(step.layers[0] + suffix) }
        func weight(_ ref: WeightRef?) -> String {
            guard let ref else { return "NULL" }
            return "weights + \(ref.offset)"
        }
        func activation(_ a: Activation?) -> String {
            let (code, alpha) = activationCode(a)
            return ".act = \(code), .alpha = \(alpha)"
        }

        switch step.kernel {
        case .convolution(let k):
            let w = k.window
            let shape = define("""
                static const k_conv_shape \(P) = {
                    .in_c = \(k.input.depth), .in_h = \(k.input.height), .in_w = \(k.input.width),
                    .out_c = \(k.output.depth), .out_h = \(k.output.height), .out_w = \(k.output.width),
                    .k_h = \(w.kernelHeight), .k_w = \(w.kernelWidth), .stride_h = \(w.strideHeight), .stride_w = \(w.strideWidth),
                    .dilation_h = \(w.dilationHeight), .dilation_w = \(w.dilationWidth), .pad_top = \(w.padTop), .pad_left = \(w.padLeft),
                    .groups = \(k.groups), \(activation(k.activation))
                };
                """, "conv")
            return "k_conv2d(\(out), \(ins[0]), \(weight(k.weight)), \(weight(k.bias)), batch, &\(shape));"
        case .fullyConnected(let k):
            let shape = define("static const k_fc_shape \(P) = { .inputs = \(k.inputs), .outputs = \(k.outputs), \(activation(k.activation)) };", "fc")
            return "k_fc(\(out), \(ins[0]), \(weight(k.weight)), \(weight(k.bias)), batch, &\(shape));"
        case .pooling(let k):
            let w = k.window
            let shape = define("""
                static const k_pool_shape \(P) = {
                    .channels = \(k.input.depth), .in_h = \(k.input.height), .in_w = \(k.input.width), .out_h = \(k.output.height), .out_w = \(k.output.width),
                    .k_h = \(w.kernelHeight), .k_w = \(w.kernelWidth), .stride_h = \(w.strideHeight), .stride_w = \(w.strideWidth),
                    .dilation_h = \(w.dilationHeight), .dilation_w = \(w.dilationWidth),
                    .pad_top = \(w.padTop), .pad_left = \(w.padLeft), .pad_bottom = \(w.padBottom), .pad_right = \(w.padRight)
                };
                """, "pool")
            let function = k.kind == .max ? "k_maxpool" : "k_avgpool"
            return "\(function)(\(out), \(ins[0]), batch, &\(shape));"
        case .globalPooling(let k):
            let function = k.kind == .max ? "k_global_maxpool" : "k_global_avgpool"
            return "\(function)(\(out), \(ins[0]), batch, \(k.channels), \(k.spatial));"
        case .batchNorm(let k):
            let shape = define("static const k_batchnorm_shape \(P) = { .channels = \(k.channels), .spatial = \(k.spatial), \(activation(k.activation)) };", "batchnorm")
            return "k_batchnorm(\(out), \(ins[0]), \(weight(k.scale)), \(weight(k.shift)), batch, &\(shape));"
        case .localResponseNorm(let k):
            let p = k.parameters
            let shape = define("""
                static const k_lrn_shape \(P) = {
                    .channels = \(k.channels), .spatial = \(k.spatial), .size = \(p.size),
                    .alpha = \(cFloat(Float(p.alpha))), .beta = \(cFloat(Float(p.beta))), .k = \(cFloat(Float(p.k)))
                };
                """, "lrn")
            return "k_lrn(\(out), \(ins[0]), batch, &\(shape));"
        case .activation(let k):
            let shape = define("static const k_activation_shape \(P) = { .channels = \(k.channels), .spatial = \(k.spatial), \(activation(k.activation)) };", "activation")
            return "k_activation(\(out), \(ins[0]), batch, &\(shape));"
        case .add(let k):
            let value = program.values[step.output].shape
            precondition(k.elements == value.elementCount)
            let shape = define("""
                static const k_add_shape \(P) = {
                    .inputs = \(ins.count), .channels = \(value.depth), .spatial = \(value.width * value.height), \(activation(k.activation))
                };
                """, "add")
            let inputs = local("_inputs")
            return "{\n        const float *const \(inputs)[] = { \(ins.joined(separator: ", ")) };\n"
                + "        k_add(\(out), \(inputs), batch, &\(shape));\n    }"
        case .concat(let k):
            let channels = shared.define("static const int \(P)[] = { \(k.inputChannels.map(String.init).joined(separator: ", ")) };\n",
                                         comment: "/* channels of each input of \(describe(step)) */\n") { $0.make("concat_channels") }
            let shape = define("""
                static const k_concat_shape \(P) = {
                    .inputs = \(ins.count), .channels = \(channels), .spatial = \(k.spatial), \(activation(k.activation))
                };
                """, "concat")
            let inputs = local("_inputs")
            return "{\n        const float *const \(inputs)[] = { \(ins.joined(separator: ", ")) };\n"
                + "        k_concat(\(out), \(inputs), batch, &\(shape));\n    }"
        case .copy(let elements):
            return "k_copy(\(out), \(ins[0]), batch, \(elements));"
        case .identity:
            preconditionFailure("identity steps are removed before emission")
        }
    }

    /// `conv 5x5 stride 1x1 pad 1: [1, 32, 32] -> [6, 28, 28], relu`.
    func describe(_ step: Step) -> String {
        describeStep(step, program: program)
    }
}

/// The one-line summary of a step that both emitters put in comments.
func describeStep(_ step: Step, program: LoweredProgram) -> String {
    let inputs = step.inputs.map { shapeText(program.values[$0].shape) }.joined(separator: " + ")
    let output = shapeText(program.values[step.output].shape)
    var text: String
    switch step.kernel {
    case .convolution(let k):
        let w = k.window
        text = "conv \(w.kernelWidth)x\(w.kernelHeight) stride \(w.strideWidth)x\(w.strideHeight)"
        if w.dilationWidth != 1 || w.dilationHeight != 1 { text += " dilation \(w.dilationWidth)x\(w.dilationHeight)" }
        text += padText(w)
        if k.groups != 1 { text += " groups \(k.groups)" }
        if k.bias == nil { text += " nobias" }
    case .pooling(let k):
        let w = k.window
        text = "\(step.kernel.mnemonic) \(w.kernelWidth)x\(w.kernelHeight) stride \(w.strideWidth)x\(w.strideHeight)" + padText(w)
    case .fullyConnected(let k):
        text = "fc \(k.outputs)"
    default:
        text = step.kernel.mnemonic
    }
    text += ": \(inputs) -> \(output)"
    if let activation = step.kernel.fusedActivation { text += ", \(activation)" }
    return commentText(text)
}

/// ` pad 1`, or ` pad t0 l0 b1 r1` when the sides differ; nothing without padding.
func padText(_ w: WindowGeometry) -> String {
    let sides = [w.padTop, w.padLeft, w.padBottom, w.padRight]
    if sides.allSatisfy({ $0 == 0 }) { return "" }
    if sides.allSatisfy({ $0 == sides[0] }) { return " pad \(sides[0])" }
    return " pad t\(w.padTop) l\(w.padLeft) b\(w.padBottom) r\(w.padRight)"
}

/// PyTorch's dimensions of one image: `[6, 28, 28]`, `[10]`.
func shapeText(_ shape: TensorShape) -> String {
    "[" + shape.dimensions.map(String.init).joined(separator: ", ") + "]"
}

func dimensionNames(_ shape: TensorShape) -> String {
    shape.isVector ? "K" : "D, H, W"
}

/// A float literal C reads back to the same float.
func cFloat(_ value: Float) -> String {
    if value.isNaN { return "NAN" }
    if value.isInfinite { return value < 0 ? "-INFINITY" : "INFINITY" }
    return "\(value)f"
}

func activationCode(_ activation: Activation?) -> (code: String, alpha: String) {
    switch activation {
    case nil: ("K_NONE", "0.0f")
    case .relu: ("K_RELU", "0.0f")
    case .sigmoid: ("K_SIGMOID", "0.0f")
    case .tanh: ("K_TANH", "0.0f")
    case .softmax: ("K_SOFTMAX", "0.0f")
    case .leakyRelu(let alpha): ("K_LEAKY_RELU", cFloat(Float(alpha)))
    case .elu(let alpha): ("K_ELU", cFloat(Float(alpha)))
    }
}

/// Every constant the generated code keeps in an `int` must fit one.
func checkSizes(_ program: LoweredProgram) throws {
    for value in program.values where value.elementCount > largestIntConstant {
        throw EmitError("\(value.name): \(value.elementCount) elements per image is more than the generated code's int can index")
    }
    if program.weightCount > largestIntConstant {
        throw EmitError("\(program.weightCount) weights are more than the generated code's int can index")
    }
}
