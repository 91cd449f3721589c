/// A tensor whose values are known at import: an initializer, a Constant node, or a value
/// folded from them (torch's Shape → Gather → Unsqueeze → Concat before a Reshape). Float
/// types are held as Float (what cnnc's weights are), integer types as Int64.
struct ConstantTensor: Sendable, Equatable {
    var shape: [Int]
    var floats: [Float]
    var ints: [Int64]
    var isInteger: Bool

    static func float(_ shape: [Int], _ values: [Float]) -> ConstantTensor {
        ConstantTensor(shape: shape, floats: values, ints: [], isInteger: false)
    }

    static func int(_ shape: [Int], _ values: [Int64]) -> ConstantTensor {
        ConstantTensor(shape: shape, floats: [], ints: values, isInteger: true)
    }

    var count: Int { isInteger ? ints.count : floats.count }

    /// Every value as Double (shape arithmetic compares across the two kinds).
    var doubles: [Double] { isInteger ? ints.map { Double($0) } : floats.map { Double($0) } }

    /// A scalar or one-element tensor's value.
    var scalar: Double? { count == 1 ? doubles[0] : nil }

    /// The values as Int64: integers as they are, floats only when whole.
    var integers: [Int64]? {
        if isInteger { return ints }
        var result: [Int64] = []
        for value in floats {
            guard value.isFinite, value == value.rounded(), abs(value) < 9.2e18 else { return nil }
            result.append(Int64(value))
        }
        return result
    }

    var shapeText: String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
}

/// The most values one tensor may have (2³¹, 8 GiB of float32, as cnnc's own limit per image).
let tensorElementLimit = 1 << 31

extension ONNXTensor {
    /// The values, checked against the dims: the element count must not overflow and the data
    /// must hold exactly that many values (raw_data little-endian, or the typed field).
    func constant() throws(ImportError) -> ConstantTensor {
        let label = name.isEmpty ? "a tensor at byte offset \(offset)" : "tensor '\(name)'"
        func fail(_ message: String) -> ImportError { ImportError("\(label) \(message)") }
        if dataLocation == 1 || externalLocation != nil {
            throw fail("keeps its data in another file ('\(externalLocation ?? "?")'), which was not read (cnnc import reads it "
                + "with ONNXImport.loadExternalData)")
        }
        var shape: [Int] = []
        var count = 1
        for dim in dims {
            guard dim >= 0 else { throw fail("has a negative dimension \(dim) in dims \(dims)") }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(dim))
            guard !overflow, product <= tensorElementLimit else {
                throw fail("has dims \(dims), more than \(tensorElementLimit) values")
            }
            count = product
            shape.append(Int(dim))
        }
        guard let type = DataType(rawValue: dataType) else {
            throw fail("has data type \(dataType), which ONNX does not define")
        }
        func checkCount(_ found: Int, _ field: String) throws(ImportError) {
            if found != count {
                throw fail("has \(found) values in \(field), but its dims \(dims) need \(count)")
            }
        }
        func raw(_ width: Int) throws(ImportError) -> [UInt8]? {
            guard let rawData else { return nil }
            if rawData.count != count * width {
                throw fail("has \(rawData.count) bytes of raw_data, but its dims \(dims) of \(type.name) need \(count * width)")
            }
            return rawData
        }
        switch type {
        case .float:
            if let bytes = try raw(4) {
                var values = [Float](repeating: 0, count: count)
                for i in 0..<count { values[i] = Float(bitPattern: loadLE32(bytes, i * 4)) }
                return .float(shape, values)
            }
            try checkCount(floatData.count, "float_data")
            return .float(shape, floatData)
        case .double:
            let values: [Double]
            if let bytes = try raw(8) {
                values = (0..<count).map { Double(bitPattern: loadLE64(bytes, $0 * 8)) }
            } else {
                try checkCount(doubleData.count, "double_data")
                values = doubleData
            }
            var floats = [Float](repeating: 0, count: count)
            for (i, value) in values.enumerated() {
                if value.isFinite && abs(value) > Double(Float.greatestFiniteMagnitude) {
                    throw fail("has value \(value) at index \(i), outside the float32 range cnnc computes in")
                }
                floats[i] = Float(value)
            }
            return .float(shape, floats)
        case .int32:
            if let bytes = try raw(4) {
                return .int(shape, (0..<count).map { Int64(Int32(bitPattern: loadLE32(bytes, $0 * 4))) })
            }
            try checkCount(int32Data.count, "int32_data")
            return .int(shape, int32Data.map { Int64(Int32(truncatingIfNeeded: $0)) })
        case .int64:
            if let bytes = try raw(8) {
                return .int(shape, (0..<count).map { Int64(bitPattern: loadLE64(bytes, $0 * 8)) })
            }
            try checkCount(int64Data.count, "int64_data")
            return .int(shape, int64Data)
        case .bool, .int8, .uint8, .int16, .uint16:
            // Flags and small integers (Dropout's training_mode): one or two bytes each in
            // raw_data, widened into int32_data otherwise.
            let width = type == .int16 || type == .uint16 ? 2 : 1
            if let bytes = try raw(width) {
                return .int(shape, (0..<count).map { i -> Int64 in
                    let low = UInt16(bytes[i * width]), high = width == 2 ? UInt16(bytes[i * width + 1]) : 0
                    switch type {
                    case .int8: return Int64(Int8(bitPattern: UInt8(low)))
                    case .int16: return Int64(Int16(bitPattern: low | high << 8))
                    default: return Int64(low | high << 8)
                    }
                })
            }
            try checkCount(int32Data.count, "int32_data")
            return .int(shape, int32Data)
        default:
            throw fail("has data type \(type.name); cnnc import reads FLOAT, DOUBLE, INT32, INT64 and small integer and BOOL tensors")
        }
    }
}

private func loadLE32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
    var value: UInt32 = 0
    for i in 0..<4 { value |= UInt32(bytes[at + i]) << (8 * UInt32(i)) }
    return value
}

private func loadLE64(_ bytes: [UInt8], _ at: Int) -> UInt64 {
    var value: UInt64 = 0
    for i in 0..<8 { value |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
    return value
}

/// One problem of the whole import, a sentence.
public struct ImportError: Error, Equatable, CustomStringConvertible, Sendable {
    public var message: String
    /// The node's op is listed with the unsupported ones (an Erf outside a GELU), not with a reason.
    public var unsupported = false
    public init(_ message: String) { self.message = message }
    static func unsupportedOp(_ why: String) -> ImportError {
        var error = ImportError(why)
        error.unsupported = true
        return error
    }
    public var description: String { message }
}
