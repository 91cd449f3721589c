import Codegen
import Foundation
import Runtime
import ShapeCheck
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Every branch of the fast C's vector header (Sources/Codegen/C/cnnc_vector.h) compiled warning-free with
/// the toolchain's clang, each for the code blocked for its target: the executor only ever
/// builds the host's branch with -march=native, so the others would rot unseen.
@Suite struct VectorBranchTests {
    /// LeNet-5 (direct convolutions, pooling, fc chains) and a small network with Winograd
    /// 3x3 layers (20x20 outputs: AVX-512's minimum is 400 pixels), a fused residual add, max
    /// pooling and a softmax fc.
    static let networks = NamedCases<String>([
        ("lenet5", try! String(contentsOf: Paths.models.appendingPathComponent("lenet5.cnn"), encoding: .utf8)),
        ("mixed", """
            input 20x20x8
            c0: conv 64 3x3 pad 1 relu
            c1: conv 64 3x3 pad 1 relu
            c2: conv 64 3x3 pad 1
            s: add c2 c1 relu
            p: maxpool 2x2 stride 2
            fc 10 softmax
            """),
    ])
    static let networkNames = networks.names

    /// A branch: the plan's target, the flags that select it, and the cv16 typedef only that
    /// branch declares (the preprocessed text proves which branch was compiled).
    struct Branch: Sendable {
        let target: VectorTarget
        let flags: [String]
        let typedef: String
        let threads: Bool
    }

    static let typedefs = ["typedef __m512 cv16;", "typedef struct { __m256 lo, hi; } cv16;",
                           "typedef struct { float32x4_t q[4]; } cv16;", "typedef struct { float f[16]; } cv16;"]

    static var branches: NamedCases<Branch> {
        var list: [(String, Branch)] = []
        // The x86 branches with the host's real C headers; a plain x86-64 target has only SSE2,
        // so no -m flag is the generic branch (on AArch64 NEON is always on: no generic build).
        #if arch(x86_64)
        list += [
            ("avx512", Branch(target: .avx512, flags: ["-mavx512f", "-mfma"], typedef: typedefs[0], threads: true)),
            ("avx2", Branch(target: .avx2, flags: ["-mavx2", "-mfma"], typedef: typedefs[1], threads: true)),
            ("generic", Branch(target: .generic, flags: [], typedef: typedefs[3], threads: true)),
            ("no-threads", Branch(target: .generic, flags: ["-DCNNC_NO_THREADS"], typedef: typedefs[3], threads: false)),
        ]
        #endif
        if neonAvailable {
            list.append(("neon", Branch(target: .neon, flags: neonFlags, typedef: typedefs[2], threads: true)))
        }
        return NamedCases(list)
    }
    static let branchNames = branches.names

    /// AArch64 from any host: clang has the target and arm_neon.h (in its resource folder) but
    /// no AArch64 C library headers here, so the libc the generated C includes is replaced by
    /// the stub declarations below (real headers are checked by the x86 branches); the NEON
    /// code itself is type-checked against the real intrinsics.
    static var neonFlags: [String] {
        #if arch(arm64)
        return []
        #else
        return ["--target=aarch64-linux-gnu", "-nostdinc", "-isystem", resourceInclude]
        #endif
    }

    /// A $CC that is not clang (gcc has no --target) cannot build the NEON branch on x86;
    /// `neonIsCompiledByDefault` keeps that from silently dropping it with the default compiler.
    static var neonAvailable: Bool {
        #if arch(arm64)
        return true
        #else
        return FileManager.default.fileExists(atPath: resourceInclude + "/arm_neon.h")
        #endif
    }

