import BallastTesting
import Foundation
import Postgres
import Testing

@Suite struct CopyTests {
    @Test func copyHundredThousandRowsInAndTheirExactSumOut() throws {
        let connection = try TestDatabase.connect(try TestDatabase.empty())
        defer { connection.close() }
        try connection.execute("CREATE TABLE f (id bigint, qty numeric, note text)")
        // Sum in integer units of 10^-8 to check PostgreSQL's numeric sum exactly.
        var units: Int64 = 0
        let stored = try connection.copyIn("COPY f FROM STDIN") { writer in
            for i in 0..<100_000 {
                let u = Int64(i % 9973) * 1_234 + 1
                units += u
                try writer.field(i)
                try writer.field(String(format: "%d.%08d", u / 100_000_000, u % 100_000_000))
                try writer.field(i % 7 == 0 ? "tab\tnew\nline\\back" : nil)
                try writer.endRow()
            }
        }
        #expect(stored == 100_000)
        let row = try connection.query("SELECT count(*) AS n, sum(qty)::text AS total FROM f").first!
        #expect(try row.decode("n", as: Int.self) == 100_000)
        let expected = String(format: "%lld.%08lld", units / 100_000_000, units % 100_000_000)
        #expect(try row.decode("total", as: String.self) == expected)
        let note = try connection.query("SELECT note FROM f WHERE id = 7").first!
        #expect(try note.decode("note", as: String.self) == "tab\tnew\nline\\back")
        #expect(try connection.query("SELECT note FROM f WHERE id = 8").first!.decode("note", as: String?.self) == nil)

        var lines = 0
        var bytes = 0
        let streamed = try connection.copyOut("COPY (SELECT id, qty FROM f ORDER BY id) TO STDOUT") { line in
            lines += 1
            bytes += line.count
        }
        #expect(streamed == 100_000)
        #expect(lines == 100_000)
        #expect(bytes > 1_000_000)
    }

    @Test func copyThatFailsLoadsNothing() throws {
        struct Abort: Error {}
        let connection = try TestDatabase.connect(try TestDatabase.empty())
        defer { connection.close() }
        try connection.execute("CREATE TABLE g (n int)")
        #expect(throws: Abort.self) {
            try connection.copyIn("COPY g FROM STDIN") { writer in
                for i in 0..<10_000 {
                    try writer.field(i)
                    try writer.endRow()
                }
                throw Abort()
            }
        }
        // A bad value rejected by the server also loads nothing.
        let error = #expect(throws: PostgresError.self) {
            try connection.copyIn("COPY g FROM STDIN") { writer in
                try writer.field(1)
                try writer.endRow()
                try writer.field("not a number")
                try writer.endRow()
            }
        }
        #expect(error?.code == .invalidValue)
        #expect(try connection.query("SELECT count(*) AS n FROM g").first!.decode("n", as: Int.self) == 0)
    }
}
