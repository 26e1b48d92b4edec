public import BallastCore
import BallastKit
public import Foundation
public import Logging
import Postgres
public import Simulator
import Synchronization
import Venues

/// Crash-safety trials for `ballast execute` (issue: "crash safety is tested,
/// not hoped for"). Each trial starts three simulated venues and a fresh
/// database, pulls, proposes and approves a batch, runs `ballast execute` as a
/// child process that is SIGKILLed at an injected point or at a random moment,
/// runs it again until the batch finishes, and then checks at the simulator:
/// no client order id placed twice, no order left live, every intent resolved,
/// and each account's balances equal to its starting balances plus the fills
/// ledger Ballast stored.
public struct CrashCampaign: Sendable {
    /// How a trial kills the executor.
    public enum Kill: Sendable, CustomStringConvertible {
        /// `BALLAST_CRASH_AT=point:hit`.
        case at(String, hit: Int)
        /// SIGKILL after this long.
        case after(Duration)
        /// The database server crashes (`pg_ctl stop -m immediate`) after this long, and is
        /// started again once execute has ended; needs the campaign's `cluster`.
        case databaseCrash(after: Duration)
        /// The database server's processes are frozen (SIGSTOP) after this long, and thawed once
        /// execute has ended; needs the campaign's `cluster`.
        case databaseFreeze(after: Duration)
        /// No kill (the control).
        case none

        public var description: String {
            switch self {
            case .at(let point, let hit): "\(point):\(hit)"
            case .after(let delay): "random@\(Int(delay.seconds * 1000))ms"
            case .databaseCrash(let delay): "db-crash@\(Int(delay.seconds * 1000))ms"
            case .databaseFreeze(let delay): "db-freeze@\(Int(delay.seconds * 1000))ms"
            case .none: "none"
            }
        }
    }

    /// What a trial runs against besides the defaults.
    public struct Setup: Sendable {
        /// Lines added to each `[[venues]]` table of the job file (e.g. `timeout_ms = 600`).
        public var venueSettings = "recv_window_ms = 2000"
        /// Text appended to the job file (e.g. a `[database]` table).
        public var jobExtra = ""
        /// Variables set for every `ballast execute` of the trial.
        public var environment: [String: String] = [:]
        /// Deposited at every venue after the batch is approved, before execute: money the
        /// proposal did not count (so that a duplicate order is not refused for funds).
        public var deposits: [String: ExactDecimal] = [:]
        /// The venues' latency profile.
        public var latency = LatencyProfile(baseMs: 6, jitterMs: 6, spikeProbability: 0, spikeMs: 0)
        /// Divides the venues' quantity per book level: thin books make one order fill in several trades.
        public var depthDivisor = 1
        /// The dialect each venue speaks, in order (Binance Spot past the list's end).
        public var dialects: [SimDialect] = []
        /// Whether the cheapest venue differs by symbol (every venue trades in most batches) or is
        /// the first on every symbol (most orders at one venue, more of them split across venues).
        public var bestRotates = false

        public init() {}
    }

    /// What one trial found.
    public struct Trial: Sendable, CustomStringConvertible {
        public var kill: String
        /// The first execute died by SIGKILL (false: it finished before the kill came).
        public var killed = false
        public var orders = 0
        /// Our orders the venue refused (a post-only order that would have crossed, say): never on its book.
        public var rejected = 0
        public var venueOrders = 0
        /// Client order ids placed more than once, and venue orders Ballast has no row for.
        public var duplicates = 0
        /// Orders still live at a venue after the rerun.
        public var liveLeft = 0
        /// Our orders not in a final state, plus 1 when the batch did not complete.
        public var unresolved = 0
        /// Assets whose venue balance differs from start + fills ledger.
        public var ledgerMismatches: [String] = []
        public var reruns = 0
        /// Requests the venues received during execute, and HTTP attempts Ballast recorded for them.
        public var venueRequests = 0
        public var attemptsRecorded = 0
        /// The first execute's exit status (when it was not killed).
        public var firstExit: Int32 = 0
        /// How long the first execute ran, in seconds.
        public var firstSeconds = 0.0
        /// Venue orders whose placing request (`POST /api/v3/order`, Kraken's AddOrder, Coinbase's
        /// `POST /api/v3/brokerage/orders`, each with its client order id) is
        /// not in `http_attempts`.
        public var ordersWithoutRequest = 0
        /// Order lookups execute made (each dialect's read of one order by client id), and those made before a
        /// first send because the order might have been sent unrecorded.
        public var lookups = 0
        public var checksFirst = 0
        /// Runs still `running` in `job_runs` after the last rerun (a killed run must have been
        /// marked `interrupted` by the next one), and the statuses the runs ended with.
        public var runsLeftRunning = 0
        public var runStatuses: [String: Int] = [:]

