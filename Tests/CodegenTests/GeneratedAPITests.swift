import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing
import TestSupport

/// The generated API as a user's program meets it: NAME.weights read from a file, checked and
/// run; the thread pool started and shut down; the C compiled as C++; the Swift class made
/// from the file with init(blob:).
@Suite struct GeneratedAPITests {
    /// A C program that checks the blob in argv[1], runs it on 1 and on 2 threads, shuts the
    /// pool down and runs again, printing the outputs and the process's thread count.
    static let program = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <time.h>
        #include "lenet5.h"

        #ifdef THREADED
        static int threads_now(void)
        {
            char line[256];
            int n = -1;
            FILE *f = fopen("/proc/self/status", "r");
            if (f == NULL) return -1;
            while (fgets(line, sizeof line, f))
                if (sscanf(line, "Threads: %d", &n) == 1) break;
            fclose(f);
            return n;
        }

        /* A worker that has left the pool may take a moment to end. */
        static int threads_after_shutdown(void)
        {
            int i, n = threads_now();
            for (i = 0; i < 200 && n > 1; i++) {
                struct timespec pause = { 0, 5000000 };
                nanosleep(&pause, NULL);
                n = threads_now();
            }
            return n;
        }
        #endif

        static void show(const char *label, const float *out)
        {
            int i;
            printf("%s", label);
            for (i = 0; i < LENET5_OUTPUT_SIZE; i++) printf(" %a", out[i]);
            printf("\\n");
        }

