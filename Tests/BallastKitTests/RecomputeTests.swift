import BallastCore
import BallastKit
import BallastTesting
import Foundation
import Postgres
import Testing

/// Issue 16: every order and deferral decision recomputed from its record alone.
@Suite(.serialized) struct RecomputeTests {
    /// Four portfolios besides the demo's, over the same three venues: fixed and volatility bands,
    /// sizing to target and to the band's edge, resting and crossing routers, one whose budget defers.
    static let portfolios = ["p-fixed", "p-edge", "p-even", "p-budget"].enumerated().map { index, id in
        """

        [[portfolios]]
        id = "\(id)"
        quote = "USDT"
        accounts = ["sim-a-main", "sim-b-main", "sim-c-main"]
        approval_cap = "0"
        targets = \(index % 2 == 0 ? "{ BTC = \"0.25\", ETH = \"0.25\", SOL = \"0.25\", USDT = \"0.25\" }" : "{ BTC = \"0.5\", ETH = \"0.1\", SOL = \"0.2\", USDT = \"0.2\" }")

        [portfolios.bands]
        mode = "\(index == 0 ? "fixed" : "volatility")"
        fixed = "0.02"
        size_to = "\(index == 1 ? "band-edge" : "target")"

        [portfolios.router]
        urgency = "\(index == 2 ? "low" : "normal")"
        budget_bps = \(index == 3 ? "0.5" : "500")

        """
    }.joined()

    @Test func everyDecisionOfFivePortfoliosOnThreeVenuesRecomputesExactly() async throws {
        let scenario = try await TradingScenario(router: "\n", extra: Self.portfolios)
        defer { scenario.stop() }
        let proposals = try Propose(connection: scenario.connection, logger: .init(label: "test")).run(
            config: scenario.config, runID: nil, dryRun: false)
        #expect(proposals.count == 5)
        let kinds = Dictionary(
            grouping: try scenario.connection.query("SELECT kind FROM decisions").map {
                try $0.decode("kind", as: String.self)
            },
            by: { $0 })
        #expect((kinds["order"]?.count ?? 0) > 5 && (kinds["deferral"]?.count ?? 0) > 0, "\(kinds.mapValues(\.count))")

        let outcome = try Recompute(connection: scenario.connection).run()
        #expect(outcome.differences.isEmpty, "\(outcome.differences.prefix(3))")
        #expect(
            outcome.recomputed == outcome.records && outcome.records == kinds["order"]!.count + kinds["deferral"]!.count
        )
        #expect(outcome.parents >= 5 && outcome.terms > outcome.records * 3)
        let oneBatch: (batch: Int64, records: Int) = try scenario.connection.query(
            """
            SELECT batch_id, count(*) AS n FROM decisions WHERE kind IN ('order', 'deferral')
            GROUP BY batch_id ORDER BY batch_id LIMIT 1
            """
        ).map { (try $0.decode("batch_id"), try $0.decode("n")) }[0]
        let batchOnly = try Recompute(connection: scenario.connection).run(batch: oneBatch.batch)
        #expect(batchOnly.records == oneBatch.records && batchOnly.differences.isEmpty)
        let cli = try BallastBinary.run(["audit", "recompute"], environment: scenario.environment)
        #expect(cli.status == 0 && cli.stdout.contains(": 0 difference(s)"), "\(cli.stdout)")

        // A referenced row changed after the fact does not move the recomputation: it reads the record only.
        try scenario.connection.execute("UPDATE symbols SET tick_size = tick_size * 10")
        try scenario.connection.execute("UPDATE accounts SET taker_fee = 0.01")
        #expect(try Recompute(connection: scenario.connection).run().differences.isEmpty)

        // A stored depth a record names, altered by an owner with its trigger off: its digest no longer matches.
        let depthID: Int64 = try scenario.connection.query(
            """
            SELECT (d.value->>'snapshot')::bigint AS id
            FROM decisions, jsonb_each(payload_text::jsonb->'record'->'routeInputs'->'depths') d
            WHERE kind = 'order' ORDER BY 1 LIMIT 1
            """)[0].decode("id")
        let original: String = try scenario.connection.query(
            "SELECT ask_qtys::text AS q FROM depth_snapshots WHERE id = \(depthID)")[0].decode("q")
        try scenario.connection.execute("ALTER TABLE depth_snapshots DISABLE TRIGGER depth_snapshots_append_only")
        try scenario.connection.execute(
            "UPDATE depth_snapshots SET ask_qtys[1] = ask_qtys[1] * 2 WHERE id = \(depthID)")
        let depthChanged = try Recompute(connection: scenario.connection).run()
        #expect(
            depthChanged.differences.contains { $0.term.hasPrefix("depth \(depthID) ") }, "\(depthChanged.differences)")
        try scenario.connection.execute(
            "UPDATE depth_snapshots SET ask_qtys = \(original)::numeric[] WHERE id = \(depthID)")
        #expect(try Recompute(connection: scenario.connection).run().differences.isEmpty)

        // One input inside one record perturbed (by an owner with the trigger off): that record and term.
        let victim: Int64 = try scenario.connection.query(
            "SELECT min(id) AS id FROM decisions WHERE kind = 'order'")[0].decode("id")
        try scenario.connection.execute("ALTER TABLE decisions DISABLE TRIGGER decisions_append_only")
        try scenario.connection.execute(
            """
            UPDATE decisions SET payload_text = regexp_replace(payload_text, '"takerFee":"[^"]*"', '"takerFee":"0.05"', 'g')
            WHERE id = \(victim)
            """)
        let perturbed = try Recompute(connection: scenario.connection).run()
        #expect(Set(perturbed.differences.map(\.record)) == [victim], "\(perturbed.differences)")
        #expect(perturbed.differences.contains { $0.term == "candidates" })
        let refused = try BallastBinary.run(["audit", "recompute"], environment: scenario.environment)
        #expect(refused.status == 2 && refused.stdout.contains("record \(victim) "), "\(refused.stdout)")
    }
}
