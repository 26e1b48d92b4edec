import BallastKit
import BallastLab
import BallastTesting
import Foundation
import Postgres
import Simulator
import Testing

/// Issue 14 §4: a run split into work units, done by four worker processes (two started by the
/// run, two started apart as on other hosts), one of them SIGKILLed while it executes a batch.
/// A drift check over 1,000 portfolios (one account each, a quarter breaching their band): 1,000
/// account pulls, 250 batches.
@Suite(.serialized) struct WorkersTests {
    @Test func fourWorkersOneKilledDoEveryUnitOnceAndSendNoOrderTwice() async throws {
        let weightLimit = 60_000
        let fleet = try SimulatedFleet(
            portfolios: 1000, venues: 3, seed: 41,
            limits: LimitConfig(requestWeightPerMinute: weightLimit, ordersPer10s: 1000),
            latency: LatencyProfile(baseMs: 1, jitterMs: 1))
        defer { fleet.stop() }
        let url = try TestDatabase.migrated()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ballast-workers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let job = folder.appendingPathComponent("fleet.toml").path
        try fleet.jobTOML.write(toFile: job, atomically: true, encoding: .utf8)
        let environment = ProcessInfo.processInfo.environment.merging(fleet.environment) { $1 }
            .merging(["BALLAST_DATABASE_URL": url]) { $1 }
        func start(_ arguments: [String], log: String) throws -> Process {
            // At lower priority: 1,000 accounts through four processes would otherwise starve the rest of
            // the suite, which runs beside this test (a signed request of another test's venue then
            // arrived outside its 5 s recvWindow). `nice` execs the binary: the pid stays the worker's.
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/nice")
            process.arguments = ["-n", "10", BallastBinary.url.path] + arguments
            process.environment = environment
            FileManager.default.createFile(atPath: folder.appendingPathComponent(log).path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: folder.appendingPathComponent(log))
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            return process
        }
        let connection = try TestDatabase.connect(url)
        defer { connection.close() }
        func value<T: PostgresDecodable>(_ sql: Query, as: T.Type = Int.self) throws -> T {
            try connection.query(sql)[0].decode("v")
        }

        // The run plans its units and starts two workers of its own…
        let out = folder.appendingPathComponent("out").path
        let run = try start(
            ["run", "--job", job, "--trigger", "drift-check", "--out", out, "--workers", "2", "--lease", "3"],
            log: "run.log")
        var planned = false
        for _ in 0..<1200 where !planned {
            usleep(50_000)
            planned = try value("SELECT count(*) AS v FROM work_units") > 0
        }
        try #require(planned, "the run never planned its units")
        // …and two more join, as they would from other hosts.
        let others = try (1...2).map {
            try start(
                ["worker", "--job", job, "--exit-when-idle", "--lease", "3", "--out", out], log: "worker\($0).log")
        }
        // One of them is killed while it executes a batch.
        let victim = others[0]
        let name = "\(ProcessInfo.processInfo.hostName):\(victim.processIdentifier)"
        var executing = false
        for _ in 0..<2400 where !executing {
            usleep(25_000)
            executing =
                try value(
                    "SELECT count(*) AS v FROM work_units WHERE kind = 'execute' AND state = 'claimed' AND worker = \(name)"
                ) > 0
        }
        let states = try connection.query(
            "SELECT stage, kind, state, count(*) AS n, string_agg(DISTINCT worker, ' ') AS w FROM work_units GROUP BY 1, 2, 3 ORDER BY 1"
        ).map {
            "\(try $0.decode("stage", as: Int.self)) \(try $0.decode("kind", as: String.self)) \(try $0.decode("state", as: String.self)) \(try $0.decode("n", as: Int.self)) \(try $0.decode("w", as: String?.self) ?? "")"
        }
        try #require(executing, "worker \(name) never executed a batch: \(states)")
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        run.waitUntilExit()
        others[1].waitUntilExit()
        let runLog = try String(contentsOf: folder.appendingPathComponent("run.log"), encoding: .utf8)
        #expect(run.terminationStatus == 0, "\(runLog.suffix(3000))")
        #expect(others[1].terminationStatus == 0)

        let runID: String = try value("SELECT id AS v FROM job_runs WHERE command = 'drift-check'", as: String.self)
        #expect(try value("SELECT status AS v FROM job_runs WHERE id = \(runID)", as: String.self) == "succeeded")
        // Every unit done, and done once; the killed worker's unit was claimed again.
        #expect(try value("SELECT count(*) AS v FROM work_units WHERE state <> 'done'") == 0)
        #expect(
            try value(
                """
                SELECT count(*) AS v FROM work_units u
                WHERE (SELECT count(*) FROM work_unit_events e WHERE e.unit_id = u.id AND e.event = 'done') <> 1
                """) == 0)
        #expect(
            try value(
                """
                SELECT count(*) AS v FROM work_unit_events e JOIN work_units u ON u.id = e.unit_id
                WHERE e.event = 'reclaimed' AND u.kind = 'execute'
                """) >= 1)
        #expect(try value("SELECT count(DISTINCT worker) AS v FROM work_unit_events") == 4)
        // Every breached portfolio traded in one batch, executed once; the others left alone.
        #expect(try value("SELECT count(*) AS v FROM batches") == fleet.offTarget.count)
        #expect(
            try value("SELECT count(*) AS v FROM batches WHERE portfolio_id <> ALL(\(fleet.offTarget.sorted()))") == 0)
        #expect(try value("SELECT count(*) AS v FROM work_units WHERE kind = 'execute'") == fleet.offTarget.count)
        #expect(try value("SELECT count(*) AS v FROM batches WHERE status <> 'completed'") == 0)
        // At the venues: no order twice, every order Ballast sent is there, no limit exceeded.
        let (orders, duplicates) = fleet.orderCounts()
        #expect(duplicates == 0)
        #expect(orders == (try value("SELECT count(*) AS v FROM orders WHERE venue_order_id IS NOT NULL")))
        for venue in fleet.simulator.venues {
            let stats = venue.statistics
            #expect(stats.rateLimited == 0 && stats.banned == 0, "\(venue.name): \(stats)")
            #expect(stats.maxWeightPerMinute <= weightLimit, "\(venue.name): \(stats.maxWeightPerMinute)")
        }
        // The operator's view: the stages as steps of the run.
        let listed = try BallastBinary.run(["runs", "--last", "1"], environment: ["BALLAST_DATABASE_URL": url])
        for step in ["pull_market", "pull", "pull_books", "propose", "plan_execute", "execute", "report"] {
            #expect(listed.stdout.contains(" \(step) "), "\(listed.stdout)")
        }
        #expect(listed.stdout.contains("unit(s) by"), "\(listed.stdout)")
    }

    /// The nightly split the same way: its units after execution (a second pull and reconcile) and
    /// its report, from `ballast run --simulate --workers 2` as an operator would start it.
    @Test func aNightlyRunWithWorkersPullsAgainReconcilesAndReports() throws {
        let url = try TestDatabase.migrated()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-nightly-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let run = try BallastBinary.run(
            ["run", "--simulate", "--history", "50", "--workers", "2", "--out", out.path],
            environment: ["BALLAST_DATABASE_URL": url])
        // The demo accounts' history is trading Ballast did not do: breaks, so exit 3.
        #expect(run.status == 3, "\(run.stderr.suffix(3000))")
        let folder = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(FileManager.default.fileExists(atPath: folder + "/audit.xlsx"), "\(run.stdout)")
        let connection = try TestDatabase.connect(url)
        defer { connection.close() }
        let steps = try RunSteps.of(
            [try connection.query("SELECT id FROM job_runs WHERE command = 'run'")[0].decode("id", as: String.self)],
            on: connection)
        #expect(
            steps.map(\.step) == [
                "pull_market", "pull", "pull_books", "reconcile", "propose", "plan_execute", "execute",
                "pull_market_after", "pull_after", "pull_books_after", "reconcile_after", "report",
            ])
        #expect(steps.allSatisfy { $0.outcome == "completed" }, "\(steps)")
        #expect(steps.first { $0.step == "execute" }?.detail?.contains("filled") == true, "\(steps)")
        #expect(steps.last?.detail == folder)
        #expect(
            try connection.query("SELECT count(*) AS n FROM fills WHERE order_id IS NOT NULL")[0].decode(
                "n", as: Int.self) > 0)
        // The demo's venues speak three dialects, and the rebalance trades on each: the report has
        // a route at every one, named with its dialect.
        let routes = try String(contentsOfFile: folder + "/routes.csv", encoding: .utf8)
        let lines = routes.split(whereSeparator: \.isNewline).map { $0.split(separator: ",").map(String.init) }
        #expect(
            lines.first?.prefix(3).map { $0.replacingOccurrences(of: "\u{FEFF}", with: "") } == [
                "Route", "Venue", "Dialect",
            ])
        #expect(Set(lines.dropFirst().map { $0[2] }) == ["kraken-spot", "coinbase-advanced", "binance-spot"])
    }
}
