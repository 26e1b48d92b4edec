public import BallastCore
public import Foundation

/// What a decision record carries so that its decision can be recomputed from the record alone,
/// through the same domain code (`ballast audit recompute`): every input of the band, the
/// rebalance plan and the router, at full precision (decimals as exact text, doubles as Swift
/// prints them, which reads back to the same bits).
public enum RecomputeInputs {
    /// The inputs of one parent's routing: exactly what `Router.route` was given.
    public struct Route: Sendable, Codable, Equatable {
        /// Every venue quote offered to the router (rules, ticker, depth, fees, quote or base
        /// available including the batch's sell proceeds, health, measured passive cost).
        public var quotes: [VenueQuote]
        public var volatilityPerSqrtSecond: Double
        public var policy: RouterPolicy
        /// The decision time, as seconds since 1970 (exact).
        public var now: Double

        public init(quotes: [VenueQuote], volatilityPerSqrtSecond: Double, policy: RouterPolicy, now: Date) {
            self.quotes = quotes
            self.volatilityPerSqrtSecond = volatilityPerSqrtSecond
            self.policy = policy
            self.now = now.timeIntervalSince1970
        }
    }

    /// The inputs of one asset's band.
    public struct Band: Sendable, Codable, Equatable {
        /// `volatility` or `fixed`.
        public var mode: String
        public var fixed: Double
        /// c: the cheapest venue's taker fee plus half its spread, as a fraction.
        public var cost: Double
        /// σ, annualised.
        public var sigma: Double
        /// k.
        public var multiplier: Double
        public var minimum: Double
        public var maximum: Double

        /// The band these inputs give (what `DecisionInputs.band` computes).
        public var width: Double {
            mode == "fixed"
                ? fixed
                : Bands.halfWidth(
                    cost: cost, volatility: sigma, multiplier: multiplier, minimum: minimum, maximum: maximum)
        }
    }

    /// The inputs of the portfolio's rebalance plan.
    public struct Plan: Sendable, Codable, Equatable {
        public var holdings: [String: ExactDecimal]
        public var mids: [String: ExactDecimal]
        public var targets: [String: ExactDecimal]
        public var quote: String
        public var bands: [String: Double]
        public var sizeTo: String
        public var tradable: [String]
    }
}
