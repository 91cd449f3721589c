import Codegen
import Foundation
import ShapeCheck
import Testing
@testable import cnnc

/// The memory account under `check`'s table and in `compile`'s report: one renderer
/// (MemoryReport), the numbers MemoryAccountTests checks against the generated code.
struct MemoryReportTests {
    static let lenet5 = Paths.packageRoot.appendingPathComponent("models/lenet5.cnn").path
    /// A depthwise multiplier: the fast kernels need scratch per thread.
    static let multiplier = "network dw\ninput 20x20x8\nd: depthwise 3x3 multiplier 2 pad 1 relu\ne: conv 16 1x1\n"
    /// Channels in multiples of 16 and concats: the fast kernels need no more than the plain ones.
    static let concat = """
        network dense
        input 16x16x32
        a: conv 32 3x3 pad 1 relu
        b: conv 32 3x3 pad 1 relu
        c: concat a b
        d: conv 32 3x3 pad 1 relu from c
        e: concat c d
        f: conv 16 1x1 from e
        """

    func accounts(_ path: String, target: VectorTarget) throws -> (fast: MemoryAccount, plain: MemoryAccount) {
        let net = try checkedNetwork(path)
        return (try #require(MemoryAccount(network: net, program: lowerForC(net, options: KernelOptions(target: target)))),
                try #require(MemoryAccount(network: net, program: lower(net))))
    }

    @Test func checkPrintsTheAccountAfterTheUnchangedTable() throws {
        let result = runCNNC(["check", Self.lenet5, "--target", "avx512"])
        #expect(result.status == 0 && result.err.isEmpty)
        let table = CheckReport.table(try checkedNetwork(Self.lenet5), path: Self.lenet5)
        #expect(result.out.hasPrefix(table + "\nmemory (fast C kernels for avx512; batch 1, 1 thread):\n"), "\(result.out)")
        let (fast, plain) = try accounts(Self.lenet5, target: .avx512)
        let g = CheckReport.grouped
        #expect(line("weights as trained", in: result.out)?.contains("\(g(fast.logicalWeightBytes)) B") == true)
        #expect(line("weights as trained", in: result.out)?.contains("\(g(fast.parameters)) float32 parameters") == true)
        #expect(line("weights packed", in: result.out)?.contains("\(g(fast.packedWeightBytes)) B") == true)
        #expect(line("activation arena", in: result.out)?.contains("\(g(fast.arenaBytes)) B") == true)
        #expect(line("workspace", in: result.out)?.contains("lenet5_workspace_size(1)") == true)
        let total = fast.packedWeightBytes + fast.arenaBytes + fast.scratchBytes
        #expect(line("total", in: result.out)?.contains("\(g(total)) B") == true)
        // LeNet-5's six channels padded to 16: the plain kernels need less, and it says both totals.
        let advice = try #require(line("the plain kernels need less memory", in: result.out))
        #expect(advice.contains("\(g(plain.totalBytes(batch: 1, threads: 1))) B in all") && advice.contains("\(g(total)) B for the fast ones"))
        #expect(!result.out.contains("193.7%") && !result.out.contains("arena is"))
    }

    @Test func batchAndThreadsScaleTheTotal() throws {
        let path = try temporaryFile("dw.cnn", Self.multiplier)
        let result = runCNNC(["check", path, "--batch", "4", "-j", "3", "--target", "avx2"])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("memory (fast C kernels for avx2; batch 4, 3 threads):"))
        let (fast, _) = try accounts(path, target: .avx2)
        #expect(fast.scratchBytes > 0)
        let g = CheckReport.grouped
        let total = fast.packedWeightBytes + 4 * fast.arenaBytes + 3 * fast.scratchBytes
        #expect(line("total", in: result.out)?.contains("\(g(total)) B") == true, "\(result.out)")
        #expect(line("total", in: result.out)?.contains("packed weights + 4 × arena + 3 × scratch") == true)
        #expect(line("workspace", in: result.out)?.contains("\(g(4 * fast.arenaBytes + fast.scratchBytes)) B") == true)
        #expect(line("scratch", in: result.out)?.contains("per thread, the most any step needs (d)") == true)
    }

    /// ResNet-50's arena is larger than what is ever alive at once; the line says how much is.
    @Test func anArenaWithGapsSaysWhatIsAliveTogether() throws {
        let path = Paths.packageRoot.appendingPathComponent("models/resnet50.cnn").path
        let (fast, _) = try accounts(path, target: .avx512)
        #expect(fast.widestBytes < fast.arenaBytes)
        let arena = try #require(line("activation arena", in: runCNNC(["check", path, "--target", "avx512"]).out))
        #expect(arena.contains("per image: at most \(CheckReport.grouped(fast.widestBytes)) B of it alive together ("), "\(arena)")
        #expect(arena.hasSuffix("); the placement could not share the rest"))
    }

    @Test func badBatchAndThreadsAreUsageErrors() {
        let batch = runCNNC(["check", Self.lenet5, "--batch", "0"])
        #expect(batch.status == ExitCode.usage)
        #expect(batch.err.hasPrefix("cnnc check: --batch takes a whole number from 1 to 65536, not '0'\n"))
        #expect(runCNNC(["check", Self.lenet5, "--threads", "x"]).status == ExitCode.usage)
        #expect(runCNNC(["check", Self.lenet5, "--target", "sse"]).err.contains("--target is one of avx512, avx2, neon, generic, not 'sse'"))
    }

