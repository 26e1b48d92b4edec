/// Realised weights and drift of a portfolio (DESIGN.md "Definitions"):
///
/// - **Weight** wᵢ = valueᵢ / Σ value, valued at mid in the portfolio's quote currency.
/// - **Drift** dᵢ = wᵢ − targetᵢ. Portfolio drift = max |dᵢ|; turnover to target = ½ Σ |dᵢ|.
public struct DriftReport: Sendable, Hashable {
    /// One asset's line.
    public struct Line: Sendable, Hashable {
        public var asset: String
        public var quantity: ExactDecimal
        public var price: ExactDecimal
        public var value: ExactDecimal
        public var weight: ExactDecimal
        public var target: ExactDecimal
        public var drift: ExactDecimal
    }

    public var quote: String
    public var lines: [Line]
    public var totalValue: ExactDecimal
    /// max |dᵢ|.
    public var portfolioDrift: ExactDecimal
    /// ½ Σ |dᵢ|.
    public var turnover: ExactDecimal
    /// Held assets outside the targets with no price in the quote: left out of
    /// the valuation (they cannot be weighed), named here so callers can say so.
    public var unpriced: [String] = []

    /// Decimal places kept in weights and drift.
    public static let weightScale = 12

    /// Why a drift report cannot be made.
    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case noPrice(asset: String)
        case emptyPortfolio

        public var description: String {
            switch self {
            case .noPrice(let asset): "no price for \(asset) in the quote currency: cannot value the portfolio"
            case .emptyPortfolio: "the portfolio holds nothing of value: weights are undefined"
            }
        }
    }

    /// Values `holdings` (asset → quantity) at `prices` (asset → mid in `quote`;
    /// the quote asset is worth 1) against `targets` (asset → weight).
    public static func compute(
        holdings: [String: ExactDecimal], prices: [String: ExactDecimal], targets: [String: ExactDecimal], quote: String
    ) throws(Problem) -> DriftReport {
        let assets = Set(holdings.keys).union(targets.keys).sorted()
        var valued: [(String, ExactDecimal, ExactDecimal, ExactDecimal)] = []
        var unpriced: [String] = []
        var total = ExactDecimal.zero
        for asset in assets {
            let quantity = holdings[asset] ?? .zero
            let target = targets[asset] ?? .zero
            if quantity.isZero && target.isZero { continue }
            let price: ExactDecimal
            if asset == quote {
                price = .one
            } else if let known = prices[asset] {
                price = known
            } else if quantity.isZero {
                price = .zero  // a target not held yet: weight 0 whatever its price
            } else if target.isZero {
                unpriced.append(asset)  // held, not targeted, not priceable: left out
                continue
            } else {
                throw .noPrice(asset: asset)
            }
            let value = quantity * price
            total += value
            valued.append((asset, quantity, price, value))
        }
        guard total.isPositive else { throw .emptyPortfolio }
        var lines: [Line] = []
        var maximum = ExactDecimal.zero
        var absolute = ExactDecimal.zero
        for (asset, quantity, price, value) in valued {
            let weight = value.divided(by: total, scale: weightScale)!
            let target = targets[asset] ?? .zero
            let drift = weight - target
            maximum = max(maximum, drift.magnitude)
            absolute += drift.magnitude
            lines.append(
                Line(
                    asset: asset, quantity: quantity, price: price, value: value, weight: weight, target: target,
                    drift: drift))
        }
        return DriftReport(
            quote: quote, lines: lines, totalValue: total, portfolioDrift: maximum,
            turnover: absolute.divided(by: 2, scale: weightScale)!, unpriced: unpriced)
    }
}
