import BallastCore
import BallastKit
import BallastTesting
import Foundation
import Postgres
import Testing

/// Issue 15 §1: venue order ids and trade ids become text by a migration that keeps every row,
/// every id's digits, every cursor and every external-fill watermark.
@Suite(.serialized) struct TextVenueIDsTests {
    /// Counts, sums and the ids themselves (as text, in a fixed order) of every table that changes.
    static let figures: Query = """
        SELECT 'fills' AS t, count(*)::text || ' ' || coalesce(sum(qty), 0)::text || ' ' || coalesce(sum(price * qty), 0)::text
               || ' ' || coalesce(md5(string_agg(trade_id::text || '/' || order_id::text, ',' ORDER BY executed_at, account_id, trade_id::text)), '') AS v
        FROM fills
        UNION ALL SELECT 'venue_orders', count(*)::text || ' ' || coalesce(sum(executed_qty), 0)::text || ' '
               || coalesce(string_agg(order_id::text, ',' ORDER BY client_order_id), '') FROM venue_orders
        UNION ALL SELECT 'orders', count(*)::text || ' ' || coalesce(sum(qty), 0)::text || ' '
               || coalesce(string_agg(coalesce(venue_order_id::text, '-'), ',' ORDER BY id), '') FROM orders
        ORDER BY 1
        """

