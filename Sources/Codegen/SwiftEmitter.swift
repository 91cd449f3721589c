import ShapeCheck

// The Swift backend: a lowered program as one Swift file holding a public final class
// (`Lenet5(weights:)`, `run(_:batch:)`) and `@_cdecl` functions with the C backend's API
// (NAME_run, NAME_workspace_size, …), so the runtime loads either library the same way.

public struct SwiftSource: Sendable {
    /// The prefix of every `@_cdecl` symbol: `lenet5` for `lenet5_run`.
    public var symbolPrefix: String
    /// The public class: `Lenet5`.
    public var typeName: String
    public var file: EmittedFile
}

/// Names the generated file uses itself, which the class must not take.
let swiftReservedTypeNames: Set<String> = [
    "Float", "Int", "Int32", "Double", "Bool", "String", "Array", "Range", "MemoryLayout",
    "UnsafePointer", "UnsafeMutablePointer", "UnsafeBufferPointer", "UnsafeMutableBufferPointer",
    "Swift", "Glibc", "Musl", "Darwin", "Kernels", "Layers", "Activation", "Convolution", "FullyConnected",
    "Pooling", "GlobalPooling", "Elementwise", "LocalResponseNorm", "Sum", "Concatenation", "Never",
    "Optional", "Sequence", "Collection", "Error", "CustomStringConvertible", "WeightsError", "UInt8", "UInt32",
    "UInt64", "UnsafeRawPointer", "UnsafeRawBufferPointer", "StaticString", "CChar",
]

/// The public class's name: the network's name in UpperCamelCase (`resnet18` → `Resnet18`).
public func swiftTypeName(_ program: LoweredProgram) -> String {
    var name = IdentifierTable.camelCase(program.name, upperFirst: true)
    if name.isEmpty { return "Network" }
    if let first = name.unicodeScalars.first, first >= "0" && first <= "9" { name = "Network" + name }
    if swiftReservedTypeNames.contains(name) || swiftKeywords.contains(name) { name += "Network" }
    return name
}

/// Emits `program` as one Swift file.
public func emitSwift(_ program: LoweredProgram) throws -> SwiftSource {
    try checkSizes(program)
    return SwiftEmitter(program: program).emit()
}

struct SwiftEmitter {
    let program: LoweredProgram
    let plan: MemoryPlan
    let prefix: String
    let typeName: String

    init(program: LoweredProgram) {
        self.program = program
        self.plan = program.memory ?? MemoryPlanner.plan(program)
        self.prefix = cSymbolPrefix(program)
        self.typeName = swiftTypeName(program)
    }

