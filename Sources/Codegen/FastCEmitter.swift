import ShapeCheck

// The fast C backend: emits a program that carries a kernel plan (KernelPlan.swift) as
// NAME.h and NAME.c. The API is the plain backend's (CEmitter.swift) plus
//
//   int NAME_run_threads(const float *weights, float *workspace, const float *input,
//                        float *output, int batch, int threads);
//
// which splits each large step over `threads` threads of a persistent pool (NAME_run is
// NAME_run_threads with one thread) and NAME_shutdown_threads(), which stops that pool and
// frees its threads' scratch. -DCNNC_NO_THREADS builds without pthreads;
// -DCNNC_PROFILE adds NAME_profile_steps() and NAME_profile_seconds(i), each plan step's
// time in the last run.
//
// Every step is a task function over [begin, end) of its tasks (images x output-channel
// groups x row bands for a convolution, tiles of outputs for an fc) with all shapes, strides
// and offsets as literals, and the convolution micro-kernels are emitted unrolled for the
// layer's strip width: 16·nb output channels x R output pixels held in registers, one
// broadcast input value times nb weight vectors per step of the reduction.

struct FastCEmitter {
    let program: LoweredProgram
    let plan: KernelPlan
    let prefix: String

    init(program: LoweredProgram, plan: KernelPlan) {
        self.program = program
        self.plan = plan
        self.prefix = cSymbolPrefix(program)
    }

    var macroPrefix: String { prefix.uppercased() }

    func emit(embeddedWeights: [Float]?) throws -> CSource {
        let memory = program.memory ?? MemoryPlanner.plan(program)
        return try scaffold.files(arenaElements: memory.arenaElements, scratchElements: plan.scratchElements,
                                  embeddedWeights: embeddedWeights) { hash in
            try emitImplementation(embeddedWeights: embeddedWeights, headerHash: hash, memory: memory)
        }
    }

    /// The plain emitter's header and checks, with the threaded run and the profile added.
    var scaffold: CProgramScaffold {
        CProgramScaffold(program: program, prefix: prefix, entryPoints: CEntryPoint.fast)
    }

    // MARK: names

    func pointer(_ value: Int) -> String {
        if value == plan.input { return "input" }
        if value == plan.output { return "output" }
        return "cnnc_v\(value)"
    }

    func weight(_ ref: WeightRef?) -> String {
        guard let ref else { return "NULL" }
        return "weights + \(ref.offset)"
    }

    var scratchMacro: String { "\(macroPrefix)_SCRATCH_SIZE" }

    // MARK: the file

