import Foundation
import Testing

/// Compares text with a file under Tests/Snapshots; `RECORD_SNAPSHOTS=1 swift test` rewrites
/// the files (and fails, so a recording run is never mistaken for a passing one).
public func assertSnapshot(_ actual: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let url = Paths.snapshots.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] != nil {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try actual.write(to: url, atomically: true, encoding: .utf8)
        Issue.record("recorded snapshot \(name); run again without RECORD_SNAPSHOTS", sourceLocation: sourceLocation)
        return
    }
    guard let expected = try? Paths.text(url) else {
        Issue.record("no snapshot \(name); record it with RECORD_SNAPSHOTS=1 swift test", sourceLocation: sourceLocation)
        return
    }
    if expected != actual {
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let line = zip(a, e).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, e.count)
        Issue.record("""
            snapshot \(name) differs at line \(line + 1):
              expected: \(line < e.count ? String(e[line]) : "<end>")
              actual:   \(line < a.count ? String(a[line]) : "<end>")
            re-record with RECORD_SNAPSHOTS=1 if the change is intended
            """, sourceLocation: sourceLocation)
    }
}

/// Expects `output` within `relative` · max(1, max |expected|) of `expected`, element by
/// element, naming the worst element when it is not.
public func expectClose(_ output: [Float], shape: [Int], _ expected: [Float], expectedShape: [Int], relative: Float,
                        _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(shape == expectedShape, "\(label): shape \(shape), expected \(expectedShape)", sourceLocation: sourceLocation)
    guard shape == expectedShape, output.count == expected.count else { return }
    let tolerance = relative * max(1, expected.map(abs).max() ?? 0)
    var worst = (index: 0, error: Float(0))
    for i in expected.indices {
        let error = abs(output[i] - expected[i])
        if !(error <= worst.error) { worst = (i, error) }
    }
    #expect(worst.error <= tolerance,
            "\(label): element \(worst.index) is \(output[worst.index]), expected \(expected[worst.index]) (error \(worst.error), tolerance \(tolerance))",
            sourceLocation: sourceLocation)
}
