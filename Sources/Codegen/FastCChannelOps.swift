import ShapeCheck

// The fast C backend's blocked `mul` (squeeze-excitation's channel scale) on
// [N, C/16, H, W, 16] values.

extension FastCEmitter {
    /// The product of the inputs, a 1x1xC input (⌈C/16⌉·16 floats per image blocked) read at its
    /// channel block for every position; in the reference's order (in0 · in1 · …), then the
    /// activation. Tasks are images x chunks of `elementsPerTask` floats, as the blocked add's.
    func blockedMultiply(_ fn: String, _ step: PlanStep, _ schedule: BlockedKernel, header: String) -> (String, String) {
        let output = plan.values[step.output]
        let E = output.elements, P = output.shape.height * output.shape.width
        guard let chunk = schedule.elementsPerTask else { preconditionFailure("a blocked mul without its task size") }
        let chunks = (E + chunk - 1) / chunk
        let broadcast = step.inputs.map { P != 1 && plan.values[$0].shape.height * plan.values[$0].shape.width == 1 }
        var s = header
        s += taskFunction(fn) { c in
            c.line("""
                const int n = t / \(chunks), c = t % \(chunks);
                const size_t base = (size_t)c * \(chunk);
                const int count = \(E) - c * \(chunk) < \(chunk) ? \(E) - c * \(chunk) : \(chunk);
                float *const y = a->out + (size_t)n * \(E);
                int i;
                """)
            for (j, input) in step.inputs.enumerated() {
                c.line("const float *const x\(j) = a->ins[\(j)] + (size_t)n * \(plan.values[input].elements)\(broadcast[j] ? "" : " + base");")
            }
            c.scope("for (i = 0; i < count; i += 16)") { c in
                if broadcast.contains(true) { c.line("const size_t cb = (base + (size_t)i) / \(P * channelBlock) * 16;") }
                let operand = { (j: Int) in broadcast[j] ? "cv_load(x\(j) + cb)" : "cv_load(x\(j) + i)" }
                c.line("cv16 v = \(operand(0));")
                for j in 1..<step.inputs.count { c.line("v = cv_mul(v, \(operand(j)));") }
                c.line(epilogue(step.activation))
                c.line("cv_store(y + base + i, v);")
            }
        }
        return (s, callOnInputs(fn, step, tasks: "batch * \(chunks)"))
    }
}
