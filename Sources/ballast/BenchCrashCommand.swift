import ArgumentParser
import BallastKit
import BallastLab
import Foundation
import Simulator

extension BenchCommand {
    /// `ballast bench crash --trials N`: the crash-safety campaign, longer than the test suite's.
    struct Crash: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Kill `ballast execute` with SIGKILL at injected points and random moments, rerun, and count "
                + "duplicate orders and unresolved intents at the simulated venues (both must be 0).")

        @OptionGroup var global: GlobalOptions

        @Option(help: "Number of trials.")
        var trials: Int = 200

        @Option(
            help:
                "Venue dialects: binance (three Binance Spot venues) or mix (Kraken Spot, Coinbase Advanced and Binance Spot, each taking every place in turn by trial)."
        )
        var dialects: String = "mix"

        func validate() throws {
            guard trials > 0 else { throw ValidationError("--trials must be positive") }
            guard ["binance", "mix"].contains(dialects) else {
                throw ValidationError("--dialects must be binance or mix")
            }
        }

        func run() async throws {
            try await global.run("bench") { logger in
                let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
                let databases = CrashCampaign.ScratchDatabases(base: global.conninfo, logger: logger)
                defer { databases.drop() }
                let campaign = CrashCampaign(executable: executable, logger: logger) { try databases.make() }
                // Points each kind of batch reaches: resting orders are cancelled and chased; crossing
                // orders fill at once (over thin books for `between-fills`, so one fills in several trades).
                let restingPoints = [("before-send", 3), ("after-send", 3), ("after-cancel", 3), ("mid-chase", 3)]
                let crossingPoints = [("before-send", 5), ("after-send", 5), ("between-fills", 1)]
                var totals = (killed: 0, duplicates: 0, unresolved: 0, live: 0, ledger: 0, orders: 0, failed: 0)
                let started = Date()
                for i in 0..<trials {
                    let resting = i % 2 == 1
                    let points = resting ? restingPoints : crossingPoints
                    let (point, hits) = points[(i / 2) % points.count]
                    let kill: CrashCampaign.Kill =
                        i % 3 == 2
                        ? .after(.milliseconds(Int.random(in: 40...(resting ? 1500 : 400))))
                        : .at(point, hit: 1 + (i / 6) % hits)
                    var setup = CrashCampaign.Setup()
                    if dialects == "mix" {
                        // Kraken, Coinbase and Binance, each taking every place in turn; the
                        // cheapest venue differs by symbol, so each usually trades in every trial.
                        let order: [SimDialect] = [.krakenSpot, .coinbaseAdvanced, .binanceSpot]
                        setup.dialects = (0..<3).map { order[($0 + i) % 3] }
                        setup.bestRotates = true
                    }
                    if case .at("between-fills", _) = kill { setup.depthDivisor = 20 }
                    let trial = try await campaign.run(
                        kill: kill, resting: resting, seed: UInt64(1000 + i), setup: setup)
                    totals.killed += trial.killed ? 1 : 0
                    totals.duplicates += trial.duplicates
                    totals.unresolved += trial.unresolved
                    totals.live += trial.liveLeft
                    totals.ledger += trial.ledgerMismatches.count
                    totals.orders += trial.orders
                    if !trial.passed {
                        totals.failed += 1
                        print("  trial \(i + 1) FAILED: \(trial)")
                    }
                    if (i + 1) % 10 == 0 || i + 1 == trials {
                        print(
                            "  \(i + 1)/\(trials) trials, \(totals.killed) killed mid-run, "
                                + "\(totals.duplicates) duplicates, \(totals.unresolved) unresolved")
                        fflush(nil)  // progress shows at once even when the output is a file
                    }
                }
                let seconds = Date().timeIntervalSince(started)
                print("bench crash: \(trials) trials in \(String(format: "%.1f", seconds)) s")
                print("  executes killed mid-run : \(totals.killed)")
                print("  orders placed           : \(totals.orders)")
                print("  duplicate orders        : \(totals.duplicates)  (must be 0)")
                print("  unresolved intents      : \(totals.unresolved)  (must be 0)")
                print("  orders left live        : \(totals.live)")
                print("  ledger mismatches       : \(totals.ledger)")
                if totals.failed > 0 { throw ExitCode(1) }
            }
        }
    }
}
