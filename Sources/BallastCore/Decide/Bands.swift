public import Foundation

/// Rebalancing bands (DESIGN.md "Definitions": **Band** per asset, scaled by
/// that asset's realised volatility σᵢ over a configured window, clamped to [min, max]).
///
/// Formula: half-width bᵢ = clamp(k · (cᵢ · σᵢ²)^⅓, min, max), where cᵢ is
/// the proportional cost of trading the asset (fee + half-spread, as a
/// fraction), σᵢ its annualised realised volatility and k the configured
/// multiplier (which absorbs the investor's risk aversion).
///
/// Source: the no-trade region of optimal rebalancing under proportional costs
/// (Davis & Norman 1990; Leland 2000). Its small-cost asymptotics (Janeček &
/// Shreve 2004; Rogers 2004) give a half-width that grows with the cube root
/// of the cost and with σ^⅔: trading less often when moves are large relative
/// to what trading costs. Only the scaling is used here; the constant is k.
public enum Bands {
    /// σ per √year from prices sampled over time (log returns, sample variance,
    /// scaled by the mean sampling interval). Nil with fewer than three prices.
    public static func annualisedVolatility(_ prices: [(time: Date, price: Double)]) -> Double? {
        let sorted = prices.filter { $0.price > 0 }.sorted { $0.time < $1.time }
        guard sorted.count >= 3 else { return nil }
        var returns: [Double] = []
        for i in 1..<sorted.count { returns.append(log(sorted[i].price / sorted[i - 1].price)) }
        let mean = returns.reduce(0, +) / Double(returns.count)
        let variance = returns.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(returns.count - 1)
        let span = sorted.last!.time.timeIntervalSince(sorted.first!.time)
        guard span > 0 else { return nil }
        let interval = span / Double(returns.count)
        let perYear = 365.25 * 86_400 / interval
        return (variance * perYear).squareRoot()
    }

    /// σ of one symbol (annualised) from its mids at several venues: each venue's prices at or after
    /// `since` give a σ (`annualisedVolatility`); the symbol's σ is their mean, summed in the order
    /// given (venue order), so the same stored prices give the same bits on every load. Nil when no
    /// venue has three prices in the window.
    public static func meanVolatility(_ venues: [[(time: Date, price: Double)]], since: Date) -> Double? {
        let sigmas = venues.compactMap { prices in annualisedVolatility(prices.filter { $0.time >= since }) }
        return sigmas.isEmpty ? nil : sigmas.reduce(0, +) / Double(sigmas.count)
    }

    /// Where an asset's σ came from.
    public enum SigmaSource: String, Sendable, Codable {
        /// The portfolio's own window.
        case window
        /// The fallback window: too few prices in the portfolio's own.
        case fallback
        /// The configured prior: too few prices in either window.
        case prior
    }

    /// The rule for σ when prices are scarce: σ over the portfolio's window; with too few prices
    /// there, over the fallback window (when it is longer); with too few there too, the prior. Never
    /// zero by default: an unknown σ would make the router's latency risk vanish. `over` gives σ over
    /// a window of so many hours, or nil.
    public static func sigma(
        windowHours: Double, fallbackHours: Double, prior: Double, over: (Double) -> Double?
    ) -> (sigma: Double, source: SigmaSource) {
        if let sigma = over(windowHours) { return (sigma, .window) }
        if windowHours < fallbackHours, let sigma = over(fallbackHours) { return (sigma, .fallback) }
        return (prior, .prior)
    }

    /// The half-width of an asset's band, as a weight (0.05 = ±5 percentage points).
    public static func halfWidth(
        cost: Double, volatility: Double, multiplier: Double, minimum: Double, maximum: Double
    ) -> Double {
        let raw = multiplier * pow(max(cost, 0) * volatility * volatility, 1.0 / 3.0)
        return min(max(raw, minimum), maximum)
    }

    /// The assets whose |drift| exceeds their band, largest excess first.
    public static func breaches(drift: [String: Double], bands: [String: Double]) -> [String] {
        drift.compactMap { asset, d -> (String, Double)? in
            guard let band = bands[asset], abs(d) > band else { return nil }
            return (asset, abs(d) - band)
        }
        .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        .map(\.0)
    }
}
