/// The ONNX messages cnnc reads (onnx/onnx.proto), decoded into plain values. Fields cnnc has
/// no use for (doc strings, metadata, training info, functions, sparse tensors) are skipped;
/// a known field with the wrong wire type is an error, as is a message nested too deep.

public struct ONNXModel: Sendable {
    public var irVersion: Int64 = 0
    public var opsets: [OperatorSet] = []
    public var producerName = ""
    public var producerVersion = ""
    public var graph = ONNXGraph()
    /// Whether the file had a graph field at all.
    public var hasGraph = false

    public struct OperatorSet: Sendable, Equatable {
        public var domain: String
        public var version: Int64
    }

    public init() {}

    /// The version of the default operator set ("" or "ai.onnx"), nil when it is not imported.
    public var defaultOpset: Int64? {
        opsets.last { $0.domain.isEmpty || $0.domain == "ai.onnx" }?.version
    }
}

public struct ONNXGraph: Sendable {
    public var name = ""
    public var nodes: [ONNXNode] = []
    public var initializers: [ONNXTensor] = []
    public var inputs: [ONNXValueInfo] = []
    public var outputs: [ONNXValueInfo] = []
    public var valueInfo: [ONNXValueInfo] = []
    public var sparseInitializerCount = 0

    public init() {}
}

public struct ONNXNode: Sendable {
    public var inputs: [String] = []
    public var outputs: [String] = []
    public var name = ""
    public var opType = ""
    public var domain = ""
    public var attributes: [ONNXAttribute] = []
    /// Where the node starts in the file, for messages.
    public var offset = 0

    public init() {}

    public func attribute(_ name: String) -> ONNXAttribute? { attributes.last { $0.name == name } }
}

public struct ONNXAttribute: Sendable {
    /// AttributeProto.AttributeType's values cnnc tells apart.
    public enum Kind: Int64, Sendable {
        case undefined = 0, float = 1, int = 2, string = 3, tensor = 4, graph = 5, floats = 6, ints = 7, strings = 8
        case tensors = 9, graphs = 10, sparseTensor = 11, sparseTensors = 12, typeProto = 13, typeProtos = 14
    }

    public var name = ""
    public var type: Int64 = 0
    public var f: Float?
    public var i: Int64?
    public var s: [UInt8]?
    public var t: [ONNXTensor] = []
    /// The subgraph of `g` (If, Loop, Scan), and of `graphs`.
    public var graphs: [ONNXGraph] = []
    public var floats: [Float] = []
    public var ints: [Int64] = []
    public var strings: [[UInt8]] = []
    public var tensors: [ONNXTensor] = []

    public init() {}

    public var kind: Kind? { Kind(rawValue: type) }
    public var text: String? { s.map { String(decoding: $0, as: UTF8.self) } }
}

public struct ONNXTensor: Sendable {
    /// TensorProto.DataType's values.
    public enum DataType: Int32, Sendable {
        case undefined = 0, float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7, string = 8, bool = 9
        case float16 = 10, double = 11, uint32 = 12, uint64 = 13, complex64 = 14, complex128 = 15, bfloat16 = 16

        public var name: String {
            switch self {
            case .undefined: "UNDEFINED"
            case .float: "FLOAT"
            case .uint8: "UINT8"
            case .int8: "INT8"
            case .uint16: "UINT16"
            case .int16: "INT16"
            case .int32: "INT32"
            case .int64: "INT64"
            case .string: "STRING"
            case .bool: "BOOL"
            case .float16: "FLOAT16"
            case .double: "DOUBLE"
            case .uint32: "UINT32"
            case .uint64: "UINT64"
            case .complex64: "COMPLEX64"
            case .complex128: "COMPLEX128"
            case .bfloat16: "BFLOAT16"
            }
        }
    }

    public var name = ""
    public var dims: [Int64] = []
    public var dataType: Int32 = 0
    public var floatData: [Float] = []
    public var int32Data: [Int64] = []
    public var int64Data: [Int64] = []
    public var doubleData: [Double] = []
    public var rawData: [UInt8]?
    /// TensorProto.data_location: 1 is EXTERNAL (the data is in another file).
    public var dataLocation: Int64 = 0
    public var externalLocation: String?
    /// external_data's `offset` and `length` (nil: from 0, and to the end of the file).
    public var externalOffset: Int64?
    public var externalLength: Int64?
    public var offset = 0

    public init() {}

    public static func typeName(_ code: Int32) -> String {
        DataType(rawValue: code)?.name ?? "type \(code)"
    }
}

public struct ONNXValueInfo: Sendable {
    public enum Dimension: Sendable, Equatable, CustomStringConvertible {
        case value(Int64)
        case param(String)
        case unknown