    @Test func noAdviceWhenThePlainKernelsNeedNoLess() throws {
        let path = try temporaryFile("dense.cnn", Self.concat)
        let (fast, plain) = try accounts(path, target: .avx512)
        #expect(plain.totalBytes(batch: 1, threads: 1) >= fast.totalBytes(batch: 1, threads: 1))
        let result = runCNNC(["check", path, "--target", "avx512"])
        #expect(result.out.contains("memory (fast C kernels for avx512; batch 1, 1 thread):"))
        #expect(!result.out.contains("plain kernels need less"))
    }

    @Test func jsonHasTheMemoryObject() throws {
        let result = runCNNC(["check", Self.lenet5, "--json", "--batch", "2", "--threads", "2", "--target", "avx512"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
        let memory = try #require(object["memory"] as? [String: Any])
        let totals = try #require(object["totals"] as? [String: Any])
        #expect(memory["batch"] as? Int == 2 && memory["threads"] as? Int == 2)
        #expect(memory["logical_weight_bytes"] as? Int == totals["weight_bytes"] as? Int)
        let fast = try #require(memory["fast"] as? [String: Any]), plain = try #require(memory["plain"] as? [String: Any])
        #expect(fast["target"] as? String == "avx512" && fast["winograd"] as? Bool == true && plain["target"] == nil)
        for kernels in [fast, plain] {
            let packed = try #require(kernels["packed_weight_bytes"] as? Int), arena = try #require(kernels["arena_bytes"] as? Int)
            let scratch = try #require(kernels["scratch_bytes"] as? Int)
            #expect(kernels["workspace_bytes"] as? Int == 2 * arena + scratch)
            #expect(kernels["total_bytes"] as? Int == packed + 2 * arena + 2 * scratch)
            #expect(try #require(kernels["widest_bytes"] as? Int) <= arena)
        }
        let (fastAccount, _) = try accounts(Self.lenet5, target: .avx512)
        #expect(fast["arena_bytes"] as? Int == fastAccount.arenaBytes)
        #expect(memory["plain_needs_less"] as? Bool == ((plain["total_bytes"] as! Int) < (fast["total_bytes"] as! Int)))
        #expect(memory["plain_needs_less"] as? Bool == true)
    }

    @Test func explainShowsBothKernelsAndTheArenasValues() throws {
        let result = runCNNC(["check", Self.lenet5, "--explain", "--target", "avx512"])
        let (fast, plain) = try accounts(Self.lenet5, target: .avx512)
        let g = CheckReport.grouped
        let side = try #require(line("activation arena  ", in: result.out.components(separatedBy: "side by side").last ?? ""))
        #expect(side.contains("\(g(fast.arenaBytes)) B") && side.contains("\(g(plain.arenaBytes)) B"), "\(side)")
        #expect(result.out.contains("arena of the fast C kernels for avx512, per image (\(g(fast.arenaBytes)) B):"))
        #expect(result.out.contains("arena of the plain kernels, per image (\(g(plain.arenaBytes)) B):"))
        // c1 blocked: 16 lanes of 28x28; marked as one of the values alive together at s2.
        let c1 = try #require(line("0  \(g(4 * 16 * 28 * 28))", in: result.out))
        #expect(c1.contains("c1 *") && c1.contains("blocked") && c1.hasSuffix("s2"))
        #expect(result.out.contains("* alive together at s2: \(g(fast.widestBytes)) B, the most at any step"))
        // The layers' formulas still follow.
        #expect(result.out.contains("c3: (14 − 5 + 2·0)/1 + 1 = 10"))
    }

    @Test func aNetworkTooLargeToCompileStillChecks() throws {
        let path = try temporaryFile("big.cnn", "input 65536\nf: fc 32768\n")
        let result = runCNNC(["check", path])
        #expect(result.status == 0 && result.err.isEmpty)
        #expect(result.out.contains("trainable parameters") && !result.out.contains("memory ("))
        let json = runCNNC(["check", path, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        #expect(object["totals"] != nil && object["memory"] == nil)
    }

    @Test func compileReportsTheAccountOfWhatItWrote() throws {
        let dir = try ScratchFolder("memory-compile")
        let (fast, plain) = try accounts(Self.lenet5, target: .avx512)
        let fastRun = runCNNC(["compile", Self.lenet5, "-o", dir.file("fast"), "--target", "avx512"])
        #expect(fastRun.status == 0, "\(fastRun.err)")
        let run = MemoryReport.Run()
        #expect(fastRun.out.contains(MemoryReport.block(fast, run) + "\n" + MemoryReport.recommendation(fast: fast, plain: plain, run)!))
        // The same block check prints.
        #expect(runCNNC(["check", Self.lenet5, "--target", "avx512"]).out.contains(MemoryReport.block(fast, run)))
        let plainRun = runCNNC(["compile", Self.lenet5, "-o", dir.file("plain"), "--plain"])
        #expect(plainRun.out.contains("memory (plain C kernels; batch 1, 1 thread):"))
        #expect(line("weights packed", in: plainRun.out)?.contains("\(CheckReport.grouped(plain.packedWeightBytes)) B") == true)
        #expect(!plainRun.out.contains("need less memory"))
        let header = try String(contentsOfFile: dir.file("plain/lenet5.h"), encoding: .utf8)
        #expect(header.contains("#define LENET5_ARENA_SIZE \(plain.arenaBytes / 4) "))
    }
}
