import Foundation
import Runtime
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The one runner of child processes (`runChild`): bounded waits, whole process groups,
/// default signal handling in the child.
@Suite struct ChildProcessTests {
    func gone(_ pid: pid_t) -> Bool {
        // A killed grandchild is reaped by init a moment later; until then kill(pid, 0) succeeds.
        for _ in 0..<500 {
            if kill(pid, 0) != 0 && errno == ESRCH { return true }
            usleep(10_000)
        }
        return false
    }

    @Test func exitStatusSignalAndOutput() throws {
        let ok = try runChild("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"], timeout: 30)
        #expect(ok.termination == .exited(3))
        #expect(ok.output == "out\nerr\n")
        let killed = try runChild("/bin/sh", ["-c", "kill -SEGV $$"], timeout: 30)
        #expect(killed.termination == .signaled(SIGSEGV))
    }

    @Test func aChildThatCannotStartIsAnError() throws {
        do {
            _ = try runChild("/nonexistent/cc", [], timeout: 30)
            Issue.record("no error")
        } catch let error as RuntimeError {
            #expect(error.message == "/nonexistent/cc: cannot run (No such file or directory)")
        }
    }

    @Test func theWaitIsBoundedAndTheWholeGroupIsKilled() throws {
        // The shell and its `sleep` both outlive the bound; both must be gone after it.
        let result = try runChild("/bin/sh", ["-c", "sleep 100 & echo $!; exec sleep 100"], timeout: 1)
        #expect(result.termination == .timedOut)
        let grandchild = try #require(pid_t(result.output.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(gone(result.pid), "the child is still running")
        #expect(gone(grandchild), "the child's background process is still running")
    }

    @Test func aGrandchildHoldingThePipeDoesNotHoldTheWait() throws {
        // The child exits at once; what it left running has the pipe open. The runner takes a
        // second for the rest of the output, then kills the rest of the group.
        let start = Date()
        let result = try runChild("/bin/sh", ["-c", "sleep 100 & echo $!"], timeout: 60)
        #expect(Date().timeIntervalSince(start) < 30, "the wait followed the grandchild")
        #expect(result.termination == .exited(0))
        let grandchild = try #require(pid_t(result.output.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(gone(grandchild))
    }

    @Test func theChildStartsWithNoBlockedOrIgnoredSignalsInItsOwnGroup() throws {
        // This process may ignore SIGPIPE (and cnnc blocks SIGINT/SIGTERM/SIGHUP); the child must not.
        let result = try runChild("/bin/sh", ["-c", "grep -E '^Sig(Blk|Ign)' /proc/self/status; ps -o pgid= -p $$"], timeout: 30)
        let lines = result.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.count == 3, "\(result.output)")
        // Signals 1-31; glibc keeps 32 and 33 for itself and will not reset them.
        func standard(_ name: String) -> UInt64? {
            lines.first { $0.hasPrefix(name) }.flatMap { UInt64($0.dropFirst(name.count).trimmingCharacters(in: .whitespaces), radix: 16) }
                .map { $0 & 0x7fff_ffff }
        }
        #expect(standard("SigBlk:") == 0, "\(result.output)")
        #expect(standard("SigIgn:") == 0, "\(result.output)")
        #expect(lines.last.flatMap { pid_t($0) } == result.pid, "not in a group of its own: \(result.output)")
    }

    @Test func muchOutputDoesNotBlockTheChild() throws {
        // Several pipe buffers' worth: read while waiting, so the child never blocks on a full pipe.
        let result = try runChild("/bin/sh", ["-c", "head -c 3000000 /dev/zero | tr '\\0' x"], timeout: 60)
        #expect(result.termination == .exited(0))
        #expect(result.output.utf8.count == 3_000_000)
    }
}
