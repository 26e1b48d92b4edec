import BallastCore
import BallastKit
import BallastTesting
import Foundation
import Postgres
import Testing

/// Ballast's own order words: stored orders move to them by a migration that keeps every row, and
/// decision records written in Binance's words (never rewritten) still verify and recompute exactly.
@Suite(.serialized) struct OrderWordsTests {
    static let types = ["LIMIT": "limit", "LIMIT_MAKER": "post_only", "MARKET": "market"]
    static let timesInForce = ["GTC": "gtc", "IOC": "ioc", "FOK": "fok"]
    static let statuses = [
        "NEW": "open", "PARTIALLY_FILLED": "partially_filled", "FILLED": "filled", "CANCELED": "cancelled",
        "PENDING_CANCEL": "pending_cancel", "REJECTED": "rejected", "EXPIRED": "expired", "EXPIRED_IN_MATCH": "expired",
    ]

    /// Every order and venue order, one line each, in a fixed order.
    static func rows(_ connection: Connection) throws -> (orders: [String], venueOrders: [String]) {
        let orders = try connection.query(
            "SELECT id || ' ' || order_type || ' ' || coalesce(time_in_force, '-') AS line FROM orders ORDER BY id")
        let venueOrders = try connection.query(
            """
            SELECT order_id || ' ' || type || ' ' || coalesce(time_in_force, '-') || ' ' || status AS line
            FROM venue_orders ORDER BY account_id, order_id
            """)
        return (
            try orders.map { try $0.decode("line", as: String.self) },
            try venueOrders.map { try $0.decode("line", as: String.self) }
        )
    }

    /// A line of `rows` with each Binance word replaced by Ballast's.
    static func inBallastWords(_ line: String) -> String {
        line.split(separator: " ").map { word in
            let word = String(word)
            return types[word] ?? timesInForce[word] ?? statuses[word] ?? word
        }.joined(separator: " ")
    }

