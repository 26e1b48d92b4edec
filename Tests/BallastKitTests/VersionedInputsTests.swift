import BallastCore
import BallastKit
import BallastTesting
import Foundation
import Logging
import Postgres
import Testing

/// Issue 16, point 1 (storage): rules, fees and portfolio configurations are versioned, never only
/// overwritten, and the observations a decision reads are append-only.
@Suite(.serialized) struct VersionedInputsTests {
    func versions(_ connection: Connection, _ source: String, _ key: String) throws -> [String] {
        try connection.query(
            "SELECT content::text AS c FROM input_versions WHERE source = \(source) AND key = \(key) ORDER BY id"
        ).map { try $0.decode("c", as: String.self) }
    }

    @Test func aChangedRuleOrFeeIsKeptBesideTheOldOneAndAnUnchangedPullAddsNothing() throws {
        let scenario = try PullScenario(trades: 0)
        defer { scenario.simulator.stop() }
        #expect(try scenario.pull().status == 0)
        let connection = try TestDatabase.connect(scenario.databaseURL)
        defer { connection.close() }
        let first = try versions(connection, "symbols", "sim-p/BTCUSDT")
        #expect(first.count == 1 && first[0].contains("\"tick_size\""), "\(first)")
        #expect(try versions(connection, "accounts", "sim-p-main").count == 1)
        // The same rules pulled again: no new version.
        #expect(try scenario.pull().status == 0)
        #expect(try versions(connection, "symbols", "sim-p/BTCUSDT").count == 1)
        // Only the bookkeeping time changes: no new version either.
        try connection.execute("UPDATE symbols SET updated_at = now() + interval '1 hour' WHERE symbol = 'BTCUSDT'")
        #expect(try versions(connection, "symbols", "sim-p/BTCUSDT").count == 1)
        // The venue changes its tick and the account's fee: each old value is still there.
        try connection.execute("UPDATE symbols SET tick_size = 0.1 WHERE venue_id = 'sim-p' AND symbol = 'BTCUSDT'")
        try connection.execute("UPDATE accounts SET taker_fee = 0.00075 WHERE id = 'sim-p-main'")
        let ticks = try connection.query(
            """
            SELECT content->>'tick_size' AS tick FROM input_versions
            WHERE source = 'symbols' AND key = 'sim-p/BTCUSDT' ORDER BY id
            """
        ).map { try $0.decode("tick", as: String.self) }
        #expect(ticks.count == 2 && ticks[1] == "0.1" && ticks[0] != "0.1", "\(ticks)")
        let fees = try versions(connection, "accounts", "sim-p-main")
        #expect(fees.count == 2 && fees[1].contains("0.00075"))
        // Versions are append-only.
        #expect(throws: PostgresError.self) { try connection.execute("UPDATE input_versions SET content = '{}'") }
        #expect(throws: PostgresError.self) { try connection.execute("DELETE FROM input_versions") }
    }

    @Test func aPortfolioKeepsItsWholeConfigurationAndEveryChangeOfIt() async throws {
        let scenario = try await TradingScenario()
        defer { scenario.stop() }
        _ = try scenario.propose()
        let row = try scenario.connection.query(
            "SELECT config::text AS config, config_hash FROM portfolios WHERE id = 'demo'")[0]
        let config: String = try row.decode("config")
        #expect(config.contains("\"targets\"") && config.contains("\"router\"") && config.contains("\"window_hours\""))
        #expect(try (row.decode("config_hash", as: String?.self))?.count == 64)
        #expect(try versions(scenario.connection, "portfolios", "demo").count == 1)
        // Pulling again with the same job (a pull stores the portfolios) adds no version; a changed target does.
        var quiet = Logger(label: "test")
        quiet.logLevel = .error
        _ = try await PullJob.run(
            config: scenario.config, databaseURL: scenario.databaseURL, logger: quiet,
            environment: scenario.venues.environment)
        #expect(try versions(scenario.connection, "portfolios", "demo").count == 1)
        var changed = scenario.config
        let index = try #require(changed.portfolios.firstIndex { $0.id == "demo" })
        changed.portfolios[index].targets["BTC"] = ExactDecimal("0.35")!
        changed.portfolios[index].targets["USDT"] = ExactDecimal("0.25")!
        _ = try await PullJob.run(
            config: changed, databaseURL: scenario.databaseURL, logger: quiet, environment: scenario.venues.environment)
        let kept = try versions(scenario.connection, "portfolios", "demo")
        #expect(kept.count == 2, "\(kept)")
        #expect(
            kept.first?.contains(#""BTC": "0.4"#) == true && kept.last?.contains(#""BTC": "0.35""#) == true, "\(kept)")
    }

    @Test(arguments: ["book_tickers", "depth_snapshots", "balance_snapshots", "balances"])
    func observationsAreAppendOnly(table: String) throws {
        let scenario = try PullScenario(trades: 0)
        defer { scenario.simulator.stop() }
        #expect(try scenario.pull().status == 0)
        let connection = try TestDatabase.connect(scenario.databaseURL)
        defer { connection.close() }
        #expect(
            try connection.query(Query(unsafeSQL: "SELECT count(*) AS n FROM \(table)"))[0].decode("n", as: Int.self)
                > 0)
        for sql in ["DELETE FROM \(table)", "TRUNCATE \(table) CASCADE"] {
            do {
                try connection.execute(Query(unsafeSQL: sql))
                Issue.record("\(sql) was allowed")
            } catch {
                #expect(error.message.contains("append-only"), "\(sql): \(error)")
            }
        }
    }
}
