// The Swift backend's side of NAME.weights (WeightBlob.swift): `init(blob:)`, which checks the
// header and the checksum as NAME_check_weights does and throws the same codes, and the C
// API's NAME_check_weights, NAME_weights_payload and NAME_weights_error.

struct SwiftWeightBlob {
    let program: LoweredProgram
    let prefix: String
    let typeName: String
    /// Once: its layout hash reads every weight slice's recipe.
    let header: WeightBlobHeader

    init(program: LoweredProgram, prefix: String, typeName: String) {
        self.program = program
        self.prefix = prefix
        self.typeName = typeName
        header = WeightBlobHeader(program: program)
    }

    /// The members of the public class: the error type, the expected header, init(blob:) and the check.
    var classMembers: String {
        let cases = WeightBlobProblem.allCases
        let magic = WeightBlobHeader.magic.map { "0x" + String($0, radix: 16) }.joined(separator: ", ")
        let descriptions = cases.map { problem in
            "            case .\(caseName(problem)): \(stringLiteral(problem.message(target: header.targetName)))"
        }.joined(separator: "\n")
        return """

                /// Why `init(blob:)` refused a weights file; the codes of `\(prefix)_check_weights`.
                public enum WeightsError: Int32, Error, CustomStringConvertible {
                    case \(cases.map { "\(caseName($0)) = \($0.rawValue)" }.joined(separator: ", "))

                    public var description: String {
                        switch self {
            \(descriptions)
                        }
                    }
                }

                /// Bytes of `\(prefix).weights`: a \(WeightBlobHeader.size)-byte header, then the floats.
                public static let weightsBytes = \(WeightBlobHeader.size + 4 * program.weightCount)
                /// The layout the header must name: \(header.targetName), and the hash of this network's layout.
                static let weightsTarget: [UInt64] = [\(header.targetID), \(header.floatsPerVector), \(header.channelBlock)]
                static let weightsLayoutHash: UInt64 = 0x\(String(header.layoutHash, radix: 16))

                /// `\(prefix).weights` as read from its file (`cnnc compile --weights W` writes it):
                /// throws a `WeightsError` unless its header and checksum are this network's.
                public convenience init(blob: [UInt8]) throws {
                    if let problem = blob.withUnsafeBytes({ Self.checkWeights($0) }) { throw problem }
                    let weights = blob.withUnsafeBytes { bytes in
                        (0..<Self.weightCount).map { Float(bitPattern: UInt32(Self.field(bytes, \(WeightBlobHeader.size) + 4 * $0, 4))) }
                    }
                    self.init(weights: weights)
                }

                /// A little-endian field of the blob, read byte by byte.
                static func field(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ count: Int) -> UInt64 {
                    var value: UInt64 = 0
                    for index in (offset..<offset + count).reversed() { value = value << 8 | UInt64(bytes[index]) }
                    return value
                }

                /// nil when `bytes` is the blob this class reads, else why not.
                static func checkWeights(_ bytes: UnsafeRawBufferPointer) -> WeightsError? {
                    guard bytes.count >= \(WeightBlobHeader.size) else { return .tooShort }
                    guard bytes.prefix(8).elementsEqual([\(magic)] as [UInt8]) else { return .notWeights }
                    guard field(bytes, 8, 4) == \(WeightBlobHeader.formatVersion) else { return .otherVersion }
                    guard [field(bytes, 12, 4), field(bytes, 16, 4), field(bytes, 20, 4)] == weightsTarget else { return .otherTarget }
                    guard field(bytes, 32, 8) == weightsLayoutHash else { return .otherNetwork }
                    guard field(bytes, 24, 8) == UInt64(weightCount), bytes.count == weightsBytes else { return .badSize }
                    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
                    for offset in stride(from: \(WeightBlobHeader.size), to: bytes.count, by: 4) {
                        hash ^= field(bytes, offset, 4)
                        hash = hash &* 0x0000_0100_0000_01b3
                    }
                    return hash == field(bytes, 40, 8) ? nil : .badChecksum
                }
            """
    }

    /// The C API's blob functions, after the class.
    var cAPI: String {
        let errors = WeightBlobProblem.allCases.map { problem in
            "    case \(problem.rawValue): text = \(stringLiteral(problem.message(target: header.targetName)))"
        }.joined(separator: "\n")
        return """

            /// 0 when `blob` (`bytes` long) is this network's \(prefix).weights, else a \(typeName).WeightsError code.
            @_cdecl("\(prefix)_check_weights")
            public func \(prefix)_check_weights(_ blob: UnsafeRawPointer?, _ bytes: Int) -> Int32 {
                guard let blob else { return \(WeightBlobProblem.tooShort.rawValue) }
                return \(typeName).checkWeights(UnsafeRawBufferPointer(start: blob, count: bytes))?.rawValue ?? 0
            }

            /// The floats after the blob's header: the `weights` argument of \(prefix)_run.
            @_cdecl("\(prefix)_weights_payload")
            public func \(prefix)_weights_payload(_ blob: UnsafeRawPointer?) -> UnsafePointer<Float>? {
                blob.map { ($0 + \(WeightBlobHeader.size)).assumingMemoryBound(to: Float.self) }
            }

            /// \(prefix)_check_weights' answer in words.
            @_cdecl("\(prefix)_weights_error")
            public func \(prefix)_weights_error(_ code: Int32) -> UnsafePointer<CChar> {
                let text: StaticString
                switch code {
                case 0: text = "the weights are the ones this code reads"
            \(errors)
                default: text = "not an answer of \(prefix)_check_weights"
                }
                return UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
            }

            """
    }

    func caseName(_ problem: WeightBlobProblem) -> String {
        switch problem {
        case .tooShort: "tooShort"
        case .magic: "notWeights"
        case .version: "otherVersion"
        case .otherTarget: "otherTarget"
        case .otherNetwork: "otherNetwork"
        case .size: "badSize"
        case .checksum: "badChecksum"
        }
    }
}