    static let resourceInclude: String = {
        let result = try? shell(try cCompiler(), ["-print-resource-dir"])
        return (result?.output.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") + "/include"
    }()

    /// Declarations of the C library functions, types and macros the generated C uses.
    static let stubs: [String: String] = [
        "math.h": """
            float expf(float); float sqrtf(float); float tanhf(float); float logf(float); float fabsf(float);
            float powf(float, float); float floorf(float); float ceilf(float); float log1pf(float); float expm1f(float);
            float fmaxf(float, float); float fminf(float, float);
            #define isnan(x) __builtin_isnan(x)
            #define isinf(x) __builtin_isinf(x)
            #define isfinite(x) __builtin_isfinite(x)
            #define INFINITY __builtin_inff()
            #define NAN __builtin_nanf("")
            """,
        "stdlib.h": """
            #include <stddef.h>
            void *malloc(size_t); void free(void *); void *calloc(size_t, size_t);
            int posix_memalign(void **, size_t, size_t); void abort(void);
            """,
        "string.h": """
            #include <stddef.h>
            void *memcpy(void *, const void *, size_t); void *memset(void *, int, size_t); void *memmove(void *, const void *, size_t);
            """,
        "sched.h": "int sched_yield(void);",
        "pthread.h": """
            typedef unsigned long pthread_t;
            typedef struct { long opaque[6]; } pthread_mutex_t;
            typedef struct { long opaque[6]; } pthread_cond_t;
            typedef struct { long opaque[8]; } pthread_attr_t;
            #define PTHREAD_MUTEX_INITIALIZER { { 0 } }
            #define PTHREAD_COND_INITIALIZER { { 0 } }
            #define PTHREAD_CREATE_DETACHED 1
            int pthread_mutex_lock(pthread_mutex_t *); int pthread_mutex_unlock(pthread_mutex_t *);
            int pthread_mutex_trylock(pthread_mutex_t *);
            int pthread_cond_wait(pthread_cond_t *, pthread_mutex_t *); int pthread_cond_signal(pthread_cond_t *);
            int pthread_cond_broadcast(pthread_cond_t *);
            int pthread_attr_init(pthread_attr_t *); int pthread_attr_destroy(pthread_attr_t *);
            int pthread_attr_setdetachstate(pthread_attr_t *, int);
            int pthread_create(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
            """,
    ]

    /// Writes the stub headers into `folder`/stubs (removed with the test's folder) and
    /// returns the flags that put them on the include path; none where real headers exist.
    static func stubFlags(branch: String, in folder: String) throws -> [String] {
        #if arch(arm64)
        return []
        #else
        guard branch == "neon" else { return [] }
        let stubFolder = folder + "/stubs"
        try FileManager.default.createDirectory(atPath: stubFolder, withIntermediateDirectories: true)
        for (name, text) in stubs { try write(text + "\n", to: stubFolder + "/" + name) }
        return ["-isystem", stubFolder]
        #endif
    }

    /// The network blocked for `target`, written as NAME.c and NAME.h in a fresh folder.
    static func emit(_ name: String, target: VectorTarget) throws -> (source: String, program: LoweredProgram, prefix: String) {
        let text = networks[name]
        let program = lowerForC(try network(text, path: "\(name).cnn"), options: KernelOptions(target: target))
        let emitted = try emitC(program)
        let folder = try temporaryDirectory("vector-\(name)-\(target)")
        try write(emitted.header.contents, to: folder + "/" + emitted.header.name)
        let source = folder + "/\(emitted.symbolPrefix).c"
        try write(emitted.implementation.contents, to: source)
        return (source, program, emitted.symbolPrefix)
    }

    static let strictFlags = ["-std=c99", "-O1", "-Wall", "-Wextra", "-Werror"]

    @Test(arguments: networkNames, branchNames)
    func compilesWithoutWarnings(_ name: String, _ branchName: String) throws {
        let branch = Self.branches[branchName]
        let (source, program, _) = try Self.emit(name, target: branch.target)
        let folder = (source as NSString).deletingLastPathComponent
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let flags = Self.strictFlags + branch.flags + (try Self.stubFlags(branch: branchName, in: folder)) + ["-I", folder]
        let compiled = try shell(try cCompiler(), flags + ["-fsyntax-only", source])
        #expect(compiled.status == 0 && compiled.output.isEmpty, "\(name)/\(branchName): \(compiled.output)")

        let preprocessed = try shell(try cCompiler(), flags + ["-E", source])
        #expect(preprocessed.status == 0, "\(name)/\(branchName): \(preprocessed.output.prefix(2000))")
        let present = Self.typedefs.filter { preprocessed.output.contains($0) }
        #expect(present == [branch.typedef], "\(name)/\(branchName) compiled the branches \(present)")
        #expect(preprocessed.output.contains("pthread_create(&thread") == branch.threads, "\(name)/\(branchName)")
        // The plan really is blocked for this target (LeNet has no Winograd layer).
        if name == "mixed" {
            let plan = try #require(program.kernelPlan)
            #expect(plan.steps.contains { if case .winogradConvolution = $0.kernel { return true }; return false },
                    "\(name)/\(branchName): no Winograd step")
        }
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["CC"] == nil))
    func neonIsCompiledByDefault() {
        #expect(Self.branchNames.contains("neon"), "no arm_neon.h in \(Self.resourceInclude) of \((try? cCompiler()) ?? "no compiler")")
    }

    /// The generic (plain C) kernels and the single-threaded build run against the reference
    /// interpreter: the executor builds with -march=native, so on an x86 host with AVX2 these
    /// loops never run otherwise.
    #if arch(x86_64)
    @Test(arguments: ["generic", "no-threads"])
    func plainLoopsAgreeWithTheReference(_ branchName: String) throws {
        let branch = Self.branches[branchName]
        let net = try network(Self.networks["mixed"], path: "mixed.cnn")
        let (source, program, prefix) = try Self.emit("mixed", target: .generic)
        let folder = (source as NSString).deletingLastPathComponent
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let library = folder + "/lib\(prefix).so"
        let built = try shell(try cCompiler(), ["-std=c99", "-O1", "-fPIC", "-shared", "-pthread"] + branch.flags
                              + ["-I", folder, "-o", library, source, "-lm"])
        try #require(built.status == 0, "\(built.output)")
        let handle = try #require(dlopen(library, RTLD_NOW | RTLD_LOCAL), "\(String(cString: dlerror()))")
        // Never dlclose'd: the pool's detached workers may still be spinning in its code.
        let run = unsafeBitCast(try #require(dlsym(handle, "\(prefix)_run_threads")), to: CompiledExecutor.ThreadedRunFunction.self)
        let workspaceSize = unsafeBitCast(try #require(dlsym(handle, "\(prefix)_workspace_size")),
                                          to: CompiledExecutor.WorkspaceSizeFunction.self)

        let weights = WeightInit.weights(for: net, seed: 3).tensors
        let packed = try packWeights(program, weights: weights.mapValues(\.storage))
        let batch = 2
        let input = randomInput(for: net, batch: batch, seed: 7)
        var memory: UnsafeMutableRawPointer?
        try #require(posix_memalign(&memory, 64, max(workspaceSize(Int32(batch)), 64)) == 0)
        defer { free(memory) }
        var output = [Float](repeating: .nan, count: batch * program.outputShape.elementCount)
        let status = packed.withUnsafeBufferPointer { w in
            input.storage.withUnsafeBufferPointer { x in
                output.withUnsafeMutableBufferPointer { y in
                    run(w.baseAddress, memory!.assumingMemoryBound(to: Float.self), x.baseAddress, y.baseAddress, Int32(batch), 2)
                }
            }
        }
        #expect(status == 0)
        let reference = try ReferenceInterpreter(network: net, weights: weights).run(input)
        compare(Tensor(shape: reference.shape, storage: output), reference, "mixed/\(branchName)")
    }
    #endif
}
