import BallastKit
import BallastLab
import BallastTesting
import Foundation
import Simulator
import Testing

/// Issue 14 §3: a run killed mid-step resumes and completes without repeating finished steps.
@Suite(.serialized) struct RunResumeTests {
    @Test func aRunKilledDuringExecuteResumesWithoutRepeatingItsFinishedSteps() async throws {
        let venues = try SimulatedVenues(venues: 3, seed: 29)
        defer { venues.stop() }
        // Order requests take 4 s, so the run is surely inside its execute step when it is killed.
        for venue in venues.simulator.venues {
            venue.addFault(FaultRule(kind: .delay, method: "POST", path: "/api/v3/order", count: nil, delayMs: 4000))
        }
        let url = try TestDatabase.migrated()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ballast-resume-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let job = folder.appendingPathComponent("demo.toml").path
        try venues.jobTOML.write(toFile: job, atomically: true, encoding: .utf8)
        let environment = venues.environment.merging(["BALLAST_DATABASE_URL": url]) { $1 }
        let out = folder.appendingPathComponent("out").path
        let connection = try TestDatabase.connect(url)
        defer { connection.close() }

        let process = Process()
        process.executableURL = BallastBinary.url
        process.arguments = ["run", "--job", job, "--out", out]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Polled with a blocking sleep: no suspension point until the kill, so a busy test pool (the
        // whole suite runs at once) cannot hold this test back while the run finishes.
        var executing = false
        for _ in 0..<1200 where !executing {
            usleep(50_000)
            executing =
                try connection.query(
                    "SELECT count(*) AS n FROM run_steps WHERE step = 'execute' AND outcome = 'running'")[0].decode(
                    "n", as: Int.self) == 1
        }
        #expect(executing, "the run never reached its execute step")
        usleep(300_000)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()

        let runID: String = try connection.query("SELECT id FROM job_runs WHERE command = 'run'")[0].decode("id")
        let listed = try BallastBinary.run(["runs"], environment: environment)
        #expect(listed.status == 0 && listed.stdout.contains("\(runID)"), "\(listed.stdout)")
        #expect(listed.stdout.contains("interrupted"), "\(listed.stdout)")
        let lines = listed.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        #expect(lines.contains("3 propose completed") || lines.contains { $0.hasPrefix("3 propose completed ") })
        #expect(lines.contains { $0.hasPrefix("4 execute running") }, "\(listed.stdout)")
        func stepRows() throws -> [String: (started: Date, attempts: Int, outcome: String)] {
            try connection.query("SELECT step, started_at, attempts, outcome FROM run_steps WHERE run_id = \(runID)")
                .reduce(into: [:]) {
                    $0[try $1.decode("step")] = (
                        try $1.decode("started_at"), try $1.decode("attempts"), try $1.decode("outcome")
                    )
                }
        }
        let before = try stepRows()
        let decisions: Int = try connection.query("SELECT count(*) AS n FROM decisions")[0].decode("n")
        let orders: Int = try connection.query("SELECT count(*) AS n FROM orders")[0].decode("n")

        for venue in venues.simulator.venues { venue.clearFaults() }
        // Another job file is refused: a run resumes with the configuration it started with.
        let otherJob = folder.appendingPathComponent("other.toml").path
        try venues.jobTOML.replacingOccurrences(of: "\"0.40\"", with: "\"0.45\"").replacingOccurrences(
            of: "\"0.20\" }", with: "\"0.15\" }"
        ).write(toFile: otherJob, atomically: true, encoding: .utf8)
        let refused = try BallastBinary.run(
            ["run", "--job", otherJob, "--out", out, "--resume", runID], environment: environment)
        #expect(refused.status == 65 && refused.stderr.contains("another job configuration"), "\(refused.stderr)")

        let resumed = try BallastBinary.run(
            ["run", "--job", job, "--out", out, "--resume", runID], environment: environment)
        #expect(resumed.status == 0, "\(resumed.stderr.suffix(2000))")
        #expect(
            resumed.stderr.contains("resuming run \(runID): skipping pull, reconcile, propose"), "\(resumed.stderr)")
        let after = try stepRows()
        for step in ["pull", "reconcile", "propose"] {
            #expect(after[step]?.started == before[step]?.started && after[step]?.attempts == 1, "\(step)")
        }
        #expect(after["execute"]?.attempts == 2)
        #expect(RunJob.steps(.nightly).allSatisfy { after[$0]?.outcome == "completed" }, "\(after)")
        #expect(try connection.query("SELECT count(*) AS n FROM decisions")[0].decode("n", as: Int.self) == decisions)
        #expect(try connection.query("SELECT count(*) AS n FROM orders")[0].decode("n", as: Int.self) == orders)
        let run = try connection.query("SELECT status, resumed FROM job_runs WHERE id = \(runID)")[0]
        #expect(try run.decode("status", as: String.self) == "succeeded" && run.decode("resumed", as: Int.self) == 1)
        // Every order reached the venue once.
        var placed: [String: Int] = [:]
        for venue in venues.simulator.venues {
            for order in venue.orders(apiKey: venue.config.accounts[0].apiKey) {
                placed[order.clientOrderId, default: 0] += 1
            }
        }
        #expect(placed.values.allSatisfy { $0 == 1 } && placed.count == orders, "\(placed)")

        let again = try BallastBinary.run(
            ["run", "--job", job, "--out", out, "--resume", runID], environment: environment)
        #expect(again.status == 65 && again.stderr.contains("nothing to resume"), "\(again.stderr)")
    }
}
