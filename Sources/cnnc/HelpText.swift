/// `cnnc --help`, `cnnc COMMAND --help` and `cnnc help COMMAND`, rendered from the commands'
/// declarations: every option with its value, a line of help, its default.
enum HelpText {
    /// Help lines are wrapped to fit an 80-column terminal.
    static let width = 80

    static func general(_ commands: [CommandSpec]) -> String {
        let names = commands.map(\.name) + ["help", "completions"]
        let column = (names.map(\.count).max() ?? 0) + 4
        var lines = ["usage: cnnc COMMAND [ARGUMENTS]", "", "commands:"]
        for command in commands { lines += entry("  " + command.name, command.summary, column: column) }
        lines += entry("  help", "show a command's options: cnnc help COMMAND (or cnnc COMMAND --help)", column: column)
        lines += entry("  completions", "print a shell completion script: cnnc completions bash|zsh|fish", column: column)
        lines += ["", "cnnc --version prints the version. docs/language.md is the full reference."]
        return lines.joined(separator: "\n")
    }

    static func command(_ spec: CommandSpec) -> String {
        var lines = ["usage: \(spec.usage)", ""]
        lines += wrap(spec.discussion, width: width)
        let rows: [(String, String)] = (spec.positional.map { [($0.value + ($0.repeats ? "…" : ""), $0.help)] } ?? [])
            + spec.allOptions.map { (label($0), describe($0)) }
        let column = min((rows.map(\.0.count).max() ?? 0) + 4, 30)
        if let positional = spec.positional {
            lines += ["", "arguments:"]
            lines += entry("  " + positional.value + (positional.repeats ? "…" : ""), positional.help, column: column)
        }
        lines += ["", "options:"]
        for option in spec.allOptions { lines += entry("  " + label(option), describe(option), column: column) }
        if !spec.examples.isEmpty {
            lines += ["", "examples:"] + spec.examples.map { "  " + $0 }
        }
        return lines.joined(separator: "\n")
    }

    /// `-w, --weights W`: short spellings first, as most tools print them.
    static func label(_ option: OptionSpec) -> String {
        let names = (option.names.dropFirst() + [option.name]).joined(separator: ", ")
        return option.value.map { "\(names) \($0)" } ?? names
    }

    private static func describe(_ option: OptionSpec) -> String {
        var text = option.help
        if option.required { text += " (required)" }
        if let value = option.defaultValue { text += " (default: \(value))" }
        return text
    }

    /// The label, then the text from `column` on, wrapped; a label too long for the column
    /// puts the text on the next line.
    private static func entry(_ label: String, _ text: String, column: Int) -> [String] {
        let body = wrap(text, width: width - column)
        let pad = String(repeating: " ", count: column)
        guard label.count + 2 <= column else { return [label] + body.map { pad + $0 } }
        return body.enumerated().map { index, line in
            (index == 0 ? label + String(repeating: " ", count: column - label.count) : pad) + line
        }
    }

    /// Words into lines of at most `width` characters (a longer word gets its own line).
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            if line.isEmpty {
                line = String(word)
            } else if line.count + 1 + word.count <= width {
                line += " " + word
            } else {
                lines.append(line)
                line = String(word)
            }
        }
        if !line.isEmpty || lines.isEmpty { lines.append(line) }
        return lines
    }
}
