import BallastCore
import Foundation

/// A venue's answer to a call and the HTTP attempt it came in, so that a caller can name, in its
/// own records, the request behind what it acts on (execute's `order_attempts.http_attempt_id`).
///
/// When a client sent the request more than once (a retry after a 429, a 5xx, a dropped
/// connection), the attempt is the one that was answered. A failed call names its attempt on the
/// error instead (`VenueError.httpAttemptId`).
public struct Answer<Value: Sendable>: Sendable {
    /// What the venue said, in Ballast's terms.
    public var value: Value
    /// The attempt's id in the event store; nil when the store keeps no ids (or nothing was sent).
    public var httpAttemptId: HTTPAttempt.ID?

    public init(_ value: Value, httpAttemptId: HTTPAttempt.ID?) {
        self.value = value
        self.httpAttemptId = httpAttemptId
    }

    /// The same attempt's answer, read into Ballast's terms; a failure to read it is a failure in
    /// this attempt.
    public func map<T: Sendable>(_ transform: (Value) async throws(VenueError) -> T) async throws(VenueError)
        -> Answer<T>
    {
        do {
            return Answer<T>(try await transform(value), httpAttemptId: httpAttemptId)
        } catch {
            throw error.attributed(to: httpAttemptId)
        }
    }
}

/// How one HTTP exchange of a client's request loop ended: answered, or to be sent again (why,
/// and the attempt that said so). The loop gives up after a few retries with `outcomeUnknown`.
enum ExchangeOutcome<T: Sendable>: Sendable {
    case done(Answer<T>)
    case retry(String, HTTPAttempt.ID?)
}

extension VenueOrder {
    /// An order the venue acknowledged (by `orderId`) but that could not be read back: as sent,
    /// open, nothing executed, stamped with the time it was sent. The executor looks it up later,
    /// as it does any order still open.
    static func acknowledged(_ order: NewOrder, orderId: String, sentAt: Date) -> VenueOrder {
        VenueOrder(
            symbol: order.symbol, orderId: orderId, clientOrderId: order.clientOrderId, side: order.side,
            type: order.type, timeInForce: order.timeInForce, price: order.price ?? .zero, origQty: order.quantity,
            executedQty: .zero, cumulativeQuoteQty: .zero, status: .open, time: sentAt, updateTime: sentAt)
    }
}