    @Test func theMigrationGivesEveryStoredOrderBallastsWordsAndKeepsEveryRow() throws {
        let url = try TestDatabase.empty()
        let connection = try TestDatabase.connect(url)
        defer { connection.close() }
        let migrations = try Migration.bundled()
        let words = try #require(migrations.first { $0.name == "ballast_order_words" })
        _ = try Migrator(connection: connection, migrations: migrations.filter { $0.version < words.version })
            .migrate()

        // History in Binance's words: our orders of every type and time in force, the venue's
        // reports of every status, an attempt that noted a status, and a decision record.
        let record =
            #"{"at":"2026-11-30T14:37:01.123Z","batch":1,"format":"decision-record/2","kind":"order","order":1,"#
            + #""portfolio":"p1","record":{"child":{"orderType":"LIMIT_MAKER"},"kind":"order"}}"#
        let hash = DecisionLog.hash(previous: DecisionLog.genesis, payloadText: record)
        try connection.execute(
            """
            INSERT INTO venues (id, dialect, base_url) VALUES ('v1', 'binance-spot', 'https://v1.example');
            INSERT INTO accounts (id, venue_id, key_fingerprint) VALUES ('a1', 'v1', 'f1'), ('a2', 'v1', 'f2');
            INSERT INTO portfolios (id, quote_asset) VALUES ('p1', 'USDT');
            INSERT INTO batches (id, portfolio_id, status) VALUES (1, 'p1', 'completed');
            INSERT INTO orders (batch_id, leg, intent_key, client_order_id, portfolio_id, account_id, venue_id, symbol,
                                side, style, order_type, time_in_force, qty, state)
            SELECT 1, n, 'k' || n, 'bl-' || n, 'p1', 'a1', 'v1', 'BTCUSDT', 'buy',
                   (ARRAY['marketable-limit', 'passive', 'market'])[n % 3 + 1],
                   (ARRAY['LIMIT', 'LIMIT_MAKER', 'MARKET'])[n % 3 + 1],
                   CASE WHEN n % 3 = 0 THEN (ARRAY['GTC', 'IOC', 'FOK'])[n / 3 % 3 + 1] END, 0.01, 'filled'
            FROM generate_series(1, 300) n;
            INSERT INTO venue_orders (venue_id, account_id, symbol, order_id, client_order_id, side, type, time_in_force,
                                      price, orig_qty, executed_qty, cumulative_quote, status, created_at, updated_at)
            SELECT 'v1', CASE WHEN n % 2 = 0 THEN 'a1' ELSE 'a2' END, 'BTCUSDT', (7000000000 + n)::text, 'web-' || n,
                   'buy', (ARRAY['LIMIT', 'LIMIT_MAKER', 'MARKET'])[n % 3 + 1],
                   CASE WHEN n % 3 <> 2 THEN (ARRAY['GTC', 'IOC', 'FOK'])[n / 3 % 3 + 1] END, 60000, 0.01, 0.004, 240,
                   (ARRAY['NEW', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'PENDING_CANCEL', 'REJECTED', 'EXPIRED',
                          'EXPIRED_IN_MATCH'])[n % 8 + 1], now(), now()
            FROM generate_series(1, 400) n;
            INSERT INTO order_attempts (order_id, action, started_at, outcome, state_after, detail)
            VALUES (1, 'query', now(), 'found', 'filled', '{"detail": "status FILLED, executed 0.01"}');
            """)
        try connection.execute(
            """
            INSERT INTO decisions (batch_id, order_id, portfolio_id, kind, payload_text, prev_hash, hash, created_at)
            VALUES (1, 1, 'p1', 'order', \(record), \(DecisionLog.genesis), \(hash), '2026-11-30T14:37:01.123Z')
            """)
        let before = try Self.rows(connection)
        #expect(before.orders.count == 300 && before.venueOrders.count == 400)
        #expect(Set(before.venueOrders.map { String($0.split(separator: " ")[3]) }) == Set(Self.statuses.keys))

        let applied = try Migrator(connection: connection, migrations: migrations).migrate()
        #expect(applied.map(\.version).contains(words.version))
        let after = try Self.rows(connection)
        #expect(after.orders == before.orders.map(Self.inBallastWords), "every order, its words changed")
        #expect(
            after.venueOrders == before.venueOrders.map(Self.inBallastWords), "every venue order, its words changed")
        #expect(Set(after.venueOrders.map { String($0.split(separator: " ")[3]) }) == Set(Self.statuses.values))

