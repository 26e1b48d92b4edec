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

    /// Runs every step; throws `busy` when another run holds the lock.
    public func run() async throws -> Outcome {
        let connection = try Connection(conninfo: options.databaseURL, logger: logger)
        defer { connection.close() }
        if options.migrate {
            let applied = try Migrator(connection: connection, migrations: try Migration.bundled()).migrate()
            if !applied.isEmpty { logger.info("applied \(applied.count) migration(s)") }
        } else {
            try Schema.requireCurrent(connection)
        }
        guard try AdvisoryLock.run.tryLock(on: connection) else {
            throw BallastError.busy("another `ballast run` is in progress on this database; try again when it ends")
        }
        defer { try? AdvisoryLock.run.unlock(on: connection) }

        let run = try JobRun.start("run", configHash: config.fingerprint, on: connection)
        var logger = logger
        logger[metadataKey: "run.id"] = "\(run.id)"
        do {
            logger.info("step 1/6: pull")
            let pulls = try await PullJob.run(
                config: config, databaseURL: options.databaseURL, logger: logger, run: run,
                environment: options.environment)
            for summary in pulls where summary.failure != nil {
                logger.warning("venue \(summary.venue) was not pulled; later steps use what is stored")
            }
            logger.info("step 2/6: reconcile")
            _ = try Reconcile(connection: connection, logger: logger).run(runID: run.id)
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
            let batches = try ExecuteJob.pendingBatches(portfolios: config.portfolios.map(\.id), on: connection)
            logger.info("step 4/6: execute \(batches.count) approved batch(es)")
            for batch in batches {
                let summary = try await ExecuteJob.run(
                    batch: batch, config: config, databaseURL: options.databaseURL, logger: logger, run: run,
                    environment: options.environment)
                let reason = summary.reason.map { "; \($0)" } ?? ""
                logger.info("batch \(batch) \(summary.status): \(summary.sent) sent, \(summary.filled) filled\(reason)")
            }
            if !batches.isEmpty {
                logger.info("step 5/6: pull again (balances and fills after execution)")
                _ = try await PullJob.run(
                    config: config, databaseURL: options.databaseURL, logger: logger, run: run,
                    environment: options.environment)
            } else {
                logger.info("step 5/6: nothing executed, nothing to pull again")
            }
            logger.info("step 6/6: measure and report")
            try run.finish(on: connection)
            let report = try ReportJob.run(
                scope: .run(run.id), connection: connection, databaseURL: options.databaseURL,
                templatesFolder: options.templatesFolder, outputRoot: options.outputRoot, logger: logger, measure: true,
                csvByteOrderMark: options.csvByteOrderMark)
            return Outcome(runID: run.id, folder: report.folder, pulls: pulls)
        } catch {
            run.finish(on: connection, failedWith: error, logger: logger)
            throw error
        }
    }
}
