import BallastKit
import BallastTesting
import Foundation
import Postgres
import Testing

/// Issue 14 §5: fills, HTTP attempts and market observations partitioned by month, by a migration
/// that keeps every row; retention of market observations; the job on the partitioned schema.
@Suite(.serialized) struct PartitionTests {
    /// Count and sums of each table the migration moves, as text (exact decimals compared exactly).
    static let figures: Query = """
        SELECT 'fills' AS t, count(*)::text || ' ' || coalesce(sum(qty), 0)::text || ' ' || coalesce(sum(price * qty), 0)::text
               || ' ' || coalesce(min(executed_at)::text, '') AS v FROM fills
        UNION ALL SELECT 'http', count(*)::text || ' ' || coalesce(sum(id), 0)::text || ' ' || coalesce(sum(total_ms), 0)::text FROM http_attempts
        UNION ALL SELECT 'tickers', count(*)::text || ' ' || coalesce(sum(id), 0)::text || ' ' || coalesce(sum(bid_price), 0)::text FROM book_tickers
        UNION ALL SELECT 'depth', count(*)::text || ' ' || coalesce(sum(id), 0)::text || ' ' || coalesce(sum(last_update_id), 0)::text FROM depth_snapshots
        ORDER BY 1
        """

    @Test func theMigrationKeepsEveryRowAndTheJobRunsOnMonthlyPartitions() throws {
        let url = try TestDatabase.empty()
        let connection = try TestDatabase.connect(url)
        defer { connection.close() }
        let migrations = try Migration.bundled()
        let partitioning = try #require(migrations.first { $0.name == "monthly_partitions" })
        _ = try Migrator(connection: connection, migrations: migrations.filter { $0.version < partitioning.version })
            .migrate()

        // Five months of history in the old tables: fills, requests, tickers and depth.
        try connection.execute(
            """
            INSERT INTO job_runs (id, command, status) VALUES ('history', 'pull', 'succeeded');
            INSERT INTO venues (id, dialect, base_url) VALUES ('old-venue', 'binance-spot', 'https://old.example');
            INSERT INTO accounts (id, venue_id, key_fingerprint) VALUES ('old-account', 'old-venue', 'fp');
            INSERT INTO fills (venue_id, account_id, symbol, trade_id, order_id, side, price, qty, quote_qty, commission,
                               commission_asset, is_maker, executed_at, run_id)
            SELECT 'old-venue', 'old-account', 'BTCUSDT', n, n / 3, CASE WHEN n % 2 = 0 THEN 'buy' ELSE 'sell' END,
                   (60000 + n % 997 * 0.01)::numeric, (0.001 * (1 + n % 7))::numeric, 1, 0.00001, 'BTC', n % 3 = 0,
                   now() - make_interval(days => 150) + make_interval(mins => n * 24), 'history'
            FROM generate_series(1, 9000) n;
            INSERT INTO http_attempts (run_id, venue_id, method, endpoint, weight, started_at, total_ms, outcome)
            SELECT 'history', 'old-venue', 'GET', '/api/v3/myTrades', 20, now() - make_interval(days => 140) + make_interval(mins => n * 90),
                   n % 50 + 0.25, 'ok'
            FROM generate_series(1, 2000) n;
            INSERT INTO book_tickers (run_id, venue_id, symbol, bid_price, bid_qty, ask_price, ask_qty, observed_at)
            SELECT 'history', 'old-venue', 'BTCUSDT', 60000 + n, 1, 60001 + n, 1,
                   now() - make_interval(days => 130) + make_interval(hours => n * 3)
            FROM generate_series(1, 1000) n;
            INSERT INTO depth_snapshots (run_id, venue_id, symbol, last_update_id, bid_prices, bid_qtys, ask_prices,
                                         ask_qtys, observed_at)
            SELECT 'history', 'old-venue', 'BTCUSDT', n, ARRAY[60000]::numeric[], ARRAY[1]::numeric[],
                   ARRAY[60001]::numeric[], ARRAY[1]::numeric[], now() - make_interval(days => 130) + make_interval(hours => n * 12)
            FROM generate_series(1, 250) n;
            """)
        func figures() throws -> [String] {
            try connection.query(Self.figures).map {
                "\(try $0.decode("t", as: String.self)): \(try $0.decode("v", as: String.self))"
            }
        }
        let before = try figures()

        let applied = try Migrator(connection: connection, migrations: migrations).migrate()
        #expect(applied.map(\.version).contains(partitioning.version))
        #expect(try figures() == before, "counts and sums before and after the migration")
        for table in ["fills", "http_attempts", "book_tickers", "depth_snapshots"] {
            #expect(
                try connection.query("SELECT relkind::text AS k FROM pg_class WHERE relname = \(table)")[0].decode(
                    "k", as: String.self) == "p", "\(table) is partitioned")
        }
        // The history sits in its months, none of it in the default partition.
        let months: Int = try connection.query("SELECT count(DISTINCT tableoid) AS n FROM fills")[0].decode("n")
        #expect(months >= 5, "\(months) partitions hold the fills")
        #expect(try connection.query("SELECT count(*) AS n FROM fills_default")[0].decode("n", as: Int.self) == 0)
        // A fill pulled again is still the same fill.
        #expect(
            try connection.execute(
                """
                INSERT INTO fills SELECT * FROM fills WHERE trade_id = '4242' ON CONFLICT DO NOTHING
                """) == 0)
        // Observations stay append-only, through the parent and in a partition.
        let partition: String = try connection.query(
            "SELECT tableoid::regclass::text AS p FROM book_tickers ORDER BY id LIMIT 1")[0].decode("p")
        #expect(throws: PostgresError.self) {
            try connection.execute(Query(unsafeSQL: "UPDATE \(partition) SET bid_price = 1"))
        }

        // The job on the partitioned schema: this month's rows land in this month's partition.
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-parts-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let run = try BallastBinary.run(
            ["run", "--simulate", "--history", "100", "--out", out.path], environment: ["BALLAST_DATABASE_URL": url])
        #expect([0, 3].contains(run.status), "\(run.stderr.suffix(2000))")
        let month = String(Timestamp.iso8601(Date()).prefix(7)).replacingOccurrences(of: "-", with: "_")
        for table in ["fills", "http_attempts", "book_tickers", "depth_snapshots"] {
            let landed: Int = try connection.query(
                Query(unsafeSQL: "SELECT count(*) AS n FROM \(table)_\(month)"))[0].decode("n")
            #expect(landed > 0, "\(table)_\(month)")
            #expect(
                try connection.query(Query(unsafeSQL: "SELECT count(*) AS n FROM \(table)_default"))[0].decode(
                    "n", as: Int.self) == 0)
        }
        #expect(try connection.query("SELECT count(*) AS n FROM order_attempts")[0].decode("n", as: Int.self) > 0)
        // An order attempt must still name an HTTP attempt that exists.
        #expect(throws: PostgresError.self) {
            try connection.execute(
                """
                INSERT INTO order_attempts (order_id, http_attempt_id, action, started_at, outcome)
                SELECT id, -1, 'query', now(), 'ok' FROM orders LIMIT 1
                """)
        }

        // Retention: whole months of market observations older than 60 days go; fills and requests stay.
        let fillsBefore: Int = try connection.query("SELECT count(*) AS n FROM fills")[0].decode("n")
        let requestsBefore: Int = try connection.query("SELECT count(*) AS n FROM http_attempts")[0].decode("n")
        let oldTickers: Int = try connection.query(
            "SELECT count(*) AS n FROM book_tickers WHERE observed_at < date_trunc('month', now() - interval '60 days')"
        )[0]
        .decode("n")
        #expect(oldTickers > 0)
        let pruned = try BallastBinary.run(
            ["db", "prune", "--market-days", "60"], environment: ["BALLAST_DATABASE_URL": url])
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(pruned.stdout.contains("Dropped "), "\(pruned.stdout)")
        #expect(
            try connection.query(
                "SELECT count(*) AS n FROM book_tickers WHERE observed_at < date_trunc('month', now() - interval '60 days')"
            )[0].decode("n", as: Int.self) == 0)
        #expect(
            try connection.query(
                "SELECT count(*) AS n FROM book_tickers WHERE observed_at > now() - interval '30 days'")[0]
                .decode("n", as: Int.self) > 0, "recent observations kept")
        #expect(try connection.query("SELECT count(*) AS n FROM fills")[0].decode("n", as: Int.self) == fillsBefore)
        #expect(
            try connection.query("SELECT count(*) AS n FROM http_attempts")[0].decode("n", as: Int.self)
                == requestsBefore)
        let refused = try BallastBinary.run(
            ["db", "prune", "--market-days", "0"], environment: ["BALLAST_DATABASE_URL": url])
        #expect(refused.status != 0 && refused.stderr.contains("--market-days must be at least 1"))
    }
}
