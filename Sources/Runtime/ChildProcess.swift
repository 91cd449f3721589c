import ChildProcessSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The one way cnnc runs another program (compilers, `--version`, the network fuzzer's
// children). Each child starts in a process group of its own with default signal handling and
// is registered with `SignalCleanup`, so an interrupted cnnc stops the whole group; every wait
// is bounded; stdout and stderr come back through one pipe that is read while waiting, so a
// chatty child cannot fill it and block.

/// How a child ended, and what it printed.
public struct ChildResult: Sendable {
    public enum Termination: Sendable, Equatable {
        case exited(Int32)
        case signaled(Int32)
        /// It ran past its time and its group was killed.
        case timedOut
    }

    public var termination: Termination
    /// Its stdout and stderr together (the first `outputLimit` bytes).
    public var output: String
    /// Its process id (gone by now).
    public var pid: Int32

    /// The exit status of a child that exited.
    public var status: Int32? {
        if case .exited(let status) = termination { return status }
        return nil
    }
}

/// Runs `path` with `arguments` (stdin from /dev/null) and waits at most `timeout` seconds;
/// past that its process group gets SIGKILL and the result is `.timedOut`. Once the child has
/// exited, anything it left running in its group is killed too. Fails only when it cannot start.
public func runChild(_ path: String, _ arguments: [String], workingDirectory: String? = nil,
                     timeout: Double, outputLimit: Int = 4 << 20) throws -> ChildResult {
    let input = open("/dev/null", O_RDONLY | O_CLOEXEC)
    guard input >= 0 else { throw RuntimeError("/dev/null: cannot open (\(errnoText(errno)))") }
    defer { close(input) }
    var pipeEnds: [Int32] = [-1, -1]
    guard cnnc_pipe_cloexec(&pipeEnds) == 0 else { throw RuntimeError("\(path): cannot run (no pipe: \(errnoText(errno)))") }
    var reading = pipeEnds[0]
    defer { if reading >= 0 { close(reading) } }

    // Every C string is made before the fork: the child may only make async-signal-safe calls.
    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var code: Int32 = 0
    let started = SignalCleanup.starting { () -> pid_t? in
        var pid: pid_t = 0
        // ETXTBSY: a script just written (a compiler wrapper) is still open for writing in a
        // child another thread forked and has not yet exec'd; it passes in microseconds.
        for attempt in 0..<50 {
            code = argv.withUnsafeBufferPointer { args in
                if let workingDirectory {
                    return cnnc_spawn(path, args.baseAddress, workingDirectory, input, pipeEnds[1], &pid)
                }
                return cnnc_spawn(path, args.baseAddress, nil, input, pipeEnds[1], &pid)
            }
            if code != ETXTBSY || attempt == 49 { break }
            usleep(10_000)
        }
        return code == 0 ? pid : nil
    }
    close(pipeEnds[1])
    guard let pid = started else { throw RuntimeError("\(path): cannot run (\(errnoText(code)))") }

    var output: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    let deadline = monotonicSeconds() + timeout
    var endedAt: Double? = nil, killedAt: Double? = nil
    var idle: Int32 = 1
    while true {
        let now = monotonicSeconds()
        if endedAt == nil && killedAt == nil && now >= deadline {
            kill(-pid, SIGKILL)
            killedAt = now
        }
        // After the exit, a second for the rest of the output (a grandchild may hold the pipe).
        if let endedAt, reading < 0 || now - endedAt >= 1 { break }
        // SIGKILL is not refused; a child stuck in the kernel still gets no more than 5 s.
        if let killedAt, now - killedAt >= 5 { break }
        if reading >= 0 {
            let untilDeadline = killedAt == nil && endedAt == nil ? max(1, Int32(min(200, (deadline - now) * 1000))) : 50
            var poller = pollfd(fd: reading, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, untilDeadline) > 0 {
                let got = buffer.withUnsafeMutableBytes { read(reading, $0.baseAddress!, $0.count) }
                if got > 0 {
                    let kept = min(got, max(0, outputLimit - output.count))
                    output += buffer[0..<kept]
                } else if got == 0 || (errno != EINTR && errno != EAGAIN) {
                    close(reading)
                    reading = -1
                }
            }
        } else {
            usleep(useconds_t(idle) * 1000)    // the pipe is closed: the exit is a moment away
            idle = min(idle * 2, 50)
        }
        if endedAt == nil, cnnc_child_ended(pid) != 0 { endedAt = monotonicSeconds() }
    }

    var termination = ChildResult.Termination.timedOut
    let ended = endedAt != nil || cnnc_child_ended(pid) != 0
    // What it left behind in its group; until it is reaped its zombie keeps the group id ours.
    if ended { kill(-pid, SIGKILL) }
    // Forgotten before it is reaped, so a signal never goes to a group id that was reused.
    SignalCleanup.finished(pid)
    if ended {
        var exitCode: Int32 = 0, signal: Int32 = 0
        if cnnc_reap(pid, &exitCode, &signal) == 0, killedAt == nil {
            termination = signal != 0 ? .signaled(signal) : .exited(exitCode)
        }
    }
    return ChildResult(termination: termination, output: String(decoding: output, as: UTF8.self), pid: pid)
}

/// Seconds on the monotonic clock (bench's timings and every bounded wait).
public func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
