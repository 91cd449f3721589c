import Parser
import Testing
import TestSupport

/// "Did you mean" is computed with a bounded bit-parallel edit distance so that files of many
/// misspellings stay fast; it must choose exactly what the plain definition chooses.
struct SuggestionTests {
    /// The definition: Levenshtein distance of the lower-cased scalars, the candidate at the
    /// smallest distance, if that is within max(1, min(3, characters / 3 + 1)), and nothing
    /// for a word of more than 64 scalars. Ties go to the longest common start with the word,
    /// then to the digit count and then the length nearest the word's, then to the first.
    static func reference(_ word: String, _ candidates: [String]) -> String? {
        guard word.unicodeScalars.count <= 64 else { return nil }
        func distance(_ a: String, _ b: String) -> Int {
            let a = Array(a.lowercased().unicodeScalars), b = Array(b.lowercased().unicodeScalars)
            var row = Array(0...b.count)
            for i in 1...max(a.count, 1) where !a.isEmpty {
                var next = [i] + Array(repeating: 0, count: b.count)
                for j in stride(from: 1, through: b.count, by: 1) {
                    next[j] = min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                }
                row = next
            }
            return row[b.count]
        }
        let limit = max(1, min(3, word.count / 3 + 1))
        let folded = Array(word.lowercased().unicodeScalars)
        func rank(_ candidate: String) -> [Int] {
            let other = Array(candidate.lowercased().unicodeScalars)
            let common = zip(folded, other).prefix { $0 == $1 }.count
            func digits(_ s: [Unicode.Scalar]) -> Int { s.filter { $0 >= "0" && $0 <= "9" }.count }
            return [distance(word, candidate), -common, abs(digits(other) - digits(folded)), abs(other.count - folded.count)]
        }
        var best: (String, [Int])?
        for candidate in candidates {
            let r = rank(candidate)
            if r[0] <= limit && (best == nil || r.lexicographicallyPrecedes(best!.1)) { best = (candidate, r) }
        }
        return best?.0
    }

    @Test func ordinaryMisspellings() {
        let options = ["stride", "pad", "dilation", "groups", "nobias", "from", "relu", "sigmoid"]
        #expect(closestMatch(to: "strde", among: options) == "stride")
        #expect(closestMatch(to: "STRIDE", among: options) == "stride")
        #expect(closestMatch(to: "convv", among: Grammar.operationKeywords) == "conv")
        #expect(closestMatch(to: "maxpol", among: Grammar.operationKeywords) == "maxpool")
        #expect(closestMatch(to: "zz", among: options) == nil)
        #expect(closestMatch(to: "", among: ["a", "bb"]) == "a")
        #expect(closestMatch(to: String(repeating: "a", count: 65), among: [String(repeating: "a", count: 65)]) == nil)
        #expect(closestMatch(to: String(repeating: "a", count: 64), among: [String(repeating: "a", count: 63) + "b"])
                == String(repeating: "a", count: 63) + "b")
        // Full ties go to the first candidate; a later, closer one wins.
        #expect(closestMatch(to: "l10", among: ["l11", "l12", "l10x", "L10"]) == "L10")
        #expect(closestMatch(to: "l10", among: ["l11", "l12"]) == "l11")
        // At one distance, a longer common start wins, then the word's own length.
        #expect(closestMatch(to: "l10", among: ["x10", "l1"]) == "l1")
        #expect(closestMatch(to: "l10", among: ["l1", "l11"]) == "l11")
        #expect(closestMatch(to: "ab1", among: ["ab", "abc"]) == "abc")
        // Non-ASCII on either side, including lower-casing that changes the number of scalars.
        #expect(closestMatch(to: "İnput", among: ["input"]) == "input")
        #expect(closestMatch(to: "relü", among: ["relu"]) == "relu")
        #expect(closestMatch(to: "convé", among: ["conv", "convé"]) == "convé")
        #expect(editDistance("kitten", "sitting") == 3)
        #expect(editDistance("", "abc") == 3 && editDistance("ABC", "abc") == 0)
    }

    /// Near misses of the activations, among the words a conv line takes after its kernel:
    /// each worked out by hand (distance, then common start, digits, length).
    @Test func rankingOfNearMissActivations() {
        let conv = ["stride", "pad", "padmode", "dilation", "groups", "nobias", "from"] + Grammar.activationKeywords
        let cases: [(String, String?)] = [
            ("relu7", "relu6"),      // relu and relu6 are both 1 away and share 'relu'; relu6 has a digit, as the word
            ("relu66", "relu6"),     // 1 from relu6, 2 from relu
            ("rleu6", "relu6"),      // a swap is 2 edits, still nearest
            ("gelu6", "gelu"),       // 1 from gelu and relu6; gelu shares 'gelu'
            ("elu6", "elu"),         // 1 from elu and relu6; elu shares 'elu'
            ("reluu", "relu"),       // 1 from relu and relu6, both sharing 'relu'; relu has no digit, as the word
            ("sigmod", "sigmoid"),
            ("hardswsh", "hardswish"),
            ("hardsigmod", "hardsigmoid"),
            ("leakyrelu6", "leakyrelu"),
            ("strid", "stride"),
            ("pads", "pad"),         // 1 from pad; padmode is 3 away
            ("sile", "silu"),
            ("xyz", nil),
        ]
        for (word, expected) in cases {
            #expect(closestMatch(to: word, among: conv) == expected, "\(word)")
        }
        // A keyword is its own best match, whatever its neighbours.
        for keyword in Grammar.activationKeywords + Grammar.operationKeywords {
            #expect(closestMatch(to: keyword, among: Grammar.operationKeywords) == keyword)
        }
    }

    @Test func agreesWithTheDefinitionOnRandomWords() {
        var rng = SplitMix(seed: 42)
        let alphabet: [Character] = ["a", "b", "c", "A", "B", "l", "1", "2", "_", ".", "é", "İ", "ß"]
        func word(_ length: ClosedRange<Int>) -> String {
            String((0..<Int.random(in: length, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
        }
        for _ in 0..<3_000 {
            let target = word(0...12)
            var candidates = (0..<Int.random(in: 0...12, using: &rng)).map { _ in word(0...14) }
            // Near misses of the target, so that suggestions are often found.
            for _ in 0..<3 where !target.isEmpty {
                var near = Array(target)
                let i = Int.random(in: 0..<near.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: near[i] = alphabet.randomElement(using: &rng)!
                case 1: near.remove(at: i)
                default: near.insert(alphabet.randomElement(using: &rng)!, at: i)
                }
                candidates.insert(String(near), at: Int.random(in: 0...candidates.count, using: &rng))
            }
            #expect(closestMatch(to: target, among: candidates) == Self.reference(target, candidates),
                    "\(target) among \(candidates)")
        }
        // Long words: the bit-parallel distance works on up to 64 scalars at once.
        for _ in 0..<300 {
            let target = word(50...64)
            var near = Array(target)
            near.remove(at: Int.random(in: 0..<near.count, using: &rng))
            let candidates = [word(50...66), String(near), word(60...70)]
            #expect(closestMatch(to: target, among: candidates) == Self.reference(target, candidates))
        }
    }
}
