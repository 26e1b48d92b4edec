import BallastCore

// Binance's words for Ballast's order vocabulary, both ways: the only place the dialect meets the
// domain's order types, times in force and statuses. Every case is spelled out (never a raw value),
// so a word Ballast adds or renames cannot reach the venue unmapped.

extension OrderType {
    /// Binance's name: `LIMIT`, `LIMIT_MAKER` (post-only) or `MARKET`.
    var binanceName: String {
        switch self {
        case .limit: "LIMIT"
        case .postOnly: "LIMIT_MAKER"
        case .market: "MARKET"
        }
    }

    /// Reads Binance's name; nil for the types Ballast does not use (stop and take-profit orders).
    init?(binanceName: String) {
        switch binanceName {
        case "LIMIT": self = .limit
        case "LIMIT_MAKER": self = .postOnly
        case "MARKET": self = .market
        default: return nil
        }
    }
}

extension TimeInForce {
    /// Binance's name: `GTC`, `IOC` or `FOK`.
    var binanceName: String {
        switch self {
        case .gtc: "GTC"
        case .ioc: "IOC"
        case .fok: "FOK"
        }
    }

    /// Reads Binance's name.
    init?(binanceName: String) {
        switch binanceName {
        case "GTC": self = .gtc
        case "IOC": self = .ioc
        case "FOK": self = .fok
        default: return nil
        }
    }
}

extension VenueOrderStatus {
    /// Reads Binance's name of an order's status. `EXPIRED_IN_MATCH` (ended by self-trade
    /// prevention) is `expired`: the order is over with quantity left, as for an IOC remainder.
    init?(binanceName: String) {
        switch binanceName {
        case "NEW": self = .open
        case "PARTIALLY_FILLED": self = .partiallyFilled
        case "FILLED": self = .filled
        case "CANCELED": self = .cancelled
        case "PENDING_CANCEL": self = .pendingCancel
        case "REJECTED": self = .rejected
        case "EXPIRED", "EXPIRED_IN_MATCH": self = .expired
        default: return nil
        }
    }
}
