import BallastCore

// Binance's words for the engine's order vocabulary (Ballast's domain enums), both ways, as the
// Binance front writes and reads them. Kept apart from the Binance client's own table on purpose:
// the simulator is a second, independent reading of the venue's documentation, and the two meet
// only over HTTP (where the unmodified binance-connector checks the front).

extension OrderType {
    /// Binance's name: `LIMIT`, `LIMIT_MAKER` (post-only) or `MARKET`.
    var binanceName: String {
        switch self {
        case .limit: "LIMIT"
        case .postOnly: "LIMIT_MAKER"
        case .market: "MARKET"
        }
    }

    /// Reads Binance's name; nil for the types the simulated venue does not take.
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
    /// Binance's name of the status: `NEW`, `PARTIALLY_FILLED`, `FILLED`, `CANCELED`,
    /// `PENDING_CANCEL`, `REJECTED` or `EXPIRED`.
    var binanceName: String {
        switch self {
        case .open: "NEW"
        case .partiallyFilled: "PARTIALLY_FILLED"
        case .filled: "FILLED"
        case .cancelled: "CANCELED"
        case .pendingCancel: "PENDING_CANCEL"
        case .rejected: "REJECTED"
        case .expired: "EXPIRED"
        }
    }
}
