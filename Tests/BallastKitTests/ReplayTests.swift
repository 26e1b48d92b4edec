import BallastCore
import BallastKit
import BallastLab
import BallastTesting
import Foundation
import Testing

/// Replays on short paths: real simulated venues over HTTP on loopback, in virtual time.
@Suite struct ReplayTests {
    /// A 40-minute vol-spike with checks every 5 minutes: small enough for a test, with cash flows to trade.
    static func settings(seed: UInt64 = 7, policies: [ReplayPolicyKind] = ReplayPolicyKind.allCases) -> ReplaySettings {
        var settings = ReplaySettings(path: .scenario(.volSpike))
        settings.seed = seed
        settings.policies = policies
        settings.scenarioSeconds = 2400
        settings.venues = 2
        return settings
    }

    @Test func theSameSeedGivesByteIdenticalJSONAndAnotherSeedAnotherPath() async throws {
        let first = try await Replay(settings: Self.settings()).run().json()
        let again = try await Replay(settings: Self.settings()).run().json()
        let other = try await Replay(settings: Self.settings(seed: 8)).run().json()
        #expect(first == again)
        #expect(first != other)
        // Every policy traded on the cash flows, and the venues' records were measured.
        let result = try JSONDecoder().decode(ReplayResult.self, from: Data(first.utf8))
        for name in ["naive-cron", "fixed-band", "ballast"] {
            let outcome = try #require(result.policies[name])
            #expect(outcome.maxDriftPercent > 10, "\(name): the first deposit moves USDT by more than 10 points")
        }
        #expect(result.policies["naive-cron"]!.orders > 0)
        #expect(result.policies["naive-cron"]!.tradedNotional.isPositive)
        #expect(result.policies["fixed-band"]!.orders > 0)
    }

    @Test func naiveRetriesBecomeDuplicatesWhereBallastLooksUpFirst() async throws {
        // Every order request is placed and then answered "execution status unknown".
        var settings = Self.settings(policies: [.naiveCron, .fixedBand])
        settings.orderFaultRate = 1
        let result = try await Replay(settings: settings).run()
        let naive = try #require(result.policies["naive-cron"])
        let ballast = try #require(result.policies["fixed-band"])
        // The naive bot resent each MARKET order with the same id, up to four more times; the venue,
        // which keeps ids unique only among open orders, placed each resend its balance allowed.
        #expect(naive.duplicates > 0)
        #expect(naive.duplicates >= naive.orders / 2)
        #expect(ballast.orders > 0)
        #expect(ballast.duplicates == 0)
    }

    @Test func aBadOHLCVRowIsNamedByFileAndLine() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ballast-replay-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let files = try SyntheticOHLCV(
            start: Date(timeIntervalSince1970: 1_767_225_600), bars: 12, interval: 300, seed: 3
        ).write([SyntheticOHLCV.demoAssets[0]], into: folder)
        var lines = try String(contentsOfFile: files["BTC"]!, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[5] = lines[5].replacingOccurrences(of: ",", with: ",x", options: [], range: nil)
        try (lines.joined(separator: "\n") + "\n").write(toFile: files["BTC"]!, atomically: true, encoding: .utf8)
        var settings = ReplaySettings(path: .ohlcv(files))
        settings.policies = [.naiveCron]
        await #expect {
            _ = try await Replay(settings: settings).run()
        } throws: { error in
            "\(error)".contains("BTC.csv:6")
        }
    }

    @Test func anOHLCVReplayRunsFromTheFilesFirstBarToTheirLast() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ballast-replay-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let files = try SyntheticOHLCV(
            start: Date(timeIntervalSince1970: 1_767_225_600), bars: 12, interval: 300, seed: 3
        ).write(into: folder)
        var settings = ReplaySettings(path: .ohlcv(files))
        settings.policies = [.naiveCron, .ballast]
        let result = try await Replay(settings: settings).run()
        #expect(result.seconds == 3600)
        #expect(result.checks == 13)
        #expect(result.policies["naive-cron"]!.rebalances > 0)
    }

    @Test func theReportHoldsWhatTheResultSays() async throws {
        let result = try await Replay(settings: Self.settings(policies: [.naiveCron, .fixedBand])).run()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-replay-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        try ReplayReport.write(
            result, policies: ["naive-cron", "fixed-band"], templates: AuditReportTests.templatesFolder, to: out)
        let dump = try Openpyxl.inspect(out.appendingPathComponent("replay.xlsx").path)
        let policies = try #require(dump.sheet("Policies"))
        #expect(policies.rows[1][0].value.string == "naive-cron")
        #expect(policies.rows[1][2].value.number == Double(result.policies["naive-cron"]!.orders))
        #expect(policies.rows[2][4].value.number == result.policies["fixed-band"]!.tradedNotional.doubleValue)
        #expect(policies.charts.count == 1)
        let drift = try #require(dump.sheet("Drift"))
        #expect(drift.maxRow == result.checks + 2)  // a header, the checks and the end
        #expect(drift.charts.first?.type == "LineChart")
        let orders = try #require(dump.sheet("Orders"))
        #expect(orders.maxRow - 1 == result.policies.values.map(\.orders).reduce(0, +))
        let json = try String(contentsOf: out.appendingPathComponent("result.json"), encoding: .utf8)
        #expect(json == result.json())
        // Written again to the same folder: refused, the first left as it was.
        #expect(throws: (any Error).self) {
            try ReplayReport.write(
                result, policies: ["naive-cron"], templates: AuditReportTests.templatesFolder, to: out)
        }
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("replay.xlsx").path))
    }
}
