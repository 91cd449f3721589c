import Foundation
import Runtime
import Testing
@testable import cnnc

/// Memory and size: a large batch runs in pieces under the memory budget (CNNC_MEMORY_LIMIT or
/// a quarter of physical memory and of `ulimit -v`, at most 1 GiB); what cannot fit is exit 1
/// with a message, never a signal. These run the built cnnc, under `ulimit -v` where it matters.
@Suite(.serialized, .enabled(if: BuiltExecutable.cnnc != nil, "the cnnc executable is not built beside the tests"))
struct MemoryLimitTests {
    final class Scratch: ScratchFolder {
        init() throws { try super.init("memory") }
    }

    static let lenet = Networks.lenet5(named: "lenet")

    /// cnnc under `ulimit -v KIB` (none when nil): its status (negative: killed by that signal)
    /// and everything it printed.
    func cnnc(_ arguments: [String], virtualKiB: Int? = nil, environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let limit = virtualKiB.map { "ulimit -v \($0) && " } ?? ""
        // The tests' own budget is removed; what `environment` sets wins.
        var variables: [String: String?] = [MemoryBudget.variable: nil]
        for (name, value) in environment { variables[name] = value }
        return try shell("/bin/sh", ["-c", limit + "exec \"$0\" \"$@\"", BuiltExecutable.cnnc!] + arguments, environment: variables)
    }

    /// LeNet-5 on 4,000 images under a 300,000 KiB address-space limit: whole, the workspace
    /// alone is about 240 MiB and the run used to abort in Swift's allocator. With the default
    /// budget (a quarter of the limit, 73.2 MiB) it runs in pieces and gives the same bits as
    /// an unlimited whole run; with a budget the limit cannot hold it is exit 1 with a message.
    @Test func aLargeBatchUnderUlimitRunsInPiecesOrFailsWithAMessage() throws {
        let scratch = try Scratch()
        let net = try scratch.write("lenet.cnn", Self.lenet)
        let weights = scratch.file("w.safetensors"), input = scratch.file("x.npy")
        let cache = ["CNNC_CACHE_DIR": scratch.file("cache")]
        #expect(try cnnc(["init", net, "-o", weights]).status == 0)
        var state: UInt32 = 1
        let values = (0..<(4000 * 1024)).map { _ -> Float in
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(state >> 8) / Float(1 << 24)
        }
        try NPY.write(Tensor(shape: [4000, 1, 32, 32], storage: values), to: input)

        // The reference interpreter's pieces are checked bit for bit in MemoryBudgetTests (it is
        // slow on 4,000 images in a debug build); the fast C kernels block images, so here.
        let common = [net, "-w", weights, "-i", input, "--top", "1", "--backend", "c"]
        let whole = try cnnc(["run"] + common + ["-o", scratch.file("whole.npy")],
                             environment: cache.merging(["CNNC_MEMORY_LIMIT": "4G"]) { $1 })
        #expect(whole.status == 0, "\(whole.output)")
        #expect(!whole.output.contains("pieces"))

        let limited = try cnnc(["run"] + common + ["-o", scratch.file("pieces.npy")], virtualKiB: 300_000, environment: cache)
        #expect(limited.status == 0, "\(limited.output)")
        let first = limited.output.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.hasPrefix("batch of 4000 run in ") && first.contains(" pieces of "), "\(first)")
        #expect(first.hasSuffix(" (workspace budget 73.2 MiB; set CNNC_MEMORY_LIMIT to change)"), "\(first)")
        #expect(FileManager.default.contents(atPath: scratch.file("pieces.npy")) == FileManager.default.contents(atPath: scratch.file("whole.npy")),
                "the batch in pieces differs from the whole run")

        let tooMuch = try cnnc(["run", net, "-w", weights, "-i", input, "--top", "1"], virtualKiB: 300_000,
                               environment: cache.merging(["CNNC_MEMORY_LIMIT": "4G"]) { $1 })
        #expect(tooMuch.status == 1, "\(tooMuch.output)")
        #expect(tooMuch.output.hasPrefix("cnnc run: cannot allocate "), "\(tooMuch.output)")
        #expect(tooMuch.output.hasSuffix(" for the workspace of 4000 images: out of memory\n"), "\(tooMuch.output)")
        #expect(tooMuch.output.split(separator: "\n").count == 1, "\(tooMuch.output)")
    }

    @Test func aBadMemoryLimitIsAnError() throws {
        let scratch = try Scratch()
        let net = try scratch.write("lenet.cnn", Self.lenet)
        let result = try cnnc(["init", net, "-o", scratch.file("w.safetensors")], environment: ["CNNC_MEMORY_LIMIT": "lots"])
        #expect(result.status == 1)
        #expect(result.output == "cnnc init: CNNC_MEMORY_LIMIT is 'lots'; expected a size of at least 1M such as 512M or 2G\n")
    }

    /// `fc 2000` on a 1000x1000 input (the most one tensor may hold): 8 GB of weights refused
    /// before any is allocated.
    @Test func initOfAHugeFullyConnectedLayerIsRefused() throws {
        let scratch = try Scratch()
        let net = try scratch.write("big.cnn", "network big\ninput 1000x1000x1\nfc 2000\n")
        let result = try cnnc(["init", net, "-o", scratch.file("w.safetensors")], environment: ["CNNC_MEMORY_LIMIT": "1G"])
        #expect(result.status == 1)
        #expect(result.output == "cnnc init: network 'big' has 2,000,002,000 parameters (7.5 GiB as float32), "
            + "more than the memory budget of 1 GiB from CNNC_MEMORY_LIMIT\n")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("w.safetensors")))
    }

    /// `bench` times a batch whole, so one that does not fit the budget is refused with the numbers.
    @Test func benchOfABatchOverTheBudgetIsRefused() throws {
        let scratch = try Scratch()
        let net = try scratch.write("wide.cnn", "network wide\ninput 224x224x3\nconv 64 3x3 pad 1\n")
        let result = try cnnc(["bench", net, "--batch", "65536", "--backend", "reference"], environment: ["CNNC_MEMORY_LIMIT": "1G"])
        #expect(result.status == 1)
        #expect(result.output == "cnnc bench: a batch of 65536 needs 1.6 TiB (workspace 820.8 GiB, input 36.8 GiB, output 784 GiB), "
            + "more than the memory budget of 1 GiB; use a smaller --batch or raise CNNC_MEMORY_LIMIT\n")
    }

    @Test func inputsThatNeverEndAreNotReadToTheEnd() throws {
        let scratch = try Scratch()
        let net = try scratch.write("lenet.cnn", Self.lenet)
        let weights = scratch.file("w.safetensors")
        #expect(try cnnc(["init", net, "-o", weights]).status == 0)
        let image = try cnnc(["run", net, "-w", weights, "-i", "/dev/zero"])
        #expect(image.status == 1)
        #expect(image.output == "cnnc run: /dev/zero: not a PGM/PPM file (it starts with 0x00 0x00; expected P2, P3, P5 or P6)\n")
        let array = try cnnc(["run", net, "-w", "/dev/zero", "-i", "/dev/zero"])
        #expect(array.status == 1)
        #expect(array.output == "cnnc run: /dev/zero: header is not valid JSON: unexpected end of header at header offset 0\n")
        let source = try cnnc(["init", "/dev/zero", "-o", scratch.file("z.safetensors")])
        #expect(source.status == 1)
        #expect(source.output == "cnnc init: /dev/zero: file is larger than 67108864 bytes\n")
    }
}