        int main(int argc, char **argv)
        {
            static unsigned char blob[LENET5_WEIGHTS_BYTES + 16];
            float input[LENET5_INPUT_SIZE], out[LENET5_OUTPUT_SIZE];
            float *workspace = (float *)malloc(lenet5_workspace_size(1));
            size_t bytes;
            int i, code;
            FILE *file = argc > 1 ? fopen(argv[1], "rb") : NULL;
            if (file == NULL || workspace == NULL) return 2;
            bytes = fread(blob, 1, sizeof blob, file);
            fclose(file);
            code = lenet5_check_weights(blob, bytes);
            printf("check %d %s\\n", code, lenet5_weights_error(code));
            if (code != LENET5_WEIGHTS_OK) return 1;
            for (i = 0; i < LENET5_INPUT_SIZE; i++) input[i] = (float)(i % 7) / 7.0f;
            if (lenet5_run(lenet5_weights_payload(blob), workspace, input, out, 1) != 0) return 3;
            show("one", out);
        #ifdef THREADED
            printf("threads before %d\\n", threads_now());
            if (lenet5_run_threads(lenet5_weights_payload(blob), workspace, input, out, 1, 2) != 0) return 3;
            show("two", out);
            printf("threads running %d\\n", threads_now());
            lenet5_shutdown_threads();
            printf("threads after shutdown %d\\n", threads_after_shutdown());
            if (lenet5_run_threads(lenet5_weights_payload(blob), workspace, input, out, 1, 2) != 0) return 3;
            show("again", out);
            printf("threads restarted %d\\n", threads_now());
            lenet5_shutdown_threads();
            lenet5_shutdown_threads();
            printf("threads at the end %d\\n", threads_after_shutdown());
        #endif
            free(workspace);
            return 0;
        }
        """

    func lenet() throws -> (net: CheckedNetwork, weights: [String: Tensor]) {
        let net = try model("lenet5")
        return (net, WeightInit.weights(for: net, seed: 3).tensors)
    }

    /// The reference's output for the program's input, as the program prints it (%a).
    func expectedLine(_ net: CheckedNetwork, _ weights: [String: Tensor]) throws -> [Float] {
        let pixels = (0..<1024).map { Float($0 % 7) / 7 }
        return try ReferenceInterpreter(network: net, weights: weights).run(Tensor(shape: [1, 1, 32, 32], storage: pixels)).storage
    }

    static func floats(_ line: Substring) -> [Float] {
        line.split(separator: " ").dropFirst().compactMap { Float(String($0)) ?? Double(String($0)).map(Float.init) }
    }

    @Test(arguments: [false, true])
    func aProgramChecksTheFileRunsItAndShutsThePoolDown(plain: Bool) throws {
        let (net, weights) = try lenet()
        let program = plain ? lower(net) : lowerForC(net, options: KernelOptions(target: .host))
        let source = try emitC(program)
        let directory = try temporaryDirectory("generated-api")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for file in source.files { try write(file.contents, to: "\(directory)/\(file.name)") }
        try write(Self.program, to: "\(directory)/main.c")
        let packed = try packWeights(program, weights: weights.mapValues(\.storage))
        try Data(weightBlob(packed, for: program)).write(to: URL(fileURLWithPath: "\(directory)/lenet5.weights"))
        let flags = ["-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-pedantic", "-D_POSIX_C_SOURCE=200809L"]
            + (plain ? [] : ["-DTHREADED", "-pthread"])
        let build = try shell(try cCompiler(), flags + ["main.c", "lenet5.c", "-o", "main", "-lm"], in: directory)
        try #require(build.status == 0, "\(build.output.prefix(3000))")
        let run = try shell("\(directory)/main", ["\(directory)/lenet5.weights"])
        #expect(run.status == 0, "\(run.output)")
        let lines = run.output.split(separator: "\n")
        #expect(lines.first == "check 0 the weights are the ones this code reads")
        let expected = try expectedLine(net, weights)
        for label in plain ? ["one"] : ["one", "two", "again"] {
            let line = try #require(lines.first { $0.hasPrefix(label + " ") }, "\(run.output)")
            expectClose(Self.floats(line), shape: [10], expected, expectedShape: [10], relative: 1e-4, label)
        }
        if !plain {
            #expect(lines.contains("threads before 1"), "\(run.output)")
            #expect(lines.contains("threads running 2"), "\(run.output)")
            #expect(lines.contains("threads after shutdown 1"), "\(run.output)")
            #expect(lines.contains("threads restarted 2"), "\(run.output)")
            #expect(lines.contains("threads at the end 1"), "\(run.output)")
        }

        // The blob of the other kind of kernels is refused with words that say so.
        let other = plain ? lowerForC(net, options: KernelOptions(target: .host)) : lower(net)
        let otherPacked = try packWeights(other, weights: weights.mapValues(\.storage))
        try Data(weightBlob(otherPacked, for: other)).write(to: URL(fileURLWithPath: "\(directory)/other.weights"))
        let refused = try shell("\(directory)/main", ["\(directory)/other.weights"])
        #expect(refused.status == 1)
        #expect(refused.output.hasPrefix("check 4 the weights are packed for other kernels than this code's"), "\(refused.output)")
    }

    /// The .c files compile as C++ without a warning (C++17 -Wall -Wextra; C++20 -pedantic),
    /// plain and fast, on networks that use most kernels.
    @Test(arguments: ["lenet5", "googlenet", "resnet18", "torchvision/mobilenet_v3_large",
                      "torchvision/efficientnet_b0", "torchvision/shufflenet_v2_x1_0", "torchvision/convnext_tiny"])
    func theCCompilesAsCPlusPlus(_ name: String) throws {
        let path = Paths.models.appendingPathComponent(name + ".cnn").path
        let net = try network(try String(contentsOfFile: path, encoding: .utf8), path: path)
        let directory = try temporaryDirectory("cplusplus")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for program in [lower(net), lowerForC(net, options: KernelOptions(target: .host))] {
            let source = try emitC(program)
            for file in source.files { try write(file.contents, to: "\(directory)/\(file.name)") }
            for standard in [["-std=c++17", "-Wall", "-Wextra", "-Werror"], ["-std=c++20", "-pedantic", "-Werror"]] {
                let result = try shell(try cCompiler(), ["-x", "c++"] + standard + ["-O0", "-c", source.implementation.name, "-o", "out.o"],
                                       in: directory)
                let kind = program.kernelPlan == nil ? "plain" : "fast"
                #expect(result.status == 0 && result.output.isEmpty, "\(name) \(kind) \(standard[0]): \(result.output.prefix(2000))")
            }
        }
    }

    /// A Swift program makes the class from the file with init(blob:), runs it, and gets each
    /// damage as the WeightsError that says it.
    @Test func aSwiftProgramReadsTheFileWithInitBlob() throws {
        let (net, weights) = try lenet()
        let program = lower(net)
        let source = try emitSwift(program)
        let directory = try temporaryDirectory("generated-swift-api")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try write(source.file.contents, to: "\(directory)/\(source.file.name)")
        try write("""
            import Foundation
            let blob = [UInt8](FileManager.default.contents(atPath: CommandLine.arguments[1])!)
            let net = try Lenet5(blob: blob)
            let input = (0..<Lenet5.inputSize).map { Float($0 % 7) / 7 }
            print("out " + net.run(input, batch: 1).map { "\\($0)" }.joined(separator: " "))
            for offset in [3, 12, 33, blob.count - 1] {
                var bad = blob
                bad[offset] ^= 1
                do { _ = try Lenet5(blob: bad) } catch let error as Lenet5.WeightsError { print("\\(error.rawValue) \\(error)") }
            }
            do { _ = try Lenet5(blob: Array(blob.dropLast())) } catch { print("\\(error)") }
            """, to: "\(directory)/main.swift")
        let packed = try packWeights(program, weights: weights.mapValues(\.storage))
        try Data(weightBlob(packed, for: program)).write(to: URL(fileURLWithPath: "\(directory)/lenet5.weights"))
        let build = try shell(try Compiler.swift().path, ["-warnings-as-errors", source.file.name, "main.swift", "-o", "main"],
                              in: directory)
        try #require(build.status == 0, "\(build.output.prefix(3000))")
        let run = try shell("\(directory)/main", ["\(directory)/lenet5.weights"])
        #expect(run.status == 0, "\(run.output)")
        let lines = run.output.split(separator: "\n")
        let out = try #require(lines.first { $0.hasPrefix("out ") })
        expectClose(Self.floats(out), shape: [10], try expectedLine(net, weights), expectedShape: [10], relative: 1e-4, "swift")
        let problems: [WeightBlobProblem] = [.magic, .otherTarget, .otherNetwork, .checksum]
        for (line, problem) in zip(lines.dropFirst(), problems) {
            #expect(line == "\(problem.rawValue) \(problem.message(target: "plain"))")
        }
        #expect(lines.last.map(String.init) == WeightBlobProblem.size.message(target: "plain"))
    }
}
