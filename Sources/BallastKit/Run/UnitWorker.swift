import BallastCore
public import Foundation
public import Logging
import Postgres
import Venues

/// `ballast worker`: claims the work units of running runs started with the same job file, one
/// at a time, on any host that reaches the database, until told to stop (or, with
/// `exitWhenIdle`, until no running run of the job has units left).
///
/// Each unit is idempotent, so one claimed again after its worker died finishes without
/// repeating what was done: pulls store nothing twice, a propose chunk holds or supersedes its
/// portfolios' unsent batches, execute looks an order up before it could resend it and locks its
/// batch, a report is written again.
public struct UnitWorker {
    public struct Options: Sendable {
        public var databaseURL: String
        public var outputRoot: URL
        public var templatesFolder: URL
        public var environment: [String: String]
        public var csvByteOrderMark = true
        /// This worker's name in `work_units` (host and process id by default).
        public var name = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
        /// How long a claim lasts without a heartbeat (renewed every third of it).
        public var lease: Duration = .seconds(30)
        /// Stop once no running run of the job has a unit left to claim.
        public var exitWhenIdle = false
        /// Work on this run's units only.
        public var run: String?
        /// How long to wait between looks for work when there is none.
        public var poll: Duration = .milliseconds(250)

        public init(
            databaseURL: String, outputRoot: URL, templatesFolder: URL,
            environment: [String: String] = ProcessInfo.processInfo.environment
        ) {
            self.databaseURL = databaseURL
            self.outputRoot = outputRoot
            self.templatesFolder = templatesFolder
            self.environment = environment
        }
    }

    /// What the worker did.
    public struct Summary: Sendable {
        public var units = 0
        public var byKind: [String: Int] = [:]
    }

    let config: JobConfig
    let options: Options
    let logger: Logger
    /// Set from outside (a signal) to stop after the unit in hand.
    let stop: StopFlag

    public init(config: JobConfig, options: Options, logger: Logger, stop: StopFlag = StopFlag()) {
        self.config = config
        self.options = options
        self.logger = logger
        self.stop = stop
    }

    /// Claims and does units until stopped or, with `exitWhenIdle`, until there are none left.
    public func run() async throws -> Summary {
        let connection = try Connection(conninfo: options.databaseURL, logger: logger)
        defer { connection.close() }
        try Schema.requireCurrent(connection)
        let units = WorkUnits(connection: connection)
        let sessions = SessionCache()
        defer { sessions.close() }
        let heartbeat = try Heartbeat(
            worker: options.name, lease: options.lease, databaseURL: options.databaseURL, logger: logger)
        defer { heartbeat.close() }
        var summary = Summary()
        var logger = logger
        logger[metadataKey: "worker"] = "\(options.name)"
        logger.info("worker started (lease \(options.lease))")
        while !stop.isSet {
            guard
                let unit = try units.claim(
                    worker: options.name, configHash: config.fingerprint, run: options.run, lease: options.lease)
            else {
                if options.exitWhenIdle,
                    !(try units.hasOpenUnits(configHash: config.fingerprint, run: options.run))
                {
                    break
                }
                usleep(UInt32(options.poll.seconds * 1_000_000))
                continue
            }
            var unitLogger = logger
            unitLogger[metadataKey: "run.id"] = "\(unit.runID)"
            unitLogger[metadataKey: "unit"] = "\(unit.kind) \(unit.subject)"
            heartbeat.hold(unit.id)
            do {
                let (detail, next) = try await perform(
                    unit, connection: connection, sessions: sessions, logger: unitLogger)
                heartbeat.hold(nil)
                if try units.complete(unit, worker: options.name, detail: detail, next: next) {
                    summary.units += 1
                    summary.byKind[unit.kind, default: 0] += 1
                    unitLogger.debug("unit done: \(detail ?? "")")
                } else {
                    unitLogger.warning("unit done, but its claim had passed to another worker")
                }
            } catch {
                heartbeat.hold(nil)
                unitLogger.error("unit failed (attempt \(unit.attempts) of \(WorkUnits.maxAttempts)): \(error)")
                try units.fail(unit, worker: options.name, error: error)
            }
        }
        logger.info(
            "worker stopped: \(summary.units) unit(s) done (\(summary.byKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))"
        )
        return summary
    }

