import Codegen
import ShapeCheck

/// The memory account (Codegen's `MemoryAccount`) as `check` and `compile` print it: one
/// renderer, so the two commands say the same thing in the same words.
enum MemoryReport {
    /// What a command asks the account about: `--batch`, `--threads`.
    struct Run {
        var batch = 1
        var threads = 1

        var text: String { "batch \(batch), \(threads) thread\(threads == 1 ? "" : "s")" }
    }

    /// The fast C kernels' account and the plain kernels', or nil when the network is too
    /// large for the generated code (check then prints no memory block).
    static func accounts(_ network: CheckedNetwork, target: VectorTarget) -> (fast: MemoryAccount, plain: MemoryAccount?)? {
        guard let fast = MemoryAccount(network: network, program: lowerForC(network, options: KernelOptions(target: target)))
        else { return nil }
        return (fast, MemoryAccount(network: network, program: lower(network)))
    }

    /// `fast C kernels for avx512`, `fast C kernels for avx2, no Winograd`, `plain kernels`.
    static func kernelsName(_ account: MemoryAccount) -> String {
        switch account.kernels {
        case .plain: "plain kernels"
        case .fast(let options): "fast C kernels for \(options.target.rawValue)" + (options.winograd ? "" : ", no Winograd")
        }
    }

    /// `fast C (avx512)`, `plain`: a column heading.
    static func shortName(_ account: MemoryAccount) -> String {
        switch account.kernels {
        case .plain: "plain"
        case .fast(let options): "fast C (\(options.target.rawValue)\(options.winograd ? "" : ", no Winograd"))"
        }
    }

    /// The block under check's table and in compile's report.
    static func block(_ account: MemoryAccount, _ run: Run, kernels: String? = nil) -> String {
        let prefix = account.prefix
        let layout = [account.transformsWinogradFilters ? "Winograd filters transformed" : nil,
                      account.kernels != .plain ? "blocks zero-padded" : nil,
                      account.foldsBatchNorm ? "batchnorm folded in" : nil, "slices 64-byte aligned"].compactMap { $0 }
        let threadScratch = account.scratchBytes > 0 ? " + \(run.threads) × scratch" : ""
        let rows: [(String, Int, String)] = [
            ("weights as trained", account.logicalWeightBytes,
             "\(CheckReport.grouped(account.parameters)) float32 parameters, as the weight file holds them"),
            ("weights packed", account.packedWeightBytes,
             "what \(prefix)_run reads (\(prefix).weights: a 64-byte header, then these): " + layout.joined(separator: ", ")),
            ("activation arena", account.arenaBytes, "per image: " + arenaText(account)),
            ("scratch", account.scratchBytes, "per thread" + scratchText(account)),
            ("workspace", account.workspaceBytes(batch: run.batch),
             "\(prefix)_workspace_size(\(run.batch)): \(run.batch) × arena" + (account.scratchBytes > 0 ? " + one thread's scratch" : "")),
            ("total", account.totalBytes(batch: run.batch, threads: run.threads),
             "packed weights + \(run.batch) × arena" + threadScratch),
        ]
        var lines = ["memory (\(kernels ?? kernelsName(account)); \(run.text)):"]
        lines += aligned(rows.map { name, bytes, detail in
            ["  " + name, CheckReport.grouped(bytes) + " B", bytes >= 1024 ? CheckReport.bytes(bytes) : "", detail]
        }, right: [1, 2])
        return lines.joined(separator: "\n")
    }

    /// The line that recommends `--plain` when the plain kernels need less in all; nil otherwise.
    static func recommendation(fast: MemoryAccount, plain: MemoryAccount?, _ run: Run) -> String? {
        guard let plain else { return nil }
        let fastTotal = fast.totalBytes(batch: run.batch, threads: run.threads)
        let plainTotal = plain.totalBytes(batch: run.batch, threads: run.threads)
        guard plainTotal < fastTotal else { return nil }
        return "the plain kernels need less memory: \(CheckReport.grouped(plainTotal)) B in all, against "
            + "\(CheckReport.grouped(fastTotal)) B for the fast ones (cnnc compile --plain; they run slower)"
    }

