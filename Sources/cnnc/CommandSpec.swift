/// Every command's arguments, declared once: parsing (`Arguments`), the usage line, `--help`
/// (`HelpText`) and the shell completions (`Completions`) are all read from these values, so
/// none of them can name an option another does not know.
struct OptionSpec: Sendable {
    /// What the shell offers after the option, or for a positional argument.
    enum Completion: Sendable, Equatable {
        case nothing
        /// Files with one of these extensions (and directories, to walk into).
        case files([String])
        case anyFile
        case directories
        case choices([String])
    }

    /// The long name first (`--weights`), then its short spellings (`-w`).
    let names: [String]
    /// The value's name in usage and help (`W`); nil for a flag.
    let value: String?
    let help: String
    let defaultValue: String?
    /// Shown without brackets in the usage line.
    let required: Bool
    let completion: Completion

    var name: String { names[0] }
    var isFlag: Bool { value == nil }

    static func flag(_ name: String, help: String) -> OptionSpec {
        OptionSpec(names: [name], value: nil, help: help, defaultValue: nil, required: false, completion: .nothing)
    }

    static func option(_ names: String..., value: String, help: String, default defaultValue: String? = nil,
                      required: Bool = false, completion: Completion = .nothing) -> OptionSpec {
        OptionSpec(names: names, value: value, help: help, defaultValue: defaultValue, required: required,
                   completion: completion)
    }

    /// An option whose value is one of `choices`, shown as `c|swift`.
    static func choice(_ name: String, _ choices: [String], help: String, default defaultValue: String? = nil) -> OptionSpec {
        OptionSpec(names: [name], value: choices.joined(separator: "|"), help: help, defaultValue: defaultValue,
                   required: false, completion: .choices(choices))
    }

    /// `--weights W [--ignore-extra-weights]`, the same on run, compile and bench.
    static let weights = option("--weights", "-w", value: "W", help: "the trained weights: safetensors (PyTorch's state_dict keys) or a .txt of tensors",
                               completion: .files(["safetensors", "txt"]))
    static let ignoreExtraWeights = flag("--ignore-extra-weights",
                                         help: "load a weights file that also holds tensors the network has no parameter for (they are listed on stderr)")
    /// `--target`: the vector unit the fast C kernels are blocked for.
    static let target = choice("--target", CLIChoices.target.map(\.word),
                               help: "the vector unit the fast C kernels are blocked for", default: "this machine's")
    /// `--fusion` and `--schedule`: the fast C planner's choices, forced (compile and bench).
    static let fusion = choice("--fusion", CLIChoices.fusion.map(\.word),
                               help: "fuse inverted residuals into one step (automatic: where the expanded tensor would leave the cache)",
                               default: "automatic")
    static let schedule = choice("--schedule", CLIChoices.schedule.map(\.word),
                                 help: "run a batch step by step over all images, or image by image (automatic: from the fc layers' weight)",
                                 default: "automatic")
    static let helpFlag = OptionSpec(names: ["--help", "-h"], value: nil, help: "show this help", defaultValue: nil,
                                 required: false, completion: .nothing)
}

/// A command's positional arguments: one network file, several, or a word.
struct PositionalSpec: Sendable {
    let value: String
    let help: String
    let repeats: Bool
    let completion: OptionSpec.Completion

    static let networkFile = PositionalSpec(value: "FILE", help: "the network, a .cnn file", repeats: false,
                                            completion: .files(["cnn"]))
}

struct CommandSpec: Sendable {
    let name: String
    /// One line, for `cnnc --help` and the completions.
    let summary: String
    /// What `cnnc COMMAND --help` says under the usage line; a paragraph.
    let discussion: String
    let positional: PositionalSpec?
    let options: [OptionSpec]
    let examples: [String]

    /// `-h`/`--help` is every command's; it is handled before the command parses.
    var allOptions: [OptionSpec] { options + [.helpFlag] }

    func option(named name: String) -> OptionSpec? {
        allOptions.first { $0.names.contains(name) }
    }

    /// `cnnc run FILE --input X [--weights W] …`: required options first, as written below.
    var usage: String {
        var parts = ["cnnc", name]
        if let positional { parts.append(positional.value + (positional.repeats ? "…" : "")) }
        for option in options where option.required { parts.append(Self.shown(option)) }
        for option in options where !option.required { parts.append("[\(Self.shown(option))]") }
        return parts.joined(separator: " ")
    }

    /// What follows a usage error: the usage line, and where the rest is.
    var usageError: String { "usage: \(usage)\n(cnnc \(name) --help lists every option)" }

    private static func shown(_ option: OptionSpec) -> String {
        option.value.map { "\(option.name) \($0)" } ?? option.name
    }
}
