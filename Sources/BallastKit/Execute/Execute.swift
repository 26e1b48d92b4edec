public import BallastCore
import Foundation
public import Logging
public import Postgres
public import Venues

/// The execute step (DESIGN.md "Orders, keys and the execute state machine"):
/// drives each child order of an approved batch through `OrderLifecycle`,
/// persisting every transition before acting on it.
///
/// Invariants:
/// - Track before send: the `sending` row commits before the request leaves.
/// - After any ambiguous outcome the order is looked up by client order id;
///   the same key is sent again only when the venue says it does not exist *and*
///   a request still in flight could no longer execute (the dialect's
///   `inFlightRequestsExpire`: for Binance, recvWindow after it was built), with
///   one more lookup after that time.
/// - A generation that may have been sent before without the ledger knowing (a
///   rerun of a started batch; every send when the database may lose recent
///   commits) is looked up, under the same rule, before its first send.
/// - A reprice is a new generation with a new key, created only after the
///   previous generation is final at the venue.
/// - One executor per batch (a session advisory lock); a finished batch sends nothing. Within
///   it, one lane per venue drives that venue's legs in order (sells first), all lanes at once.
/// - Every request and what it led to is an `order_attempts` row.
public struct Execute {
    /// What a run of execute did.
    public struct Summary: Sendable {
        public var status = ""
        public var sent = 0
        public var lookups = 0
        public var chases = 0
        public var filled = 0
        public var unfilledLegs = 0
        public var reason: String?
    }

    let connection: Connection
    let venues: [String: any OrderVenue]
    let logger: Logger
    let crash: CrashPoints
    let pollInterval: Duration
    /// The run the fills it stores belong to.
    let runID: String?
    /// Reads the time and waits (resting orders, the resend rule): virtual in replays and tests.
    let clock: any TimeSource
    /// When to look an order up before its first send.
    let checkFirst: CheckFirst
    /// The resend rule (off only in the test that shows the duplicate it prevents).
    let resendGuard: Bool
    /// When this executor started: any earlier executor of the batch died no later than this.
    let startedAt: Date
    let ambiguity = AmbiguityLog()

    /// When a generation that has no `sending` row on record may nevertheless have been sent.
    public enum CheckFirst: Sendable {
        /// On a rerun of a batch an earlier execute started (its commits are durable).
        case onRerun
        /// Before every first send: the database may lose recent commits (asynchronous
        /// replication, failover), so the ledger's memory is not proof of "never sent".
        case always
    }

    public init(
        connection: Connection, venues: [String: any OrderVenue], logger: Logger, runID: String? = nil,
        crash: CrashPoints = CrashPoints(), pollInterval: Duration = .milliseconds(100),
        clock: any TimeSource = SystemTime(), checkFirst: CheckFirst = .onRerun, resendGuard: Bool = true
    ) {
        self.init(
            connection: connection, venues: venues, logger: logger, runID: runID, crash: crash,
            pollInterval: pollInterval, clock: clock, checkFirst: checkFirst, resendGuard: resendGuard,
            startedAt: clock.now())
    }

    /// An executor on `connection` that started at `startedAt` (one venue's lane of a batch).
    init(
        connection: Connection, venues: [String: any OrderVenue], logger: Logger, runID: String?,
        crash: CrashPoints, pollInterval: Duration, clock: any TimeSource, checkFirst: CheckFirst,
        resendGuard: Bool, startedAt: Date
    ) {
        self.runID = runID
        self.connection = connection
        self.venues = venues
        self.logger = logger
        self.crash = crash
        self.pollInterval = pollInterval
        self.clock = clock
        self.checkFirst = checkFirst
        self.resendGuard = resendGuard
        self.startedAt = startedAt
    }

