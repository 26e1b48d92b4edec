/// Sizes the parent trades that bring a portfolio back within its bands
/// (DESIGN.md "Definitions"):
///
/// - **Weight** wᵢ = valueᵢ / Σ value, valued at mid in the portfolio's quote
///   currency. **Drift** dᵢ = wᵢ − targetᵢ.
/// - **Band** per asset, scaled by that asset's realised volatility σᵢ over a
///   configured window, clamped to [min, max] (`Bands.halfWidth`).
/// - **Mid** m = (best bid + best ask) / 2 at the venue.
///
/// Invariants every plan keeps:
/// - Nothing trades unless some asset's |dᵢ| exceeds its band.
/// - The quote asset is never a trade: it is what the others are bought with and sold for.
/// - An asset outside `tradable` (when given) is valued — its weight counts — but never traded,
///   so no proceeds of it are counted as cash for the buys.
/// - No sell is for more than is held; no buy needs more than the quote held
///   plus the sells' proceeds at mid, less the cash buffer (buys are scaled
///   down together when it would).
/// - Sells come first (largest notional first), then buys (largest first).
/// - Quantities are exact, in the base asset, rounded down to `quantityScale`
///   places; venue steps and ticks are the router's business.
public enum Rebalance {
    /// How far a breaching portfolio is traded.
    public enum SizeTo: String, Sendable, Hashable, Codable, CaseIterable {
        /// Every non-quote asset with non-zero drift goes all the way to its target.
        case target
        /// Only the breaching assets trade, and only back to their band's edge: (|dᵢ| − bandᵢ) · Σ value.
        case bandEdge = "band-edge"
    }

    /// Decimal places kept in planned quantities.
    public static let quantityScale = 12

    /// Plans the trades for `holdings` (asset → quantity) valued at `mids`
    /// (asset → mid in `quote`) against `targets` (asset → weight) and `bands`
    /// (asset → half-width as a weight).
    ///
    /// The quantity of a trade is its value difference / mid: (targetᵢ · Σ value −
    /// valueᵢ) / mᵢ when sized to target, (|dᵢ| − bandᵢ) · Σ value / mᵢ towards
    /// the target when sized to the band edge.
    ///
    /// - Parameter cashBuffer: quote currency the buys must leave unspent.
    /// - Parameter tradable: the assets that may trade (nil: every asset); the others are only valued.
    /// - Throws: `DriftReport.Problem` when the portfolio cannot be valued, or
    ///   an asset to be traded has no mid.
    public static func plan(
        holdings: [String: ExactDecimal], mids: [String: ExactDecimal], targets: [String: ExactDecimal], quote: String,
        bands: [String: Double], sizeTo: SizeTo, cashBuffer: ExactDecimal = .zero, tradable: Set<String>? = nil
    ) throws(DriftReport.Problem) -> RebalancePlan {
        let report = try DriftReport.compute(holdings: holdings, prices: mids, targets: targets, quote: quote)
        var drift: [String: Double] = [:]
        for line in report.lines { drift[line.asset] = line.drift.doubleValue }
        let breached = Bands.breaches(drift: drift, bands: bands)
        var plan = RebalancePlan(
            drift: drift, bands: bands, breached: breached, trades: [], totalValue: report.totalValue,
            notes: report.unpriced.map { "\($0) has no price in \(quote): left out of the valuation" })
        guard !breached.isEmpty else {
            plan.notes.append("every asset is inside its band: no trade")
            return plan
        }

        var sells: [Leg] = []
        var buys: [Leg] = []
        let kept = report.lines.map(\.asset).filter { $0 != quote && tradable?.contains($0) == false }
        if !kept.isEmpty {
            plan.notes.append("held but not tradable, so valued and not traded: \(kept.joined(separator: ", "))")
        }
        for line in report.lines where line.asset != quote && tradable?.contains(line.asset) != false {
            let band = bands[line.asset]
            let breaching = breached.contains(line.asset)
            guard
                let leg = try leg(
                    for: line, band: band, breaching: breaching, report: report, mids: mids, sizeTo: sizeTo)
            else { continue }
            if leg.trade.side == .sell { sells.append(leg) } else { buys.append(leg) }
        }
        if sells.isEmpty && buys.isEmpty {
            plan.notes.append("only the quote asset breaches its band: sized to the band edge, nothing trades")
        }
        let cash = (holdings[quote] ?? .zero) + sells.map(\.notional).sum() - cashBuffer
        let wanted = buys.map(\.notional).sum()
        if wanted > cash {
            buys = scale(buys, cash: max(cash, .zero), wanted: wanted)
            plan.notes.append(
                cash.isPositive
                    ? "buys scaled to the cash available: \(cash.formatted(places: 2)) of "
                        + "\(wanted.formatted(places: 2)) \(quote) (\(percent(of: cash, in: wanted)))"
                    : "no cash for buys: \(quote) held plus sells less the buffer is \(cash.formatted(places: 2))")
        }
        plan.trades = (sells.sorted(by: Leg.largerFirst) + buys.sorted(by: Leg.largerFirst)).map(\.trade)
        return plan
    }