        public var description: String {
            switch self {
            case .value(let v): "\(v)"
            case .param(let p): p.isEmpty ? "?" : p
            case .unknown: "?"
            }
        }
    }

    public var name = ""
    /// TypeProto.tensor_type.elem_type, nil when the value is not a tensor or says nothing.
    public var elemType: Int32?
    /// nil when the type has no shape (rank unknown).
    public var dims: [Dimension]?
    public var isTensor = false

    public init() {}
}

// MARK: - Decoding

extension ONNXModel {
    /// Decodes a whole ModelProto; `ProtobufError` names the byte offset of what is wrong.
    public static func decode(_ bytes: [UInt8]) throws(ProtobufError) -> ONNXModel {
        var reader = ProtobufReader(bytes, messageName: "ModelProto")
        var model = ONNXModel()
        while let field = try reader.nextField() {
            switch field.number {
            case 1: model.irVersion = try reader.readInt64(field, "ir_version")
            case 2: model.producerName = try reader.readStringField(field, "producer_name")
            case 3: model.producerVersion = try reader.readStringField(field, "producer_version")
            case 7:
                try reader.expect(field, .lengthDelimited, "graph")
                var inner = try reader.message("GraphProto", at: field.offset)
                model.graph = try ONNXGraph.decode(&inner)
                model.hasGraph = true
            case 8:
                try reader.expect(field, .lengthDelimited, "opset_import")
                var inner = try reader.message("OperatorSetIdProto", at: field.offset)
                var set = OperatorSet(domain: "", version: 0)
                while let f = try inner.nextField() {
                    switch f.number {
                    case 1: set.domain = try inner.readStringField(f, "domain")
                    case 2: set.version = try inner.readInt64(f, "version")
                    default: try inner.skip(f)
                    }
                }
                model.opsets.append(set)
            default: try reader.skip(field)
            }
        }
        return model
    }
}

extension ONNXGraph {
    static func decode(_ reader: inout ProtobufReader) throws(ProtobufError) -> ONNXGraph {
        var graph = ONNXGraph()
        while let field = try reader.nextField() {
            switch field.number {
            case 1:
                try reader.expect(field, .lengthDelimited, "node")
                var inner = try reader.message("NodeProto", at: field.offset)
                graph.nodes.append(try ONNXNode.decode(&inner, offset: field.offset))
            case 2: graph.name = try reader.readStringField(field, "name")
            case 5:
                try reader.expect(field, .lengthDelimited, "initializer")
                var inner = try reader.message("TensorProto", at: field.offset)
                graph.initializers.append(try ONNXTensor.decode(&inner, offset: field.offset))
            case 11, 12, 13:
                let name = field.number == 11 ? "input" : field.number == 12 ? "output" : "value_info"
                try reader.expect(field, .lengthDelimited, name)
                var inner = try reader.message("ValueInfoProto", at: field.offset)
                let info = try ONNXValueInfo.decode(&inner)
                switch field.number {
                case 11: graph.inputs.append(info)
                case 12: graph.outputs.append(info)
                default: graph.valueInfo.append(info)
                }
            case 15:
                try reader.skip(field)
                graph.sparseInitializerCount += 1
            default: try reader.skip(field)
            }
        }
        return graph
    }
}

extension ONNXNode {
    static func decode(_ reader: inout ProtobufReader, offset: Int) throws(ProtobufError) -> ONNXNode {
        var node = ONNXNode()
        node.offset = offset
        while let field = try reader.nextField() {
            switch field.number {
            case 1: node.inputs.append(try reader.readStringField(field, "input"))
            case 2: node.outputs.append(try reader.readStringField(field, "output"))
            case 3: node.name = try reader.readStringField(field, "name")
            case 4: node.opType = try reader.readStringField(field, "op_type")
            case 7: node.domain = try reader.readStringField(field, "domain")
            case 5:
                try reader.expect(field, .lengthDelimited, "attribute")
                var inner = try reader.message("AttributeProto", at: field.offset)
                node.attributes.append(try ONNXAttribute.decode(&inner))
            default: try reader.skip(field)
            }
        }
        return node
    }
}

