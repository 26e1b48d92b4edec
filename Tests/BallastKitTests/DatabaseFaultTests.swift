import BallastCore
import BallastKit
import BallastLab
import BallastTesting
import Foundation
import Logging
import Postgres
import Testing

/// The order ledger under a failing database: a private cluster of the test's own is crashed
/// (`pg_ctl stop -m immediate`) or frozen (SIGSTOP) under a running `ballast execute`, then
/// brought back and execute rerun. The server's default is asynchronous commit; Ballast's
/// sessions override it. Each trial checks at the venues: no duplicate, nothing live or
/// unresolved, balances equal to start + the fills ledger, and every order's placing request on record.
@Suite(.serialized) struct DatabaseFaultTests {
    /// Runs `body` with a campaign on a fresh private cluster (a fresh database per trial), then removes the cluster.
    static func withCampaign<T>(conninfoSuffix: String = "", _ body: (CrashCampaign) async throws -> T) async throws
        -> T
    {
        let cluster = try PrivateCluster(settings: ["fsync=off", "full_page_writes=off", "synchronous_commit=off"])
        defer { cluster.destroy() }
        let campaign = CrashCampaign(
            executable: BallastBinary.url, logger: Logger(label: "test"), cluster: cluster,
            makeDatabase: {
                let name = "trial_" + UUID().uuidString.prefix(8).lowercased()
                let admin = try Connection(conninfo: cluster.url, logger: Logger(label: "test"))
                defer { admin.close() }
                try admin.execute("CREATE DATABASE \(identifier: name)")
                let url = String(cluster.url.dropLast("ballast".count)) + name
                let connection = try Connection(conninfo: url, logger: Logger(label: "test"))
                defer { connection.close() }
                _ = try Migrator(connection: connection, migrations: try Migration.bundled()).migrate()
                return url + conninfoSuffix
            })
        return try await body(campaign)
    }

    /// One crash per delay (plus up to 40 ms), each in a trial of its own.
    static func crashTrials(_ setup: CrashCampaign.Setup = CrashCampaign.Setup()) async throws -> [CrashCampaign.Trial]
    {
        try await withCampaign { campaign in
            var trials: [CrashCampaign.Trial] = []
            for delay in [80, 200, 350, 500, 700, 950] {
                trials.append(
                    try await campaign.run(
                        kill: .databaseCrash(after: .milliseconds(delay + Int.random(in: 0..<40))),
                        resting: delay % 3 == 2, seed: UInt64(delay), setup: setup))
            }
            return trials
        }
    }

    /// Durable commits (the server default of `off` overridden): crashes at random moments.
    @Test func theServerCrashesUnderExecute() async throws {
        let trials = try await Self.crashTrials()
        Self.summarise("durable", trials)
        for trial in trials { #expect(trial.passed, "\(trial)") }
        #expect(trials.filter(\.killed).count >= 3, "too few crashes landed during execute: \(trials)")
    }

    /// Recent commits lost on purpose (asynchronous commit for Ballast's sessions, standing in for
    /// a failover to an asynchronous standby) with `may_lose_commits`: every first send is looked
    /// up first, and nothing is sent twice.
    @Test func theServerCrashesAndLosesRecentCommits() async throws {
        var setup = CrashCampaign.Setup()
        setup.environment["BALLAST_TEST_LOSE_RECENT_COMMITS"] = "1"
        setup.jobExtra = "\n[database]\nmay_lose_commits = true\n"
        let trials = try await Self.crashTrials(setup)
        Self.summarise("commits lost", trials)
        for trial in trials {
            #expect(trial.passed, "\(trial)")
            #expect(trial.checksFirst >= 1, "\(trial)")
        }
        #expect(trials.filter(\.killed).count >= 3, "too few crashes landed during execute: \(trials)")
    }

    /// A frozen server: execute gives up at its deadline (statement_timeout 1.5 s + 2 s grace) with
    /// exit 69, and the rerun, once the server runs again, completes the batch.
    @Test func aFrozenServerEndsExecuteAtTheDeadline() async throws {
        let trial = try await Self.withCampaign(conninfoSuffix: "?options=-c%20statement_timeout%3D1500") { campaign in
            try await campaign.run(kill: .databaseFreeze(after: .milliseconds(300)), resting: true, seed: 9)
        }
        Self.summarise("frozen", [trial])
        #expect(trial.killed && trial.firstExit == 69, "\(trial)")
        #expect(trial.firstSeconds < 0.3 + 3.5 + 1.5, "\(trial)")
        #expect(trial.passed, "\(trial)")
    }

    static func summarise(_ label: String, _ trials: [CrashCampaign.Trial]) {
        let orders = trials.map(\.orders).reduce(0, +)
        print(
            "database faults (\(label)): \(trials.filter(\.killed).count) of \(trials.count) struck during execute, "
                + "\(orders) orders, \(trials.map(\.duplicates).reduce(0, +)) duplicates, "
                + "\(trials.map(\.unresolved).reduce(0, +)) unresolved, "
                + "\(trials.map(\.lookups).reduce(0, +)) lookups, "
                + "\(trials.map(\.checksFirst).reduce(0, +)) checked before a first send, "
                + "\(trials.map(\.ordersWithoutRequest).reduce(0, +)) orders without their request")
        for trial in trials { print("  \(trial)") }
    }
}
