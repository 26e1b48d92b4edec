public import BallastCore
public import Foundation
public import Postgres

/// `ballast audit recompute`: redoes each order and deferral decision from its record alone —
/// the band from its inputs, the portfolio's rebalance plan, and the parent's routing — through
/// the same domain code that made it (`Bands`, `Rebalance.plan`, `Router.route`), and reports per
/// record and per term what differs. Nothing is read but the records' text, and the stored depth
/// snapshots (append-only) that records name by id and SHA-256 digest.
///
/// A record is read in the words it was written in (`DecisionLog.orderSpelling(recordText:)`):
/// one written before Ballast had its own order words says `LIMIT_MAKER` and `IOC`, and what is
/// recomputed for it is written in those words too, so both sides compare as the record reads.
public struct Recompute {
    /// One term of one record that the recomputation does not reproduce.
    public struct Difference: Sendable, CustomStringConvertible {
        public var record: Int64
        public var batch: Int64?
        public var parent: Int?
        public var term: String
        public var recorded: String
        public var recomputed: String

        public var description: String {
            "record \(record) (batch \(batch.map(String.init) ?? "–"), parent \(parent.map(String.init) ?? "–")): "
                + "\(term) differs: recorded \(recorded.prefix(300)), recomputed \(recomputed.prefix(300))"
        }
    }

    /// What a run of `recompute` found.
    public struct Outcome: Sendable {
        /// Order and deferral records read.
        public var records = 0
        /// Records recomputed (those that carry their inputs).
        public var recomputed = 0
        /// Parent trades recomputed.
        public var parents = 0
        /// Records written before decisions carried their inputs.
        public var withoutInputs = 0
        /// Terms compared (band, plan trade, drift, candidates, split, deferral).
        public var terms = 0
        public var differences: [Difference] = []
    }

    let connection: Connection

    public init(connection: Connection) {
        self.connection = connection
    }

    /// What a record holds that recomputation reads or checks.
    struct Record: Decodable {
        var kind: String
        var parent: Int?
        var trade: ParentTrade?
        var drift: Double?
        var band: Double?
        var candidates: [RouteCost]?
        var split: [ChildPlan]?
        var reason: String?
        var bandInputs: RecomputeInputs.Band?
        var planInputs: RecomputeInputs.Plan?
        var routeInputs: RecomputeInputs.Route?
    }

    /// Which records to recompute: all, one batch's, or those made in [from, to) (both optional).
    public struct Scope: Sendable {
        public var batch: Int64?
        public var from: Date?
        public var to: Date?

        public init(batch: Int64? = nil, from: Date? = nil, to: Date? = nil) {
            self.batch = batch
            self.from = from
            self.to = to
        }
    }

