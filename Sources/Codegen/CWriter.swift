// C text whose indentation one value owns, so that no emitter counts spaces: a kernel says
// what its lines are and which scope they are in, and the writer indents them.

struct CWriter {
    private(set) var text = ""
    private var depth: Int

    /// A writer whose lines start `depth` levels in (four spaces each).
    init(depth: Int = 0) { self.depth = depth }

    /// Each line of `lines` at the current depth, its own leading spaces kept on top (so a
    /// literal keeps its inner shape); empty lines stay empty and `#` lines start in column 0.
    mutating func line(_ lines: String) {
        for line in lines.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.allSatisfy({ $0 == " " }) {
                text += "\n"
            } else if line.drop(while: { $0 == " " }).first == "#" {
                text += line.drop(while: { $0 == " " }) + "\n"
            } else {
                text += String(repeating: "    ", count: depth) + line + "\n"
            }
        }
    }

    /// Lines one level deeper.
    mutating func indented(_ body: (inout CWriter) -> Void) {
        depth += 1
        body(&self)
        depth -= 1
    }

    /// `header {`, the body one level deeper, `}`.
    mutating func scope(_ header: String, _ body: (inout CWriter) -> Void) {
        line(header + " {")
        indented(body)
        line("}")
    }

    /// `if (condition) {`, `then`, `} else {`, `otherwise`, `}`.
    mutating func ifElse(_ condition: String, _ then: (inout CWriter) -> Void, else otherwise: (inout CWriter) -> Void) {
        line("if (\(condition)) {")
        indented(then)
        line("} else {")
        indented(otherwise)
        line("}")
    }

    /// A function: its signature, then `{` and `}` on lines of their own around the body.
    mutating func function(_ signature: String, _ body: (inout CWriter) -> Void) {
        line(signature)
        line("{")
        indented(body)
        line("}")
    }
}

extension FastCEmitter {
    /// A step's task function `fn`: declares `int counter`, `integers` and `locals` (whole
    /// declarations), runs `setup`, then `body` once per task `counter` in [begin, end).
    /// `scratch` is the thread's scratch (Winograd's tiles); other kernels leave it unused.
    func taskFunction(_ fn: String, counter: String = "t", integers: [String] = [], locals: [String] = [],
                      usesScratch: Bool = false, setup: (inout CWriter) -> Void = { _ in },
                      body: (inout CWriter) -> Void) -> String {
        var c = CWriter()
        c.function("static void \(fn)(const cnnc_args *a, int begin, int end, float *scratch)") { c in
            c.line("int " + ([counter] + integers).joined(separator: ", ") + ";")
            for local in locals { c.line(local) }
            if !usesScratch { c.line("(void)scratch;") }
            setup(&c)
            c.scope("for (\(counter) = begin; \(counter) < end; \(counter)++)", body)
        }
        return c.text
    }

    /// `cv16` accumulators `names` started from the 16 biases at `bias` (or zero).
    func startAccumulators(_ names: [String], bias: Bool, _ c: inout CWriter) {
        if bias {
            c.line("{ const cv16 b = cv_load(bias); " + names.map { "\($0) = b;" }.joined(separator: " ") + " }")
        } else {
            c.line("(void)bias;")
            c.line(names.map { "\($0) = cv_zero();" }.joined(separator: " "))
        }
    }
}
