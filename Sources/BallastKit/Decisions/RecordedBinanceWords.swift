public import BallastCore

/// The order words of the decision records written before Ballast had its own (format
/// `decision-record/2`, and the legacy records before it): Binance's, as the domain spelled them
/// then. Records are never rewritten, so these words stay readable for as long as the records
/// do; `audit recompute` decodes such a record in them and writes what it recomputes for it in
/// them, so the two compare as the record was written. A frozen table, on purpose apart from
/// the Binance dialect's (which may learn new words): it says what old records contain.
public struct RecordedBinanceWords: OrderSpelling {
    public init() {}

    public func spelling(of type: OrderType) -> String {
        switch type {
        case .limit: "LIMIT"
        case .postOnly: "LIMIT_MAKER"
        case .market: "MARKET"
        }
    }

    public func orderType(spelled text: String) -> OrderType? {
        switch text {
        case "LIMIT": .limit
        case "LIMIT_MAKER": .postOnly
        case "MARKET": .market
        default: nil
        }
    }

    public func spelling(of timeInForce: TimeInForce) -> String {
        switch timeInForce {
        case .gtc: "GTC"
        case .ioc: "IOC"
        case .fok: "FOK"
        }
    }

    public func timeInForce(spelled text: String) -> TimeInForce? {
        switch text {
        case "GTC": .gtc
        case "IOC": .ioc
        case "FOK": .fok
        default: nil
        }
    }
}
