public import BallastCore
public import Foundation
public import Logging
import Postgres
import Venues

/// Runs a pull the way the command line does: checks the schema, records a
/// job run, wires libcurl and the PostgreSQL-backed event sink and rate
/// budgets, and pulls every venue.
public enum PullJob {
    /// Pulls everything `config` names into the database at `databaseURL`,
    /// as part of `run` (or as a run of its own when nil).
    public static func run(
        config: JobConfig, databaseURL: String, logger: Logger, run existing: JobRun? = nil,
        clock: any TimeSource = SystemTime(),
        environment: [String: String] = ProcessInfo.processInfo.environment, scope: Pull.Scope = .full
    ) async throws -> [Pull.VenueSummary] {
        let connection = try Connection(conninfo: databaseURL, logger: logger)
        defer { connection.close() }
        try Schema.requireCurrent(connection)
        if existing == nil { Schema.ensurePartitions(connection, logger: logger) }
        let run = try existing ?? JobRun.start("pull", configHash: config.fingerprint, on: connection)
        var logger = logger
        logger[metadataKey: "run.id"] = "\(run.id)"
        let session = try VenueSession(
            databaseURL: databaseURL, runID: run.id, clock: clock, environment: environment, logger: logger,
            caBundle: config.tls.caBundle)
        defer { session.close() }
        let wiring = session.wiring
        let summaries = await Pull(
            config: config, databaseURL: databaseURL, wiring: wiring, runID: run.id, logger: logger, scope: scope
        )
        .run()
        try PortfolioStore(connection: connection).save(config.portfolios)
        if existing == nil {
            let failures = summaries.compactMap(\.failure)
            try run.finish(
                on: connection, error: failures.isEmpty ? nil : BallastError.venue(failures.joined(separator: "; ")))
        }
        return summaries
    }
}
