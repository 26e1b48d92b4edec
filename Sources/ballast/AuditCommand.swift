import ArgumentParser
import BallastKit
import Foundation

/// `ballast audit verify` and `ballast audit recompute`.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Audit the decision records.", subcommands: [Verify.self, Recomputed.self])

    /// `ballast audit recompute`.
    struct Recomputed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "recompute",
            abstract: "Redo each order and deferral decision from its record alone; print what differs.",
            discussion: """
                Each record carries the inputs of its band (σ with the stored prices it came from), its \
                portfolio's rebalance plan and its parent's routing; the same domain code recomputes them and \
                every term is compared with what the record says. Exits 0 when nothing differs and 2 when a \
                term does (the record, a stored observation it names, or the code changed).
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: "Only this batch's records.")
        var batch: Int64?

        @Option(
            help: ArgumentHelp("Only records made from this time (UTC), e.g. 2026-11-25T06:00:00Z.", valueName: "time"))
        var from: String?

        @Option(help: ArgumentHelp("Only records made before this time (UTC, exclusive).", valueName: "time"))
        var to: String?

        func run() async throws {
            try await global.run("audit") { logger in
                let connection = try global.connect(logger)
                defer { connection.close() }
                try Schema.requireCurrent(connection)
                let scope = Recompute.Scope(
                    batch: batch, from: try from.map(ReportJob.parseTime), to: try to.map(ReportJob.parseTime))
                let outcome = try Recompute(connection: connection).run(scope)
                for difference in outcome.differences { print(difference.description) }
                var named = batch.map { ["batch \($0)"] } ?? []
                if let from { named.append("from \(from)") }
                if let to { named.append("before \(to)") }
                let scopeText = named.isEmpty ? "" : named.joined(separator: ", ") + ": "
                print(
                    "\(scopeText)recomputed \(outcome.recomputed) of \(outcome.records) order and deferral record(s) "
                        + "(\(outcome.parents) parent trade(s), \(outcome.terms) terms) from the records alone: "
                        + "\(outcome.differences.count) difference(s)")
                if outcome.withoutInputs > 0 {
                    print(
                        "  \(outcome.withoutInputs) record(s) were written before records carried their inputs: not recomputed"
                    )
                }
                if !outcome.differences.isEmpty { throw ExitCode(2) }
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Recompute the decision records' hash chain; name the first record that does not match.",
            discussion: """
                Exits 0 when the chain holds and 2 when a record was altered, or when the chain no longer \
                holds a head kept outside the database (--expect-head, --since): the tail was deleted or \
                rewritten. Every report prints its chain head (summary.md, the workbook, chain-head.txt).
                """)

        @OptionGroup var global: GlobalOptions

        @Option(
            name: .customLong("expect-head"),
            help: "A head kept outside the database: HASH, or HASH@LENGTH (the chain must hold HASH as record LENGTH).")
        var expectHead: String?

        @Option(help: "A report folder: the chain must still hold the head in its chain-head.txt.")
        var since: String?

        func validate() throws {
            if expectHead != nil && since != nil {
                throw ValidationError("give --expect-head or --since, not both")
            }
            if let expectHead, ChainHead(expectHead) == nil {
                throw ValidationError("--expect-head takes 64 hex digits, optionally @LENGTH: '\(expectHead)'")
            }
        }

        func run() async throws {
            try await global.run("audit") { logger in
                var expected = expectHead.flatMap(ChainHead.init)
                if let since {
                    let path = URL(fileURLWithPath: since).appendingPathComponent("chain-head.txt").path
                    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                        throw BallastError.invalidInput("cannot read \(path) (a report folder holds one)")
                    }
                    guard let head = ChainHead(text) else {
                        throw BallastError.invalidInput("\(path) does not hold HASH@LENGTH")
                    }
                    expected = head
                }
                let connection = try global.connect(logger)
                defer { connection.close() }
                try Schema.requireCurrent(connection)
                let result = try DecisionLog.verify(on: connection, expecting: expected)
                if let broken = result.firstBroken {
                    print(
                        "decision chain BROKEN at record \(broken.id) (after \(result.checked - 1) good): \(broken.reason)"
                    )
                    throw ExitCode(2)
                }
                if let expected, result.expected != true {
                    let at = expected.length.map { " as record \($0)" } ?? ""
                    print(
                        "decision chain does NOT hold the expected head \(expected.hash)\(at): it has \(result.checked) "
                            + "record(s), head \(result.head); records were deleted or the tail was rewritten")
                    throw ExitCode(2)
                }
                let holds = expected.map { " (holds the expected head \($0))" } ?? ""
                print("decision chain intact: \(result.checked) record(s), head \(result.head)\(holds)")
                if result.legacy > 0 {
                    print(
                        "  \(result.legacy) record(s) written before migration 0011: their hash covers the decision, "
                            + "not their batch, order, portfolio, kind or time columns")
                }
                if result.binanceWords > 0 {
                    print(
                        "  \(result.binanceWords) record(s) written before migration 0020 spell order types and "
                            + "times in force as Binance does (LIMIT_MAKER, IOC); they are read in those words")
                }
            }
        }
    }
}
