import BallastKit
import Foundation
public import Logging
import Postgres
import Simulator

/// `ballast bench pull`: one simulated venue holding N historical fills for
/// one account; `ballast pull`'s code pulls them all into PostgreSQL.
///
/// The venue answers at once (no latency profile) and its weight limit is
/// lifted, so the figure is the pull's own: HTTP round trips, decoding and
/// COPY, with the next page fetched while the current one is stored. Works in
/// a scratch schema of its own (dropped afterwards unless BALLAST_BENCH_KEEP is set).
public struct PullBenchmark {
    public struct Result: Sendable {
        public var fills: Int
        public var stored: Int
        public var seconds: Double
        public var requests: Int
        public var tradePages: Int
        public var peakResidentBytes: Int?
        public var fillsPerSecond: Double { Double(stored) / max(seconds, 1e-9) }
        public var requestsPerSecond: Double { Double(requests) / max(seconds, 1e-9) }
    }

    let databaseURL: String
    let logger: Logger

    public init(databaseURL: String, logger: Logger) {
        self.databaseURL = databaseURL
        self.logger = logger
    }

    public func run(fills: Int) async throws -> Result {
        let connection = try Connection(conninfo: databaseURL, logger: logger)
        defer { connection.close() }
        let schema = try ScratchSchema(
            "ballast_bench_pull_\(ProcessInfo.processInfo.processIdentifier)", on: connection)
        defer { schema.drop() }

        logger.info("starting a simulated venue with \(fills) historical fills")
        let venues = try SimulatedVenues(
            venues: 1, history: fills, limits: LimitConfig(requestWeightPerMinute: 100_000_000),
            latency: LatencyProfile(baseMs: 0, jitterMs: 0))
        defer { venues.stop() }
        let scoped = Self.conninfo(databaseURL, searchPath: schema.name)
        let clock = ContinuousClock()
        let started = clock.now
        let summaries = try await PullJob.run(
            config: venues.config, databaseURL: scoped, logger: logger, environment: venues.environment)
        let seconds = (clock.now - started).seconds
        if let failure = summaries.compactMap(\.failure).first { throw BallastError.venue(failure) }
        let stored: Int = try connection.query("SELECT count(*) AS n FROM fills").first!.decode("n")
        let stats = venues.simulator.venues[0].statistics
        return Result(
            fills: fills, stored: stored, seconds: seconds, requests: stats.requests,
            tradePages: stats.byEndpoint["GET /api/v3/myTrades"] ?? 0,
            peakResidentBytes: ProcessStats.peakResidentBytes())
    }

    /// `conninfo` with every session's search_path set to `schema` (URI or key=value form).
    static func conninfo(_ conninfo: String, searchPath schema: String) -> String {
        if conninfo.hasPrefix("postgres://") || conninfo.hasPrefix("postgresql://") {
            return conninfo + (conninfo.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
        }
        return conninfo + " options='-csearch_path=\(schema)'"
    }
}
