import Foundation
import ShapeCheck
import Testing
import TestSupport
@testable import Runtime

// MARK: - Helpers shared by the I/O tests (NPYTests, NetPBMTests, WeightInitTests use them too)

/// Runs `body` and checks it throws a RuntimeError with exactly `expected` as its message.
/// Unless `multiLine`, the message must also be one line.
func expectRuntimeError(_ expected: String, multiLine: Bool = false,
                        sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected the error \"\(expected)\", but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as RuntimeError {
        #expect(error.message == expected, sourceLocation: sourceLocation)
        #expect(error.description == error.message, sourceLocation: sourceLocation)
        if !multiLine {
            #expect(!error.message.contains("\n"), "message is not one line", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected a RuntimeError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// Each file of `cases` must be refused by `read` with exactly its message (as `expectRuntimeError`).
func expectRefused<T>(by read: ([UInt8]) throws -> T, _ cases: [(message: String, file: [UInt8])],
                      sourceLocation: SourceLocation = #_sourceLocation) {
    for (message, file) in cases {
        expectRuntimeError(message, sourceLocation: sourceLocation) { _ = try read(file) }
    }
}

/// A fresh, empty directory for one test.
func makeTemporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.path + "/cnnc-io-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func removeDirectory(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

func littleEndian32(_ values: [Float]) -> [UInt8] {
    values.flatMap { v -> [UInt8] in
        let b = v.bitPattern
        return [UInt8(b & 0xFF), UInt8((b >> 8) & 0xFF), UInt8((b >> 16) & 0xFF), UInt8(b >> 24)]
    }
}

func littleEndian16(_ values: [UInt16]) -> [UInt8] {
    values.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
}

func littleEndian64(_ values: [Double]) -> [UInt8] {
    values.flatMap { v -> [UInt8] in
        let b = v.bitPattern
        return (0..<8).map { UInt8((b >> (8 * UInt64($0))) & 0xFF) }
    }
}

func lengthPrefix(_ n: UInt64) -> [UInt8] {
    (0..<8).map { UInt8((n >> (8 * UInt64($0))) & 0xFF) }
}

/// A safetensors file from a header written out by hand and its data section.
func safetensors(_ header: String, _ data: [UInt8] = []) -> [UInt8] {
    let h = Array(header.utf8)
    return lengthPrefix(UInt64(h.count)) + h + data
}

/// One tensor "a" with the given dtype, shape and offsets.
func oneTensorHeader(dtype: String = "F32", shape: String, offsets: String) -> String {
    "{\"a\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}}"
}

let smallNetworkSource = "network t\ninput 8x8x1\nc: conv 2 3x3\nout: fc 3\n"

// MARK: - Files

@Suite struct FileIOTests {
    @Test func readMissingFileAndDirectory() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        expectRuntimeError("\(dir)/nope.bin: no such file") { _ = try readFileBytes(dir + "/nope.bin") }
        expectRuntimeError("\(dir): is a directory") { _ = try readFileBytes(dir) }
        expectRuntimeError("\(dir)/nope.safetensors: no such file") {
            _ = try WeightFile.read(contentsOf: dir + "/nope.safetensors")
        }
    }

    @Test func readLimit() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let path = dir + "/big.bin"
        try writeFileAtomically([UInt8](repeating: 7, count: 100), to: path)
        expectRuntimeError("\(path): file is larger than 10 bytes (100 bytes)") { _ = try readFileBytes(path, limit: 10) }
        #expect(try readFileBytes(path, limit: 100) == [UInt8](repeating: 7, count: 100))
        #expect(try readFileBytes(path) == [UInt8](repeating: 7, count: 100))
    }

    @Test func specialFilesAreReadToTheirEndOrToTheLimit() throws {
        #expect(try readFileBytes("/dev/null") == [])
        // /dev/zero reports size 0 and never ends: the limit stops it.
        expectRuntimeError("/dev/zero: file is larger than 100000 bytes") { _ = try readFileBytes("/dev/zero", limit: 100_000) }
        expectRuntimeError("/dev/zero: file is larger than 8 bytes") { _ = try WeightFile.parse(readFileBytes("/dev/zero", limit: 8), path: "/dev/zero") }
    }

    @Test func writeIntoMissingDirectoryFails() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let path = dir + "/missing/out.npy"
        expectRuntimeError("\(path): cannot create file (directory '\(dir)/missing' does not exist)") {
            try writeFileAtomically([1, 2, 3], to: path)
        }
        expectRuntimeError("\(path): cannot create file (directory '\(dir)/missing' does not exist)") {
            try NPY.write(Tensor(shape: [1], storage: [1]), to: path)
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/missing"))
    }

    @Test func writeUnderAFileFails() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        try writeFileAtomically([1], to: dir + "/plain")
        expectRuntimeError("\(dir)/plain/out.npy: cannot create file ('\(dir)/plain' is not a directory)") {
            try writeFileAtomically([1, 2, 3], to: dir + "/plain/out.npy")
        }
    }

    @Test func writeOverDirectoryFailsAndLeavesItAlone() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: false)
        expectRuntimeError("\(dir)/sub: is a directory") { try writeFileAtomically([1, 2, 3], to: dir + "/sub") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["sub"])
    }

    @Test func successfulWriteReplacesAndLeavesNoTemporaryFile() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let path = dir + "/w.safetensors"
        try writeFileAtomically([1, 2, 3, 4], to: path)
        #expect(try readFileBytes(path) == [1, 2, 3, 4])
        try writeFileAtomically([9, 8], to: path)
        #expect(try readFileBytes(path) == [9, 8])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["w.safetensors"])
    }

    @Test func failedWriteLeavesOldFileUntouchedAndNoTemporaryFile() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let path = dir + "/out.npy"
        try writeFileAtomically([1, 2, 3], to: path)
        var sawTemporary = false
        expectRuntimeError("injected failure") {
            try writeFileAtomically([UInt8](repeating: 0xAB, count: 1000), to: path, beforeRename: { temporary in
                // The new bytes are complete in the temporary file, beside the target.
                sawTemporary = (try? readFileBytes(temporary).count) == 1000
                    && temporary.hasPrefix(dir + "/")
                throw RuntimeError("injected failure")
            })
        }
        #expect(sawTemporary)
        #expect(try readFileBytes(path) == [1, 2, 3])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.npy"])
    }
}

