import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing

/// The emitted C for every conformance case, built with AddressSanitizer and
/// UndefinedBehaviorSanitizer (any report is fatal) together with a small C driver, run on the
/// case's input, and compared with ONNX Runtime's answer. The driver allocates every buffer at
/// exactly the size the API states, so a kernel that reads or writes a float past its weights,
/// input, output or workspace is caught; it fills the workspace with NaN first, so a kernel that
/// reads activations it never wrote shows in the output; and it runs twice on the same
/// workspace, which must give the same output (the generated code keeps no state).
@Suite struct SanitizerTests {
    static let flags = ["-std=c99", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g", "-O1"]

    /// The driver: `prog WEIGHTS INPUT BATCH OUTPUT` with raw little-endian float32 files.
    static func driver(prefix: String) -> String {
        """
        #include <math.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include "\(prefix).h"

        /* Exactly `count` floats from `path`, in a buffer of exactly that size. */
        static float *load(const char *path, size_t count) {
            FILE *file = fopen(path, "rb");
            float *data = malloc(count * sizeof(float) + (count == 0));
            size_t got;
            if (!file || !data) { fprintf(stderr, "cannot open %s\\n", path); exit(2); }
            got = fread(data, sizeof(float), count, file);
            if (got != count || fgetc(file) != EOF) { fprintf(stderr, "%s: %lu floats, expected %lu\\n", path, (unsigned long)got, (unsigned long)count); exit(2); }
            fclose(file);
            return data;
        }

        int main(int argc, char **argv) {
            int batch, pass;
            size_t in, out, bytes, i;
            float *weights, *input, *output, *first;
            unsigned char *workspace;
            FILE *file;
            if (argc != 5) return 2;
            batch = atoi(argv[3]);
            in = \(prefix)_input_size() * (size_t)batch;
            out = \(prefix)_output_size() * (size_t)batch;
            weights = load(argv[1], \(prefix)_weight_count());
            input = load(argv[2], in);
            bytes = \(prefix)_workspace_size(batch);
            workspace = malloc(bytes + (bytes == 0));
            output = malloc(out * sizeof(float));
            first = malloc(out * sizeof(float));
            if (!workspace || !output || !first) return 2;
            /* Bad arguments are refused, not run. */
            if (\(prefix)_run(weights, (float *)workspace, input, output, -1) != -1) { fprintf(stderr, "batch -1 was run\\n"); return 3; }
            if (\(prefix)_run(weights, (float *)workspace, NULL, output, batch) != -1) { fprintf(stderr, "NULL input was run\\n"); return 3; }
            for (pass = 0; pass < 2; pass++) {
                memset(workspace, 0xFF, bytes);  /* NaN everywhere: reading an unwritten activation shows */
                for (i = 0; i < out; i++) output[i] = NAN;
                if (\(prefix)_run(weights, (float *)workspace, input, output, batch) != 0) { fprintf(stderr, "run failed\\n"); return 3; }
                if (pass == 0) memcpy(first, output, out * sizeof(float));
            }
            if (memcmp(first, output, out * sizeof(float)) != 0) { fprintf(stderr, "a second run differs\\n"); return 3; }
            file = fopen(argv[4], "wb");
            if (!file || fwrite(output, sizeof(float), out, file) != out || fclose(file) != 0) return 2;
            free(weights); free(input); free(workspace); free(output); free(first);
            return 0;
        }
        """
    }

    static func floats(_ values: [Float]) -> Data {
        var bytes = [UInt8]()
        bytes.reserveCapacity(values.count * 4)
        for value in values {
            let bits = value.bitPattern
            for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
        }
        return Data(bytes)
    }

    @Test(arguments: Conformance.cases)
    func conformanceCaseIsCleanUnderSanitizers(_ name: String) throws {
        let (net, weights, input, expected) = try conformanceCase(name)

        let program = lower(net)
        let packed = try packWeights(program, weights: weights.mapValues(\.storage))
        let source = try emitC(program)
        let directory = try temporaryDirectory("sanitize-\(name)")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for file in source.files { try write(file.contents, to: "\(directory)/\(file.name)") }
        try write(Self.driver(prefix: source.symbolPrefix), to: "\(directory)/driver.c")
        try Self.floats(packed).write(to: URL(fileURLWithPath: "\(directory)/weights.bin"))
        try Self.floats(input.storage).write(to: URL(fileURLWithPath: "\(directory)/input.bin"))
        let batch = input.storage.count / net.input.elementCount
        #expect(batch * net.input.elementCount == input.storage.count && batch >= 1)

        // lld links the sanitizer runtimes without gold's warnings; plain `cc` linking otherwise.
        let compiler = try cCompiler()
        let arguments = Self.flags + [source.implementation.name, "driver.c", "-o", "prog", "-lm"]
        var build = try shell(compiler, ["-fuse-ld=lld"] + arguments, in: directory)
        if build.status != 0 { build = try shell(compiler, arguments, in: directory) }
        try #require(build.status == 0, "\(name): \(build.output.prefix(3000))")

        let run = try shell("\(directory)/prog", ["weights.bin", "input.bin", "\(batch)", "output.bin"], in: directory,
                            environment: ["ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:halt_on_error=1",
                                          "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"])
        #expect(run.status == 0, "\(name): exit \(run.status)\n\(run.output.prefix(4000))")
        #expect(!run.output.contains("runtime error") && !run.output.contains("Sanitizer"), "\(name):\n\(run.output.prefix(4000))")
        guard run.status == 0 else { return }

        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(directory)/output.bin")))
        var values = [Float](repeating: 0, count: bytes.count / 4)
        for i in values.indices {
            values[i] = Float(bitPattern: UInt32(bytes[4 * i]) | UInt32(bytes[4 * i + 1]) << 8 | UInt32(bytes[4 * i + 2]) << 16 | UInt32(bytes[4 * i + 3]) << 24)
        }
        try #require(values.count == expected.storage.count, "\(name): \(values.count) outputs, expected \(expected.storage.count)")
        compare(Tensor(shape: expected.shape, storage: values), expected, "\(name) under sanitizers")
    }
}