    func emit() -> SwiftSource {
        // With a kernel plan, only the steps it leaves to the reference kernels call them.
        let fast = program.kernelPlan.map { FastSwiftEmitter(program: program, plan: $0) }
        let referenceSteps = fast.map { f in f.plan.steps.compactMap { $0.kernel == .reference ? $0.layer?.kernel : nil } }
            ?? program.steps.map(\.kernel)
        let sortedKernels = ReferenceKernel.closure(of: referenceSteps, helpers: \.swiftHelpers)

        // Layer constants live in `enum Layers`, buffer pointers are locals of `run`.
        let layerNames = IdentifierTable(language: .swift)
        var localNames = IdentifierTable(language: .swift, reserved: ["weights", "workspace", "input", "output", "batch"])
        var pointer = [String](repeating: "", count: program.values.count)
        pointer[program.input] = "input"
        pointer[program.output] = "output"
        for step in program.steps where step.output != program.output {
            pointer[step.output] = localNames.make(IdentifierTable.camelCase(program.values[step.output].name, upperFirst: false) + "Out")
        }

        var shared = SharedDefinitions(names: layerNames)
        var calls: [String] = []
        var buffers: [String] = []
        var fastKernels = ""
        if let fast {
            var stepPointers = pointer
            let body = fast.runBody { step, pointers in
                for (value, name) in pointers { stepPointers[value] = name }
                return emitStep(step, pointer: stepPointers, shared: &shared)
            }
            buffers = body.buffers.map { "        " + $0 }
            calls = body.calls.map { indent($0, by: 8) }
            fastKernels = body.kernels
        } else {
            for step in program.steps {
                let call = emitStep(step, pointer: pointer, shared: &shared)
                calls.append("        // \(commentText(step.name)): \(describeStep(step, program: program))\n        \(call)")
            }
        }

        let input = program.inputShape, output = program.outputShape
        let usesWeights = program.steps.contains { !$0.kernel.weightRefs.isEmpty }
        let arenaValues = fast == nil ? program.steps.filter { $0.output != program.output }.map(\.output) : []
        let usesWorkspace = fast == nil ? !arenaValues.isEmpty : !buffers.isEmpty
        let needed = (usesWeights ? ["weights"] : []) + (usesWorkspace ? ["workspace"] : [])
        // The fast kernels run on `threads` threads; the plain ones on one.
        let threadedRun = fast == nil ? "" : """
                public static func run(weights: UnsafePointer<Float>?, workspace: UnsafeMutablePointer<Float>?,
                                       input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
                    run(weights: weights, workspace: workspace, input: input, output: output, batch: batch, threads: 1)
                }

                /// `run` with each large step's tasks split over `threads` threads.

            """

        var out = """
            // \(prefix).swift: network \(commentText(program.name)), \(generatedFileMarker)
            // \(generatorLine(program, language: .swift))
            //
            // `\(typeName)(blob:)` takes \(prefix).weights as `cnnc compile --weights W` writes it (a 64-byte
            // header, checked, then little-endian float32), `\(typeName)(weights:)` the packed floats
            // themselves; `run(_:batch:)` maps N input images of
            // \(shapeText(input)) floats each to N outputs of \(shapeText(output)). The @_cdecl functions at the
            // end give the C backend's API (\(prefix)_run, \(prefix)_workspace_size, …).
            \(fast == nil ? "" : Self.buildNote(fast!.plan.options.target))
            #if canImport(Glibc)
            import Glibc
            #elseif canImport(Musl)
            import Musl
            #elseif canImport(Darwin)
            import Darwin
            #endif
            \(fast == nil ? "" : "import Dispatch\n" + FastSwiftSupport.imports)
            /// Network `\(commentText(program.name))`: \(program.steps.count) kernel calls, \(program.weightCount) packed weights,
            /// \(plan.arenaElements) workspace floats per image (\(plan.naiveElements) without sharing).
            public final class \(typeName) {
                /// Floats per input image, \(shapeText(input)).
                public static let inputSize = \(input.elementCount)
                /// Floats per output, \(shapeText(output)).
                public static let outputSize = \(output.elementCount)
                /// Floats in the packed weight blob.
                public static let weightCount = \(program.weightCount)
                /// Workspace floats per image.
                public static let arenaSize = \(plan.arenaElements)

                private let weights: [Float]

                /// `weights` is the packed weights: `weightCount` floats, \(prefix).weights without its header.
                public init(weights: [Float]) {
                    precondition(weights.count == Self.weightCount, "expected \\(Self.weightCount) packed weights, got \\(weights.count)")
                    self.weights = weights
                }

                /// Bytes of workspace that `run(weights:workspace:input:output:batch:)` needs.
                public static func workspaceSize(batch: Int) -> Int {
                    batch > 0 ? batch * arenaSize * MemoryLayout<Float>.size : 0
                }

                /// Runs `batch` images (`batch · inputSize` floats) and returns `batch · outputSize` floats.
                public func run(_ input: [Float], batch: Int) -> [Float] {
                    precondition(batch >= 0 && input.count == batch * Self.inputSize,
                                 "expected \\(batch) × \\(Self.inputSize) input floats, got \\(input.count)")
                    guard batch > 0 else { return [] }
                    let workspace = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(batch * Self.arenaSize, 1))
                    defer { workspace.deallocate() }
                    var output = [Float](repeating: 0, count: batch * Self.outputSize)
                    weights.withUnsafeBufferPointer { weights in
                        input.withUnsafeBufferPointer { input in
                            output.withUnsafeMutableBufferPointer { output in
                                Self.run(weights: weights.baseAddress, workspace: workspace,
                                         input: input.baseAddress!, output: output.baseAddress!, batch: batch)
                            }
                        }
                    }
                    return output
                }

                /// Runs `batch` images on raw buffers: `weights` is the packed blob, `workspace` holds
                /// `workspaceSize(batch:)` bytes; input and output must not overlap it or each other.
            \(threadedRun)    public static func run(weights: UnsafePointer<Float>?, workspace: UnsafeMutablePointer<Float>?,
                                       input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int\(fast == nil ? "" : ", threads: Int")) {

            """
        if !needed.isEmpty {
            out += "        guard \(needed.map { "let \($0)" }.joined(separator: ", ")) else {\n"
            out += "            preconditionFailure(\"\(typeName).run needs \(needed.joined(separator: " and "))\")\n"
            out += "        }\n"
        }
        for value in arenaValues {
            out += "        let \(pointer[value]) = workspace + \(plan.offsets[value]!) * batch  // \(shapeText(program.values[value].shape)) per image\n"
        }
        for buffer in buffers { out += buffer + "\n" }
        out += "\n" + calls.joined(separator: "\n") + "\n    }\n"
        let blob = SwiftWeightBlob(program: program, prefix: prefix, typeName: typeName)
        out += blob.classMembers

        out += "\n    /// The layers' constants, one for all the layers of the same shape.\n    enum Layers {"
        out += indent(shared.text, by: 8)
        out += "\n    }\n"

        var declarations: [String] = []
        for kernel in sortedKernels {
            if let declaration = kernel.swiftShapeDeclaration, !declarations.contains(declaration) { declarations.append(declaration) }
        }
        for declaration in declarations {
            out += "\n" + indent(declaration, by: 4) + "\n"
        }
        out += "\n    /// The kernels: plain loops over unsafe pointers, [N, C, H, W] layouts.\n    enum Kernels {\n"
        out += sortedKernels.map { indent($0.swiftSource, by: 8) }.joined(separator: "\n\n")
        out += "\n    }\n"
        if fast != nil {
            out += "\n    /// The fast kernels: blocked [N, C/16, H, W, 16] activations, packed weights.\n    private enum FastKernels {"
            out += indent(fastKernels, by: 8)
            out += "\n    }\n"
        }
        out += "}\n"
        if fast != nil { out += "\n" + FastSwiftSupport.vectors + "\n" + FastSwiftSupport.threads + "\n" }

        // The C API.
        let pointerGuard = (usesWeights ? ["weights"] : []) + (usesWorkspace ? ["workspace"] : []) + ["input", "output"]
        out += """

            // MARK: - The C backend's API

            /// Bytes of workspace `\(prefix)_run` needs for `batch` images.
            @_cdecl("\(prefix)_workspace_size")
            public func \(prefix)_workspace_size(_ batch: Int32) -> Int {
                \(typeName).workspaceSize(batch: Int(batch))
            }

            /// Floats in the packed weight blob.
            @_cdecl("\(prefix)_weight_count")
            public func \(prefix)_weight_count() -> Int {
                \(typeName).weightCount
            }

            /// Floats per input image.
            @_cdecl("\(prefix)_input_size")
            public func \(prefix)_input_size() -> Int {
                \(typeName).inputSize
            }

            /// Floats per output.
            @_cdecl("\(prefix)_output_size")
            public func \(prefix)_output_size() -> Int {
                \(typeName).outputSize
            }

            /// 0 on success, -1 when batch < 0 or a needed pointer is NULL.
            @_cdecl("\(prefix)_run")
            public func \(prefix)_run(_ weights: UnsafePointer<Float>?, _ workspace: UnsafeMutablePointer<Float>?,
                                      _ input: UnsafePointer<Float>?, _ output: UnsafeMutablePointer<Float>?, _ batch: Int32) -> Int32 {
                guard batch >= 0 else { return -1 }
                guard batch > 0 else { return 0 }
                guard \(pointerGuard.map { $0 == "input" || $0 == "output" ? "let \($0)" : "\($0) != nil" }.joined(separator: ", ")) else { return -1 }
                \(typeName).run(weights: weights, workspace: workspace, input: input, output: output, batch: Int(batch))
                return 0
            }

            """
        if fast != nil {
            out += """

                /// `\(prefix)_run` with each large step split over `threads` threads (1 when fewer).
                @_cdecl("\(prefix)_run_threads")
                public func \(prefix)_run_threads(_ weights: UnsafePointer<Float>?, _ workspace: UnsafeMutablePointer<Float>?,
                                                 _ input: UnsafePointer<Float>?, _ output: UnsafeMutablePointer<Float>?, _ batch: Int32,
                                                 _ threads: Int32) -> Int32 {
                    guard batch >= 0 else { return -1 }
                    guard batch > 0 else { return 0 }
                    guard \(pointerGuard.map { $0 == "input" || $0 == "output" ? "let \($0)" : "\($0) != nil" }.joined(separator: ", ")) else { return -1 }
                    \(typeName).run(weights: weights, workspace: workspace, input: input, output: output, batch: Int(batch), threads: Swift.max(1, Int(threads)))
                    return 0
                }

                """
        }
        out += blob.cAPI
        return SwiftSource(symbolPrefix: prefix, typeName: typeName, file: EmittedFile(name: "\(prefix).swift", contents: out))
    }

