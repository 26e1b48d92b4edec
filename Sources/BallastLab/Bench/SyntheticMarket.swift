import BallastCore
import BallastKit
import Foundation
import Postgres

/// The market `ballast bench propose` decides against, written straight into
/// PostgreSQL with COPY: three venues listing five assets against USDT with
/// realistic ticks, steps and minimum notionals; per venue and symbol a latest
/// book ticker over a random walk of earlier ones (so σ can be measured), a
/// ten-level depth snapshot consistent with that ticker, and an hour of HTTP
/// attempts per venue (errors, timeouts, latency, weight used) so venue health
/// differs between venues. Deterministic for a given seed.
///
/// Prices are whole ticks and quantities whole steps (exact decimals built
/// from integers); `Double` only draws the random shocks.
struct SyntheticMarket {
    /// One asset listed against USDT at every venue.
    struct Listing {
        var base: String
        /// The latest mid at the first venue, in ticks.
        var midTicks: Int128
        /// Tick = 10⁻ᵗⁱᶜᵏˢᶜᵃˡᵉ.
        var tickScale: Int
        /// Step = 10⁻ˢᵗᵉᵖˢᶜᵃˡᵉ.
        var stepScale: Int
        /// Ticks between depth levels.
        var levelGapTicks: Int128
        /// Quantity at the touch, in steps (deeper levels hold more).
        var touchSteps: Int128
        /// Annualised σ of the random walk the earlier tickers follow.
        var sigma: Double

        var symbol: String { TradingPair.symbol(base: base, quote: SyntheticMarket.quote) }
        func price(_ ticks: Int128) -> ExactDecimal { ExactDecimal(significand: ticks, scale: tickScale) }
        func quantity(_ steps: Int128) -> ExactDecimal { ExactDecimal(significand: steps, scale: stepScale) }
        /// The latest mid as a decimal.
        var mid: ExactDecimal { price(midTicks) }
    }

    /// One venue: its fees, how its books differ, and how healthy it has been.
    struct Venue {
        var id: String
        var makerFee: ExactDecimal
        var takerFee: ExactDecimal
        /// Spread and offset of its mid from the first venue's, in tenths of a bp.
        var spreadTenthBps: Int128
        var offsetTenthBps: Int128
        /// Shares of attempts that failed or timed out, per mille.
        var errorsPerMille: UInt64
        var timeoutsPerMille: UInt64
        /// Round-trip latency range in ms, and request weight used per minute (of 6000).
        var latencyMs: ClosedRange<Int>
        var weightUsed: Int
    }

    static let quote = "USDT"
    static let weightLimit = 6000

    static let listings = [
        Listing(
            base: "BTC", midTicks: 4_325_012, tickScale: 2, stepScale: 5, levelGapTicks: 150, touchSteps: 45_000,
            sigma: 0.55),
        Listing(
            base: "ETH", midTicks: 231_045, tickScale: 2, stepScale: 4, levelGapTicks: 10, touchSteps: 80_000,
            sigma: 0.65),
        Listing(
            base: "SOL", midTicks: 9_876, tickScale: 2, stepScale: 3, levelGapTicks: 1, touchSteps: 220_000,
            sigma: 0.85),
        Listing(
            base: "BNB", midTicks: 31_240, tickScale: 2, stepScale: 3, levelGapTicks: 2, touchSteps: 70_000,
            sigma: 0.50),
        Listing(
            base: "XRP", midTicks: 6_123, tickScale: 4, stepScale: 1, levelGapTicks: 1, touchSteps: 350_000,
            sigma: 0.80),
    ]

    static let venues = [
        Venue(
            id: "v1", makerFee: ExactDecimal(significand: 10, scale: 4),
            takerFee: ExactDecimal(significand: 10, scale: 4),
            spreadTenthBps: 4, offsetTenthBps: 0, errorsPerMille: 10, timeoutsPerMille: 3, latencyMs: 20...70,
            weightUsed: 1500),
        Venue(
            id: "v2", makerFee: ExactDecimal(significand: 2, scale: 4),
            takerFee: ExactDecimal(significand: 6, scale: 4),
            spreadTenthBps: 10, offsetTenthBps: 8, errorsPerMille: 25, timeoutsPerMille: 15, latencyMs: 40...260,
            weightUsed: 4200),
        Venue(
            id: "v3", makerFee: .zero, takerFee: ExactDecimal(significand: 75, scale: 5), spreadTenthBps: 20,
            offsetTenthBps: -6, errorsPerMille: 2, timeoutsPerMille: 0, latencyMs: 90...180, weightUsed: 600),
    ]

