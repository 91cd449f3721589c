// The fixed Swift of the fast Swift kernels: the 16-float vector and its operations (the
// same names and NaN rules as cnnc_vector.h's, so the two emitters print the same kernel
// text), the step arguments and the thread fan-out.

extension VectorTarget {
    /// The compilation condition (`-D NAME`) that spells the fast Swift kernels' arithmetic
    /// with this unit's instructions (FastSwiftSupport.arithmetic); nil: the lane loops.
    public var swiftCondition: String? {
        switch self {
        case .avx512: "CNNC_AVX512"
        case .avx2: "CNNC_AVX2"
        case .neon, .generic: nil
        }
    }
}

enum FastSwiftSupport {
    /// Names the fixed Swift declares at file scope.
    static let identifiers: Set<String> = [
        "cv16", "cv_load", "cv_store", "cv_set1", "cv_zero", "cv_fma", "cv_add", "cv_sub", "cv_mul", "cv_div", "cv_max", "cv_min",
        "cv_lanes", "cv_exp_signed", "cv_sigmoid", "cv_silu", "cv_relu6", "cv_hardswish", "cv_hardsigmoid", "cv_leaky",
        "cv_each", "cv_max_nan", "cv_bcast2", "cv_store_pairs", "cnnc_args", "cnnc_parallel", "cnnc_softmax",
    ]

    /// SIMD16<Float> is two ymm registers under AVX2 and one zmm under AVX-512: the compiler
    /// splits it as the target has. Loads and stores are unaligned, as the C's. The arithmetic
    /// is `arithmetic`'s, the same for every target (a file blocked for one unit still runs,
    /// and agrees, on another).
    static let vectors = vectorHead + arithmetic + vectorTail