    /// A trade being planned, with its notional at mid.
    struct Leg {
        var trade: ParentTrade
        var notional: ExactDecimal

        static func largerFirst(_ a: Leg, _ b: Leg) -> Bool {
            a.notional != b.notional ? a.notional > b.notional : a.trade.asset < b.trade.asset
        }
    }

    /// The trade for one asset's line, or nil when it does not trade.
    static func leg(
        for line: DriftReport.Line, band: Double?, breaching: Bool, report: DriftReport,
        mids: [String: ExactDecimal], sizeTo: SizeTo
    ) throws(DriftReport.Problem) -> Leg? {
        let total = report.totalValue
        let gap = line.target * total - line.value  // positive: buy
        guard !gap.isZero else { return nil }
        var value = gap.magnitude
        if sizeTo == .bandEdge {
            guard breaching, let band else { return nil }
            value -= band.exactDecimal * total
            guard value.isPositive else { return nil }
        }
        guard let mid = mids[line.asset], mid.isPositive else { throw .noPrice(asset: line.asset) }
        let side: Side = gap.isPositive ? .buy : .sell
        var quantity = value.divided(by: mid, scale: quantityScale, .down)!
        if side == .sell { quantity = min(quantity, line.quantity) }
        guard quantity.isPositive else { return nil }
        let reason =
            "\(line.asset) drift \(pp(line.drift)) "
            + (band.map { breaching ? "> band \(pp($0))" : "within band \(pp($0))" } ?? "(no band)")
            + (sizeTo == .target ? "; sized to target" : "; sized to the band edge")
        return Leg(
            trade: ParentTrade(
                asset: line.asset, quote: report.quote, side: side, quantity: quantity.normalized, decisionMid: mid,
                reason: reason),
            notional: quantity * mid)
    }

    /// Every buy's quantity times cash / wanted (rounded down), so their notionals fit the cash.
    static func scale(_ buys: [Leg], cash: ExactDecimal, wanted: ExactDecimal) -> [Leg] {
        let share = percent(of: cash, in: wanted)
        return buys.compactMap { leg in
            var leg = leg
            let quantity = (leg.trade.quantity * cash).divided(by: wanted, scale: quantityScale, .down)!
            guard quantity.isPositive else { return nil }
            leg.trade.quantity = quantity.normalized
            leg.notional = quantity * leg.trade.decisionMid
            leg.trade.reason += "; scaled to \(share) for the cash available"
            return leg
        }
    }

    /// A weight in percentage points with its sign, e.g. "+6.20 pp".
    static func pp(_ weight: ExactDecimal) -> String {
        (weight.isPositive ? "+" : "") + (weight * 100).formatted(places: 2) + " pp"
    }

    /// A band half-width in percentage points, e.g. "3.10 pp".
    static func pp(_ band: Double) -> String { (band * 100).fixed(2) + " pp" }

    /// part / whole as a percentage with one decimal, e.g. "61.7%".
    static func percent(of part: ExactDecimal, in whole: ExactDecimal) -> String {
        ((part * 100).divided(by: whole, scale: 1, .halfEven) ?? .zero).description + "%"
    }
}
