import BallastCore

// Kraken's words for Ballast's order vocabulary where a word maps to a word: sides and times in
// force. Order types (`ordertype` with `oflags=post`) and statuses (`status` with the volume
// executed) are read from more than one field, where orders are read.

extension Side {
    /// Kraken's name: `buy` or `sell`.
    var krakenName: String {
        switch self {
        case .buy: "buy"
        case .sell: "sell"
        }
    }
}

extension TimeInForce {
    /// Kraken's name: `GTC` or `IOC`; nil for fill-or-kill, which Kraken's spot orders do not have
    /// (its times in force are GTC, IOC and GTD).
    var krakenName: String? {
        switch self {
        case .gtc: "GTC"
        case .ioc: "IOC"
        case .fok: nil
        }
    }

    /// Reads Kraken's name; nil for GTD (good till a date), which Ballast does not use.
    init?(krakenName: String) {
        switch krakenName {
        case "GTC": self = .gtc
        case "IOC": self = .ioc
        default: return nil
        }
    }
}
