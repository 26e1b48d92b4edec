/// A route (DESIGN.md): venue, symbol and order style.
public struct Route: Sendable, Hashable, Comparable {
    public var venue: String
    public var symbol: String
    public var style: String

    public init(venue: String, symbol: String, style: String) {
        self.venue = venue
        self.symbol = symbol
        self.style = style
    }

    public static func < (a: Route, b: Route) -> Bool {
        (a.venue, a.symbol, a.style) < (b.venue, b.symbol, b.style)
    }
}

/// Per-route aggregates of child-order costs.
///
/// Percentiles use the nearest-rank method: the p-th percentile of n sorted
/// values is the value at rank ⌈p/100 · n⌉ (1-based), so it is always one of
/// the observed values.
public struct RouteStatistics: Sendable, Hashable {
    public var route: Route
    public var orders: Int
    public var filledQty: ExactDecimal
    public var filledNotional: ExactDecimal
    /// Qty-weighted mean arrival slippage (bps) over orders that filled.
    public var slippageMeanBps: ExactDecimal?
    public var slippageP50Bps: ExactDecimal?
    public var slippageP95Bps: ExactDecimal?
    /// Notional-weighted fee (bps): Σ fees / Σ notional.
    public var feeBps: ExactDecimal?
    /// Σ filled / Σ ordered.
    public var fillRatio: ExactDecimal?
    public var medianSecondsToFill: Double?
    public var rejects: Int
    public var retries: Int

    /// One order's contribution.
    public struct Sample: Sendable {
        public var orderedQty: ExactDecimal
        public var cost: TransactionCost.ChildCost
        public var rejected: Bool
        public var retries: Int

        public init(orderedQty: ExactDecimal, cost: TransactionCost.ChildCost, rejected: Bool, retries: Int) {
            self.orderedQty = orderedQty
            self.cost = cost
            self.rejected = rejected
            self.retries = retries
        }
    }

    /// Aggregates `samples` of one route.
    public static func aggregate(_ route: Route, _ samples: [Sample]) -> RouteStatistics {
        var filled = ExactDecimal.zero
        var notional = ExactDecimal.zero
        var ordered = ExactDecimal.zero
        var fees = ExactDecimal.zero
        var weighted = ExactDecimal.zero
        var weightedQty = ExactDecimal.zero
        var slippages: [ExactDecimal] = []
        var fillTimes: [Double] = []
        for sample in samples {
            let cost = sample.cost
            filled += cost.filledQty
            notional += cost.filledNotional
            ordered += sample.orderedQty
            fees += cost.feesQuote
            if let slip = cost.slippageBps {
                weighted += slip * cost.filledQty
                weightedQty += cost.filledQty
                slippages.append(slip)
            }
            if let seconds = cost.secondsToLastFill { fillTimes.append(seconds) }
        }
        slippages.sort()
        fillTimes.sort()
        return RouteStatistics(
            route: route, orders: samples.count, filledQty: filled, filledNotional: notional,
            slippageMeanBps: weighted.divided(by: weightedQty, scale: TransactionCost.bpsScale),
            slippageP50Bps: nearestRank(slippages, 50), slippageP95Bps: nearestRank(slippages, 95),
            feeBps: TransactionCost.bps(fees, of: notional),
            fillRatio: ordered.isZero ? nil : filled.divided(by: ordered, scale: 8),
            medianSecondsToFill: nearestRank(fillTimes, 50), rejects: samples.filter(\.rejected).count,
            retries: samples.reduce(0) { $0 + $1.retries })
    }

    /// The nearest-rank `p`-th percentile of sorted `values` (nil when empty).
    public static func nearestRank<T>(_ sorted: [T], _ p: Int) -> T? {
        guard !sorted.isEmpty else { return nil }
        let rank = (p * sorted.count + 99) / 100  // ⌈p·n/100⌉
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}
