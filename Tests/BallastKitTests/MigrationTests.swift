import BallastCore
import BallastKit
import BallastTesting
import Foundation
import Postgres
import Testing

@Suite struct MigrationTests {
    @Test func migrateAppliesOnceThenIsUpToDate() throws {
        let connection = try TestDatabase.connect(try TestDatabase.empty())
        defer { connection.close() }
        let migrator = Migrator(connection: connection, migrations: try Migration.bundled())
        #expect(try migrator.status().allSatisfy { $0.appliedAt == nil })
        let first = try migrator.migrate()
        #expect(first.map(\.version) == (try Migration.bundled()).map(\.version))
        #expect(try migrator.migrate().isEmpty)
        #expect(try migrator.status().allSatisfy { $0.appliedAt != nil })
        // The schema is there.
        #expect(try connection.query("SELECT count(*) AS n FROM fills").first!.decode("n", as: Int.self) == 0)
    }

    @Test func aFailingMigrationLeavesNothingBehind() throws {
        let connection = try TestDatabase.connect(try TestDatabase.empty())
        defer { connection.close() }
        let good = Migration(version: 1, name: "good", sql: "CREATE TABLE a (x int);")
        let bad = Migration(version: 2, name: "bad", sql: "CREATE TABLE b (x int); SELECT * FROM no_such_table;")
        let error = #expect(throws: BallastError.self) {
            try Migrator(connection: connection, migrations: [good, bad]).migrate()
        }
        #expect(error?.description.contains("2_bad") == true)
        let tables = try connection.query("SELECT count(*) AS n FROM pg_tables WHERE tablename IN ('a', 'b')")
        #expect(try tables.first!.decode("n", as: Int.self) == 0)
        // Even the ledger is rolled back.
        let ledger = try connection.query("SELECT to_regclass('schema_migrations') IS NULL AS gone").first!
        #expect(try ledger.decode("gone", as: Bool.self))
    }

    @Test func anEditedMigrationIsRefused() throws {
        let connection = try TestDatabase.connect(try TestDatabase.empty())
        defer { connection.close() }
        _ = try Migrator(
            connection: connection, migrations: [Migration(version: 1, name: "a", sql: "CREATE TABLE a (x int);")]
        ).migrate()
        let edited = Migration(version: 1, name: "a", sql: "CREATE TABLE a (x bigint);")
        let error = #expect(throws: BallastError.self) {
            try Migrator(connection: connection, migrations: [edited]).migrate()
        }
        #expect(error?.description.contains("changed after it was applied") == true)
    }

    @Test func concurrentMigratorsApplyEachMigrationOnce() async throws {
        let url = try TestDatabase.empty()
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let connection = try TestDatabase.connect(url)
                    defer { connection.close() }
                    return try Migrator(connection: connection, migrations: try Migration.bundled()).migrate().count
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(counts.sorted() == [0, 0, 0, (try Migration.bundled()).count])
    }

    @Test func appendOnlyTablesRefuseUpdateDeleteAndTruncate() throws {
        let connection = try TestDatabase.connect(try TestDatabase.migrated())
        defer { connection.close() }
        try connection.execute(
            """
            INSERT INTO decisions (portfolio_id, kind, payload_text, prev_hash, hash)
            VALUES ('p', 'order', '{}', 'genesis', 'h1')
            """)
        try connection.execute(
            """
            INSERT INTO http_attempts (venue_id, method, endpoint, started_at, outcome)
            VALUES ('v', 'GET', '/api/v3/time', now(), 'ok')
            """)
        for statement: Query in [
            "UPDATE decisions SET kind = 'x'", "DELETE FROM decisions", "TRUNCATE decisions",
            "UPDATE http_attempts SET outcome = 'timeout'", "DELETE FROM http_attempts",
        ] {
            let error = #expect(throws: PostgresError.self) { try connection.execute(statement) }
            #expect(error?.code == .raisedException, "\(statement.sql)")
            #expect(error?.message.contains("append-only") == true)
        }
        #expect(throws: PostgresError.self) { try connection.execute("TRUNCATE http_attempts CASCADE") }
        #expect(try connection.query("SELECT count(*) AS n FROM http_attempts").first!.decode("n", as: Int.self) == 1)
        #expect(try connection.query("SELECT count(*) AS n FROM decisions").first!.decode("n", as: Int.self) == 1)
    }

    @Test func anOrderMustAgreeWithItsBatchAndItsAccount() throws {
        let connection = try TestDatabase.connect(try TestDatabase.migrated())
        defer { connection.close() }
        try connection.execute(
            """
            INSERT INTO venues (id, dialect, base_url) VALUES ('v1', 'binance-spot', 'http://a'), ('v2', 'binance-spot', 'http://b');
            INSERT INTO accounts (id, venue_id, key_fingerprint) VALUES ('a1', 'v1', 'f');
            INSERT INTO portfolios (id, quote_asset) VALUES ('p1', 'USDT'), ('p2', 'USDT');
            INSERT INTO batches (id, portfolio_id, status) VALUES (1, 'p1', 'proposed');
            """)
        func order(_ key: String, portfolio: String, venue: String) -> Query {
            """
            INSERT INTO orders (batch_id, leg, intent_key, client_order_id, portfolio_id, account_id, venue_id, symbol,
                                side, style, order_type, qty, state)
            VALUES (1, 0, \(key), \(key), \(portfolio), 'a1', \(venue), 'BTCUSDT', 'buy', 'marketable-limit', 'LIMIT', 1,
                    'proposed')
            """
        }
        for (portfolio, venue) in [("p2", "v1"), ("p1", "v2")] {
            let error = #expect(throws: PostgresError.self) {
                try connection.execute(order("k-\(portfolio)-\(venue)", portfolio: portfolio, venue: venue))
            }
            #expect(error?.message.contains("violates foreign key constraint") == true, "\(String(describing: error))")
        }
        #expect(try connection.execute(order("k-ok", portfolio: "p1", venue: "v1")) == 1)
    }

    @Test func reporterRoleCanReadButNotWrite() throws {
        let connection = try TestDatabase.connect(try TestDatabase.migrated())
        defer { connection.close() }
        try connection.execute("SET ROLE ballast_reporter")
        #expect(try connection.query("SELECT count(*) AS n FROM fills").first!.decode("n", as: Int.self) == 0)
        // The jsonb view of the decision records, which a later migration adds, is readable too.
        #expect(
            try connection.query("SELECT count(*) AS n FROM decision_records").first!.decode("n", as: Int.self) == 0)
        let error = #expect(throws: PostgresError.self) {
            try connection.execute(
                "INSERT INTO venues (id, dialect, base_url) VALUES ('v', 'binance-spot', 'http://x')")
        }
        #expect(error?.code == .insufficientPrivilege)
    }

    @Test func numericRoundTripsExactly() throws {
        let connection = try TestDatabase.connect(try TestDatabase.empty())
        defer { connection.close() }
        for text in ["0.00001000", "4723846.89208129", "-12.5", "99999999999999999999.99999999", "0"] {
            let value = try ExactDecimal(parsing: text)
            let row = try connection.query("SELECT \(value)::numeric AS v, (\(value)::numeric * 3)::numeric AS t")
                .first!
            #expect(try row.decode("v", as: ExactDecimal.self).description == text)
            #expect(try row.decode("t", as: ExactDecimal.self) == value * 3)
        }
        let error = #expect(throws: PostgresError.self) {
            try connection.query("SELECT 'NaN'::numeric AS v").first!.decode("v", as: ExactDecimal.self)
        }
        #expect(error?.code == .decodingFailed)
    }
}
