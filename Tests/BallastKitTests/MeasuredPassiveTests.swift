import BallastCore
import BallastLab
import BallastTesting
import Foundation
import Postgres
import Testing

@testable import BallastKit

/// The proposal step loads what Ballast's own passive legs cost from the orders it stored.
@Suite(.serialized) struct MeasuredPassiveTests {
    @Test func passiveLegsAreMeasuredFromTheirFirstArrivalMidOverEveryGeneration() async throws {
        let scenario = try await TradingScenario(router: CrashCampaign.router(resting: true))
        defer { scenario.stop() }
        let batch = try #require(try scenario.propose().batchID)
        _ = try Approval(connection: scenario.connection).approve(batch: batch, by: "alice")
        let run = try BallastBinary.run(
            ["execute", String(batch), "--job", scenario.jobPath], environment: scenario.environment)
        #expect(run.status == 0 || run.status == 3, "\(run.stderr)")
        // Recomputed here leg by leg, in Swift, from the stored orders.
        var legs:
            [String: (
                venue: String, symbol: String, sign: Double, m0: Double, style: String, quote: Double, qty: Double,
                first: Int
            )] = [:]
        for row in try scenario.connection.query(
            """
            SELECT batch_id, leg, generation, venue_id, symbol, side, style, arrival_mid::float8 AS m0,
                   cumulative_quote::float8 AS quote, executed_qty::float8 AS qty FROM orders
            """)
        {
            let key = "\(try row.decode("batch_id", as: Int64.self))-\(try row.decode("leg", as: Int.self))"
            let generation: Int = try row.decode("generation")
            let venue: String = try row.decode("venue_id")
            let symbol: String = try row.decode("symbol")
            let sign: Double = try row.decode("side", as: String.self) == "buy" ? 1 : -1
            var leg = legs[key] ?? (venue, symbol, sign, 0, "", 0, 0, Int.max)
            if generation < leg.first {
                leg.first = generation
                leg.m0 = try row.decode("m0", as: Double?.self) ?? 0
                leg.style = try row.decode("style")
            }
            leg.quote += try row.decode("quote", as: Double.self)
            leg.qty += try row.decode("qty", as: Double.self)
            legs[key] = leg
        }
        var expected: [String: (legs: Int, cost: Double, base: Double)] = [:]
        for leg in legs.values where leg.style == "passive" && leg.m0 > 0 && leg.qty > 0 {
            let key = leg.venue + " " + leg.symbol
            var sum = expected[key] ?? (0, 0, 0)
            sum.legs += 1
            sum.cost += leg.sign * (leg.quote - leg.m0 * leg.qty)
            sum.base += leg.m0 * leg.qty
            expected[key] = sum
        }
        #expect(!expected.isEmpty, "the resting batch filled something")
        let view = try MarketView.load(connection: scenario.connection, volatilityWindows: [24], now: Date())
        var loaded = 0
        for (venue, symbols) in view.measuredPassive {
            for (symbol, measured) in symbols {
                loaded += 1
                let want = try #require(expected[venue + " " + symbol])
                #expect(measured.legs == want.legs)
                #expect(abs(measured.slippageBps - want.cost / want.base * 10_000) < 1e-6)
            }
        }
        #expect(loaded == expected.count)
        // Measured a month back only.
        let later = try MarketView.load(
            connection: scenario.connection, volatilityWindows: [24], now: Date().addingTimeInterval(31 * 86_400))
        #expect(later.measuredPassive.isEmpty)
    }
}
