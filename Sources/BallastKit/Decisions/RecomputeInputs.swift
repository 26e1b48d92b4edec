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

/// Encodes routing inputs for decision records, sharing what recurs: a venue quote's rules,
/// ticker, health and measured cost are the same for every portfolio at that venue and symbol,
/// so they are encoded once per run chunk and copied (the text is what encoding each whole gives).
final class RouteInputsEncoder {
    private var shared: [String: [UInt8]] = [:]

    /// The canonical JSON of `route`.
    func encode(_ route: RecomputeInputs.Route) throws -> [UInt8] {
        var quotes: [UInt8] = [UInt8(ascii: "[")]
        for (index, quote) in route.quotes.enumerated() {
            if index > 0 { quotes.append(UInt8(ascii: ",")) }
            quotes.append(contentsOf: try encode(quote))
        }
        quotes.append(UInt8(ascii: "]"))
        var object = CanonicalObject()
        object.set("quotes", json: quotes)
        try object.set("depths", route.depths)
        try object.set("volatilityPerSqrtSecond", route.volatilityPerSqrtSecond)
        try object.set("policy", route.policy)
        try object.set("now", route.now)
        return object.bytes
    }

    private func encode(_ quote: VenueQuote) throws -> [UInt8] {
        var object = CanonicalObject()
        let key = quote.venue + "\u{1}" + quote.rules.pair.symbol
        object.set("rules", json: try member(key + "\u{1}rules", quote.rules))
        if let id = quote.tickerId {
            object.set("ticker", json: try member(key + "\u{1}ticker\u{1}\(id)", quote.ticker))
        } else {
            try object.set("ticker", quote.ticker)
        }
        object.set("health", json: try member(quote.venue + "\u{1}health", quote.health))
        try object.set("venue", quote.venue)
        try object.set("account", quote.account)
        try object.set("depth", quote.depth)
        try object.set("makerFee", quote.makerFee)
        try object.set("takerFee", quote.takerFee)
        try object.set("available", quote.available)
        try object.set("tickerId", quote.tickerId)
        try object.set("depthId", quote.depthId)
        try object.set("measuredPassive", quote.measuredPassive)
        return object.bytes
    }

    private func member(_ key: String, _ value: some Encodable) throws -> [UInt8] {
        if let json = shared[key] { return json }
        var json: [UInt8] = []
        try CanonicalJSON.append(value, to: &json)
        shared[key] = json
        return json
    }
}
