public import Foundation

/// Routes a parent trade across venues by what each route really costs now
/// (DESIGN.md "Definitions": **Route** = (venue, symbol, order style); **Route
/// cost** for quantity q, in bps: half-spread + impact (walk the depth
/// snapshot) + fee + latency risk (z · σ per √s · √(p95 ack latency)) + health
/// penalty (error/timeout rate, weight used vs. limit; a banned venue is
/// excluded until its Retry-After passes); see `RouteCostModel`).
///
/// Invariants every decision keeps:
/// - Never a naked market order: crossing is a limit IOC capped at
///   m · (1 + s · cap) on the tick, resting is post-only at the touch.
/// - Each child's quantity is on its venue's step, meets its minimum quantity
///   and notional, never exceeds the free base balance (sell) and never needs
///   more than the free quote balance at its limit price (buy).
/// - The children never add up to more than the parent quantity.
/// - Nothing is sent (the decision is deferred, children empty) when no venue
///   is usable or the cheapest split costs more than the urgency budget.
public enum Router {
    /// Decides where and how to trade `parent`.
    ///
    /// Candidates are costed for the whole parent quantity on every venue that
    /// lists the pair, in the style the urgency chooses (low → passive,
    /// normal and high → marketable limit). The quantity is then split where
    /// marginal costs are equal (exactly, `split`), each venue's share floored to
    /// its step with the leftover offered to the venues that can take it, clipped
    /// to its balances and dropped when below its minimums.
    /// The quantity-weighted average cost of the split must be within the
    /// urgency budget (`budgetBps`), else the parent is deferred.
    ///
    /// - Parameter volatilityPerSqrtSecond: the asset's σ per √second
    ///   (`RouteCostModel.volatilityPerSqrtSecond(annualised:)`).
    public static func route(
        _ parent: ParentTrade, quotes: [VenueQuote], volatilityPerSqrtSecond sigma: Double, policy: RouterPolicy,
        now: Date
    ) -> RoutingDecision {
        let side = parent.side
        let (listed, style, candidates, lanes, unusable) = prepare(
            parent, quotes: quotes, volatilityPerSqrtSecond: sigma, policy: policy, now: now)
        func deferred(_ why: String) -> RoutingDecision {
            RoutingDecision(parent: parent, candidates: candidates, children: [], deferred: why, reason: why)
        }
        guard !listed.isEmpty else { return deferred("no venue lists \(parent.asset)/\(parent.quote)") }
        guard parent.quantity.isPositive else { return deferred("nothing to trade") }
        guard !lanes.isEmpty else {
            return deferred("no healthy venue: " + unusable.map { "\($0.venue): \($0.why)" }.joined(separator: "; "))
        }
        let split = split(parent.quantity, lanes: lanes, side: side, style: style, sigma: sigma, policy: policy)
        let (children, dropped) = children(of: split, parent: parent, style: style, sigma: sigma, policy: policy)
        guard !children.isEmpty else {
            return deferred("no venue's share meets its minimums: " + dropped.joined(separator: "; "))
        }
        let routed = children.map(\.quantity).sum()
        let average =
            children.map { $0.cost.totalBps * $0.quantity.doubleValue }.reduce(0, +) / routed.doubleValue
        let budget = budgetBps(policy)
        guard average <= budget else {
            return deferred("cheapest split costs \(average.fixed(1)) bps > budget \(budget.fixed(1)) bps")
        }
        var notes = unusable.map { "\($0.venue) excluded: \($0.why)" }
        notes += dropped
        if routed < parent.quantity {
            notes.append(
                "\((parent.quantity - routed).plainString) of \(parent.quantity.plainString) left unrouted: "
                    + "steps, minimums, balances and depth within the cap take no more")
        }
        let shared = split.filter { $0.assigned.isPositive }.count
        let reason = describe(
            children, shared: shared, usable: lanes.count, average: average, budget: budget, policy: policy)
        return RoutingDecision(
            parent: parent, candidates: candidates, children: children, deferred: nil,
            reason: ([reason] + notes).joined(separator: "; "))
    }

    /// What a split of `parent` starts from: the quotes that list its pair, the style the urgency
    /// routes with, each listed quote's cost for the whole parent, the lanes that can take some of
    /// it, and why each other listed quote cannot.
    package static func prepare(
        _ parent: ParentTrade, quotes: [VenueQuote], volatilityPerSqrtSecond sigma: Double, policy: RouterPolicy,
        now: Date
    ) -> (
        listed: [VenueQuote], style: OrderStyle, candidates: [RouteCost], usable: [Lane],
        unusable: [(venue: String, why: String)]
    ) {
        let listed = quotes.filter { $0.rules.pair.base == parent.asset && $0.rules.pair.quote == parent.quote }
        let style = style(for: policy.urgency)
        let candidates = listed.map {
            RouteCostModel.cost(
                of: parent.quantity, side: parent.side, style: style, on: $0, volatilityPerSqrtSecond: sigma,
                policy: policy, now: now)
        }
        let (usable, unusable) = lanes(
            listed, candidates: candidates, side: parent.side, style: style, policy: policy, now: now)
        return (listed, style, candidates, usable, unusable)
    }

