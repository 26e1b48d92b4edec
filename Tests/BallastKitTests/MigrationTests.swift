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

    /// Two databases migrated at once that both create a role (roles are the cluster's): the one
    /// that loses the race on the role's name rolls back and tries again, and both end migrated.
    @Test func databasesMigratedAtOnceBothCreatingARoleBothSucceed() async throws {
        let role = "ballast_race_" + UUID().uuidString.prefix(8).lowercased()
        let racing = Migration(
            version: 1, name: "role",
            sql: """
                DO $$
                BEGIN
                    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '\(role)') THEN
                        PERFORM pg_sleep(0.5);
                        CREATE ROLE \(role) NOLOGIN;
                    END IF;
                END
                $$;
                """)
        let urls = [try TestDatabase.empty(), try TestDatabase.empty()]
        let applied = try await withThrowingTaskGroup(of: Int.self) { group in
            for url in urls {
                group.addTask {
                    let connection = try TestDatabase.connect(url)
                    defer { connection.close() }
                    return try Migrator(connection: connection, migrations: [racing]).migrate().count
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(applied == [1, 1])
        let admin = try TestDatabase.connect(urls[0])
        defer { admin.close() }
        try admin.execute(Query(unsafeSQL: "DROP ROLE \(role)"))
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

    /// A request on record before it leaves (`pending`) may be completed once with its answer;
    /// what it asked, and a completed row, may not change.
    @Test func aPendingRequestIsCompletedOnceAndNothingElseChanges() throws {
        let connection = try TestDatabase.connect(try TestDatabase.migrated())
        defer { connection.close() }
        let id: Int64 = try connection.query(
            """
            INSERT INTO http_attempts (venue_id, method, endpoint, started_at, outcome, client_order_id)
            VALUES ('v', 'POST', '/api/v3/order', now(), 'pending', 'abc') RETURNING id
            """
        ).first!.decode("id")
        for statement: Query in [
            "UPDATE http_attempts SET client_order_id = 'other', outcome = 'ok' WHERE id = \(id)",
            "UPDATE http_attempts SET endpoint = '/api/v3/time', outcome = 'ok' WHERE id = \(id)",
            "UPDATE http_attempts SET total_ms = 5 WHERE id = \(id)",
        ] {
            let error = #expect(throws: PostgresError.self) { try connection.execute(statement) }
            #expect(error?.message.contains("append-only") == true, "\(statement.sql)")
        }
        #expect(
            try connection.execute(
                "UPDATE http_attempts SET outcome = 'ok', http_status = 200, total_ms = 12.5 WHERE id = \(id)") == 1)
        let again = #expect(throws: PostgresError.self) {
            try connection.execute("UPDATE http_attempts SET outcome = 'timeout' WHERE id = \(id)")
        }
        #expect(again?.message.contains("append-only") == true)
        let row = try connection.query("SELECT outcome, http_status FROM http_attempts WHERE id = \(id)").first!
        #expect(try row.decode("outcome", as: String.self) == "ok" && row.decode("http_status", as: Int.self) == 200)
    }

    /// A run whose process is gone (its server session ended without recording the end) is marked
    /// `interrupted` by the next run; a run whose session is alive is left running.
    @Test func theNextRunMarksARunWhoseHolderIsGoneInterrupted() throws {
        let url = try TestDatabase.migrated()
        let gone = try TestDatabase.connect(url)
        let dead = try JobRun.start("execute", on: gone)
        gone.close()
        let alive = try TestDatabase.connect(url)
        defer { alive.close() }
        let live = try JobRun.start("pull", on: alive)
        let next = try TestDatabase.connect(url)
        defer { next.close() }
        // The closed session may take a moment to leave pg_stat_activity (and the live run's own
        // start may already have marked it).
        func status() throws -> String {
            try next.query("SELECT status FROM job_runs WHERE id = \(dead.id)").first!.decode("status")
        }
        for _ in 0..<50 where try status() == "running" {
            if try JobRun.markInterrupted(on: next).isEmpty { Thread.sleep(forTimeInterval: 0.05) }
        }
        let rows = try next.query("SELECT id, status, error FROM job_runs ORDER BY started_at").map {
            (
                try $0.decode("id", as: String.self), try $0.decode("status", as: String.self),
                try $0.decode("error", as: String?.self)
            )
        }
        #expect(rows.first { $0.0 == dead.id }?.1 == "interrupted")
        #expect(rows.first { $0.0 == dead.id }?.2?.contains("without recording") == true)
        #expect(rows.first { $0.0 == live.id }?.1 == "running")
        try live.finish(on: alive)
        #expect(try JobRun.markInterrupted(on: next).isEmpty)
    }

    /// A run that knows why it ended but cannot write it (the database refuses the write) keeps its
    /// error on the host; the next run writes it into the run's row instead of a generic reason.
    @Test func anEndThatCannotBeWrittenIsKeptAndTheNextRunWritesIt() throws {
        let url = try TestDatabase.migrated()
        let connection = try TestDatabase.connect(url)
        let run = try JobRun.start("execute", on: connection)
        try connection.execute("SET statement_timeout = 300")
        let blocker = try TestDatabase.connect(url)
        defer { blocker.close() }
        try blocker.execute("BEGIN")
        try blocker.execute("LOCK TABLE job_runs IN ACCESS EXCLUSIVE MODE")
        let capture = LogCapture()
        run.finish(
            on: connection, failedWith: BallastError.venue("sim-a: banned until 2026-11-30T12:00:00Z"),
            logger: capture.logger())
        try blocker.execute("ROLLBACK")
        connection.close()
        #expect(UnrecordedEnds.pending().contains { $0.end.runId == run.id })
        #expect(capture.everything.contains("kept in"), "\(capture.everything)")
        let next = try TestDatabase.connect(url)
        defer { next.close() }
        try JobRun.markInterrupted(on: next)
        let row = try next.query("SELECT status, error FROM job_runs WHERE id = \(run.id)").first!
        #expect(try row.decode("status", as: String.self) == "failed")
        let error = try row.decode("error", as: String.self)
        #expect(error.contains("banned until 2026-11-30T12:00:00Z") && error.contains("recorded by a later run"))
        #expect(!UnrecordedEnds.pending().contains { $0.end.runId == run.id })
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
            VALUES (1, 0, \(key), \(key), \(portfolio), 'a1', \(venue), 'BTCUSDT', 'buy', 'marketable-limit', 'limit', 1,
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
