import Foundation
import Parser

/// The receptive field in `--explain` (the recurrence with its numbers) and in `--json`.
extension CheckReport {
    /// `receptive field 6 + (5 − 1)·2 = 14  →  14x14;  jump 2·1 = 2;  start 2.5 + (2 − 0)·2 = 6.5`,
    /// once when width and height agree; layers that keep their input's field say so.
    public static func fieldExplanation(_ layer: CheckedLayer, in network: CheckedNetwork) -> String {
        let inputs = layer.inputs.map { network.receptiveField(of: $0) }
        let field = layer.receptiveField
        var size = "\(number(field.width.size))x\(number(field.height.size))"
        // The recurrence counts padding and does not stop at the image's edges; say when the
        // field has passed them.
        let image = network.input
        if !image.isVector && field.width.first <= 0 && field.width.last >= Double(image.width - 1)
            && field.height.first <= 0 && field.height.last >= Double(image.height - 1) {
            size += " (all of the \(image.width)x\(image.height) input)"
        }
        switch FieldRule.of(layer) {
        case .unchanged:
            return "receptive field \(size), \(jumpAndStart(field)) (unchanged)"
        case .union:
            return "receptive field \(size), \(jumpAndStart(field)) (the union of its inputs' fields)"
        case .windows(let across, let down):
            let w = steps(across, inputs[0].width, field.width), h = steps(down, inputs[0].height, field.height)
            if w == h { return "receptive field \(w.size)  →  \(size);  jump \(w.jump);  start \(w.start)" }
            return "receptive field width \(w.size), height \(h.size)  →  \(size);  jump width \(w.jump), height \(h.jump);  "
                + "start width \(w.start), height \(h.start)"
        }
    }

    private struct Steps: Equatable {
        var size: String
        var jump: String
        var start: String
    }

    /// The three recurrences on one axis with the numbers filled in.
    private static func steps(_ window: FieldWindow, _ input: FieldAxis, _ output: FieldAxis) -> Steps {
        let offset: String
        if let written = window.written {
            offset = "(\(number(Double(written.extent - 1) / 2)) − \(written.pad))"
        } else {
            offset = window.offset < 0 ? "(\(number(window.offset)))" : number(window.offset)
        }
        return Steps(size: "\(number(input.size)) + (\(number(window.cells)) − 1)·\(number(input.jump)) = \(number(output.size))",
                     jump: "\(number(input.jump))·\(number(window.step)) = \(number(output.jump))",
                     start: "\(number(input.start)) + \(offset)·\(number(input.jump)) = \(number(output.start))")
    }

    /// `jump 2, start 6.5`, or each axis when they differ.
    private static func jumpAndStart(_ field: ReceptiveField) -> String {
        func both(_ a: Double, _ b: Double) -> String { a == b ? number(a) : "\(number(a)) across, \(number(b)) down" }
        return "jump \(both(field.width.jump, field.height.jump)), start \(both(field.width.start, field.height.start))"
    }

    /// 14, 6.5, 0.333, −1.5: whole numbers bare, others to three decimals at most.
    static func number(_ value: Double, minus: String = "−") -> String {
        let text = jsonNumber(value)
        return text.hasPrefix("-") ? minus + text.dropFirst() : text
    }

    /// As `number`, with an ASCII minus, for JSON.
    static func jsonNumber(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        let thousandths = (value * 1000).rounded() / 1000
        var text = String(format: "%.3f", thousandths)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }
}

extension TextBuffer {
    /// `, "receptive_field": [14, 14], "jump": [2, 2], "start": [6.5, 6.5]`.
    mutating func writeField(_ field: ReceptiveField) {
        for (key, width, height) in [("receptive_field", field.width.size, field.height.size), ("jump", field.width.jump, field.height.jump),
                                     ("start", field.width.start, field.height.start)] {
            write(", \"\(key)\": [")
            write(CheckReport.jsonNumber(width))
            write(", ")
            write(CheckReport.jsonNumber(height))
            write("]")
        }
    }
}
