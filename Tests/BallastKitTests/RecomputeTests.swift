import BallastCore
import BallastKit
import BallastLab
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
        window_hours = \(index == 2 ? "0.0001" : "24")

        [portfolios.router]
        urgency = "\(index == 2 ? "low" : "normal")"
        budget_bps = \(index == 3 ? "0.5" : "500")
        \(Self.patient)

        """
    }.joined()

    /// Books and depth are used however slowly a loaded machine pulls and proposes: on a CI machine a
    /// depth arrived more than `max_depth_skew_s` (1 s) after its ticker, and every quote was routed on
    /// the touch alone, so no record named a stored depth.
    static let patient = "max_book_age_s = 3600\nmax_depth_skew_s = 60"

    @Test func everyDecisionOfFivePortfoliosOnThreeVenuesRecomputesExactly() async throws {
        let scenario = try await TradingScenario(
            router: "\n", extra: "\n[portfolios.router]\n\(Self.patient)\n" + Self.portfolios)
        defer { scenario.stop() }
        let proposals = try Propose(connection: scenario.connection, logger: .init(label: "test")).run(
            config: scenario.config, runID: nil, dryRun: false)
        #expect(proposals.count == 5)
        // The first proposals found one price per venue (σ from each portfolio's prior). An hour of
        // stored prices before the pull follows, and a second proposal takes σ from them: over the
        // portfolio's window, or (p-even's window of 0.36 s holds too few) over the fallback window.
        try scenario.connection.execute(
            """
            INSERT INTO book_tickers (venue_id, symbol, bid_price, bid_qty, ask_price, ask_qty, observed_at)
            SELECT venue_id, symbol, round(bid_price * (1 + 0.002 * sin(k))::numeric, 2), bid_qty,
                   round(ask_price * (1 + 0.002 * sin(k))::numeric, 2), ask_qty, observed_at - k * interval '5 minutes'
            FROM book_tickers, generate_series(1, 12) AS k
            """)
        #expect(
            try Propose(connection: scenario.connection, logger: .init(label: "test")).run(
                config: scenario.config, runID: nil, dryRun: false
            ).count == 5)
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
        let batchOnly = try Recompute(connection: scenario.connection).run(.init(batch: oneBatch.batch))
        #expect(batchOnly.records == oneBatch.records && batchOnly.differences.isEmpty)
        let cli = try BallastBinary.run(["audit", "recompute"], environment: scenario.environment)
        #expect(cli.status == 0 && cli.stdout.contains(": 0 difference(s)"), "\(cli.stdout)")

        // The same parents split again both ways: the exact split never costs more for the same
        // quantity than the whole-slice split it replaced, and never routes less.
        let split = try SplitComparison(connection: scenario.connection).run()
        #expect(split.parents >= 5 && split.exactCostsMore == 0 && split.routesLess == 0, "\(split.lines)")

        // A referenced row changed after the fact does not move the recomputation: it reads the record only.
        try scenario.connection.execute("UPDATE symbols SET tick_size = tick_size * 10")
        try scenario.connection.execute("UPDATE accounts SET taker_fee = 0.01")
        #expect(try Recompute(connection: scenario.connection).run().differences.isEmpty)

        // A stored depth a record names, altered by an owner with its trigger off: its digest no longer matches.
        let depthRows = try scenario.connection.query(
            """
            SELECT (d.value->>'snapshot')::bigint AS id, d.value::text AS reference
            FROM decisions, jsonb_each(payload_text::jsonb->'record'->'routeInputs'->'depths') d
            WHERE kind = 'order' ORDER BY 1 LIMIT 1
            """)
        let depthReference = try depthRows.first?.decode("reference", as: String.self) ?? "none"
        let depthID = try #require(
            try depthRows.first?.decode("id", as: Int64?.self), "no stored depth an order names: \(depthReference)")
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

        // σ is redone from the stored mids a record names: some records' σ came from prices, and an
        // altered price in their window is named (the prices' digest, then σ itself).
        let sources = try scenario.connection.query(
            """
            SELECT payload_text::jsonb->'record'->'bandInputs'->'sigmaInputs'->>'source' AS source, count(*) AS n
            FROM decisions WHERE kind = 'order' GROUP BY 1
            """
        ).reduce(into: [String: Int64]()) {
            $0[try $1.decode("source", as: String?.self) ?? "none"] = try $1.decode("n")
        }
        #expect(
            (sources["window"] ?? 0) > 0 && (sources["fallback"] ?? 0) > 0 && (sources["prior"] ?? 0) > 0
                && sources["none"] == nil, "\(sources)")
        let tickerRows = try scenario.connection.query(
            """
            SELECT (payload_text::jsonb->'record'->'bandInputs'->'sigmaInputs'->'prices'->>'newestTicker')::bigint
                       AS ticker, payload_text::jsonb->'record'->'bandInputs'->'sigmaInputs' AS inputs
            FROM decisions
            WHERE kind = 'order' AND payload_text::jsonb->'record'->'bandInputs'->'sigmaInputs'->>'source' = 'window'
            ORDER BY 1 LIMIT 1
            """)
        let sigmaInputs = try tickerRows.first?.decode("inputs", as: String.self) ?? "none"
        let tickerID = try #require(
            try tickerRows.first?.decode("ticker", as: Int64?.self), "σ inputs of a window record: \(sigmaInputs)")
        try scenario.connection.execute("ALTER TABLE book_tickers DISABLE TRIGGER book_tickers_append_only")
        try scenario.connection.execute("UPDATE book_tickers SET bid_price = bid_price * 1.01 WHERE id = \(tickerID)")
        let priceChanged = try Recompute(connection: scenario.connection).run()
        #expect(priceChanged.differences.contains { $0.term == "σ prices (stored book tickers)" })
        #expect(priceChanged.differences.contains { $0.term == "σ" }, "\(priceChanged.differences.map(\.term))")
        try scenario.connection.execute("UPDATE book_tickers SET bid_price = bid_price / 1.01 WHERE id = \(tickerID)")
        #expect(try Recompute(connection: scenario.connection).run().differences.isEmpty)

        // One input inside one record perturbed (by an owner with the trigger off): that record and term.
        let victim = try #require(
            try scenario.connection.query(
                "SELECT min(id) AS id FROM decisions WHERE kind = 'order'")[0].decode("id", as: Int64?.self))
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
