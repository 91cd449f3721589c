import Codegen
import Parser

/// A command's arguments: positional words, `--flag`s and `--option value`s, consumed as the
/// command asks for them by the name it declared in its `CommandSpec`; whatever is left over
/// is a usage error. Asking for an undeclared name, or declaring one never asked for, is a
/// programming error caught in debug builds (and so by the tests): usage, help and parsing
/// cannot drift apart.
struct Arguments {
    let spec: CommandSpec
    private var words: [String]
    private(set) var problems: [String] = []
    private var asked: Set<String> = []

    init(_ words: [String], spec: CommandSpec) {
        self.words = words
        self.spec = spec
    }

    private mutating func declaration(_ name: String, flag: Bool) -> OptionSpec {
        guard let option = spec.option(named: name), option.isFlag == flag else {
            preconditionFailure("cnnc \(spec.name): \(name) is not declared as a \(flag ? "flag" : "value option") in its CommandSpec")
        }
        asked.insert(option.name)
        return option
    }

    mutating func flag(_ name: String) -> Bool {
        let option = declaration(name, flag: true)
        var seen: String?
        for spelling in option.names {
            guard let i = words.firstIndex(of: spelling) else { continue }
            words.remove(at: i)
            if let first = seen {
                problems.append("\(spelling) is given twice (\(first) is the same flag)")
            } else {
                seen = spelling
            }
            if words.contains(spelling) {
                problems.append("\(spelling) is given twice")
                words.removeAll { $0 == spelling }
            }
        }
        return seen != nil
    }

    /// The value of the option `name` (any of its spellings); a second one is "given twice"
    /// rather than an unknown option and a stray positional word.
    mutating func option(_ name: String) -> String? {
        let names = declaration(name, flag: false).names
        guard let (first, value) = takeOption(names) else { return nil }
        while let (again, _) = takeOption(names) {
            problems.append("\(again) is given twice" + (again == first ? "" : " (\(first) is the same option)"))
        }
        return value
    }

    /// The first of `names` given, and its value; nil when none is (or it lacks a value).
    private mutating func takeOption(_ names: [String]) -> (name: String, value: String)? {
        for name in names {
            if let i = words.firstIndex(of: name) {
                guard i + 1 < words.count else {
                    problems.append("\(name) needs a value")
                    words.remove(at: i)
                    return nil
                }
                let value = words[i + 1]
                words.removeSubrange(i...(i + 1))
                return (name, value)
            }
            if let i = words.firstIndex(where: { $0.hasPrefix(name + "=") }) {
                let value = String(words[i].dropFirst(name.count + 1))
                words.remove(at: i)
                return (name, value)
            }
        }
        return nil
    }

    mutating func intOption(_ name: String, range: ClosedRange<Int>) -> Int? {
        guard let value = option(name) else { return nil }
        guard let n = Int(value), range.contains(n) else {
            problems.append("\(name) takes a whole number from \(range.lowerBound) to \(range.upperBound), not '\(value)'")
            return nil
        }
        return n
    }

    /// `--target avx512|avx2|neon|generic`: the vector unit the fast C kernels are blocked for
    /// (this machine's when absent).
    mutating func vectorTarget() -> VectorTarget {
        givenVectorTarget() ?? .host
    }

    /// The `--target` given, nil when there is none (or it is not a target, a usage problem).
    mutating func givenVectorTarget() -> VectorTarget? {
        chosen("--target", CLIChoices.target)
    }

    /// `--fusion automatic|never|always` (automatic when absent or not one of them, a usage problem).
    mutating func fusionPolicy() -> FusionPolicy { chosen("--fusion", CLIChoices.fusion) ?? .automatic }

    /// `--schedule automatic|whole-batch|image-by-image` (automatic when absent or not one of them).
    mutating func batchSchedule() -> BatchSchedule { chosen("--schedule", CLIChoices.schedule) ?? .automatic }

    /// The value of option `name`'s word among `choices`; a word not among them is a usage problem.
    private mutating func chosen<Value>(_ name: String, _ choices: [(word: String, value: Value)]) -> Value? {
        guard let text = option(name) else { return nil }
        if let match = choices.first(where: { $0.word == text }) { return match.value }
        problems.append("\(name) is one of \(choices.map(\.word).joined(separator: ", ")), not '\(text)'")
        return nil
    }

    /// The positional words left once options are taken; a leftover `--x` is a usage error.
    mutating func positional() -> [String] {
        let declared = Set(spec.options.map(\.name))
        assert(asked.isSuperset(of: declared),
               "cnnc \(spec.name) declares \(declared.subtracting(asked).sorted()) but never reads them")
        let known = spec.allOptions.flatMap(\.names)
        let unknown = words.filter { $0.hasPrefix("-") && $0 != "-" }
        problems += unknown.map { word in
            let guess = Self.suggestion(for: word, among: known)
            return "unknown option '\(word)'" + (guess.map { "; did you mean '\($0)'?" } ?? "")
        }
        let rest = words.filter { !($0.hasPrefix("-") && $0 != "-") }
        words = []
        return rest
    }

    /// Whether `words` ask for the command's help: `-h` or `--help` anywhere.
    static func asksForHelp(_ words: [String]) -> Bool {
        words.contains { $0 == "--help" || $0 == "-h" }
    }

    /// The closest known name, compared without the dashes (and a `=value`), so `--explian`
    /// finds `--explain`; one-letter words are too short to guess from.
    static func suggestion(for word: String, among names: [String]) -> String? {
        func bare(_ name: String) -> String {
            String(name.drop { $0 == "-" }.prefix { $0 != "=" })
        }
        let stem = bare(word)
        guard stem.count >= 2 else { return nil }
        let long = names.filter { bare($0).count >= 2 }
        return closestMatch(to: stem, among: long.map(bare)).flatMap { match in long.first { bare($0) == match } }
    }
}

/// The words of the choice options that pick a Codegen value, in the order help and completions list them.
enum CLIChoices {
    static let target: [(word: String, value: VectorTarget)] = VectorTarget.allCases.map { ($0.rawValue, $0) }
    static let fusion: [(word: String, value: FusionPolicy)] = [("automatic", .automatic), ("never", .never), ("always", .always)]
    static let schedule: [(word: String, value: BatchSchedule)] =
        [("automatic", .automatic), ("whole-batch", .wholeBatch), ("image-by-image", .imageByImage)]
}
