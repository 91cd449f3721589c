@testable import Codegen
import Foundation
import Testing

/// cnnc_vector.h's cv_exp against libm's expf over a dense sweep, the sigmoid and silu built
/// on it against the reference's formulas, and the channel gather's lane moves, for plain C
/// and this machine's vector unit (AVX-512 compiled only where the machine has none;
/// VectorBranchTests compiles NEON).
@Suite struct VectorMathTests {
    /// Every 61st float from -110 to 100 by bit pattern (past both ends of expf's range), then
    /// the special values; prints the worst error in ulp of the result (in denormal steps
    /// where expf is denormal) and the lanes that are wrong outright.
    static let harness = """
        #include <stdio.h>
        #include <stdint.h>
        static int64_t ordered(float f) { int32_t i; memcpy(&i, &f, 4); return i < 0 ? -(int64_t)(i & 0x7fffffff) : i; }
        static float unordered(int64_t i) { const int32_t bits = i < 0 ? (int32_t)((uint32_t)(-i) | 0x80000000u) : (int32_t)i; float f; memcpy(&f, &bits, 4); return f; }
        static double ulps(float got, float want)
        {
            if (fabsf(want) < 1.17549435e-38f) return fabs((double)got - want) / 1.40129846e-45;
            return fabs((double)got - want) / ((double)nextafterf(fabsf(want), INFINITY) - fabsf(want));
        }
        static int same(float got, float want) { return isnan(want) ? isnan(got) : got == want; }
        static double worst = 0, worstDerived = 0;
        static long wrong = 0;
        static void check(const float *x)
        {
            float e[16], s[16], u[16];
            int l;
            cv_store(e, cv_exp(cv_load(x)));
            cv_store(s, cv_sigmoid(cv_load(x)));
            cv_store(u, cv_silu(cv_load(x)));
            for (l = 0; l < 16; l++) {
                const float want = expf(x[l]), sigmoid = 1.0f / (1.0f + expf(-x[l])), silu = x[l] / (1.0f + expf(-x[l]));
                if (isnan(want) || isinf(want) || isinf(e[l]) || isnan(e[l])) wrong += !same(e[l], want);
                else if (ulps(e[l], want) > worst) worst = ulps(e[l], want);
                if (isnan(silu) || isinf(silu)) wrong += !same(s[l], sigmoid) + !same(u[l], silu);
                else {
                    wrong += isnan(s[l]) + isnan(u[l]);  /* a NaN is no number of ulps off */
                    if (ulps(s[l], sigmoid) > worstDerived) worstDerived = ulps(s[l], sigmoid);
                    if (ulps(u[l], silu) > worstDerived) worstDerived = ulps(u[l], silu);
                }
            }
        }
        int main(void)
        {
            static const float specials[16] = { NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e30f, -1e30f, 88.72f,
                                                88.73f, -103.0f, -104.5f, 3.4e38f, -3.4e38f, 1e-30f, -20.0f, 1.0f };
            float x[16];
            int64_t i;
            int k = 0;
            for (i = ordered(-110.0f); i <= ordered(100.0f); i += 61) {
                x[k++] = unordered(i);
                if (k == 16) { check(x); k = 0; }
            }
            check(specials);
            printf("exp %.2f ulp, sigmoid/silu %.2f ulp, %ld wrong\\n", worst, worstDerived, wrong);
            return 0;
        }
        """

    /// cv_lanes_pick on 200 permutations and masks: lane l is src[idx[l]] where the mask is
    /// set, acc's lane elsewhere.
    static let lanesHarness = """
        #include <stdio.h>
        int main(void)
        {
            float a[16], s[16], r[16];
            int idx[16], m[16], l, t, wrong = 0;
            for (t = 0; t < 200; t++) {
                for (l = 0; l < 16; l++) { a[l] = (float)(-1 - l); s[l] = (float)(100 + l); idx[l] = (l * 7 + t * 3) % 16; m[l] = (l + t) % 3 != 0; }
                cv_store(r, cv_lanes_pick(cv_load(a), cv_load(s), cv_lanes_make(idx, m)));
                for (l = 0; l < 16; l++) wrong += r[l] != (m[l] ? s[idx[l]] : a[l]);
            }
            printf("%d wrong lanes\\n", wrong);
            return wrong != 0;
        }
        """

    @Test func lanePicksMoveTheNamedLanes() throws {
        for (name, output) in try Self.run(Self.lanesHarness, label: "vector-lanes") {
            #expect(output == "0 wrong lanes\n", "\(name): \(output)")
        }
    }

    /// `harness` after the vector header, built for each variant; the output of each that runs.
    static func run(_ harness: String, label: String) throws -> [(String, String)] {
        let directory = try temporaryDirectory(label)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try write(FastCSupport.includes + "\n" + FastCSupport.vectors + "\n" + harness, to: "\(directory)/exp.c")
        var variants: [(name: String, flags: [String], runs: Bool)] = [("host", ["-march=native"], true)]
        #if arch(x86_64)
        variants += [("plain C", [], true), ("avx512", ["-mavx512f"], VectorTarget.host == .avx512)]
        #endif
        var outputs: [(String, String)] = []
        for variant in variants {
            let flags = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2"] + variant.flags + ["exp.c", "-o", "exp", "-lm"]
            let built = try shell(try cCompiler(), variant.runs ? flags : flags.filter { $0 != "-lm" } + ["-c"], in: directory)
            #expect(built.status == 0, "\(variant.name): \(built.output.prefix(2000))")
            guard built.status == 0, variant.runs else { continue }
            outputs.append((variant.name, try shell("\(directory)/exp", []).output))
        }
        return outputs
    }

    @Test func expMatchesLibm() throws {
        let directory = try temporaryDirectory("vector-exp")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try write(FastCSupport.includes + "\n" + FastCSupport.vectors + "\n" + Self.harness, to: "\(directory)/exp.c")
        var variants: [(name: String, flags: [String], runs: Bool)] = [("host", ["-march=native"], true)]
        #if arch(x86_64)
        variants += [("plain C", [], true), ("avx512", ["-mavx512f"], VectorTarget.host == .avx512)]
        #endif
        for variant in variants {
            let flags = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2"] + variant.flags + ["exp.c", "-o", "exp", "-lm"]
            let built = try shell(try cCompiler(), variant.runs ? flags : flags.filter { $0 != "-lm" } + ["-c"], in: directory)
            #expect(built.status == 0, "\(variant.name): \(built.output.prefix(2000))")
            guard built.status == 0, variant.runs else { continue }
            let ran = try shell("\(directory)/exp", [])
            // Measured: 1.00 ulp for exp, 4.00 for sigmoid and silu (against the formulas on
            // libm's expf, whose own rounding and the add's and divide's compound cv_exp's).
            let parts = ran.output.split(separator: " ")
            let exp = Double(parts.dropFirst().first ?? "") ?? .infinity
            let derived = Double(parts.dropFirst(4).first ?? "") ?? .infinity
            #expect(ran.status == 0 && ran.output.hasSuffix(", 0 wrong\n") && exp <= 2 && derived <= 6, "\(variant.name): \(ran.output)")
        }
    }
}
