import ShapeCheck

// The fast Swift kernels: the run body of a program that carries a kernel plan, printed from
// the same plan as the fast C (KernelPlan.swift). Which kernels it prints is data
// (KernelLanguage.swift); the planner gives every other step the reference kernel on planar
// values, which SwiftEmitter prints as it does for the plain Swift. Each fast step is a task
// function over [begin, end) of its tasks, as in the C, with shapes and strides as literals and
// the convolution micro-kernels unrolled over 16·nb output channels x R pixels of SIMD16<Float>
// accumulators. Swift has no prefetch or loop-unroll hints: the plan's prefetch and reduction
// unroll are not printed.

struct FastSwiftEmitter {
    let program: LoweredProgram
    let plan: KernelPlan

    /// The plan value's buffer in `run`.
    func pointer(_ value: Int) -> String {
        if value == plan.input { return "input" }
        if value == plan.output { return "output" }
        return "v\(value)"
    }

    /// The plan value's buffer as the kernels read it (the caller's input already is read-only).
    func readPointer(_ value: Int) -> String {
        value == plan.input ? pointer(value) : "UnsafePointer(\(pointer(value)))"
    }

    func weight(_ ref: WeightRef?) -> String {
        guard let ref else { return "nil" }
        return "weights + \(ref.offset)"
    }

    /// The run body's buffers, its calls and the fast kernels' definitions; `reference(step,
    /// pointers)` prints a reference step's call on the plan's planar copies of its values.
    func runBody(reference: (Step, [Int: String]) -> String) -> (buffers: [String], calls: [String], kernels: String) {
        // A step that needs scratch memory (Winograd) allocates it per thread itself, so the
        // Swift run needs no scratch beside the workspace.
        var buffers: [String] = []
        for (id, offset) in plan.offsets.enumerated() {
            guard let offset, id != plan.input, id != plan.output else { continue }
            buffers.append("let \(pointer(id)) = workspace + \(offset) * batch  // \(commentText(plan.values[id].shape.description)) \(plan.values[id].layout.rawValue)")
        }
        // Each step's kernel, one for all the steps whose kernels are the same text, named after
        // the first step that runs it (as the fast C's).
        var shared = SharedDefinitions(names: IdentifierTable(language: .swift))
        var calls: [String] = []
        for (index, step) in plan.steps.enumerated() {
            let what = commentText(plan.stepText(step, program: program))
            let call: String
            if step.kernel == .reference, let layer = step.layer {
                var pointers: [Int: String] = [layer.output: pointer(step.output)]
                for (position, input) in layer.inputs.enumerated() { pointers[input] = pointer(step.inputs[position]) }
                call = reference(layer, pointers)
            } else {
                let (definition, text) = emitStep(SharedDefinitions.placeholder, step)
                let name = shared.define(definition, comment: "// \(what); \(plan.kernelName(step))\n") { _ in "s\(index)" }
                call = SharedDefinitions.naming(text, name)
            }
            calls.append("// \(commentText(step.name)): \(what); \(plan.kernelName(step))\n\(call)")
        }
        return (buffers, calls, shared.text)
    }

    func emitStep(_ fn: String, _ step: PlanStep) -> (String, String) {
        switch (step.kernel, step.layer) {
        case (.toBlocked, _), (.toPlanar, _):
            return reorder(fn, step)
        case (.pad(let top, let left), _):
            return pad(fn, step, top: top, left: left)
        case (.directConvolution(let d), let layer?):
            if case .convolution(let conv) = layer.kernel { return directConvolution(fn, step, d, conv) }
        case (.depthwiseConvolution(let d), let layer?):
            if case .convolution(let conv) = layer.kernel { return depthwiseConvolution(fn, step, d, conv) }
        case (.winogradConvolution(let w), let layer?):
            if case .convolution(let conv) = layer.kernel { return winogradConvolution(fn, step, w, conv) }
        case (.fullyConnected(let f), let layer?):
            if case .fullyConnected(let fc) = layer.kernel { return fullyConnected(fn, step, f, fc) }
        case (.blocked(let schedule), let layer?):
            return blocked(fn, step, schedule, layer)
        default:
            break
        }
        // KernelCapabilities.swiftKernels lets the planner choose only the kernels above.
        preconditionFailure("plan step \(step.name): the Swift kernels have no \(step.kernelName) kernel")
    }

    /// The call that runs `tasks` tasks of `fn` on the threads the step's work earns; a step
    /// with several inputs (add) also gets them all as `ins`.
    func call(_ fn: String, _ step: PlanStep, tasks: String, res: String = "nil", w: String = "nil", bias: String = "nil",
              onInputs: Bool = false) -> String {
        let threads = step.threads(of: "threads")
        let ins = onInputs ? ", ins: [\(step.inputs.map(readPointer).joined(separator: ", "))]" : ""
        return "cnnc_parallel(FastKernels.\(fn), cnnc_args(out: \(pointer(step.output)), inp: \(readPointer(step.inputs[0])), res: \(res), w: \(w), "
            + "bias: \(bias), batch: batch\(ins)), \(tasks), \(threads))"
    }

