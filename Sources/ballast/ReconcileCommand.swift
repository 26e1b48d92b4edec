import ArgumentParser
import BallastKit
import Foundation

/// `ballast reconcile`: balances, orders and fills checked against each other.
struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Check balances against the fills ledger and orders against their fills; store each break.",
        discussion: """
            Balance snapshots are compared pairwise: previous + fills − fees must equal the next, per asset, \
            within one lot step. Orders must have executed exactly what their fills add up to. Fills of orders \
            Ballast did not place are flagged as external. Breaks go to the reconciliation_breaks table with \
            their evidence, once each: reconciling again stores nothing new. Exits 0 whether or not breaks \
            were found, and 3 with --fail-on-breaks when new ones were.
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Exit 3 when new breaks were found.")
    var failOnBreaks = false

    func run() async throws {
        try await global.run("reconcile") { logger in
            let connection = try global.connect(logger)
            defer { connection.close() }
            try Schema.requireCurrent(connection)
            let run = try JobRun.start("reconcile", on: connection)
            let summary: Reconcile.Summary
            do {
                summary = try Reconcile(connection: connection, logger: logger).run(runID: run.id)
                try run.finish(on: connection)
            } catch {
                run.finish(on: connection, failedWith: error, logger: logger)
                throw error
            }
            print("reconcile \(run.id)")
            print("  snapshot pairs checked  : \(summary.snapshotPairs)")
            print("  orders checked          : \(summary.ordersChecked)")
            print("  external fills          : \(summary.externalFills)")
            print("  new balance breaks      : \(summary.breaks["balance"] ?? 0)")
            print("  new order_fills breaks  : \(summary.breaks["order_fills"] ?? 0)")
            print("  new external_fill breaks: \(summary.breaks["external_fill"] ?? 0)")
            if failOnBreaks && summary.totalBreaks > 0 { throw ExitCode(3) }
        }
    }
}
