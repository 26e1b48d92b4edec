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
        /// What started the run: the job's steps.
        public var trigger: Trigger = .nightly
        /// Split the run into work units for `ballast worker` processes (nil: run the steps here).
        public var workers: WorkerOptions?

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
        /// Reconciliation breaks and deferred orders of the run.
        public struct Attention: Sendable {
            public var breaks: Int
            public var deferred: Int
            /// Nothing to look at.
            public var isEmpty: Bool { breaks == 0 && deferred == 0 }
        }

        public var runID: String
        /// The report's folder (nil when a drift check traded nothing and wrote none).
        public var folder: URL?
        public var pulls: [Pull.VenueSummary]
        public var attention: Attention
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
        Schema.ensurePartitions(connection, logger: logger)
        let locks = try lockPortfolios(on: connection)
        defer { for lock in locks { try? lock.unlock(on: connection) } }

        let trigger = options.trigger
        let steps = Self.steps(trigger)
        let run: JobRun
        var recorded: RunSteps
        if let resume = options.resume {
            recorded = try RunSteps(runID: resume, connection: connection)
            if recorded.completed.isSuperset(of: steps) {
                throw BallastError.invalidInput("run \(resume): every step completed; nothing to resume")
            }
            run = try JobRun.resume(resume, command: trigger.command, configHash: config.fingerprint, on: connection)
        } else {
            run = try JobRun.start(trigger.command, configHash: config.fingerprint, on: connection)
            recorded = try RunSteps(runID: run.id, connection: connection)
        }
        var logger = logger
        logger[metadataKey: "run.id"] = "\(run.id)"
        if options.resume != nil {
            logger.info(
                "resuming run \(run.id): skipping \(steps.filter(recorded.completed.contains).joined(separator: ", "))"
            )
        }
        if let workers = options.workers {
            do {
                let outcome = try await runWithWorkers(workers, run: run, connection: connection, logger: logger)
                let steps = try RunSteps.of([run.id], on: connection).map {
                    ($0.step, ($0.finishedAt ?? Date()).timeIntervalSince($0.startedAt))
                }
                writeMetrics(run: run, steps: steps, error: nil, connection: connection, logger: logger)
                return outcome
            } catch {
                run.finish(on: connection, failedWith: error, logger: logger)
                writeMetrics(run: run, steps: [], error: error, connection: connection, logger: logger)
                throw error
            }
        }
        // Each step's duration, for the metrics file.
        var durations: [(name: String, seconds: Double)] = []
        /// Runs step `name` unless an earlier attempt of this run completed it, recording it in `run_steps`.
        func perform(_ name: String, _ body: () async throws -> (rows: Int?, detail: String?)) async throws {
            let position = (steps.firstIndex(of: name) ?? 0) + 1
            // A drift check decides on books minutes old at most: resumed before its proposal, it pulls again.
            let repeats = trigger == .driftCheck && name == "pull" && !recorded.completed.contains("propose")
            guard !recorded.completed.contains(name) || repeats else {
                logger.info("step \(position)/\(steps.count): \(name) completed in an earlier attempt; skipped")
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
        func announce(_ name: String, _ what: String) {
            logger.info("step \((steps.firstIndex(of: name) ?? 0) + 1)/\(steps.count): \(what)")
        }
        do {
            try await perform("pull") {
                let scope: Pull.Scope = trigger == .nightly ? .full : .balancesAndBooks
                announce("pull", scope == .full ? "pull" : "pull balances and books")
                pulls = try await PullJob.run(
                    config: config, databaseURL: options.databaseURL, logger: logger, run: run,
                    environment: options.environment, scope: scope)
                for summary in pulls where summary.failure != nil {
                    logger.warning("venue \(summary.venue) was not pulled; later steps use what is stored")
                }
                let failed = pulls.filter { $0.failure != nil }.map(\.venue)
                return (
                    pulls.count - failed.count,
                    "\(pulls.count - failed.count) venue(s) pulled, \(failed.count) not"
                        + (failed.isEmpty ? "" : ": \(failed.joined(separator: ", "))")
                )
            }
            if trigger == .nightly {
                try await perform("reconcile") {
                    announce("reconcile", "reconcile")
                    let summary = try Reconcile(connection: connection, logger: logger).run(runID: run.id)
                    return (summary.totalBreaks, "\(summary.totalBreaks) new break(s)")
                }
            }
            try await perform("propose") {
                var only: [String] = []
                if trigger == .driftCheck {
                    // Only portfolios whose every venue answered this check: a decision on another
                    // venue's stale balances could trade what is already gone.
                    let failed = Set(pulls.filter { $0.failure != nil }.map(\.venue))
                    let venueOf = Dictionary(config.accounts.map { ($0.id, $0.venue) }, uniquingKeysWith: { a, _ in a })
                    for portfolio in config.portfolios {
                        let down = Set(portfolio.accounts.compactMap { venueOf[$0] }).intersection(failed)
                        if down.isEmpty {
                            only.append(portfolio.id)
                        } else {
                            logger.warning(
                                "portfolio \(portfolio.id): not checked, venue(s) \(down.sorted().joined(separator: ", ")) did not answer"
                            )
                        }
                    }
                    guard !only.isEmpty else { return (0, "no portfolio had every venue answering") }
                }
                announce("propose", "propose (and approve under each portfolio's cap)")
                let proposals = try Propose(connection: connection, logger: logger).run(
                    config: config, only: only, runID: run.id, dryRun: false)
                for p in proposals {
                    if let held = p.held {
                        logger.warning("portfolio \(p.portfolio): held, \(held)")
                        continue
                    }
                    var state = p.batchID.map { "batch \($0) \(p.status ?? "")" } ?? "within bands"
                    if !p.superseded.isEmpty {
                        state += "; superseded batch \(p.superseded.map(String.init).joined(separator: ", "))"
                    }
                    if p.batchID != nil || trigger == .nightly || proposals.count <= 20 {
                        logger.info("portfolio \(p.portfolio): \(state)")
                    }
                }
                let batches = proposals.count { $0.batchID != nil }
                return (batches, "\(proposals.count) portfolio(s), \(batches) batch(es)")
            }
            try await perform("execute") {
                let batches = try ExecuteJob.pendingBatches(portfolios: config.portfolios.map(\.id), on: connection)
                announce("execute", "execute \(batches.count) approved batch(es)")
                var sent = 0
                var filled = 0
                var progress = Progress("execute", total: batches.count, unit: "batch(es)", logger: logger)
                for batch in batches {
                    let summary = try await ExecuteJob.run(
                        batch: batch, config: config, databaseURL: options.databaseURL, logger: logger, run: run,
                        environment: options.environment)
                    let reason = summary.reason.map { "; \($0)" } ?? ""
                    logger.info(
                        "batch \(batch) \(summary.status): \(summary.sent) sent, \(summary.filled) filled\(reason)")
                    sent += summary.sent
                    filled += summary.filled
                    progress.advance()
                }
                progress.finish()
                executed = batches.count
                return (batches.count, "\(batches.count) batch(es), \(sent) order(s) sent, \(filled) filled")
            }
            if trigger == .nightly {
                try await perform("pull_after") {
                    // After a resume that skipped execute, what it did is not known here: pull anyway.
                    guard executed != 0 else {
                        announce("pull_after", "nothing executed, nothing to pull again")
                        return (0, "nothing executed")
                    }
                    announce("pull_after", "pull again (balances and fills after execution)")
                    let again = try await PullJob.run(
                        config: config, databaseURL: options.databaseURL, logger: logger, run: run,
                        environment: options.environment)
                    return (again.count { $0.failure == nil }, "\(again.count { $0.failure == nil }) venue(s) pulled")
                }
                try await perform("reconcile_after") {
                    guard executed != 0 else {
                        announce("reconcile_after", "nothing executed, nothing to reconcile again")
                        return (0, "nothing executed")
                    }
                    announce("reconcile_after", "reconcile again (Ballast's own orders against their fills)")
                    let summary = try Reconcile(connection: connection, logger: logger).run(runID: run.id)
                    return (summary.totalBreaks, "\(summary.totalBreaks) new break(s)")
                }
            }
            try await perform("report") {
                try run.finish(on: connection)
                if trigger == .driftCheck, executed == 0 {
                    announce("report", "nothing traded: no report")
                    return (0, "nothing traded")
                }
                announce("report", "measure and report")
                let report = try ReportJob.run(
                    scope: .run(run.id), connection: connection, databaseURL: options.databaseURL,
                    templatesFolder: options.templatesFolder, outputRoot: options.outputRoot, logger: logger,
                    measure: true, csvByteOrderMark: options.csvByteOrderMark)
                folder = report.folder
                return (report.totalRows, report.folder.path)
            }
            let attention = try Self.attention(runID: run.id, on: connection)
            writeMetrics(run: run, steps: durations, error: nil, connection: connection, logger: logger)
            return Outcome(runID: run.id, folder: folder, pulls: pulls, attention: attention)
        } catch {
            run.finish(on: connection, failedWith: error, logger: logger)
            writeMetrics(run: run, steps: durations, error: error, connection: connection, logger: logger)
            throw error
        }
    }

    /// The steps of a run of `trigger`, in order.
    public static func steps(_ trigger: Trigger) -> [String] {
        switch trigger {
        case .nightly: ["pull", "reconcile", "propose", "execute", "pull_after", "reconcile_after", "report"]
        case .driftCheck: ["pull", "propose", "execute", "report"]
        }
    }

    /// What a finished run leaves for someone to look at: the reconciliation breaks it found and the
    /// orders its batches deferred (`ballast run` exits 3 when there are any).
    static func attention(runID: String, on connection: Connection) throws -> Outcome.Attention {
        let row = try connection.query(
            """
            SELECT (SELECT count(*) FROM reconciliation_breaks WHERE run_id = \(runID)) AS breaks,
                   (SELECT count(*) FROM decisions d JOIN batches b ON b.id = d.batch_id
                    WHERE b.run_id = \(runID) AND d.kind = 'deferral') AS deferred
            """)[0]
        return Outcome.Attention(breaks: try row.decode("breaks"), deferred: try row.decode("deferred"))
    }

    /// Leaves the run's figures in the Prometheus textfile (`MetricsFile`); a failure to do so is
    /// logged, never the run's outcome.
    private func writeMetrics(
        run: JobRun, steps: [(name: String, seconds: Double)], error: (any Error)?, connection: Connection,
        logger: Logger
    ) {
        do {
            try MetricsFile(outputRoot: options.outputRoot).update(
                try Self.metrics(
                    job: options.jobName, trigger: options.trigger, runID: run.id, steps: steps,
                    succeeded: error == nil, at: Date(),
                    connection: connection))
        } catch {
            logger.warning("metrics not written: \(error)")
        }
    }

    /// The samples of one run: success or failure time, step durations, and (from what the run
    /// measured and recorded) orders, filled notional, slippage, breaks, deferrals and venue errors.
    static func metrics(
        job: String, trigger: Trigger, runID: String, steps: [(name: String, seconds: Double)], succeeded: Bool,
        at date: Date,
        connection: Connection
    ) throws -> [MetricsFile.Sample] {
        typealias Sample = MetricsFile.Sample
        let label = [("job", job), ("trigger", trigger.rawValue)]
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
                    FROM route_measures WHERE run_id = \(runID) AND slippage_bps_mean IS NOT NULL)::float8 AS slippage
            """)[0]
        let attention = try attention(runID: runID, on: connection)
        samples.append(Sample("ballast_last_run_orders", label, try figures.decode("orders")))
        if let slippage: Double = try figures.decode("slippage") {
            samples.append(Sample("ballast_last_run_slippage_bps", label, slippage))
        }
        samples.append(Sample("ballast_last_run_reconciliation_breaks", label, Double(attention.breaks)))
        samples.append(Sample("ballast_last_run_deferred_orders", label, Double(attention.deferred)))
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
