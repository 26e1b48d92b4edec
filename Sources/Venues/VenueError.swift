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
///
/// A failure that came of a request on record names that request's `HTTPAttempt` (the last one,
/// when the client sent it more than once): `httpAttemptId`, nil where nothing was sent or the
/// failure is the client's own (a symbol the venue does not list, a key that cannot sign).
public enum VenueError: Error, Sendable, CustomStringConvertible {
    /// The venue answered with an error code: the request was definitely refused.
    case rejected(
        venue: String, endpoint: String, httpStatus: Int, code: Int, message: String,
        httpAttemptId: HTTPAttempt.ID? = nil)
    /// The venue may or may not have acted (timeout after sending, 5xx, −1006, −1007).
    case outcomeUnknown(venue: String, endpoint: String, detail: String, httpAttemptId: HTTPAttempt.ID? = nil)
    /// The request certainly did not reach the venue (connection refused, DNS, …).
    case unreachable(venue: String, endpoint: String, detail: String, httpAttemptId: HTTPAttempt.ID? = nil)
    /// The venue banned this client (HTTP 418, in the attempt named) or a ban is still running (no
    /// attempt: nothing was sent).
    case banned(venue: String, until: Date, httpAttemptId: HTTPAttempt.ID? = nil)
    /// The governor would have to wait longer than allowed for budget.
    case throttled(venue: String, until: Date, reason: String)
    /// The body could not be decoded; `raw` keeps it for the audit trail.
    case malformed(
        venue: String, endpoint: String, reason: String, raw: String, httpAttemptId: HTTPAttempt.ID? = nil)
    /// The call needs API credentials and none were configured.
    case missingCredentials(venue: String)
    /// The request was not sent: it could not be put on record first (the event store failed).
    case notRecorded(venue: String, endpoint: String, detail: String)

    public var description: String {
        switch self {
        case .rejected(let venue, let endpoint, let status, let code, let message, _):
            "\(venue) rejected \(endpoint) (HTTP \(status), code \(code)): \(message)"
        case .outcomeUnknown(let venue, let endpoint, let detail, _):
            "\(venue) \(endpoint): outcome unknown (\(detail)); look the request up before repeating it"
        case .unreachable(let venue, let endpoint, let detail, _):
            "\(venue) \(endpoint): not reachable (\(detail))"
        case .banned(let venue, let until, _):
            "\(venue) has banned this client until \(until) (HTTP 418); nothing is sent before then"
        case .throttled(let venue, let until, let reason):
            "\(venue): request budget exhausted until \(until) (\(reason))"
        case .malformed(let venue, let endpoint, let reason, let raw, _):
            "\(venue) \(endpoint): unexpected response (\(reason)): \(raw.prefix(200))"
        case .missingCredentials(let venue):
            "\(venue): this call needs an API key and secret, and none are configured"
        case .notRecorded(let venue, let endpoint, let detail):
            "\(venue) \(endpoint): not sent, since the request could not be put on record first (\(detail))"
        }
    }

    /// The venue's error code, for `rejected`.
    public var venueCode: Int? {
        if case .rejected(_, _, _, let code, _, _) = self { return code }
        return nil
    }

    /// The HTTP attempt the failure came in (`http_attempts.id`), where a request was on record.
    public var httpAttemptId: HTTPAttempt.ID? {
        switch self {
        case .rejected(_, _, _, _, _, let id), .outcomeUnknown(_, _, _, let id), .unreachable(_, _, _, let id),
            .banned(_, _, let id), .malformed(_, _, _, _, let id):
            id
        case .throttled, .missingCredentials, .notRecorded: nil
        }
    }

    /// The same failure, in attempt `id` (a failure that names an attempt already keeps its own):
    /// for an answer that arrived but could not be read into Ballast's terms.
    func attributed(to id: HTTPAttempt.ID?) -> VenueError {
        guard httpAttemptId == nil else { return self }
        switch self {
        case .rejected(let venue, let endpoint, let status, let code, let message, _):
            return .rejected(
                venue: venue, endpoint: endpoint, httpStatus: status, code: code, message: message, httpAttemptId: id)
        case .outcomeUnknown(let venue, let endpoint, let detail, _):
            return .outcomeUnknown(venue: venue, endpoint: endpoint, detail: detail, httpAttemptId: id)
        case .unreachable(let venue, let endpoint, let detail, _):
            return .unreachable(venue: venue, endpoint: endpoint, detail: detail, httpAttemptId: id)
        case .banned(let venue, let until, _):
            return .banned(venue: venue, until: until, httpAttemptId: id)
        case .malformed(let venue, let endpoint, let reason, let raw, _):
            return .malformed(venue: venue, endpoint: endpoint, reason: reason, raw: raw, httpAttemptId: id)
        case .throttled, .missingCredentials, .notRecorded:
            return self
        }
    }
}
