// Memory planning: every intermediate value gets an offset in one activation arena, and
// values whose lifetimes do not overlap share space.
//
// The plan is made for ONE image and scaled by the batch at run time: a value planned at
// offset o with e elements per image occupies [o·N, (o + e)·N) of the arena for a batch of N
// and is laid out [N, …]. Scaling keeps disjoint ranges disjoint, so the per-image plan is
// valid for every batch and the workspace is exactly `arenaElements · N` floats.
//
// A value lives from the step that writes it to the last step that reads it, inclusive, so a
// step's output never overlaps its inputs, and a residual branch's input stays alive until
// the `add` that reads it. The network's input and output are the caller's buffers and take
// no arena space.

public struct MemoryPlan: Sendable, Equatable {
    /// Floats every arena offset and size is rounded to (64 bytes).
    public static let alignment = 16

    /// Per value id: its offset in floats per image into the arena, or nil for the input and
    /// the output (caller-owned).
    public var offsets: [Int?]
    /// Per value id: the steps during which it must be kept, or nil for the input and output.
    public var lifetimes: [ClosedRange<Int>?]
    /// Arena floats per image.
    public var arenaElements: Int
    /// Floats per image if every intermediate value had a buffer of its own.
    public var unsharedElements: Int
    /// Floats per image of every checked layer's output: what a naive interpreter keeps.
    public var naiveElements: Int
    /// Floats in the packed weight blob.
    public var weightElements: Int

    public func arenaBytes(batch: Int) -> Int { arenaElements * MemoryLayout<Float>.size * batch }
    public func naiveBytes(batch: Int) -> Int { naiveElements * MemoryLayout<Float>.size * batch }
    public var weightBytes: Int { weightElements * MemoryLayout<Float>.size }
}

public enum MemoryPlanner {
    /// Greedy placement by size (in floats), largest first (then earliest), each value at the
    /// lowest offset clear of every value already placed whose lifetime overlaps its own.
    /// Values without a lifetime get no offset. `unshared` is the sum of the aligned sizes.
    ///
    /// The values placed so far are indexed by the steps they are alive at, so finding a
    /// value's conflicts looks only at its own steps: linear in the steps for a chain of
    /// layers (filtering every placed value was quadratic: 20,000 activations took a minute).
    static func place(sizes: [Int], lifetimes: [ClosedRange<Int>?]) -> (offsets: [Int?], arena: Int, unshared: Int) {
        var work = 0
        return place(sizes: sizes, lifetimes: lifetimes, work: &work)
    }

    /// `place`, adding to `work` the steps and placed values it looked at (for tests).
    static func place(sizes: [Int], lifetimes: [ClosedRange<Int>?], work: inout Int) -> (offsets: [Int?], arena: Int, unshared: Int) {
        let order = sizes.indices.filter { lifetimes[$0] != nil }.sorted { a, b in
            sizes[a] != sizes[b] ? sizes[a] > sizes[b] : lifetimes[a]!.lowerBound < lifetimes[b]!.lowerBound
        }
        let steps = (lifetimes.compactMap { $0?.upperBound }.max() ?? -1) + 1
        var offsets = [Int?](repeating: nil, count: sizes.count)
        var placedSizes = [Int](repeating: 0, count: sizes.count)
        // alive[s]: the placed values whose lifetime contains step s.
        var alive = [[Int]](repeating: [], count: steps)
        // The last value whose conflicts listed each value, so a value alive at several of
        // its steps is counted once.
        var seenBy = [Int](repeating: -1, count: sizes.count)
        var arena = 0, unshared = 0
        for value in order {
            let size = roundUp(sizes[value], to: MemoryPlan.alignment)
            let lifetime = lifetimes[value]!
            unshared += size
            var conflicts: [(offset: Int, size: Int)] = []
            for step in lifetime {
                work += 1 + alive[step].count
                for other in alive[step] where seenBy[other] != value {
                    seenBy[other] = value
                    conflicts.append((offsets[other]!, placedSizes[other]))
                }
            }
            conflicts.sort { $0.offset < $1.offset }
            var offset = 0
            for other in conflicts {
                if offset + size <= other.offset { break }
                offset = max(offset, other.offset + other.size)
            }
            offsets[value] = offset
            placedSizes[value] = size
            for step in lifetime { alive[step].append(value) }
            arena = max(arena, offset + size)
        }
        return (offsets, arena, unshared)
    }

    /// Greedy placement by size, largest first, each at the lowest offset that does not
    /// overlap a value already placed whose lifetime overlaps its own.
    public static func plan(_ program: LoweredProgram) -> MemoryPlan {
        let readers = program.readers()
        var lifetimes = [ClosedRange<Int>?](repeating: nil, count: program.values.count)
        for (index, step) in program.steps.enumerated() where step.output != program.output && step.output != program.input {
            let end = max(index, readers[step.output].last ?? index)
            lifetimes[step.output] = index...end
        }

        let (offsets, arena, unshared) = place(sizes: program.values.map(\.elementCount), lifetimes: lifetimes)
        return MemoryPlan(offsets: offsets, lifetimes: lifetimes, arenaElements: arena, unsharedElements: unshared,
                          naiveElements: program.naiveActivationElements, weightElements: program.weightCount)
    }
}