    /// Earlier book tickers per venue and symbol, `tickerInterval` apart.
    static let earlierTickers = 12
    static let tickerInterval: TimeInterval = 300
    static let depthLevels = 10
    /// HTTP attempts per venue over the last hour.
    static let attemptsPerVenue = 360

    /// Rows written, by table.
    struct Counts {
        var symbols = 0
        var bookTickers = 0
        var depthSnapshots = 0
        var httpAttempts = 0
    }

    let connection: Connection

    /// Writes venues, symbols, book tickers, depth and HTTP attempts, all fresh at `now`.
    func generate(now: Date, rng: inout SplitMixRandom) throws -> Counts {
        var counts = Counts()
        try connection.copyIn(
            "COPY venues (id, dialect, base_url, request_weight_per_minute, orders_per_10s) FROM STDIN"
        ) { w in
            for venue in Self.venues {
                try w.field(venue.id)
                try w.field("binance-spot")
                try w.field("http://127.0.0.1:9/" + venue.id)
                try w.field(Self.weightLimit)
                try w.field(100)
                try w.endRow()
            }
        }
        counts.symbols = try writeSymbols()
        counts.bookTickers = try writeTickers(now: now, rng: &rng)
        counts.depthSnapshots = try writeDepth(now: now, rng: &rng)
        counts.httpAttempts = try writeAttempts(now: now, rng: &rng)
        for table in ["venues", "symbols", "book_tickers", "depth_snapshots", "http_attempts"] {
            try connection.execute("ANALYZE \(identifier: table)")
        }
        return counts
    }

    /// The best bid and ask (in ticks) at `venue` around a first-venue mid of `midTicks`.
    static func touch(_ listing: Listing, venue: Venue, midTicks: Int128) -> (bid: Int128, ask: Int128) {
        let mid = midTicks + midTicks * venue.offsetTenthBps / 100_000
        let spread = max(1, midTicks * venue.spreadTenthBps / 100_000)
        let bid = mid - spread / 2
        return (bid, bid + spread)
    }

    private func writeSymbols() throws -> Int {
        try connection.copyIn(
            """
            COPY symbols (venue_id, symbol, base_asset, quote_asset, status, tick_size, min_price, max_price,
                step_size, min_qty, max_qty, min_notional) FROM STDIN
            """
        ) { w in
            for venue in Self.venues {
                for listing in Self.listings {
                    try w.field(venue.id)
                    try w.field(listing.symbol)
                    try w.field(listing.base)
                    try w.field(Self.quote)
                    try w.field("TRADING")
                    try w.field(listing.price(1).description)
                    try w.field(listing.price(1).description)
                    try w.field("1000000")
                    try w.field(listing.quantity(1).description)
                    try w.field(listing.quantity(1).description)
                    try w.field("9000000")
                    try w.field("5")
                    try w.endRow()
                }
            }
        }
    }

    /// The earlier tickers follow one random walk per symbol (each venue at its own offset and spread);
    /// the latest ticker sits on the depth snapshot's touch.
    private func writeTickers(now: Date, rng: inout SplitMixRandom) throws -> Int {
        var walks: [[Int128]] = []
        for listing in Self.listings {
            let stepSigma = listing.sigma * (Self.tickerInterval / (365.25 * 86_400)).squareRoot()
            var mids = [listing.midTicks]
            for _ in 0..<Self.earlierTickers {
                let shock = Double(mids.last!) * stepSigma * rng.nextGaussian()
                mids.append(mids.last! + Int128(shock.rounded()))
            }
            walks.append(mids)
        }
        return try connection.copyIn(
            "COPY book_tickers (venue_id, symbol, bid_price, bid_qty, ask_price, ask_qty, observed_at) FROM STDIN"
        ) { w in
            for age in stride(from: Self.earlierTickers, through: 0, by: -1) {
                let observed = now.addingTimeInterval(-2 - Double(age) * Self.tickerInterval)
                for venue in Self.venues {
                    for (l, listing) in Self.listings.enumerated() {
                        let (bid, ask) = Self.touch(listing, venue: venue, midTicks: walks[l][age])
                        try w.field(venue.id)
                        try w.field(listing.symbol)
                        try w.field(listing.price(bid).description)
                        try w.field(listing.quantity(Self.levelSteps(listing, level: 0)).description)
                        try w.field(listing.price(ask).description)
                        try w.field(listing.quantity(Self.levelSteps(listing, level: 0)).description)
                        try w.field(observed)
                        try w.endRow()
                    }
                }
            }
        }
    }