@Suite struct BenchBoundsTests {
    @Test(arguments: ["1e300", "3601", "-1", "inf", "nan"])
    func secondsOutsideZeroToAnHourAreAUsageError(_ seconds: String) {
        let result = runDriver(["bench", "net.cnn", "--seconds", seconds])
        #expect(result.code == 2)
        #expect(result.err == "cnnc bench: --seconds takes a number of seconds from 0 to 3600, not '\(seconds)'\n\(BenchCommand.spec.usageError)\n")
    }

    /// However many runs --min-runs asks for, a measurement ends at its time limit (here 0 s:
    /// one timed run) and says so.
    @Test func aMeasurementStopsAtItsTimeLimit() throws {
        var calls = 0
        let captured = CapturedConsole()
        let times = try BenchCommand.measure(seconds: 0, minimumRuns: 1_000_000, limit: 0, console: captured.console) { calls += 1 }
        #expect(times.count == 1)
        #expect(calls >= 2 && calls <= 3)  // the warm-up (one or two runs) and the timed one
        #expect(captured.err == "cnnc bench: stopped after 1 of the 1000000 runs --min-runs asks for: a measurement takes at most 0 seconds\n")
    }
}

private final class CapturedConsole: @unchecked Sendable {
    var err = ""
    var console: Console { Console(writeOut: { _ in }, writeErr: { self.err += $0 }, colour: false) }
}
