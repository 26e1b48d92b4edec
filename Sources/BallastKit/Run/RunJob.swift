public import Foundation
public import Logging
import Postgres

/// `ballast run`: one nightly job — pull, reconcile, propose (approving under
/// each portfolio's cap), execute approved batches, pull again, measure and
/// report — under a lock so two runs never overlap.
/// Every step is safe to repeat, so a killed run is simply run again.
public struct RunJob {
    /// How the job runs.
    public struct Options: Sendable {
        public var databaseURL: String
        public var outputRoot: URL
        public var templatesFolder: URL
        /// Apply pending migrations first (otherwise pending ones stop the run).
        public var migrate: Bool
        /// Where credential variables named by the job are looked up.
        public var environment: [String: String]
        /// CSVs start with a UTF-8 byte-order mark.
        public var csvByteOrderMark = true
        /// How long to wait for another run to release a portfolio this run trades (0: not at all).
        public var waitSeconds: Double = 0
        /// The `job` label of the run's metrics (the job file's name).
        public var jobName = "run"
        /// A failed or interrupted run to finish: its completed steps are skipped.
        public var resume: String?

        public init(
            databaseURL: String, outputRoot: URL, templatesFolder: URL, migrate: Bool,
            environment: [String: String] = ProcessInfo.processInfo.environment
        ) {
            self.databaseURL = databaseURL
            self.outputRoot = outputRoot
            self.templatesFolder = templatesFolder
            self.migrate = migrate
            self.environment = environment
        }
    }

    /// What the run did.
    public struct Outcome: Sendable {
        public var runID: String
        public var folder: URL
        public var pulls: [Pull.VenueSummary]
    }

    let config: JobConfig
    let options: Options
    let logger: Logger

    public init(config: JobConfig, options: Options, logger: Logger) {
        self.config = config
        self.options = options
        self.logger = logger
    }

    /// Takes the lock of every portfolio of the job, in id order (so two runs never wait on each
    /// other in a cycle), waiting up to `waitSeconds` for runs that hold some; throws `busy` naming
    /// the portfolio and the run that holds it. Runs over disjoint portfolios proceed together.
    func lockPortfolios(on connection: Connection) throws -> [AdvisoryLock] {
        let locks = Set(config.portfolios.map(\.id)).sorted().map { ($0, AdvisoryLock.portfolio($0)) }
        let deadline = Date().addingTimeInterval(options.waitSeconds)
        var announced = false
        while true {
            var taken: [AdvisoryLock] = []
            var refused: (portfolio: String, lock: AdvisoryLock)?
            for (portfolio, lock) in locks {
                guard try lock.tryLock(on: connection) else {
                    refused = (portfolio, lock)
                    break
                }
                taken.append(lock)
            }
            guard let refused else { return taken }
            for lock in taken { try? lock.unlock(on: connection) }
            let holder = try refused.lock.holder(on: connection) ?? "another run (it has just ended)"
            guard Date() < deadline else {
                throw BallastError.busy(
                    "portfolio '\(refused.portfolio)' is being traded by \(holder); try again when it ends"
                        + (options.waitSeconds > 0
                            ? " (waited \(options.waitSeconds.formatted()) s)" : ", or pass --wait SECONDS"))
            }
            if !announced {
                logger.info(
                    "portfolio '\(refused.portfolio)' is being traded by \(holder): waiting up to \(options.waitSeconds.formatted()) s"
                )
                announced = true
            }
            Thread.sleep(forTimeInterval: min(0.5, max(deadline.timeIntervalSinceNow, 0.01)))
        }
    }

