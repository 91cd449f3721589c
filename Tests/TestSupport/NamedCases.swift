/// Values by name for parameterized tests: the names are the arguments, so each case reads as
/// its name in the test list, and the test looks its value up by that name.
public struct NamedCases<Value: Sendable>: Sendable {
    public let cases: [(name: String, value: Value)]

    public init(_ cases: [(String, Value)]) {
        self.cases = cases.map { (name: $0.0, value: $0.1) }
    }

    /// In the order written.
    public var names: [String] { cases.map(\.name) }

    public subscript(name: String) -> Value {
        guard let found = cases.first(where: { $0.name == name }) else { preconditionFailure("no case named '\(name)'") }
        return found.value
    }
}
