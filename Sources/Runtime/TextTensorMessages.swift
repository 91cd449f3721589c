import Parser

/// What the text tensor reader can say about a `.txt` file, in one place, as Parser's
/// Messages.swift keeps the `.cnn` ones (and the number and UTF-8 messages come from there).
enum TextTensorMessage {
    case rowLength(found: Int, expected: Int)
    case channelHeight(found: Int, expected: Int)
    case itemChannels(found: Int, expected: Int)
    case separatorBeforeValues
    case valuesBeforeHeader
    case tensorWithoutValues(String)
    case repeatedTensor(String)
    case secondInputTensor(String)
    case inputHeader(String)
    case tensorShape(key: String, found: String, expected: String)
    case missingTensor(key: String, expected: String)
    case unexpectedTensor(key: String, network: String)
    case negativeVariance(key: String, value: String, index: Int)
    case fileWithoutValues

    var id: String {
        switch self {
        case .rowLength: "text-row-length"
        case .channelHeight: "text-channel-height"
        case .itemChannels: "text-item-channels"
        case .separatorBeforeValues: "text-separator-before-values"
        case .valuesBeforeHeader: "text-values-before-header"
        case .tensorWithoutValues: "text-tensor-without-values"
        case .repeatedTensor: "text-repeated-tensor"
        case .secondInputTensor: "text-second-input-tensor"
        case .inputHeader: "text-input-header"
        case .tensorShape: "text-tensor-shape"
        case .missingTensor: "text-missing-tensor"
        case .unexpectedTensor: "text-unexpected-tensor"
        case .negativeVariance: "text-negative-variance"
        case .fileWithoutValues: "text-file-without-values"
        }
    }

    var text: String {
        switch self {
        case .rowLength(let found, let expected):
            "row has \(found) value\(found == 1 ? "" : "s"); the rows above have \(expected)"
        case .channelHeight(let found, let expected):
            "channel has \(found) row\(found == 1 ? "" : "s"); the channels above have \(expected)"
        case .itemChannels(let found, let expected):
            "item has \(found) channel\(found == 1 ? "" : "s"); the items above have \(expected)"
        case .separatorBeforeValues:
            "'--' comes before any values of this tensor"
        case .valuesBeforeHeader:
            "values come before any 'NAME:' header; in a weights file each tensor starts with its name and a colon"
        case .tensorWithoutValues(let name):
            "'\(name):' has no values"
        case .repeatedTensor(let name):
            "tensor '\(name)' is given more than once"
        case .secondInputTensor(let name):
            "'\(name):' starts a second tensor; an input file holds one (its header, if any, is 'input:')"
        case .inputHeader(let name):
            "an input file's header is 'input:' (or there is none), not '\(name):'"
        case .tensorShape(let key, let found, let expected):
            "\(key): found \(found), expected \(expected)"
        case .missingTensor(let key, let expected):
            "missing tensor '\(key)' (expected \(expected))"
        case .unexpectedTensor(let key, let network):
            "unexpected tensor '\(key)' (the network '\(network)' has no such parameter)"
        case .negativeVariance(let key, let value, let index):
            "\(key) has value \(value) at index \(index); a variance must be ≥ 0"
        case .fileWithoutValues:
            "the file holds no values"
        }
    }
}

extension Diagnostic {
    init(_ message: TextTensorMessage, at range: SourceRange, notes: [DiagnosticNote] = []) {
        self.init(id: message.id, severity: .error, message: message.text, at: range, notes: notes)
    }
}
