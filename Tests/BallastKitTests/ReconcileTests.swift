import BallastCore
import BallastTesting
import Foundation
import Postgres
import Simulator
import Testing

/// Pull → trade at the venue → pull → reconcile, against a simulated venue and a real PostgreSQL.
@Suite(.serialized) struct ReconcileTests {
    @Test func reconcileFindsAMissingFillAnExternalOrderAndAnOrderGap() throws {
        let scenario = try PullScenario(trades: 0)
        defer { scenario.stop() }
        let key = scenario.venue.config.accounts[0].apiKey
        #expect(try scenario.pull().status == 0)

        // Someone trades on the account outside Ballast: BTCUSDT (a pulled symbol) and
        // SOLUSDT (not in the job, so its fill never reaches the ledger).
        let btc = try scenario.venue.tradeElsewhere(
            apiKey: key, symbol: "BTCUSDT", side: .buy, quantity: ExactDecimal("0.01")!)
        let sol = try scenario.venue.tradeElsewhere(
            apiKey: key, symbol: "SOLUSDT", side: .sell, quantity: ExactDecimal("2")!)
        #expect(!btc.isEmpty && !sol.isEmpty)
        Thread.sleep(forTimeInterval: 0.01)
        #expect(try scenario.pull().status == 0)

        let first = try BallastBinary.run(["reconcile"], environment: scenario.environment)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("new balance breaks      : 2"), "\(first.stdout)")
        #expect(first.stdout.contains("new external_fill breaks: 1"), "\(first.stdout)")

        let connection = try TestDatabase.connect(scenario.databaseURL)
        defer { connection.close() }
        let breaks = try connection.query(
            "SELECT kind, asset, symbol, expected, actual, difference, evidence::text AS evidence FROM reconciliation_breaks ORDER BY kind, asset"
        )
        .map {
            (
                try $0.decode("kind", as: String.self), try $0.decode("asset", as: String?.self),
                try $0.decode("difference", as: ExactDecimal.self), try $0.decode("evidence", as: String.self)
            )
        }
        // SOL: 2 left the account with no fill in the ledger; USDT: the sale's proceeds less its fee arrived.
        let solBreak = try #require(breaks.first { $0.0 == "balance" && $0.1 == "SOL" })
        #expect(solBreak.2 == ExactDecimal("-2")!)
        #expect(solBreak.3.contains("\"from_snapshot\"") && solBreak.3.contains("\"to_snapshot\""))
        let proceeds = sol.map { $0.price * $0.qty - $0.commission }.sum()
        let usdtBreak = try #require(breaks.first { $0.0 == "balance" && $0.1 == "USDT" })
        #expect(usdtBreak.2 == proceeds)
        // BTC moved exactly as its pulled fill says: no balance break. The fill itself is external,
        // and its break is what it moved the BTC balance by: the net bought, in BTC.
        #expect(!breaks.contains { $0.0 == "balance" && $0.1 == "BTC" })
        let external = try #require(breaks.first { $0.0 == "external_fill" })
        #expect(external.3.contains("\"first_trade_id\": \"\(btc[0].id)\""))
        #expect(external.1 == "BTC")
        #expect(external.2 == btc.map(\.qty).sum() && external.2 == ExactDecimal("0.01")!)

        // The venue reports an order as filled for more than its fills add up to.
        let fill = try #require(
            try connection.query("SELECT order_id, qty FROM fills WHERE symbol = 'BTCUSDT' LIMIT 1").first)
        let orderID: String = try fill.decode("order_id")
        try connection.execute(
            """
            INSERT INTO venue_orders (venue_id, account_id, symbol, order_id, client_order_id, side, type, price,
                                      orig_qty, executed_qty, cumulative_quote, status, created_at, updated_at)
            VALUES ('sim-p', 'sim-p-main', 'BTCUSDT', \(orderID), 'web-order', 'buy', 'market', 0, 0.02, 0.02, 0,
                    'filled', now(), now())
            """)
        let second = try BallastBinary.run(["reconcile"], environment: scenario.environment)
        #expect(second.stdout.contains("new order_fills breaks  : 1"), "\(second.stdout)")
        #expect(second.stdout.contains("new balance breaks      : 0"))
        let gap = try #require(
            try connection.query(
                "SELECT expected, actual FROM reconciliation_breaks WHERE kind = 'order_fills'"
            ).first)
        #expect(try gap.decode("expected", as: ExactDecimal.self) == ExactDecimal("0.02")!)
        #expect(try gap.decode("actual", as: ExactDecimal.self) == ExactDecimal("0.01")!)

        // Each snapshot pair is checked once: the first reconcile checked the account's one pair, the
        // second none (its mark is the newest snapshot).
        #expect(first.stdout.contains("snapshot pairs checked  : 1"), "\(first.stdout)")
        #expect(second.stdout.contains("snapshot pairs checked  : 0"), "\(second.stdout)")

        // Reconciling again finds nothing new, and --fail-on-breaks says so with its exit code.
        let third = try BallastBinary.run(["reconcile", "--fail-on-breaks"], environment: scenario.environment)
        #expect(third.status == 0)
        // A new snapshot makes exactly one new pair, from the mark.
        Thread.sleep(forTimeInterval: 0.01)
        _ = try scenario.venue.tradeElsewhere(
            apiKey: key, symbol: "BTCUSDT", side: .sell, quantity: ExactDecimal("0.01")!)
        #expect(try scenario.pull().status == 0)
        let fourth = try BallastBinary.run(["reconcile"], environment: scenario.environment)
        #expect(fourth.stdout.contains("snapshot pairs checked  : 1"), "\(fourth.stdout)")
        #expect(fourth.stdout.contains("new balance breaks      : 0"), "\(fourth.stdout)")
        #expect(
            try scenario.count("SELECT count(*) AS n FROM reconciliation_breaks WHERE kind <> 'external_fill'") == 3)
    }

    @Test func reconcilingWithNothingStoredIsQuietAndValid() throws {
        let url = try TestDatabase.migrated()
        let outcome = try BallastBinary.run(["reconcile"], environment: ["BALLAST_DATABASE_URL": url])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("snapshot pairs checked  : 0"))
    }
}
