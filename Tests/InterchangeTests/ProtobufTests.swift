import Foundation
import Testing
@testable import Interchange

/// The wire format by hand: what the writer writes the reader reads back, every wire type is
/// skipped when unknown, repeated scalars come packed or not, and malformed bytes are errors
/// with the exact message and offset, never a crash or a hang.
struct ProtobufTests {
    @Test(arguments: [UInt64(0), 1, 127, 128, 300, 16_383, 16_384, UInt64(Int64.max), UInt64.max])
    func varintsRoundTrip(_ value: UInt64) throws {
        var w = ProtobufWriter()
        w.varint(value)
        #expect(w.bytes.count == max(1, (64 - value.leadingZeroBitCount + 6) / 7))
        var r = ProtobufReader(w.bytes, messageName: "M")
        #expect(try r.readVarint() == value)
        #expect(r.isAtEnd)
    }

    @Test func negativeInt64IsTenBytes() throws {
        var w = ProtobufWriter()
        w.int64(3, -1)
        #expect(w.bytes == [0x18] + Array(repeating: 0xFF, count: 9) + [0x01])
        var r = ProtobufReader(w.bytes, messageName: "M")
        let field = try #require(try r.nextField())
        #expect(field.number == 3 && field.wireType == .varint)
        #expect(try r.readInt64(field, "i") == -1)
    }

    /// Unknown fields of every wire type, groups nested in groups included, are skipped and
    /// the known field after them is read.
    @Test func unknownFieldsOfEveryWireTypeAreSkipped() throws {
        var w = ProtobufWriter()
        w.int64(100, 5)
        w.fixed64(101, 7)
        w.bytes(102, [1, 2, 3])
        w.key(103, .startGroup)
        w.int64(1, 1)
        w.key(104, .startGroup)
        w.fixed32(2, 9)
        w.key(104, .endGroup)
        w.key(103, .endGroup)
        w.fixed32(105, 3)
        w.string(2, "torch")
        let model = try ONNXModel.decode(w.bytes)
        #expect(model.producerName == "torch")
    }

    @Test func repeatedScalarsArePackedOrNot() throws {
        var tensor = ONNXTensor()
        tensor.dims = [2, 3]
        tensor.floatData = [1.5, -2]
        var packed = ProtobufWriter()
        tensor.encode(&packed)
        var unpacked = ProtobufWriter()
        for d in tensor.dims { unpacked.int64(1, d) }
        for f in tensor.floatData { unpacked.float(4, f) }
        for bytes in [packed.bytes, unpacked.bytes] {
            var r = ProtobufReader(bytes, messageName: "TensorProto")
            let decoded = try ONNXTensor.decode(&r, offset: 0)
            #expect(decoded.dims == [2, 3] && decoded.floatData == [1.5, -2])
        }
    }

    @Test func aModelRoundTrips() throws {
        let model = TinyModels.convRelu()
        let decoded = try ONNXModel.decode(model.encoded())
        #expect(decoded.irVersion == model.irVersion && decoded.opsets == model.opsets)
        #expect(decoded.graph.nodes.map(\.opType) == ["Conv", "Relu"])
        #expect(decoded.graph.nodes[0].attribute("pads")?.ints == [1, 1, 1, 1])
        #expect(decoded.graph.initializers.map(\.name) == ["c.weight", "c.bias"])
        #expect(decoded.graph.inputs.first?.dims == [.param("N"), .value(1), .value(5), .value(5)])
        #expect(try decoded.graph.initializers[0].constant() == model.graph.initializers[0].constant())
        #expect(decoded.encoded() == model.encoded())
    }

    // MARK: Hostile bytes: exact messages

