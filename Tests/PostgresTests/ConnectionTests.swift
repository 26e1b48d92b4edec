import BallastTesting
import Foundation
import Logging
import Postgres
import Testing

@Suite struct ConnectionTests {
    @Test func awkwardStringsTravelIntactThroughBinds() throws {
        let connection = try TestDatabase.connect(try TestDatabase.empty())
        defer { connection.close() }
        let awkward = [
            "O'Reilly", #"back\slash"#, "double \"quote\"", "tab\there", "new\nline", "ünïcödé ✓ 日本語 🚀",
            "'; DROP TABLE x; --", "$1", "", "   ", #"\x00"#, "e'\\n'",
        ]
        for text in awkward {
            let row = try connection.query("SELECT \(text)::text AS echoed, length(\(text)) AS n").first!
            #expect(try row.decode("echoed", as: String.self) == text)
            #expect(try row.decode("n", as: Int.self) == text.count)
        }
        try connection.execute("CREATE TABLE notes (body text)")
        for text in awkward { try connection.execute("INSERT INTO notes VALUES (\(text))") }
        let stored = try connection.query("SELECT body FROM notes").map { try $0.decode("body", as: String.self) }
        #expect(Set(stored) == Set(awkward))
    }

    @Test func awkwardStringsTravelIntactInArrayBinds() throws {
        let connection = try TestDatabase.connect(try TestDatabase.empty())
        defer { connection.close() }
        let awkward: [String?] = [
            "O'Reilly", #"back\slash"#, "double \"quote\"", "{brace}, comma", "NULL", nil, "tab\there", "new\nline",
            "ünïcödé ✓ 日本語 🚀", #"{"json": "with \"escapes\" and \\ backslashes"}"#, "", "   ",
        ]
        let rows = try connection.query(
            "SELECT t FROM unnest(\(awkward)::text[]) WITH ORDINALITY AS u(t, n) ORDER BY n")
        #expect(try rows.map { try $0.decode("t", as: String?.self) } == awkward)
    }

