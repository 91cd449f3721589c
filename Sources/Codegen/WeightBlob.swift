// NAME.weights: the packed weights behind a 64-byte header, so that a blob of another
// target, another network or a damaged file is refused by the code that would read it
// (NAME_check_weights, the Swift class's init(blob:)) instead of giving wrong numbers.
//
//   offset  bytes  field (little-endian)
//        0      8  magic "CNNCWTS\0"
//        8      4  format version (1)
//       12      4  target: 0 plain, 1 avx512, 2 avx2, 3 neon, 4 generic
//       16      4  floats per vector of the target (1 for plain)
//       20      4  channels per block of the layout (0 for plain)
//       24      8  floats in the payload
//       32      8  layout hash: FNV-1a 64 of the program's weight layout (`layoutDescription`)
//       40      8  payload checksum: FNV-1a 64 over the payload's 32-bit little-endian words
//       48     16  the target's name, NUL-padded
//       64      …  the payload: float32, little-endian, what NAME_run takes as `weights`
//
// The payload starts 64 bytes in, so a blob read into 64-byte-aligned memory hands the
// kernels aligned weights. The checksum goes word by word: one multiply per float keeps the
// check of ResNet-50's 100 MB near a tenth of a second.

/// The header of a packed weight blob and the checks the generated code makes of it.
public struct WeightBlobHeader: Sendable, Equatable {
    public static let size = 64
    public static let magic: [UInt8] = Array("CNNCWTS".utf8) + [0]
    public static let formatVersion: UInt32 = 1

    public var targetName: String
    public var targetID: UInt32
    public var floatsPerVector: UInt32
    public var channelBlock: UInt32
    public var floatCount: UInt64
    public var layoutHash: UInt64
    public var checksum: UInt64

    /// The header the generated code of `program` expects, for a payload of `checksum`.
    public init(program: LoweredProgram, checksum: UInt64 = 0) {
        let kind = WeightBlobTarget(program)
        targetName = kind.name
        targetID = kind.id
        floatsPerVector = kind.floatsPerVector
        channelBlock = kind.channelBlock
        floatCount = UInt64(program.weightCount)
        layoutHash = weightLayoutHash(program)
        self.checksum = checksum
    }

    /// The 64 bytes.
    public var bytes: [UInt8] {
        var out = Self.magic
        func put<T: FixedWidthInteger>(_ value: T) {
            for shift in stride(from: 0, to: T.bitWidth, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> shift)) }
        }
        put(Self.formatVersion); put(targetID); put(floatsPerVector); put(channelBlock)
        put(floatCount); put(layoutHash); put(checksum)
        let name = Array(targetName.utf8.prefix(15))
        out += name + [UInt8](repeating: 0, count: 16 - name.count)
        precondition(out.count == Self.size)
        return out
    }
}

/// The target fields of the header: the plain kernels read planar weights on any machine;
/// the fast ones read the layout blocked for one `--target`.
struct WeightBlobTarget {
    var name: String
    var id: UInt32
    var floatsPerVector: UInt32
    var channelBlock: UInt32

    init(_ program: LoweredProgram) {
        guard let target = program.kernelPlan?.options.target else {
            self.init(name: "plain", id: 0, floatsPerVector: 1, channelBlock: 0)
            return
        }
        let id: UInt32 = switch target {
        case .avx512: 1
        case .avx2: 2
        case .neon: 3
        case .generic: 4
        }
        self.init(name: target.rawValue, id: id, floatsPerVector: UInt32(max(target.facts.lanes, 1)),
                  channelBlock: UInt32(Codegen.channelBlock))
    }

    init(name: String, id: UInt32, floatsPerVector: UInt32, channelBlock: UInt32) {
        self.name = name
        self.id = id
        self.floatsPerVector = floatsPerVector
        self.channelBlock = channelBlock
    }
}

