import Codegen
import ShapeCheck
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a network through generated code: lowers it, emits C or Swift, compiles that to a
/// shared library (cached, see CompilerCache.swift), loads it with dlopen and calls its
/// `NAME_run`. Both backends export the same C API, so they load the same way.
///
/// The C backend runs the fast kernels (KernelPlan.swift) on `options.threads` threads of the
/// library's pool, unless `options.plainKernels` asks for the reference ones. Loaded
/// libraries are never unloaded: a Swift library cannot be safely dlclose'd, and reopening a
/// cached one costs nothing.
public final class CompiledExecutor: NetworkExecutor {
    public typealias RunFunction = @convention(c) (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?,
                                                   UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int32) -> Int32
    public typealias WorkspaceSizeFunction = @convention(c) (Int32) -> Int
    public typealias CountFunction = @convention(c) () -> Int
    public typealias ThreadedRunFunction = @convention(c) (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?,
                                                           UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int32, Int32) -> Int32
    public typealias CheckWeightsFunction = @convention(c) (UnsafeRawPointer?, Int) -> Int32
    public typealias WeightsErrorFunction = @convention(c) (Int32) -> UnsafePointer<CChar>?
    public typealias ProfileStepsFunction = @convention(c) () -> Int32
    public typealias ProfileSecondsFunction = @convention(c) (Int32) -> Double

    public let backend: Backend
    public let network: CheckedNetwork
    public let program: LoweredProgram
    /// The shared library that runs, in the cache folder.
    public let libraryPath: String
    /// True when the library came from the cache rather than a compiler run.
    public let cacheHit: Bool

    public let options: ExecutorOptions
    /// NAME.weights as `cnnc compile` writes it, 64-byte aligned: the header, then the packed
    /// floats (`weights`) the generated code reads. Packed in place: no second copy is kept.
    let blob: AlignedBytes
    var weights: UnsafePointer<Float> {
        UnsafePointer(blob.pointer.advanced(by: WeightBlobHeader.size).assumingMemoryBound(to: Float.self))
    }
    let runFunction: RunFunction
    let threadedRunFunction: ThreadedRunFunction?
    let workspaceSize: WorkspaceSizeFunction
    let profileSteps: ProfileStepsFunction?
    let profileSeconds: ProfileSecondsFunction?

