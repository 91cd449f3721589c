// A NAME.h and NAME.c of different networks (two compiles into one folder, a full disk
// between the two files) must never build together: the header defines a hash of its own
// text and the .c, right after including it, stops the build with an #error unless the
// header defines the hash it was generated with.

enum HeaderSeal {
    /// The macro that holds the header's hash: `LENET5_HEADER_HASH`.
    static func macro(prefix: String) -> String { "\(prefix.uppercased())_HEADER_HASH" }

    /// FNV-1a, 64 bits, of the UTF-8 text: stable across runs and platforms (Hasher is not).
    static func hash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// `0x0123456789abcdefULL`.
    static func literal(_ hash: UInt64) -> String {
        let digits = String(hash, radix: 16)
        return "0x" + String(repeating: "0", count: 16 - digits.count) + digits + "ULL"
    }

    /// The header with its hash defined after the line `after` (the include guard's
    /// #define): the hash is of the header without that line, so it can be checked by hand.
    static func seal(_ header: String, prefix: String, after line: String) -> (header: String, hash: UInt64) {
        let hash = hash(header)
        let definition = "#define \(macro(prefix: prefix)) \(literal(hash))    /* \(prefix).c checks it: both files come from one compile */\n"
        guard let range = header.range(of: line + "\n") else { preconditionFailure("no \(line) in the header") }
        var sealed = header
        sealed.insert(contentsOf: definition, at: range.upperBound)
        return (sealed, hash)
    }

    /// The lines right after `#include "NAME.h"` in NAME.c.
    static func check(prefix: String, hash: UInt64) -> String {
        let macro = macro(prefix: prefix)
        return """
            #if !defined(\(macro)) || \(macro) != \(literal(hash))
            #error "\(prefix).h is not the header of this \(prefix).c (regenerate both with cnnc compile)"
            #endif

            """
    }
}