    /// A task function over `begin..<end` whose body (`body`, at 8 spaces) sees the task as `t`.
    func taskFunction(_ fn: String, counter: String = "t", before: String = "", _ body: String) -> String {
        var s = "static func \(fn)(_ a: cnnc_args, _ begin: Int, _ end: Int) {\n"
        s += indent(before, 4)
        s += "    for \(counter) in begin..<end {\n" + indent(body, 8) + "    }\n}\n"
        return s
    }

    /// `text`'s lines, each after `spaces` spaces and ending in a newline.
    func indent(_ text: String, _ spaces: Int) -> String {
        let pad = String(repeating: " ", count: spaces)
        return text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.isEmpty }.map { pad + $0 + "\n" }.joined()
    }

    // MARK: zero-bordered copies and reorders

    /// A blocked value copied into a zero border, so a convolution on it has no edge columns.
    func pad(_ fn: String, _ step: PlanStep, top: Int, left: Int) -> (String, String) {
        let input = plan.values[step.inputs[0]].shape, output = plan.values[step.output].shape
        let H = input.height, W = input.width, H2 = output.height, W2 = output.width, CB = (input.depth + channelBlock - 1) / channelBlock
        let right = W2 - left - W
        var copy = ""
        if left > 0 { copy += "row.update(repeating: 0, count: \(left * channelBlock))\n" }
        copy += "(row + \(left * channelBlock)).update(from: x + iy * \(W * channelBlock), count: \(W * channelBlock))\n"
        if right > 0 { copy += "(row + \((left + W) * channelBlock)).update(repeating: 0, count: \(right * channelBlock))\n" }
        let body = """
            let x = a.inp + t * \(H * W * channelBlock), o = a.out + t * \(H2 * W2 * channelBlock)
            for y in 0..<\(H2) {
                let row = o + y * \(W2 * channelBlock), iy = y - \(top)
                if iy < 0 || iy >= \(H) {
                    row.update(repeating: 0, count: \(W2 * channelBlock))
                } else {
            \(indent(copy, 8))    }
            }
            """
        return ("/// a zero-bordered copy, \(W)x\(H) to \(W2)x\(H2)\n" + taskFunction(fn, body), call(fn, step, tasks: "batch * \(CB)"))
    }

    func reorder(_ fn: String, _ step: PlanStep) -> (String, String) {
        let value = plan.values[step.output]
        let C = value.shape.depth, P = value.shape.height * value.shape.width, CB = (C + channelBlock - 1) / channelBlock
        let toBlocked = step.kernel == .toBlocked
        var body = """
            let n = t / \(CB), cb = t % \(CB)
            let channels = Swift.min(\(C) - cb * 16, 16)
            let x = a.inp + n * \(toBlocked ? C * P : CB * P * channelBlock)
            let y = a.out + n * \(toBlocked ? CB * P * channelBlock : C * P)

            """
        if toBlocked {
            body += """
                let yb = y + cb * \(P * channelBlock)
                for p in 0..<\(P) {
                    for l in 0..<channels { yb[p * 16 + l] = x[(cb * 16 + l) * \(P) + p] }
                    for l in channels..<16 { yb[p * 16 + l] = 0 }
                }
                """
        } else {
            body += """
                let xb = x + cb * \(P * channelBlock)
                for l in 0..<channels {
                    let yc = y + (cb * 16 + l) * \(P)
                    for p in 0..<\(P) { yc[p] = xb[p * 16 + l] }
                }
                """
        }
        let s = "/// \(toBlocked ? "[C, H, W] to [C/16, H, W, 16]" : "[C/16, H, W, 16] to [C, H, W]")\n" + taskFunction(fn, body)
        return (s, call(fn, step, tasks: "batch * \(CB)"))
    }

    // MARK: activations

    /// `v` through `activation`, as an expression (the C's statements, as the same functions).
    static func vectorActivation(_ activation: Activation?, _ v: String) -> String {
        switch activation {
        case nil, .softmax?: v
        case .relu?: "cv_max(cv_zero(), \(v))"
        case .leakyRelu(let alpha)?: "cv_leaky(\(v), \(swiftFloat(Float(alpha))))"
        case .relu6?: "cv_relu6(\(v))"
        case .hardswish?: "cv_hardswish(\(v))"
        case .hardsigmoid?: "cv_hardsigmoid(\(v))"
        case .sigmoid?: "cv_sigmoid(\(v))"
        case .silu?: "cv_silu(\(v))"
        case .elu(let alpha)?: "cv_each(\(v)) { $0 < 0 ? \(swiftFloat(Float(alpha))) * expm1f($0) : $0 }"
        case .tanh?: "cv_each(\(v)) { tanhf($0) }"
        case .gelu(tanh: false)?: "cv_each(\(v)) { $0 * 0.5 * (1 + erff($0 * 0.70710678118654752)) }"
        case .gelu(tanh: true)?: "cv_each(\(v)) { 0.5 * $0 * (1 + tanhf(0.79788456080286536 * ($0 + 0.044715 * $0 * $0 * $0))) }"
        }
    }
}
