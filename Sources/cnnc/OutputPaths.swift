import Codegen
import Foundation
import Runtime

/// What `init`, `run` and `compile` check about their outputs before doing any work: an
/// output must not be one of the files the command reads, `-o` must be the kind of thing the
/// command takes (a file for init and run, a folder for compile), and compile must not
/// overwrite a file cnnc did not write.
enum OutputPaths {
    /// A file the command reads, named for messages: ("network file", "net.cnn").
    typealias Input = (role: String, path: String)

    /// The first line of every file cnnc generates contains this.
    static let generatedMarker = generatedFileMarker

    /// "LABEL is the ROLE it reads; choose another CHOICE" when `output` is one of `inputs`
    /// (the same file once links are followed: `./net.cnn`, a symlink or a hard link count).
    static func conflict(output: String, label: String, inputs: [Input], choice: String = "output") -> String? {
        for input in inputs where isSameFile(output, input.path) && isRegularFile(output) {
            return "\(label) is the \(input.role) it reads; choose another \(choice)"
        }
        return nil
    }

    /// For init and run, whose `-o` is a file: a folder there is a usage problem.
    static func fileOptionProblem(_ output: String, option: String) -> String? {
        if output.isEmpty { return "\(option) needs a file name" }
        var isDirectory: ObjCBool = false
        if output.hasSuffix("/") || FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory) && isDirectory.boolValue {
            return "\(option) \(output) is a directory; \(option) names the file to write"
        }
        return nil
    }

    /// For compile, whose `-o` is the folder the files go into: a name like `net.c`, or an
    /// existing file, is a usage problem.
    static func directoryOptionProblem(_ directory: String) -> String? {
        if directory.isEmpty { return "-o needs a directory name" }
        let name = (directory as NSString).lastPathComponent
        if let dot = name.lastIndex(of: "."), [".c", ".h", ".swift", ".weights"].contains(String(name[dot...])) {
            return "-o \(directory) looks like a file name, but -o names the directory to write into "
                + "(the files are named after the network); use -o DIR"
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && !isDirectory.boolValue {
            return "-o \(directory) is a file, but -o names the directory to write into; use -o DIR"
        }
        return nil
    }

    /// Files among `paths` that exist, are regular files and were not written by cnnc: a code
    /// file (`.c`, `.h`, `.swift`) is cnnc's when its first line has `generatedMarker`;
    /// `NAME.weights` (raw floats, no header to mark) is cnnc's when `NAME.c` or `NAME.swift`
    /// beside it is, since cnnc writes it only with one of them. Devices and FIFOs are never
    /// in the way (they are written through, not replaced).
    static func notWrittenByCNNC(_ paths: [String]) -> [String] {
        paths.filter { path in
            guard isRegularFile(path) else { return false }
            if path.hasSuffix(".weights") {
                let stem = String(path.dropLast(".weights".count))
                return !hasMarker(stem + ".c") && !hasMarker(stem + ".swift")
            }
            return !hasMarker(path)
        }
    }

    /// Whether the first line of `path` (read up to 4 KiB) has the marker.
    static func hasMarker(_ path: String) -> Bool {
        guard isRegularFile(path), let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 4096)) ?? Data()
        let firstLine = head.split(separator: UInt8(ascii: "\n"), maxSplits: 1, omittingEmptySubsequences: false).first ?? Data()
        return String(decoding: firstLine, as: UTF8.self).contains(generatedMarker)
    }

    /// A regular file, links followed.
    static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }
}