    /// Quantity at depth level `level` in steps, before the per-level jitter (deeper levels hold more).
    static func levelSteps(_ listing: Listing, level: Int) -> Int128 {
        listing.touchSteps * Int128(10 + 3 * level) / 10
    }

    private func writeDepth(now: Date, rng: inout SplitMixRandom) throws -> Int {
        try connection.copyIn(
            """
            COPY depth_snapshots (venue_id, symbol, last_update_id, bid_prices, bid_qtys, ask_prices, ask_qtys,
                observed_at) FROM STDIN
            """
        ) { w in
            for (v, venue) in Self.venues.enumerated() {
                for (l, listing) in Self.listings.enumerated() {
                    let (bid, ask) = Self.touch(listing, venue: venue, midTicks: listing.midTicks)
                    var sides: [[BookLevel]] = [[], []]
                    for level in 0..<Self.depthLevels {
                        let gap = listing.levelGapTicks * Int128(level)
                        for (s, price) in [bid - gap, ask + gap].enumerated() {
                            // The touch matches the ticker; deeper levels vary by ±30 %.
                            let jitter = level == 0 ? 100 : Int128(70 + rng.next() % 61)
                            let steps = Self.levelSteps(listing, level: level) * jitter / 100
                            sides[s].append(BookLevel(price: listing.price(price), qty: listing.quantity(steps)))
                        }
                    }
                    try w.field(venue.id)
                    try w.field(listing.symbol)
                    try w.field(1_000_000 * (v + 1) + l)
                    try w.field(sides[0].map(\.price))
                    try w.field(sides[0].map(\.qty))
                    try w.field(sides[1].map(\.price))
                    try w.field(sides[1].map(\.qty))
                    try w.field(now.addingTimeInterval(-1))
                    try w.endRow()
                }
            }
        }
    }

    /// An hour of signed and public calls per venue, one every 10 s, the last ones inside the last minute.
    private func writeAttempts(now: Date, rng: inout SplitMixRandom) throws -> Int {
        let endpoints: [(method: String, path: String, weight: Int)] = [
            ("POST", "/api/v3/order", 1), ("POST", "/api/v3/order", 1), ("GET", "/api/v3/ticker/bookTicker", 2),
            ("GET", "/api/v3/depth", 5), ("GET", "/api/v3/account", 20), ("GET", "/api/v3/myTrades", 20),
            ("GET", "/api/v3/openOrders", 6), ("GET", "/api/v3/order", 4), ("POST", "/api/v3/order", 1),
            ("DELETE", "/api/v3/order", 1),
        ]
        return try connection.copyIn(
            """
            COPY http_attempts (venue_id, method, endpoint, weight, started_at, first_byte_ms, total_ms, http_status,
                outcome, used_weight_1m) FROM STDIN
            """
        ) { w in
            for venue in Self.venues {
                for i in 0..<Self.attemptsPerVenue {
                    let endpoint = endpoints[i % endpoints.count]
                    let draw = rng.next() % 1000
                    let latency =
                        Double(venue.latencyMs.lowerBound) + Double(rng.next() % 1000) / 1000
                        * Double(venue.latencyMs.count - 1)
                    let outcome: (name: String, status: Int?, ms: Double)
                    if draw < venue.timeoutsPerMille {
                        outcome = ("timeout", nil, 10_000)
                    } else if draw < venue.timeoutsPerMille + venue.errorsPerMille {
                        outcome = draw % 2 == 0 ? ("server_error", 503, latency) : ("rate_limited", 429, latency)
                    } else {
                        outcome = ("ok", 200, latency)
                    }
                    let used = venue.weightUsed * Int(90 + rng.next() % 21) / 100
                    try w.field(venue.id)
                    try w.field(endpoint.method)
                    try w.field(endpoint.path)
                    try w.field(endpoint.weight)
                    try w.field(now.addingTimeInterval(-3590 + Double(i) * 10 - Double(rng.next() % 5)))
                    try w.field(outcome.status == nil ? nil : outcome.ms * 0.8)
                    try w.field(outcome.ms)
                    try w.field(outcome.status)
                    try w.field(outcome.name)
                    try w.field(i == Self.attemptsPerVenue - 1 ? venue.weightUsed : used)
                    try w.endRow()
                }
            }
        }
    }
}

extension SplitMixRandom {
    /// A standard normal draw (Box–Muller), for random walks.
    mutating func nextGaussian() -> Double {
        let u1 = (Double(next() >> 11) + 0.5) / 9_007_199_254_740_992
        let u2 = Double(next() >> 11) / 9_007_199_254_740_992
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
