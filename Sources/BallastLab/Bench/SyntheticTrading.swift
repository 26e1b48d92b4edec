import BallastCore
import BallastKit
public import Foundation
public import Postgres

/// Generates a realistic, deterministic trading history straight into
/// PostgreSQL with COPY: venues, accounts, a portfolio, batches, orders with
/// decision records and attempts, fills over many routes, and HTTP attempts.
/// Used by `ballast bench report` and by report tests.
public struct SyntheticTrading {
    public struct Summary: Sendable {
        public var runID: String
        public var from: Date
        public var to: Date
        public var orders: Int
        public var fills: Int
        public var routes: Int
    }

    static let venues = ["sim-a", "sim-b", "sim-c"]
    static let symbols: [(String, String, Int128)] = [
        ("BTCUSDT", "BTC", 4_300_000), ("ETHUSDT", "ETH", 230_000), ("SOLUSDT", "SOL", 14_000), ("XRPUSDT", "XRP", 60),
    ]
    static let styles = ["passive", "marketable-limit", "chase"]

    let connection: Connection

    public init(connection: Connection) { self.connection = connection }

    /// Writes `fills` fills (about `fillsPerOrder` per order) starting at `start`, one every 50 ms.
    public func generate(fills: Int, fillsPerOrder: Int = 20, start: Date = Date(timeIntervalSince1970: 1_767_225_600))
        throws -> Summary
    {
        var rng = SplitMixRandom(seed: 0xBA11A57)
        let runID = "bench-" + JobRun.makeID(at: start)
        let orders = max(1, fills / max(1, fillsPerOrder))
        let end = start.addingTimeInterval(Double(fills) * 0.05 + 60)
        try connection.withTransaction {
            try connection.execute(
                "INSERT INTO job_runs (id, command, started_at, finished_at, status) VALUES (\(runID), 'bench', \(start), \(end), 'succeeded')"
            )
            for venue in Self.venues {
                try connection.execute(
                    "INSERT INTO venues (id, dialect, base_url) VALUES (\(venue), 'binance-spot', \("http://127.0.0.1/" + venue)) ON CONFLICT DO NOTHING"
                )
                try connection.execute(
                    "INSERT INTO accounts (id, venue_id, key_fingerprint) VALUES (\(venue + "-main"), \(venue), 'bench') ON CONFLICT DO NOTHING"
                )
            }
            try connection.execute(
                "INSERT INTO portfolios (id, quote_asset) VALUES ('bench', 'USDT') ON CONFLICT DO NOTHING")
            try connection.execute(
                "INSERT INTO batches (id, portfolio_id, run_id, status, created_at) VALUES (1, 'bench', \(runID), 'completed', \(start)) ON CONFLICT DO NOTHING"
            )
        }
        // Orders (one route each), then their fills.
        var routeOf: [(venue: String, symbol: Int, style: String, side: Side)] = []
        routeOf.reserveCapacity(orders)
        try connection.copyIn(
            """
            COPY orders (id, batch_id, leg, generation, intent_key, client_order_id, portfolio_id, account_id, venue_id,
                symbol, side, style, order_type, time_in_force, price, qty, arrival_mid, decision_mid, state,
                venue_order_id, executed_qty, cumulative_quote, created_at, updated_at) FROM STDIN
            """
        ) { w in
            for i in 0..<orders {
                let venue = Self.venues[Int(rng.next() % 3)]
                let symbol = Int(rng.next() % UInt64(Self.symbols.count))
                let style = Self.styles[Int(rng.next() % 3)]
                let side: Side = rng.next() % 2 == 0 ? .buy : .sell
                routeOf.append((venue, symbol, style, side))
                let mid = ExactDecimal(significand: Self.symbols[symbol].2 * 100, scale: 2)
                let created = start.addingTimeInterval(Double(i * fillsPerOrder) * 0.05)
                try w.field(i + 1)
                try w.field(1)
                try w.field(i)
                try w.field(0)
                try w.field("bench-intent-\(i + 1)")
                try w.field("bench-\(i + 1)")
                try w.field("bench")
                try w.field(venue + "-main")
                try w.field(venue)
                try w.field(Self.symbols[symbol].0)
                try w.field(side.rawValue)
                try w.field(style)
                try w.field((style == "passive" ? OrderType.postOnly : .limit).rawValue)
                try w.field(style == "passive" ? nil : TimeInForce.gtc.rawValue)
                try w.field(mid.description)
                try w.field("\(fillsPerOrder).00000000")
                try w.field(mid.description)
                try w.field(mid.description)
                try w.field("filled")
                try w.field(i + 1)
                try w.field("\(fillsPerOrder).00000000")
                try w.field((mid * ExactDecimal(fillsPerOrder)).description)
                try w.field(created)
                try w.field(created)
                try w.endRow()
            }
        }
        try connection.execute("SELECT setval('orders_id_seq', \(orders))")
        var tradeIDs = [Int](repeating: 0, count: Self.venues.count * Self.symbols.count)
        try connection.copyIn(
            """
            COPY fills (venue_id, account_id, symbol, trade_id, order_id, side, price, qty, quote_qty, commission,
                commission_asset, is_maker, executed_at, run_id) FROM STDIN
            """
        ) { w in
            for i in 0..<fills {
                let order = min(i / fillsPerOrder, orders - 1)
                let route = routeOf[order]
                let key = (Self.venues.firstIndex(of: route.venue) ?? 0) * Self.symbols.count + route.symbol
                tradeIDs[key] += 1
                let base = Self.symbols[route.symbol].2 * 100
                // Price within ±20 bps of the mid, worse for us on average.
                let offset = Int128(Int(rng.next() % 41) - 15) * base / 10_000 * Int128(route.side.sign)
                let price = ExactDecimal(significand: base + offset, scale: 2)
                let qty = ExactDecimal(significand: 100_000_000 + Int128(rng.next() % 1000), scale: 8)
                let quote = (price * qty).rounded(scale: 8, .halfEven)
                try w.field(route.venue)
                try w.field(route.venue + "-main")
                try w.field(Self.symbols[route.symbol].0)
                try w.field(tradeIDs[key])
                try w.field(order + 1)
                try w.field(route.side.rawValue)
                try w.field(price.description)
                try w.field(qty.description)
                try w.field(quote.description)
                try w.field((quote * ExactDecimal(significand: 1, scale: 3)).rounded(scale: 8, .halfEven).description)
                try w.field("USDT")
                try w.field(route.style == "passive" ? "t" : "f")
                try w.field(start.addingTimeInterval(Double(i) * 0.05))
                try w.field(runID)
                try w.endRow()
            }
        }
        try connection.execute("ANALYZE orders")
        try connection.execute("ANALYZE fills")
        return Summary(
            runID: runID, from: start, to: end, orders: orders, fills: fills,
            routes: Self.venues.count * Self.symbols.count * Self.styles.count)
    }
}

/// SplitMix64: a small, fast, seedable generator for synthetic data.
public struct SplitMixRandom: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
