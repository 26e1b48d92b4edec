public import Foundation

/// What the router knows about one venue's market in a symbol at decision time.
public struct VenueQuote: Sendable, Hashable, Codable {
    /// The venue id.
    public var venue: String
    /// The account at that venue that would trade.
    public var account: String
    /// The symbol's tick, step and notional rules there.
    public var rules: SymbolRules
    /// Best bid and offer from the snapshot (its mid is the arrival mid).
    public var ticker: BookTicker
    /// Depth from the snapshot; nil means only the touch is known.
    public var depth: DepthSnapshot?
    /// Maker and taker fee rates as fractions (0.001 = 10 bps).
    public var makerFee: ExactDecimal
    public var takerFee: ExactDecimal
    /// What the account may spend there: base asset (free) for a sell, quote asset (free) for a buy.
    public var available: ExactDecimal
    /// The venue's measured health.
    public var health: VenueHealth
    /// Ids of the stored snapshots this quote came from (for the decision record).
    public var tickerId: Int64?
    public var depthId: Int64?
    /// What Ballast's own passive legs on this venue and symbol cost (nil: none measured yet).
    public var measuredPassive: MeasuredRouteCost?

    public init(
        venue: String, account: String, rules: SymbolRules, ticker: BookTicker, depth: DepthSnapshot?,
        makerFee: ExactDecimal, takerFee: ExactDecimal, available: ExactDecimal, health: VenueHealth,
        tickerId: Int64? = nil, depthId: Int64? = nil
    ) {
        self.venue = venue
        self.account = account
        self.rules = rules
        self.ticker = ticker
        self.depth = depth
        self.makerFee = makerFee
        self.takerFee = takerFee
        self.available = available
        self.health = health
        self.tickerId = tickerId
        self.depthId = depthId
    }
}

/// What Ballast measured itself on a route: the legs that started resting there, each from its first
/// order's arrival mid m₀ to its end, all generations included (chases, the final cross).
public struct MeasuredRouteCost: Sendable, Hashable, Codable {
    /// Legs measured.
    public var legs: Int
    /// Their arrival slippage, fees excluded, in bps of m₀ · quantity, weighted by quantity:
    /// Σ s · (p − m₀) · q over fills, plus s · (m_end − m₀) · q_unfilled where the leg's end mid is
    /// known (a replay), over Σ m₀ · q.
    public var slippageBps: Double

    public init(legs: Int, slippageBps: Double) {
        self.legs = legs
        self.slippageBps = slippageBps
    }
}

/// A venue's measured health over the recent window (from `http_attempts` and the rate budget).
public struct VenueHealth: Sendable, Hashable, Codable {
    /// p95 of order-acknowledgement latency in seconds (falls back to all signed calls when no orders yet).
    public var p95AckSeconds: Double
    /// Share of attempts that ended in an error other than a timeout (0…1).
    public var errorRate: Double
    /// Share of attempts that timed out (0…1).
    public var timeoutRate: Double
    /// Request weight used in the last minute as a share of the venue's limit (0…1).
    public var weightUsed: Double
    /// Set while the venue bans us (HTTP 418) or a 429's Retry-After runs.
    public var bannedUntil: Date?
    /// Attempts the rates are computed from.
    public var attempts: Int

    public init(
        p95AckSeconds: Double, errorRate: Double, timeoutRate: Double, weightUsed: Double, bannedUntil: Date? = nil,
        attempts: Int = 0
    ) {
        self.p95AckSeconds = p95AckSeconds
        self.errorRate = errorRate
        self.timeoutRate = timeoutRate
        self.weightUsed = weightUsed
        self.bannedUntil = bannedUntil
        self.attempts = attempts
    }
}

/// How patient a rebalance may be.
public enum Urgency: String, Sendable, Hashable, Codable, CaseIterable {
    /// Rest passively (post-only) and chase; cross only at the end.
    case low
    /// Marketable limits with a price cap.
    case normal
    /// Marketable limits, wider tolerance for cost.
    case high
}

/// The router's knobs (a portfolio's `[portfolios.router]` section).
public struct RouterPolicy: Sendable, Hashable, Codable {
    public var urgency: Urgency = .normal
    /// z in the latency-risk term z · σ per √s · √(p95 ack latency).
    public var z: Double = 1.65
    /// A parent is deferred when its cheapest split costs more than this (bps).
    public var urgencyBudgetBps: Double = 50
    /// A marketable limit never pays more than mid · (1 + s · cap) (bps of arrival mid).
    public var priceCapBps: Double = 30
    /// Bps added per unit of (error rate + timeout rate).
    public var errorPenaltyBps: Double = 100
    /// Bps added per unit of weight used above half the limit.
    public var weightPenaltyBps: Double = 20
    /// Venues with error + timeout rate above this are excluded.
    public var maxErrorRate: Double = 0.5
    /// How long a passive order rests before it is repriced (seconds).
    public var passiveTimeoutSeconds: Double = 30
    /// How many times a passive order is repriced before crossing within the cap.
    public var maxChases: Int = 2
    /// Read from job files that set it; the split no longer uses slices (it is exact, `Router.split`).
    public var slices: Int = 20
    /// n₀: how many measured legs the model's own passive estimate counts as (the prior's weight).
    public var measuredPrior: Double = 10
    /// A venue's book older than this (seconds, by its ticker's time) is not used.
    public var maxBookAgeSeconds: Double = 60
    /// A depth snapshot taken further than this (seconds) from its ticker is not combined with it.
    public var maxDepthSkewSeconds: Double = 1

    public init() {}
}

/// One asset the proposal decided to trade (a parent order), before routing.
public struct ParentTrade: Sendable, Hashable, Codable {
    public var asset: String
    public var quote: String
    /// Ballast's symbol of the pair traded (`TradingPair.symbol(base:quote:)`).
    public var symbol: String { TradingPair.symbol(base: asset, quote: quote) }
    public var side: Side
    /// Base-asset quantity to trade in total (before venue rounding).
    public var quantity: ExactDecimal
    /// The mid the decision valued the asset at (m_dec).
    public var decisionMid: ExactDecimal
    /// Why: drift against band, and what it is sized to.
    public var reason: String

    public init(
        asset: String, quote: String, side: Side, quantity: ExactDecimal, decisionMid: ExactDecimal, reason: String
    ) {
        self.asset = asset
        self.quote = quote
        self.side = side
        self.quantity = quantity
        self.decisionMid = decisionMid
        self.reason = reason
    }
}
