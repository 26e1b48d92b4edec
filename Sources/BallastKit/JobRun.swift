import Digest
public import Foundation
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

    /// Records the start of a run of `command`.
    public static func start(
        _ command: String, configHash: String? = nil, on connection: Connection, at date: Date = Date()
    ) throws -> JobRun {
        let run = JobRun(id: makeID(at: date), startedAt: date)
        let host = ProcessInfo.processInfo.hostName
        let pid = Int(ProcessInfo.processInfo.processIdentifier)
        try connection.execute(
            """
            INSERT INTO job_runs (id, command, started_at, config_hash, host, pid)
            VALUES (\(run.id), \(command), \(date), \(configHash), \(host), \(pid))
            """)
        return run
    }

    /// Records how the run ended.
    public func finish(on connection: Connection, error: (any Error)? = nil) throws {
        let status = error == nil ? "succeeded" : "failed"
        let message = error.map { String(describing: $0) }
        try connection.execute(
            """
            UPDATE job_runs SET finished_at = now(), status = \(status), error = \(message) WHERE id = \(id)
            """)
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
