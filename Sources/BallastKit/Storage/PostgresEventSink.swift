import Foundation
public import Logging
import Postgres
public import Venues

/// Records HTTP attempts and throttle decisions in `http_attempts` and `throttle_events`.
///
/// A request is inserted as `pending` before it leaves and completed after. If that first
/// insert fails, the request is not sent (the trail back to every request must hold); a failed
/// completion is logged loudly, since the request has already been made.
public final class PostgresEventSink: VenueEventSink {
    let database: LockedConnection
    let runID: String?
    let logger: Logger

    /// A sink writing through `database`, tagging rows with `runID`.
    public init(database: LockedConnection, runID: String?, logger: Logger) {
        self.database = database
        self.runID = runID
        self.logger = logger
    }

    /// Inserts the request as `pending` before it leaves. Throws when it cannot: the client then
    /// does not send it, so no request reaches a venue without its row.
    public func begin(_ attempt: HTTPAttempt) async throws -> Int64? {
        do {
            return try insert(attempt)
        } catch {
            logger.error(
                "could not put a request on record before sending it: not sent: \(error)",
                metadata: ["venue": "\(attempt.venue)", "endpoint": "\(attempt.endpoint)"])
            throw error
        }
    }

    /// Completes the pending row with the answer (or inserts the attempt when there is none).
    /// A failed write is logged, not thrown: the request has been made, and what it did is
    /// for the caller to learn from the venue.
    public func complete(_ attempt: HTTPAttempt, id: Int64?) async -> Int64? {
        func ms(_ d: Duration?) -> Double? { d.map { $0.seconds * 1000 } }
        let t = attempt.timings
        do {
            guard let id else { return try insert(attempt) }
            _ = try database.with { connection in
                try connection.execute(
                    """
                    UPDATE http_attempts SET dns_ms = \(ms(t?.dns)), connect_ms = \(ms(t?.connect)),
                        tls_ms = \(ms(t?.tls)), first_byte_ms = \(ms(t?.firstByte)), total_ms = \(ms(t?.total)),
                        http_status = \(attempt.httpStatus), venue_code = \(attempt.venueCode),
                        outcome = \(attempt.outcome.rawValue), used_weight_1m = \(attempt.usedWeight1m),
                        order_count_10s = \(attempt.orderCount10s), order_count_1d = \(attempt.orderCount1d),
                        retry_after_s = \(attempt.retryAfterSeconds), error = \(attempt.error)
                    WHERE id = \(id) AND outcome = 'pending'
                    """)
            }
            return id
        } catch {
            logger.error(
                "could not record how an HTTP attempt ended: \(error)",
                metadata: ["venue": "\(attempt.venue)", "endpoint": "\(attempt.endpoint)"])
            return id
        }
    }

    private func insert(_ attempt: HTTPAttempt) throws -> Int64? {
        func ms(_ d: Duration?) -> Double? { d.map { $0.seconds * 1000 } }
        let t = attempt.timings
        return try database.with { connection in
            try connection.query(
                """
                INSERT INTO http_attempts (run_id, venue_id, account_id, method, endpoint, weight, started_at,
                    dns_ms, connect_ms, tls_ms, first_byte_ms, total_ms, http_status, venue_code, outcome,
                    used_weight_1m, order_count_10s, order_count_1d, retry_after_s, client_order_id, error)
                VALUES (\(runID), \(attempt.venue), \(attempt.account), \(attempt.method), \(attempt.endpoint),
                    \(attempt.weight), \(attempt.startedAt), \(ms(t?.dns)), \(ms(t?.connect)), \(ms(t?.tls)),
                    \(ms(t?.firstByte)), \(ms(t?.total)), \(attempt.httpStatus), \(attempt.venueCode),
                    \(attempt.outcome.rawValue), \(attempt.usedWeight1m), \(attempt.orderCount10s),
                    \(attempt.orderCount1d), \(attempt.retryAfterSeconds), \(attempt.clientOrderId), \(attempt.error))
                RETURNING id
                """
            ).first?.decode("id", as: Int64.self)
        }
    }

    public func record(_ event: ThrottleEvent) async {
        do {
            _ = try database.with { connection in
                try connection.execute(
                    """
                    INSERT INTO throttle_events (run_id, venue_id, key_fingerprint, decided_at, decision, wait_ms, reason)
                    VALUES (\(runID), \(event.venue), \(event.keyFingerprint), \(event.decidedAt),
                        \(event.decision.rawValue), \(Int(event.wait.seconds * 1000)), \(event.reason))
                    """)
            }
        } catch {
            logger.error("could not record a throttle decision: \(error)", metadata: ["venue": "\(event.venue)"])
        }
        logger.notice(
            "throttle: \(event.decision.rawValue) \(event.reason)",
            metadata: ["venue": "\(event.venue)", "wait.ms": "\(Int(event.wait.seconds * 1000))"])
    }
}