    static func decodeError(_ bytes: [UInt8]) -> String? {
        do {
            _ = try ONNXModel.decode(bytes)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func hostileBytesGiveExactErrors() {
        let cases: [([UInt8], String)] = [
            ([0x08, 0x80], "ModelProto: a varint runs past the end of the message at byte offset 1"),
            ([0x08] + Array(repeating: 0xFF, count: 10) + [0x01], "ModelProto: a varint is longer than 10 bytes at byte offset 1"),
            ([0x08] + Array(repeating: 0xFF, count: 9) + [0x02], "ModelProto: a varint overflows 64 bits at byte offset 1"),
            ([0x3A, 0x05, 0x00], "ModelProto: a length of 5 bytes runs past the end of the message (1 byte left) at byte offset 1"),
            ([0x3A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
             "ModelProto: a length of 9223372036854775807 bytes runs past the end of the message (0 bytes left) at byte offset 1"),
            ([0x0F], "ModelProto: field 1 has wire type 7, which protobuf does not define at byte offset 0"),
            ([0x00], "ModelProto: field number 0 is out of protobuf's range 1...536870911 at byte offset 0"),
            // Field 9 is not one of ModelProto's: skipped, as a group.
            ([0x4C], "ModelProto: an end-group for field 9 without its start at byte offset 0"),
            ([0x4B, 0x08, 0x01], "ModelProto: the group of field 9 has no end at byte offset 0"),
            ([0x4B, 0x54], "ModelProto: the group of field 9 ends with field 10 at byte offset 1"),
            ([0x0A, 0x00], "ModelProto.ir_version (field 1) has wire type length-delimited, expected varint at byte offset 0"),
            ([0x29, 1, 2, 3], "ModelProto: a fixed64 value needs 8 bytes, but the message has 3 bytes left at byte offset 1"),
            // A graph whose node's attribute holds a float run of 3 bytes.
            ([0x3A, 0x07, 0x0A, 0x05, 0x2A, 0x03, 0x3A, 0x01, 0x00],
             "AttributeProto.floats: a packed run of 1 bytes is not a whole number of 4-byte floats at byte offset 7"),
        ]
        for (bytes, message) in cases {
            #expect(Self.decodeError(bytes) == message, "\(bytes)")
        }
    }

    /// A graph in an If's branch in a graph … 100 deep stops at the limit, by offset.
    @Test func deepNestingIsRefused() throws {
        var graph = ONNXGraph()
        for _ in 0..<100 {
            var inner = ONNXGraph()
            inner.nodes = [ONNXNode.make("If", ["c"], ["y"], [.graph("then_branch", graph)])]
            graph = inner
        }
        var model = ONNXModel()
        model.graph = graph
        model.hasGraph = true
        let bytes = model.encoded()
        // Model → Graph → Node → Attribute → Graph → …: the 65th level is a NodeProto, and the
        // offset is that node's key (field 1, length-delimited).
        let message = Self.decodeError(bytes) ?? ""
        let prefix = "NodeProto is nested more than 64 messages deep at byte offset "
        #expect(message.hasPrefix(prefix), "\(message)")
        let offset = try #require(Int(message.dropFirst(prefix.count)))
        #expect(bytes[offset] == 0x0A)
        // Groups have no length to skip by; they are counted too.
        let groups = [UInt8](repeating: 0x4B, count: 200) + [UInt8](repeating: 0x4C, count: 200)
        #expect(Self.decodeError(groups) == "ModelProto: groups are nested more than 64 deep at byte offset 64")
    }

    /// Every prefix of a valid model either decodes (it ends between fields) or is an error;
    /// thousands of random corruptions likewise, in well under a few seconds.
    @Test func truncationsAndCorruptionsNeverCrash() throws {
        let valid = TinyModels.convRelu().encoded()
        var errors = 0
        for length in 0..<valid.count where Self.decodeError(Array(valid[..<length])) != nil { errors += 1 }
        #expect(errors > valid.count / 2)
        let start = ContinuousClock.now
        var decoded = 0, failed = 0
        forEachCorruption(of: valid, seed: 21, runs: 4000, perCopy: 3) { bytes in
            if Self.decodeError(bytes) == nil { decoded += 1 } else { failed += 1 }
        }
        #expect(decoded + failed == 4000 && failed > 0)
        #expect(ContinuousClock.now - start < .seconds(20))
    }
}