    func emitImplementation(embeddedWeights: [Float]?, headerHash: UInt64, memory: MemoryPlan) throws -> String {
        // Reference kernels the plan still calls.
        let closed = ReferenceKernel.closure(of: plan.steps.compactMap { $0.kernel == .reference ? $0.layer?.kernel : nil },
                                             helpers: \.cHelpers)

        var reserved = ReferenceKernel.allCIdentifiers.union(FastCSupport.identifiers)
        reserved.formUnion(["weights", "workspace", "input", "output", "batch", "n", "NULL", "size_t", "memcpy", "threads"])
        reserved.formUnion(scaffold.exportedNames)
        reserved.formUnion(CProgramScaffold.blobIdentifiers)
        let names = IdentifierTable(language: .c, reserved: reserved)
        let plain = CEmitter(program: program)

        var out = """
            /* \(prefix).c: network \(commentText(program.name)), \(generatedFileMarker)
             *
             * \(plan.steps.count) kernel steps (fast kernels: blocked [N, C/16, H, W, 16] activations, packed weights);
             * activations share one arena of \(memory.arenaElements) floats per image; \(program.weightCount) packed weights.
             * \(generatorLine(program, language: .c))
             * Compiles as C99 with pthreads (-std=c99 -pthread; -DCNNC_NO_THREADS for one thread), or as C++;
             * links with -lm.
             * AVX-512, AVX2 + FMA and NEON are used when the compiler targets them (-march=native).
             */

            """
        out += FastCSupport.prologue + "\n" + FastCSupport.includes + "\n" + cPlusPlusRestrict + "#include \"\(prefix).h\"\n"
            + HeaderSeal.check(prefix: prefix, hash: headerHash) + "\n"
        out += FastCSupport.vectors + "\n\n" + FastCSupport.threads(scratchMacro: scratchMacro) + "\n\n"
        out += FastCSupport.profile(steps: plan.steps.count) + "\n"
        if plan.steps.contains(where: { if case .fullyConnected = $0.kernel { return $0.activation == .softmax }; return false }) {
            out += "\n" + FastCSupport.softmax + "\n"
        }
        for kernel in closed { out += "\n" + kernel.cSource + "\n" }

        // Each step's kernel function, one for all the steps whose functions are the same text
        // (same shapes, blocking and epilogue), named after the first step that runs it.
        var shared = SharedDefinitions(names: names)
        var calls: [String] = []
        for (index, step) in plan.steps.enumerated() {
            let what = plan.stepText(step, program: program)
            let call: String
            if step.kernel == .reference, let layer = step.layer {
                call = emitReference(step, layer, plain: plain, shared: &shared)
            } else {
                let (definition, text) = emitStep(SharedDefinitions.placeholder, step)
                var comment = "/* \(what)"
                switch step.kernel {
                case .directConvolution, .winogradConvolution:
                    if step.channelScaleInput != nil { comment += ", its input times the channel scale" }
                    if step.residualInput != nil { comment += ", plus the residual" }
                default: break
                }
                // A fused residual's activation is the add's, which the convolution's text does not name.
                let kernel = step.layer?.kernel
                if let activation = step.activation, kernel?.mnemonic != activation.description,
                   activation != kernel?.fusedActivation {
                    comment += ", then \(activation)"
                }
                comment += "; \(plan.kernelName(step)) */\n"
                let name = shared.define(definition, comment: comment) { _ in "cnnc_s\(index)" }
                call = SharedDefinitions.naming(text, name)
            }
            calls.append("/* \(commentText(step.name)): \(what); \(plan.kernelName(step)) */\n"
                + "CNNC_PROFILE_BEGIN\n\(call)\nCNNC_PROFILE_END(\(index))")
        }
        out += "\n/* The kernels, one function for all the steps of the same shape. */\n" + shared.text

        let usesWorkspace = memory.arenaElements > 0 || plan.scratchElements > 0
        let steps = "\(plan.steps.count)"
        out += "\n" + scaffold.sizeFunctions(workspaceFloats: "((size_t)batch * \(macroPrefix)_ARENA_SIZE + \(scratchMacro))")
        out += "\n" + scaffold.blobFunctions() + "\n"
        out += scaffold.definition(.shutdownThreads, body: "    cnnc_pool_shutdown();\n")
        out += "\n#if \(CEntryPoint.profileSteps.condition!)\n"
        out += scaffold.definition(.profileSteps, body: "    return \(steps);\n") + "\n"
        out += scaffold.definition(.profileSeconds,
                                   body: "    return step >= 0 && step < \(steps) ? cnnc_profile_seconds[step] : 0.0;\n")
        out += "#endif\n\n"
        out += scaffold.definition(.run, body: "    return \(prefix)_run_threads(weights, workspace, input, output, batch, 1);\n")
        var stepsFunction = CWriter()
        stepsFunction.line("/* Every step on `batch` images whose values are in `workspace` (batch · ARENA_SIZE floats), on")
        stepsFunction.line(" * cnnc_threads threads; cnnc_scratch0 is the calling thread's scratch. */")
        stepsFunction.function("static void cnnc_steps(const float *weights, float *workspace, float *cnnc_scratch0,\n"
                       + "    const float *input, float *output, int batch, int cnnc_threads)") { c in
            c.line("""
                #if defined(CNNC_PROFILE)
                double cnnc_profile_start;
                #endif
                """)
            for (id, offset) in plan.offsets.enumerated() {
                guard let offset else { continue }
                c.line("float *const \(pointer(id)) = workspace + (size_t)\(offset) * (size_t)batch;"
                    + "    /* \(commentText(plan.values[id].shape.description)) \(plan.values[id].layout.rawValue) */")
            }
            if !usesWorkspace { c.line("(void)workspace;") }
            c.line("(void)cnnc_scratch0;")
            c.line("")
            for call in calls { c.line(call) }
        }
        out += "\n" + stepsFunction.text
        let task = imageTask()
        if !task.isEmpty { out += "\n" + task }
        var run = CWriter()
        run.function(CEntryPoint.runThreads.signature(prefix: prefix)) { c in
            c.line("""
                int cnnc_threads;
                float *cnnc_scratch0;
                """)
            c.line(String(scaffold.argumentChecks(usesWorkspace: usesWorkspace, depth: 0).dropLast()))
            c.line("cnnc_scratch0 = \(usesWorkspace ? "workspace + (size_t)batch * \(macroPrefix)_ARENA_SIZE" : "NULL");")
            c.line("cnnc_threads = cnnc_pool_acquire(threads);")
            c.line(imageSchedule())
            c.line("cnnc_pool_release(cnnc_threads);")
            c.line("return 0;")
        }
        out += "\n" + run.text
        if let embeddedWeights { out += scaffold.embeddedWeights(embeddedWeights) }
        return out
    }

