import Digest
public import Foundation
public import Logging
public import Postgres

/// One `ballast` invocation recorded in `job_runs`: started, then finished with its outcome.
public struct JobRun: Sendable {
    /// The run id, e.g. `20261125T061700Z-3f9a1c`: sortable and unique.
    public let id: String
    /// When it started (UTC).
    public let startedAt: Date

    /// A new run id for `date`.
    public static func makeID(at date: Date) -> String {
        let stamp = Timestamp.iso8601(date)  // 2026-11-25T06:17:00.123456Z
        let compact = stamp.prefix(19).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        let random = (0..<3).map { _ in UInt8.random(in: 0...255) }
        return compact + "Z-" + Digest.hex(random)
    }

    /// Records the start of a run of `command`, first marking runs whose holder is gone as interrupted.
    ///
    /// A run names the server session it holds (`backend_pid`, `backend_start`): the caller keeps
    /// that connection for the run's life, so a `running` row whose session no longer exists
    /// belongs to a process that was killed or lost its database before recording its end.
    public static func start(
        _ command: String, configHash: String? = nil, on connection: Connection, at date: Date = Date()
    ) throws -> JobRun {
        try markInterrupted(on: connection)
        let run = JobRun(id: makeID(at: date), startedAt: date)
        let host = ProcessInfo.processInfo.hostName
        let pid = Int(ProcessInfo.processInfo.processIdentifier)
        try connection.execute(
            """
            INSERT INTO job_runs (id, command, started_at, config_hash, host, pid, backend_pid, backend_start)
            SELECT \(run.id), \(command), \(date), \(configHash), \(host), \(pid), pg_backend_pid(),
                   (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid())
            """)
        return run
    }

    /// Reopens run `id` of `command` to finish its remaining steps (`ballast run --resume`): it
    /// must have failed or been interrupted (first marked so if its process is gone), and have been
    /// started with the same configuration. It is `running` again, on this session, and counts the
    /// resumption.
    public static func resume(
        _ id: String, command: String, configHash: String?, on connection: Connection
    ) throws -> JobRun {
        try markInterrupted(on: connection)
        guard
            let row = try connection.query(
                "SELECT command, status, started_at, config_hash FROM job_runs WHERE id = \(id)"
            ).first
        else { throw BallastError.invalidInput("no run '\(id)' (see `ballast runs`)") }
        let status: String = try row.decode("status")
        guard try row.decode("command", as: String.self) == command else {
            throw BallastError.invalidInput(
                "run \(id) is a `\(try row.decode("command", as: String.self))`, not a `\(command)`")
        }
        if status == "running" { throw BallastError.busy("run \(id) is still running") }
        guard try row.decode("config_hash", as: String?.self) == configHash else {
            throw BallastError.invalidInput(
                "run \(id) was started with another job configuration; resume it with the same job file, "
                    + "or start a new run")
        }
        let host = ProcessInfo.processInfo.hostName
        let pid = Int(ProcessInfo.processInfo.processIdentifier)
        let reopened = try connection.execute(
            """
            UPDATE job_runs SET status = 'running', finished_at = NULL, error = NULL, resumed = resumed + 1,
                   host = \(host), pid = \(pid), backend_pid = pg_backend_pid(),
                   backend_start = (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid())
            WHERE id = \(id) AND status IN ('failed', 'interrupted', 'succeeded')
            """)
        guard reopened == 1 else { throw BallastError.busy("run \(id) was resumed by another process just now") }
        return JobRun(id: id, startedAt: try row.decode("started_at"))
    }

    /// Marks `running` runs whose server session is gone as `interrupted`; returns their ids.
    /// First writes the ends this host kept for runs that could not record them (`UnrecordedEnds`):
    /// such a run is `failed`, with the error it ended with.
    @discardableResult
    public static func markInterrupted(on connection: Connection) throws -> [String] {
        for (end, file) in UnrecordedEnds.pending() {
            let note = end.error + " (recorded by a later run: the database was unavailable when this run ended)"
            let written = try connection.execute(
                """
                UPDATE job_runs SET status = 'failed', finished_at = \(end.finishedAt), error = \(note)
                WHERE id = \(end.runId) AND status IN ('running', 'interrupted')
                """)
            // An end for a run of another database stays for that database's next run, a week at most.
            if written > 0 || end.finishedAt < Date().addingTimeInterval(-7 * 86_400) { UnrecordedEnds.forget(file) }
        }
        return try connection.query(
            """
            UPDATE job_runs r SET status = 'interrupted', finished_at = now(),
                   error = coalesce(r.error, 'its process ended without recording how the run ended '
                                             || '(killed, or its database connection was lost)')
            WHERE r.status = 'running' AND r.backend_pid IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                              WHERE a.pid = r.backend_pid AND a.backend_start = r.backend_start)
            RETURNING r.id
            """
        ).map { try $0.decode("id") }
    }

