/// The lectures' arithmetic as text (`(7 − 3 + 2·0)/3 + 1`) and the searches behind `pad same`,
/// `pad fit` and the hints of a stride that does not fit.
public enum Arithmetic {
    public static func formula(input: Int, extent: Int, padBefore: Int, padAfter: Int, stride: Int) -> String {
        let pad = padBefore == padAfter ? "2·\(padBefore)" : "\(padBefore) + \(padAfter)"
        return "(\(input) − \(extent) + \(pad))/\(stride) + 1"
    }

    /// a/b + plus to two decimals, as the slides write 2.33.
    public static func decimal(_ a: Int, _ b: Int, plus: Int) -> String {
        let value = Double(a) / Double(b) + Double(plus)
        let hundredths = Int((value * 100).rounded())
        let sign = hundredths < 0 ? "−" : ""
        let magnitude = abs(hundredths)
        let fraction = magnitude % 100
        return "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// ⌊a/b⌋ for b > 0, as the formula means: (28 − 29)/2 is −1, not Swift's 0.
    public static func floorDivide(_ a: Int, _ b: Int) -> Int {
        let quotient = a / b
        return a % b != 0 && a < 0 ? quotient - 1 : quotient
    }

    /// An integer with a typographic minus, as the formulas print their operators.
    public static func signed(_ value: Int) -> String {
        value < 0 ? "−\(value.magnitude)" : "\(value)"
    }

    /// Keras' rule: out = ceil(in/S); the total padding is split with the smaller half first.
    public static func samePadding(input: Int, extent: Int, stride: Int) -> (before: Int, after: Int) {
        let output = input / stride + (input % stride == 0 ? 0 : 1)
        let needed = (output - 1).multipliedReportingOverflow(by: stride)
        guard !needed.overflow else { return (0, 0) }
        let total = max(needed.partialValue + extent - input, 0)
        return (total / 2, total - total / 2)
    }

    /// PyTorch's ceil_mode size: rounded up, but a last window that would start in the far
    /// padding is dropped. `span` is input − extent + both pads, at least 0.
    public static func ceilOutput(input: Int, padBefore: Int, span: Int, stride: Int) -> Int {
        var output = span / stride + 1
        if span % stride != 0 {
            output += 1
            if (output - 1) * stride >= input + padBefore { output -= 1 }
        }
        return output
    }

    /// The largest symmetric pad `pad fit` and the hints try: a pool's own limit (half its
    /// window), and for a convolution Fe − 1, past which a window can hold padding only.
    static func padLimit(extent: Int, isPool: Bool) -> Int {
        isPool ? extent / 2 : extent - 1
    }

    /// The smallest P ≥ 0, up to `limit`, with in − Fe + 2P ≥ 0 a multiple of S. Solved as a
    /// congruence, not by trying pads: a hostile file can have a stride of billions.
    public static func fittingPad(input: Int, extent: Int, stride: Int, limit: Int) -> Int? {
        let difference = input - extent
        let first = max(0, difference >= 0 ? 0 : (1 - difference) / 2)  // the least P with a span ≥ 0
        // 2P ≡ −difference (mod S): with an even S, only an even difference has a solution,
        // and P is then fixed mod S/2; with an odd S, halving is invertible mod S.
        let even = stride % 2 == 0
        if even && difference % 2 != 0 { return nil }
        let modulus = even ? stride / 2 : stride
        let target = ((-(even ? difference / 2 : difference)) % modulus + modulus) % modulus
        let residue = even || target % 2 == 0 ? (even ? target : target / 2) : (target + modulus) / 2
        let pad = first + ((residue - first % modulus) % modulus + modulus) % modulus
        return pad <= limit ? pad : nil
    }

    /// `pad fit`'s search as `--explain` shows it: `P = 0: (7 − 5 + 0)/2 = 1 ✓`. A long search
    /// (a large stride) shows its first steps and its last.
    public static func fitSearch(input: Int, extent: Int, stride: Int, chosen: Int) -> String {
        func step(_ pad: Int) -> String {
            let span = input - extent + 2 * pad
            let value = span % stride == 0 ? signed(floorDivide(span, stride)) : decimal(span, stride, plus: 0)
            return "P = \(pad): (\(input) − \(extent) + \(2 * pad))/\(stride) = \(value) \(span >= 0 && span % stride == 0 ? "✓" : "✗")"
        }
        // The pad can be as large as a hostile kernel: the steps shown are counted, not listed.
        let last = max(chosen, 0)
        let shown = last >= 6 ? [0, 1, 2].map(step) + ["…"] + [last - 1, last].map(step) : (0...last).map(step)
        return shown.joined(separator: ", ")
    }

    /// Why no symmetric pad up to `limit` fits, for a note.
    static func noFitReason(input: Int, extent: Int, stride: Int, limit: Int, isPool: Bool) -> String {
        let difference = input - extent
        if stride % 2 == 0 && difference % 2 != 0 {
            return "no symmetric padding fits: \(input) − \(extent) = \(signed(difference)) is odd and the stride \(stride) is even, so \(input) − \(extent) + 2P is odd for every P"
        }
        let why = isPool ? "a pool's padding is at most half its window" : "a wider pad would make windows of padding only"
        return "no symmetric padding up to pad \(limit) fits (\(why))"
    }

    /// The notes of a stride that does not fit one axis (or both alike): the smallest symmetric
    /// pad that fits, or why none does and what does instead; for a pool, `round ceil`.
    static func fitHints(_ a: SizeArithmetic, isPool: Bool, axis: String) -> [String] {
        var hints: [String] = []
        let limit = padLimit(extent: a.extent, isPool: isPool)
        let onAxis = axis == "width and height" ? "" : " on the \(axis)"
        if let pad = fittingPad(input: a.input, extent: a.extent, stride: a.stride, limit: limit) {
            let output = (a.input - a.extent + 2 * pad) / a.stride + 1
            let formula = formula(input: a.input, extent: a.extent, padBefore: pad, padAfter: pad, stride: a.stride)
            hints.append("with pad \(pad)\(onAxis) the stride fits: \(formula) = \(output) ('pad fit' chooses it)")
        } else {
            hints.append(noFitReason(input: a.input, extent: a.extent, stride: a.stride, limit: limit, isPool: isPool))
            let same = samePadding(input: a.input, extent: a.extent, stride: a.stride)
            if (a.input - a.extent + same.before + same.after) % a.stride == 0 {
                hints.append("'pad same' fits: \(sameSplit(same, axis: axis)), for an output of ⌈\(a.input)/\(a.stride)⌉ = \((a.input + a.stride - 1) / a.stride)")
            }
        }
        if isPool && !a.ceilMode {
            let output = ceilOutput(input: a.input, padBefore: a.padBefore, span: a.span, stride: a.stride)
            hints.append("or 'round ceil' rounds the size up instead, as PyTorch's ceil_mode: \(output)")
        }
        return hints
    }

    /// `1 left, 2 right` for the width, `1 top, 2 bottom` for the height, both for both.
    static func sameSplit(_ split: (before: Int, after: Int), axis: String) -> String {
        let across = "\(split.before) left, \(split.after) right", down = "\(split.before) top, \(split.after) bottom"
        switch axis {
        case "width": return across
        case "height": return down
        default: return across + "; " + down
        }
    }
}
