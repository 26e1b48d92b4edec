public import Foundation
public import Logging
public import Postgres

/// `ballast report`: picks the period and output folder, then writes the audit report.
public enum ReportJob {
    /// Which data to report on.
    public enum Scope: Sendable {
        /// Everything a recorded run covered, written into that run's folder.
        case run(String)
        /// A time range, written into a new run's folder.
        case period(from: Date, to: Date)
    }

    /// The period a run covers: from the end of the previous successful `run`
    /// (the first run: from the oldest fill it pulled, so its history is
    /// reported once) to the end of this one.
    public struct RunPeriod: Sendable {
        public var started: Date
        public var from: Date
        public var to: Date
        public var configHash: String?
    }

    public static func period(ofRun id: String, connection: Connection) throws -> RunPeriod {
        guard
            let row = try connection.query(
                """
                SELECT r.started_at, r.finished_at, r.config_hash,
                       (SELECT max(p.finished_at) FROM job_runs p
                        WHERE p.command = r.command AND p.status = 'succeeded' AND p.id <> r.id
                          AND p.finished_at <= r.started_at) AS previous_end,
                       (SELECT min(f.executed_at) FROM fills f WHERE f.run_id = r.id) AS oldest_pulled
                FROM job_runs r WHERE r.id = \(id)
                """
            ).first
        else { throw BallastError.invalidInput("no run with id '\(id)' (see the job_runs table)") }
        let started: Date = try row.decode("started_at")
        let finished = try row.decode("finished_at", as: Date?.self) ?? Date()
        // Bounds on whole milliseconds, as the report shows its times: a run's period ends at the
        // millisecond after it finished, and the next run's begins there, so the periods meet exactly.
        let from =
            try row.decode("previous_end", as: Date?.self).map(millisecond(after:))
            ?? Timestamp.truncatedToMillisecond(
                min(try row.decode("oldest_pulled", as: Date?.self) ?? started, started))
        return RunPeriod(
            started: started, from: from, to: millisecond(after: finished),
            configHash: try row.decode("config_hash", as: String?.self))
    }

    /// The first whole millisecond after `date`.
    static func millisecond(after date: Date) -> Date {
        Date(timeIntervalSince1970: Double(Timestamp.milliseconds(date) + 1) / 1_000)
    }

    /// Writes the report for `scope` with the templates in `templatesFolder`;
    /// with `measure`, measures the period alongside (as `ballast run` and
    /// `ballast report --from/--to` do; a report of an earlier run reuses what that run measured).
    public static func run(
        scope: Scope, connection: Connection, databaseURL: String, templatesFolder: URL, outputRoot: URL,
        logger: Logger,
        measure: Bool = false, csvByteOrderMark: Bool = true
    ) throws -> AuditReport.Result {
        try Schema.requireCurrent(connection)
        let templates = try ReportTemplates.load(from: templatesFolder)
        // A report of a record that was altered would vouch for it: the chain is verified first.
        let chain = try DecisionLog.verify(on: connection)
        if let broken = chain.firstBroken {
            throw BallastError.chainBroken(
                "decision chain broken at record \(broken.id) (after \(chain.checked - 1) good): \(broken.reason); "
                    + "no report written (see `ballast audit verify`)")
        }
        var request: AuditReport.Request
        var created: JobRun?
        switch scope {
        case .run(let id):
            let period = try Self.period(ofRun: id, connection: connection)
            request = AuditReport.Request(
                runID: id, runDay: String(Timestamp.iso8601(period.started).prefix(10)), from: period.from,
                to: period.to, configHash: period.configHash, outputRoot: outputRoot)
        case .period(let from, let to):
            guard from < to else { throw BallastError.invalidInput("--from must be before --to") }
            let run = try JobRun.start("report", on: connection)
            request = AuditReport.Request(
                runID: run.id, runDay: run.day, from: from, to: to, configHash: nil, outputRoot: outputRoot)
            created = run
        }
        request.chain = chain.chainHead
        request.csvByteOrderMark = csvByteOrderMark
        do {
            // The measure step (TCA, routes, drift) runs alongside the report on a
            // connection of its own; the sheets that read its results are filled last.
            var alongside: AuditReport.Concurrent?
            if measure {
                let (runID, from, to) = (request.runID, request.from, request.to)
                alongside = { @Sendable connection in
                    _ = try Measure(connection: connection, databaseURL: databaseURL, logger: logger).run(
                        runID: runID, from: from, to: to)
                }
            }
            let result = try AuditReport(
                connection: connection, databaseURL: databaseURL, templates: templates, logger: logger
            ).write(request, alongside: alongside)
            try created?.finish(on: connection)
            return result
        } catch {
            created?.finish(on: connection, failedWith: error, logger: logger)
            throw error
        }
    }

    /// The Templates folder: `explicit`, else `$BALLAST_TEMPLATES`, else `./Templates`, else
    /// a `Templates` folder beside or above the executable.
    public static func templatesFolder(explicit: String?) throws -> URL {
        var candidates: [URL] = []
        if let explicit { candidates.append(URL(fileURLWithPath: explicit)) }
        if let env = ProcessInfo.processInfo.environment["BALLAST_TEMPLATES"] {
            candidates.append(URL(fileURLWithPath: env))
        }
        candidates.append(
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("Templates"))
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(directory.appendingPathComponent("Templates"))
            directory.deleteLastPathComponent()
        }
        for candidate in candidates
        where FileManager.default.fileExists(atPath: candidate.appendingPathComponent("audit").path) {
            return candidate
        }
        throw BallastError.invalidInput(
            "cannot find the report templates (looked in \(candidates.prefix(3).map(\.path).joined(separator: ", "))); "
                + "pass --templates DIR")
    }

    /// Reads `2026-11-25`, `2026-11-25T06:00:00Z` or `2026-11-25 06:00:00+00`.
    public static func parseTime(_ text: String) throws -> Date {
        if text.count == 10, let date = Timestamp.parse(text + " 00:00:00Z") { return date }
        guard let date = Timestamp.parse(text) else {
            throw BallastError.invalidInput("'\(text)' is not a time (use 2026-11-25 or 2026-11-25T06:00:00Z)")
        }
        return date
    }
}
