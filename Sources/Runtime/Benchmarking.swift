import Codegen
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A compiled network ready to be timed: its workspace, input and output are allocated once,
/// so a call is the generated code's `NAME_run` and nothing else.
public final class PreparedRun {
    public let executor: CompiledExecutor
    public let batch: Int
    private let workspace: UnsafeMutableRawPointer
    private let input: UnsafeMutablePointer<Float>
    private let output: UnsafeMutablePointer<Float>
    private let inputCount: Int
    private let outputCount: Int

    /// The buffers come from posix_memalign, so memory that is not there is an error, not a trap.
    init(executor: CompiledExecutor, input tensor: Tensor) throws {
        self.executor = executor
        batch = tensor.shape[0]
        let images = "\(batch) image\(batch == 1 ? "" : "s")"
        let bytes = max(executor.workspaceBytes(batch: batch), 64)
        inputCount = tensor.storage.count
        outputCount = batch * executor.network.output.elementCount
        let workspace = try allocateAligned(bytes, for: "the workspace of \(images)")
        let input: UnsafeMutableRawPointer, output: UnsafeMutableRawPointer
        do {
            input = try allocateAligned(4 * inputCount, for: "the input of \(images)")
            do { output = try allocateAligned(4 * outputCount, for: "the output of \(images)") } catch { free(input); throw error }
        } catch {
            free(workspace)
            throw error
        }
        memset(workspace, 0, bytes)
        self.workspace = workspace
        self.input = input.bindMemory(to: Float.self, capacity: max(inputCount, 16))
        self.output = output.bindMemory(to: Float.self, capacity: max(outputCount, 16))
        tensor.storage.withUnsafeBufferPointer { source in
            self.input.initialize(from: source.baseAddress!, count: source.count)
        }
        self.output.initialize(repeating: 0, count: max(outputCount, 1))
    }

    deinit {
        free(workspace)
        free(input)
        free(output)
    }

    /// One run; false when the generated code reports an error.
    @discardableResult
    public func run() -> Bool {
        let floats = workspace.assumingMemoryBound(to: Float.self)
        return executor.call(executor.weights, floats, input, output, Int32(batch)) == 0
    }

    /// The output of the last run, [N, …].
    public var result: Tensor {
        Tensor(shape: [batch] + executor.network.output.dimensions,
               storage: Array(UnsafeBufferPointer(start: output, count: outputCount)))
    }

    /// Each kernel step's seconds in the last run (the library must be built with
    /// `ExecutorOptions.profile`), in `executor.program.kernelPlan` step order; nil otherwise.
    public func stepSeconds() -> [Double]? {
        guard let steps = executor.profileSteps, let seconds = executor.profileSeconds else { return nil }
        return (0..<Int(steps())).map { seconds(Int32($0)) }
    }
}

extension CompiledExecutor {
    /// Buffers for timing runs on `input` ([N, …] with the network's image shape).
    public func prepare(_ input: Tensor) throws -> PreparedRun {
        let dimensions = network.input.dimensions
        guard input.shape.count == dimensions.count + 1, Array(input.shape.dropFirst()) == dimensions, input.shape[0] > 0 else {
            throw RuntimeError("input has shape \(input.shapeDescription), but network '\(network.name)' expects [N, "
                + dimensions.map(String.init).joined(separator: ", ") + "]")
        }
        return try PreparedRun(executor: self, input: input)
    }
}

/// The machine's peak float32 multiply-add rate: a C loop of independent FMA chains (AVX-512,
/// AVX2 or plain C, whatever -march=native offers), compiled through the cache and loaded
/// once, so that short windows of it can be run between other measurements: on a shared
/// machine whose clock wanders, a rate is comparable with the peak only when both were
/// sampled over the same stretch of time.
public struct PeakMeter {
    typealias MeasureFunction = @convention(c) (Double, Int32) -> Double
    let function: MeasureFunction