    /// Each order and deferral record of `scope`, in id order, decoded in the words it was written
    /// in; `words` is what encodes a value in them (an `OrderSpelling` under `.orderSpelling`, or none).
    private func forEachRecord(
        _ scope: Scope,
        _ body: (_ id: Int64, _ batch: Int64?, _ record: Record, _ words: [CodingUserInfoKey: Any]) throws -> Void
    ) throws {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: text))
            }
            return date
        }
        _ = try connection.forEachRow(
            """
            SELECT id, batch_id, payload_text FROM decisions
            WHERE kind IN ('order', 'deferral') AND (\(scope.batch)::bigint IS NULL OR batch_id = \(scope.batch))
              AND (\(scope.from)::timestamptz IS NULL OR created_at >= \(scope.from))
              AND (\(scope.to)::timestamptz IS NULL OR created_at < \(scope.to))
            ORDER BY id
            """, fetchSize: 2000
        ) { row in
            let text: String = try row.decode("payload_text")
            let words: [CodingUserInfoKey: Any] =
                DecisionLog.orderSpelling(recordText: text).map { [.orderSpelling: $0] } ?? [:]
            decoder.userInfo = words
            let record = try decoder.decode(Record.self, from: Data(Self.decisionText(text).utf8))
            try body(try row.decode("id"), try row.decode("batch_id"), record, words)
        }
    }

    /// One parent's routing as its records hold it: the trade, the quotes the router was given
    /// (depths read back from their stored snapshots) and the router's other inputs.
    public struct RecordedRouting: Sendable {
        public var batch: Int64?
        public var parent: Int?
        public var trade: ParentTrade
        public var quotes: [VenueQuote]
        public var inputs: RecomputeInputs.Route
    }

    /// Each parent trade of `scope` that records carry the routing inputs of, once.
    public func forEachRouting(_ scope: Scope = Scope(), _ body: (RecordedRouting) throws -> Void) throws {
        var seen: Set<String> = []
        var depths: [Int64: DepthSnapshot?] = [:]
        try forEachRecord(scope) { _, batch, record, _ in
            guard let inputs = record.routeInputs, let trade = record.trade,
                seen.insert("\(batch ?? -1)/\(record.parent ?? -1)").inserted
            else { return }
            let quotes = try storedQuotes(inputs, &depths).quotes
            try body(RecordedRouting(batch: batch, parent: record.parent, trade: trade, quotes: quotes, inputs: inputs))
        }
    }

    /// Recomputes every order and deferral record of `scope`, in id order.
    public func run(_ scope: Scope = Scope()) throws -> Outcome {
        var outcome = Outcome()
        var seenParents: Set<String> = []
        var depths: [Int64: DepthSnapshot?] = [:]
        var priceCache: [String: (RecomputeInputs.Prices, Sigma)] = [:]
        try forEachRecord(scope) { id, batchID, record, words in
            outcome.records += 1
            guard let routeInputs = record.routeInputs, let trade = record.trade else {
                outcome.withoutInputs += 1
                return
            }
            outcome.recomputed += 1
            if seenParents.insert("\(batchID ?? -1)/\(record.parent ?? -1)").inserted { outcome.parents += 1 }
            func compare(_ term: String, _ recorded: (some Encodable)?, _ recomputed: (some Encodable)?) throws {
                outcome.terms += 1
                let a = try recorded.map { try DecisionLog.canonical($0, userInfo: words) } ?? "null"
                let b = try recomputed.map { try DecisionLog.canonical($0, userInfo: words) } ?? "null"
                if a != b {
                    outcome.differences.append(
                        Difference(
                            record: id, batch: batchID, parent: record.parent, term: term, recorded: a, recomputed: b))
                }
            }
            if let inputs = record.bandInputs {
                if let sigmaInputs = inputs.sigmaInputs {
                    let (prices, sigma) = try recomputedSigma(sigmaInputs, &priceCache)
                    try compare("σ prices (stored book tickers)", sigmaInputs.prices, prices)
                    try compare("σ", inputs.sigma, sigma.sigma)
                    try compare("σ source", sigmaInputs.source, sigma.source.rawValue)
                    try compare(
                        "σ per √s (router)", routeInputs.volatilityPerSqrtSecond,
                        RouteCostModel.volatilityPerSqrtSecond(annualised: inputs.sigma))
                }
                try compare("band", record.band, inputs.width)
            }
            if let inputs = record.planInputs {
                let plan = try? Rebalance.plan(
                    holdings: inputs.holdings, mids: inputs.mids, targets: inputs.targets, quote: inputs.quote,
                    bands: inputs.bands, sizeTo: Rebalance.SizeTo(rawValue: inputs.sizeTo) ?? .target,
                    tradable: Set(inputs.tradable))
                try compare("trade (rebalance plan)", trade, plan?.trades.first { $0.asset == trade.asset })
                try compare("drift", record.drift, plan?.drift[trade.asset])
            }
            let (quotes, referenced) = try storedQuotes(routeInputs, &depths)
            for (reference, depth) in referenced {
                let digest = try depth.map(RecomputeInputs.digest)
                try compare("depth \(reference.snapshot) (stored snapshot's SHA-256)", reference.sha256, digest)
            }
            let route = Router.route(
                trade, quotes: quotes, volatilityPerSqrtSecond: routeInputs.volatilityPerSqrtSecond,
                policy: routeInputs.policy, now: Date(timeIntervalSince1970: routeInputs.now))
            try compare("candidates", record.candidates, route.candidates)
            try compare("split", record.split, route.children)
            if record.kind == "deferral" { try compare("deferral", record.reason, route.deferred) }
        }
        return outcome
    }

    typealias Sigma = (sigma: Double, source: Bands.SigmaSource)

    /// σ redone from the stored prices a record names, through `Bands.sigma`'s rule, with the
    /// digest of those prices as read back; each distinct set of prices read once.
    private func recomputedSigma(
        _ inputs: RecomputeInputs.Sigma, _ cache: inout [String: (RecomputeInputs.Prices, Sigma)]
    ) throws -> (RecomputeInputs.Prices, Sigma) {
        let key = try DecisionLog.canonical(inputs)
        if let known = cache[key] { return known }
        let until = Date(timeIntervalSince1970: inputs.until)
        let hours = inputs.prices.windowHours
        let since = until.addingTimeInterval(-hours * 3600)
        let series =
            try MarketView.storedPrices(
                connection: connection, symbol: inputs.symbol, since: since, until: until,
                newestTicker: inputs.prices.newestTicker)[inputs.symbol] ?? []
        let prices = RecomputeInputs.Prices(series, windowHours: hours, since: since)
        let sigma = Bands.sigma(
            windowHours: inputs.windowHours, fallbackHours: inputs.fallbackWindowHours, prior: inputs.prior
        ) { window in
            Bands.meanVolatility(
                series.map { $0.prices.map { ($0.time, $0.price) } },
                since: until.addingTimeInterval(-window * 3600))
        }
        cache[key] = (prices, sigma)
        return (prices, sigma)
    }

    /// The quotes a routing was given, each referenced depth read back from its stored snapshot
    /// (once per snapshot), with the references and what was read.
    private func storedQuotes(_ inputs: RecomputeInputs.Route, _ cache: inout [Int64: DepthSnapshot?]) throws -> (
        quotes: [VenueQuote], referenced: [(RecomputeInputs.DepthReference, DepthSnapshot?)]
    ) {
        var quotes = inputs.quotes
        var referenced: [(RecomputeInputs.DepthReference, DepthSnapshot?)] = []
        for index in quotes.indices {
            guard let reference = inputs.depths[quotes[index].venue] else { continue }
            let depth = try stored(reference.snapshot, &cache)
            referenced.append((reference, depth))
            quotes[index].depth = depth
        }
        return (quotes, referenced)
    }

    /// A stored depth snapshot by id, read once.
    private func stored(_ id: Int64, _ cache: inout [Int64: DepthSnapshot?]) throws -> DepthSnapshot? {
        if let known = cache[id] { return known }
        let depth = try MarketView.storedDepth(id: id, connection: connection)
        cache[id] = depth
        return depth
    }

    /// The decision inside a record's text: the envelope's `record` member, or the whole text of a
    /// record written before the envelope.
    static func decisionText(_ text: String) -> String {
        guard DecisionLog.Header(recordText: text) != nil, let start = text.range(of: ",\"record\":") else {
            return text
        }
        return String(text[start.upperBound...].dropLast())
    }
}