    /// Does `unit`; returns its detail and the units it plans next.
    func perform(_ unit: WorkUnits.Unit, connection: Connection, sessions: SessionCache, logger: Logger) async throws
        -> (
            String?, [WorkUnits.Planned]
        )
    {
        guard
            let row = try connection.query(
                "SELECT command, started_at FROM job_runs WHERE id = \(unit.runID)"
            ).first
        else { throw BallastError.invalidInput("no run \(unit.runID)") }
        let trigger: Trigger = try row.decode("command", as: String.self) == "run" ? .nightly : .driftCheck
        let run = JobRun(id: unit.runID, startedAt: try row.decode("started_at"))
        switch unit.kind {
        case "pull_market", "pull_books", "pull_account":
            let session = try sessions.session(for: unit.runID) {
                try VenueSession(
                    databaseURL: options.databaseURL, runID: unit.runID, clock: SystemTime(),
                    environment: options.environment, logger: logger, caBundle: config.tls.caBundle)
            }
            return (
                try await pull(unit, trigger: trigger, session: session, connection: connection, logger: logger), []
            )
        case "reconcile":
            let position = try Self.position(unit, connection: connection)
            if position.after && !position.executed { return ("nothing executed", []) }
            let summary = try Reconcile(connection: connection, logger: logger).run(runID: run.id)
            return ("\(summary.totalBreaks) new break(s)", [])
        case "propose":
            return (try propose(unit, trigger: trigger, connection: connection, logger: logger), [])
        case "plan_execute":
            let batches = try ExecuteJob.pendingBatches(portfolios: config.portfolios.map(\.id), on: connection)
            return (
                "\(batches.count) batch(es) to execute",
                batches.map { WorkUnits.Planned(unit.stage + 1, "execute", String($0)) }
            )
        case "execute":
            guard let batch = Int64(unit.subject) else {
                throw BallastError.internalFailure("bad batch '\(unit.subject)'")
            }
            let summary = try await ExecuteJob.run(
                batch: batch, config: config, databaseURL: options.databaseURL, logger: logger, run: run,
                environment: options.environment)
            return ("batch \(batch) \(summary.status): \(summary.sent) sent, \(summary.filled) filled", [])
        case "report":
            if trigger == .driftCheck,
                try connection.query(
                    "SELECT count(*) AS n FROM work_units WHERE run_id = \(unit.runID) AND kind = 'execute'"
                )[0].decode("n", as: Int.self) == 0
            {
                return ("nothing traded", [])
            }
            let report = try ReportJob.run(
                scope: .run(run.id), connection: connection, databaseURL: options.databaseURL,
                templatesFolder: options.templatesFolder, outputRoot: options.outputRoot, logger: logger,
                measure: true, csvByteOrderMark: options.csvByteOrderMark)
            return (report.folder.path, [])
        default:
            throw BallastError.internalFailure("unknown unit kind '\(unit.kind)'")
        }
    }

    /// Whether `unit` comes after its run's execution (a second pull, a second reconcile), and
    /// whether anything was executed: after execution with nothing executed there is nothing to do.
    static func position(_ unit: WorkUnits.Unit, connection: Connection) throws -> (after: Bool, executed: Bool) {
        let row = try connection.query(
            """
            SELECT EXISTS (SELECT 1 FROM work_units WHERE run_id = \(unit.runID) AND kind = 'plan_execute'
                           AND stage < \(unit.stage)) AS after,
                   EXISTS (SELECT 1 FROM work_units WHERE run_id = \(unit.runID) AND kind = 'execute') AS executed
            """)[0]
        return (try row.decode("after"), try row.decode("executed"))
    }

    /// A pull unit: a venue's market, or one account. A venue that does not answer is noted in the
    /// unit's detail ("not pulled: …"), as `ballast run` goes on with what is stored.
    private func pull(
        _ unit: WorkUnits.Unit, trigger: Trigger, session: VenueSession, connection: Connection, logger: Logger
    ) async throws -> String {
        let position = try Self.position(unit, connection: connection)
        if position.after && !position.executed { return "nothing executed" }
        let pull = Pull(
            config: config, databaseURL: options.databaseURL, wiring: session.wiring, runID: unit.runID,
            logger: logger, scope: trigger == .nightly || position.after ? .full : .balancesAndBooks)
        do {
            if unit.kind != "pull_account" {
                guard let venue = config.venue(unit.subject) else {
                    throw BallastError.invalidInput("venue '\(unit.subject)' is not in the job file")
                }
                if unit.kind == "pull_market" {
                    return "\(try await pull.pullRules(venue).symbols) symbol(s) changed"
                }
                let summary = try await pull.pullBooks(venue)
                return "\(summary.tickers) ticker(s), \(summary.depthSnapshots) depth(s)"
            }
            guard let account = config.accounts.first(where: { $0.id == unit.subject }) else {
                throw BallastError.invalidInput("account '\(unit.subject)' is not in the job file")
            }
            let summary = try await pull.pullAccount(account, on: connection)
            return "\(summary.balanceSnapshots) balance snapshot(s), \(summary.fillsNew) new fill(s)"
        } catch let error as BallastError {
            if case .venue = error {
                logger.warning("not pulled: \(error)")
                return "not pulled: \(error)"
            }
            throw error
        } catch let error as VenueError {
            logger.warning("not pulled: \(error)")
            return "not pulled: \(error)"
        }
    }

