public import Foundation
public import Postgres

/// The `work_units` of runs split for workers (issue 14 §4): planned by the run, claimed by
/// `ballast worker` processes on any host, one at a time each.
///
/// Invariants:
/// - A unit is claimed only when every unit of an earlier stage of its run is done, and only
///   while its run is `running` and was started with the worker's job configuration.
/// - A claim holds a lease (renewed by heartbeats) and, on the claimer's own session, an advisory
///   lock on the unit: a unit whose lease expired is claimed again only if that lock is free, so
///   a worker that stalled but lives is never joined by a second one; one that died has lost it
///   with its session.
/// - A unit is completed only by the worker holding its claim; every claim and completion is
///   written to `work_unit_events`.
public struct WorkUnits {
    /// One unit of work.
    public struct Unit: Sendable, Hashable {
        public var id: Int64
        public var runID: String
        public var stage: Int
        public var kind: String
        public var subject: String
        /// How many claims it has had, this one included.
        public var attempts: Int
    }

    /// A unit to plan.
    public struct Planned: Sendable, Hashable {
        public var stage: Int
        public var kind: String
        public var subject: String

        public init(_ stage: Int, _ kind: String, _ subject: String = "") {
            self.stage = stage
            self.kind = kind
            self.subject = subject
        }
    }

    /// How often a unit is tried before it fails its run.
    public static let maxAttempts = 3

    let connection: Connection

    public init(connection: Connection) { self.connection = connection }

    /// Adds `units` to `runID` (those already planned are left as they are).
    public func plan(_ units: [Planned], runID: String) throws {
        guard !units.isEmpty else { return }
        try connection.execute(
            """
            INSERT INTO work_units (run_id, stage, kind, subject)
            SELECT \(runID), s, k, j
            FROM unnest(\(units.map(\.stage))::int[], \(units.map(\.kind))::text[], \(units.map(\.subject))::text[])
                 AS u(s, k, j)
            ON CONFLICT (run_id, stage, kind, subject) DO NOTHING
            """)
    }

    /// The lock a claim holds on its claimer's session.
    static func lock(_ unit: Int64) -> AdvisoryLock { AdvisoryLock("work.unit", id: unit) }

    /// Claims the next unit a worker with job configuration `configHash` may take (of `run`
    /// only, when given), for `lease`; nil when none is ready.
    public func claim(worker: String, configHash: String, run: String?, lease: Duration) throws -> Unit? {
        var busy: [Int64] = []
        while true {
            let claimed: Unit?? = try connection.withTransaction {
                guard
                    let row = try connection.query(
                        """
                        SELECT u.id, u.run_id, u.stage, u.kind, u.subject, u.attempts, u.state
                        FROM job_runs r
                        -- The run's first stage with a unit not done: the only one whose units may go.
                        CROSS JOIN LATERAL (SELECT w.stage FROM work_units w
                                            WHERE w.run_id = r.id AND w.state <> 'done'
                                            ORDER BY w.stage LIMIT 1) first_open
                        JOIN work_units u ON u.run_id = r.id AND u.stage = first_open.stage
                        WHERE r.status = 'running' AND r.config_hash = \(configHash)
                          AND (\(run)::text IS NULL OR r.id = \(run))
                          AND (u.state = 'ready' OR (u.state = 'claimed' AND u.lease_until < now()))
                          AND u.id <> ALL(\(busy)::bigint[])
                        ORDER BY u.run_id, u.id
                        LIMIT 1
                        FOR UPDATE OF u SKIP LOCKED
                        """
                    ).first
                else { return .some(nil) }
                let id: Int64 = try row.decode("id")
                // A lapsed lease of a worker that still lives: its session still holds the unit.
                guard try Self.lock(id).tryLock(on: connection) else {
                    busy.append(id)
                    return nil
                }
                let reclaimed = try row.decode("state", as: String.self) == "claimed"
                try connection.execute(
                    """
                    UPDATE work_units SET state = 'claimed', worker = \(worker), attempts = attempts + 1,
                           claimed_at = now(), lease_until = now() + make_interval(secs => \(lease.seconds))
                    WHERE id = \(id)
                    """)
                try connection.execute(
                    """
                    INSERT INTO work_unit_events (unit_id, worker, event)
                    VALUES (\(id), \(worker), \(reclaimed ? "reclaimed" : "claimed"))
                    """)
                return .some(
                    Unit(
                        id: id, runID: try row.decode("run_id"), stage: try row.decode("stage"),
                        kind: try row.decode("kind"), subject: try row.decode("subject"),
                        attempts: try row.decode("attempts") + 1))
            }
            if let claimed { return claimed }
        }
    }