    /// The style an urgency routes with: low → passive (post-only at the
    /// touch), normal and high → marketable limit (limit IOC up to the cap).
    public static func style(for urgency: Urgency) -> OrderStyle {
        urgency == .low ? .passive : .marketableLimit
    }

    /// The cost a split may reach before the parent is deferred:
    /// `urgencyBudgetBps`, doubled at high urgency (a rebalance that must happen
    /// now accepts paying up to twice the usual cost).
    public static func budgetBps(_ policy: RouterPolicy) -> Double {
        policy.urgencyBudgetBps * (policy.urgency == .high ? 2 : 1)
    }

    /// The touch a passive order rests at, on the tick: the best bid for a buy,
    /// the best ask for a sell (rounded the less aggressive way). Also the
    /// price a chase reprices to.
    public static func repricePassive(side: Side, ticker: BookTicker, rules: SymbolRules) -> ExactDecimal {
        rules.passivePrice(side == .buy ? ticker.bidPrice : ticker.askPrice, for: side)
    }

    /// The price cap of a marketable limit: m₀ · (1 + s · capBps / 10⁴), with m₀
    /// the **Arrival mid** (the mid in the snapshot the decision used) and s the
    /// **Side sign**, rounded to the tick the less aggressive way (down for a
    /// buy, up for a sell), so a buy never pays and a sell never receives
    /// worse than the cap.
    public static func capPrice(side: Side, arrivalMid: ExactDecimal, rules: SymbolRules, capBps: Double)
        -> ExactDecimal
    {
        let cap = capBps.exactDecimal.divided(by: 10_000, scale: ExactDecimal.maxScale - 8, .down)!
        let factor = ExactDecimal.one + cap * ExactDecimal(side.sign)
        return rules.passivePrice(arrivalMid * factor, for: side)
    }

    /// A lane's assignment made into an order the venue accepts, or why it cannot be.
    static func child(
        for lane: Lane, parent: ParentTrade, style: OrderStyle, sigma: Double, policy: RouterPolicy
    ) -> Result<ChildPlan, SymbolRules.Violation> {
        let quote = lane.quote
        let rules = quote.rules
        let side = parent.side
        let price = RouteCostModel.limitPrice(side: side, style: style, on: quote, policy: policy)
        var quantity = rules.floorQuantity(min(lane.assigned, parent.quantity))
        if side == .sell {
            quantity = min(quantity, rules.floorQuantity(quote.available))
        } else if RouteCostModel.buyCost(quantity, at: price, on: quote) > quote.available {
            quantity = rules.floorQuantity(RouteCostModel.affordable(at: price, on: quote))
        }
        if let violation = rules.check(price: price, qty: quantity) { return .failure(violation) }
        let passive = RouteCostModel.isPassive(style)
        return .success(
            ChildPlan(
                venue: quote.venue, account: quote.account, symbol: rules.pair.symbol, side: side, style: style,
                orderType: passive ? .postOnly : .limit, timeInForce: passive ? nil : .ioc, quantity: quantity,
                limitPrice: price, arrivalMid: quote.ticker.mid,
                cost: RouteCostModel.terms(
                    of: quantity, side: side, style: style, on: quote, sigma: sigma, policy: policy)))
    }

    /// "sim-a 0.6 @ 12.3 bps, sim-b 0.4 @ 14.1 bps: split at equal marginal cost (…); …".
    static func describe(
        _ children: [ChildPlan], shared: Int, usable: Int, average: Double, budget: Double, policy: RouterPolicy
    ) -> String {
        let shares = children.map { "\($0.venue) \($0.quantity.plainString) @ \($0.cost.totalBps.fixed(1)) bps" }
        let why =
            shared > 1
            ? "split at equal marginal cost (exact, then floored to each venue's step)"
            : (usable > 1 ? "cheapest at the margin for the whole quantity" : "the only usable venue")
        let how =
            children[0].style == .passive
            ? "post-only at the touch (urgency low)"
            : "limit IOC capped at \(policy.priceCapBps.fixed(1)) bps from mid"
        return shares.joined(separator: ", ") + ": \(why); \(how); average \(average.fixed(1)) bps "
            + "within budget \(budget.fixed(1)) bps" + (policy.urgency == .high ? " (doubled: high urgency)" : "")
    }
}