/// Why a blob was refused: NAME_check_weights' return codes, the same in C and Swift.
public enum WeightBlobProblem: Int32, Sendable, CaseIterable {
    case tooShort = 1, magic, version, otherTarget, otherNetwork, size, checksum

    /// The C macro's suffix: `LENET5_WEIGHTS_OTHER_TARGET`.
    public var macroSuffix: String {
        switch self {
        case .tooShort: "TOO_SHORT"
        case .magic: "NOT_WEIGHTS"
        case .version: "OTHER_VERSION"
        case .otherTarget: "OTHER_TARGET"
        case .otherNetwork: "OTHER_NETWORK"
        case .size: "BAD_SIZE"
        case .checksum: "BAD_CHECKSUM"
        }
    }

    /// What NAME_weights_error returns for it; `target` is the target the code was built for.
    /// No network name: the C's only strings are these, so a hostile name stays in comments.
    public func message(target: String) -> String {
        switch self {
        case .tooShort: "the weights are missing or shorter than their 64-byte header"
        case .magic: "not a cnnc weights file (no CNNCWTS header): write it with `cnnc compile --weights`"
        case .version: "a weights format this code does not read: write the weights and the code with one cnnc"
        case .otherTarget: "the weights are packed for other kernels than this code's ("
            + (target == "plain" ? "the plain ones, --plain" : "blocked for \(target), --target \(target)")
            + "): write the code and the weights with the same options"
        case .otherNetwork: "the weights are packed for another network or layout than this code's: "
            + "write the code and the weights with one cnnc compile"
        case .size: "the weights' size does not match their header (a truncated or padded file)"
        case .checksum: "the weights' checksum does not match: the file is damaged"
        }
    }
}

/// FNV-1a 64 over 32-bit words, as the generated code computes it.
public func weightChecksum(_ payload: [Float]) -> UInt64 {
    payload.withUnsafeBufferPointer { weightChecksum($0) }
}

public func weightChecksum(_ payload: UnsafeBufferPointer<Float>) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for value in payload {
        hash ^= UInt64(value.bitPattern)
        hash = hash &* 0x0000_0100_0000_01b3
    }
    return hash
}

/// The text the layout hash is of: every weight slice's place, size and recipe (keys, folds,
/// packing), and the program's shapes. Two programs that read their blobs alike give the same text.
func weightLayoutDescription(_ program: LoweredProgram) -> String {
    var lines = ["cnnc weights v\(WeightBlobHeader.formatVersion)", "floats \(program.weightCount)",
                 "input \(program.inputShape)", "output \(program.outputShape)",
                 "target \(WeightBlobTarget(program).name)"]
    for step in program.steps {
        for ref in step.kernel.weightRefs {
            lines.append("\(ref.offset) \(ref.count) \(ref.recipe)")
        }
    }
    return lines.joined(separator: "\n")
}

public func weightLayoutHash(_ program: LoweredProgram) -> UInt64 {
    HeaderSeal.hash(weightLayoutDescription(program))
}

/// NAME.weights: the header, then the payload as little-endian float32.
public func weightBlob(_ packed: [Float], for program: LoweredProgram) -> [UInt8] {
    precondition(packed.count == program.weightCount, "the packed weights do not fit the program")
    var bytes = WeightBlobHeader(program: program, checksum: weightChecksum(packed)).bytes
    bytes.reserveCapacity(WeightBlobHeader.size + packed.count * 4)
    for value in packed {
        let bits = value.bitPattern
        bytes.append(UInt8(truncatingIfNeeded: bits))
        bytes.append(UInt8(truncatingIfNeeded: bits >> 8))
        bytes.append(UInt8(truncatingIfNeeded: bits >> 16))
        bytes.append(UInt8(truncatingIfNeeded: bits >> 24))
    }
    return bytes
}

/// A string literal of `text` for C or Swift, which escape quotes and backslashes alike (the
/// messages it quotes are printable ASCII).
func stringLiteral(_ text: String) -> String {
    "\"" + text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
}
