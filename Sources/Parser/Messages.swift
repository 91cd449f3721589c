/// Every message cnnc can say about a `.cnn` file, in one place (as the Swift compiler keeps
/// its own in DiagnosticsParse.def). The parser and the checker build diagnostics only from
/// these cases, so wording stays consistent and each has a stable id.
public enum Message: Sendable {
    // MARK: Lexical and syntax (Parser)
    case invalidUTF8(byte: UInt8)
    case notText(byte: UInt8, offset: Int)
    case invalidNumber(String)
    case numberTooLarge(String)
    case invalidSize(String)
    case unknownOperation(String)
    case unknownOption(word: String, op: String)
    case duplicateOption(String)
    case missingArgument(what: String, op: String)
    case expectedValue(what: String, after: String, found: String?)
    case unexpectedWord(word: String, op: String)
    case misplacedHeader(String)
    case duplicateStatement(String)
    case missingInput
    case layerBeforeInput
    case invalidInputSize(String)
    case invalidName(String)
    case missingLayerAfterName(String)
    case activationNotAllowed(activation: String, op: String)
    case fromNotAllowed(String)
    case needsTwoSources(String)
    case valueOutOfRange(what: String, value: String, range: String)

    // MARK: Semantics (ShapeCheck)
    case zeroValue(what: String, layer: String)
    case strideDoesNotFit(layer: String, axis: String)
    case exceedsLimit(layer: String, what: String)
    case poolPaddingTooLarge(layer: String)
    case kernelLargerThanInput(layer: String, axis: String)
    case noPaddingFits(layer: String, axis: String)
    case groupsDoNotDivide(layer: String, what: String)
    case sizeOverflow(layer: String)
    case duplicateName(String)
    case unknownLayer(String)
    case forwardReference(String)
    case selfReference(String)
    case shapeMismatch(layer: String, op: String)
    case needsVolume(layer: String, op: String)
    case sliceOutsideDepth(layer: String, end: Int, depth: Int)
    case paddingModeTooLarge(layer: String, mode: String, pad: Int, axis: String, size: Int)
    case maxoutDoesNotDivide(layer: String, pieces: Int, depth: Int)
    case outputPaddingTooLarge(layer: String, axis: String)
    case transposedOutputTooSmall(layer: String, axis: String)
    case alignCornersNeedsBilinear
    case unusedOutput(String)
    case emptyNetwork

    public var id: String {
        switch self {
        case .invalidUTF8: "invalid-utf8"
        case .notText: "not-text"
        case .invalidNumber: "invalid-number"
        case .numberTooLarge: "number-too-large"
        case .invalidSize: "invalid-size"
        case .unknownOperation: "unknown-operation"
        case .unknownOption: "unknown-option"
        case .duplicateOption: "duplicate-option"
        case .missingArgument: "missing-argument"
        case .expectedValue: "expected-value"
        case .unexpectedWord: "unexpected-word"
        case .misplacedHeader: "misplaced-header"
        case .duplicateStatement: "duplicate-statement"
        case .missingInput: "missing-input"
        case .layerBeforeInput: "layer-before-input"
        case .invalidInputSize: "invalid-input-size"
        case .invalidName: "invalid-name"
        case .missingLayerAfterName: "missing-layer"
        case .activationNotAllowed: "activation-not-allowed"
        case .fromNotAllowed: "from-not-allowed"
        case .needsTwoSources: "needs-two-sources"
        case .valueOutOfRange: "value-out-of-range"
        case .zeroValue: "zero-value"
        case .strideDoesNotFit: "stride-does-not-fit"
        case .exceedsLimit: "exceeds-limit"
        case .poolPaddingTooLarge: "pool-padding-too-large"
        case .kernelLargerThanInput: "kernel-larger-than-input"
        case .noPaddingFits: "no-padding-fits"
        case .groupsDoNotDivide: "groups-do-not-divide"
        case .sizeOverflow: "size-overflow"
        case .duplicateName: "duplicate-name"
        case .unknownLayer: "unknown-layer"
        case .forwardReference: "forward-reference"
        case .selfReference: "self-reference"
        case .shapeMismatch: "shape-mismatch"
        case .needsVolume: "needs-volume"
        case .sliceOutsideDepth: "slice-outside-depth"
        case .paddingModeTooLarge: "padding-mode-too-large"
        case .maxoutDoesNotDivide: "maxout-does-not-divide"
        case .outputPaddingTooLarge: "output-padding-too-large"
        case .transposedOutputTooSmall: "transposed-output-too-small"
        case .alignCornersNeedsBilinear: "aligncorners-needs-bilinear"
        case .unusedOutput: "unused-output"
        case .emptyNetwork: "empty-network"
        }
    }

    public var severity: Severity {
        switch self {
        case .strideDoesNotFit, .unusedOutput: .warning
        default: .error
        }
    }

