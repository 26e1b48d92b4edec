public import BallastCore
public import Foundation
public import Venues

/// What the executor needs from a venue: place, look up, cancel, fills of an
/// order, and the touch for a reprice. `BinanceSpotClient` is the real
/// adapter; every call goes through its rate-limit governor.
public protocol OrderVenue: Sendable {
    func placeOrder(_ order: NewOrder) async throws(VenueError) -> OrderAck
    /// nil when the venue says the order does not exist.
    func queryOrder(_ symbol: String, clientOrderId: String) async throws(VenueError) -> VenueOrder?
    /// nil when the venue does not know the order.
    func cancelOrder(_ symbol: String, clientOrderId: String) async throws(VenueError) -> VenueOrder?
    func orderFills(_ symbol: String, orderId: String) async throws(VenueError) -> [Fill]
    func bookTickers(_ symbols: [String]) async throws(VenueError) -> [BookTicker]
    /// The resend rule of the dialect: when an order request that may still be in flight at
    /// `sentBy` (on our clock: it left no later than that) can no longer execute at the venue.
    /// Only after that time does "no such order" mean the request never will execute, so the
    /// same client order id may be sent again.
    func inFlightRequestsExpire(sentBy: Date) -> Date
}

extension BinanceSpotClient: OrderVenue {
    public func orderFills(_ symbol: String, orderId: String) async throws(VenueError) -> [Fill] {
        try await myTrades(symbol, orderId: orderId)
    }

    /// Binance checks a signed request's `timestamp` against `recvWindow` when the request reaches
    /// the matching engine, and refuses it (−1021) once the venue's clock is past timestamp +
    /// recvWindow. Our timestamp is our clock plus the measured offset, so the offset cancels:
    /// the request is dead recvWindow after it was built on our clock. The margin covers what
    /// the venue forgives of a timestamp ahead of its clock (up to 1 s) and the offset's error.
    public func inFlightRequestsExpire(sentBy: Date) -> Date {
        sentBy.addingTimeInterval(Double(recvWindow) / 1000 + Self.resendMargin)
    }

    /// Seconds added to recvWindow before a resend (see `inFlightRequestsExpire`).
    public static let resendMargin: TimeInterval = 1
}