    /// Records how the run ended. When the run's connection was lost (the server went away), the
    /// end is written through a new connection if the database answers again a second later;
    /// otherwise (and when the server stalled) the next run marks this one `interrupted`.
    public func finish(on connection: Connection, error: (any Error)? = nil) throws {
        let status = error == nil ? "succeeded" : "failed"
        let message = error.map { String(describing: $0) }
        let update: Query = """
            UPDATE job_runs SET finished_at = now(), status = \(status), error = \(message)
            WHERE id = \(id) AND status = 'running'
            """
        let lost: Bool
        do {
            try connection.execute(update)
            return
        } catch {
            // A server that stalled is not back; one that went away may be by now.
            guard error.code == .connectionFailed else { throw error }
            lost = true
        }
        if lost {
            Thread.sleep(forTimeInterval: 1)
            let fresh = try Connection(conninfo: connection.conninfo, logger: connection.logger)
            defer { fresh.close() }
            try fresh.execute(update)
        }
    }

    /// Records that the run failed with `error`. When even that cannot be written (the database is
    /// what failed), says so in the log, with the error, so the run's end is on record somewhere:
    /// the next run marks it `interrupted`.
    public func finish(on connection: Connection, failedWith error: any Error, logger: Logger) {
        do {
            try finish(on: connection, error: error)
        } catch let unrecorded {
            let kept = try? UnrecordedEnds.keep(
                UnrecordedEnds.End(runId: id, finishedAt: Date(), error: String(describing: error)))
            let next =
                kept.map { "kept in \($0); the next run on this host records it" }
                ?? "the next run marks it interrupted"
            logger.error(
                "run \(id) ended with: \(error); its end could not be recorded (\(unrecorded)): \(next)",
                metadata: ["run.id": "\(id)"])
        }
    }

    /// The run's day folder name, `YYYY-MM-DD` (UTC).
    public var day: String { String(Timestamp.iso8601(startedAt).prefix(10)) }
}

/// `Output/<date>/<run-id>/`, filled in a `.partial` folder and moved into
/// place only when complete, so a crash never leaves a half-written report
/// that looks whole.
public struct OutputFolder {
    /// The final folder.
    public let url: URL
    /// The folder files are written into until `commit()`.
    public let staging: URL

    /// Prepares `root/<day>/<run-id>/` (staging in `<run-id>.partial`).
    public init(root: URL, run: JobRun) throws {
        let day = root.appendingPathComponent(run.day, isDirectory: true)
        url = day.appendingPathComponent(run.id, isDirectory: true)
        staging = day.appendingPathComponent(run.id + ".partial", isDirectory: true)
        try? FileManager.default.removeItem(at: staging)
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
    }

    /// The path of `name` inside the staging folder.
    public func file(_ name: String) -> String {
        staging.appendingPathComponent(name).path
    }

    /// Moves the finished folder into place.
    public func commit() throws {
        if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
        try FileManager.default.moveItem(at: staging, to: url)
    }

    /// Removes the staging folder after a failure.
    public func discard() {
        try? FileManager.default.removeItem(at: staging)
    }
}

extension JobRun {
    /// One row of `ballast runs`.
    public struct Listing: Sendable {
        public var id: String
        public var command: String
        public var status: String
        public var startedAt: Date
        public var finishedAt: Date?
        public var host: String?
        public var pid: Int?
        public var error: String?
    }

    /// The last `count` runs, newest first, after marking those whose holder is gone as interrupted.
    public static func recent(_ count: Int, on connection: Connection) throws -> [Listing] {
        try markInterrupted(on: connection)
        return try connection.query(
            """
            SELECT id, command, status, started_at, finished_at, host, pid, error FROM job_runs
            ORDER BY started_at DESC, id DESC LIMIT \(max(1, count))
            """
        ).map {
            Listing(
                id: try $0.decode("id"), command: try $0.decode("command"), status: try $0.decode("status"),
                startedAt: try $0.decode("started_at"), finishedAt: try $0.decode("finished_at", as: Date?.self),
                host: try $0.decode("host", as: String?.self), pid: try $0.decode("pid", as: Int?.self),
                error: try $0.decode("error", as: String?.self))
        }
    }
}
