import ArgumentParser
import BallastKit
import BallastLab
import Foundation

/// `ballast bench …`: benchmarks that print their figures.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Run a benchmark and print its figures.",
        subcommands: [
            Copy.self, Report.self, Pull.self, Propose.self, Workers.self, Split.self, Crash.self, ReplayBench.self,
            FuzzBench.self,
        ])

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "COPY fill-shaped rows into PostgreSQL and stream them out again.")

        @OptionGroup var global: GlobalOptions

        @Option(help: "Number of rows.")
        var rows: Int = 1_000_000

        func validate() throws {
            guard rows > 0 else { throw ValidationError("--rows must be positive") }
        }

        func run() async throws {
            try await global.run("bench") { logger in
                let connection = try global.connect(logger)
                defer { connection.close() }
                let result = try CopyBenchmark(connection: connection, logger: logger).run(rows: rows) {
                    logger.info("\($0)")
                }
                print("bench copy: \(result.rows) fill rows")
                print(String(format: "  COPY in : %8.3f s  %12.0f rows/s", result.secondsIn, result.rowsPerSecondIn))
                print(
                    String(
                        format: "  COPY out: %8.3f s  %12.0f rows/s  (%.1f MiB streamed)", result.secondsOut,
                        result.rowsPerSecondOut, Double(result.bytesOut) / 1_048_576))
                if let seconds = result.psqlSeconds, let rate = result.psqlRowsPerSecond {
                    print(
                        String(
                            format: "  psql \\copy: %8.3f s  %12.0f rows/s  (the same rows from a file; "
                                + "Ballast's COPY in = %.2f× psql's, target 0.70×)", seconds, rate,
                            result.rowsPerSecondIn / rate))
                } else {
                    print("  psql \\copy: not measured (psql is not on PATH)")
                }
                print("  sum(qty): \(result.quantitySum) (expected \(result.expectedQuantitySum))")
                print("  peak RSS: \(ProcessStats.mebibytes(result.peakResidentBytes))")
                if result.quantitySum != result.expectedQuantitySum { throw ExitCode(1) }
            }
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate fills, measure them, write the audit report; compare with libxlsxwriter's own floor.")

        @OptionGroup var global: GlobalOptions

        @Option(help: "Number of fills.")
        var fills: Int = 1_000_000

        @Option(help: "The Templates folder.")
        var templates: String?

        @Option(
            name: .customLong("repeat"),
            help: "Times the report and the floor each run, alternately; the best of each is compared.")
        var repeats: Int = 3

        func validate() throws {
            guard fills > 0 else { throw ValidationError("--fills must be positive") }
            guard (1...20).contains(repeats) else { throw ValidationError("--repeat must be between 1 and 20") }
        }

        func run() async throws {
            try await global.run("bench") { logger in
                let connection = try global.connect(logger)
                defer { connection.close() }
                let bench = ReportBenchmark(
                    connection: connection, databaseURL: global.conninfo,
                    templatesFolder: try ReportJob.templatesFolder(explicit: templates),
                    logger: logger)
                let databaseURL = global.conninfo
                let r = try bench.run(fills: fills, repeats: repeats) { connection, runID, from, to in
                    try Measure(connection: connection, databaseURL: databaseURL, logger: logger).run(
                        runID: runID, from: from, to: to)
                }
                print("bench report: \(r.fills) fills, \(r.orders) orders, \(r.routes) routes")
                print(String(format: "  generate (COPY)   : %8.2f s", r.generateSeconds))
                for (i, report) in r.reportSeconds.enumerated() {
                    print(
                        String(
                            format:
                                "  run %d            : report %6.2f s (%.2f s of it closing; measure %5.2f s alongside;"
                                + " %.0f rows/s)   floor %6.2f s (%.2f s of it closing)   → %.2f × floor",
                            i + 1, report, r.reportCloseSeconds[i], r.measureSeconds[i],
                            Double(r.reportRows) / max(report, 1e-9), r.floorSeconds[i], r.floorCloseSeconds[i],
                            report / max(r.floorSeconds[i], 1e-9)))
                }
                print(
                    String(
                        format:
                            "  end to end        : best report %.2f s against best floor %.2f s → %.2f × floor"
                            + " (median of the runs' ratios %.2f ×; %d rows in all sheets, the same cells in the floor)",
                        r.reportSeconds.min()!, r.floorSeconds.min()!, r.bestRatio, r.medianRatio, r.reportRows))
                if r.reportSeconds.count > 1 {
                    // The floor does the same work every time: its spread is the machine's own variation.
                    print(
                        String(
                            format:
                                "  spread            : ratios %.2f–%.2f ×; the floor alone took %.2f–%.2f s for the"
                                + " same work each time",
                            r.ratios.min()!, r.ratios.max()!, r.floorSeconds.min()!, r.floorSeconds.max()!))
                }
                print(
                    "  peak RSS          : \(ProcessStats.mebibytes(r.peakResidentBytesAfterReport)) after the report, "
                        + "\(ProcessStats.mebibytes(r.peakResidentBytesAfterFloor)) after the floor")
            }
        }
    }

    struct Pull: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pull N historical fills from a simulated venue into PostgreSQL with `ballast pull`'s code.")

        @OptionGroup var global: GlobalOptions

        @Option(help: "Number of fills the venue holds.")
        var fills: Int = 1_000_000

        func validate() throws {
            guard fills > 0 else { throw ValidationError("--fills must be positive") }
        }

        func run() async throws {
            try await global.run("bench") { logger in
                let r = try await PullBenchmark(databaseURL: global.conninfo, logger: logger).run(fills: fills)
                print("bench pull: \(r.fills) fills held by one simulated venue account")
                print(
                    String(
                        format: "  pulled  : %8.3f s  %12.0f fills/s  (%d stored)", r.seconds, r.fillsPerSecond,
                        r.stored))
                print(
                    String(
                        format: "  requests: %8d     %12.0f requests/s  (%d pages of myTrades)", r.requests,
                        r.requestsPerSecond, r.tradePages))
                print("  peak RSS: \(ProcessStats.mebibytes(r.peakResidentBytes))")
                if r.stored != r.fills { throw ExitCode(1) }
            }
        }
    }

    struct Workers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "One nightly run of N simulated portfolios split into work units, for each count of local workers.")

        @OptionGroup var global: GlobalOptions

        @Option(help: "Number of portfolios (one account each, round robin over the venues; every fourth off target).")
        var portfolios: Int = 1000

        @Option(help: ArgumentHelp("Worker counts to compare, comma-separated.", valueName: "n,n,…"))
        var workers: String = "1,2,4"

        @Option(help: "Simulated venues (with the demo's latency: about 2, 8 and 20 ms a request).")
        var venues: Int = 3

        @Option(help: "Each simulated venue's request weight limit per minute.")
        var weightPerMinute: Int = 60_000

        @Option(help: "The Templates folder.")
        var templates: String?

        func validate() throws {
            guard portfolios > 0 else { throw ValidationError("--portfolios must be positive") }
            guard (1...26).contains(venues) else { throw ValidationError("--venues must be 1…26") }
            guard !counts.isEmpty, counts.allSatisfy({ (1...64).contains($0) }) else {
                throw ValidationError("--workers must be counts 1…64, e.g. 1,2,4")
            }
        }

        var counts: [Int] { workers.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

        func run() async throws {
            try await global.run("bench") { logger in
                let rows = try await WorkersBenchmark(
                    databaseURL: global.conninfo,
                    executable: Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0]),
                    templates: try ReportJob.templatesFolder(explicit: templates), logger: logger
                ).run(portfolios: portfolios, workerCounts: counts, venues: venues, weightPerMinute: weightPerMinute)
                print("bench workers: \(portfolios) portfolios on \(venues) simulated venues, one nightly run each")
                print("  workers   wall s   units  units/s  orders  orders/s  speed-up  dup  max weight/min  429/418")
                for row in rows {
                    print(
                        String(
                            format: "  %7d %8.1f %7d %8.1f %7d %9.1f %8.2fx %4d %8d/%-6d %7d", row.workers, row.seconds,
                            row.units, row.unitsPerSecond, row.orders, row.ordersPerSecond,
                            rows[0].seconds / row.seconds,
                            row.duplicates, row.maxWeightPerMinute, row.weightLimit, row.rateLimited))
                }
                if rows.contains(where: { $0.duplicates > 0 }) { throw ExitCode(1) }
            }
        }
    }

    struct Propose: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Propose for N portfolios × 5 assets × 3 venues: decide alone, then decide and store.")

        @OptionGroup var global: GlobalOptions

        @Option(help: "Number of portfolios.")
        var portfolios: Int = 10_000

        @Flag(help: "Then split every stored parent again, exactly and in whole slices (the old router), and compare.")
        var compareSplit = false

        func validate() throws {
            guard portfolios > 0 else { throw ValidationError("--portfolios must be positive") }
        }

        func run() async throws {
            try await global.run("bench") { logger in
                let connection = try global.connect(logger)
                defer { connection.close() }
                let r = try ProposeBenchmark(connection: connection, logger: logger).run(
                    portfolios: portfolios, compareSplit: compareSplit)
                print(
                    "bench propose: \(r.portfolios) portfolios × 5 assets × 3 venues (\(r.accounts) accounts, "
                        + "\(r.balanceRows) balances, \(r.bookTickers) book tickers, \(r.depthSnapshots) depth snapshots, "
                        + "\(r.httpAttempts) HTTP attempts)")
                print(String(format: "  generate (COPY) : %8.2f s", r.generateSeconds))
                print(
                    String(
                        format: "  decide          : %8.2f s  %8.0f proposals/s  (dry run: %d breach a band, "
                            + "%d parents, %d orders)", r.decideSeconds, r.decidePerSecond, r.breaching, r.parents,
                        r.plannedOrders))
                print(
                    String(
                        format: "  decide + store  : %8.2f s  %8.0f proposals/s  (%d batches, %d of them deferred; "
                            + "%d orders, %d decision records)", r.storeSeconds, r.storePerSecond, r.batches,
                        r.deferredBatches, r.orders, r.decisionRecords))
                let chain = r.chainBroken.map { "BROKEN at \($0)" } ?? "intact (\(r.verifiedRecords) records)"
                let counts =
                    r.countMismatches.isEmpty
                    ? "match" : "DO NOT MATCH: " + r.countMismatches.joined(separator: "; ")
                print("  verify          : decision chain \(chain); counts \(counts)")
                print(
                    "  peak RSS        : \(ProcessStats.mebibytes(r.peakResidentBytesAfterDecide)) after deciding, "
                        + "\(ProcessStats.mebibytes(r.peakResidentBytes)) after storing")
                print("  target: 10,000 portfolios in under 5 s")
                for (phase, seconds) in [("decide", r.decideSeconds), ("decide + store", r.storeSeconds)] {
                    let scaled = ProposeBenchmark.scaledToTarget(seconds, portfolios: r.portfolios)
                    let met = scaled < ProposeBenchmark.targetSeconds ? "met" : "not met"
                    let note =
                        r.portfolios == ProposeBenchmark.targetPortfolios
                        ? String(format: "%.2f s", seconds)
                        : String(format: "%.2f s at this rate", scaled)
                    print("    \(phase): \(met) (\(note))")
                }
                for line in r.split?.lines ?? [] { print(line) }
                if !r.intact { throw ExitCode(1) }
            }
        }
    }

    struct Split: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Split every recorded parent trade again, exactly and in whole slices (the old router); compare.",
            discussion: """
                Reads the decision records of the database (those that carry their routing inputs), splits \
                each parent both ways with the router's own cost model, and prints what each split routes \
                and costs, in the quote at the decision mid.
                """)

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await global.run("bench") { logger in
                let connection = try global.connect(logger)
                defer { connection.close() }
                for line in try SplitComparison(connection: connection).run().lines { print(line) }
            }
        }
    }
}