        public var passed: Bool {
            duplicates == 0 && liveLeft == 0 && unresolved == 0 && ledgerMismatches.isEmpty && ordersWithoutRequest == 0
                && runsLeftRunning == 0
        }

        public var description: String {
            "kill \(kill): killed=\(killed) orders=\(orders) venue-orders=\(venueOrders) duplicates=\(duplicates) "
                + "live=\(liveLeft) unresolved=\(unresolved) reruns=\(reruns) requests=\(venueRequests) "
                + "attempts=\(attemptsRecorded) lookups=\(lookups) checks-first=\(checksFirst) "
                + "first-exit=\(firstExit) first-s=\(String(format: "%.2f", firstSeconds)) "
                + "without-request=\(ordersWithoutRequest) runs=\(runStatuses.sorted { $0.key < $1.key })"
                + (ledgerMismatches.isEmpty ? "" : " ledger: \(ledgerMismatches.joined(separator: "; "))")
        }
    }

    /// The `ballast` executable to run as the child.
    public let executable: URL
    /// A fresh, migrated database per trial.
    public let makeDatabase: @Sendable () throws -> String
    public let logger: Logger

    /// The cluster `databaseCrash` and `databaseFreeze` act on (its databases come from `makeDatabase`).
    public let cluster: PrivateCluster?

    public init(
        executable: URL, logger: Logger, cluster: PrivateCluster? = nil,
        makeDatabase: @escaping @Sendable () throws -> String
    ) {
        self.executable = executable
        self.logger = logger
        self.cluster = cluster
        self.makeDatabase = makeDatabase
    }

    /// Router settings that make orders rest and chase (so chase points are reached) or cross at once.
    public static func router(resting: Bool) -> String {
        resting
            ? "\n[portfolios.router]\nurgency = \"low\"\npassive_timeout_s = 0.3\nmax_chases = 1\nbudget_bps = 500\n"
            : "\n[portfolios.router]\nurgency = \"normal\"\nbudget_bps = 500\n"
    }

    /// Runs one trial; `faults` are scripted at the first venue for the first execute only.
    public func run(kill: Kill, resting: Bool, seed: UInt64, faults: [FaultRule] = [], setup: Setup = Setup())
        async throws -> Trial
    {
        let venues = try SimulatedVenues(
            venues: 3, seed: seed, latency: setup.latency, venueSettings: setup.venueSettings,
            depthDivisor: setup.depthDivisor, dialects: setup.dialects, krakenTier: KrakenSpotClient.proCounter,
            bestRotates: setup.bestRotates)
        defer { venues.stop() }
        let databaseURL = try makeDatabase()
        let jobPath = FileManager.default.temporaryDirectory.appendingPathComponent("crash-\(UUID()).toml").path
        defer { try? FileManager.default.removeItem(atPath: jobPath) }
        try (venues.jobTOML + Self.router(resting: resting) + setup.jobExtra).write(
            toFile: jobPath, atomically: true, encoding: .utf8)
        let config = try JobConfig.load(path: jobPath)
        var quiet = logger
        quiet.logLevel = .error
        _ = try await PullJob.run(
            config: config, databaseURL: databaseURL, logger: quiet, environment: venues.environment)
        var connection = try Connection(conninfo: databaseURL, logger: quiet)
        defer { connection.close() }
        let proposals = try Propose(connection: connection, logger: quiet).run(
            config: config, runID: nil, dryRun: false)
        guard let batch = proposals.first?.batchID else {
            throw BallastError.internalFailure("the trial's portfolio proposed nothing")
        }
        if proposals.first?.status == "proposed" {
            try Approval(connection: connection).approve(batch: batch, by: "crash-campaign")
        }
        for venue in venues.simulator.venues {
            for (asset, amount) in setup.deposits.sorted(by: { $0.key < $1.key }) {
                venue.deposit(apiKey: venue.config.accounts[0].apiKey, asset: asset, amount: amount)
            }
        }
        let start = Dictionary(
            uniqueKeysWithValues: venues.simulator.venues.map { v in
                (v.name, v.balances(apiKey: v.config.accounts[0].apiKey).mapValues(\.total))
            })
        var trial = Trial(kill: kill.description)
        var environment = venues.environment.merging(setup.environment) { $1 }
        environment["BALLAST_DATABASE_URL"] = databaseURL
        let requestsBefore = venues.simulator.venues.map(\.statistics.requests).reduce(0, +)
        for fault in faults { venues.simulator.venues[0].addFault(fault) }
        let began = ContinuousClock.now
        let first = try await execute(batch, jobPath, environment, kill: kill)
        trial.firstSeconds = (ContinuousClock.now - began).seconds
        trial.killed = first.killed
        trial.firstExit = first.status
        switch kill {
        case .databaseCrash where first.killed, .databaseFreeze where first.killed:
            if case .databaseCrash = kill { try cluster?.start() } else { cluster?.thaw() }
            // This side's session went down with the server (or waited out its freeze): a new one.
            connection.close()
            connection = try Connection(conninfo: databaseURL, logger: quiet)
        default: break
        }
        venues.simulator.venues[0].clearFaults()
        for _ in 0..<6 {
            if try connection.query("SELECT status FROM batches WHERE id = \(batch)").first?.decode(
                "status", as: String.self) == "completed"
            {
                break
            }
            trial.reruns += 1
            // A deferred batch waits out what deferred it (a ban's Retry-After) before the next try.
            if first.status == 3 || trial.reruns > 1 { try await Task.sleep(for: .seconds(1)) }
            _ = try await execute(batch, jobPath, environment, kill: .none)
        }
        // Requests still on their way in reach the venue before it is inspected (a duplicate they
        // make is made then).
        for _ in 0..<1000 where venues.simulator.venues.contains(where: { $0.requestsOnTheWayIn > 0 }) {
            try await Task.sleep(for: .milliseconds(10))
        }
        trial.venueRequests = venues.simulator.venues.map(\.statistics.requests).reduce(0, +) - requestsBefore
        trial.attemptsRecorded = try connection.query(
            """
            SELECT count(*) AS n FROM http_attempts
            WHERE run_id IN (SELECT id FROM job_runs WHERE command = 'execute')
            """
        ).first!.decode("n")
        try await check(&trial, batch: batch, venues: venues, start: start, connection: connection)
        return trial
    }

