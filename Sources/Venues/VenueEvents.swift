public import Foundation
public import Transport

/// One HTTP exchange with a venue, as the venue-health record keeps it.
public struct HTTPAttempt: Sendable {
    /// An attempt's id in the store (`http_attempts.id`), as `VenueEventSink` returns it.
    public typealias ID = Int64

    /// How an attempt ended.
    public enum Outcome: String, Sendable {
        /// On record before the request leaves; completed when the answer (or failure) is known.
        case pending
        case ok, venueError = "venue_error", rateLimited = "rate_limited", banned, serverError = "server_error"
        case timeout, transportError = "transport_error", malformed
    }

    public var venue: String
    public var account: String?
    public var method: String
    /// The endpoint path, without query string (no signature, no parameters).
    public var endpoint: String
    public var weight: Int
    public var startedAt: Date
    public var timings: HTTPTimings?
    public var httpStatus: Int?
    public var venueCode: Int?
    public var outcome: Outcome
    public var usedWeight1m: Int?
    public var orderCount10s: Int?
    public var orderCount1d: Int?
    public var retryAfterSeconds: Int?
    /// What went wrong, when something did (never contains secrets).
    public var error: String?
    /// The client order id the request was about (order create, query, cancel).
    public var clientOrderId: String?

    public init(
        venue: String, account: String?, method: String, endpoint: String, weight: Int, startedAt: Date,
        timings: HTTPTimings?, httpStatus: Int?, venueCode: Int?, outcome: Outcome, usedWeight1m: Int?,
        orderCount10s: Int?, orderCount1d: Int?, retryAfterSeconds: Int?, error: String?, clientOrderId: String? = nil
    ) {
        self.venue = venue
        self.account = account
        self.method = method
        self.endpoint = endpoint
        self.weight = weight
        self.startedAt = startedAt
        self.timings = timings
        self.httpStatus = httpStatus
        self.venueCode = venueCode
        self.outcome = outcome
        self.usedWeight1m = usedWeight1m
        self.orderCount10s = orderCount10s
        self.orderCount1d = orderCount1d
        self.retryAfterSeconds = retryAfterSeconds
        self.error = error
        self.clientOrderId = clientOrderId
    }
}

/// A decision of the rate governor to hold or refuse a request.
public struct ThrottleEvent: Sendable {
    /// What the governor did.
    public enum Decision: String, Sendable {
        /// Waited for the next window or for Retry-After, then sent.
        case waited
        /// Refused to send (ban running, or the wait would exceed the limit).
        case refused
        /// Recorded a 429 back-off from the venue.
        case backedOff = "backed_off"
        /// Recorded a 418 ban from the venue.
        case bannedByVenue = "banned_by_venue"
    }

    public var venue: String
    public var keyFingerprint: String
    public var decidedAt: Date
    public var decision: Decision
    public var wait: Duration
    public var reason: String

    public init(
        venue: String, keyFingerprint: String, decidedAt: Date, decision: Decision, wait: Duration, reason: String
    ) {
        self.venue = venue
        self.keyFingerprint = keyFingerprint
        self.decidedAt = decidedAt
        self.decision = decision
        self.wait = wait
        self.reason = reason
    }
}

/// Where HTTP attempts and throttle decisions are recorded (PostgreSQL in production).
///
/// A request is on record before it leaves: `begin` stores it as `pending` and returns its id,
/// or throws, and then the request must not be sent. `complete` records how it ended.
public protocol VenueEventSink: Sendable {
    /// Records a request about to be sent (outcome `pending`) and returns its id in the store.
    func begin(_ attempt: HTTPAttempt) async throws -> HTTPAttempt.ID?
    /// Records how an attempt ended: completes the row `begin` wrote (`id`), or adds one when
    /// there is none. Returns the attempt's id in the store, if it has one.
    @discardableResult
    func complete(_ attempt: HTTPAttempt, id: HTTPAttempt.ID?) async -> HTTPAttempt.ID?
    /// Records a throttle decision.
    func record(_ event: ThrottleEvent) async
}

/// Keeps events in memory (tests, dry runs).
public final class MemoryEventSink: VenueEventSink, @unchecked Sendable {
    // Safe to share: every access to the arrays holds `lock`.
    private let lock = NSLock()
    private var storedAttempts: [HTTPAttempt] = []
    private var storedThrottles: [ThrottleEvent] = []

    public init() {}

    public func begin(_ attempt: HTTPAttempt) async throws -> Int64? {
        lock.withLock {
            storedAttempts.append(attempt)
            return Int64(storedAttempts.count)
        }
    }

    public func complete(_ attempt: HTTPAttempt, id: Int64?) async -> Int64? {
        lock.withLock {
            if let id, id >= 1, Int(id) <= storedAttempts.count, storedAttempts[Int(id) - 1].outcome == .pending {
                storedAttempts[Int(id) - 1] = attempt
                return id
            }
            storedAttempts.append(attempt)
            return Int64(storedAttempts.count)
        }
    }

    public func record(_ event: ThrottleEvent) async {
        lock.withLock { storedThrottles.append(event) }
    }

    /// Attempts recorded so far.
    public var attempts: [HTTPAttempt] { lock.withLock { storedAttempts } }
    /// Throttle decisions recorded so far.
    public var throttles: [ThrottleEvent] { lock.withLock { storedThrottles } }
}