        // The append-only history is as it was: the attempt's note, and the record, which still verifies.
        #expect(
            try connection.query("SELECT detail->>'detail' AS d FROM order_attempts")[0].decode("d", as: String.self)
                == "status FILLED, executed 0.01")
        #expect(try connection.query("SELECT payload_text FROM decisions")[0].decode("payload_text") == record)
        let verified = try DecisionLog.verify(on: connection)
        #expect(
            verified.firstBroken == nil && verified.covered == 1 && verified.binanceWords == 1,
            "\(String(describing: verified.firstBroken))")
        let view = try connection.query(
            "SELECT covered, payload->'child'->>'orderType' AS type FROM decision_records")[0]
        #expect(try view.decode("covered", as: Bool.self) && view.decode("type", as: String.self) == "LIMIT_MAKER")

        // From now on only Ballast's words are stored.
        for sql in [
            "UPDATE orders SET order_type = 'LIMIT_MAKER' WHERE id = 1",
            "UPDATE orders SET time_in_force = 'IOC' WHERE id = 1",
            "UPDATE venue_orders SET status = 'FILLED' WHERE order_id = '7000000001'",
            "UPDATE venue_orders SET type = 'LIMIT' WHERE order_id = '7000000001'",
        ] {
            let error = #expect(throws: PostgresError.self) { try connection.execute(Query(unsafeSQL: sql)) }
            #expect(
                error?.message.contains("violates check constraint") == true, "\(sql): \(String(describing: error))")
        }
    }

    /// Rewrites every record as Ballast wrote it before it had its own words (format
    /// `decision-record/2`, Binance's order types and times in force), and chains the records
    /// again: the history a database upgraded to this version holds.
    static func writtenInBinancesWords(_ connection: Connection) throws {
        var replacements = ["\"format\":\"decision-record/3\"": "\"format\":\"decision-record/2\""]
        for (binance, ballast) in types {
            replacements["\"orderType\":\"\(ballast)\""] = "\"orderType\":\"\(binance)\""
        }
        for (binance, ballast) in timesInForce {
            replacements["\"timeInForce\":\"\(ballast)\""] = "\"timeInForce\":\"\(binance)\""
        }
        try connection.execute("ALTER TABLE decisions DISABLE TRIGGER decisions_append_only")
        defer { try? connection.execute("ALTER TABLE decisions ENABLE TRIGGER decisions_append_only") }
        var previous = DecisionLog.genesis
        for row in try connection.query("SELECT id, payload_text FROM decisions ORDER BY id") {
            var text: String = try row.decode("payload_text")
            for (new, old) in replacements { text = text.replacingOccurrences(of: new, with: old) }
            let hash = DecisionLog.hash(previous: previous, payloadText: text)
            try connection.execute(
                """
                UPDATE decisions SET payload_text = \(text), prev_hash = \(previous), hash = \(hash)
                WHERE id = \(try row.decode("id", as: Int64.self))
                """)
            previous = hash
        }
    }

    @Test func recordsWrittenInBinancesWordsStillVerifyAndRecomputeExactly() async throws {
        let scenario = try await TradingScenario(
            router: "\n", extra: "\n[portfolios.router]\n\(RecomputeTests.patient)\n" + RecomputeTests.portfolios)
        defer { scenario.stop() }
        #expect(
            try Propose(connection: scenario.connection, logger: .init(label: "test")).run(
                config: scenario.config, runID: nil, dryRun: false
            ).count == 5)
        try Self.writtenInBinancesWords(scenario.connection)
        let old = try scenario.connection.query(
            """
            SELECT count(*) FILTER (WHERE payload_text LIKE '%"orderType":"LIMIT_MAKER"%') AS post_only,
                   count(*) FILTER (WHERE payload_text LIKE '%"timeInForce":"IOC"%') AS ioc,
                   count(*) FILTER (WHERE payload_text LIKE '%"orderType":"post_only"%'
                                       OR payload_text LIKE '%"timeInForce":"ioc"%') AS ballast,
                   count(*) FILTER (WHERE kind = 'order') AS orders
            FROM decisions
            """)[0]
        #expect(try old.decode("post_only", as: Int.self) > 0 && old.decode("ioc", as: Int.self) > 0)
        #expect(try old.decode("ballast", as: Int.self) == 0)
        let oldRecords: Int = try old.decode("orders")

        // They verify, and each is still read whole through the view.
        let verified = try DecisionLog.verify(on: scenario.connection)
        #expect(verified.firstBroken == nil && verified.covered == verified.checked)
        #expect(verified.binanceWords == verified.checked)
        let audit = try BallastBinary.run(["audit", "verify"], environment: scenario.environment)
        #expect(
            audit.status == 0 && audit.stdout.contains("\(verified.checked) record(s) written before migration 0020"),
            "\(audit.stdout)")
        #expect(try scenario.count("SELECT count(*) AS n FROM decision_records WHERE NOT covered") == 0)
        // Their recomputation matches every term, read and written in their words…
        let outcome = try Recompute(connection: scenario.connection).run()
        #expect(outcome.differences.isEmpty, "\(outcome.differences.prefix(3))")
        #expect(outcome.recomputed == outcome.records && outcome.records >= oldRecords)
        // …to the byte: each parent's split, routed again and written in Binance's words, is the text
        // its records hold.
        var splits = 0
        let binance: [CodingUserInfoKey: Any] = [.orderSpelling: RecordedBinanceWords()]
        try Recompute(connection: scenario.connection).forEachRouting { routing in
            let route = Router.route(
                routing.trade, quotes: routing.quotes,
                volatilityPerSqrtSecond: routing.inputs.volatilityPerSqrtSecond, policy: routing.inputs.policy,
                now: Date(timeIntervalSince1970: routing.inputs.now))
            guard !route.children.isEmpty else { return }
            let split = "\"split\":" + (try DecisionLog.canonical(route.children, userInfo: binance)) + ","
            let holding = try scenario.connection.query(
                """
                SELECT count(*) AS n FROM decisions
                WHERE batch_id = \(routing.batch) AND kind = 'order' AND strpos(payload_text, \(split)) > 0
                """)[0].decode("n", as: Int.self)
            #expect(holding == route.children.count, "\(split.prefix(300))")
            splits += 1
        }
        #expect(splits > 0)
        let cli = try BallastBinary.run(["audit", "recompute"], environment: scenario.environment)
        #expect(cli.status == 0 && cli.stdout.contains(": 0 difference(s)"), "\(cli.stdout)")

        // Records written now, in Ballast's words, chain onto them; both kinds recompute.
        _ = try scenario.propose()
        #expect(
            try scenario.count("SELECT count(*) AS n FROM decisions WHERE payload_text LIKE '%decision-record/3%'") > 0)
        let both = try DecisionLog.verify(on: scenario.connection)
        #expect(both.firstBroken == nil && both.binanceWords == verified.checked && both.checked > verified.checked)
        #expect(try Recompute(connection: scenario.connection).run().differences.isEmpty)

        // A word changed inside an old record (by an owner with the trigger off) is named in that
        // record's own words.
        let victim = try #require(
            try scenario.connection.query(
                """
                SELECT min(id) AS id FROM decisions
                WHERE kind = 'order' AND payload_text LIKE '%"format":"decision-record/2"%'
                  AND payload_text LIKE '%"orderType":"LIMIT_MAKER"%'
                """)[0].decode("id", as: Int64?.self))
        try scenario.connection.execute("ALTER TABLE decisions DISABLE TRIGGER decisions_append_only")
        try scenario.connection.execute(
            """
            UPDATE decisions SET payload_text = regexp_replace(payload_text, '"orderType":"LIMIT_MAKER"',
                                                               '"orderType":"MARKET"', 'g')
            WHERE id = \(victim)
            """)
        let changed = try Recompute(connection: scenario.connection).run().differences
        #expect(Set(changed.map(\.record)) == [victim], "\(changed)")
        let split = try #require(changed.first { $0.term == "split" })
        #expect(split.recorded.contains("\"MARKET\"") && split.recomputed.contains("\"LIMIT_MAKER\""), "\(split)")
        #expect(!split.recomputed.contains("post_only"))
    }

    @Test func aRecordInBinancesWordsMayNotFollowOneInBallasts() async throws {
        let scenario = try await TradingScenario()
        defer { scenario.stop() }
        _ = try scenario.propose()
        let last = try scenario.connection.query(
            """
            SELECT batch_id, order_id, portfolio_id, kind, payload_text, hash,
                   to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at
            FROM decisions ORDER BY id DESC LIMIT 1
            """)[0]
        let text = try last.decode("payload_text", as: String.self).replacingOccurrences(
            of: "\"format\":\"decision-record/3\"", with: "\"format\":\"decision-record/2\"")
        let previous: String = try last.decode("hash")
        try scenario.connection.execute(
            """
            INSERT INTO decisions (batch_id, order_id, portfolio_id, kind, payload_text, prev_hash, hash, created_at)
            VALUES (\(try last.decode("batch_id", as: Int64?.self)), \(try last.decode("order_id", as: Int64?.self)),
                    \(try last.decode("portfolio_id", as: String.self)), \(try last.decode("kind", as: String.self)),
                    \(text), \(previous), \(DecisionLog.hash(previous: previous, payloadText: text)),
                    \(try last.decode("at", as: String.self))::timestamptz)
            """)
        let result = try DecisionLog.verify(on: scenario.connection)
        #expect(
            result.firstBroken?.reason.contains("Binance's order words") == true,
            "\(String(describing: result.firstBroken))")
    }
}