    /// Runs `ballast execute` once: whether it died by a signal, and its exit status.
    private func execute(_ batch: Int64, _ jobPath: String, _ environment: [String: String], kill: Kill) async throws
        -> (killed: Bool, status: Int32)
    {
        let process = Process()
        process.executableURL = executable
        process.arguments = ["execute", String(batch), "--job", jobPath, "--log-level", "critical"]
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        env["BALLAST_CRASH_AT"] = nil
        if case .at(let point, let hit) = kill { env["BALLAST_CRASH_AT"] = "\(point):\(hit)" }
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var struck = false
        switch kill {
        case .after(let delay):
            try await Task.sleep(for: delay)
            if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        case .databaseCrash(let delay):
            try await Task.sleep(for: delay)
            if process.isRunning {
                try cluster?.crash()
                struck = true
            }
        case .databaseFreeze(let delay):
            try await Task.sleep(for: delay)
            if process.isRunning {
                cluster?.freeze()
                struck = true
            }
        case .at, .none: break
        }
        while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        return (process.terminationReason == .uncaughtSignal || struck, process.terminationStatus)
    }

    private func check(
        _ trial: inout Trial, batch: Int64, venues: SimulatedVenues, start: [String: [String: ExactDecimal]],
        connection: Connection
    ) async throws {
        var ours: Set<String> = []
        for row in try connection.query("SELECT client_order_id, state FROM orders WHERE batch_id = \(batch)") {
            ours.insert(try row.decode("client_order_id"))
            trial.orders += 1
            let state = OrderState(rawValue: try row.decode("state")) ?? .unknown
            if !state.isFinal { trial.unresolved += 1 }
            if state == .rejected { trial.rejected += 1 }
        }
        if try connection.query("SELECT status FROM batches WHERE id = \(batch)").first?.decode(
            "status", as: String.self) != "completed"
        {
            trial.unresolved += 1
        }
        let requested = Set(
            try connection.query(
                """
                SELECT DISTINCT venue_id || ' ' || client_order_id AS k FROM http_attempts
                WHERE method = 'POST' AND endpoint IN ('/api/v3/order', '/0/private/AddOrder', '/api/v3/brokerage/orders')
                  AND client_order_id IS NOT NULL
                """
            ).map { try $0.decode("k", as: String.self) })
        let looked = try connection.query(
            """
            SELECT count(*) FILTER (WHERE (h.method = 'GET' AND h.endpoint = '/api/v3/order')
                                       OR (h.endpoint = '/0/private/OpenOrders' AND h.client_order_id IS NOT NULL)
                                       OR (h.method = 'GET' AND h.endpoint LIKE '/api/v3/brokerage/orders/historical/%'
                                           AND h.endpoint <> '/api/v3/brokerage/orders/historical/fills'
                                           AND h.client_order_id IS NOT NULL))
                       AS lookups,
                   (SELECT count(*) FROM order_attempts WHERE outcome = 'check_first') AS first
            FROM http_attempts h WHERE h.run_id IN (SELECT id FROM job_runs WHERE command = 'execute')
            """
        ).first!
        // As the next run would: a killed execute whose batch was already complete had no rerun to
        // mark it. Its server session may take a moment to end.
        for _ in 0..<40 {
            try JobRun.markInterrupted(on: connection)
            let running: Int = try connection.query("SELECT count(*) AS n FROM job_runs WHERE status = 'running'")
                .first!.decode("n")
            if running == 0 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        for row in try connection.query("SELECT status, count(*) AS n FROM job_runs GROUP BY status") {
            trial.runStatuses[try row.decode("status")] = try row.decode("n")
        }
        trial.runsLeftRunning = trial.runStatuses["running"] ?? 0
        trial.lookups = try looked.decode("lookups")
        trial.checksFirst = try looked.decode("first")
        for venue in venues.simulator.venues {
            let key = venue.config.accounts[0].apiKey
            let orders = venue.orders(apiKey: key)
            trial.ordersWithoutRequest +=
                orders.filter { !requested.contains(venue.name + " " + $0.clientOrderId) }.count
            trial.venueOrders += orders.count
            let byClient = Dictionary(grouping: orders, by: \.clientOrderId)
            trial.duplicates += byClient.values.filter { $0.count > 1 }.count
            trial.duplicates += byClient.keys.filter { !ours.contains($0) }.count
            trial.liveLeft += orders.filter(\.isOpen).count
            var expected = start[venue.name] ?? [:]
            for row in try connection.query(
                """
                SELECT f.side, f.qty, f.quote_qty, f.commission, f.commission_asset, s.base_asset, s.quote_asset
                FROM fills f JOIN symbols s ON s.venue_id = f.venue_id AND s.symbol = f.symbol
                WHERE f.venue_id = \(venue.name)
                """)
            {
                let sign: ExactDecimal = try row.decode("side", as: String.self) == "buy" ? .one : -.one
                expected[try row.decode("base_asset"), default: .zero] += sign * (try row.decode("qty"))
                expected[try row.decode("quote_asset"), default: .zero] -= sign * (try row.decode("quote_qty"))
                expected[try row.decode("commission_asset"), default: .zero] -= try row.decode("commission")
            }
            let actual = venue.balances(apiKey: key).mapValues(\.total)
            for asset in Set(actual.keys).union(expected.keys).sorted() {
                let a = actual[asset] ?? .zero
                let e = expected[asset] ?? .zero
                if a != e { trial.ledgerMismatches.append("\(venue.name) \(asset): venue \(a) ≠ ledger \(e)") }
            }
        }
    }
}

extension CrashCampaign {
    /// A fresh, migrated schema per trial in the database at `base`, reached through a conninfo
    /// whose `options` set the search_path, so child processes use it too. `drop` removes them all.
    public final class ScratchDatabases: Sendable {
        let base: String
        let logger: Logger
        let created = Mutex<[String]>([])

        public init(base: String, logger: Logger) {
            self.base = base
            self.logger = logger
        }

        /// Creates the next schema and returns its conninfo.
        public func make() throws -> String {
            let name =
                "bench_crash_\(ProcessInfo.processInfo.processIdentifier)_" + String(created.withLock { $0.count })
            let connection = try Connection(conninfo: base, logger: logger)
            defer { connection.close() }
            _ = try ScratchSchema(name, on: connection)
            created.withLock { $0.append(name) }
            return Self.conninfo(base, searchPath: name)
        }

        /// Drops every schema made (unless BALLAST_BENCH_KEEP is set).
        public func drop() {
            guard let connection = try? Connection(conninfo: base, logger: logger) else { return }
            defer { connection.close() }
            for name in created.withLock({ $0 }) {
                ScratchSchema(existing: name, on: connection).drop()
            }
        }

        /// `base` with `options=-c search_path=<schema>` added (URI or key=value form).
        static func conninfo(_ base: String, searchPath schema: String) -> String {
            if base.hasPrefix("postgres://") || base.hasPrefix("postgresql://") {
                return base + (base.contains("?") ? "&" : "?") + "options=-csearch_path%3D" + schema
            }
            return base + " options='-csearch_path=\(schema)'"
        }
    }
}