    /// `weights` must already be validated for `network`.
    public init(backend: Backend, network: CheckedNetwork, weights: [String: Tensor],
                options: ExecutorOptions = ExecutorOptions(), cache: CompilerCache = .standard) throws {
        guard backend == .c || backend == .swift else {
            throw RuntimeError("CompiledExecutor runs the c and swift backends, not \(backend.rawValue)")
        }
        self.backend = backend
        self.network = network
        self.options = options
        var kernelOptions = options.kernelOptions
        kernelOptions.language = backend == .swift ? .swift : .c
        let program = !options.plainKernels ? lowerForC(network, options: kernelOptions) : lower(network)
        self.program = program
        let count = program.weightCount
        let packed = try AlignedBytes(WeightBlobHeader.size + 4 * count, for: "the packed weights of \(network.name)")
        do {
            let payload = UnsafeMutableBufferPointer(
                start: packed.pointer.advanced(by: WeightBlobHeader.size).bindMemory(to: Float.self, capacity: count), count: count)
            payload.initialize(repeating: 0)
            try packWeights(program, weights: weights.mapValues(\.storage), into: payload)
            let header = WeightBlobHeader(program: program, checksum: weightChecksum(UnsafeBufferPointer(payload))).bytes
            header.withUnsafeBytes { packed.pointer.copyMemory(from: $0.baseAddress!, byteCount: WeightBlobHeader.size) }
        } catch let error as WeightPackingError {
            throw RuntimeError("\(network.name): \(error.message)")
        }
        blob = packed

        let source: String, prefix: String
        var compiler: Compiler
        do {
            switch backend {
            case .swift:
                let emitted = try emitSwift(program)
                (source, prefix) = (emitted.file.contents, emitted.symbolPrefix)
                compiler = try Compiler.swift(arithmetic: options.swiftArithmetic)
            default:
                let emitted = try emitC(program)
                // The .c includes its header; the compiler reads the header from the source's folder.
                (source, prefix) = (Self.inlineHeader(emitted), emitted.symbolPrefix)
                compiler = try Compiler.c(precise: options.precise)
                if options.profile { compiler.flags.append("-DCNNC_PROFILE") }
            }
        } catch let error as EmitError {
            throw RuntimeError("\(network.name): \(error.message)")
        }

        let (path, hit) = try cache.library(source: source, name: prefix, compiler: compiler, progress: options.progress)
        libraryPath = path
        cacheHit = hit

        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown reason"
            throw RuntimeError("\(path): cannot load the compiled network (\(reason))")
        }
        func symbol<T>(_ name: String, as type: T.Type) throws -> T {
            guard let address = dlsym(handle, "\(prefix)_\(name)") else {
                throw RuntimeError("\(path): the compiled network has no symbol \(prefix)_\(name)")
            }
            return unsafeBitCast(address, to: type)
        }
        runFunction = try symbol("run", as: RunFunction.self)
        threadedRunFunction = dlsym(handle, "\(prefix)_run_threads").map { unsafeBitCast($0, to: ThreadedRunFunction.self) }
        profileSteps = dlsym(handle, "\(prefix)_profile_steps").map { unsafeBitCast($0, to: ProfileStepsFunction.self) }
        profileSeconds = dlsym(handle, "\(prefix)_profile_seconds").map { unsafeBitCast($0, to: ProfileSecondsFunction.self) }
        workspaceSize = try symbol("workspace_size", as: WorkspaceSizeFunction.self)
        let weightCount = try symbol("weight_count", as: CountFunction.self)()
        let inputSize = try symbol("input_size", as: CountFunction.self)()
        let outputSize = try symbol("output_size", as: CountFunction.self)()
        guard weightCount == count, inputSize == program.inputShape.elementCount,
              outputSize == program.outputShape.elementCount else {
            throw RuntimeError("\(path): the compiled network does not match the program "
                + "(weights \(weightCount) vs \(count), input \(inputSize), output \(outputSize))")
        }
        // The blob is what `cnnc compile` writes for these weights, checked by the library
        // itself: every backend test also tests the header's writer against its readers.
        let check = try symbol("check_weights", as: CheckWeightsFunction.self)
        let status = check(UnsafeRawPointer(blob.pointer), blob.count)
        if status != 0 {
            let message = try symbol("weights_error", as: WeightsErrorFunction.self)(status).map { String(cString: $0) }
            throw RuntimeError("\(path): the compiled network refuses its weights: \(message ?? "code \(status)")")
        }
    }

    /// The C source with its `#include "NAME.h"` replaced by the header, so one file compiles.
    static func inlineHeader(_ source: CSource) -> String {
        source.implementation.contents.replacing("#include \"\(source.header.name)\"\n", with: source.header.contents)
    }

    public func checkInput(_ input: Tensor) throws {
        let dimensions = network.input.dimensions
        guard input.shape.count == dimensions.count + 1, Array(input.shape.dropFirst()) == dimensions else {
            let expected = "[" + (["N"] + dimensions.map(String.init)).joined(separator: ", ") + "]"
            throw RuntimeError("input has shape \(input.shapeDescription), but network '\(network.name)' expects \(expected)")
        }
    }

    /// The generated code's NAME_workspace_size; past Int32 images (which it cannot take), as
    /// much as the budget can never hold.
    public func workspaceBytes(batch: Int) -> Int {
        guard batch <= Int(Int32.max) else { return Int.max }
        return workspaceSize(Int32(max(batch, 0)))
    }

    /// The least common multiple of the fast fc kernels' images per pass (1 without them).
    public var batchGranule: Int {
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        return program.kernelPlan?.steps.reduce(1) { granule, step in
            guard case .fullyConnected(let fc) = step.kernel, fc.imagesPerPass > 1 else { return granule }
            return granule / gcd(granule, fc.imagesPerPass) * fc.imagesPerPass
        } ?? 1
    }

    public func runPiece(_ input: UnsafeBufferPointer<Float>, batch: Int, into output: UnsafeMutableBufferPointer<Float>) throws {
        guard batch <= Int(Int32.max) else { throw RuntimeError("a batch of \(batch) is more than the compiled code takes") }
        let bytes = workspaceBytes(batch: batch)
        let workspace = try allocateAligned(bytes, for: "the workspace of \(batch) image\(batch == 1 ? "" : "s")")
        defer { free(workspace) }
        let floats = workspace.bindMemory(to: Float.self, capacity: max(bytes, 64) / MemoryLayout<Float>.size)
        let status = call(weights, floats, input.baseAddress, output.baseAddress, Int32(batch))
        guard status == 0 else { throw RuntimeError("\(libraryPath): the compiled network returned \(status)") }
    }

    /// One run of the loaded function: threaded when the library has `NAME_run_threads`.
    func call(_ weights: UnsafePointer<Float>?, _ workspace: UnsafeMutablePointer<Float>?, _ input: UnsafePointer<Float>?,
              _ output: UnsafeMutablePointer<Float>?, _ batch: Int32) -> Int32 {
        if let threaded = threadedRunFunction {
            return threaded(weights, workspace, input, output, batch, Int32(max(1, min(options.threads, 1024))))
        }
        return runFunction(weights, workspace, input, output, batch)
    }
}

/// Bytes from posix_memalign (64-byte aligned), freed with their owner.
final class AlignedBytes {
    let pointer: UnsafeMutableRawPointer
    let count: Int

    init(_ count: Int, for what: String) throws {
        pointer = try allocateAligned(count, for: what)
        self.count = count
    }

    deinit { free(pointer) }
}
