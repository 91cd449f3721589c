// The kernel plan as text, for `cnnc compile --listing` and the plan snapshots
// (Tests/Snapshots/plan): every field of every step's schedule, so that a changed
// scheduling decision changes the text.

extension KernelPlan {
    /// Per step, the step's line and an indented line with its whole schedule; then the arena.
    public var listing: String {
        var lines: [String] = []
        for step in steps {
            let ins = step.inputs.map { "p\($0)" }.joined(separator: ", ")
            let value = values[step.output]
            lines.append("  p\(step.output) \(value.layout.rawValue) \(value.shape) = \(kernelName(step))(\(ins))  ; \(step.name)")
            var facts = step.scheduleFields
            if let t = step.threading { facts.append("threadWork \(t.work)/\(t.threshold)") }
            facts.append("activation \(step.activation.map { "\($0)" } ?? "none")")
            facts.append("macs \(step.macs)")
            let offset = step.output < offsets.count ? offsets[step.output] : nil
            facts.append("at \(offset.map(String.init) ?? (step.output == output ? "output" : "none"))")
            lines.append("      " + facts.joined(separator: ", "))
        }
        lines.append("  arena \(arenaElements) floats/image (unshared \(unsharedElements)), scratch \(scratchElements) floats/thread;"
                     + " winograd \(options.winograd ? "on" : "off"), target \(options.target.rawValue);"
                     + " batches \(imageByImage ? "image by image" : "step by step")")
        return lines.joined(separator: "\n")
    }
}

extension KernelPlan {
    /// What a step computes, for the emitted code's comments: its layer, or a reorder's or
    /// pad's shapes (`[16, 8, 8] planar to [16, 8, 8] blocked`).
    func stepText(_ step: PlanStep, program: LoweredProgram) -> String {
        if let layer = step.layer { return describeStep(layer, program: program) }
        if case .invertedResidual(let f) = step.kernel { return f.steps.map { stepText($0, program: program) }.joined(separator: " → ") }
        let from = values[step.inputs[0]], to = values[step.output]
        return "\(shapeText(from.shape)) \(from.layout.rawValue) to \(shapeText(to.shape)) \(to.layout.rawValue)"
    }
}

extension PlanStep {
    /// The threads its tasks run on, as an expression C and Swift both read, of the run's
    /// thread count `all` and `batch`: all of them when the step's work per image reaches its
    /// threshold, all from the batch whose work does, else one.
    func threads(of all: String) -> String {
        let work = threading?.work ?? 0, threshold = threading?.threshold ?? 1
        if work >= threshold { return all }
        if work > 0 { return "(batch >= \((threshold + work - 1) / work) ? \(all) : 1)" }
        return "1"
    }

    /// Every field of the step's kernel, named as in the plan types.
    var scheduleFields: [String] {
        func flag(_ b: Bool) -> String { b ? "yes" : "no" }
        func all(_ n: Int?) -> String { n.map(String.init) ?? "all" }
        switch kernel {
        case .reference, .toBlocked, .toPlanar:
            return []
        case .blocked(let b):
            return ["elementsPerTask \(all(b.elementsPerTask))", "unrolledTaps \(flag(b.unrolledTaps))"]
        case .directConvolution(let d):
            let variant = switch d.variant {
            case .paired: "paired"
            case .flat: "flat"
            case .wholeRows: "whole rows"
            case .rowStrips: "row strips"
            }
            let edges = d.edges.map { "\($0.x):\($0.firstTap)-\($0.endTap)" }.joined(separator: " ")
            return ["variant \(variant)", "outputBlocks \(d.outputBlocks)", "strip \(d.strip)", "rows \(d.rows)",
                    "planarInput \(flag(d.planarInput))", "prepadded \(flag(d.prepadded))", "pairs \(flag(d.pairs))",
                    "flat \(flag(d.flat))", "inputBlocksPerPass \(all(d.inputBlocksPerPass))", "sweepRows \(all(d.sweepRows))",
                    "interior \(d.interior.lowerBound)..<\(d.interior.upperBound)", "edges [\(edges)]",
                    "prefetch \(flag(d.prefetch))", "reductionUnroll \(d.reductionUnroll.map(String.init) ?? "whole")",
                    "bands \(d.bands)"] + (d.grouped.map { ["groupedInputBlocks \($0.inputBlocks)",
                                                           "firstBlocks \($0.firstBlocks.map(String.init).joined(separator: " "))"] } ?? [])
                + (d.scaledInput ? ["scaledInput yes (the last input is the channel scale)"] : [])
        case .winogradConvolution(let w):
            return ["tile \(w.tile)", "taps \(w.taps)", "outputBlocks \(w.outputBlocks)", "tilesPerCall \(w.tilesPerCall)",
                    "tileGroup \(w.tileGroup)", "chunks \(w.chunks)"]
        case .depthwiseConvolution(let d):
            let edges = d.edges.map { "\($0.x):\($0.firstTap)-\($0.endTap)" }.joined(separator: " ")
            return ["multiplier \(d.multiplier)", "strip \(d.strip)", "interior \(d.interior.lowerBound)..<\(d.interior.upperBound)",
                    "edges [\(edges)]", "bands \(d.bands)"]
        case .fullyConnected(let f):
            return ["outputBlocks \(f.outputBlocks)", "blockedInput \(flag(f.blockedInput))", "imagesPerPass \(f.imagesPerPass)",
                    "accumulators \(f.accumulators)", "chains \(f.chains.map(String.init).joined(separator: " "))"]
        case .pad(let top, let left):
            return ["top \(top)", "left \(left)"]
        case .invertedResidual(let f):
            return ["expandStrip \(f.expandStrip)", "projectStrip \(f.projectStrip)", "bands \(f.bands)"]
                + zip(["expand", "depthwise", "project"], f.steps).flatMap { role, step in step.scheduleFields.map { "\(role).\($0)" } }
        }
    }
}
