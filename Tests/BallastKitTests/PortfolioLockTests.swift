import BallastKit
import BallastLab
import BallastTesting
import Foundation
import Testing

/// Issue 14 §2: locks per portfolio, not per database.
@Suite(.serialized) struct PortfolioLockTests {
    @Test func aRunRefusesOrWaitsForAPortfolioAnotherRunTradesAndDisjointRunsProceed() async throws {
        let venues = try SimulatedVenues(venues: 3, seed: 21)
        defer { venues.stop() }
        let url = try TestDatabase.migrated()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-locks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let demoJob = folder.appendingPathComponent("demo.toml").path
        let otherJob = folder.appendingPathComponent("other.toml").path
        try venues.jobTOML.write(toFile: demoJob, atomically: true, encoding: .utf8)
        try venues.jobTOML.replacingOccurrences(of: "id = \"demo\"", with: "id = \"other\"")
            .write(toFile: otherJob, atomically: true, encoding: .utf8)
        let environment = venues.environment.merging(["BALLAST_DATABASE_URL": url]) { $1 }
        func run(_ job: String, _ extra: [String] = []) throws -> BallastBinary.Outcome {
            try BallastBinary.run(
                ["run", "--job", job, "--out", folder.appendingPathComponent("out").path] + extra,
                environment: environment)
        }
        let connection = try TestDatabase.connect(url)
        defer { connection.close() }
        func batches(_ portfolio: String) throws -> Int {
            try connection.query("SELECT count(*) AS n FROM batches WHERE portfolio_id = \(portfolio)")[0].decode("n")
        }

        // A run in progress on 'demo': its session holds the portfolio's lock.
        let holder = try TestDatabase.connect(url)
        defer { holder.close() }
        let holding = try JobRun.start("run", on: holder)
        #expect(try AdvisoryLock.portfolio("demo").tryLock(on: holder))

        let refused = try run(demoJob)
        #expect(refused.status == 75, "\(refused.stderr.suffix(1500))")
        #expect(
            refused.stderr.contains("portfolio 'demo' is being traded by run \(holding.id) (host "),
            "\(refused.stderr.suffix(1500))")
        #expect(try batches("demo") == 0, "the refused run traded nothing")

        // A run over a disjoint portfolio proceeds meanwhile.
        let other = try run(otherJob)
        #expect(other.status == 0, "\(other.stderr.suffix(1500))")
        #expect(try batches("other") > 0)

        // With --wait, a run waits for the holder and proceeds once it ends.
        func sessions() throws -> Int {
            try connection.query(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database()")[0].decode("n")
        }
        let before = try sessions()
        // Started without blocking a thread of the test's pool: the test must go on to release the lock.
        let waiting = Process()
        waiting.executableURL = BallastBinary.url
        waiting.arguments = [
            "run", "--job", demoJob, "--out", folder.appendingPathComponent("out").path, "--wait", "60",
        ]
        waiting.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let log = folder.appendingPathComponent("waiting.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: log)
        waiting.standardError = logHandle
        let stdout = Pipe()
        waiting.standardOutput = stdout
        try waiting.run()
        // Until the waiting run has connected (and found the portfolio held), then a little longer.
        // Blocking sleeps: no suspension point until the release, however busy the test pool is.
        for _ in 0..<100 where try sessions() <= before { usleep(100_000) }
        usleep(500_000)
        try AdvisoryLock.portfolio("demo").unlock(on: holder)
        try holding.finish(on: holder)
        let printed = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        waiting.waitUntilExit()
        try logHandle.close()
        let waited = BallastBinary.Outcome(
            status: waiting.terminationStatus, stdout: printed,
            stderr: try String(contentsOf: log, encoding: .utf8))
        #expect(waited.status == 0, "\(waited.stderr.suffix(1500))")
        #expect(waited.stderr.contains("portfolio 'demo' is being traded by run \(holding.id)"))
        #expect(waited.stderr.contains("waiting up to 60 s"))
        let report = String(waited.stdout.split(separator: "\n").last ?? "")
        #expect(FileManager.default.fileExists(atPath: report + "/audit.xlsx"), "the waiting run ran to its report")

        // Two runs over disjoint portfolios at the same moment: both finish.
        async let first = Task.detached { try run(demoJob) }.value
        async let second = Task.detached { try run(otherJob) }.value
        let (a, b) = try await (first, second)
        #expect(a.status == 0 && b.status == 0, "\(a.stderr.suffix(800)) \(b.stderr.suffix(800))")
    }
}
