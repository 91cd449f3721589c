import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What cnnc undoes when SIGINT, SIGTERM or SIGHUP ends it: the running children (their whole
/// process groups get the same signal, then SIGKILL if they have not gone in a few seconds) and
/// the temporary files and folders registered here. Then the process dies of the signal it got,
/// so the shell and `timeout` see what happened.
///
/// Only an executable calls `install()` (cnnc, the network fuzzer): it blocks the signals in
/// every thread and waits for them on a thread of its own, so the cleanup runs as ordinary code,
/// not in a signal handler. Test processes never install it; registering is then bookkeeping only.
/// This file needs nothing but Foundation, so the readers' fuzz build can include it.
public enum SignalCleanup {
    /// The signals that clean up. SIGQUIT keeps its core dump; a signal ignored when the
    /// process started (`nohup`) stays ignored.
    public static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    /// How long children get to go after the forwarded signal, before SIGKILL.
    static let graceSeconds = 5.0

    /// Removes `path` (a file, or a folder with everything in it) if the process is interrupted
    /// before `unregisterTemporary(path)`. Register before creating it; unregister once it is
    /// renamed into place or removed.
    public static func registerTemporary(_ path: String) {
        state.locked { $0.temporaries[path, default: 0] += 1 }
    }

    public static func unregisterTemporary(_ path: String) {
        state.locked { state in
            guard let count = state.temporaries[path] else { return }
            state.temporaries[path] = count > 1 ? count - 1 : nil
        }
    }

    /// True once a signal has started the cleanup: the process is about to die.
    public static var isTerminating: Bool { state.locked { $0.terminating } }

    /// Blocks the signals and starts the thread that waits for them. Call it first thing in
    /// `main`, before any thread exists, so every thread inherits the blocked mask.
    public static func install() {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals {
            var current = sigaction()
            sigaction(signal, nil, &current)
            if isIgnored(current) { continue }
            sigaddset(&set, signal)
        }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        let box = Unmanaged.passRetained(SignalSet(set))
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { argument in
            let set = Unmanaged<SignalSet>.fromOpaque(argument!).takeRetainedValue()
            SignalCleanup.waitForSignal(set.value)
            return nil
        }, box.toOpaque())
        if started != 0 {
            box.release()
            pthread_sigmask(SIG_UNBLOCK, &set, nil)    // no thread to clean up: keep the defaults
        }
    }

    // MARK: - For the child-process runner

    /// Runs `start` (which forks) with the registry locked and registers the child it returns,
    /// so a child is either known to the cleanup or never started. After a signal nothing new
    /// starts: the calling thread waits for the process to die.
    static func starting(_ start: () -> pid_t?) -> pid_t? {
        state.lock()
        if state.unsafeValue.terminating {
            state.unlock()
            parkForever()
        }
        let pid = start()
        if let pid { state.unsafeValue.children.insert(pid) }
        state.unlock()
        return pid
    }

    /// The child has been reaped. If a signal is being handled, the thread stops here rather
    /// than report the child's death as an error; the cleanup thread ends the process.
    static func finished(_ pid: pid_t) {
        let terminating = state.locked { state in
            state.children.remove(pid)
            return state.terminating
        }
        if terminating { parkForever() }
    }

    // MARK: - The cleanup

    private struct State {
        var temporaries: [String: Int] = [:]
        var children: Set<pid_t> = []
        var terminating = false
    }

    private static let state = Locked(State())

    private final class SignalSet: @unchecked Sendable {
        let value: sigset_t
        init(_ value: sigset_t) { self.value = value }
    }

    private static func isIgnored(_ action: sigaction) -> Bool {
        #if canImport(Glibc)
        return unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self) == 1   // SIG_IGN
        #else
        return unsafeBitCast(action.__sigaction_u.__sa_handler, to: Int.self) == 1
        #endif
    }

    private static func waitForSignal(_ set: sigset_t) {
        var set = set
        var signal: Int32 = 0
        while sigwait(&set, &signal) != 0 {}
        let children = state.locked { state -> Set<pid_t> in
            state.terminating = true
            return state.children
        }
        for pid in children { kill(-pid, signal) }
        if !waitForChildren(seconds: graceSeconds) {
            for pid in state.locked({ $0.children }) { kill(-pid, SIGKILL) }
            _ = waitForChildren(seconds: 2)
        }
        for path in state.locked({ Array($0.temporaries.keys) }) { removeTree(path) }
        dieOf(signal)
    }

    /// Waits until the runner threads have reaped every child; false if some are left.
    private static func waitForChildren(seconds: Double) -> Bool {
        var waited = 0.0
        while !state.locked({ $0.children.isEmpty }) {
            if waited >= seconds { return false }
            usleep(10_000)
            waited += 0.01
        }
        return true
    }

    private static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            try? FileManager.default.removeItem(atPath: path)
        } else {
            unlink(path)
        }
    }

    /// The default action of `signal`, from this thread (the only one not blocking it).
    private static func dieOf(_ number: Int32) -> Never {
        signal(number, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, number)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        raise(number)
        _exit(128 + number)
    }

    private static func parkForever() -> Never {
        while true { pause() }
    }
}

/// A value behind a mutex.
final class Locked<Value>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    var unsafeValue: Value

    init(_ value: Value) {
        unsafeValue = value
        pthread_mutex_init(mutex, nil)
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    func locked<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body(&unsafeValue)
    }
}
