// Definitions the generated code shares between steps. A step's kernel function (fast C) or
// constants (plain C, Swift) is printed with a placeholder where its name goes; equal texts
// are one definition under one name, so the code grows with the number of distinct layers,
// not of layers (10,000 `fc 16` layers gave 125 MB of C that clang never finished). Sharing
// only identical texts keeps every kernel specialised exactly as it was.

struct SharedDefinitions {
    /// Stands for the definition's name in its text; a control character, which no generated
    /// text (comments included, see `commentText`) otherwise holds.
    static let placeholder = "\u{1}name\u{1}"

    var names: IdentifierTable
    /// The definitions so far, in order of first use, with their names filled in.
    private(set) var text = ""
    /// Distinct definitions so far.
    private(set) var count = 0
    private var byText: [String: String] = [:]

    init(names: IdentifierTable) {
        self.names = names
    }

    /// The name of `body` (which spells its name `placeholder`): the existing one when the same
    /// comment and body were defined before, else `makeName()`'s, after appending both. The
    /// comment (shapes, never a layer's name) is part of the key, so a shared definition's
    /// comment is true of every step that uses it.
    mutating func define(_ body: String, comment: String, makeName: (inout IdentifierTable) -> String) -> String {
        let key = comment + body
        if let name = byText[key] { return name }
        let name = makeName(&names)
        byText[key] = name
        count += 1
        text += "\n" + comment + body.replacingOccurrences(of: Self.placeholder, with: name)
        return name
    }

    /// `text` with the placeholder replaced by `name`.
    static func naming(_ text: String, _ name: String) -> String {
        text.replacingOccurrences(of: placeholder, with: name)
    }
}
