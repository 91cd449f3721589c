import Foundation
import Testing
import TestSupport
@testable import Runtime

/// A .npy file from a header written out by hand (no padding needed) and its data.
func npy(_ header: [UInt8], major: UInt8 = 1, _ data: [UInt8] = []) -> [UInt8] {
    let n = header.count
    let length: [UInt8] = major == 1
        ? [UInt8(n & 0xFF), UInt8(n >> 8)]
        : [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF), UInt8(n >> 24)]
    return NPY.magic + [major, 0] + length + header + data
}

func npy(_ header: String, major: UInt8 = 1, _ data: [UInt8] = []) -> [UInt8] {
    npy(Array(header.utf8), major: major, data)
}

func npyHeader(descr: String = "<f4", fortran: String = "False", shape: String) -> String {
    "{'descr': '\(descr)', 'fortran_order': \(fortran), 'shape': \(shape), }\n"
}

@Suite struct NPYTests {
    let path = "x.npy"

    func parse(_ bytes: [UInt8]) throws -> Tensor { try NPY.parse(bytes, path: path) }

    @Test func parsesFloat32() throws {
        let t = try parse(npy(npyHeader(shape: "(2, 3)"), littleEndian32([1, 2, 3, -4, 0.5, 0])))
        #expect(t == Tensor(shape: [2, 3], storage: [1, 2, 3, -4, 0.5, 0]))
    }

    @Test func acceptsLenientHeaderSpellings() throws {
        // Keys in any order, double quotes, no trailing comma, a rank-1 tuple, no trailing newline.
        let t = try parse(npy("{\"shape\": (3,), \"fortran_order\": False, \"descr\": \"<f4\"}", littleEndian32([7, 8, 9])))
        #expect(t == Tensor(shape: [3], storage: [7, 8, 9]))
    }

    @Test func versions2And3() throws {
        let data = littleEndian32([1, 2])
        #expect(try parse(npy(npyHeader(shape: "(1, 2)"), major: 2, data)) == Tensor(shape: [1, 2], storage: [1, 2]))
        #expect(try parse(npy(npyHeader(shape: "(2,)"), major: 3, data)) == Tensor(shape: [2], storage: [1, 2]))
    }

    @Test func float64AndFloat16AreConverted() throws {
        let f8 = try parse(npy(npyHeader(descr: "<f8", shape: "(3,)"), littleEndian64([0.1, -2.5, 1e-3])))
        #expect(f8.storage == [Float(0.1), -2.5, Float(1e-3)])
        // Half: 1.5 (0x3E00), -0.5 (0xB800), 2^-14 (0x0400, the smallest normal), 2^-24 (0x0001).
        let f2 = try parse(npy(npyHeader(descr: "<f2", shape: "(2, 2)"), littleEndian16([0x3E00, 0xB800, 0x0400, 0x0001])))
        #expect(f2 == Tensor(shape: [2, 2], storage: [1.5, -0.5, 0x1p-14, 0x1p-24]))
    }

    @Test func serializedLayoutMatchesNumPy() {
        let bytes = NPY.serialized(Tensor(shape: [2, 3], storage: [1, 2, 3, 4, 5, 6]))
        // np.save: the dict (59 bytes), 20 spare spaces (21 digits minus the one of "2"),
        // then spaces and a newline up to byte 128.
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
        #expect(dict.utf8.count == 59)
        let header = dict + String(repeating: " ", count: 128 - 10 - 59 - 1) + "\n"
        #expect(bytes == NPY.magic + [1, 0, 118, 0] + Array(header.utf8) + littleEndian32([1, 2, 3, 4, 5, 6]))
    }

    @Test func roundTripEveryRank() throws {
        for shape in [[5], [2, 3], [3, 1, 2], [2, 3, 4, 5], [100_003, 1]] {
            let count = shape.reduce(1, *)
            let tensor = Tensor(shape: shape, storage: (0..<count).map { Float($0) * 0.125 - 3 })
            let bytes = NPY.serialized(tensor)
            #expect((bytes.count - count * 4) % 64 == 0)
            #expect(try parse(bytes) == tensor)
        }
    }

    /// Files written by NumPy parse, and serialize back byte for byte.
    @Test func conformanceFixturesRoundTripExactly() throws {
        for name in ["lenet5/input.npy", "lenet5/expected.npy", "mlp/input.npy", "mlp/expected.npy"] {
            let file = Paths.fixtures.path + "/conformance/" + name
            let tensor = try NPY.read(contentsOf: file)
            #expect(NPY.serialized(tensor) == (try readFileBytes(file)), "\(name)")
        }
        #expect(try NPY.read(contentsOf: Paths.fixtures.path + "/conformance/lenet5/input.npy").shape == [3, 1, 32, 32])
    }

