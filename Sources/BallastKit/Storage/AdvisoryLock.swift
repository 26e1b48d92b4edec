import Digest
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

    /// One `ballast run` at a time per database.
    public static let run = AdvisoryLock("run")
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

    /// Waits for the lock and holds it until the current transaction ends.
    public func lockForTransaction(on connection: Connection) throws {
        try connection.execute("SELECT pg_advisory_xact_lock(\(key))")
    }
}
