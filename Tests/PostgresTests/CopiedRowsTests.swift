import BallastTesting
import Foundation
import Postgres
import Testing

@Suite struct CopiedRowsTests {
    /// Every column of every row reads the same bytes through COPY as through a query result:
    /// text needing each escape COPY uses, control bytes, empty text, NULL, numbers, times, bools.
    @Test func copiedRowsReadTheSameBytesAsQueryRows() throws {
        let connection = try TestDatabase.connect(try TestDatabase.empty())
        defer { connection.close() }
        try connection.execute("SET TIME ZONE 'UTC'")
        try connection.execute(
            """
            CREATE TABLE t AS
            SELECT i,
                   CASE i % 9 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN E'tab\\there' WHEN 3 THEN E'line\\nbreak\\r'
                              WHEN 4 THEN E'back\\\\slash \\\\N' WHEN 5 THEN E'\\b\\f\\v\\x01 ctl' WHEN 6 THEN '\\N'
                              WHEN 7 THEN 'ünïcødé ≤ σ' ELSE 'plain ' || i END AS note,
                   (i * 1.25 - 7)::numeric(20, 8) AS qty,
                   timestamptz '2026-01-01 00:00:00Z' + i * interval '1.001 seconds' AS at,
                   i % 2 = 0 AS even,
                   CASE WHEN i % 5 = 0 THEN NULL ELSE i END AS maybe
            FROM generate_series(0, 2999) AS i
            """)
        let sql = "SELECT i, note, qty, at, even, maybe FROM t ORDER BY i"
        var expected: [[String?]] = []
        try connection.forEachRow(Query(unsafeSQL: sql)) { row in
            expected.append(
                (0..<6).map { column in row.withRawText(at: column) { $0.map { String(decoding: $0, as: UTF8.self) } } }
            )
        }
        var copied: [[String?]] = []
        let count = try connection.forEachCopiedRow(Query(unsafeSQL: sql), columns: 6) { row in
            #expect(row.count == 6)
            copied.append(
                (0..<6).map { column in
                    row.withRawText(at: column) { bytes -> String? in
                        guard let bytes else { return nil }
                        #expect(bytes.baseAddress![bytes.count] == 0, "each field ends with a NUL")
                        return String(decoding: bytes, as: UTF8.self)
                    }
                })
        }
        #expect(count == 3000)
        #expect(copied == expected)
        #expect(copied[2][1] == "tab\there")
        #expect(copied[3][1] == "line\nbreak\r")
        #expect(copied[4][1] == "back\\slash \\N")
        #expect(copied[6][1] == "\\N", "the text \\N is not NULL")
        #expect(copied[0][1] == nil)
        #expect(copied[1][1] == "")
    }

    /// Values spliced with `literal(_:)` reach the server as the same text, quotes and backslashes
    /// included; COPY refuses binds; a row count that disagrees and a failing query are errors.
    @Test func literalsBindsAndFailures() throws {
        let connection = try TestDatabase.connect(try TestDatabase.empty())
        defer { connection.close() }
        let nasty = "it's a \\back'; DROP TABLE x; --"
        let query = Query(
            unsafeSQL: "SELECT \(try connection.literal(nasty)) AS a, \(try connection.literal(nil)) AS b")
        var seen: [String?] = []
        try connection.forEachCopiedRow(query, columns: 2) { row in
            for column in 0..<2 {
                seen.append(row.withRawText(at: column) { $0.map { String(decoding: $0, as: UTF8.self) } })
            }
        }
        #expect(seen == [nasty, nil])

        let bound: Query = "SELECT \(1) AS one"
        let refused = #expect(throws: PostgresError.self) {
            try connection.forEachCopiedRow(bound, columns: 1) { _ in }
        }
        #expect(refused?.code == .misuse)

        let wrongWidth = #expect(throws: PostgresError.self) {
            try connection.forEachCopiedRow("SELECT 1, 2", columns: 3) { _ in }
        }
        #expect(wrongWidth?.message.contains("2 fields where the query has 3 columns") == true)

        // The server fails after sending rows: the rows seen so far, then its error.
        var rows = 0
        let failed = #expect(throws: PostgresError.self) {
            try connection.forEachCopiedRow(
                "SELECT 10 / (5000 - i) FROM generate_series(1, 10000) AS i", columns: 1
            ) { _ in rows += 1 }
        }
        #expect(failed?.sqlState == "22012")
        #expect(rows > 0 && rows < 5000)
        // The connection is usable afterwards.
        #expect(try connection.query("SELECT 1 AS one").first!.decode("one", as: Int.self) == 1)
    }
}
