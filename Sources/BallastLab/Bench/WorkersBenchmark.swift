public import BallastKit
public import Foundation
public import Logging
import Postgres

/// `ballast bench workers`: one nightly run of a simulated fleet (`SimulatedFleet`, venues with the
/// demo's latency) split into work units, done by 1, 2, 4… local worker processes; each count on
/// a fresh fleet and a scratch schema of its own.
public struct WorkersBenchmark {
    public struct Row: Sendable {
        public var workers: Int
        public var seconds: Double
        public var units: Int
        public var orders: Int
        public var duplicates: Int
        /// The most request weight any venue saw in one minute, and its limit.
        public var maxWeightPerMinute: Int
        public var weightLimit: Int
        public var rateLimited: Int
        public var unitsPerSecond: Double { Double(units) / seconds }
        public var ordersPerSecond: Double { Double(orders) / seconds }
    }

    let databaseURL: String
    let executable: URL
    let templates: URL
    let logger: Logger

    public init(databaseURL: String, executable: URL, templates: URL, logger: Logger) {
        self.databaseURL = databaseURL
        self.executable = executable
        self.templates = templates
        self.logger = logger
    }

    /// `url` with every session's search_path set to `schema` (URI or key=value conninfo).
    static func url(_ url: String, schema: String) -> String {
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            return url + (url.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
        }
        return url + " options='-csearch_path=\(schema)'"
    }

    public func run(portfolios: Int, workerCounts: [Int], venues: Int, weightPerMinute: Int) async throws -> [Row] {
        var rows: [Row] = []
        let admin = try Connection(conninfo: databaseURL, logger: logger)
        defer { admin.close() }
        for count in workerCounts {
            let schema = "bench_workers_\(count)"
            let scratch = try ScratchSchema(schema, on: admin)
            defer { scratch.drop() }
            let fleet = try SimulatedFleet(
                portfolios: portfolios, venues: venues,
                limits: .init(requestWeightPerMinute: weightPerMinute, ordersPer10s: 1000))
            defer { fleet.stop() }
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "ballast-bench-workers-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let job = folder.appendingPathComponent("fleet.toml")
            try fleet.jobTOML.write(to: job, atomically: true, encoding: .utf8)
            var options = RunJob.Options(
                databaseURL: Self.url(databaseURL, schema: schema), outputRoot: folder.appendingPathComponent("out"),
                templatesFolder: templates, migrate: false,
                environment: ProcessInfo.processInfo.environment.merging(fleet.environment) { $1 })
            options.jobName = "bench-workers"
            options.workers = RunJob.WorkerOptions(count: count, executable: executable, jobPath: job.path)
            logger.info("\(count) worker(s): \(portfolios) portfolios on \(venues) venues")
            let clock = ContinuousClock()
            let started = clock.now
            let outcome = try await RunJob(config: fleet.config, options: options, logger: logger).run()
            let seconds = (clock.now - started).seconds
            let units: Int = try admin.query(
                "SELECT count(*) AS n FROM \(identifier: schema).work_units WHERE run_id = \(outcome.runID)")[0]
                .decode("n")
            let (orders, duplicates) = fleet.orderCounts()
            let stats = fleet.simulator.venues.map(\.statistics)
            rows.append(
                Row(
                    workers: count, seconds: seconds, units: units, orders: orders, duplicates: duplicates,
                    maxWeightPerMinute: stats.map(\.maxWeightPerMinute).max() ?? 0, weightLimit: weightPerMinute,
                    rateLimited: stats.map { $0.rateLimited + $0.banned }.reduce(0, +)))
        }
        return rows
    }
}
