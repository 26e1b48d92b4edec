public import Foundation
import Logging
import Postgres

extension RunJob {
    /// How a run is split for workers.
    public struct WorkerOptions: Sendable {
        /// Local `ballast worker` processes to start (others may join from any host).
        public var count: Int
        /// The `ballast` executable the workers are started from.
        public var executable: URL
        /// The job file the workers read (the same the run was started with).
        public var jobPath: String
        /// A worker's claim without a heartbeat lapses after this long.
        public var lease: Duration = .seconds(30)
        /// Portfolios per propose unit.
        public var proposeChunk = 100

        public init(count: Int, executable: URL, jobPath: String) {
            self.count = count
            self.executable = executable
            self.jobPath = jobPath
        }
    }

    /// The stages of a run split into units, in order: the name each has in `run_steps`, and the
    /// units it starts with (execute units are planned by `plan_execute` once the batches exist).
    func plannedStages(proposeChunk: Int) -> [(step: String, units: [WorkUnits.Planned])] {
        let portfolios = config.portfolios.map(\.id)
        let chunks = stride(from: 0, to: portfolios.count, by: proposeChunk).map {
            portfolios[$0..<min($0 + proposeChunk, portfolios.count)].joined(separator: ",")
        }
        var stages: [(String, [(kind: String, subject: String)])] = [
            ("pull_market", config.venues.map { ("pull_market", $0.id) }),
            ("pull", config.accounts.map { ("pull_account", $0.id) }),
            ("pull_books", config.venues.map { ("pull_books", $0.id) }),
        ]
        if options.trigger == .nightly { stages.append(("reconcile", [("reconcile", "")])) }
        stages += [
            ("propose", chunks.map { ("propose", $0) }), ("plan_execute", [("plan_execute", "")]), ("execute", []),
        ]
        if options.trigger == .nightly {
            stages += [
                ("pull_market_after", config.venues.map { ("pull_market", $0.id) }),
                ("pull_after", config.accounts.map { ("pull_account", $0.id) }),
                ("pull_books_after", config.venues.map { ("pull_books", $0.id) }),
                ("reconcile_after", [("reconcile", "")]),
            ]
        }
        stages.append(("report", [("report", "")]))
        return stages.enumerated().map { index, stage in
            (stage.0, stage.1.map { WorkUnits.Planned(index + 1, $0.kind, $0.subject) })
        }
    }

    /// The run split into work units that `workers.count` local `ballast worker` processes (and any
    /// started elsewhere with the same job file) claim; this process plans, watches and finishes it.
    func runWithWorkers(
        _ workers: WorkerOptions, run: JobRun, connection: Connection, logger: Logger
    ) async throws -> Outcome {
        let stages = plannedStages(proposeChunk: workers.proposeChunk)
        let units = WorkUnits(connection: connection)
        if options.resume != nil {
            // A resumed run tries its failed units again from scratch.
            try connection.execute(
                "UPDATE work_units SET state = 'ready', attempts = 0, error = NULL WHERE run_id = \(run.id) AND state = 'failed'"
            )
        }
        try units.plan(stages.flatMap(\.units), runID: run.id)
        let started = Date()
        let planned = try units.counts(runID: run.id).total
        logger.info(
            "run split into \(planned) unit(s) over \(stages.count) stages; starting \(workers.count) worker(s)"
        )
        var environment = options.environment
        environment["BALLAST_DATABASE_URL"] = options.databaseURL
        var children: [Process] = []
        defer {
            for child in children where child.isRunning { child.terminate() }
        }
        for _ in 0..<workers.count {
            let child = Process()
            child.executableURL = workers.executable
            child.arguments = [
                "worker", "--job", workers.jobPath, "--run", run.id, "--exit-when-idle",
                "--out", options.outputRoot.path, "--templates", options.templatesFolder.path,
                "--lease", String(workers.lease.seconds), "--csv-bom",
                options.csvByteOrderMark ? "true" : "false",
            ]
            child.environment = environment
            try child.run()
            children.append(child)
        }
        var progress = Progress("units", total: nil, unit: "unit(s) done", logger: logger)
        var reported = 0
        while true {
            let counts = try units.counts(runID: run.id)
            if counts.done > reported {
                progress.advance(by: counts.done - reported)
                reported = counts.done
            }
            if counts.failed > 0 {
                progress.finish()
                try recordSteps(stages, run: run, connection: connection)
                throw BallastError.venue(
                    "a work unit failed after \(WorkUnits.maxAttempts) attempts: \(counts.failure ?? "?")")
            }
            if counts.done == counts.total { break }
            if children.allSatisfy({ !$0.isRunning }),
                !(try connection.query(
                    "SELECT EXISTS (SELECT 1 FROM work_units WHERE run_id = \(run.id) AND state = 'claimed' AND lease_until > now()) AS busy"
                )[0].decode("busy", as: Bool.self))
            {
                progress.finish()
                try recordSteps(stages, run: run, connection: connection)
                throw BallastError.internalFailure(
                    "every local worker exited with \(counts.total - counts.done) unit(s) left (see `ballast runs`); "
                        + "resume with --resume \(run.id)")
            }
            usleep(250_000)
        }
        progress.finish()
        for child in children { child.waitUntilExit() }
        try recordSteps(stages, run: run, connection: connection)
        let folder = try connection.query(
            "SELECT detail FROM work_units WHERE run_id = \(run.id) AND kind = 'report'"
        ).first?.decode("detail", as: String?.self).flatMap { $0.hasPrefix("/") ? URL(fileURLWithPath: $0) : nil }
        let crashed = children.filter { $0.terminationReason == .uncaughtSignal }.count
        let note = crashed > 0 ? " (\(crashed) worker(s) were killed; their units were claimed again)" : ""
        logger.info(
            "all units done in \(Date().timeIntervalSince(started).formatted(.number.precision(.fractionLength(1)))) s\(note)"
        )
        try run.finish(on: connection)
        return Outcome(
            runID: run.id, folder: folder, pulls: [], attention: try Self.attention(runID: run.id, on: connection))
    }

    /// Records each stage in `run_steps` from its units: begun when its first unit was claimed, done
    /// when its last was, with the count of units and workers (and a single unit's own detail).
    private func recordSteps(
        _ stages: [(step: String, units: [WorkUnits.Planned])], run: JobRun, connection: Connection
    ) throws {
        for (index, stage) in stages.enumerated() {
            try connection.execute(
                """
                INSERT INTO run_steps (run_id, step, position, started_at, finished_at, outcome, rows, detail, error)
                SELECT \(run.id), \(stage.step), \(index + 1), coalesce(min(u.claimed_at), now()),
                       CASE WHEN bool_and(u.state = 'done') OR count(*) = 0 THEN coalesce(max(u.finished_at), now()) END,
                       CASE WHEN bool_or(u.state = 'failed') THEN 'failed'
                            WHEN bool_and(u.state = 'done') OR count(*) = 0 THEN 'completed' ELSE 'running' END,
                       count(*),
                       CASE WHEN count(*) = 1 THEN max(u.detail)
                            ELSE count(*) || ' unit(s) by ' || count(DISTINCT u.worker) || ' worker(s)' END,
                       max(u.error)
                FROM work_units u WHERE u.run_id = \(run.id) AND u.stage = \(index + 1)
                ON CONFLICT (run_id, step) DO UPDATE SET started_at = EXCLUDED.started_at,
                    finished_at = EXCLUDED.finished_at, outcome = EXCLUDED.outcome, rows = EXCLUDED.rows,
                    detail = EXCLUDED.detail, error = EXCLUDED.error
                """)
        }
    }
}
