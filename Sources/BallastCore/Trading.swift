// The vocabulary every layer shares: sides, order types, venue statuses, and
// the trading rules a venue enforces per symbol.
//
// Invariants:
// - Amounts are `ExactDecimal`; nothing sent to a venue or stored passes through `Double`.
// - A zero rule (tick, step, bound) means "no rule", as on Binance.

/// Buy or sell.
public enum Side: String, Sendable, Hashable, Codable, CaseIterable {
    case buy, sell

    /// The side sign s of DESIGN.md: +1 buy, −1 sell ("positive cost = worse for us").
    public var sign: Int { self == .buy ? 1 : -1 }

    /// The opposite side.
    public var opposite: Side { self == .buy ? .sell : .buy }

    /// The venue spelling, `BUY` or `SELL`.
    public var venueName: String { self == .buy ? "BUY" : "SELL" }

    /// Reads `BUY`/`SELL` (any case).
    public init?(venueName: String) {
        switch venueName.uppercased() {
        case "BUY": self = .buy
        case "SELL": self = .sell
        default: return nil
        }
    }
}

/// Order types Ballast uses, in Ballast's words (stored as the raw values). Each dialect maps them
/// to its venue's own at the edge (Binance `LIMIT_MAKER`, Kraken `oflags=post`, Coinbase
/// `post_only`).
public enum OrderType: String, Sendable, Hashable, CaseIterable {
    /// A limit order with a time in force.
    case limit
    /// Post-only: a limit order the venue refuses if it would take liquidity.
    case postOnly = "post_only"
    /// A market order (baseline measurements only; the router never sends one).
    case market
}

/// How long a limit order stays on the book, in Ballast's words (stored as the raw values).
public enum TimeInForce: String, Sendable, Hashable, CaseIterable {
    /// Good till cancelled.
    case gtc
    /// Immediate or cancel: the unfilled rest expires.
    case ioc
    /// Fill or kill: all at once or nothing.
    case fok
}

/// An order's status as the venue reports it, in Ballast's words (stored as the raw values): each
/// dialect reads its venue's own (Binance `NEW`, Kraken `open`, Coinbase `OPEN` are all `open`).
public enum VenueOrderStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// On the book, nothing executed.
    case open
    /// On the book, part executed.
    case partiallyFilled = "partially_filled"
    /// Executed in full.
    case filled
    /// Cancelled (by us, or by the venue on our behalf) before it executed in full.
    case cancelled
    /// A cancel is under way: the order can still trade.
    case pendingCancel = "pending_cancel"
    /// Refused by the venue.
    case rejected
    /// Ended by the venue with quantity left: an IOC or FOK remainder, or a self-trade prevention.
    case expired

    /// True while the order can still trade.
    public var isOpen: Bool { self == .open || self == .partiallyFilled || self == .pendingCancel }
}

/// Execution style of a route (DESIGN.md "Route").
public enum OrderStyle: String, Sendable, Hashable, Codable, CaseIterable {
    /// Post-only, resting at or behind the touch.
    case passive
    /// A limit IOC or GTC crossing the spread up to a price cap.
    case marketableLimit = "marketable-limit"
    /// A passive order repriced after a timeout.
    case chase
    /// A market order: baseline only, never chosen by the router.
    case market
}

/// A trading pair at a venue, e.g. BTCUSDT = BTC priced in USDT.
public struct TradingPair: Sendable, Hashable, Codable {
    /// Ballast's symbol of the pair, e.g. `BTCUSDT` (`symbol(base:quote:)`); a dialect sends the venue's own.
    public var symbol: String
    /// The asset bought or sold, e.g. `BTC`.
    public var base: String
    /// The asset prices are quoted in, e.g. `USDT`.
    public var quote: String

    /// Ballast's own name of the pair of `base` and `quote` (Ballast's asset names), the same at
    /// every venue: each dialect maps it to the venue's own name from the venue's listing.
    public static func symbol(base: String, quote: String) -> String { base + quote }

    public init(symbol: String, base: String, quote: String) {
        self.symbol = symbol
        self.base = base
        self.quote = quote
    }
}