    @Test func timestampTextMatchesWhatPostgreSQLWrites() throws {
        let connection = try TestDatabase.connect(try TestDatabase.empty())
        defer { connection.close() }
        try connection.execute("SET TimeZone = 'UTC'")
        for seconds in [1_764_051_420.123456, 0, -86_400.5, 951_782_400.000_001, 4_102_444_799.999_999] {
            let date = Date(timeIntervalSince1970: seconds)
            let row = try connection.query(
                """
                SELECT to_char(to_timestamp(\(seconds)::float8), 'YYYY-MM-DD HH24:MI:SS.US') || '+00' AS plain,
                       to_char(to_timestamp(\(seconds)::float8), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS iso
                """
            ).first!
            #expect(Timestamp.format(date) == (try row.decode("plain", as: String.self)), "\(seconds)")
            #expect(Timestamp.iso8601(date) == (try row.decode("iso", as: String.self)), "\(seconds)")
            #expect(
                Timestamp.parse(Timestamp.iso8601(date)).map { abs($0.timeIntervalSince(date)) < 0.000_001 } == true)
        }
    }

    /// The report's times are cut to the millisecond they fall in, from the microsecond the database
    /// sent (a `Date` holds it only to within a fraction of one, either side).
    @Test func timestampsCutToTheMillisecondTheyFallIn() throws {
        let connection = try TestDatabase.connect(try TestDatabase.empty())
        defer { connection.close() }
        try connection.execute("SET TimeZone = 'UTC'")
        let samples = [
            "2026-03-01 09:30:00.123", "2026-03-01 09:30:00.123999", "2026-03-01 09:30:00.999999",
            "2026-03-01 09:30:00.000001", "2026-03-01 09:30:00.1", "1969-12-31 23:59:59.9995", "2026-03-01 09:30:00",
        ]
        for text in samples {
            let row = try connection.query(
                """
                SELECT \(text)::timestamptz AS at,
                       to_char(date_trunc('milliseconds', \(text)::timestamptz), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ms,
                       to_char(\(text)::timestamptz, 'YYYY-MM-DD HH24:MI:SS.US') || '+00' AS plain
                """
            ).first!
            let at: Date = try row.decode("at")
            let millis = try row.decode("ms", as: String.self)
            #expect(Timestamp.iso8601Milliseconds(at) == millis, "\(text)")
            #expect(Timestamp.iso8601Milliseconds(Timestamp.truncatedToMillisecond(at)) == millis, "\(text)")
            // The microsecond text is PostgreSQL's own, not one below it.
            #expect(Timestamp.format(at) == (try row.decode("plain", as: String.self)), "\(text)")
            let fraction = text.split(separator: ".").dropFirst().first
            let whole = fraction.map { $0.count <= 3 || $0.hasSuffix("000") } ?? true
            #expect(Timestamp.iso8601Bound(at) == (whole ? millis : Timestamp.iso8601(at)), "\(text)")
        }
    }

    @Test func nullsAndTypesDecode() throws {
        let connection = try TestDatabase.connect(try TestDatabase.empty())
        defer { connection.close() }
        let when = Date(timeIntervalSince1970: 1_764_051_420.123456)
        let missing: String? = nil
        let row = try connection.query(
            """
            SELECT \(missing)::text AS nothing, \(42)::int AS answer, \(true)::bool AS yes,
                   \(when)::timestamptz AS at, \(Int64.max)::bigint AS big, 0.1::float8 AS f
            """
        ).first!
        #expect(try row.decode("nothing", as: String?.self) == nil)
        #expect(throws: PostgresError.self) { try row.decode("nothing", as: String.self) }
        #expect(try row.decode("answer", as: Int.self) == 42)
        #expect(try row.decode("yes", as: Bool.self))
        let at: Date = try row.decode("at")
        #expect(abs(at.timeIntervalSince1970 - when.timeIntervalSince1970) < 0.000_001)
        #expect(try row.decode("big", as: Int64.self) == Int64.max)
        #expect(try row.decode("f", as: Double.self) == 0.1)
        let error = #expect(throws: PostgresError.self) { try row.decode("missing_column", as: Int.self) }
        #expect(error?.code == .noSuchColumn)
    }

    @Test func transactionRollsBackWhenBodyThrows() throws {
        struct Boom: Error {}
        let connection = try TestDatabase.connect(try TestDatabase.empty())
        defer { connection.close() }
        try connection.execute("CREATE TABLE t (n int)")
        #expect(throws: Boom.self) {
            try connection.withTransaction {
                try connection.execute("INSERT INTO t VALUES (1)")
                try connection.execute("INSERT INTO t VALUES (2)")
                throw Boom()
            }
        }
        #expect(try connection.query("SELECT count(*) AS n FROM t").first!.decode("n", as: Int.self) == 0)
        _ = try connection.withTransaction { try connection.execute("INSERT INTO t VALUES (3)") }
        #expect(try connection.query("SELECT count(*) AS n FROM t").first!.decode("n", as: Int.self) == 1)
    }

    @Test func uniqueViolationIsNamed() throws {
        let connection = try TestDatabase.connect(try TestDatabase.empty())
        defer { connection.close() }
        try connection.execute("CREATE TABLE k (id text PRIMARY KEY)")
        try connection.execute("INSERT INTO k VALUES (\("a"))")
        let error = #expect(throws: PostgresError.self) { try connection.execute("INSERT INTO k VALUES (\("a"))") }
        #expect(error?.code == .uniqueViolation)
        #expect(error?.sqlState == "23505")
        // The connection stays usable after an error.
        #expect(try connection.execute("INSERT INTO k VALUES (\("b"))") == 1)
    }

    @Test func lockNotAvailableIsNamed() throws {
        let url = try TestDatabase.empty()
        let a = try TestDatabase.connect(url)
        let b = try TestDatabase.connect(url)
        defer { a.close(); b.close() }
        try a.execute("CREATE TABLE l (id int)")
        try a.execute("BEGIN")
        try a.execute("LOCK TABLE l IN ACCESS EXCLUSIVE MODE")
        let error = #expect(throws: PostgresError.self) {
            try b.withTransaction { try b.execute("LOCK TABLE l IN ACCESS EXCLUSIVE MODE NOWAIT") }
        }
        #expect(error?.code == .lockNotAvailable)
        try a.execute("ROLLBACK")
    }

    @Test func syntaxErrorCarriesTheQueryButNotTheValues() throws {
        let connection = try TestDatabase.connect(try TestDatabase.empty())
        defer { connection.close() }
        let secret = "s3cr3t-value"
        let error = #expect(throws: PostgresError.self) { try connection.query("SELEC \(secret)") }
        #expect(error?.code == .syntaxError)
        #expect(error?.description.contains("SELEC $1") == true)
        #expect(error?.description.contains(secret) == false)
    }

    @Test func badConninfoIsAConnectionError() {
        let error = #expect(throws: PostgresError.self) {
            _ = try Connection(
                conninfo: "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", logger: Logger(label: "t"))
        }
        #expect(error?.code == .connectionFailed)
    }

    @Test func noticesGoToTheLogger() throws {
        let capture = LogCapture()
        let connection = try Connection(conninfo: try TestDatabase.empty(), logger: capture.logger())
        defer { connection.close() }
        try connection.execute("DO $$ BEGIN RAISE NOTICE 'hello from the server'; RAISE WARNING 'careful'; END $$")
        #expect(capture.messages.contains { $0.contains("hello from the server") })
        #expect(capture.messages.contains { $0.contains("careful") })
    }

    @Test func streamingVisitsEveryRowOnce() throws {
        let connection = try TestDatabase.connect(try TestDatabase.empty())
        defer { connection.close() }
        var total = 0
        let count = try connection.forEachRow("SELECT g AS n FROM generate_series(1, \(50_000)) g") { row in
            total += try row.decode("n", as: Int.self)
        }
        #expect(count == 50_000)
        #expect(total == 50_000 * 50_001 / 2)
        // Stopping early cancels the query and leaves the connection usable.
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try connection.forEachRow("SELECT g FROM generate_series(1, 10000000) g") { _ in throw Stop() }
        }
        #expect(try connection.query("SELECT 1 AS one").first!.decode("one", as: Int.self) == 1)
    }

    @Test func queryFragmentsRenumberTheirBinds() throws {
        let connection = try TestDatabase.connect(try TestDatabase.empty())
        defer { connection.close() }
        let filter: Query = "a = \(1) AND b = \(2)"
        let query: Query = "SELECT \(10)::int + \(20)::int AS s WHERE \(filter.sql == "a = $1 AND b = $2") AND \(3) = 3"
        #expect(try connection.query(query).first!.decode("s", as: Int.self) == 30)
        var combined: Query = "SELECT x FROM (VALUES (1, 1, 2), (2, 1, 3)) v(x, a, b) WHERE "
        combined.append(filter)
        #expect(combined.sql.hasSuffix("a = $1 AND b = $2"))
        #expect(try connection.query(combined).map { try $0.decode("x", as: Int.self) } == [1])
        let nested: Query = "SELECT \(5)::int AS five, x FROM (VALUES (1, 1, 2)) v(x, a, b) WHERE \(filter)"
        #expect(nested.sql.contains("WHERE a = $2 AND b = $3"))
        #expect(try connection.query(nested).first!.decode("five", as: Int.self) == 5)
    }
}
