/// The cost of one route for one quantity, term by term, in bps of the arrival
/// mid (DESIGN.md "Route cost"): half-spread + impact + fee + latency risk + health penalty.
public struct RouteCost: Sendable, Hashable, Codable {
    public var venue: String
    public var symbol: String
    public var style: OrderStyle
    /// The quantity the terms are for.
    public var quantity: ExactDecimal
    public var halfSpreadBps: Double
    /// Depth walk: (volume-weighted price of the walk − touch) / mid, signed so worse is positive.
    public var impactBps: Double
    public var feeBps: Double
    /// z · σ per √s · √(p95 ack latency) (and, for passive, √(time resting)).
    public var latencyBps: Double
    public var healthBps: Double
    /// For a resting style with measured legs on the route: w · (measured − modelled), w = n / (n + n₀),
    /// pulling the modelled slippage (−half-spread + latency risk) towards what Ballast's own passive
    /// legs cost there (non-fills, chases and adverse selection included). Nil when nothing is measured.
    public var measuredBps: Double?
    /// Why the route cannot be used (banned, unhealthy, no balance, below minimum, not enough depth within the cap), or nil.
    public var excluded: String?

    public init(
        venue: String, symbol: String, style: OrderStyle, quantity: ExactDecimal, halfSpreadBps: Double,
        impactBps: Double, feeBps: Double, latencyBps: Double, healthBps: Double, excluded: String? = nil
    ) {
        self.venue = venue
        self.symbol = symbol
        self.style = style
        self.quantity = quantity
        self.halfSpreadBps = halfSpreadBps
        self.impactBps = impactBps
        self.feeBps = feeBps
        self.latencyBps = latencyBps
        self.healthBps = healthBps
        self.excluded = excluded
    }

    /// The sum of the terms.
    public var totalBps: Double { halfSpreadBps + impactBps + feeBps + latencyBps + healthBps + (measuredBps ?? 0) }
}

/// One child order the router chose: a venue, a quantity on its step, a style and a limit price on its tick.
public struct ChildPlan: Sendable, Hashable, Codable {
    public var venue: String
    public var account: String
    public var symbol: String
    public var side: Side
    public var style: OrderStyle
    public var orderType: OrderType
    public var timeInForce: TimeInForce?
    public var quantity: ExactDecimal
    /// The limit price (the cap for a marketable limit, the touch for a passive order).
    public var limitPrice: ExactDecimal
    /// The arrival mid m₀ at that venue (mid of the snapshot the decision used).
    public var arrivalMid: ExactDecimal
    /// This child's route cost for its quantity.
    public var cost: RouteCost

    public init(
        venue: String, account: String, symbol: String, side: Side, style: OrderStyle, orderType: OrderType,
        timeInForce: TimeInForce?, quantity: ExactDecimal, limitPrice: ExactDecimal, arrivalMid: ExactDecimal,
        cost: RouteCost
    ) {
        self.venue = venue
        self.account = account
        self.symbol = symbol
        self.side = side
        self.style = style
        self.orderType = orderType
        self.timeInForce = timeInForce
        self.quantity = quantity
        self.limitPrice = limitPrice
        self.arrivalMid = arrivalMid
        self.cost = cost
    }
}

/// What the router decided for one parent trade.
public struct RoutingDecision: Sendable, Hashable, Codable {
    public var parent: ParentTrade
    /// Every candidate route, each costed for the whole parent quantity (excluded ones say why).
    public var candidates: [RouteCost]
    /// The chosen split (empty when deferred).
    public var children: [ChildPlan]
    /// Why nothing is sent for this parent, or nil.
    public var deferred: String?
    /// Why this split and these prices, in words for the decision record.
    public var reason: String

    public init(
        parent: ParentTrade, candidates: [RouteCost], children: [ChildPlan], deferred: String?, reason: String
    ) {
        self.parent = parent
        self.candidates = candidates
        self.children = children
        self.deferred = deferred
        self.reason = reason
    }
}
