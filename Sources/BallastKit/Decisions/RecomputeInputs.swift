public import BallastCore
import Digest
public import Foundation

/// What a decision record carries so that its decision can be recomputed from the record alone,
/// through the same domain code (`ballast audit recompute`): every input of the band, the
/// rebalance plan and the router, at full precision (decimals as exact text, doubles as Swift
/// prints them, which reads back to the same bits).
public enum RecomputeInputs {
    /// The inputs of one parent's routing: what `Router.route` was given. A quote's depth taken
    /// from a stored snapshot (append-only) is named by the snapshot's id and the SHA-256 of its
    /// canonical JSON rather than copied into every record that used it (thousands of portfolios
    /// share a few books); recompute reads it back and checks the digest.
    public struct Route: Sendable, Codable, Equatable {
        /// Every venue quote offered to the router (rules, ticker, depth unless referenced, fees,
        /// quote or base available including the batch's sell proceeds, health, measured passive cost).
        public var quotes: [VenueQuote]
        /// Per venue, the stored depth its quote carried.
        public var depths: [String: DepthReference]
        public var volatilityPerSqrtSecond: Double
        public var policy: RouterPolicy
        /// The decision time, as seconds since 1970 (exact).
        public var now: Double

        /// `digests` per venue: the digest of each quote's depth when it is a stored snapshot.
        public init(
            quotes: [VenueQuote], volatilityPerSqrtSecond: Double, policy: RouterPolicy, now: Date,
            digests: [String: String] = [:]
        ) {
            var recorded: [VenueQuote] = []
            var depths: [String: DepthReference] = [:]
            for var quote in quotes {
                if quote.depth != nil, let id = quote.depthId, let digest = digests[quote.venue] {
                    depths[quote.venue] = DepthReference(snapshot: id, sha256: digest)
                    quote.depth = nil
                }
                recorded.append(quote)
            }
            self.quotes = recorded
            self.depths = depths
            self.volatilityPerSqrtSecond = volatilityPerSqrtSecond
            self.policy = policy
            self.now = now.timeIntervalSince1970
        }
    }

    /// A stored depth snapshot a quote used.
    public struct DepthReference: Sendable, Codable, Equatable {
        /// `depth_snapshots.id`.
        public var snapshot: Int64
        /// SHA-256 of the snapshot's canonical JSON.
        public var sha256: String
    }

    /// SHA-256 (hex) of a depth snapshot's canonical JSON.
    public static func digest(_ depth: DepthSnapshot) throws -> String {
        Digest.hex(Digest.sha256(try DecisionLog.canonical(depth)))
    }

    /// How an asset's σ was found (`Bands.sigma`): the windows, the prior, the decision time the
    /// windows end at, and the stored prices it was computed from.
    public struct Sigma: Sendable, Codable, Equatable {
        public var symbol: String
        /// The portfolio's `window_hours`.
        public var windowHours: Double
        /// The window σ falls back to with too few prices in the portfolio's.
        public var fallbackWindowHours: Double
        /// The portfolio's `sigma_prior`, used with too few prices in either window.
        public var prior: Double
        /// `window`, `fallback` or `prior`.
        public var source: String
        /// The decision time, as seconds since 1970 (exact): both windows end here.
        public var until: Double
        /// The stored mids over the longer window.
        public var prices: Prices
    }

    /// Stored book tickers' mids over a window, named rather than copied: book tickers are
    /// append-only, so `count` rows with ids up to `newestTicker` in the window, hashed in order,
    /// are the prices a decision's σ came from.
    public struct Prices: Sendable, Codable, Equatable {
        public var windowHours: Double
        public var count: Int
        /// The largest `book_tickers.id` among them (0 when there are none).
        public var newestTicker: Int64
        /// SHA-256 (hex) of one line per price, venue by venue in time order:
        /// `venue<TAB>ticker id<TAB>seconds since 1970<TAB>mid`.
        public var sha256: String

        /// The prices of `series` observed at or after `since`.
        package init(_ series: MarketView.PriceSeries, windowHours: Double, since: Date) {
            var text = ""
            var count = 0
            var newest: Int64 = 0
            for (venue, prices) in series {
                for price in prices where price.time >= since {
                    text += "\(venue)\t\(price.id)\t\(price.time.timeIntervalSince1970)\t\(price.price)\n"
                    count += 1
                    newest = max(newest, price.id)
                }
            }
            self.windowHours = windowHours
            self.count = count
            self.newestTicker = newest
            self.sha256 = Digest.hex(Digest.sha256(text))
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
        /// How σ was found, and from which stored prices.
        public var sigmaInputs: Sigma?
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