    // MARK: steps

    /// The call of a step the plan leaves to the reference kernels, on planar values.
    func emitReference(_ step: PlanStep, _ programStep: Step, plain: CEmitter, shared: inout SharedDefinitions) -> String {
        // The plan's copies of the step's values (an array of every value per step was quadratic).
        var pointers: [Int: String] = [programStep.output: pointer(step.output)]
        for (position, input) in programStep.inputs.enumerated() { pointers[input] = pointer(step.inputs[position]) }
        return plain.emitStep(programStep, pointer: { pointers[$0] ?? "NULL" }, shared: &shared)
    }

    /// A fast step's kernel function(s), named `fn`, and the call that runs it.
    func emitStep(_ fn: String, _ step: PlanStep) -> (String, String) {
        switch (step.kernel, step.layer) {
        case (.toBlocked, _), (.toPlanar, _):
            return reorder(fn, step)
        case (.pad(let top, let left), _):
            return pad(fn, step, top: top, left: left)
        case (.directConvolution(let d), let layer?):
            if case .convolution(let conv) = layer.kernel { return directConvolution(fn, step, d, conv) }
        case (.winogradConvolution(let w), let layer?):
            if case .convolution(let conv) = layer.kernel { return winogradConvolution(fn, step, w, conv) }
        case (.depthwiseConvolution(let d), let layer?):
            if case .convolution(let conv) = layer.kernel { return depthwiseConvolution(fn, step, d, conv) }
        case (.fullyConnected(let f), let layer?):
            if case .fullyConnected(let fc) = layer.kernel { return fullyConnected(fn, step, f, fc) }
        case (.invertedResidual(let f), _):
            return invertedResidual(fn, step, f)
        case (.blocked(let schedule), let layer?):
            return blocked(fn, step, schedule, layer)
        default:
            break
        }
        // The planner pairs each kernel with its layer, and plan-memory binds every layer.
        preconditionFailure("plan step \(step.name): a \(step.kernelName) kernel without its layer")
    }

    /// The block that fills a cnnc_args and runs `tasks` tasks, then `after`.
    func call(_ fn: String, _ step: PlanStep, tasks: String, res: String = "NULL",
              ins: String = "NULL", w: String = "NULL", bias: String = "NULL", after: String = "") -> String {
        let input = step.inputs.isEmpty ? "NULL" : pointer(step.inputs[0])
        let threads = step.threads(of: "cnnc_threads")
        var c = CWriter()
        c.line("{")
        c.indented { c in
            c.line("const cnnc_args cnnc_a = { \(pointer(step.output)), \(input), \(res), \(ins), \(w), \(bias), batch, NULL };")
            c.line("cnnc_parallel(\(fn), &cnnc_a, \(tasks), \(threads), cnnc_scratch0);")
            if !after.isEmpty { c.line(after) }
        }
        c.line("}")
        return String(c.text.dropLast())
    }

    /// `call` for a step with several inputs (add, concat), which it reads from a list.
    func callOnInputs(_ fn: String, _ step: PlanStep, tasks: String) -> String {
        call(fn, step, tasks: tasks, list: "inputs", step.inputs.map(pointer))
    }

    /// `call` whose `ins` is an array `fn_name[]` of `pointers`, declared just before it.
    func call(_ fn: String, _ step: PlanStep, tasks: String, res: String = "NULL", list name: String, _ pointers: [String],
              w: String = "NULL", bias: String = "NULL") -> String {
        let list = "\(fn)_\(name)"
        var c = CWriter()
        c.line("{")
        c.indented { c in
            c.line("const float *const \(list)[] = { \(pointers.joined(separator: ", ")) };")
            c.line(call(fn, step, tasks: tasks, res: res, ins: list, w: w, bias: bias))
        }
        c.line("}")
        return String(c.text.dropLast())
    }
}
