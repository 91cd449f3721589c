import Testing
import TestSupport

/// Tests pin seeds, and some pin the values that follow: the shared generators must give the
/// same numbers as the copies they replaced.
struct GeneratorTests {
    @Test func splitMixGivesThePublishedFirstOutput() {
        var generator = SplitMix(seed: 0)
        #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
    }

    @Test func xorShiftFromOneGivesTheTextbookOutputs() {
        var generator = XorShift(state: 1)
        #expect(generator.next() == 1_082_269_761)
        #expect(generator.state == 1_082_269_761)
    }

    @Test func lcgIsKnuthsMMIXStep() {
        var generator = LCG(seed: 0)
        #expect(generator.next() == 1_442_695_040_888_963_407)
        #expect(generator.next() == 1_442_695_040_888_963_407 &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407)
    }

    @Test func unitValuesComeFromTheTop24Bits() {
        var generator = LCG(seed: 0)
        let bits = LCG(seed: 0).state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        #expect(generator.unit() == Float(bits >> 40) / Float(1 << 24))
        var again = LCG(seed: 0)
        #expect(again.signedUnit() == Float(bits >> 40) / Float(1 << 23) - 1)
    }

    @Test func everyCorruptionChangesAtMostTheGivenNumberOfBytes() {
        let valid = [UInt8](repeating: 0xAA, count: 64)
        var copies = 0
        forEachCorruption(of: valid, seed: 5, runs: 50, perCopy: 2) { bytes in
            copies += 1
            #expect(bytes.count == valid.count)
            #expect(zip(bytes, valid).filter { $0 != $1 }.count <= 2)
        }
        #expect(copies == 50)
    }
}