    /// A step's call; its constants go to `enum Layers` through `shared`, one `static let` for
    /// all the steps whose constants (and their comment, the shapes) are the same.
    func emitStep(_ step: Step, pointer: [String], shared: inout SharedDefinitions) -> String {
        let out = pointer[step.output]
        let ins = step.inputs.map { pointer[$0] }
        let doc = "/// \(describeStep(step, program: program))\n"
        let P = SharedDefinitions.placeholder
        func define(_ constant: String, _ kind: String) -> String {
            shared.define(constant, comment: doc) { $0.make(kind) }
        }
        func weight(_ ref: WeightRef?) -> String {
            guard let ref else { return "nil" }
            return "weights + \(ref.offset)"
        }

        // A convolution's and a transposed convolution's constants: one `Convolution` struct.
        func convolutionShape(_ input: TensorShape, _ output: TensorShape, _ w: WindowGeometry, groups: Int, _ activation: Activation?,
                              _ kind: String) -> String {
            define("""
                static let \(P) = Convolution(
                    inChannels: \(input.depth), inHeight: \(input.height), inWidth: \(input.width),
                    outChannels: \(output.depth), outHeight: \(output.height), outWidth: \(output.width),
                    kernelHeight: \(w.kernelHeight), kernelWidth: \(w.kernelWidth),
                    strideHeight: \(w.strideHeight), strideWidth: \(w.strideWidth),
                    dilationHeight: \(w.dilationHeight), dilationWidth: \(w.dilationWidth),
                    padTop: \(w.padTop), padLeft: \(w.padLeft),
                    groups: \(groups), activation: \(swiftActivation(activation)))
                """, kind)
        }

        switch step.kernel {
        case .convolution(let k):
            let name = convolutionShape(k.input, k.output, k.window, groups: k.groups, k.activation, "convolution")
            return "Kernels.convolution(\(out), \(ins[0]), weight: \(weight(k.weight)), bias: \(weight(k.bias)), batch: batch, Layers.\(name))"
        case .fullyConnected(let k):
            let name = define("static let \(P) = FullyConnected(inputs: \(k.inputs), outputs: \(k.outputs), activation: \(swiftActivation(k.activation)))",
                              "fullyConnected")
            return "Kernels.fullyConnected(\(out), \(ins[0]), weight: \(weight(k.weight)), bias: \(weight(k.bias)), batch: batch, Layers.\(name))"
        case .pooling(let k):
            let w = k.window
            let function = k.kind == .max ? "maxPool" : "averagePool"
            let name = define("""
                static let \(P) = Pooling(
                    channels: \(k.input.depth), inHeight: \(k.input.height), inWidth: \(k.input.width),
                    outHeight: \(k.output.height), outWidth: \(k.output.width),
                    kernelHeight: \(w.kernelHeight), kernelWidth: \(w.kernelWidth),
                    strideHeight: \(w.strideHeight), strideWidth: \(w.strideWidth),
                    dilationHeight: \(w.dilationHeight), dilationWidth: \(w.dilationWidth),
                    padTop: \(w.padTop), padLeft: \(w.padLeft), padBottom: \(w.padBottom), padRight: \(w.padRight))
                """, "pooling")
            return "Kernels.\(function)(\(out), \(ins[0]), batch: batch, Layers.\(name))"
        case .globalPooling(let k):
            let function = k.kind == .max ? "globalMaxPool" : "globalAveragePool"
            let name = define("static let \(P) = GlobalPooling(channels: \(k.channels), spatial: \(k.spatial))", "globalPooling")
            return "Kernels.\(function)(\(out), \(ins[0]), batch: batch, Layers.\(name))"
        case .batchNorm(let k):
            let name = define("static let \(P) = Elementwise(channels: \(k.channels), spatial: \(k.spatial), activation: \(swiftActivation(k.activation)))",
                              "batchNorm")
            return "Kernels.batchNorm(\(out), \(ins[0]), scale: \(weight(k.scale)), shift: \(weight(k.shift)), batch: batch, Layers.\(name))"
        case .localResponseNorm(let k):
            let p = k.parameters
            let name = define("static let \(P) = LocalResponseNorm(channels: \(k.channels), spatial: \(k.spatial), size: \(p.size), "
                              + "alpha: \(swiftFloat(Float(p.alpha))), beta: \(swiftFloat(Float(p.beta))), k: \(swiftFloat(Float(p.k))))",
                              "localResponseNorm")
            return "Kernels.localResponseNorm(\(out), \(ins[0]), batch: batch, Layers.\(name))"
        case .activation(let k):
            let name = define("static let \(P) = Elementwise(channels: \(k.channels), spatial: \(k.spatial), activation: \(swiftActivation(k.activation)))",
                              "activation")
            return "Kernels.activation(\(out), \(ins[0]), batch: batch, Layers.\(name))"
        case .add(let k):
            let shape = program.values[step.output].shape
            let inputs = ins.map { "UnsafePointer(\($0))" }.joined(separator: ", ")
            let name = define("static let \(P) = Sum(channels: \(shape.depth), spatial: \(shape.width * shape.height), activation: \(swiftActivation(k.activation)))",
                              "sum")
            return "Kernels.add(\(out), [\(inputs)], batch: batch, Layers.\(name))"
        case .multiply(let k):
            let inputs = ins.map { "UnsafePointer(\($0))" }.joined(separator: ", ")
            let name = define("static let \(P) = Product(channels: \(k.channels), spatial: \(k.spatial), "
                              + "spatials: [\(k.inputSpatial.map(String.init).joined(separator: ", "))], activation: \(swiftActivation(k.activation)))",
                              "product")
            return "Kernels.multiply(\(out), [\(inputs)], batch: batch, Layers.\(name))"
        case .concat(let k):
            let inputs = ins.map { "UnsafePointer(\($0))" }.joined(separator: ", ")
            let name = define("static let \(P) = Concatenation(channels: [\(k.inputChannels.map(String.init).joined(separator: ", "))], "
                              + "spatial: \(k.spatial), activation: \(swiftActivation(k.activation)))", "concatenation")
            return "Kernels.concat(\(out), [\(inputs)], batch: batch, Layers.\(name))"
        case .layerNorm(let k):
            let name = define("static let \(P) = LayerNormShape(channels: \(k.channels), spatial: \(k.spatial), epsilon: \(k.epsilon))", "layerNorm")
            return "Kernels.layerNorm(\(out), \(ins[0]), weight: \(weight(k.weight)), bias: \(weight(k.bias)), batch: batch, Layers.\(name))"
        case .transposedConvolution(let k):
            let name = convolutionShape(k.input, k.output, k.window, groups: k.groups, k.activation, "transposedConvolution")
            return "Kernels.transposedConvolution(\(out), \(ins[0]), weight: \(weight(k.weight)), bias: \(weight(k.bias)), batch: batch, Layers.\(name))"
        case .upsample(let k):
            let name = define("static let \(P) = UpsampleShape(channels: \(k.input.depth), inHeight: \(k.input.height), inWidth: \(k.input.width), "
                              + "outHeight: \(k.output.height), outWidth: \(k.output.width), bilinear: \(k.mode == .bilinear), "
                              + "alignCorners: \(k.alignCorners))", "upsample")
            return "Kernels.upsample(\(out), \(ins[0]), batch: batch, Layers.\(name))"
        case .gatherChannels(let k):
            let name = define("static let \(P) = ChannelGather(inputChannels: \(k.inputChannels), spatial: \(k.spatial), "
                              + "sources: [\(k.sources.map(String.init).joined(separator: ", "))])", "gather")
            return "Kernels.gatherChannels(\(out), \(ins[0]), batch: batch, Layers.\(name))"
        case .pad(let k):
            let name = define("static let \(P) = PadShape(channels: \(k.channels), height: \(k.inputHeight), width: \(k.inputWidth), "
                              + "top: \(k.padding.top), left: \(k.padding.left), bottom: \(k.padding.bottom), right: \(k.padding.right), "
                              + "mode: .\(k.mode.rawValue))", "pad")
            return "Kernels.pad(\(out), \(ins[0]), batch: batch, Layers.\(name))"
        case .adaptiveAveragePool(let k):
            let name = define("static let \(P) = AdaptivePoolShape(channels: \(k.channels), height: \(k.inputHeight), width: \(k.inputWidth), "
                              + "outputHeight: \(k.outputHeight), outputWidth: \(k.outputWidth))", "adaptivePool")
            return "Kernels.adaptiveAveragePool(\(out), \(ins[0]), batch: batch, Layers.\(name))"
        case .maxout(let k):
            let name = define("static let \(P) = MaxoutShape(outputChannels: \(k.outputChannels), pieces: \(k.pieces), spatial: \(k.spatial))", "maxout")
            return "Kernels.maxout(\(out), \(ins[0]), batch: batch, Layers.\(name))"
        case .copy(let elements):
            return "Kernels.copy(\(out), \(ins[0]), count: batch * \(elements))"
        case .identity:
            preconditionFailure("identity steps are removed before emission")
        }
    }
}

