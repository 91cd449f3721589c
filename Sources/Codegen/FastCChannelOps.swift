import ShapeCheck

// The fast C backend's blocked `mul` (squeeze-excitation's channel scale) and channel gather
// (slice, shuffle, and a concat whose inputs' channels are not multiples of 16) on
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

    /// Where each output channel comes from: (input, channel).
    static func gatherSources(_ kernel: Kernel) -> [(input: Int, channel: Int)] {
        switch kernel {
        case .gatherChannels(let g): return g.sources.map { (0, $0) }
        case .concat(let concat):
            return concat.inputChannels.enumerated().flatMap { j, count in (0..<count).map { (j, $0) } }
        default: preconditionFailure("no channel gather for \(kernel.mnemonic)")
        }
    }

    /// Output channel c from input channel sources[c], one task per image and output block:
    /// a block that is a whole block of one input is copied whole; any other is built from
    /// each input block its lanes come from in turn, a lane move (cv_lanes_pick: one permute on
    /// AVX-512) per pixel. Its padding lanes get 0, and no input's padding
    /// lane reaches a real channel (docs/codegen.md, "Padding lanes"). The activation (a
    /// concat's) runs on the block after.
    func blockedGather(_ fn: String, _ step: PlanStep, header: String) -> (String, String) {
        guard let layer = step.layer else { preconditionFailure("a gather without its layer") }
        let output = plan.values[step.output]
        let OC = output.shape.depth, P = output.shape.height * output.shape.width
        let blocks = (OC + channelBlock - 1) / channelBlock
        let sources = Self.gatherSources(layer.kernel)
        // Per output block: the input block it copies whole (-1: none), and the first of its
        // groups (one per source block: input, block's float offset, lane indices and mask).
        var wholeInput: [Int] = [], wholeBlock: [Int] = [], first: [Int] = []
        var groupInput: [Int] = [], groupAt: [Int] = [], groupIndex: [Int] = [], groupTake: [Int] = []
        for ob in 0..<blocks {
            let lanes = (0..<channelBlock).map { ob * channelBlock + $0 }.filter { $0 < OC }
            let head = sources[lanes[0]]
            let aligned = lanes.count == channelBlock && head.channel % channelBlock == 0 && lanes.allSatisfy { c in
                sources[c].input == head.input && sources[c].channel == head.channel + c - lanes[0]
            }
            wholeInput.append(aligned ? head.input : -1)
            wholeBlock.append(aligned ? head.channel / channelBlock : 0)
            first.append(groupInput.count)
            var seen: [[Int]: Int] = [:]
            for c in lanes {
                let (j, ic) = sources[c]
                let key = [j, ic / channelBlock]
                let g: Int
                if let known = seen[key] { g = known } else {
                    g = groupInput.count
                    seen[key] = g
                    groupInput.append(j)
                    groupAt.append(ic / channelBlock * P * channelBlock)
                    groupIndex += [Int](repeating: 0, count: channelBlock)
                    groupTake += [Int](repeating: 0, count: channelBlock)
                }
                groupIndex[g * channelBlock + c % channelBlock] = ic % channelBlock
                groupTake[g * channelBlock + c % channelBlock] = 1
            }
        }
        first.append(groupInput.count)
        let inputElements = step.inputs.map { plan.values[$0].elements }
        let table = { (name: String, values: [Int]) in
            "static const int \(name)[\(values.count)] = { \(values.map(String.init).joined(separator: ", ")) };"
        }
        let locals = [table("whole_in", wholeInput), table("whole_block", wholeBlock), table("first", first),
                      table("group_in", groupInput), table("group_at", groupAt), table("group_idx", groupIndex),
                      table("group_take", groupTake), table("image", inputElements)]
        var s = header
        s += taskFunction(fn, integers: ["g", "p"], locals: locals) { c in
            c.line("""
                const int n = t / \(blocks), ob = t % \(blocks);
                float *const y = a->out + ((size_t)n * \(blocks) + (size_t)ob) * \(P * channelBlock);
                """)
            c.ifElse("whole_in[ob] >= 0", { c in
                c.line("memcpy(y, a->ins[whole_in[ob]] + (size_t)n * image[whole_in[ob]] + (size_t)whole_block[ob] * \(P * channelBlock), \(P * channelBlock) * sizeof(float));")
            }) { c in
                // One source block at a time over all pixels, so its lane control stays in registers.
                c.line("""
                    for (g = first[ob]; g < first[ob + 1]; g++) {
                        const cv_lanes lanes = cv_lanes_make(group_idx + 16 * g, group_take + 16 * g);
                        const float *const x = a->ins[group_in[g]] + (size_t)n * image[group_in[g]] + (size_t)group_at[g];
                        if (g == first[ob]) {
                            for (p = 0; p < \(P); p++) cv_store(y + (size_t)p * 16, cv_lanes_pick(cv_zero(), cv_load(x + (size_t)p * 16), lanes));
                        } else {
                            for (p = 0; p < \(P); p++) cv_store(y + (size_t)p * 16, cv_lanes_pick(cv_load(y + (size_t)p * 16), cv_load(x + (size_t)p * 16), lanes));
                        }
                    }
                    """)
            }
            if step.activation != nil {
                c.scope("for (p = 0; p < \(P); p++)") { c in
                    c.line("cv16 v = cv_load(y + (size_t)p * 16);")
                    c.line(epilogue(step.activation))
                    c.line("cv_store(y + (size_t)p * 16, v);")
                }
            }
        }
        return (s, callOnInputs(fn, step, tasks: "batch * \(blocks)"))
    }
}