// MARK: - safetensors

@Suite struct SafeTensorsTests {
    let path = "w.safetensors"

    func parse(_ bytes: [UInt8]) throws -> WeightFile { try WeightFile.parse(bytes, path: path) }

    @Test func parsesF32WithMetadataAndPadding() throws {
        let header = "{\"__metadata__\":{\"format\":\"pt\"},\"b\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[8,24]},"
            + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}   "
        let file = try parse(safetensors(header, littleEndian32([1.5, -2, 0, 1, 2, 3])))
        #expect(file.tensors.count == 2)
        #expect(file.tensors["a"] == Tensor(shape: [2], storage: [1.5, -2]))
        #expect(file.tensors["b"] == Tensor(shape: [2, 2], storage: [0, 1, 2, 3]))
    }

    @Test func emptyHeaderObjectAndZeroSizedTensor() throws {
        #expect(try parse(safetensors("{}")).tensors.isEmpty)
        let file = try parse(safetensors(oneTensorHeader(shape: "[0, 3]", offsets: "[0, 0]")))
        #expect(file.tensors["a"] == Tensor(shape: [0, 3], storage: []))
    }

    @Test func serializedLayoutIsExact() {
        let file = WeightFile(tensors: ["b": Tensor(shape: [1], storage: [2]), "a": Tensor(shape: [2], storage: [1, -1])])
        let header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}"
        // {"a": (5) + the 48-byte entry + "," + "b": (4) + the 49-byte entry + } = 108 bytes of
        // JSON, padded with four spaces to 112 (a multiple of 8).
        #expect(header.utf8.count == 108)
        let expected = lengthPrefix(112) + Array((header + "    ").utf8) + littleEndian32([1, -1, 2])
        #expect(file.serialized() == expected)
    }

    @Test func roundTrip() throws {
        let original = WeightFile(tensors: [
            "conv1.weight": Tensor(shape: [2, 1, 3, 3], storage: (0..<18).map { Float($0) * 0.25 - 2 }),
            "conv1.bias": Tensor(shape: [2], storage: [Float.leastNonzeroMagnitude, -Float.greatestFiniteMagnitude]),
            "fc.weight": Tensor(shape: [3, 4], storage: (0..<12).map { 1 / Float($0 + 1) }),
            "name with \"quotes\" and \\ é": Tensor(shape: [1], storage: [42]),
            "empty": Tensor(shape: [0], storage: []),
        ])
        let bytes = original.serialized()
        #expect((Int(bytes.loadLE64(at: 0)) + 8) % 8 == 0)
        #expect(try parse(bytes).tensors == original.tensors)
    }

    @Test func writeAndReadBack() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let file = WeightFile(tensors: ["x.weight": Tensor(shape: [2, 3], storage: [1, 2, 3, 4, 5, 6])])
        try file.write(to: dir + "/w.safetensors")
        #expect(try WeightFile.read(contentsOf: dir + "/w.safetensors").tensors == file.tensors)
    }

    /// A file written by Python's safetensors library parses, and serializes back byte for byte.
    @Test func conformanceFixtureRoundTripsExactly() throws {
        let fixture = Paths.fixtures.path + "/conformance/lenet5/weights.safetensors"
        let bytes = try readFileBytes(fixture)
        let file = try WeightFile.read(contentsOf: fixture)
        #expect(file.tensors.count == 10)
        #expect(file.tensors["conv1.weight"]?.shape == [6, 1, 5, 5])
        #expect(file.tensors["fc1.weight"]?.shape == [120, 400])
        #expect(file.serialized() == bytes)
    }

    @Test func float16Conversion() throws {
        // 1, -2, 1/3 rounded to half (0x3555 = 1.0101010101b · 2^-2), the smallest subnormal
        // 2^-24, the largest half 65504, and negative zero.
        let bits: [UInt16] = [0x3C00, 0xC000, 0x3555, 0x0001, 0x7BFF, 0x8000]
        let file = try parse(safetensors(oneTensorHeader(dtype: "F16", shape: "[6]", offsets: "[0,12]"), littleEndian16(bits)))
        let values = try #require(file.tensors["a"]).storage
        #expect(values == [1, -2, 0.333251953125, 0x1p-24, 65504, 0])
        #expect(values[5].sign == .minus)
    }

    @Test func bfloat16Conversion() throws {
        // BF16 is the top half of a Float32: 0x3F80 = 1, 0xC049 = -3.140625, 0x3E80 = 0.25,
        // 0x0001 = 2^-133 (a Float32 subnormal).
        let bits: [UInt16] = [0x3F80, 0xC049, 0x3E80, 0x0001]
        let file = try parse(safetensors(oneTensorHeader(dtype: "BF16", shape: "[2,2]", offsets: "[0,8]"), littleEndian16(bits)))
        #expect(file.tensors["a"] == Tensor(shape: [2, 2], storage: [1, -3.140625, 0.25, 0x1p-133]))
    }

    @Test func float64Conversion() throws {
        let values: [Double] = [0.1, -2.5, 1e-3, 3.4e38]
        let file = try parse(safetensors(oneTensorHeader(dtype: "F64", shape: "[4]", offsets: "[0,32]"), littleEndian64(values)))
        #expect(file.tensors["a"]?.storage == [Float(0.1), -2.5, Float(1e-3), Float(3.4e38)])
    }

    // MARK: Hostile files

    @Test func emptyAndShortFiles() {
        expectRefused(by: parse, [
            ("w.safetensors: file is empty", []),
            ("w.safetensors: file is too short for a safetensors header (3 bytes, need at least 8)", [1, 2, 3]),
        ])
    }

    @Test func headerLengthPastEndOfFile() {
        expectRuntimeError("w.safetensors: header length 100 runs past the end of the file (10 bytes follow the length)") {
            _ = try parse(lengthPrefix(100) + Array("{\"a\":1}   ".utf8))
        }
    }

    @Test func hugeHeaderLength() {
        expectRefused(by: parse, [
            ("w.safetensors: header length 18446744073709551615 is larger than the 100000000-byte limit (not a safetensors file?)",
             lengthPrefix(UInt64.max) + [0x7B, 0x7D]),
            ("w.safetensors: header length 100000001 is larger than the 100000000-byte limit (not a safetensors file?)",
             lengthPrefix(100_000_001) + [0x7B, 0x7D]),
        ])
    }

    @Test func nonUTF8Header() {
        expectRefused(by: parse, [
            ("w.safetensors: header is not valid UTF-8 (byte 0xFF at header offset 3)",
             lengthPrefix(10) + [0x7B, 0x22, 0x61, 0xFF, 0x22, 0x3A, 0x7B, 0x7D, 0x7D, 0x20]),
            // An overlong encoding of '/' (0xC0 0xAF) is not UTF-8 either.
            ("w.safetensors: header is not valid UTF-8 (byte 0xC0 at header offset 2)",
             lengthPrefix(4) + [0x7B, 0x22, 0xC0, 0xAF]),
        ])
    }

    @Test func malformedJSON() {
        expectRefused(by: parse, [
            ("w.safetensors: header is not valid JSON: unexpected end of header at header offset 7", safetensors("{\"a\": {")),
            ("w.safetensors: header is not valid JSON: expected ':' but found ',' at header offset 4", safetensors("{\"a\",1}")),
            ("w.safetensors: header is not valid JSON: unexpected '}' after the top-level value at header offset 2",
             safetensors("{}}")),
            ("w.safetensors: header is not a JSON object", safetensors("[1, 2]")),
            ("w.safetensors: header is not valid JSON: unexpected end of header at header offset 0", safetensors("")),
        ])
    }

    @Test func deeplyNestedMetadataIsRejectedWithoutRecursingForever() {
        let header = "{\"__metadata__\":" + String(repeating: "[", count: 100_000)
        expectRuntimeError("w.safetensors: header is not valid JSON: nesting deeper than 64 levels at header offset 79") {
            _ = try parse(safetensors(header))
        }
    }

    @Test func duplicateKeys() {
        let entry = "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}"
        // The second "a" starts after {"a": (5 bytes), the 48-byte entry and the comma.
        #expect(entry.utf8.count == 48)
        expectRuntimeError("w.safetensors: header has duplicate key 'a' at header offset 54") {
            _ = try parse(safetensors("{\"a\":\(entry),\"a\":\(entry)}", littleEndian32([1])))
        }
    }

    @Test func unsupportedDtypes() {
        expectRefused(by: parse, [
            ("w.safetensors: tensor 'a' has dtype I32; supported dtypes are F32, F16, BF16 and F64",
             safetensors(oneTensorHeader(dtype: "I32", shape: "[1]", offsets: "[0,4]"), [0, 0, 0, 0])),
            ("w.safetensors: tensor 'a' has dtype U8; supported dtypes are F32, F16, BF16 and F64",
             safetensors(oneTensorHeader(dtype: "U8", shape: "[1]", offsets: "[0,1]"), [0])),
        ])
    }

    @Test func malformedEntries() {
        expectRefused(by: parse, [
            ("w.safetensors: tensor 'a': entry is not a JSON object", safetensors("{\"a\":[1]}")),
            ("w.safetensors: tensor 'a': missing 'data_offsets'", safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}")),
            ("w.safetensors: tensor 'a': 'dtype' is not a string",
             safetensors("{\"a\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}")),
            ("w.safetensors: tensor 'a': shape dimension 2.5 is not a non-negative integer",
             safetensors(oneTensorHeader(shape: "[2.5]", offsets: "[0,10]"))),
            ("w.safetensors: tensor 'a': 'data_offsets' is not a pair [begin, end]",
             safetensors(oneTensorHeader(shape: "[1]", offsets: "[0,4,8]"), [0, 0, 0, 0])),
        ])
    }

    @Test func lyingOffsets() {
        expectRefused(by: parse, [
            ("w.safetensors: tensor 'a' has data_offsets [0, 8] past the end of the data section (4 bytes)",
             safetensors(oneTensorHeader(shape: "[2]", offsets: "[0,8]"), littleEndian32([1]))),
            ("w.safetensors: tensor 'a' has data_offsets [8, 4] with begin after end",
             safetensors(oneTensorHeader(shape: "[1]", offsets: "[8,4]"), littleEndian32([1, 2, 3]))),
            ("w.safetensors: tensor 'a' with shape [3] and dtype F32 needs 12 bytes, but data_offsets [0, 8] hold 8",
             safetensors(oneTensorHeader(shape: "[3]", offsets: "[0,8]"), littleEndian32([1, 2]))),
            ("w.safetensors: tensor 'a' has data_offset 99999999999999999999999 past the end of the data section (4 bytes)",
             safetensors(oneTensorHeader(shape: "[1]", offsets: "[0,99999999999999999999999]"), littleEndian32([1]))),
            ("w.safetensors: tensor 'a': data_offsets entry -4 is not a non-negative integer",
             safetensors(oneTensorHeader(shape: "[1]", offsets: "[-4,0]"), littleEndian32([1]))),
        ])
    }

    @Test func overlappingTensors() {
        let header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}"
        expectRuntimeError("w.safetensors: tensors 'a' [0, 8] and 'b' [4, 12] overlap in the data section") {
            _ = try parse(safetensors(header, littleEndian32([1, 2, 3])))
        }
    }

    @Test func hugeAndNegativeShapes() {
        // A petabyte tensor: counted fine, but the file does not hold it; nothing is allocated.
        expectRefused(by: parse, [
            ("w.safetensors: tensor 'a' with shape [1000000, 1000000, 1000] and dtype F32 needs 4000000000000000 bytes, but data_offsets [0, 4] hold 4",
             safetensors(oneTensorHeader(shape: "[1000000,1000000,1000]", offsets: "[0,4]"), littleEndian32([1]))),
            ("w.safetensors: tensor 'a' has shape [4294967296, 4294967296] whose element count overflows",
             safetensors(oneTensorHeader(shape: "[4294967296,4294967296]", offsets: "[0,4]"), littleEndian32([1]))),
            ("w.safetensors: tensor 'a' has shape [4611686018427387904] whose size in bytes overflows",
             safetensors(oneTensorHeader(shape: "[4611686018427387904]", offsets: "[0,4]"), littleEndian32([1]))),
            ("w.safetensors: tensor 'a' has dimension 99999999999999999999, which is too large",
             safetensors(oneTensorHeader(shape: "[99999999999999999999]", offsets: "[0,4]"), littleEndian32([1]))),
            ("w.safetensors: tensor 'a' has negative dimension -1 in its shape",
             safetensors(oneTensorHeader(shape: "[-1, 4]", offsets: "[0,4]"), littleEndian32([1]))),
        ])
    }

    @Test func nonFiniteValues() {
        expectRefused(by: parse, [
            ("w.safetensors: tensor 'a' has a non-finite value (nan) at index 1",
             safetensors(oneTensorHeader(shape: "[2]", offsets: "[0,8]"), littleEndian32([1, .nan]))),
            ("w.safetensors: tensor 'a' has a non-finite value (inf) at index 3 (element [1, 1])",
             safetensors(oneTensorHeader(shape: "[2,2]", offsets: "[0,16]"), littleEndian32([1, 2, 3, .infinity]))),
            ("w.safetensors: tensor 'a' has a non-finite value (-inf) at index 0",
             safetensors(oneTensorHeader(dtype: "F16", shape: "[1]", offsets: "[0,2]"), littleEndian16([0xFC00]))),
            ("w.safetensors: tensor 'a' has a non-finite value (nan) at index 1",
             safetensors(oneTensorHeader(dtype: "BF16", shape: "[2]", offsets: "[0,4]"), littleEndian16([0x3F80, 0x7FC0]))),
            ("w.safetensors: tensor 'a' has value 1e+300 at index 0, outside the Float32 range",
             safetensors(oneTensorHeader(dtype: "F64", shape: "[1]", offsets: "[0,8]"), littleEndian64([1e300]))),
        ])
    }

    @Test func everyTruncationOfAValidFileFailsCleanly() throws {
        let bytes = WeightFile(tensors: ["a": Tensor(shape: [3], storage: [1, 2, 3]), "b": Tensor(shape: [1], storage: [4])]).serialized()
        for length in 0..<bytes.count {
            #expect(throws: RuntimeError.self) { _ = try parse(Array(bytes[..<length])) }
        }
        #expect(try parse(bytes).tensors.count == 2)
        // Trailing bytes after the last tensor are tolerated: the offsets say where data is.
        #expect(try parse(bytes + [0, 0, 0, 0]).tensors.count == 2)
    }

    @Test func randomCorruptionNeverCrashes() {
        let valid = WeightFile(tensors: ["a": Tensor(shape: [2, 2], storage: [1, 2, 3, 4])]).serialized()
        forEachCorruption(of: valid, seed: 12345, perCopy: 3) { _ = try? parse($0) }
    }

    // MARK: Validation against a network

    @Test func validationListsEveryProblem() throws {
        let network = try #require(checkSource(smallNetworkSource).network, "the checker returned no network")
        let file = WeightFile(tensors: [
            "c.weight": Tensor(shape: [2, 1, 3, 3], repeating: 0),
            "out.weight": Tensor(shape: [3, 70], repeating: 0),
            "out.bias": Tensor(shape: [3], repeating: 0),
            "junk": Tensor(shape: [5], repeating: 0),
            "c.running_mean": Tensor(shape: [2], repeating: 0),
        ])
        expectRuntimeError("""
            w.safetensors: missing tensor 'c.bias' (expected shape [2])
            w.safetensors: tensor 'out.weight' has shape [3, 70], expected [3, 72]
            w.safetensors: unexpected tensor 'c.running_mean' with shape [2] (the network 't' has no such parameter)
            w.safetensors: unexpected tensor 'junk' with shape [5] (the network 't' has no such parameter)
            """, multiLine: true) { _ = try file.validated(for: network, path: "w.safetensors") }
    }

    @Test func validationPassesAndReturnsExactlyTheNetworksTensors() throws {
        let network = try #require(checkSource(smallNetworkSource).network, "the checker returned no network")
        let tensors: [String: Tensor] = [
            "c.weight": Tensor(shape: [2, 1, 3, 3], repeating: 1),
            "c.bias": Tensor(shape: [2], repeating: 2),
            "out.weight": Tensor(shape: [3, 72], repeating: 3),
            "out.bias": Tensor(shape: [3], repeating: 4),
        ]
        #expect(try WeightFile(tensors: tensors).validated(for: network, path: "w.safetensors") == tensors)
    }

    @Test func validationOfAnEmptyFile() throws {
        let network = try #require(checkSource(smallNetworkSource).network, "the checker returned no network")
        expectRuntimeError("""
            e.safetensors: missing tensor 'c.weight' (expected shape [2, 1, 3, 3])
            e.safetensors: missing tensor 'c.bias' (expected shape [2])
            e.safetensors: missing tensor 'out.weight' (expected shape [3, 72])
            e.safetensors: missing tensor 'out.bias' (expected shape [3])
            """, multiLine: true) { _ = try WeightFile().validated(for: network, path: "e.safetensors") }
    }

    @Test func conformanceWeightsValidateAgainstTheirModel() throws {
        let folder = Paths.fixtures.path + "/conformance/lenet5"
        let source = try String(contentsOfFile: folder + "/model.cnn", encoding: .utf8)
        let network = try #require(checkSource(source, path: folder + "/model.cnn").network, "the checker returned no network")
        let tensors = try WeightFile.read(contentsOf: folder + "/weights.safetensors").validated(for: network, path: "w")
        #expect(tensors.count == 10)
    }
}
