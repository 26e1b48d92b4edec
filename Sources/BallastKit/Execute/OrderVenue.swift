public import BallastCore
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
    func orderFills(_ symbol: String, orderId: Int64) async throws(VenueError) -> [Fill]
    func bookTickers(_ symbols: [String]) async throws(VenueError) -> [BookTicker]
}

extension BinanceSpotClient: OrderVenue {
    public func orderFills(_ symbol: String, orderId: Int64) async throws(VenueError) -> [Fill] {
        try await myTrades(symbol, orderId: orderId)
    }
}