    /// `check --explain`: the two kernels side by side, then every value of each arena.
    static func breakdown(fast: MemoryAccount, plain: MemoryAccount?, _ run: Run) -> String {
        let accounts = [fast] + (plain.map { [$0] } ?? [])
        func row(_ name: String, _ bytes: (MemoryAccount) -> Int) -> [String] {
            ["  " + name] + accounts.map { CheckReport.grouped(bytes($0)) + " B" }
        }
        var lines = ["memory, the kernels side by side (\(run.text)):"]
        lines += aligned([[""] + accounts.map(shortName),
                          row("weights packed", \.packedWeightBytes),
                          row("activation arena", \.arenaBytes),
                          row("scratch per thread", \.scratchBytes),
                          row("workspace", { $0.workspaceBytes(batch: run.batch) }),
                          row("total", { $0.totalBytes(batch: run.batch, threads: run.threads) })],
                         right: Set(1...accounts.count))
        for account in accounts {
            lines.append("")
            lines.append("arena of the \(kernelsName(account)), per image (\(CheckReport.grouped(account.arenaBytes)) B):")
            guard !account.values.isEmpty else {
                lines.append("  empty: every value is the caller's input or output")
                continue
            }
            let widest = Set(account.widestValues)
            var rows = [["  offset", "bytes", "value", "shape", "layout", "last read by"]]
            for (index, value) in account.values.enumerated() {
                rows.append(["  " + CheckReport.grouped(value.offsetBytes), CheckReport.grouped(value.bytes),
                             value.name + (widest.contains(index) ? " *" : ""), value.shape.description, value.layout.rawValue,
                             account.stepNames[value.lifetime.upperBound]])
            }
            lines += aligned(rows, right: [0, 1])
            if let step = account.widestStep {
                lines.append("  * alive together at \(account.stepNames[step]): \(CheckReport.grouped(account.widestBytes)) B, "
                    + "the most at any step")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// check --json's `memory` object.
    static func json(fast: MemoryAccount, plain: MemoryAccount?, _ run: Run) -> String {
        func kernels(_ account: MemoryAccount) -> String {
            var fields: [(String, String)] = []
            if case .fast(let options) = account.kernels {
                fields += [("target", CheckReport.quoted(options.target.rawValue)), ("winograd", options.winograd ? "true" : "false")]
            }
            fields += [("packed_weight_bytes", "\(account.packedWeightBytes)"), ("arena_bytes", "\(account.arenaBytes)"),
                       ("widest_bytes", "\(account.widestBytes)"), ("scratch_bytes", "\(account.scratchBytes)"),
                       ("workspace_bytes", "\(account.workspaceBytes(batch: run.batch))"),
                       ("total_bytes", "\(account.totalBytes(batch: run.batch, threads: run.threads))")]
            return object(fields)
        }
        return object([("batch", "\(run.batch)"), ("threads", "\(run.threads)"),
                       ("logical_weight_bytes", "\(fast.logicalWeightBytes)"),
                       ("fast", kernels(fast)), ("plain", plain.map(kernels) ?? "null"),
                       ("plain_needs_less", recommendation(fast: fast, plain: plain, run) != nil ? "true" : "false")])
    }

    // MARK: words

    /// `c1 and s2, alive together at s2, with channels padded to 16 (23,520 B unpadded)`.
    private static func arenaText(_ account: MemoryAccount) -> String {
        guard let step = account.widestStep else { return "empty, every value is the caller's input or output" }
        let names = account.widestValues.map { short(account.values[$0].name) }
        let listed = names.count == 1 ? names[0]
            : names.count <= 3 ? names.dropLast().joined(separator: ", ") + " and " + names.last!
            : names.prefix(3).joined(separator: ", ") + " and \(names.count - 3) more"
        let at = short(account.stepNames[step])
        let padded = account.widestValues.contains { account.values[$0].bytes > account.values[$0].unpaddedBytes }
        let unpadded = CheckReport.grouped(account.widestUnpaddedBytes) + " B unpadded"
        if account.widestBytes >= account.arenaBytes {
            return "\(listed), alive together at \(at)" + (padded ? ", with channels padded to 16 (\(unpadded))" : "")
        }
        return "at most \(CheckReport.grouped(account.widestBytes)) B of it alive together (\(listed) at \(at)"
            + (padded ? "; \(unpadded)" : "") + "); the placement could not share the rest"
    }

    /// A fused step's first layer stands for it in the block: `conv1+bn1+relu` is `conv1+…`.
    private static func short(_ name: String) -> String {
        name.contains("+") ? name.prefix { $0 != "+" } + "+…" : name
    }

    private static func scratchText(_ account: MemoryAccount) -> String {
        if let step = account.scratchStep { return ", the most any step needs (\(short(step)))" }
        return account.kernels == .plain ? ": the plain kernels need none" : ": no step needs any"
    }

    /// Rows as columns two spaces apart, `right` ones right-aligned; trailing spaces dropped.
    private static func aligned(_ rows: [[String]], right: Set<Int>) -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return right.contains(c) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
    }

    private static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\(CheckReport.quoted($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }
}

private extension String {
    func trimmingTrailingSpaces() -> String {
        var text = Substring(self)
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}
