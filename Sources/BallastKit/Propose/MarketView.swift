package import BallastCore
package import Foundation
import Postgres

/// What the proposal step sees of the markets, loaded once from stored
/// snapshots for every portfolio of a run: the latest book ticker and depth per
/// venue and symbol, each venue's rules, fees and measured health, every
/// account's latest balances, and each symbol's realised volatility.
package struct MarketView: Sendable {
    package struct Book {
        package var ticker: BookTicker
        package var tickerId: Int64
        package var observedAt: Date
        package var depth: DepthSnapshot?
        package var depthId: Int64?
        /// When the depth snapshot was taken (each observation carries its own time).
        package var depthObservedAt: Date?
        /// SHA-256 of the depth's canonical JSON, when it was loaded from a stored (append-only)
        /// snapshot: a decision record names the snapshot by id and digest instead of copying it.
        package var depthDigest: String?

        package init(
            ticker: BookTicker, tickerId: Int64, observedAt: Date, depth: DepthSnapshot? = nil, depthId: Int64? = nil,
            depthObservedAt: Date? = nil
        ) {
            self.ticker = ticker
            self.tickerId = tickerId
            self.observedAt = observedAt
            self.depth = depth
            self.depthId = depthId
            self.depthObservedAt = depthObservedAt
        }
    }

    package struct Holdings {
        package var snapshotId: Int64
        package var takenAt: Date
        package var balances: [String: Balance]

        package init(snapshotId: Int64, takenAt: Date, balances: [String: Balance]) {
            self.snapshotId = snapshotId
            self.takenAt = takenAt
            self.balances = balances
        }
    }

    /// An empty view, for a caller that fills it from what it observed itself (a replay's policy).
    package init() {}

    /// Latest book per venue, then symbol.
    package var books: [String: [String: Book]] = [:]
    package var rules: [String: [String: SymbolRules]] = [:]
    /// Fee rates per account: (maker, taker).
    package var fees: [String: (ExactDecimal, ExactDecimal)] = [:]
    package var accountVenue: [String: String] = [:]
    package var health: [String: VenueHealth] = [:]
    package var holdings: [String: Holdings] = [:]
    /// Annualised σ per symbol (mids over the window, all venues), when enough prices were stored.
    package var volatility: [Double: [String: Double]] = [:]
    /// Per window, then symbol, the stored prices σ was computed from (for the decision record).
    package var volatilityPrices: [Double: [String: RecomputeInputs.Prices]] = [:]

    /// The window σ falls back to when a portfolio's own window holds too few prices.
    package static let fallbackWindowHours = 168.0

    /// σ of `symbol` over `hours` (annualised), when enough prices were stored in that window.
    package func sigma(_ symbol: String, windowHours hours: Double) -> Double? { volatility[hours]?[symbol] }
    /// What Ballast's own passive legs cost per venue, then symbol, over the measuring window.
    package var measuredPassive: [String: [String: MeasuredRouteCost]] = [:]
    /// Per portfolio, its latest batch that execute has started and not finished: a new proposal
    /// for the portfolio waits until it is (its orders are not in the balances yet).
    var inFlight: [String: (batch: Int64, status: String)] = [:]
    /// Per account whose latest balances predate one of its stored fills: that fill's time. Its
    /// balances do not show the trade yet (pull again before proposing from them).
    var staleBalances: [String: Date] = [:]

    /// Taker fee assumed for an account the venue did not report rates for (Binance's default).
    static let defaultFee = ExactDecimal(significand: 1, scale: 3)

    /// The window venue health is measured over.
    static let healthWindow: TimeInterval = 3600

    /// The stored books of `symbol` at those of `venues` that list it, in venue order.
    func books(of symbol: String, at venues: [String]) -> [(venue: String, book: Book)] {
        venues.compactMap { venue in
            guard rules[venue]?[symbol] != nil, let book = books[venue]?[symbol] else { return nil }
            return (venue, book)
        }
    }

    /// The mean of the books' mids (the decision mid m_dec), to 12 places.
    static func averageMid(_ books: [Book]) -> ExactDecimal {
        books.map(\.ticker.mid).reduce(ExactDecimal.zero, +).divided(by: ExactDecimal(books.count), scale: 12)!
    }

    /// Loads the view, with σ over each of `volatilityWindows` (hours) and over the fallback window.
    static func load(connection: Connection, volatilityWindows: Set<Double>, now: Date) throws -> MarketView {
        var view = MarketView()
        for row in try connection.query(
            """
            SELECT DISTINCT ON (venue_id, symbol) id, venue_id, symbol, bid_price, bid_qty, ask_price, ask_qty, observed_at
            FROM book_tickers ORDER BY venue_id, symbol, observed_at DESC, id DESC
            """)
        {
            let symbol: String = try row.decode("symbol")
            let ticker = BookTicker(
                symbol: symbol, bidPrice: try row.decode("bid_price"), bidQty: try row.decode("bid_qty"),
                askPrice: try row.decode("ask_price"), askQty: try row.decode("ask_qty"))
            view.books[try row.decode("venue_id"), default: [:]][symbol] = Book(
                ticker: ticker, tickerId: try row.decode("id"), observedAt: try row.decode("observed_at"))
        }
        try loadDepth(into: &view, connection: connection)
        for row in try connection.query("SELECT * FROM symbols") {
            let venue: String = try row.decode("venue_id")
            let rules = try SymbolRules(row: row)
            view.rules[venue, default: [:]][rules.pair.symbol] = rules
        }
        for row in try connection.query("SELECT id, venue_id, maker_fee, taker_fee FROM accounts") {
            let id: String = try row.decode("id")
            view.accountVenue[id] = try row.decode("venue_id")
            view.fees[id] = (
                try row.decode("maker_fee", as: ExactDecimal?.self) ?? defaultFee,
                try row.decode("taker_fee", as: ExactDecimal?.self) ?? defaultFee
            )
        }
        for row in try connection.query(
            """
            SELECT DISTINCT ON (b.portfolio_id) b.portfolio_id, b.id, b.status FROM batches b
            WHERE b.status = 'executing'
               OR (b.status = 'deferred'
                   AND EXISTS (SELECT 1 FROM orders o WHERE o.batch_id = b.id AND o.state NOT IN ('proposed', 'approved')))
            ORDER BY b.portfolio_id, b.id DESC
            """)
        {
            view.inFlight[try row.decode("portfolio_id")] = (try row.decode("id"), try row.decode("status"))
        }
        try loadHoldings(into: &view, connection: connection)
        try loadHealth(into: &view, connection: connection, now: now)
        try loadVolatility(
            into: &view, connection: connection, windows: volatilityWindows.union([fallbackWindowHours]), now: now)
        try loadMeasuredPassive(into: &view, connection: connection, now: now)
        return view
    }

    private static func loadDepth(into view: inout MarketView, connection: Connection) throws {
        var levels: [Int64: (bids: [BookLevel], asks: [BookLevel])] = [:]
        var latest: [Int64: (venue: String, symbol: String, updateId: Int64, observedAt: Date)] = [:]
        for row in try connection.query(
            """
            SELECT d.id, d.venue_id, d.symbol, d.last_update_id, d.observed_at, s.side, s.price, s.qty FROM (
                SELECT DISTINCT ON (venue_id, symbol) * FROM depth_snapshots
                ORDER BY venue_id, symbol, observed_at DESC, id DESC) d
            CROSS JOIN LATERAL (
                SELECT 'bid' AS side, p AS price, q AS qty, i FROM unnest(d.bid_prices, d.bid_qtys) WITH ORDINALITY AS u(p, q, i)
                UNION ALL
                SELECT 'ask', p, q, i FROM unnest(d.ask_prices, d.ask_qtys) WITH ORDINALITY AS u(p, q, i)) s
            ORDER BY d.id, s.side, s.i
            """)
        {
            let id: Int64 = try row.decode("id")
            latest[id] = (
                try row.decode("venue_id"), try row.decode("symbol"), try row.decode("last_update_id"),
                try row.decode("observed_at")
            )
            let level = BookLevel(price: try row.decode("price"), qty: try row.decode("qty"))
            if try row.decode("side", as: String.self) == "bid" {
                levels[id, default: ([], [])].bids.append(level)
            } else {
                levels[id, default: ([], [])].asks.append(level)
            }
        }
        for (id, key) in latest {
            guard view.books[key.venue]?[key.symbol] != nil, let sides = levels[id] else { continue }
            let depth = DepthSnapshot(
                symbol: key.symbol, lastUpdateId: key.updateId, bids: sides.bids, asks: sides.asks)
            view.books[key.venue]?[key.symbol]?.depth = depth
            view.books[key.venue]?[key.symbol]?.depthDigest = try RecomputeInputs.digest(depth)
            view.books[key.venue]?[key.symbol]?.depthId = id
            view.books[key.venue]?[key.symbol]?.depthObservedAt = key.observedAt
        }
    }

    /// One stored depth snapshot by id, as `loadDepth` builds it (nil when there is none).
    static func storedDepth(id: Int64, connection: Connection) throws -> DepthSnapshot? {
        var bids: [BookLevel] = []
        var asks: [BookLevel] = []
        var header: (symbol: String, updateId: Int64)?
        for row in try connection.query(
            """
            SELECT d.symbol, d.last_update_id, s.side, s.price, s.qty FROM depth_snapshots d
            CROSS JOIN LATERAL (
                SELECT 'bid' AS side, p AS price, q AS qty, i FROM unnest(d.bid_prices, d.bid_qtys) WITH ORDINALITY AS u(p, q, i)
                UNION ALL
                SELECT 'ask', p, q, i FROM unnest(d.ask_prices, d.ask_qtys) WITH ORDINALITY AS u(p, q, i)) s
            WHERE d.id = \(id)
            ORDER BY s.side, s.i
            """)
        {
            header = (try row.decode("symbol"), try row.decode("last_update_id"))
            let level = BookLevel(price: try row.decode("price"), qty: try row.decode("qty"))
            if try row.decode("side", as: String.self) == "bid" { bids.append(level) } else { asks.append(level) }
        }
        return header.map { DepthSnapshot(symbol: $0.symbol, lastUpdateId: $0.updateId, bids: bids, asks: asks) }
    }

    private static func loadHoldings(into view: inout MarketView, connection: Connection) throws {
        for row in try connection.query(
            """
            SELECT s.id, s.account_id, s.taken_at, b.asset, b.free, b.locked FROM (
                SELECT DISTINCT ON (account_id) id, account_id, taken_at FROM balance_snapshots
                ORDER BY account_id, taken_at DESC, id DESC) s
            JOIN balances b ON b.snapshot_id = s.id
            """)
        {
            let account: String = try row.decode("account_id")
            if view.holdings[account] == nil {
                view.holdings[account] = Holdings(
                    snapshotId: try row.decode("id"), takenAt: try row.decode("taken_at"), balances: [:])
            }
            let asset: String = try row.decode("asset")
            view.holdings[account]?.balances[asset] = Balance(
                asset: asset, free: try row.decode("free"), locked: try row.decode("locked"))
        }
        // The snapshots just read, against their accounts' fills. Both times are the venue's clock:
        // the account's last balance update it reported, and the fill's.
        for row in try connection.query(
            """
            SELECT s.account_id, max(f.executed_at) AS last_fill
            FROM balance_snapshots s
            JOIN fills f ON f.account_id = s.account_id AND f.executed_at > coalesce(s.venue_time, s.taken_at)
            WHERE s.id = ANY(\(view.holdings.values.map(\.snapshotId))::bigint[])
            GROUP BY s.account_id
            """)
        {
            view.staleBalances[try row.decode("account_id")] = try row.decode("last_fill")
        }
    }

    /// Venue health over the last hour of attempts (DESIGN.md "Route cost": error/timeout
    /// rate, weight used vs. limit, bans). Ack latency is order placement's p95, or
    /// every signed call's when no order was placed yet.
    private static func loadHealth(into view: inout MarketView, connection: Connection, now: Date) throws {
        let since = now.addingTimeInterval(-healthWindow)
        for row in try connection.query(
            """
            SELECT v.id, v.request_weight_per_minute AS weight_limit,
                   h.attempts, h.errors, h.timeouts, h.p95_ack, h.p95_all, w.used, b.until
            FROM venues v
            LEFT JOIN LATERAL (
                SELECT count(*) AS attempts,
                       count(*) FILTER (WHERE outcome IN ('server_error', 'transport_error', 'malformed',
                                                          'rate_limited', 'banned')) AS errors,
                       count(*) FILTER (WHERE outcome = 'timeout') AS timeouts,
                       percentile_cont(0.95) WITHIN GROUP (ORDER BY total_ms)
                           FILTER (WHERE method = 'POST' AND endpoint = '/api/v3/order') AS p95_ack,
                       percentile_cont(0.95) WITHIN GROUP (ORDER BY total_ms) AS p95_all
                FROM http_attempts a WHERE a.venue_id = v.id AND a.started_at >= \(since)) h ON true
            LEFT JOIN LATERAL (
                SELECT used_weight_1m AS used FROM http_attempts a
                WHERE a.venue_id = v.id AND a.used_weight_1m IS NOT NULL AND a.started_at >= \(now.addingTimeInterval(-60))
                ORDER BY a.started_at DESC LIMIT 1) w ON true
            LEFT JOIN LATERAL (
                SELECT max(greatest(banned_until, backoff_until)) AS until FROM rate_budgets r
                WHERE r.venue_id = v.id) b ON true
            """)
        {
            let attempts = try row.decode("attempts", as: Int?.self) ?? 0
            let limit = try row.decode("weight_limit", as: Int?.self) ?? 0
            let used = try row.decode("used", as: Int?.self) ?? 0
            let until = try row.decode("until", as: Date?.self)
            let ackMs = try row.decode("p95_ack", as: Double?.self) ?? row.decode("p95_all", as: Double?.self) ?? 0
            let share = { (n: Int) in attempts > 0 ? Double(n) / Double(attempts) : 0 }
            view.health[try row.decode("id")] = VenueHealth(
                p95AckSeconds: ackMs / 1000, errorRate: share(try row.decode("errors", as: Int?.self) ?? 0),
                timeoutRate: share(try row.decode("timeouts", as: Int?.self) ?? 0),
                weightUsed: limit > 0 ? Double(used) / Double(limit) : 0,
                bannedUntil: until.flatMap { $0 > now ? $0 : nil }, attempts: attempts)
        }
    }

    /// The window passive legs are measured over.
    static let measuringWindow: TimeInterval = 30 * 86_400

    /// What Ballast's passive legs cost per venue and symbol (`MeasuredRouteCost`): each leg whose
    /// first order rested, over all its generations, from that first order's arrival mid, fees
    /// excluded; legs that filled nothing carry no weight. The database keeps no mid for a leg's
    /// end, so what a leg left unfilled is not costed here (a replay costs it).
    private static func loadMeasuredPassive(into view: inout MarketView, connection: Connection, now: Date) throws {
        for row in try connection.query(
            """
            SELECT venue_id, symbol, count(*)::int AS legs,
                   (sum(sign * (quote - m0 * qty)) / sum(m0 * qty) * 10000)::float8 AS bps
            FROM (SELECT min(venue_id) AS venue_id, min(symbol) AS symbol,
                         CASE WHEN min(side) = 'buy' THEN 1 ELSE -1 END AS sign,
                         (array_agg(arrival_mid ORDER BY generation))[1] AS m0,
                         (array_agg(style ORDER BY generation))[1] AS first_style,
                         sum(cumulative_quote) AS quote, sum(executed_qty) AS qty
                  FROM orders WHERE created_at >= \(now.addingTimeInterval(-measuringWindow)) AND created_at <= \(now)
                  GROUP BY batch_id, leg) AS legs
            WHERE first_style = 'passive' AND m0 > 0 AND qty > 0
            GROUP BY venue_id, symbol
            """)
        {
            view.measuredPassive[try row.decode("venue_id"), default: [:]][try row.decode("symbol")] =
                MeasuredRouteCost(legs: try row.decode("legs"), slippageBps: try row.decode("bps"))
        }
    }

    /// σ per window and symbol (`Bands.meanVolatility` over each venue's mids), and the stored prices
    /// each was computed from (`volatilityPrices`). The prices are read once, over the longest window.
    private static func loadVolatility(
        into view: inout MarketView, connection: Connection, windows: Set<Double>, now: Date
    ) throws {
        guard let longest = windows.max() else { return }
        let series = try storedPrices(
            connection: connection, symbol: nil, since: now.addingTimeInterval(-longest * 3600), until: now)
        for hours in windows {
            let since = now.addingTimeInterval(-hours * 3600)
            for (symbol, venues) in series {
                // A record names the prices of the longer of its window and the fallback window.
                if hours >= fallbackWindowHours {
                    view.volatilityPrices[hours, default: [:]][symbol] = RecomputeInputs.Prices(
                        venues, windowHours: hours, since: since)
                }
                if let sigma = Bands.meanVolatility(venues.map { $0.prices.map { ($0.time, $0.price) } }, since: since)
                {
                    view.volatility[hours, default: [:]][symbol] = sigma
                }
            }
        }
    }

    /// One symbol's stored mids, per venue in venue order, each venue's in time order.
    package typealias PriceSeries = [(venue: String, prices: [(id: Int64, time: Date, price: Double)])]

    /// The stored book tickers' mids observed in [`since`, `until`] (of `symbol` only, when given; with
    /// ids up to `newestTicker`, when given), per symbol: what σ is computed from. Book tickers are
    /// append-only, so a decision's prices can be read back.
    static func storedPrices(
        connection: Connection, symbol: String?, since: Date, until: Date, newestTicker: Int64? = nil
    ) throws -> [String: PriceSeries] {
        var series: [String: PriceSeries] = [:]
        for row in try connection.query(
            """
            SELECT id, venue_id, symbol, observed_at, ((bid_price + ask_price) / 2)::float8 AS mid FROM book_tickers
            WHERE observed_at >= \(since) AND observed_at <= \(until)
              AND (\(symbol)::text IS NULL OR symbol = \(symbol))
              AND (\(newestTicker)::bigint IS NULL OR id <= \(newestTicker))
            ORDER BY symbol, venue_id, observed_at, id
            """)
        {
            let symbol: String = try row.decode("symbol")
            let venue: String = try row.decode("venue_id")
            let price = (
                id: try row.decode("id", as: Int64.self), time: try row.decode("observed_at", as: Date.self),
                price: try row.decode("mid", as: Double.self)
            )
            if series[symbol]?.last?.venue == venue {
                series[symbol]![series[symbol]!.count - 1].prices.append(price)
            } else {
                series[symbol, default: []].append((venue, [price]))
            }
        }
        // Venue order is Swift's string order, whatever the database's collation.
        return series.mapValues { $0.sorted { $0.venue < $1.venue } }
    }
}
