import Foundation
public import Logging
import Postgres
public import Venues

/// Records HTTP attempts and throttle decisions in `http_attempts` and `throttle_events`.
///
/// A failed insert is logged, never thrown: losing the venue call because its
/// audit row could not be written would be worse; the log line says so loudly.
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

    public func record(_ attempt: HTTPAttempt) async -> Int64? {
        func ms(_ d: Duration?) -> Double? { d.map { $0.seconds * 1000 } }
        let t = attempt.timings
        do {
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
        } catch {
            logger.error(
                "could not record an HTTP attempt: \(error)",
                metadata: ["venue": "\(attempt.venue)", "endpoint": "\(attempt.endpoint)"])
            return nil
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
