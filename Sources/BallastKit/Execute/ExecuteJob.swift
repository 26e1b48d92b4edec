import BallastCore
public import Foundation
public import Logging
public import Postgres
import Venues

/// Runs `execute` the way the command line does: records a job run, wires a
/// signed client per account the batch trades through (libcurl, the shared
/// rate budget, attempts recorded in PostgreSQL) and drives the batch.
public enum ExecuteJob {
    /// Batches of `portfolios` that are approved, or were left executing or deferred: what a run executes.
    public static func pendingBatches(portfolios: [String], on connection: Connection) throws -> [Int64] {
        try connection.query(
            """
            SELECT id FROM batches WHERE status IN ('approved', 'executing', 'deferred') AND approved_at IS NOT NULL
              AND portfolio_id = ANY(\(portfolios)) ORDER BY id
            """
        ).map { try $0.decode("id") }
    }

    /// Execute's "track before send" holds only if a committed `sending` row survives a crash.
    /// Ballast's sessions commit synchronously whatever the server's default; a server running
    /// with `fsync = off` can still lose them in a machine crash (a server crash is survived).
    static func warnIfNotDurable(_ connection: Connection, logger: Logger) throws {
        let row = try connection.query(
            "SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sync"
        ).first!
        if try row.decode("fsync", as: String.self) == "off" {
            logger.warning(
                """
                the database server runs with fsync = off: a machine crash can lose committed orders' states \
                (a server crash cannot); set fsync = on for real trading
                """)
        }
        if try row.decode("sync", as: String.self) == "off" {
            logger.warning(
                """
                synchronous_commit is off for this session (BALLAST_TEST_LOSE_RECENT_COMMITS): recent commits \
                may be lost in a crash; for crash tests only
                """)
        }
    }

    public static func run(
        batch: Int64, config: JobConfig, databaseURL: String, logger: Logger, run existing: JobRun? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> Execute.Summary {
        let connection = try Connection(conninfo: databaseURL, logger: logger)
        defer { connection.close() }
        try Schema.requireCurrent(connection)
        guard
            let portfolio = try connection.query("SELECT portfolio_id FROM batches WHERE id = \(batch)").first?.decode(
                "portfolio_id", as: String.self)
        else { throw BallastError.invalidInput("no batch \(batch)") }
        guard let settings = config.portfolios.first(where: { $0.id == portfolio }) else {
            throw BallastError.invalidInput("batch \(batch) is for portfolio '\(portfolio)', which the job file lacks")
        }
        let run = try existing ?? JobRun.start("execute", configHash: config.fingerprint, on: connection)
        var logger = logger
        logger[metadataKey: "run.id"] = "\(run.id)"
        logger[metadataKey: "batch"] = "\(batch)"
        try warnIfNotDurable(connection, logger: logger)
        let session = try VenueSession(
            databaseURL: databaseURL, runID: run.id, clock: SystemTime(), environment: environment, logger: logger,
            caBundle: config.tls.caBundle)
        defer { session.close() }
        let wiring = session.wiring
        do {
            var clients: [String: any OrderVenue] = [:]
            for row in try connection.query(
                """
                SELECT DISTINCT o.venue_id, o.account_id, v.request_weight_per_minute AS weight, v.orders_per_10s
                FROM orders o JOIN venues v ON v.id = o.venue_id WHERE o.batch_id = \(batch)
                """)
            {
                let venueID: String = try row.decode("venue_id")
                let accountID: String = try row.decode("account_id")
                guard let venue = config.venue(venueID),
                    let account = config.accounts.first(where: { $0.id == accountID })
                else {
                    throw BallastError.invalidInput(
                        "batch \(batch) trades at \(venueID) through \(accountID), which the job file lacks")
                }
                var limits = RateLimits()
                if let weight = try row.decode("weight", as: Int?.self) { limits.requestWeightPerMinute = weight }
                if let orders = try row.decode("orders_per_10s", as: Int?.self) { limits.ordersPerTenSeconds = orders }
                clients[venueID] = try wiring.client(venue, account: account, limits: limits)
            }
            let summary = try await Execute(
                connection: connection, venues: clients, logger: logger, runID: run.id, clock: session.wiring.clock,
                checkFirst: config.database.mayLoseCommits ? .always : .onRerun,
                resendGuard: environment["BALLAST_TEST_UNSAFE_RESEND"] != "1"
            ).run(batch: batch, policy: settings.router)
            if existing == nil { try run.finish(on: connection) }
            return summary
        } catch {
            if existing == nil { run.finish(on: connection, failedWith: error, logger: logger) }
            throw error
        }
    }
}
