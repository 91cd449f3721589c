// The fixed C of Sources/Codegen/C, compiled into Codegen by SwiftPM (`.embedInCode` in
// Package.swift: each file's bytes as a constant, no Foundation and no copy in git), and
// cut into the sections the emitters print. A section starts at a line
// `/* cnnc-embed: NAME */` and runs to the next such line or the end of the file, trailing
// blank lines dropped; the text before a file's first marker (its header comment, includes
// that let clang check the file alone) is not printed.

enum EmbeddedC {
    /// Every C file, by name.
    static let files: [(name: String, bytes: [UInt8])] = [
        ("cnnc_pool.c", PackageResources.cnnc_pool_c),
        ("cnnc_vector.h", PackageResources.cnnc_vector_h),
        ("fast_prelude.h", PackageResources.fast_prelude_h),
        ("reference_kernels.c", PackageResources.reference_kernels_c),
        ("reference_resampling.c", PackageResources.reference_resampling_c),
    ]

    /// Every section as (file, section, text), in file and then section order.
    static let sections: [(file: String, name: String, text: String)] = files.flatMap { file in
        split(String(decoding: file.bytes, as: UTF8.self)).map { (file.name, $0.name, $0.text) }
    }

    /// The sections of one file's text, in order.
    static func split(_ text: String) -> [(name: String, text: String)] {
        let open = "/* cnnc-embed: ", close = " */"
        var found: [(name: String, lines: [Substring])] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(open) && line.hasSuffix(close) && line.count >= open.count + close.count {
                found.append((String(line.dropFirst(open.count).dropLast(close.count)), []))
            } else if !found.isEmpty {
                found[found.count - 1].lines.append(line)
            }
        }
        return found.map { section in
            var lines = section.lines
            while let last = lines.last, last.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { lines.removeLast() }
            return (section.name, lines.joined(separator: "\n"))
        }
    }

    /// Section `name` of `file`; a missing one is a bug of this package, found by EmbeddedCTests.
    static func section(_ file: String, _ name: String) -> String {
        guard let found = sections.first(where: { $0.file == file && $0.name == name }) else {
            preconditionFailure("Sources/Codegen/C/\(file) has no section \(name)")
        }
        return found.text
    }

    static let fastPrologue = section("fast_prelude.h", "prologue")
    static let fastIncludes = section("fast_prelude.h", "includes")
    static let vectors = section("cnnc_vector.h", "vectors")
    static let poolThreads = section("cnnc_pool.c", "threads")
    static let poolProfile = section("cnnc_pool.c", "profile")
    static let poolSoftmax = section("cnnc_pool.c", "softmax")
}