    /// A propose unit: the portfolios of one chunk (a drift check leaves out those with an account
    /// at a venue whose pull did not answer in this run).
    private func propose(_ unit: WorkUnits.Unit, trigger: Trigger, connection: Connection, logger: Logger) throws
        -> String
    {
        let ids = unit.subject.split(separator: ",").map(String.init)
        // The chunk's portfolios as the job file has them, with their accounts (stored by the pulls).
        try PortfolioStore(connection: connection).save(config.portfolios.filter { ids.contains($0.id) })
        var only = ids
        if trigger == .driftCheck {
            let failedAccounts = Set(
                try connection.query(
                    """
                    SELECT subject FROM work_units WHERE run_id = \(unit.runID) AND kind = 'pull_account'
                      AND detail LIKE 'not pulled%'
                    """
                ).map { try $0.decode("subject", as: String.self) })
            let failedVenues = Set(
                try connection.query(
                    """
                    SELECT subject FROM work_units WHERE run_id = \(unit.runID) AND kind IN ('pull_market', 'pull_books')
                      AND detail LIKE 'not pulled%'
                    """
                ).map { try $0.decode("subject", as: String.self) })
            let venueOf = Dictionary(config.accounts.map { ($0.id, $0.venue) }) { a, _ in a }
            only = config.portfolios.filter { portfolio in
                ids.contains(portfolio.id)
                    && portfolio.accounts.allSatisfy {
                        !failedAccounts.contains($0) && !failedVenues.contains(venueOf[$0] ?? "")
                    }
            }.map(\.id)
            if only.count < ids.count {
                logger.warning("\(ids.count - only.count) portfolio(s) not checked: a venue of theirs did not answer")
            }
            guard !only.isEmpty else { return "0 portfolio(s) checked" }
        }
        let proposals = try Propose(connection: connection, logger: logger).run(
            config: config, only: only, runID: unit.runID, dryRun: false)
        return "\(proposals.count) portfolio(s), \(proposals.count { $0.batchID != nil }) batch(es)"
    }
}

/// A worker's venue sessions (transport, attempt and budget connections), one per run it works on,
/// kept across that run's units: a unit pays for its requests, not for new connections.
final class SessionCache {
    private var sessions: [String: VenueSession] = [:]

    func session(for run: String, _ make: () throws -> VenueSession) throws -> VenueSession {
        if let session = sessions[run] { return session }
        // Units of one run at a time, in practice: a finished run's session is let go.
        close()
        let session = try make()
        sessions[run] = session
        return session
    }

    func close() {
        for session in sessions.values { session.close() }
        sessions = [:]
    }
}

/// A flag a signal handler sets and a loop reads.
public final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var set = false
    public init() {}
    public var isSet: Bool { lock.withLock { set } }
    public func raise() { lock.withLock { set = true } }
}

/// Renews the lease of the unit in hand every third of the lease, on a connection of its own (one
/// per worker, for its whole life), until closed.
final class Heartbeat: @unchecked Sendable {
    // Safe to share: `unit` is guarded by `lock`.
    private let lock = NSLock()
    private var unit: Int64?
    private let stopped = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    init(worker: String, lease: Duration, databaseURL: String, logger: Logger) throws {
        let connection = Unshared(try Connection(conninfo: databaseURL, logger: logger))
        let interval = lease.seconds / 3
        let thread = Thread { [self] in
            defer {
                connection.value.close()
                finished.signal()
            }
            while stopped.wait(timeout: .now() + interval) == .timedOut {
                guard let unit = lock.withLock({ self.unit }) else { continue }
                do {
                    if !(try WorkUnits(connection: connection.value).heartbeat(unit, worker: worker, lease: lease)) {
                        logger.warning("lease of unit \(unit) lost")
                    }
                } catch {
                    logger.warning("heartbeat for unit \(unit) failed: \(error)")
                }
            }
        }
        thread.name = "heartbeat"
        thread.start()
    }

    /// Renews `unit`'s lease from now on (nil: none).
    func hold(_ unit: Int64?) { lock.withLock { self.unit = unit } }

    /// Stops renewing (waits for the thread to let go of its connection).
    func close() {
        stopped.signal()
        finished.wait()
    }
}