    @Test func writeAndReadBack() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let tensor = Tensor(shape: [1, 2, 2, 2], storage: [1, 2, 3, 4, 5, 6, 7, 8])
        try NPY.write(tensor, to: dir + "/out.npy")
        #expect(try NPY.read(contentsOf: dir + "/out.npy") == tensor)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.npy"])
    }

    // MARK: Hostile files

    @Test func emptyShortAndNotNPY() {
        expectRefused(by: parse, [
            ("x.npy: file is empty", []),
            ("x.npy: not a .npy file (it does not start with the magic bytes \\x93NUMPY)", Array("PK\u{3}\u{4} a zip file".utf8)),
            ("x.npy: not a .npy file (it does not start with the magic bytes \\x93NUMPY)", [0x93, 0x4E, 0x55]),
            ("x.npy: file is too short for a .npy header (8 bytes)", NPY.magic + [1, 0]),
            ("x.npy: file is too short for a .npy header (11 bytes)", NPY.magic + [2, 0, 5, 0, 0]),
        ])
    }

    @Test func unsupportedVersion() {
        expectRefused(by: parse, [
            ("x.npy: unsupported .npy version 4.0 (expected 1.0, 2.0 or 3.0)", NPY.magic + [4, 0, 0, 0, 0, 0]),
            ("x.npy: unsupported .npy version 1.1 (expected 1.0, 2.0 or 3.0)", NPY.magic + [1, 1, 0, 0, 0, 0]),
        ])
    }

    @Test func headerLengthPastEndOfFile() {
        expectRefused(by: parse, [
            ("x.npy: header length 500 runs past the end of the file (20 bytes follow the length)",
             NPY.magic + [1, 0, 0xF4, 0x01] + [UInt8](repeating: 0x20, count: 20)),
            ("x.npy: header length 4294967295 runs past the end of the file (3 bytes follow the length)",
             NPY.magic + [2, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x7B, 0x7D, 0x0A]),
        ])
    }

    @Test func wrongDtypes() {
        expectRefused(by: parse, [
            ("x.npy: dtype '>f4' is big-endian; expected '<f4' (little-endian float32)",
             npy(npyHeader(descr: ">f4", shape: "(1,)"), [0, 0, 0, 0])),
            ("x.npy: dtype '|O' is an object array; expected '<f4' (float32)",
             npy(npyHeader(descr: "|O", shape: "(1,)"), [0, 0, 0, 0, 0, 0, 0, 0])),
            ("x.npy: dtype '<i8' is not supported; expected '<f4' (float32; '<f8' and '<f2' are converted)",
             npy(npyHeader(descr: "<i8", shape: "(1,)"), [0, 0, 0, 0, 0, 0, 0, 0])),
            ("x.npy: dtype '|f4' is not supported; expected '<f4' (float32; '<f8' and '<f2' are converted)",
             npy(npyHeader(descr: "|f4", shape: "(1,)"), [0, 0, 0, 0])),
            ("x.npy: 'descr' is a list; structured arrays are not supported (expected '<f4')",
             npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", [0, 0, 0, 0])),
        ])
    }

    @Test func fortranOrder() {
        expectRuntimeError("x.npy: array is in Fortran order; expected C order (save np.ascontiguousarray(x))") {
            _ = try parse(npy(npyHeader(fortran: "True", shape: "(2, 2)"), littleEndian32([1, 2, 3, 4])))
        }
    }

    @Test func badShapes() {
        expectRefused(by: parse, [
            ("x.npy: shape () has 0 dimensions; expected 1 to 4", npy(npyHeader(shape: "()"), [0, 0, 0, 0])),
            ("x.npy: shape (1, 1, 1, 1, 2) has 5 dimensions; expected 1 to 4",
             npy(npyHeader(shape: "(1, 1, 1, 1, 2)"), littleEndian32([1, 2]))),
            ("x.npy: shape (0, 3) has dimension 0; every dimension must be at least 1", npy(npyHeader(shape: "(0, 3)"))),
            ("x.npy: shape (-1,) has dimension -1; every dimension must be at least 1",
             npy(npyHeader(shape: "(-1,)"), [0, 0, 0, 0])),
            ("x.npy: 'shape' has entry '2', expected integers", npy(npyHeader(shape: "('2',)"), [0, 0, 0, 0, 0, 0, 0, 0])),
            ("x.npy: 'shape' is 6, expected a tuple", npy(npyHeader(shape: "6"), [0, 0, 0, 0])),
        ])
    }

    @Test func hugeShapes() {
        // Four petabytes claimed by a 100-byte file: counted, refused, nothing allocated.
        expectRefused(by: parse, [
            ("x.npy: data is truncated: shape (1000000, 1000000, 1000, 1000) of '<f4' needs 4000000000000000000 bytes, found 0",
             npy(npyHeader(shape: "(1000000, 1000000, 1000, 1000)"))),
            ("x.npy: shape (4294967296, 4294967296, 4) has more elements than can be counted",
             npy(npyHeader(shape: "(4294967296, 4294967296, 4)"))),
            ("x.npy: shape (4611686018427387904,) needs more bytes than can be counted",
             npy(npyHeader(shape: "(4611686018427387904,)"))),
            ("x.npy: header is not a valid dict literal: integer too large at header offset 51",
             npy(npyHeader(shape: "(99999999999999999999,)"))),
        ])
    }

    @Test func truncatedAndOverlongData() {
        expectRefused(by: parse, [
            ("x.npy: data is truncated: shape (3,) of '<f4' needs 12 bytes, found 8",
             npy(npyHeader(shape: "(3,)"), littleEndian32([1, 2]))),
            ("x.npy: data is truncated: shape (2,) of '<f8' needs 16 bytes, found 15",
             npy(npyHeader(descr: "<f8", shape: "(2,)"), [UInt8](repeating: 0, count: 15))),
            ("x.npy: 4 bytes of extra data after the array (shape (2,) of '<f4' needs 8 bytes, found 12)",
             npy(npyHeader(shape: "(2,)"), littleEndian32([1, 2, 3]))),
        ])
    }

    @Test func nonFiniteValues() {
        expectRefused(by: parse, [
            ("x.npy: non-finite value (nan) at index 4 (element [0, 0, 1, 1])",
             npy(npyHeader(shape: "(1, 1, 2, 3)"), littleEndian32([0, 1, 2, 3, .nan, 5]))),
            ("x.npy: non-finite value (-inf) at index 0 (element [0])",
             npy(npyHeader(shape: "(2,)"), littleEndian32([-.infinity, 1]))),
            ("x.npy: non-finite value (inf) at index 1 (element [1])",
             npy(npyHeader(descr: "<f2", shape: "(2,)"), littleEndian16([0x3C00, 0x7C00]))),
            ("x.npy: value 1e+39 at index 2 (element [1, 0]) is outside the Float32 range",
             npy(npyHeader(descr: "<f8", shape: "(2, 2)"), littleEndian64([0, 1, 1e39, 2]))),
        ])
    }

    @Test func malformedHeaders() {
        expectRefused(by: parse, [
            ("x.npy: header is not a valid dict literal: unexpected '<' at header offset 10",
             npy("{'descr': <f4, 'fortran_order': False, 'shape': (2,), }", littleEndian32([1, 2]))),
            ("x.npy: header is not a valid dict literal: expected ',' or '}' but found the end of the header at header offset 54",
             npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", littleEndian32([1, 2]))),
            ("x.npy: header is not a valid dict literal: expected '{' but found the end of the header at header offset 0",
             npy("", littleEndian32([1, 2]))),
            ("x.npy: header is not a valid dict literal: unexpected name '__import__' at header offset 10",
             npy("{'descr': __import__('os'), 'fortran_order': False, 'shape': (2,), }", littleEndian32([1, 2]))),
            ("x.npy: header is not a valid dict literal: duplicate key 'shape' at header offset 56",
             npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'shape': (1,), }", littleEndian32([1, 2]))),
            ("x.npy: header is not a valid dict literal: nesting deeper than 16 levels at header offset 66",
             npy("{'descr': '<f4', 'fortran_order': False, 'shape': " + String(repeating: "(", count: 5000), [])),
        ])
    }

    @Test func missingAndUnexpectedKeys() {
        expectRefused(by: parse, [
            ("x.npy: header has no 'fortran_order'", npy("{'descr': '<f4', 'shape': (2,), }", littleEndian32([1, 2]))),
            ("x.npy: header has no 'descr'", npy("{}", littleEndian32([1, 2]))),
            ("x.npy: header has unexpected key 'foo' (expected 'descr', 'fortran_order' and 'shape')",
             npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'foo': 1}", littleEndian32([1, 2]))),
            ("x.npy: 'fortran_order' is 0, expected True or False",
             npy(npyHeader(fortran: "0", shape: "(2,)"), littleEndian32([1, 2]))),
        ])
    }

    @Test func nonASCIIAndNonUTF8Headers() {
        let header = Array("{'descr': '".utf8) + [0xE9] + Array("', 'fortran_order': False, 'shape': (1,), }".utf8)
        expectRefused(by: parse, [
            ("x.npy: header has non-ASCII byte 0xE9 at header offset 11", npy(header, [0, 0, 0, 0])),
            ("x.npy: header is not valid UTF-8 (byte 0xE9 at header offset 11)", npy(header, major: 3, [0, 0, 0, 0])),
        ])
    }

    @Test func everyTruncationOfAValidFileFailsCleanly() {
        let bytes = NPY.serialized(Tensor(shape: [2, 2], storage: [1, 2, 3, 4]))
        for length in 0..<bytes.count {
            #expect(throws: RuntimeError.self) { _ = try parse(Array(bytes[..<length])) }
        }
    }

    @Test func randomCorruptionNeverCrashes() {
        let valid = NPY.serialized(Tensor(shape: [2, 2], storage: [1, 2, 3, 4]))
        forEachCorruption(of: valid, seed: 99, perCopy: 3) { _ = try? parse($0) }
    }
}
