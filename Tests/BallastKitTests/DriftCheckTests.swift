import BallastCore
import BallastKit
import BallastLab
import BallastTesting
import Foundation
import Postgres
import Simulator
import Testing

/// Issue 14 §1 and §6: the drift-check trigger against simulated venues over HTTP, and the exit code
/// for a run that finished with something to look at.
@Suite(.serialized) struct DriftCheckTests {
    @Test func aDriftCheckTradesOnlyWhereABandIsBreachedAndItsVenuesAnswered() async throws {
        let venues = try SimulatedVenues(venues: 3, seed: 31)
        defer { venues.stop() }
        let url = try TestDatabase.migrated()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-drift-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let job = folder.appendingPathComponent("demo.toml").path
        try venues.jobTOML.write(toFile: job, atomically: true, encoding: .utf8)
        // The same job with its trigger in the file instead of on the command line.
        let checkJob = folder.appendingPathComponent("check.toml").path
        try ("[run]\ntrigger = \"drift-check\"\n" + venues.jobTOML).write(
            toFile: checkJob, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("out")
        let environment = venues.environment.merging(["BALLAST_DATABASE_URL": url]) { $1 }
        func run(_ arguments: [String]) throws -> BallastBinary.Outcome {
            try BallastBinary.run(["run", "--out", out.path] + arguments, environment: environment)
        }
        let connection = try TestDatabase.connect(url)
        defer { connection.close() }
        func lastRun() throws -> (id: String, command: String) {
            let row = try connection.query("SELECT id, command FROM job_runs ORDER BY started_at DESC LIMIT 1")[0]
            return (try row.decode("id"), try row.decode("command"))
        }
        func count(_ sql: String, _ run: String) throws -> Int {
            try connection.query(Query(unsafeSQL: sql.replacingOccurrences(of: "$RUN", with: "$1"), binds: [run]))[0]
                .decode("n")
        }
        func steps(_ run: String) throws -> [String: RunSteps.Step] {
            Dictionary(try RunSteps.of([run], on: connection).map { ($0.step, $0) }) { a, _ in a }
        }

        // The nightly brings the portfolio onto its targets.
        let nightly = try run(["--job", job])
        #expect(nightly.status == 0, "\(nightly.stderr.suffix(2000))")
        #expect(try lastRun().command == "run")

        // A drift check right after: within bands, so nothing proposed, nothing sent, no report.
        let calm = try run(["--job", job, "--trigger", "drift-check"])
        #expect(calm.status == 0, "\(calm.stderr.suffix(2000))")
        let calmRun = try lastRun()
        #expect(calmRun.command == "drift-check")
        #expect(calm.stdout.isEmpty, "no report folder: \(calm.stdout)")
        var recorded = try steps(calmRun.id)
        #expect(Set(recorded.keys) == Set(RunJob.steps(.driftCheck)))
        #expect(recorded.values.allSatisfy { $0.outcome == "completed" }, "\(recorded)")
        #expect(recorded["report"]?.detail == "nothing traded")
        #expect(try count("SELECT count(*) AS n FROM batches WHERE run_id = $RUN", calmRun.id) == 0)
        // Balances and books only: no fill history, no open orders asked for.
        #expect(
            try count(
                "SELECT count(*) AS n FROM http_attempts WHERE run_id = $RUN AND endpoint LIKE '%account%'",
                calmRun.id) == 3)
        #expect(
            try count(
                """
                SELECT count(*) AS n FROM http_attempts WHERE run_id = $RUN
                  AND (endpoint LIKE '%myTrades%' OR endpoint LIKE '%openOrders%')
                """, calmRun.id) == 0)
        #expect(try count("SELECT count(*) AS n FROM fills WHERE run_id = $RUN", calmRun.id) == 0)

        // A large deposit breaches the band; one venue answers garbage meanwhile: the portfolio, which
        // holds an account there, is not decided on its stale balance.
        let venueA = venues.simulator.venues[0]
        venueA.deposit(apiKey: venueA.config.accounts[0].apiKey, asset: "USDT", amount: ExactDecimal(250_000))
        let down = venues.simulator.venues[2]
        down.addFault(FaultRule(kind: .malformed, count: nil))
        let blind = try run(["--job", checkJob])
        #expect(blind.status == 0, "\(blind.stderr.suffix(2000))")
        let blindRun = try lastRun()
        #expect(blindRun.command == "drift-check")
        #expect(blind.stderr.contains("portfolio demo: not checked, venue(s) \(down.name) did not answer"))
        #expect(try count("SELECT count(*) AS n FROM batches WHERE run_id = $RUN", blindRun.id) == 0)
        recorded = try steps(blindRun.id)
        #expect(recorded["pull"]?.detail?.contains("1 not: \(down.name)") == true, "\(recorded)")

        // Every venue answers again: the breach is traded, measured and reported.
        down.clearFaults()
        let breached = try run(["--job", checkJob])
        #expect([0, 3].contains(breached.status), "\(breached.stderr.suffix(2000))")
        let breachedRun = try lastRun()
        #expect(try count("SELECT count(*) AS n FROM batches WHERE run_id = $RUN", breachedRun.id) == 1)
        #expect(
            try count(
                """
                SELECT count(*) AS n FROM orders o JOIN batches b ON b.id = o.batch_id
                WHERE b.run_id = $RUN AND o.state = 'filled'
                """, breachedRun.id) > 0)
        #expect(try count("SELECT count(*) AS n FROM route_measures WHERE run_id = $RUN", breachedRun.id) > 0)
        let reportFolder = breached.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(FileManager.default.fileExists(atPath: reportFolder + "/audit.xlsx"), "\(breached.stdout)")
        #expect(reportFolder.hasSuffix(breachedRun.id))

        // Trading in the account outside Ballast: the nightly reconciles it as a break and exits 3.
        try venueA.tradeElsewhere(
            apiKey: venueA.config.accounts[0].apiKey, symbol: "BTCUSDT", side: .buy, quantity: ExactDecimal("0.01")!)
        let flagged = try run(["--job", job])
        #expect(flagged.status == 3, "\(flagged.stderr.suffix(2000))")
        #expect(flagged.stderr.contains("reconciliation break(s)"), "\(flagged.stderr.suffix(1000))")
        let flaggedRun = try lastRun()
        #expect(try count("SELECT count(*) AS n FROM reconciliation_breaks WHERE run_id = $RUN", flaggedRun.id) > 0)
        #expect(try steps(flaggedRun.id).values.allSatisfy { $0.outcome == "completed" })
        #expect(!flagged.stdout.isEmpty, "the report is written all the same")

        // A trigger no one knows is refused before anything runs.
        let unknown = try run(["--job", job, "--trigger", "hourly"])
        #expect(unknown.status != 0 && unknown.stderr.contains("unknown --trigger 'hourly'"), "\(unknown.stderr)")
        let badFile = folder.appendingPathComponent("bad.toml").path
        try ("[run]\ntrigger = \"hourly\"\n" + venues.jobTOML).write(toFile: badFile, atomically: true, encoding: .utf8)
        let refused = try run(["--job", badFile])
        #expect(refused.status == 65, "\(refused.stderr)")
        #expect(
            refused.stderr.contains("bad.toml:2: field run.trigger: unknown trigger 'hourly'"),
            "\(refused.stderr)")
    }
}