    static let source = """
        /* cnnc peak: independent FMA chains on every thread; returns GFLOP/s over all threads. */
        #define _POSIX_C_SOURCE 200809L
        #include <pthread.h>
        #include <time.h>
        #include <stddef.h>
        #if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
        #include <immintrin.h>
        #endif

        static double cnnc_peak_now(void)
        {
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
        }

        typedef struct { double seconds; double flops; double elapsed; float sink; } cnnc_peak_job;

        /* Where every thread leaves its result, so the compiler must compute it. */
        volatile float cnnc_peak_sink;
        /* Read at run time, so the compiler cannot know the chains' values. */
        volatile float cnnc_peak_one = 1.0f, cnnc_peak_m = 0.999999f, cnnc_peak_c = 1e-6f;

        static void *cnnc_peak_thread(void *arg)
        {
            cnnc_peak_job *job = (cnnc_peak_job *)arg;
            const double start = cnnc_peak_now();
            double flops = 0.0, now = start;
            long i, rounds = 0;
        #if defined(__AVX512F__)
            const float one = cnnc_peak_one;
            __m512 a0 = _mm512_set1_ps(one), a1 = _mm512_set1_ps(one + 1), a2 = _mm512_set1_ps(one + 2), a3 = _mm512_set1_ps(one + 3);
            __m512 a4 = _mm512_set1_ps(one + 4), a5 = _mm512_set1_ps(one + 5), a6 = _mm512_set1_ps(one + 6), a7 = _mm512_set1_ps(one + 7);
            __m512 a8 = _mm512_set1_ps(one + 8), a9 = _mm512_set1_ps(one + 9), a10 = _mm512_set1_ps(one + 10), a11 = _mm512_set1_ps(one + 11);
            const __m512 m = _mm512_set1_ps(cnnc_peak_m), c = _mm512_set1_ps(cnnc_peak_c);
            const double per = 12.0 * 16.0 * 2.0;
            do {
                for (i = 0; i < 100000; i++) {
                    a0 = _mm512_fmadd_ps(a0, m, c); a1 = _mm512_fmadd_ps(a1, m, c); a2 = _mm512_fmadd_ps(a2, m, c);
                    a3 = _mm512_fmadd_ps(a3, m, c); a4 = _mm512_fmadd_ps(a4, m, c); a5 = _mm512_fmadd_ps(a5, m, c);
                    a6 = _mm512_fmadd_ps(a6, m, c); a7 = _mm512_fmadd_ps(a7, m, c); a8 = _mm512_fmadd_ps(a8, m, c);
                    a9 = _mm512_fmadd_ps(a9, m, c); a10 = _mm512_fmadd_ps(a10, m, c); a11 = _mm512_fmadd_ps(a11, m, c);
                }
                rounds++;
                now = cnnc_peak_now();
            } while (now - start < job->seconds);
            a0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)), _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
            a0 = _mm512_add_ps(a0, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
            job->sink = _mm512_reduce_add_ps(a0);
        #elif defined(__AVX2__) && defined(__FMA__)
            const float one = cnnc_peak_one;
            __m256 a0 = _mm256_set1_ps(one), a1 = _mm256_set1_ps(one + 1), a2 = _mm256_set1_ps(one + 2), a3 = _mm256_set1_ps(one + 3);
            __m256 a4 = _mm256_set1_ps(one + 4), a5 = _mm256_set1_ps(one + 5), a6 = _mm256_set1_ps(one + 6), a7 = _mm256_set1_ps(one + 7);
            __m256 a8 = _mm256_set1_ps(one + 8), a9 = _mm256_set1_ps(one + 9);
            const __m256 m = _mm256_set1_ps(cnnc_peak_m), c = _mm256_set1_ps(cnnc_peak_c);
            const double per = 10.0 * 8.0 * 2.0;
            float out[8];
            do {
                for (i = 0; i < 100000; i++) {
                    a0 = _mm256_fmadd_ps(a0, m, c); a1 = _mm256_fmadd_ps(a1, m, c); a2 = _mm256_fmadd_ps(a2, m, c);
                    a3 = _mm256_fmadd_ps(a3, m, c); a4 = _mm256_fmadd_ps(a4, m, c); a5 = _mm256_fmadd_ps(a5, m, c);
                    a6 = _mm256_fmadd_ps(a6, m, c); a7 = _mm256_fmadd_ps(a7, m, c); a8 = _mm256_fmadd_ps(a8, m, c);
                    a9 = _mm256_fmadd_ps(a9, m, c);
                }
                rounds++;
                now = cnnc_peak_now();
            } while (now - start < job->seconds);
            a0 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)), _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
            a0 = _mm256_add_ps(a0, _mm256_add_ps(a8, a9));
            _mm256_storeu_ps(out, a0);
            job->sink = out[0] + out[7];
        #else
            float a[32];
            const double per = 32.0 * 2.0;
            int k;
            const float m = cnnc_peak_m, c = cnnc_peak_c;
            for (k = 0; k < 32; k++) a[k] = cnnc_peak_one + (float)k;
            do {
                for (i = 0; i < 100000; i++) {
                    for (k = 0; k < 32; k++) a[k] = a[k] * m + c;
                }
                rounds++;
                now = cnnc_peak_now();
            } while (now - start < job->seconds);
            job->sink = a[0] + a[31];
        #endif
            cnnc_peak_sink = job->sink;
            flops = (double)rounds * 100000.0 * per;
            job->flops = flops;
            job->elapsed = now - start;
            return NULL;
        }

        double cnnc_peak_gflops(double seconds, int threads)
        {
            cnnc_peak_job jobs[64];
            pthread_t ids[64];
            double total = 0.0;
            int t, started = 0;
            if (threads < 1) threads = 1;
            if (threads > 64) threads = 64;
            for (t = 0; t < threads; t++) {
                jobs[t].seconds = seconds;
                jobs[t].flops = 0.0;
                jobs[t].elapsed = 1.0;
            }
            for (t = 1; t < threads; t++) {
                if (pthread_create(&ids[t], NULL, cnnc_peak_thread, &jobs[t]) != 0) break;
                started = t;
            }
            cnnc_peak_thread(&jobs[0]);
            for (t = 1; t <= started; t++) pthread_join(ids[t], NULL);
            for (t = 0; t <= started; t++) total += jobs[t].flops / jobs[t].elapsed;
            return total / 1e9;
        }
        """

    public init(cache: CompilerCache = .standard) throws {
        let compiler = try Compiler.c()
        let (path, _) = try cache.library(source: Self.source, name: "cnnc_peak", compiler: compiler)
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw RuntimeError("\(path): cannot load the peak benchmark")
        }
        guard let symbol = dlsym(handle, "cnnc_peak_gflops") else {
            throw RuntimeError("\(path): no cnnc_peak_gflops")
        }
        function = unsafeBitCast(symbol, to: MeasureFunction.self)
    }

    /// GFLOP/s of `threads` threads running the loop together for about `seconds`.
    public func rate(threads: Int, seconds: Double) -> Double {
        function(seconds, Int32(threads))
    }
}