    /// Renews the lease of `unit`; false when the worker no longer holds the claim.
    public func heartbeat(_ unit: Int64, worker: String, lease: Duration) throws -> Bool {
        return try connection.execute(
            """
            UPDATE work_units SET lease_until = now() + make_interval(secs => \(lease.seconds))
            WHERE id = \(unit) AND worker = \(worker) AND state = 'claimed'
            """) == 1
    }

    /// Completes `unit` with what it did, planning `next` (more units of its run) in the same
    /// transaction; false when the worker no longer held the claim.
    public func complete(_ unit: Unit, worker: String, detail: String?, next: [Planned] = []) throws -> Bool {
        let done = try connection.withTransaction {
            let updated = try connection.execute(
                """
                UPDATE work_units SET state = 'done', finished_at = now(), detail = \(detail), error = NULL,
                       lease_until = NULL
                WHERE id = \(unit.id) AND worker = \(worker) AND state = 'claimed'
                """)
            guard updated == 1 else { return false }
            try connection.execute(
                "INSERT INTO work_unit_events (unit_id, worker, event) VALUES (\(unit.id), \(worker), 'done')")
            try plan(next, runID: unit.runID)
            return true
        }
        try? Self.lock(unit.id).unlock(on: connection)
        return done
    }

    /// Hands `unit` back after `error`: ready again while it has attempts left, else failed (which
    /// fails its run).
    public func fail(_ unit: Unit, worker: String, error: any Error) throws {
        let final = unit.attempts >= Self.maxAttempts
        try connection.withTransaction {
            let updated = try connection.execute(
                """
                UPDATE work_units SET state = \(final ? "failed" : "ready"), error = \(String(describing: error)),
                       lease_until = NULL, finished_at = CASE WHEN \(final) THEN now() END
                WHERE id = \(unit.id) AND worker = \(worker) AND state = 'claimed'
                """)
            if updated == 1 {
                try connection.execute(
                    """
                    INSERT INTO work_unit_events (unit_id, worker, event)
                    VALUES (\(unit.id), \(worker), \(final ? "failed" : "retry"))
                    """)
            }
        }
        try? Self.lock(unit.id).unlock(on: connection)
    }

    /// Hands `unit` back untouched (a worker told to stop before it began).
    public func release(_ unit: Unit, worker: String) throws {
        try connection.withTransaction {
            if try connection.execute(
                """
                UPDATE work_units SET state = 'ready', attempts = attempts - 1, lease_until = NULL
                WHERE id = \(unit.id) AND worker = \(worker) AND state = 'claimed'
                """) == 1
            {
                try connection.execute(
                    "INSERT INTO work_unit_events (unit_id, worker, event) VALUES (\(unit.id), \(worker), 'released')")
            }
        }
        try? Self.lock(unit.id).unlock(on: connection)
    }

    /// Units of `runID` by state.
    public struct Counts: Sendable {
        public var total = 0
        public var done = 0
        public var failed = 0
        /// The error of a failed unit.
        public var failure: String?
    }

    public func counts(runID: String) throws -> Counts {
        var counts = Counts()
        for row in try connection.query(
            "SELECT state, count(*) AS n, max(kind || ' ' || subject || ': ' || error) AS error FROM work_units WHERE run_id = \(runID) GROUP BY state"
        ) {
            let n: Int = try row.decode("n")
            counts.total += n
            switch try row.decode("state", as: String.self) {
            case "done": counts.done += n
            case "failed":
                counts.failed += n
                counts.failure = try row.decode("error")
            default: break
            }
        }
        return counts
    }

    /// Whether `runID` (or any running run of `configHash`) has units not yet done.
    public func hasOpenUnits(configHash: String, run: String?) throws -> Bool {
        try connection.query(
            """
            SELECT EXISTS (SELECT 1 FROM work_units u JOIN job_runs r ON r.id = u.run_id
                           WHERE r.status = 'running' AND r.config_hash = \(configHash)
                             AND (\(run)::text IS NULL OR u.run_id = \(run)) AND u.state IN ('ready', 'claimed'))
                   AS open
            """)[0].decode("open")
    }
}
