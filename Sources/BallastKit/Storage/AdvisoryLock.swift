import Digest
import Foundation
public import Postgres

/// A PostgreSQL advisory lock named by what it guards: a purpose, and an id when there is one
/// lock per thing (one per batch).
///
/// Invariants:
/// - Every advisory lock Ballast takes is one of these, on PostgreSQL's single 64-bit key: the
///   first 8 bytes of SHA-256("ballast." + purpose [+ ":" + id]), big-endian, as a signed
///   integer. An id is never truncated, so ids 2³² apart never share a lock, and purposes are
///   hashed into the same key space, so two purposes share one only by a SHA-256 collision.
/// - The key depends on nothing but the name: every process computes the same one.
public struct AdvisoryLock: Sendable, Hashable, CustomStringConvertible {
    /// What the lock guards, e.g. `execute.batch:42`.
    public let name: String
    /// The key PostgreSQL locks.
    public let key: Int64

    /// The lock for `purpose`, or for the thing `id` within it.
    public init(_ purpose: String, id: Int64? = nil) {
        name = purpose + (id.map { ":\($0)" } ?? "")
        let digest = Digest.sha256("ballast." + name)
        key = Int64(bitPattern: digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    }

    /// One run trading a portfolio at a time: runs over disjoint portfolios proceed together.
    public static func portfolio(_ id: String) -> AdvisoryLock { AdvisoryLock("portfolio." + id) }
    /// One migrator at a time.
    public static let migrate = AdvisoryLock("migrate")
    /// One appender to the decision log's hash chain at a time.
    public static let decisionAppend = AdvisoryLock("decisions.append")
    /// One executor per batch.
    public static func executing(batch: Int64) -> AdvisoryLock { AdvisoryLock("execute.batch", id: batch) }

    public var description: String { "advisory lock \(name) (\(key))" }

    /// Takes the lock for the session if no other session holds it; false when one does.
    public func tryLock(on connection: Connection) throws -> Bool {
        try connection.query("SELECT pg_try_advisory_lock(\(key)) AS locked").first!.decode("locked")
    }

    /// Releases a lock `tryLock` took on this session.
    public func unlock(on connection: Connection) throws {
        try connection.execute("SELECT pg_advisory_unlock(\(key))")
    }

    /// The run holding this lock, as `job_runs` names it by its server process (nil when no session
    /// holds it); the process id alone when that session has not recorded its run yet. Advisory
    /// locks are per database, and `pg_locks` lists every database's: only this one's count.
    public func holder(on connection: Connection) throws -> String? {
        guard
            let row = try connection.query(
                """
                SELECT l.pid, r.id AS run_id, r.host, r.pid AS process, r.started_at
                FROM pg_locks l
                LEFT JOIN LATERAL (
                    SELECT id, host, pid, started_at FROM job_runs
                    WHERE backend_pid = l.pid ORDER BY status = 'running' DESC, started_at DESC LIMIT 1) r ON true
                WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND ((l.classid::bigint << 32) | l.objid::bigint) = \(key)
                LIMIT 1
                """
            ).first
        else { return nil }
        guard let run: String = try row.decode("run_id") else {
            return "a session (server process \(try row.decode("pid", as: Int.self))) that has not recorded its run yet"
        }
        let host: String? = try row.decode("host")
        let process: Int? = try row.decode("process")
        let started: Date = try row.decode("started_at")
        return
            "run \(run) (host \(host ?? "?"), process \(process.map(String.init) ?? "?"), started \(Timestamp.iso8601(started)))"
    }

    /// Waits for the lock and holds it until the current transaction ends.
    public func lockForTransaction(on connection: Connection) throws {
        try connection.execute("SELECT pg_advisory_xact_lock(\(key))")
    }
}