    /// Executes `batch` under its advisory lock. Each `order_attempts` row names the HTTP attempt it
    /// is about, as the venue's answer (or failure) names it.
    public func run(batch: Int64, policy: RouterPolicy) async throws -> Summary {
        let lock = AdvisoryLock.executing(batch: batch)
        guard try lock.tryLock(on: connection) else {
            throw BallastError.busy("batch \(batch) is being executed by another process")
        }
        defer { try? lock.unlock(on: connection) }
        guard let row = try connection.query("SELECT status, reason FROM batches WHERE id = \(batch)").first else {
            throw BallastError.invalidInput("no batch \(batch)")
        }
        var summary = Summary()
        let status: String = try row.decode("status")
        // A batch an earlier execute started may hold generations sent without a `sending` row.
        ambiguity.rerun = status == "executing" || status == "deferred"
        switch status {
        case "proposed":
            throw BallastError.invalidInput(
                "batch \(batch) is proposed, not approved: run `ballast approve \(batch) --by NAME` first")
        case "completed", "cancelled", "failed", "superseded":
            return Self.finished(batch, status: status, reason: try row.decode("reason"))
        default: break
        }
        // Conditional: a proposal superseding the batch between the read above and here wins (the
        // update waits for its commit, then finds the batch superseded and changes nothing).
        guard
            try connection.execute(
                "UPDATE batches SET status = 'executing', reason = NULL WHERE id = \(batch) AND status <> 'superseded'")
                == 1
        else {
            let now = try connection.query("SELECT status, reason FROM batches WHERE id = \(batch)").first!
            return Self.finished(batch, status: try now.decode("status"), reason: try now.decode("reason"))
        }
        let deferrals = try await driveLanes(batch: batch, policy: policy, summary: &summary)
        let final = try connection.query(
            """
            SELECT count(*) FILTER (WHERE o.state = 'filled') AS filled,
                   count(*) FILTER (WHERE o.state <> 'filled') AS unfilled
            FROM (SELECT DISTINCT ON (leg) state FROM orders WHERE batch_id = \(batch)
                  ORDER BY leg, generation DESC) o
            """
        ).first!
        summary.filled = try final.decode("filled")
        summary.unfilledLegs = try final.decode("unfilled")
        if deferrals.isEmpty {
            summary.status = "completed"
            try connection.execute(
                "UPDATE batches SET status = 'completed', finished_at = \(clock.now()), reason = NULL WHERE id = \(batch)"
            )
        } else {
            summary.status = "deferred"
            summary.reason = deferrals.joined(separator: "; ")
            try connection.execute(
                "UPDATE batches SET status = 'deferred', reason = \(summary.reason) WHERE id = \(batch)")
        }
        return summary
    }

    /// The summary of a batch there is nothing to send for.
    private static func finished(_ batch: Int64, status: String, reason: String?) -> Summary {
        var summary = Summary()
        summary.status = status
        summary.reason =
            status == "superseded"
            ? "batch \(batch) was \(reason ?? "superseded") (a later proposal for its portfolio): nothing to send"
            : "batch \(batch) is \(status): nothing to send"
        return summary
    }

    /// The batch's legs by venue, each venue's sells before its buys (their proceeds pay for the
    /// buys; a venue's account pays only for its own), venues in the order of their first leg.
    func lanes(of batch: Int64) throws -> [(venue: String, legs: [Int])] {
        var lanes: [(venue: String, legs: [Int])] = []
        for row in try connection.query(
            """
            SELECT leg, venue_id FROM orders WHERE batch_id = \(batch) AND generation = 0
            ORDER BY (side = 'buy'), leg
            """)
        {
            let venue: String = try row.decode("venue_id")
            let leg: Int = try row.decode("leg")
            if let i = lanes.firstIndex(where: { $0.venue == venue }) {
                lanes[i].legs.append(leg)
            } else {
                lanes.append((venue, [leg]))
            }
        }
        return lanes
    }
}

/// What one executor knows about orders whose outcome was ambiguous: since when (on its clock)
/// a request for each may have been in flight. Used by one task only.
final class AmbiguityLog {
    var rerun = false
    private var since: [Int64: Date] = [:]

    /// The time a request for `order` left no later than; `fallback` when none was noted here.
    func inFlightSince(_ order: Int64, fallback: Date) -> Date { since[order] ?? fallback }
    func note(_ order: Int64, at date: Date) { since[order] = date }
    func forget(_ order: Int64) { since[order] = nil }
}

/// A leg that cannot go on now (venue banned, throttled, unreachable): left for a rerun.
struct ExecuteDeferral: Error {
    var reason: String
}
