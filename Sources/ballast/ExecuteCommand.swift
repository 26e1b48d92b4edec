import ArgumentParser
import BallastKit
import Foundation

/// `ballast execute BATCH`.
struct ExecuteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "execute",
        abstract: "Send an approved batch's orders with idempotent client order ids; safe to kill and rerun.",
        discussion: """
            Each order is marked `sending` and committed before its request leaves. After any ambiguous outcome \
            (timeout, reset, 5xx) the order is looked up by its client order id before anything is resent. \
            Resting orders are repriced after the portfolio's passive timeout, then cross within the price cap. \
            Rerunning a finished batch sends nothing. Exits 75 when another process executes the batch, and 3 \
            when legs were deferred (venue banned, throttled or unreachable): run it again later.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The batch id.")
    var batch: Int64

    @Option(name: .long, help: ArgumentHelp("The job file (TOML) with the venues and accounts.", valueName: "file"))
    var job: String

    func run() async throws {
        try await global.run("execute") { logger in
            let config = try JobConfig.load(path: job)
            let summary = try await ExecuteJob.run(
                batch: batch, config: config, databaseURL: global.conninfo, logger: logger)
            print("batch \(batch) \(summary.status)")
            print("  orders sent      : \(summary.sent)")
            print("  lookups          : \(summary.lookups)")
            print("  reprices         : \(summary.chases)")
            print("  legs filled      : \(summary.filled)")
            print("  legs not filled  : \(summary.unfilledLegs)")
            if let reason = summary.reason { print("  \(reason)") }
            if summary.status == "deferred" { throw ExitCode(3) }
        }
    }
}
