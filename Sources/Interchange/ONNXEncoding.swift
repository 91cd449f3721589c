/// The ONNX messages written back in the wire format, with onnx.proto's field numbers: what
/// the tests build models with, and what `cnnc export` will write. Decoding what is encoded
/// gives the same values back.
extension ONNXModel {
    public func encoded() -> [UInt8] {
        var w = ProtobufWriter()
        w.int64(1, irVersion)
        if !producerName.isEmpty { w.string(2, producerName) }
        if !producerVersion.isEmpty { w.string(3, producerVersion) }
        if hasGraph { w.message(7) { graph.encode(&$0) } }
        for set in opsets {
            w.message(8) { inner in
                if !set.domain.isEmpty { inner.string(1, set.domain) }
                inner.int64(2, set.version)
            }
        }
        return w.bytes
    }
}

extension ONNXGraph {
    public func encode(_ w: inout ProtobufWriter) {
        for node in nodes { w.message(1) { node.encode(&$0) } }
        if !name.isEmpty { w.string(2, name) }
        for tensor in initializers { w.message(5) { tensor.encode(&$0) } }
        for info in inputs { w.message(11) { info.encode(&$0) } }
        for info in outputs { w.message(12) { info.encode(&$0) } }
        for info in valueInfo { w.message(13) { info.encode(&$0) } }
    }
}

extension ONNXNode {
    public func encode(_ w: inout ProtobufWriter) {
        for input in inputs { w.string(1, input) }
        for output in outputs { w.string(2, output) }
        if !name.isEmpty { w.string(3, name) }
        w.string(4, opType)
        for attribute in attributes { w.message(5) { attribute.encode(&$0) } }
        if !domain.isEmpty { w.string(7, domain) }
    }
}

extension ONNXAttribute {
    public func encode(_ w: inout ProtobufWriter) {
        w.string(1, name)
        if let f { w.float(2, f) }
        if let i { w.int64(3, i) }
        if let s { w.bytes(4, s) }
        for tensor in t { w.message(5) { tensor.encode(&$0) } }
        if let graph = graphs.first, kind == .graph { w.message(6) { graph.encode(&$0) } }
        if !floats.isEmpty { w.packedFloats(7, floats) }
        if !ints.isEmpty { w.packedInt64s(8, ints) }
        for string in strings { w.bytes(9, string) }
        for tensor in tensors { w.message(10) { tensor.encode(&$0) } }
        if kind == .graphs { for graph in graphs { w.message(11) { graph.encode(&$0) } } }
        w.int64(20, type)
    }

    public static func int(_ name: String, _ value: Int64) -> ONNXAttribute {
        var a = ONNXAttribute()
        a.name = name
        a.type = Kind.int.rawValue
        a.i = value
        return a
    }

    public static func float(_ name: String, _ value: Float) -> ONNXAttribute {
        var a = ONNXAttribute()
        a.name = name
        a.type = Kind.float.rawValue
        a.f = value
        return a
    }

    public static func ints(_ name: String, _ values: [Int64]) -> ONNXAttribute {
        var a = ONNXAttribute()
        a.name = name
        a.type = Kind.ints.rawValue
        a.ints = values
        return a
    }

    public static func floats(_ name: String, _ values: [Float]) -> ONNXAttribute {
        var a = ONNXAttribute()
        a.name = name
        a.type = Kind.floats.rawValue
        a.floats = values
        return a
    }

    public static func string(_ name: String, _ value: String) -> ONNXAttribute {
        var a = ONNXAttribute()
        a.name = name
        a.type = Kind.string.rawValue
        a.s = Array(value.utf8)
        return a
    }

    public static func graph(_ name: String, _ graph: ONNXGraph) -> ONNXAttribute {
        var a = ONNXAttribute()
        a.name = name
        a.type = Kind.graph.rawValue
        a.graphs = [graph]
        return a
    }
}

extension ONNXTensor {
    public func encode(_ w: inout ProtobufWriter) {
        if !dims.isEmpty { w.packedInt64s(1, dims) }
        w.int64(2, Int64(dataType))
        if !floatData.isEmpty { w.packedFloats(4, floatData) }
        if !int32Data.isEmpty { w.packedInt64s(5, int32Data) }
        if !int64Data.isEmpty { w.packedInt64s(7, int64Data) }
        if !name.isEmpty { w.string(8, name) }
        if let rawData { w.bytes(9, rawData) }
        if !doubleData.isEmpty {
            w.key(10, .lengthDelimited)
            w.varint(UInt64(doubleData.count * 8))
            for value in doubleData {
                let bits = value.bitPattern
                for i in 0..<8 { w.raw([UInt8(truncatingIfNeeded: bits >> (8 * UInt64(i)))]) }
            }
        }
        if let externalLocation {
            w.message(13) { entry in
                entry.string(1, "location")
                entry.string(2, externalLocation)
            }
            for (key, value) in [("offset", externalOffset), ("length", externalLength)] {
                guard let value else { continue }
                w.message(13) { entry in
                    entry.string(1, key)
                    entry.string(2, "\(value)")
                }
            }
        }
        if dataLocation != 0 { w.int64(14, dataLocation) }
    }

    /// A FLOAT tensor with its values in raw_data, little-endian, as onnx writes weights.
    public static func float(_ name: String, dims: [Int64], _ values: [Float]) -> ONNXTensor {
        var t = ONNXTensor()
        t.name = name
        t.dims = dims
        t.dataType = DataType.float.rawValue
        var raw: [UInt8] = []
        raw.reserveCapacity(values.count * 4)
        for value in values {
            let bits = value.bitPattern
            for i in 0..<4 { raw.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt32(i)))) }
        }
        t.rawData = raw
        return t
    }

    public static func int64(_ name: String, dims: [Int64], _ values: [Int64]) -> ONNXTensor {
        var t = ONNXTensor()
        t.name = name
        t.dims = dims
        t.dataType = DataType.int64.rawValue
        t.int64Data = values
        return t
    }
}

extension ONNXValueInfo {
    public func encode(_ w: inout ProtobufWriter) {
        w.string(1, name)
        guard isTensor else { return }
        w.message(2) { type in
            type.message(1) { tensor in
                if let elemType { tensor.int64(1, Int64(elemType)) }
                if let dims {
                    tensor.message(2) { shape in
                        for dim in dims {
                            shape.message(1) { d in
                                switch dim {
                                case .value(let v): d.int64(1, v)
                                case .param(let p): d.string(2, p)
                                case .unknown: break
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// A FLOAT tensor value of the given dims.
    public static func tensor(_ name: String, _ dims: [Dimension]?) -> ONNXValueInfo {
        var info = ONNXValueInfo()
        info.name = name
        info.isTensor = true
        info.elemType = ONNXTensor.DataType.float.rawValue
        info.dims = dims
        return info
    }
}

extension ONNXNode {
    public static func make(_ opType: String, _ inputs: [String], _ outputs: [String], name: String = "",
                            _ attributes: [ONNXAttribute] = []) -> ONNXNode {
        var node = ONNXNode()
        node.opType = opType
        node.inputs = inputs
        node.outputs = outputs
        node.name = name
        node.attributes = attributes
        return node
    }
}