extension ONNXAttribute {
    static func decode(_ reader: inout ProtobufReader) throws(ProtobufError) -> ONNXAttribute {
        var attribute = ONNXAttribute()
        while let field = try reader.nextField() {
            switch field.number {
            case 1: attribute.name = try reader.readStringField(field, "name")
            case 20: attribute.type = try reader.readInt64(field, "type")
            case 2: attribute.f = try reader.readFloat(field, "f")
            case 3: attribute.i = try reader.readInt64(field, "i")
            case 4:
                try reader.expect(field, .lengthDelimited, "s")
                attribute.s = try reader.readBytes()
            case 5, 10:
                try reader.expect(field, .lengthDelimited, field.number == 5 ? "t" : "tensors")
                var inner = try reader.message("TensorProto", at: field.offset)
                let tensor = try ONNXTensor.decode(&inner, offset: field.offset)
                if field.number == 5 { attribute.t.append(tensor) } else { attribute.tensors.append(tensor) }
            case 6, 11:
                try reader.expect(field, .lengthDelimited, field.number == 6 ? "g" : "graphs")
                var inner = try reader.message("GraphProto", at: field.offset)
                attribute.graphs.append(try ONNXGraph.decode(&inner))
            case 7: try reader.appendFloats(field, "floats", to: &attribute.floats)
            case 8: try reader.appendInt64s(field, "ints", to: &attribute.ints)
            case 9:
                try reader.expect(field, .lengthDelimited, "strings")
                attribute.strings.append(try reader.readBytes())
            default: try reader.skip(field)
            }
        }
        return attribute
    }
}

extension ONNXTensor {
    static func decode(_ reader: inout ProtobufReader, offset: Int) throws(ProtobufError) -> ONNXTensor {
        var tensor = ONNXTensor()
        tensor.offset = offset
        while let field = try reader.nextField() {
            switch field.number {
            case 1: try reader.appendInt64s(field, "dims", to: &tensor.dims)
            case 2: tensor.dataType = Int32(truncatingIfNeeded: try reader.readInt64(field, "data_type"))
            case 4: try reader.appendFloats(field, "float_data", to: &tensor.floatData)
            case 5: try reader.appendInt64s(field, "int32_data", to: &tensor.int32Data)
            case 7: try reader.appendInt64s(field, "int64_data", to: &tensor.int64Data)
            case 10: try reader.appendDoubles(field, "double_data", to: &tensor.doubleData)
            case 8: tensor.name = try reader.readStringField(field, "name")
            case 9:
                try reader.expect(field, .lengthDelimited, "raw_data")
                tensor.rawData = try reader.readBytes()
            case 14: tensor.dataLocation = try reader.readInt64(field, "data_location")
            case 13:
                try reader.expect(field, .lengthDelimited, "external_data")
                var inner = try reader.message("StringStringEntryProto", at: field.offset)
                var key = "", value = ""
                while let f = try inner.nextField() {
                    switch f.number {
                    case 1: key = try inner.readStringField(f, "key")
                    case 2: value = try inner.readStringField(f, "value")
                    default: try inner.skip(f)
                    }
                }
                switch key {
                case "location": tensor.externalLocation = value
                case "offset": tensor.externalOffset = Int64(value) ?? -1
                case "length": tensor.externalLength = Int64(value) ?? -1
                default: break
                }
            default: try reader.skip(field)
            }
        }
        return tensor
    }
}

extension ONNXValueInfo {
    static func decode(_ reader: inout ProtobufReader) throws(ProtobufError) -> ONNXValueInfo {
        var info = ONNXValueInfo()
        while let field = try reader.nextField() {
            switch field.number {
            case 1: info.name = try reader.readStringField(field, "name")
            case 2:
                try reader.expect(field, .lengthDelimited, "type")
                var type = try reader.message("TypeProto", at: field.offset)
                while let f = try type.nextField() {
                    guard f.number == 1 else { try type.skip(f); continue }
                    try type.expect(f, .lengthDelimited, "tensor_type")
                    info.isTensor = true
                    var tensorType = try type.message("TypeProto.Tensor", at: f.offset)
                    while let t = try tensorType.nextField() {
                        switch t.number {
                        case 1: info.elemType = Int32(truncatingIfNeeded: try tensorType.readInt64(t, "elem_type"))
                        case 2:
                            try tensorType.expect(t, .lengthDelimited, "shape")
                            var shape = try tensorType.message("TensorShapeProto", at: t.offset)
                            var dims: [Dimension] = []
                            while let d = try shape.nextField() {
                                guard d.number == 1 else { try shape.skip(d); continue }
                                try shape.expect(d, .lengthDelimited, "dim")
                                var dimension = try shape.message("TensorShapeProto.Dimension", at: d.offset)
                                var dim = Dimension.unknown
                                while let x = try dimension.nextField() {
                                    switch x.number {
                                    case 1: dim = .value(try dimension.readInt64(x, "dim_value"))
                                    case 2: dim = .param(try dimension.readStringField(x, "dim_param"))
                                    default: try dimension.skip(x)
                                    }
                                }
                                dims.append(dim)
                            }
                            info.dims = dims
                        default: try tensorType.skip(t)
                        }
                    }
                }
            default: try reader.skip(field)
            }
        }
        return info
    }
}