func indent(_ text: String, by spaces: Int) -> String {
    let padding = String(repeating: " ", count: spaces)
    return text.split(separator: "\n", omittingEmptySubsequences: false)
        .map { $0.isEmpty ? "" : padding + $0 }
        .joined(separator: "\n")
}

/// A Float literal Swift reads back to the same value.
func swiftFloat(_ value: Float) -> String {
    if value.isNaN { return "Float.nan" }
    if value.isInfinite { return value < 0 ? "-Float.infinity" : "Float.infinity" }
    return "\(value)"
}

func swiftActivation(_ activation: Activation?) -> String {
    switch activation {
    case nil: ".identity"
    case .relu: ".relu"
    case .sigmoid: ".sigmoid"
    case .tanh: ".tanh"
    case .softmax: ".softmax"
    case .leakyRelu(let alpha): ".leakyRelu(\(swiftFloat(Float(alpha))))"
    case .elu(let alpha): ".elu(\(swiftFloat(Float(alpha))))"
    case .relu6: ".relu6"
    case .hardswish: ".hardswish"
    case .hardsigmoid: ".hardsigmoid"
    case .silu: ".silu"
    case .gelu(tanh: false): ".gelu"
    case .gelu(tanh: true): ".geluTanh"
    }
}

extension SwiftEmitter {
    /// How to compile the fast kernels for their vector unit (FastSwiftSupport.arithmetic).
    static func buildNote(_ target: VectorTarget) -> String {
        guard let condition = target.swiftCondition else {
            return "//\n// Compile with swiftc -O (cnnc adds -target-cpu native).\n"
        }
        return "//\n// Compile with swiftc -O -target-cpu native -D \(condition) on a machine with that unit (or -D \(VectorTarget.avx2.swiftCondition!) on\n"
            + "// one with AVX2 only): without the condition the vector arithmetic is loops over lanes, correct but slow.\n"
    }
}