    /// Runs every step; throws `busy` when another run trades one of the job's portfolios.
    public func run() async throws -> Outcome {
        let connection = try Connection(conninfo: options.databaseURL, logger: logger)
        defer { connection.close() }
        if options.migrate {
            let applied = try Migrator(connection: connection, migrations: try Migration.bundled()).migrate()
            if !applied.isEmpty { logger.info("applied \(applied.count) migration(s)") }
        } else {
            try Schema.requireCurrent(connection)
        }
        let locks = try lockPortfolios(on: connection)
        defer { for lock in locks { try? lock.unlock(on: connection) } }

        let run: JobRun
        var recorded: RunSteps
        if let resume = options.resume {
            recorded = try RunSteps(runID: resume, connection: connection)
            if recorded.completed.isSuperset(of: Self.steps) {
                throw BallastError.invalidInput("run \(resume): every step completed; nothing to resume")
            }
            run = try JobRun.resume(resume, command: "run", configHash: config.fingerprint, on: connection)
        } else {
            run = try JobRun.start("run", configHash: config.fingerprint, on: connection)
            recorded = try RunSteps(runID: run.id, connection: connection)
        }
        var logger = logger
        logger[metadataKey: "run.id"] = "\(run.id)"
        if options.resume != nil {
            logger.info(
                "resuming run \(run.id): skipping \(Self.steps.filter(recorded.completed.contains).joined(separator: ", "))"
            )
        }
        // Each step's duration, for the metrics file.
        var durations: [(name: String, seconds: Double)] = []
        /// Runs step `name` unless an earlier attempt of this run completed it, recording it in `run_steps`.
        func perform(_ name: String, _ body: () async throws -> (rows: Int?, detail: String?)) async throws {
            let position = (Self.steps.firstIndex(of: name) ?? 0) + 1
            guard !recorded.completed.contains(name) else {
                logger.info("step \(position)/\(Self.steps.count): \(name) completed in an earlier attempt; skipped")
                return
            }
            let started = ContinuousClock().now
            try recorded.begin(name, position: position)
            do {
                let (rows, detail) = try await body()
                try recorded.complete(name, rows: rows, detail: detail)
                durations.append((name, (ContinuousClock().now - started).seconds))
            } catch {
                recorded.fail(name, error: error)
                durations.append((name, (ContinuousClock().now - started).seconds))
                throw error
            }
        }
        var pulls: [Pull.VenueSummary] = []
        var executed: Int?
        var folder: URL?
        do {
            try await perform("pull") {
                logger.info("step 1/6: pull")
                pulls = try await PullJob.run(
                    config: config, databaseURL: options.databaseURL, logger: logger, run: run,
                    environment: options.environment)
                for summary in pulls where summary.failure != nil {
                    logger.warning("venue \(summary.venue) was not pulled; later steps use what is stored")
                }
                let failed = pulls.count { $0.failure != nil }
                return (pulls.count - failed, "\(pulls.count - failed) venue(s) pulled, \(failed) not")
            }
            try await perform("reconcile") {
                logger.info("step 2/6: reconcile")
                let summary = try Reconcile(connection: connection, logger: logger).run(runID: run.id)
                return (summary.totalBreaks, "\(summary.totalBreaks) new break(s)")
            }
            try await perform("propose") {
                logger.info("step 3/6: propose (and approve under each portfolio's cap)")
                let proposals = try Propose(connection: connection, logger: logger).run(
                    config: config, runID: run.id, dryRun: false)
                for p in proposals {
                    if let held = p.held {
                        logger.warning("portfolio \(p.portfolio): held, \(held)")
                        continue
                    }
                    var state = p.batchID.map { "batch \($0) \(p.status ?? "")" } ?? "within bands"
                    if !p.superseded.isEmpty {
                        state += "; superseded batch \(p.superseded.map(String.init).joined(separator: ", "))"
                    }
                    logger.info("portfolio \(p.portfolio): \(state)")
                }
                let batches = proposals.count { $0.batchID != nil }
                return (batches, "\(proposals.count) portfolio(s), \(batches) batch(es)")
            }
            try await perform("execute") {
                let batches = try ExecuteJob.pendingBatches(portfolios: config.portfolios.map(\.id), on: connection)
                logger.info("step 4/6: execute \(batches.count) approved batch(es)")
                var sent = 0
                var filled = 0
                for batch in batches {
                    let summary = try await ExecuteJob.run(
                        batch: batch, config: config, databaseURL: options.databaseURL, logger: logger, run: run,
                        environment: options.environment)
                    let reason = summary.reason.map { "; \($0)" } ?? ""
                    logger.info(
                        "batch \(batch) \(summary.status): \(summary.sent) sent, \(summary.filled) filled\(reason)")
                    sent += summary.sent
                    filled += summary.filled
                }
                executed = batches.count
                return (batches.count, "\(batches.count) batch(es), \(sent) order(s) sent, \(filled) filled")
            }
            try await perform("pull_after") {
                // After a resume that skipped execute, what it did is not known here: pull anyway.
                guard executed != 0 else {
                    logger.info("step 5/6: nothing executed, nothing to pull again")
                    return (0, "nothing executed")
                }
                logger.info("step 5/6: pull again (balances and fills after execution)")
                let again = try await PullJob.run(
                    config: config, databaseURL: options.databaseURL, logger: logger, run: run,
                    environment: options.environment)
                return (again.count { $0.failure == nil }, "\(again.count { $0.failure == nil }) venue(s) pulled")
            }
            try await perform("report") {
                logger.info("step 6/6: measure and report")
                try run.finish(on: connection)
                let report = try ReportJob.run(
                    scope: .run(run.id), connection: connection, databaseURL: options.databaseURL,
                    templatesFolder: options.templatesFolder, outputRoot: options.outputRoot, logger: logger,
                    measure: true, csvByteOrderMark: options.csvByteOrderMark)
                folder = report.folder
                return (report.totalRows, report.folder.path)
            }
            writeMetrics(run: run, steps: durations, error: nil, connection: connection, logger: logger)
            return Outcome(runID: run.id, folder: folder!, pulls: pulls)
        } catch {
            run.finish(on: connection, failedWith: error, logger: logger)
            writeMetrics(run: run, steps: durations, error: error, connection: connection, logger: logger)
            throw error
        }
    }

