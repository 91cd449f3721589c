/// "Did you mean" suggestions: the closest candidate by Levenshtein distance, ignoring case.
/// Among candidates at the same distance, the one sharing the longest start with the word
/// wins (`gelu6` is `gelu` with a stray digit more likely than `relu6` with a wrong first
/// letter), then the one with as many digits as the word (`relu7` is `relu6` mistyped, `reluu`
/// is `relu` with a letter doubled), then the one nearest the word's length, then the first.
///
/// A file of many misspellings asks for many suggestions (a misspelt `from` name is compared
/// with the 256 layers above it), so this is made cheap: the word asked about is at most 64
/// scalars, so its distance to a candidate is computed 64 cells at a time with Myers'
/// bit-parallel algorithm (one pass over the candidate, no table); a candidate whose length
/// alone puts it past the limit is skipped without being read; and once one is found, later
/// ones must match it. None of this changes which candidate is chosen.

/// Levenshtein distance, ignoring case.
public func editDistance(_ a: String, _ b: String) -> Int {
    let a = foldedScalars(a), b = foldedScalars(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var row = previous
    for i in 1...a.count {
        row[0] = i
        for j in 1...b.count {
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &row)
    }
    return previous[b.count]
}

/// The closest candidate, when it is close enough to be what was meant.
public func closestMatch(to word: String, among candidates: some Sequence<String>) -> String? {
    var suggester = Suggester(word)
    for candidate in candidates { suggester.consider(candidate) }
    return suggester.best
}

/// Finds the closest of candidates offered one at a time, so a caller need not build an
/// array of them. `best` is what `closestMatch` would return for the same candidates.
public struct Suggester {
    /// The word's lower-cased scalars: at most 64 for the bit-parallel distance, and up to 128
    /// (a word of 64 scalars can lower-case to more), for which the plain table is used.
    private let word: [UInt32]
    /// For each ASCII scalar, the bit set of the word's positions that hold it.
    private let asciiPositions: [UInt64]
    /// Past this distance a candidate is not a plausible misspelling; nil means no suggestion at all.
    private let limit: Int?
    public private(set) var best: String?
    private var bestDistance = Int.max

    public init(_ word: String) {
        var positions = Array(repeating: UInt64(0), count: 128)
        if word.unicodeScalars.count <= 64 {
            self.word = foldedScalars(word)
            limit = max(1, min(3, word.count / 3 + 1))
            for (i, scalar) in self.word.enumerated() where scalar < 128 { positions[Int(scalar)] |= 1 << UInt64(i) }
        } else {
            self.word = []
            limit = nil
        }
        asciiPositions = positions
    }

    public mutating func consider(_ candidate: String) {
        guard let limit else { return }
        // Only a candidate at most as far as the best so far can replace it.
        let bound = min(limit, bestDistance)
        guard bound >= 0 else { return }
        // A scalar is at most 4 bytes and lower-casing never removes one, so a candidate of
        // more bytes than this has too many scalars to be within the bound.
        guard candidate.utf8.count <= 4 * (word.count + bound) else { return }
        let ascii: Int?? = candidate.utf8.withContiguousStorageIfAvailable { asciiDistance(to: $0, bound: bound) }
        let found = (ascii ?? nil) ?? scalarDistance(to: candidate, bound: bound)
        guard found <= bound else { return }
        if found == bestDistance, let best, !ranksAbove(candidate, best) { return }
        best = candidate
        bestDistance = found
    }

    /// The tie-break between candidates at one distance: a longer common start, then a digit
    /// count and then a length nearer the word's. Ties are rare, so this need not be fast.
    private func ranksAbove(_ candidate: String, _ other: String) -> Bool {
        func digits(_ scalars: [UInt32]) -> Int { scalars.filter { $0 >= 0x30 && $0 <= 0x39 }.count }
        let wordDigits = digits(word)
        func key(_ text: String) -> (Int, Int, Int) {
            let folded = foldedScalars(text)
            let common = zip(folded, word).prefix { $0 == $1 }.count
            return (-common, abs(digits(folded) - wordDigits), abs(folded.count - word.count))
        }
        return key(candidate) < key(other)
    }

    /// The distance to an ASCII candidate (which lower-cases byte for byte), Int.max when its
    /// length alone is past the bound, or nil when it is not ASCII.
    private func asciiDistance(to bytes: UnsafeBufferPointer<UInt8>, bound: Int) -> Int? {
        var ascii = true
        for byte in bytes where byte >= 0x80 { ascii = false }
        guard ascii else { return nil }
        guard abs(bytes.count - word.count) <= bound else { return Int.max }
        if word.count > 64 { return tableDistance(to: bytes.map { UInt32($0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0) }) }
        return asciiPositions.withUnsafeBufferPointer { table in
            distance(to: bytes) { byte in
                let folded = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                return table[Int(folded)]
            }
        }
    }

    private func scalarDistance(to candidate: String, bound: Int) -> Int {
        let folded = foldedScalars(candidate)
        guard abs(folded.count - word.count) <= bound else { return Int.max }
        if word.count > 64 { return tableDistance(to: folded) }
        return distance(to: folded) { scalar in scalar < 128 ? asciiPositions[Int(scalar)] : positions(of: scalar) }
    }

    /// The table, row by row, for a word that lower-cases to more than 64 scalars (`İ` becomes
    /// two), which the bit vectors cannot hold.
    private func tableDistance(to text: [UInt32]) -> Int {
        var row = Array(0...text.count)
        for (i, a) in word.enumerated() {
            var next = [i + 1] + Array(repeating: 0, count: text.count)
            for (j, b) in text.enumerated() {
                next[j + 1] = min(row[j + 1] + 1, next[j] + 1, row[j] + (a == b ? 0 : 1))
            }
            row = next
        }
        return row[text.count]
    }

    /// The Levenshtein distance from the word to text, by Myers' (1999) bit-vector algorithm in
    /// Hyyrö's form for whole strings: bit i of the vertical deltas says how the table's column
    /// steps from row i to row i + 1, and `score` follows the last row. `equal` gives the set of
    /// the word's positions that hold an element of text.
    @inline(__always)
    private func distance<Text: Sequence>(to text: Text, equal: (Text.Element) -> UInt64) -> Int {
        let m = word.count
        guard m > 0 else { return text.reduce(0) { count, _ in count + 1 } }
        let last: UInt64 = 1 << UInt64(m - 1)
        var positive: UInt64 = ~0, negative: UInt64 = 0
        var score = m
        for element in text {
            let eq = equal(element)
            let xv = eq | negative
            let xh = (((eq & positive) &+ positive) ^ positive) | eq
            var ph = negative | ~(xh | positive)
            var mh = positive & xh
            if ph & last != 0 { score += 1 } else if mh & last != 0 { score -= 1 }
            ph = (ph << 1) | 1  // the top row is 0, 1, 2…: every step along it is +1
            mh <<= 1
            positive = mh | ~(xv | ph)
            negative = ph & xv
        }
        return score
    }

    private func positions(of scalar: UInt32) -> UInt64 {
        var bits: UInt64 = 0
        for (i, s) in word.enumerated() where s == scalar { bits |= 1 << UInt64(i) }
        return bits
    }
}

/// The scalars of text lower-cased as `String.lowercased()` does.
func foldedScalars(_ text: String) -> [UInt32] {
    text.lowercased().unicodeScalars.map(\.value)
}