    public var text: String {
        switch self {
        case .invalidUTF8(let byte):
            "byte \(hexByte(byte)) is not valid UTF-8"
        case .notText(let byte, let offset):
            "not a text file: byte \(hexByte(byte)) at offset \(offset)"
        case .invalidNumber(let w):
            "'\(w)' is not a number"
        case .numberTooLarge(let w):
            "the number \(w) is too large"
        case .invalidSize(let w):
            "'\(w)' is not a size; write W, WxH or WxHxD with a lower-case x and no spaces"
        case .unknownOperation(let w):
            "unknown operation '\(w)'"
        case .unknownOption(let w, let op):
            "'\(w)' is not an option of \(op)"
        case .duplicateOption(let w):
            "'\(w)' is given twice"
        case .missingArgument(let what, let op):
            "\(op) needs \(what)"
        case .expectedValue(let what, let after, let found):
            if let found { "expected \(what) after '\(after)', found '\(found)'" } else { "expected \(what) after '\(after)'" }
        case .unexpectedWord(let w, let op):
            "unexpected '\(w)' in \(op)"
        case .misplacedHeader(let w):
            "'\(w)' must come before the input and the layers"
        case .duplicateStatement(let w):
            "'\(w)' is given more than once"
        case .missingInput:
            "the network has no 'input' line"
        case .layerBeforeInput:
            "a layer comes before the 'input' line"
        case .invalidInputSize(let w):
            "input must be WxHxD (a volume) or N (a vector), not '\(w)'"
        case .invalidName(let w):
            "'\(w)' is not a valid name; names are letters, digits, '_', '.' and '-', starting with a letter or '_'"
        case .missingLayerAfterName(let n):
            "'\(n):' names no layer"
        case .activationNotAllowed(let a, let op):
            "a trailing '\(a)' is allowed on conv, deconv, depthwise, fc, pointwise, add, concat and mul, not on \(op)"
        case .fromNotAllowed(let op):
            "'from' does not apply to \(op), which names its inputs"
        case .needsTwoSources(let op):
            "\(op) needs at least two layers to combine"
        case .valueOutOfRange(let what, let value, let range):
            "\(what) \(value) is out of range; it must be \(range)"
        case .zeroValue(let what, let layer):
            "\(layer): \(what) must be at least 1"
        case .strideDoesNotFit(let layer, let axis):
            "\(layer): the stride does not fit the \(axis); the output size is floored"
        case .exceedsLimit(let layer, let what):
            "\(layer): \(what) exceeds what cnnc can hold"
        case .poolPaddingTooLarge(let layer):
            "\(layer): a pool's padding must be at most half its window"
        case .kernelLargerThanInput(let layer, let axis):
            "\(layer): the kernel is larger than the padded input \(axis); the output would be below 1"
        case .noPaddingFits(let layer, let axis):
            "\(layer): 'pad fit' finds no symmetric padding with which the stride fits the \(axis)"
        case .groupsDoNotDivide(let layer, let what):
            "\(layer): groups must divide \(what)"
        case .sizeOverflow(let layer):
            "\(layer): a size or count overflows 64-bit integers"
        case .duplicateName(let n):
            "a layer named '\(n)' already exists"
        case .unknownLayer(let n):
            "no layer named '\(n)'"
        case .forwardReference(let n):
            "'\(n)' is defined later; a layer can only read layers above it"
        case .selfReference(let n):
            "'\(n)' cannot read its own output"
        case .shapeMismatch(let layer, let op):
            "\(layer): the inputs of \(op) do not have matching shapes"
        case .needsVolume(let layer, let op):
            "\(layer): \(op) needs a W×H×D volume, but its input is a vector"
        case .sliceOutsideDepth(let layer, let end, let depth):
            "\(layer): slice ends at channel \(end), past the input's depth \(depth)"
        case .paddingModeTooLarge(let layer, let mode, let pad, let axis, let size):
            mode == "reflect"
                ? "\(layer): reflect padding \(pad) must be less than the input \(axis) \(size)"
                : "\(layer): circular padding \(pad) must be at most the input \(axis) \(size)"
        case .maxoutDoesNotDivide(let layer, let pieces, let depth):
            "\(layer): maxout \(pieces) needs a depth that is a multiple of \(pieces), but the input depth is \(depth)"
        case .outputPaddingTooLarge(let layer, let axis):
            "\(layer): the \(axis) output padding must be smaller than the stride or the dilation"
        case .transposedOutputTooSmall(let layer, let axis):
            "\(layer): the padding removes the whole output \(axis); the output would be below 1"
        case .alignCornersNeedsBilinear:
            "'aligncorners' applies only to bilinear upsampling"
        case .unusedOutput(let n):
            "the output of '\(n)' is never used"
        case .emptyNetwork:
            "the network has no layers"
        }
    }
}

/// `0x89`: how a byte is named in a message.
func hexByte(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return "0x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 15)])
}