    @Test func theMigrationKeepsEveryIdCursorAndWatermark() throws {
        let url = try TestDatabase.empty()
        let connection = try TestDatabase.connect(url)
        defer { connection.close() }
        let migrations = try Migration.bundled()
        let textIDs = try #require(migrations.first { $0.name == "text_venue_ids" })
        _ = try Migrator(connection: connection, migrations: migrations.filter { $0.version < textIDs.version })
            .migrate()

        // History as the numbered dialect left it: 6,000 fills over two accounts, their orders as the
        // venue reported them, our orders with and without a venue id, cursors and an external break.
        try connection.execute(
            """
            INSERT INTO job_runs (id, command, status) VALUES ('history', 'pull', 'succeeded');
            INSERT INTO venues (id, dialect, base_url) VALUES ('v1', 'binance-spot', 'https://v1.example');
            INSERT INTO accounts (id, venue_id, key_fingerprint) VALUES ('a1', 'v1', 'f1'), ('a2', 'v1', 'f2');
            INSERT INTO portfolios (id, quote_asset) VALUES ('p1', 'USDT');
            INSERT INTO batches (id, portfolio_id, status) VALUES (1, 'p1', 'completed');
            INSERT INTO fills (venue_id, account_id, symbol, trade_id, order_id, side, price, qty, quote_qty, commission,
                               commission_asset, is_maker, executed_at, run_id)
            SELECT 'v1', CASE WHEN n % 2 = 0 THEN 'a1' ELSE 'a2' END, 'BTCUSDT', 9000000000 + n, 7000000000 + n / 4,
                   CASE WHEN n % 3 = 0 THEN 'buy' ELSE 'sell' END, (60000 + n % 997 * 0.01)::numeric,
                   (0.001 * (1 + n % 7))::numeric, 1, 0.00001, 'BTC', n % 5 = 0,
                   now() - make_interval(days => 40) + make_interval(mins => n * 5), 'history'
            FROM generate_series(1, 6000) n;
            INSERT INTO venue_orders (venue_id, account_id, symbol, order_id, client_order_id, side, type, price,
                                      orig_qty, executed_qty, cumulative_quote, status, created_at, updated_at)
            SELECT 'v1', 'a1', 'BTCUSDT', 7000000000 + n, 'web-' || n, 'buy', 'LIMIT', 60000, 0.01, 0.004, 240,
                   'FILLED', now(), now()
            FROM generate_series(1, 300) n;
            INSERT INTO orders (batch_id, leg, intent_key, client_order_id, portfolio_id, account_id, venue_id, symbol,
                                side, style, order_type, qty, state, venue_order_id)
            SELECT 1, n, 'k' || n, 'bl-' || n, 'p1', 'a1', 'v1', 'BTCUSDT', 'buy', 'marketable-limit', 'LIMIT', 0.01,
                   'filled', CASE WHEN n % 10 = 0 THEN NULL ELSE 7000000000 + n END
            FROM generate_series(1, 200) n;
            INSERT INTO fill_cursors (account_id, symbol, next_from_id) VALUES ('a1', 'BTCUSDT', 9000006001),
                                                                              ('a2', 'BTCUSDT', 9000005999);
            INSERT INTO reconciliation_breaks (kind, subject, venue_id, account_id, symbol, expected, actual, evidence)
            VALUES ('external_fill', 'v1/a2/BTCUSDT/9000000001-9000001001', 'v1', 'a2', 'BTCUSDT', 0, 1,
                    '{"fills": 501, "first_trade_id": 9000000001, "last_trade_id": 9000001001}');
            """)
        func figures() throws -> [String] {
            try connection.query(Self.figures).map {
                "\(try $0.decode("t", as: String.self)): \(try $0.decode("v", as: String.self))"
            }
        }
        let before = try figures()
        let applied = try Migrator(connection: connection, migrations: migrations).migrate()
        #expect(applied.map(\.version).contains(textIDs.version))
        #expect(try figures() == before, "counts, sums and ids before and after the migration")

        let types = try connection.query(
            """
            SELECT table_name || '.' || column_name AS c, data_type AS t FROM information_schema.columns
            WHERE table_schema = current_schema()
              AND (table_name, column_name) IN (('fills', 'trade_id'), ('fills', 'order_id'),
                                                ('venue_orders', 'order_id'), ('orders', 'venue_order_id'))
            ORDER BY 1
            """
        ).map { "\(try $0.decode("c", as: String.self)) \(try $0.decode("t", as: String.self))" }
        #expect(
            types == [
                "fills.order_id text", "fills.trade_id text", "orders.venue_order_id text",
                "venue_orders.order_id text",
            ])
        // Each account's pull resumes where it stopped.
        let store = MarketStore(connection: connection, runID: nil)
        #expect(try store.fillCursor(account: "a1", symbol: "BTCUSDT") == "9000006001")
        #expect(try store.fillCursor(account: "a2", symbol: "BTCUSDT") == "9000005999")
        #expect(try store.fillCursor(account: "a1", symbol: "ETHUSDT") == nil)
        // The old break now says when its last fill was, so the next check starts after it.
        let evidence: String = try connection.query(
            "SELECT evidence::text AS e FROM reconciliation_breaks WHERE kind = 'external_fill'"
        )[0].decode("e")
        let lastAt: String = try connection.query(
            """
            SELECT to_char(executed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t
            FROM fills WHERE trade_id = '9000001001'
            """
        )[0].decode("t")
        #expect(evidence.contains("\"last_executed_at\": \"\(lastAt)\""), "\(evidence)")
        #expect(evidence.contains("\"last_trade_id\": \"9000001001\""), "\(evidence)")

        // A venue that names its trades: the same fill pulled twice is still one fill.
        let named = (1...3).map { i in
            Fill(
                symbol: "BTCUSDT", tradeId: "TQ\(i)-ABCDE-FGHIJ", orderId: "OQCLML-BW3P3-BUCMW\(i)", side: .buy,
                price: 60000, qty: ExactDecimal("0.01")!, quoteQty: 600, commission: ExactDecimal("0.6")!,
                commissionAsset: "USD", isMaker: false, time: Date(timeIntervalSince1970: 1_795_000_000 + Double(i)))
        }
        #expect(try store.saveFills(named, venue: "v1", account: "a1", symbol: "BTCUSDT", cursor: "ofs:3") == 3)
        #expect(try store.saveFills(named, venue: "v1", account: "a1", symbol: "BTCUSDT", cursor: nil) == 0)
        #expect(try store.fillCursor(account: "a1", symbol: "BTCUSDT") == "ofs:3")
    }
}