    static let vectorHead = #"""
        // ---- 16 floats: one AVX-512 register, two AVX2 ones, four NEON ones ----
        // cv_max(a, b) and cv_min(a, b) return b where either is NaN, as x86's max and min do,
        // so an operand that may be NaN goes second.
        typealias cv16 = SIMD16<Float>
        @inline(__always) private func cv_load(_ p: UnsafePointer<Float>) -> cv16 { UnsafeRawPointer(p).loadUnaligned(as: cv16.self) }
        @inline(__always) private func cv_load(_ p: UnsafeMutablePointer<Float>) -> cv16 { UnsafeRawPointer(p).loadUnaligned(as: cv16.self) }
        @inline(__always) private func cv_store(_ p: UnsafeMutablePointer<Float>, _ v: cv16) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: cv16.self) }
        @inline(__always) private func cv_set1(_ x: Float) -> cv16 { cv16(repeating: x) }
        @inline(__always) private func cv_zero() -> cv16 { cv16() }

        """#

    /// The standard library's SIMD16 arithmetic (+, *, addingProduct, replacing) is a loop over
    /// the lanes that LLVM has to vectorize again, and in a micro-kernel with an epilogue it
    /// does so four lanes at a time with spills: mobilenet_v2's 1x1 convolutions (28
    /// accumulators and relu6) ran at a third of the C's speed on AVX-512. So where the compiler
    /// targets AVX-512 or AVX2 each operation is the instruction itself, from clang's intrinsics
    /// (whole, or per 8-float half). Swift has no #if for CPU features, and the intrinsics crash
    /// the compiler where their unit is not enabled, so the file says which with a compilation
    /// condition: -D CNNC_AVX512 or -D CNNC_AVX2, beside -target-cpu (cnnc passes both for this
    /// machine). Without either, the lane loops: correct anywhere, fast only with luck.
    static let arithmetic: String = {
        let names = [("cv_add", "add"), ("cv_sub", "sub"), ("cv_mul", "mul"), ("cv_div", "div"), ("cv_max", "max"), ("cv_min", "min")]
        var s = "#if arch(x86_64) && \(VectorTarget.avx512.swiftCondition!)\n"
        s += "@inline(__always) private func cv_fma(_ a: cv16, _ b: cv16, _ c: cv16) -> cv16 { _mm512_fmadd_ps(a, b, c) }\n"
        for (name, op) in names {
            s += "@inline(__always) private func \(name)(_ a: cv16, _ b: cv16) -> cv16 { _mm512_\(op)_ps(a, b) }\n"
        }
        s += "#elseif arch(x86_64) && \(VectorTarget.avx2.swiftCondition!)\n"
        s += "@inline(__always) private func cv_fma(_ a: cv16, _ b: cv16, _ c: cv16) -> cv16 {\n"
            + "    cv16(lowHalf: _mm256_fmadd_ps(a.lowHalf, b.lowHalf, c.lowHalf), highHalf: _mm256_fmadd_ps(a.highHalf, b.highHalf, c.highHalf))\n}\n"
        for (name, op) in names {
            s += "@inline(__always) private func \(name)(_ a: cv16, _ b: cv16) -> cv16 {\n"
                + "    cv16(lowHalf: _mm256_\(op)_ps(a.lowHalf, b.lowHalf), highHalf: _mm256_\(op)_ps(a.highHalf, b.highHalf))\n}\n"
        }
        s += "#else\n"
        s += #"""
            @inline(__always) private func cv_fma(_ a: cv16, _ b: cv16, _ c: cv16) -> cv16 { c.addingProduct(a, b) }
            @inline(__always) private func cv_add(_ a: cv16, _ b: cv16) -> cv16 { a + b }
            @inline(__always) private func cv_sub(_ a: cv16, _ b: cv16) -> cv16 { a - b }
            @inline(__always) private func cv_mul(_ a: cv16, _ b: cv16) -> cv16 { a * b }
            @inline(__always) private func cv_div(_ a: cv16, _ b: cv16) -> cv16 { a / b }
            @inline(__always) private func cv_max(_ a: cv16, _ b: cv16) -> cv16 { b.replacing(with: a, where: a .> b) }
            @inline(__always) private func cv_min(_ a: cv16, _ b: cv16) -> cv16 { b.replacing(with: a, where: a .< b) }

            """#
        return s + "#endif\n"
    }()

    /// What the fast kernels import, at the top of the file: clang's x86 intrinsics (the
    /// arithmetic) and the atomics of the pool.
    static let imports = """
        #if arch(x86_64) && (\(VectorTarget.avx512.swiftCondition!) || \(VectorTarget.avx2.swiftCondition!))
        import _Builtin_intrinsics.intel
        #endif
        #if os(Linux) && canImport(Synchronization)
        import Synchronization
        #endif

        """

    static let vectorTail = #"""
        /// p[0], p[1], p[0], p[1], …: two pixels of a planar row (one 64-bit broadcast).
        @inline(__always) private func cv_bcast2(_ p: UnsafePointer<Float>) -> cv16 {
            unsafeBitCast(SIMD8<Double>(repeating: UnsafeRawPointer(p).loadUnaligned(as: Double.self)), to: cv16.self)
        }
        /// The even lanes of v to p0[0..<8], the odd ones to p1[0..<8]; lanes 8..<16 of both zero.
        @inline(__always) private func cv_store_pairs(_ p0: UnsafeMutablePointer<Float>, _ p1: UnsafeMutablePointer<Float>, _ v: cv16) {
            cv_store(p0, cv16(lowHalf: v.evenHalf, highHalf: .zero))
            cv_store(p1, cv16(lowHalf: v.oddHalf, highHalf: .zero))
        }
        /// NaN where either is (max pooling's NaN, as PyTorch's).
        @inline(__always) private func cv_max_nan(_ a: cv16, _ b: cv16) -> cv16 { b.replacing(with: a, where: (a .> b) .| (a .!= a)) }
        /// Each lane through `f` (the activations libm computes: elu, tanh, gelu).
        @inline(__always) private func cv_each(_ v: cv16, _ f: (Float) -> Float) -> cv16 {
            var r = v
            for l in 0..<16 { r[l] = f(v[l]) }
            return r
        }
        // The clamps as cv_min(6, cv_max(0, ·)) with the value second, so a NaN falls through as
        // the reference's tests let it; hardswish and hardsigmoid divide by 6 as it does.
        @inline(__always) private func cv_relu6(_ v: cv16) -> cv16 { cv_min(cv_set1(6), cv_max(cv_zero(), v)) }
        @inline(__always) private func cv_hardsigmoid(_ v: cv16) -> cv16 { cv_div(cv_relu6(cv_add(v, cv_set1(3))), cv_set1(6)) }
        @inline(__always) private func cv_hardswish(_ v: cv16) -> cv16 { cv_div(cv_mul(v, cv_relu6(cv_add(v, cv_set1(3)))), cv_set1(6)) }
        @inline(__always) private func cv_leaky(_ v: cv16, _ alpha: Float) -> cv16 { cv_add(cv_max(cv_zero(), v), cv_mul(cv_set1(alpha), cv_min(v, cv_zero()))) }
        /// e^(s·x) for s = 1 or -1, as cnnc_vector.h's cv_exp_signed without AVX-512: the same
        /// clamp, split of s·x into n·ln 2 + s·r, degree-6 polynomial and two-factor 2^n.
        @inline(__always) private func cv_exp_signed(_ x: cv16, _ s: Float) -> cv16 {
            let c = s > 0 ? cv_min(cv_set1(88.8), cv_max(cv_set1(-104), x)) : cv_min(cv_set1(104), cv_max(cv_set1(-88.8), x))
            let l2e: Float = s > 0 ? 1.44269504088896341 : -1.44269504088896341
            let magic = cv_set1(12582912)  // 1.5 * 2^23: adding it rounds to an integer
            let n = cv_sub(cv_add(cv_mul(c, cv_set1(l2e)), magic), magic)
            let half = cv_sub(cv_add(cv_mul(n, cv_set1(0.5)), magic), magic)
            var r = cv_fma(n, cv_set1(-s * 0.693359375), c)
            r = cv_fma(n, cv_set1(s * 2.12194440e-4), r)
            var p = cv_fma(cv_set1(1.3836845755577087e-3), r, cv_set1(s * 8.374815806746483e-3))
            p = cv_fma(p, r, cv_set1(4.166822507977486e-2))
            p = cv_fma(p, r, cv_set1(s * 1.6666419804096222e-1))
            p = cv_fma(p, r, cv_set1(4.9999991059303284e-1))
            p = cv_fma(p, r, cv_set1(s))
            p = cv_fma(p, r, cv_set1(1))
            return cv_mul(cv_mul(p, cv_exp2i(half)), cv_exp2i(cv_sub(n, half)))
        }
        /// 2^n for integral n in [-127, 128] (a NaN lane converts as 0; its polynomial is NaN anyway).
        @inline(__always) private func cv_exp2i(_ n: cv16) -> cv16 {
            let i = SIMD16<Int32>(n.replacing(with: 0, where: n .!= n), rounding: .towardZero) &+ 127
            return unsafeBitCast(i &<< 23, to: cv16.self)
        }
        // torch's sigmoid 1 / (1 + e^-x) and silu x / (1 + e^-x), as the reference computes them.
        @inline(__always) private func cv_sigmoid(_ x: cv16) -> cv16 { cv_div(cv_set1(1), cv_add(cv_set1(1), cv_exp_signed(x, -1))) }
        @inline(__always) private func cv_silu(_ x: cv16) -> cv16 { cv_div(x, cv_add(cv_set1(1), cv_exp_signed(x, -1))) }
        """#

    /// One step's arguments, and its tasks [0, count) split over threads: on Linux a persistent
    /// pool as the C's (cnnc_pool.c), elsewhere Dispatch's concurrentPerform.
    static let threads = #"""
        // ---- one step's arguments; a step runs as tasks [0, count) split over threads ----
        private struct cnnc_args {
            var out: UnsafeMutablePointer<Float>
            var inp: UnsafePointer<Float>
            var res: UnsafePointer<Float>?
            var w: UnsafePointer<Float>?
            var bias: UnsafePointer<Float>?
            var batch: Int
            /// Every input of a step with several (add).
            var ins: [UnsafePointer<Float>] = []
        }

        /// A row of n floats through softmax, as the C's cnnc_softmax.
        private func cnnc_softmax(_ y: UnsafeMutablePointer<Float>, _ n: Int) {
            var largest = y[0], sum: Float = 0
            for i in 1..<Swift.max(n, 1) where y[i] > largest { largest = y[i] }
            for i in 0..<n {
                y[i] = expf(y[i] - largest)
                sum += y[i]
            }
            for i in 0..<n { y[i] /= sum }
        }

        #if os(Linux) && canImport(Synchronization)
        /// A persistent pool, started by the first step that asks for more than one thread and
        /// kept for the life of the process, as the C's cnnc_pool.c: a step is cut into chunks of
        /// `grain` tasks published as one ticket (job << 40 | threads << 32 | front << 16 | back,
        /// the chunks left); every thread, the caller too, claims chunks by compare-and-swap, even
        /// ids from the front and odd ones from the back (so with two threads each mostly reads
        /// what its own core wrote the step before), and the caller waits until `finished`
        /// counts them all, so nobody waits for a worker that claimed nothing. Workers spin
        /// before they sleep: a step follows the last within microseconds, and a wake-up costs
        /// tens of them (with concurrentPerform, mobilenet_v2 on two threads took longer than on
        /// one). One run uses the pool at a time; a step that finds it busy runs on its caller's
        /// thread.
        private final class cnnc_pool_state: @unchecked Sendable {
            let ticket = Atomic<UInt64>(0)
            let finished = Atomic<Int>(0)
            let sleepers = Atomic<Int>(0)
            let busy = Atomic<Bool>(false)
            let wake = DispatchSemaphore(value: 0)
            /// Worker threads started (only the pool's owner starts them).
            var started = 0
            // The step: written by the caller before it publishes the ticket (every chunk of the
            // last one is counted, so nobody reads them then), read by a thread after a claim.
            var task: (cnnc_args, Int, Int) -> Void = { _, _, _ in }
            var args: UnsafePointer<cnnc_args>? = nil
            var count = 0, grain = 1
            /// Spins of a waiting thread before it sleeps (or, the caller, yields): about 0.1 ms.
            /// Swift has no pause instruction (clang's _mm_pause is an external symbol to it).
            static let maxThreads = 64, spins = 100_000

            static func job(_ t: UInt64) -> UInt64 { t >> 40 }

            /// Thread `id` claims chunks of `job` until none are left or a newer job is out.
            func runShare(_ id: Int, _ job: UInt64) {
                while true {
                    let t = ticket.load(ordering: .acquiring)
                    let threads = Int((t >> 32) & 0xff), front = Int((t >> 16) & 0xffff), back = Int(t & 0xffff)
                    if Self.job(t) != job || id >= threads || front >= back { return }
                    let fromFront = id % 2 == 0
                    guard ticket.compareExchange(expected: t, desired: fromFront ? t &+ (1 << 16) : t &- 1,
                                                 ordering: .acquiringAndReleasing).exchanged else { continue }
                    let begin = (fromFront ? front : back - 1) * grain
                    task(args!.pointee, begin, Swift.min(begin + grain, count))
                    finished.add(1, ordering: .releasing)
                }
            }

            func work(_ id: Int, born: UInt64) {
                var seen = born
                while true {
                    var spin = 0
                    while Self.job(ticket.load(ordering: .acquiring)) == seen && spin < Self.spins { spin += 1 }
                    if Self.job(ticket.load(ordering: .sequentiallyConsistent)) == seen {
                        sleepers.add(1, ordering: .sequentiallyConsistent)
                        while Self.job(ticket.load(ordering: .sequentiallyConsistent)) == seen { wake.wait() }
                        sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    }
                    seen = Self.job(ticket.load(ordering: .acquiring))
                    runShare(id, seen)
                }
            }

            /// Starts workers until `threads` - 1 run; the threads a step can use.
            func start(_ threads: Int) -> Int {
                while started < threads - 1 {
                    let id = started + 1
                    // The worker's id and the job it was born at, in the argument's bits.
                    let argument = UnsafeMutableRawPointer(bitPattern: UInt(Self.job(ticket.load(ordering: .acquiring)) << 8) | UInt(id))
                    var thread = pthread_t()
                    let failed = pthread_create(&thread, nil, { argument in
                        let bits = UInt(bitPattern: argument)
                        cnnc_pool.work(Int(bits & 0xff), born: UInt64(bits >> 8))
                        return nil
                    }, argument)
                    if failed != 0 { break }
                    pthread_detach(thread)
                    started += 1
                }
                return Swift.min(started + 1, threads)
            }
        }

        private let cnnc_pool = cnnc_pool_state()

        private func cnnc_parallel(_ task: @escaping (cnnc_args, Int, Int) -> Void, _ a: cnnc_args, _ tasks: Int, _ threads: Int) {
            let pool = cnnc_pool
            let wanted = Swift.min(Swift.max(threads, 1), tasks, cnnc_pool_state.maxThreads)
            guard wanted > 1, pool.busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
                if tasks > 0 { task(a, 0, tasks) }
                return
            }
            defer { pool.busy.store(false, ordering: .releasing) }
            let n = pool.start(wanted)
            guard n > 1 else {
                task(a, 0, tasks)
                return
            }
            withUnsafePointer(to: a) { args in
                let grain = Swift.max(tasks / (n * 8), 1), chunks = (tasks + grain - 1) / grain
                let job = (cnnc_pool_state.job(pool.ticket.load(ordering: .acquiring)) + 1) & 0xffffff
                pool.task = task
                pool.args = args
                pool.count = tasks
                pool.grain = grain
                pool.finished.store(0, ordering: .relaxed)
                pool.ticket.store(job << 40 | UInt64(n) << 32 | UInt64(chunks), ordering: .sequentiallyConsistent)
                for _ in 0..<pool.sleepers.load(ordering: .sequentiallyConsistent) { pool.wake.signal() }
                pool.runShare(0, job)
                var spin = 0
                while pool.finished.load(ordering: .acquiring) < chunks {
                    spin += 1
                    if spin >= cnnc_pool_state.spins { sched_yield() }
                }
                pool.args = nil
            }
        }
        #else
        private func cnnc_parallel(_ task: (cnnc_args, Int, Int) -> Void, _ a: cnnc_args, _ tasks: Int, _ threads: Int) {
            let n = Swift.min(Swift.max(threads, 1), tasks)
            if n <= 1 {
                task(a, 0, tasks)
                return
            }
            DispatchQueue.concurrentPerform(iterations: n) { i in task(a, i * tasks / n, (i + 1) * tasks / n) }
        }
        #endif
        """#
}
