public import Foundation
// Venue dialects: request building, signing, decoding and the rate-limit
// governor, over an `HTTPTransport`.
//
// Invariants:
// - Every request passes the rate governor first; nothing is sent to a venue
//   during a ban, and a 429's Retry-After is waited out before the next send.
// - Every HTTP exchange (and every throttle decision) is reported to the
//   `VenueEventSink`, success or not: that is the venue-health record.
// - Secrets never leave `Credentials`: not in errors, logs, events or URLs
//   kept for the audit (the signature is stripped from recorded paths).
// - A body that does not decode is a `malformed` error that keeps the raw
//   payload; nothing is half-applied from it.
// - An outcome that may have happened at the venue (timeout after sending,
//   5xx, −1006/−1007) is reported as `outcomeUnknown`, never as a failure.
import Transport

/// What a venue call can end in besides success.
public enum VenueError: Error, Sendable, CustomStringConvertible {
    /// The venue answered with an error code: the request was definitely refused.
    case rejected(venue: String, endpoint: String, httpStatus: Int, code: Int, message: String)
    /// The venue may or may not have acted (timeout after sending, 5xx, −1006, −1007).
    case outcomeUnknown(venue: String, endpoint: String, detail: String)
    /// The request certainly did not reach the venue (connection refused, DNS, …).
    case unreachable(venue: String, endpoint: String, detail: String)
    /// The venue banned this client (HTTP 418) or a ban is still running; nothing was sent.
    case banned(venue: String, until: Date)
    /// The governor would have to wait longer than allowed for budget.
    case throttled(venue: String, until: Date, reason: String)
    /// The body could not be decoded; `raw` keeps it for the audit trail.
    case malformed(venue: String, endpoint: String, reason: String, raw: String)
    /// The call needs API credentials and none were configured.
    case missingCredentials(venue: String)
    /// The request was not sent: it could not be put on record first (the event store failed).
    case notRecorded(venue: String, endpoint: String, detail: String)

    public var description: String {
        switch self {
        case .rejected(let venue, let endpoint, let status, let code, let message):
            "\(venue) rejected \(endpoint) (HTTP \(status), code \(code)): \(message)"
        case .outcomeUnknown(let venue, let endpoint, let detail):
            "\(venue) \(endpoint): outcome unknown (\(detail)); look the request up before repeating it"
        case .unreachable(let venue, let endpoint, let detail):
            "\(venue) \(endpoint): not reachable (\(detail))"
        case .banned(let venue, let until):
            "\(venue) has banned this client until \(until) (HTTP 418); nothing is sent before then"
        case .throttled(let venue, let until, let reason):
            "\(venue): request budget exhausted until \(until) (\(reason))"
        case .malformed(let venue, let endpoint, let reason, let raw):
            "\(venue) \(endpoint): unexpected response (\(reason)): \(raw.prefix(200))"
        case .missingCredentials(let venue):
            "\(venue): this call needs an API key and secret, and none are configured"
        case .notRecorded(let venue, let endpoint, let detail):
            "\(venue) \(endpoint): not sent, since the request could not be put on record first (\(detail))"
        }
    }

    /// The venue's error code, for `rejected`.
    public var venueCode: Int? {
        if case .rejected(_, _, _, let code, _) = self { return code }
        return nil
    }
}