    /// The steps of a run, in order.
    public static let steps = ["pull", "reconcile", "propose", "execute", "pull_after", "report"]

    /// Leaves the run's figures in the Prometheus textfile (`MetricsFile`); a failure to do so is
    /// logged, never the run's outcome.
    private func writeMetrics(
        run: JobRun, steps: [(name: String, seconds: Double)], error: (any Error)?, connection: Connection,
        logger: Logger
    ) {
        do {
            try MetricsFile(outputRoot: options.outputRoot).update(
                try Self.metrics(
                    job: options.jobName, runID: run.id, steps: steps, succeeded: error == nil, at: Date(),
                    connection: connection))
        } catch {
            logger.warning("metrics not written: \(error)")
        }
    }

    /// The samples of one run: success or failure time, step durations, and (from what the run
    /// measured and recorded) orders, filled notional, slippage, breaks, deferrals and venue errors.
    static func metrics(
        job: String, runID: String, steps: [(name: String, seconds: Double)], succeeded: Bool, at date: Date,
        connection: Connection
    ) throws -> [MetricsFile.Sample] {
        typealias Sample = MetricsFile.Sample
        let label = [("job", job)]
        var samples = [
            Sample(
                succeeded ? "ballast_last_success_timestamp_seconds" : "ballast_last_failure_timestamp_seconds",
                label, date.timeIntervalSince1970.rounded()),
            Sample("ballast_last_run_success", label, succeeded ? 1 : 0),
        ]
        for step in steps {
            samples.append(
                Sample("ballast_last_run_step_duration_seconds", label + [("step", step.name)], step.seconds))
        }
        let figures = try connection.query(
            """
            SELECT (SELECT coalesce(sum(orders), 0) FROM route_measures WHERE run_id = \(runID))::float8 AS orders,
                   (SELECT sum(slippage_bps_mean * filled_notional) / nullif(sum(filled_notional), 0)
                    FROM route_measures WHERE run_id = \(runID) AND slippage_bps_mean IS NOT NULL)::float8 AS slippage,
                   (SELECT count(*) FROM reconciliation_breaks WHERE run_id = \(runID))::float8 AS breaks,
                   (SELECT count(*) FROM decisions d JOIN batches b ON b.id = d.batch_id
                    WHERE b.run_id = \(runID) AND d.kind = 'deferral')::float8 AS deferred
            """)[0]
        samples.append(Sample("ballast_last_run_orders", label, try figures.decode("orders")))
        if let slippage: Double = try figures.decode("slippage") {
            samples.append(Sample("ballast_last_run_slippage_bps", label, slippage))
        }
        samples.append(Sample("ballast_last_run_reconciliation_breaks", label, try figures.decode("breaks")))
        samples.append(Sample("ballast_last_run_deferred_orders", label, try figures.decode("deferred")))
        for row in try connection.query(
            """
            SELECT coalesce(s.quote_asset, '') AS quote, sum(r.filled_notional)::float8 AS notional
            FROM route_measures r LEFT JOIN symbols s ON s.venue_id = r.venue_id AND s.symbol = r.symbol
            WHERE r.run_id = \(runID)
            GROUP BY 1 ORDER BY 1
            """)
        {
            samples.append(
                Sample(
                    "ballast_last_run_filled_notional", label + [("quote", try row.decode("quote"))],
                    try row.decode("notional")))
        }
        for row in try connection.query(
            """
            SELECT venue_id, count(*) FILTER (WHERE outcome <> 'ok')::float8 AS errors FROM http_attempts
            WHERE run_id = \(runID) GROUP BY venue_id ORDER BY venue_id
            """)
        {
            samples.append(
                Sample(
                    "ballast_last_run_venue_errors", label + [("venue", try row.decode("venue_id"))],
                    try row.decode("errors")))
        }
        return samples
    }
}
