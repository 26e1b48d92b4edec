public import BallastCore
public import Foundation

extension VenueDialect {
    /// Binance Spot: client order ids `bl` + 32 hex digits of the intent key (Binance allows
    /// `^[a-zA-Z0-9-_]{1,36}$`); request weight is counted per IP, so every key of a host draws on
    /// one budget per venue.
    public static let binanceSpot = VenueDialect(
        name: "binance-spot", clientOrderId: { OrderIntent.clientOrderId(forKey: $0) }, budgetPerKey: false
    ) { parts in
        BinanceSpotClient(
            venue: parts.venue, account: parts.account, baseURL: parts.baseURL, credentials: parts.credentials,
            transport: parts.transport, governor: parts.governor, events: parts.events, clock: parts.clock,
            recvWindow: parts.recvWindowMs)
    }
}

extension BinanceSpotClient: VenueClient {
    /// exchangeInfo: symbols with their filters, and the published limits.
    public func listing() async throws(VenueError) -> ExchangeInfo { try await exchangeInfo() }

    /// Binance weighs open orders and trades per symbol (all symbols at once costs more).
    public var readsAccountWide: Bool { false }

    public func clientOrderId(intentKey: String) -> String { VenueDialect.binanceSpot.clientOrderId(intentKey) }

    public func orderFills(_ symbol: String, orderId: String) async throws(VenueError) -> Answer<[Fill]> {
        try await tradesAnswer(symbol, orderId: orderId)
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
