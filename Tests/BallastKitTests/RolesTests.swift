import BallastKit
import BallastLab
import BallastTesting
import Foundation
import Postgres
import Testing

/// Issue 12 §4: `ballast_app` runs the whole job without DDL and cannot change the record;
/// `ballast_reader` reads only.
@Suite(.serialized) struct RolesTests {
    /// A new login role in `group`; `url` with that role as its user.
    static func login(in group: String, on url: String) throws -> String {
        let name = group + "_" + UUID().uuidString.prefix(8).lowercased()
        let admin = try TestDatabase.connect(url)
        defer { admin.close() }
        try admin.execute(Query(unsafeSQL: "CREATE ROLE \(name) LOGIN IN ROLE \(group)"))
        var components = URLComponents(string: url)!
        components.user = name
        return components.string!
    }

    @Test func theWholeJobRunsAsBallastApp() async throws {
        let venues = try SimulatedVenues(venues: 3, seed: 5)
        defer { venues.stop() }
        let owner = try TestDatabase.migrated()
        let app = try Self.login(in: "ballast_app", on: owner)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("roles-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let job = folder.appendingPathComponent("job.toml").path
        try venues.jobTOML.write(toFile: job, atomically: true, encoding: .utf8)
        let environment = venues.environment.merging(["BALLAST_DATABASE_URL": app]) { $1 }

        let run = try BallastBinary.run(
            ["run", "--job", job, "--migrate", "--out", folder.appendingPathComponent("out").path],
            environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        for arguments in [["audit", "verify"], ["runs"], ["db", "status"], ["db", "migrate"]] {
            let outcome = try BallastBinary.run(arguments, environment: environment)
            #expect(outcome.status == 0, "\(arguments): \(outcome.stderr)")
        }
        let admin = try TestDatabase.connect(owner)
        defer { admin.close() }
        let filled = try admin.query("SELECT count(*) AS n FROM orders WHERE state = 'filled'")[0].decode(
            "n", as: Int.self)
        #expect(filled > 0)
        let runs = try admin.query("SELECT count(*) AS n FROM job_runs WHERE status = 'succeeded'")[0].decode(
            "n", as: Int.self)
        #expect(runs >= 1)
        let reports =
            FileManager.default.enumerator(atPath: folder.appendingPathComponent("out").path)?
            .compactMap { $0 as? String }.filter { $0.hasSuffix("audit.xlsx") } ?? []
        #expect(reports.count == 1)
    }

    @Test func ballastAppCannotChangeTheRecordNorTheSchema() throws {
        let owner = try TestDatabase.migrated()
        let app = try TestDatabase.connect(try Self.login(in: "ballast_app", on: owner))
        defer { app.close() }
        func refused(_ sql: String) {
            do {
                try app.execute(Query(unsafeSQL: sql))
                Issue.record("ballast_app was allowed: \(sql)")
            } catch {
                #expect(error.code == .insufficientPrivilege, "\(sql): \(error)")
            }
        }
        for table in [
            "decisions", "order_attempts", "fills", "http_attempts", "book_tickers", "balances", "input_versions",
        ] {
            refused("DELETE FROM \(table)")
            refused("TRUNCATE \(table)")
        }
        for sql in [
            "UPDATE decisions SET kind = 'x'", "UPDATE order_attempts SET outcome = 'x'", "UPDATE fills SET qty = 0",
            "UPDATE http_attempts SET started_at = now()", "UPDATE http_attempts SET client_order_id = 'x'",
            "ALTER TABLE decisions DISABLE TRIGGER decisions_append_only", "CREATE TABLE scratch (a int)",
            "DROP VIEW decision_records",
            "CREATE OR REPLACE FUNCTION ballast_refuse_change() RETURNS trigger "
                + "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
        ] {
            refused(sql)
        }
        // What the job does is allowed: a request on record, then its answer filled in once.
        let id: Int64 = try app.query(
            """
            INSERT INTO http_attempts (venue_id, method, endpoint, started_at, outcome)
            VALUES ('v', 'GET', '/api/v3/time', now(), 'pending') RETURNING id
            """)[0].decode("id")
        #expect(try app.execute("UPDATE http_attempts SET outcome = 'ok', total_ms = 3 WHERE id = \(id)") == 1)

        let reader = try TestDatabase.connect(try Self.login(in: "ballast_reader", on: owner))
        defer { reader.close() }
        #expect(try reader.query("SELECT count(*) AS n FROM http_attempts")[0].decode("n", as: Int.self) == 1)
        #expect(try reader.query("SELECT count(*) AS n FROM decision_records")[0].decode("n", as: Int.self) == 0)
        #expect(throws: PostgresError.self) { try reader.execute("INSERT INTO venues VALUES ('x', 'y', 'z')") }
    }
}
