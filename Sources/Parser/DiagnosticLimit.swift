/// How many problems one file may report. Every diagnostic is kept in memory until the file is
/// done (they are sorted by line), at about a kilobyte each with its rendering, so a hostile file
/// of millions of bad lines would otherwise take gigabytes. No file anyone wrote has this many;
/// past it, reading and checking stop and the last diagnostic says so.
public enum DiagnosticLimit {
    public static let perFile = 100_000

    /// The note added to the last diagnostic when the limit stopped reading or checking.
    public static var note: DiagnosticNote {
        DiagnosticNote("too many problems: cnnc stops after \(perFile / 1000),\(String(perFile % 1000).leftPadded(to: 3)), so the rest of the file is not checked")
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(width - count, 0)) + self
    }
}
