// The fixed Swift of the fast Swift kernels: the 16-float vector and its operations (the
// same names and NaN rules as cnnc_vector.h's, so the two emitters print the same kernel
// text), the step arguments and the thread fan-out.

enum FastSwiftSupport {
    /// Names the fixed Swift declares at file scope.
    static let identifiers: Set<String> = [
        "cv16", "cv_load", "cv_store", "cv_set1", "cv_zero", "cv_fma", "cv_add", "cv_sub", "cv_mul", "cv_div", "cv_max", "cv_min",
        "cv_lanes", "cv_exp_signed", "cv_sigmoid", "cv_silu", "cv_relu6", "cv_hardswish", "cv_hardsigmoid", "cv_leaky",
        "cv_each", "cv_max_nan", "cv_bcast2", "cv_store_pairs", "cnnc_args", "cnnc_parallel", "cnnc_softmax",
    ]

    /// SIMD16<Float> is two ymm registers under AVX2 and one zmm under AVX-512: the compiler
    /// splits it as the target has, so no per-target code is needed. Loads and stores are
    /// unaligned, as the C's; `addingProduct` is one FMA per register (checked in the assembly).
    static let vectors = #"""
        // ---- 16 floats: one AVX-512 register, two AVX2 ones, four NEON ones ----
        // cv_max(a, b) and cv_min(a, b) return b where either is NaN, as x86's max and min do,
        // so an operand that may be NaN goes second.
        typealias cv16 = SIMD16<Float>
        @inline(__always) private func cv_load(_ p: UnsafePointer<Float>) -> cv16 { UnsafeRawPointer(p).loadUnaligned(as: cv16.self) }
        @inline(__always) private func cv_load(_ p: UnsafeMutablePointer<Float>) -> cv16 { UnsafeRawPointer(p).loadUnaligned(as: cv16.self) }
        @inline(__always) private func cv_store(_ p: UnsafeMutablePointer<Float>, _ v: cv16) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: cv16.self) }
        @inline(__always) private func cv_set1(_ x: Float) -> cv16 { cv16(repeating: x) }
        @inline(__always) private func cv_zero() -> cv16 { cv16() }
        @inline(__always) private func cv_fma(_ a: cv16, _ b: cv16, _ c: cv16) -> cv16 { c.addingProduct(a, b) }
        @inline(__always) private func cv_add(_ a: cv16, _ b: cv16) -> cv16 { a + b }
        @inline(__always) private func cv_sub(_ a: cv16, _ b: cv16) -> cv16 { a - b }
        @inline(__always) private func cv_mul(_ a: cv16, _ b: cv16) -> cv16 { a * b }
        @inline(__always) private func cv_div(_ a: cv16, _ b: cv16) -> cv16 { a / b }
        @inline(__always) private func cv_max(_ a: cv16, _ b: cv16) -> cv16 { b.replacing(with: a, where: a .> b) }
        @inline(__always) private func cv_min(_ a: cv16, _ b: cv16) -> cv16 { b.replacing(with: a, where: a .< b) }
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
        @inline(__always) private func cv_hardsigmoid(_ v: cv16) -> cv16 { cv_relu6(v + cv_set1(3)) / cv_set1(6) }
        @inline(__always) private func cv_hardswish(_ v: cv16) -> cv16 { v * cv_relu6(v + cv_set1(3)) / cv_set1(6) }
        @inline(__always) private func cv_leaky(_ v: cv16, _ alpha: Float) -> cv16 { cv_max(cv_zero(), v) + cv_set1(alpha) * cv_min(v, cv_zero()) }
        /// e^(s·x) for s = 1 or -1, as cnnc_vector.h's cv_exp_signed without AVX-512: the same
        /// clamp, split of s·x into n·ln 2 + s·r, degree-6 polynomial and two-factor 2^n.
        @inline(__always) private func cv_exp_signed(_ x: cv16, _ s: Float) -> cv16 {
            let c = s > 0 ? cv_min(cv_set1(88.8), cv_max(cv_set1(-104), x)) : cv_min(cv_set1(104), cv_max(cv_set1(-88.8), x))
            let l2e: Float = s > 0 ? 1.44269504088896341 : -1.44269504088896341
            let magic = cv_set1(12582912)  // 1.5 * 2^23: adding it rounds to an integer
            let n = (c * cv_set1(l2e) + magic) - magic
            let half = (n * cv_set1(0.5) + magic) - magic
            var r = cv_fma(n, cv_set1(-s * 0.693359375), c)
            r = cv_fma(n, cv_set1(s * 2.12194440e-4), r)
            var p = cv_fma(cv_set1(1.3836845755577087e-3), r, cv_set1(s * 8.374815806746483e-3))
            p = cv_fma(p, r, cv_set1(4.166822507977486e-2))
            p = cv_fma(p, r, cv_set1(s * 1.6666419804096222e-1))
            p = cv_fma(p, r, cv_set1(4.9999991059303284e-1))
            p = cv_fma(p, r, cv_set1(s))
            p = cv_fma(p, r, cv_set1(1))
            return p * cv_exp2i(half) * cv_exp2i(n - half)
        }
        /// 2^n for integral n in [-127, 128] (a NaN lane converts as 0; its polynomial is NaN anyway).
        @inline(__always) private func cv_exp2i(_ n: cv16) -> cv16 {
            let i = SIMD16<Int32>(n.replacing(with: 0, where: n .!= n), rounding: .towardZero) &+ 127
            return unsafeBitCast(i &<< 23, to: cv16.self)
        }
        // torch's sigmoid 1 / (1 + e^-x) and silu x / (1 + e^-x), as the reference computes them.
        @inline(__always) private func cv_sigmoid(_ x: cv16) -> cv16 { cv_set1(1) / (cv_set1(1) + cv_exp_signed(x, -1)) }
        @inline(__always) private func cv_silu(_ x: cv16) -> cv16 { x / (cv_set1(1) + cv_exp_signed(x, -1)) }
        """#

    /// One step's arguments, and its tasks [0, count) split over threads: `threads` contiguous
    /// ranges on Dispatch's pool (its workers persist, so a step costs no thread start).
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

        private func cnnc_parallel(_ task: (cnnc_args, Int, Int) -> Void, _ a: cnnc_args, _ tasks: Int, _ threads: Int) {
            let n = Swift.min(Swift.max(threads, 1), tasks)
            if n <= 1 {
                task(a, 0, tasks)
                return
            }
            DispatchQueue.concurrentPerform(iterations: n) { i in task(a, i * tasks / n, (i + 1) * tasks / n) }
        }
        """#
}
