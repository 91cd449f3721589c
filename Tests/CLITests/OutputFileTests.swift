import Foundation
import Testing
@testable import cnnc

/// What every command does with its outputs (`OutputWriter`, `OutputPaths`): devices and FIFOs
/// written through, links followed, long names, all-or-none sets, outputs that are inputs,
/// and files compile did not write. Runs as root in CI, where replacing /dev/null would break
/// the machine: every device test checks the device is still one afterwards.
@Suite struct OutputFileTests {
    final class Scratch: ScratchFolder {
        init(network: String = "network net\ninput 4x4x1\nc: conv 2 3x3\nfc 3\n") throws {
            try super.init("out")
            try write("net.cnn", network)
        }
        /// Weights and a matching .npy input for `net.cnn`.
        func weightsAndInput() throws -> (weights: String, input: String) {
            #expect(runCNNC(["init", file("net.cnn"), "-o", file("w.safetensors")]).status == 0)
            var npy = [UInt8]([0x93] + Array("NUMPY".utf8) + [1, 0])
            var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4, 4), }"
            while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
            npy += [UInt8(header.utf8.count + 1), 0] + Array((header + "\n").utf8)
            for i in 0..<16 { npy += withUnsafeBytes(of: Float(i).bitPattern.littleEndian, Array.init) }
            try Data(npy).write(to: URL(fileURLWithPath: file("x.npy")))
            return (file("w.safetensors"), file("x.npy"))
        }
    }

    func characterDevice(_ path: String) -> UInt? {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFCHR else { return nil }
        return UInt(info.st_rdev)
    }

    func isSymlink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    // MARK: special files

    @Test func initToDevNullWritesThroughAndLeavesTheDevice() throws {
        let scratch = try Scratch()
        let device = try #require(characterDevice("/dev/null"))
        let result = runCNNC(["init", scratch.file("net.cnn"), "-o", "/dev/null"])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.hasPrefix("wrote /dev/null: 4 tensors"), "\(result.out)")
        #expect(characterDevice("/dev/null") == device, "/dev/null is no longer the null device")
        #expect(!((try? FileManager.default.contentsOfDirectory(atPath: "/dev")) ?? []).contains { $0.hasPrefix(".cnnc-") })
    }

    @Test func devFullIsNoSpaceLeftAndExitOne() throws {
        let scratch = try Scratch()
        let device = try #require(characterDevice("/dev/full"))
        let result = runCNNC(["init", scratch.file("net.cnn"), "-o", "/dev/full"])
        #expect(result.status == 1)
        #expect(result.err == "cnnc init: /dev/full: cannot write (No space left on device)\n")
        let inputs = try scratch.weightsAndInput()
        let run = runCNNC(["run", scratch.file("net.cnn"), "--weights", inputs.weights, "--input", inputs.input,
                           "--backend", "reference", "--output", "/dev/full"])
        #expect(run.status == 1)
        #expect(run.err == "cnnc run: /dev/full: cannot write (No space left on device)\n")
        #expect(characterDevice("/dev/full") == device)
    }

    @Test func aFIFOWithAReaderReceivesTheWeights() throws {
        let scratch = try Scratch()
        let fifo = scratch.file("pipe")
        #expect(mkfifo(fifo, 0o600) == 0)
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/sh")
        reader.arguments = ["-c", "cat \"$0\" > \"$1\"", fifo, scratch.file("received")]
        try reader.run()
        let result = runCNNC(["init", scratch.file("net.cnn"), "-o", fifo, "--seed", "3"])
        reader.waitUntilExit()
        #expect(result.status == 0, "\(result.err)")
        #expect(runCNNC(["init", scratch.file("net.cnn"), "-o", scratch.file("plain"), "--seed", "3"]).status == 0)
        #expect(scratch.contents("received") == scratch.contents("plain"))
        var info = stat()
        #expect(lstat(fifo, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO)
    }

    /// Nobody opens the FIFO: cnnc waits a bounded time (3 s) instead of hanging.
    @Test func aFIFOWithoutAReaderIsAnErrorNotAHang() throws {
        let scratch = try Scratch()
        let fifo = scratch.file("pipe")
        #expect(mkfifo(fifo, 0o600) == 0)
        let result = runCNNC(["init", scratch.file("net.cnn"), "-o", fifo])
        #expect(result.status == 1)
        #expect(result.err == "cnnc init: \(fifo): no process is reading this FIFO (waited 3 s); start the reader first\n")
        #expect(scratch.names() == ["net.cnn", "pipe"])
    }

    @Test func symlinksAreFollowedAndStayLinks() throws {
        let scratch = try Scratch()
        try scratch.write("real.safetensors", "old")
        #expect(symlink("real.safetensors", scratch.file("one")) == 0)
        #expect(symlink("one", scratch.file("two")) == 0)
        #expect(symlink("created.safetensors", scratch.file("dangling")) == 0)
        #expect(runCNNC(["init", scratch.file("net.cnn"), "-o", scratch.file("two")]).status == 0)
        #expect(runCNNC(["init", scratch.file("net.cnn"), "-o", scratch.file("dangling")]).status == 0)
        #expect(runCNNC(["init", scratch.file("net.cnn"), "-o", scratch.file("plain")]).status == 0)
        #expect(isSymlink(scratch.file("one")) && isSymlink(scratch.file("two")) && isSymlink(scratch.file("dangling")))
        #expect(scratch.contents("real.safetensors") == scratch.contents("plain"))
        #expect(scratch.contents("created.safetensors") == scratch.contents("plain"))
        #expect(scratch.names() == ["created.safetensors", "dangling", "net.cnn", "one", "plain", "real.safetensors", "two"])
    }

    @Test func aDirectoryAsTheOutputFileIsAUsageError() throws {
        let scratch = try Scratch()
        try FileManager.default.createDirectory(atPath: scratch.file("dir"), withIntermediateDirectories: false)
        let result = runCNNC(["init", scratch.file("net.cnn"), "-o", scratch.file("dir")])
        #expect(result.status == 2)
        #expect(result.err == "cnnc init: -o \(scratch.file("dir")) is a directory; -o names the file to write\n"
            + "\(InitCommand.spec.usageError)\n")
        let inputs = try scratch.weightsAndInput()
        let run = runCNNC(["run", scratch.file("net.cnn"), "--weights", inputs.weights, "--input", inputs.input,
                           "--output", scratch.file("dir")])
        #expect(run.status == 2)
        #expect(run.err == "cnnc run: --output \(scratch.file("dir")) is a directory; --output names the file to write\n"
            + "\(RunCommand.spec.usageError)\n")
        #expect(scratch.names("dir").isEmpty)
    }

    // MARK: long names, all or none

    @Test func aWeightsFileNamed255BytesIsWritten() throws {
        let scratch = try Scratch()
        let name = String(repeating: "w", count: 243) + ".safetensors"
        #expect(name.utf8.count == 255)
        let result = runCNNC(["init", scratch.file("net.cnn"), "-o", scratch.file(name)])
        #expect(result.status == 0, "\(result.err)")
        #expect(scratch.names() == ["net.cnn", name])
    }

    /// NAME.weights is the longest of the three names: at 255 bytes all three are written; at
    /// 256 none is (it used to leave .h and .c without .weights).
    @Test func compileWritesAllItsFilesOrNone() throws {
        for (length, fits) in [(247, true), (248, false)] {
            let name = String(repeating: "n", count: length)
            let scratch = try Scratch(network: "network \(name)\ninput 4x4x1\nfc 3\n")
            #expect(runCNNC(["init", scratch.file("net.cnn"), "-o", scratch.file("w.safetensors")]).status == 0)
            let result = runCNNC(["compile", scratch.file("net.cnn"), "--weights", scratch.file("w.safetensors"), "-o", scratch.file("out")])
            if fits {
                #expect(result.status == 0, "\(result.err)")
                #expect(scratch.names("out") == [name + ".c", name + ".h", name + ".weights"])
            } else {
                #expect(result.status == 1)
                #expect(result.err == "cnnc compile: \(scratch.file("out/" + name + ".weights")): cannot write (File name too long)\n")
                // Nothing written, not even the folder made for them.
                #expect(scratch.names() == ["net.cnn", "w.safetensors"])
            }
        }
    }

    // MARK: outputs that are inputs

    @Test func initRefusesToOverwriteItsNetworkFile() throws {
        let scratch = try Scratch()
        let before = scratch.contents("net.cnn")
        #expect(link(scratch.file("net.cnn"), scratch.file("hard.cnn")) == 0)
        #expect(symlink("net.cnn", scratch.file("soft.cnn")) == 0)
        for output in [scratch.file("net.cnn"), scratch.path + "/./net.cnn", scratch.file("hard.cnn"), scratch.file("soft.cnn")] {
            let result = runCNNC(["init", scratch.file("net.cnn"), "-o", output])
            #expect(result.status == 2)
            #expect(result.err == "cnnc init: -o \(output) is the network file it reads; choose another output\n\(InitCommand.spec.usageError)\n")
        }
        #expect(scratch.contents("net.cnn") == before)
        #expect(scratch.names() == ["hard.cnn", "net.cnn", "soft.cnn"])
    }

    @Test func runRefusesAnOutputThatIsOneOfItsInputs() throws {
        let scratch = try Scratch()
        let inputs = try scratch.weightsAndInput()
        let saved = [inputs.weights, inputs.input, scratch.file("net.cnn")].map { FileManager.default.contents(atPath: $0) }
        for (output, role) in [(inputs.weights, "weights file"), (inputs.input, "input file"), (scratch.file("net.cnn"), "network file")] {
            let result = runCNNC(["run", scratch.file("net.cnn"), "--weights", inputs.weights, "--input", inputs.input,
                                  "--backend", "reference", "--output", output])
            #expect(result.status == 2)
            #expect(result.err == "cnnc run: --output \(output) is the \(role) it reads; choose another output\n\(RunCommand.spec.usageError)\n")
            #expect(result.out.isEmpty, "the network ran: \(result.out)")
        }
        #expect([inputs.weights, inputs.input, scratch.file("net.cnn")].map { FileManager.default.contents(atPath: $0) } == saved)
    }

    /// Safetensors weights named like compile's packed output (`net.weights`) in the output folder.
    @Test func compileRefusesToOverwriteTheWeightsItReads() throws {
        let scratch = try Scratch()
        #expect(runCNNC(["init", scratch.file("net.cnn"), "-o", scratch.file("net.weights")]).status == 0)
        let before = scratch.contents("net.weights")
        let result = runCNNC(["compile", scratch.file("net.cnn"), "--weights", scratch.file("net.weights"), "-o", scratch.path])
        #expect(result.status == 2)
        #expect(result.err == "cnnc compile: the output \(scratch.file("net.weights")) is the weights file it reads; "
            + "choose another directory with -o DIR\n\(CompileCommand.spec.usageError)\n")
        #expect(scratch.contents("net.weights") == before)
        #expect(scratch.names() == ["net.cnn", "net.weights"])
    }

    // MARK: files compile did not write

    @Test func compileNeverOverwritesAFileItDidNotWriteWithoutForce() throws {
        let scratch = try Scratch(network: "network main\ninput 4x4x1\nfc 3\n")
        try scratch.write("main.c", "int main(void) { return 0; }\n")
        #expect(runCNNC(["init", scratch.file("net.cnn"), "-o", scratch.file("w.safetensors")]).status == 0)
        let arguments = ["compile", scratch.file("net.cnn"), "--weights", scratch.file("w.safetensors"), "-o", scratch.path]
        let refused = runCNNC(arguments)
        #expect(refused.status == 1)
        #expect(refused.err == "cnnc compile: \(scratch.file("main.c")) exists and was not written by cnnc; "
            + "pass --force to overwrite it, or -o DIR to write elsewhere\n")
        #expect(scratch.contents("main.c") == Data("int main(void) { return 0; }\n".utf8))
        #expect(scratch.names() == ["main.c", "net.cnn", "w.safetensors"])

        // With --force it is replaced; after that the files are cnnc's and need no --force.
        #expect(runCNNC(arguments + ["--force"]).status == 0)
        #expect(String(decoding: scratch.contents("main.c") ?? Data(), as: UTF8.self).contains("generated by cnnc. Do not edit."))
        let again = runCNNC(arguments)
        #expect(again.status == 0, "\(again.err)")
        #expect(scratch.names() == ["main.c", "main.h", "main.weights", "net.cnn", "w.safetensors"])
    }

    /// NAME.weights has no header to mark it: it is cnnc's when a cnnc NAME.c or NAME.swift is beside it.
    @Test func aWeightsFileIsCNNCsWhenItsCodeFileIs() throws {
        let scratch = try Scratch()
        #expect(runCNNC(["init", scratch.file("net.cnn"), "-o", scratch.file("w.safetensors")]).status == 0)
        let out = scratch.file("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        try scratch.write("out/net.weights", "user data")
        let arguments = ["compile", scratch.file("net.cnn"), "--weights", scratch.file("w.safetensors"), "-o", out]
        let alone = runCNNC(arguments)
        #expect(alone.status == 1)
        #expect(alone.err == "cnnc compile: \(out)/net.weights exists and was not written by cnnc; "
            + "pass --force to overwrite it, or -o DIR to write elsewhere\n")
        #expect(scratch.contents("out/net.weights") == Data("user data".utf8))
        // A cnnc net.swift beside it makes it cnnc's.
        #expect(runCNNC(["compile", scratch.file("net.cnn"), "--emit", "swift", "-o", out]).status == 0)
        let paired = runCNNC(arguments)
        #expect(paired.status == 0, "\(paired.err)")
        #expect(scratch.names("out") == ["net.c", "net.h", "net.swift", "net.weights"])
    }

    /// Without -o, compile writes into the current folder, and a user's main.c there is safe.
    @Test(.enabled(if: BuiltExecutable.cnnc != nil)) func compileInTheCurrentFolderKeepsAUsersFile() throws {
        let scratch = try Scratch(network: "network main\ninput 4x4x1\nfc 3\n")
        try scratch.write("main.h", "/* mine */\n")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltExecutable.cnnc!)
        process.arguments = ["compile", "net.cnn"]
        process.currentDirectoryURL = URL(fileURLWithPath: scratch.path)
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        #expect(message == "cnnc compile: main.h exists and was not written by cnnc; pass --force to overwrite it, or -o DIR to write elsewhere\n")
        #expect(scratch.names() == ["main.h", "net.cnn"])
        #expect(scratch.contents("main.h") == Data("/* mine */\n".utf8))
    }

    /// SIGTERM while the set is half written (the .h and .c temporaries complete, the weights
    /// stuck writing to a FIFO nobody drains): the temporaries go, the old files stay.
    @Test(.enabled(if: BuiltExecutable.cnnc != nil)) func aSignalDuringTheWriteRemovesTheTemporaries() throws {
        let scratch = try Scratch(network: "network net\ninput 16x16x1\nfc 100\n")  // 100 KiB of weights, past a pipe's buffer
        #expect(runCNNC(["init", scratch.file("net.cnn"), "-o", scratch.file("w.safetensors")]).status == 0)
        let out = scratch.file("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        for name in ["net.c", "net.h"] { try scratch.write("out/" + name, "/* old, generated by cnnc. Do not edit. */\n") }
        #expect(mkfifo(out + "/net.weights", 0o600) == 0)
        // A reader that holds the FIFO open and never reads.
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/sh")
        reader.arguments = ["-c", "exec sleep 60 <> \"$0\"", out + "/net.weights"]
        try reader.run()
        defer { reader.terminate(); reader.waitUntilExit() }
        while !FileManager.default.fileExists(atPath: "/proc/\(reader.processIdentifier)/fd/0") { usleep(10_000) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltExecutable.cnnc!)
        process.arguments = ["compile", scratch.file("net.cnn"), "--weights", scratch.file("w.safetensors"), "-o", out]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Bounded: the temporaries appear within seconds, or the test fails instead of hanging.
        var tries = 0
        while scratch.names("out").filter({ $0.hasPrefix(".cnnc-") }).count < 2 && tries < 3000 && process.isRunning {
            usleep(10_000)
            tries += 1
        }
        #expect(scratch.names("out").filter { $0.hasPrefix(".cnnc-") }.count == 2, "\(scratch.names("out"))")
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGTERM)
        #expect(scratch.names("out") == ["net.c", "net.h", "net.weights"])
        #expect(scratch.contents("out/net.c") == Data("/* old, generated by cnnc. Do not edit. */\n".utf8))
    }

    // MARK: -o is one kind of thing

    @Test(arguments: ["net.c", "net.h", "net.swift", "out/net.weights"])
    func compileOutputNamedLikeAFileIsAUsageError(_ name: String) throws {
        let scratch = try Scratch()
        let result = runCNNC(["compile", scratch.file("net.cnn"), "-o", scratch.file(name)])
        #expect(result.status == 2)
        #expect(result.err == "cnnc compile: -o \(scratch.file(name)) looks like a file name, but -o names the directory to write into "
            + "(the files are named after the network); use -o DIR\n\(CompileCommand.spec.usageError)\n")
        #expect(scratch.names() == ["net.cnn"])
    }

    @Test func compileOutputThatIsAFileIsAUsageError() throws {
        let scratch = try Scratch()
        let result = runCNNC(["compile", scratch.file("net.cnn"), "-o", scratch.file("net.cnn")])
        #expect(result.status == 2)
        #expect(result.err == "cnnc compile: -o \(scratch.file("net.cnn")) is a file, but -o names the directory to write into; use -o DIR\n"
            + "\(CompileCommand.spec.usageError)\n")
    }
}
