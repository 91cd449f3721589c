/// Words that are right somewhere, but not where they were written: other frameworks'
/// spellings of options, values without their option, options of another operation. Each
/// gets one error saying what was meant, rather than an edit-distance guess at a wrong
/// keyword and a second error for the value after it.
extension Grammar {
    /// Keras's and PyTorch's argument names for options cnnc spells otherwise.
    static let habits: [String: String] = [
        "padding": "pad", "strides": "stride", "dilation_rate": "dilation", "padding_mode": "padmode",
        "output_padding": "outpad", "epsilon": "eps", "kernel_size": "", "filters": "",
    ]

    /// Values that are only read after an option: `same` after `pad`, `ceil` after `round`.
    static let valueOwners: [String: String] = ["same": "pad", "valid": "pad", "fit": "pad", "ceil": "round", "floor": "round"]

    /// Every option word of any operation, for telling a misplaced option from a misspelt one.
    static let allOptions: Set<String> = Set(operationKeywords.flatMap(options(of:)))

    /// The operations that take `option`, in the order the language lists them.
    static func operations(taking option: String) -> [String] {
        operationKeywords.filter { options(of: $0).contains(option) }
    }
}

/// "a, b and c"
func listed(_ words: [String]) -> String {
    words.count <= 1 ? words.joined() : words.dropLast().joined(separator: ", ") + " and " + words.last!
}
