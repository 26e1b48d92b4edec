import BallastCore
import BallastKit
import BallastLab
import BallastTesting
import Foundation
import Logging
import Postgres
import Simulator
import Testing

/// Three simulated venues with a pulled database, and a job file on disk for `ballast` child processes.
struct TradingScenario {
    let venues: SimulatedVenues
    let databaseURL: String
    let jobPath: String
    let config: JobConfig
    let connection: Connection

    init(router: String = CrashCampaign.router(resting: false), approvalCap: String = "0", extra: String = "")
        async throws
    {
        venues = try SimulatedVenues(venues: 3, seed: 11)
        databaseURL = try TestDatabase.migrated()
        jobPath = FileManager.default.temporaryDirectory.appendingPathComponent("trade-\(UUID()).toml").path
        let toml = venues.jobTOML.replacingOccurrences(
            of: "approval_cap = \"500000\"", with: "approval_cap = \"\(approvalCap)\"")
        try (toml + extra + router).write(toFile: jobPath, atomically: true, encoding: .utf8)
        config = try JobConfig.load(path: jobPath)
        var logger = Logger(label: "test")
        logger.logLevel = .error
        _ = try await PullJob.run(
            config: config, databaseURL: databaseURL, logger: logger, environment: venues.environment)
        connection = try TestDatabase.connect(databaseURL)
    }

    var environment: [String: String] {
        venues.environment.merging(["BALLAST_DATABASE_URL": databaseURL]) { $1 }
    }

    func count(_ sql: String) throws -> Int {
        try connection.query(Query(unsafeSQL: sql)).first!.decode("n", as: Int.self)
    }

    func propose(dryRun: Bool = false) throws -> Propose.Proposal {
        try Propose(connection: connection, logger: Logger(label: "test")).run(
            config: config, runID: nil, dryRun: dryRun)[0]
    }

    func stop() {
        connection.close()
        venues.stop()
    }
}

@Suite(.serialized) struct ProposeExecuteTests {
    @Test func dryRunStoresNothingAndAProposalIsStoredWithItsReasons() async throws {
        let scenario = try await TradingScenario()
        defer { scenario.stop() }
        let dry = try scenario.propose(dryRun: true)
        #expect(dry.batchID == nil)
        #expect(!dry.routes.isEmpty, "the demo holdings are off target")
        #expect(try scenario.count("SELECT count(*) AS n FROM batches") == 0)
        #expect(try scenario.count("SELECT count(*) AS n FROM decisions") == 0)

        let proposal = try scenario.propose()
        let batch = try #require(proposal.batchID)
        #expect(proposal.status == "proposed")
        // The same decision as the dry run: same parents, same children.
        #expect(proposal.routes.map(\.children) == dry.routes.map(\.children))
        let orders = try scenario.count("SELECT count(*) AS n FROM orders WHERE batch_id = \(batch)")
        #expect(orders == proposal.routes.flatMap(\.children).count && orders > 0)
        #expect(try scenario.count("SELECT count(*) AS n FROM orders WHERE state = 'proposed'") == orders)
        #expect(try scenario.count("SELECT count(*) AS n FROM decisions WHERE kind = 'order'") == orders)
        // Each order record names what it saw: snapshots, every candidate venue with its cost terms, the choice.
        for row in try scenario.connection.query(
            """
            SELECT jsonb_array_length(payload->'candidates') AS candidates, payload->'snapshots' AS snapshots,
                   payload->'child'->>'limitPrice' AS limit_price, o.price::text AS price,
                   payload->'candidates'->0 ? 'latencyBps' AS has_latency, payload->>'reason' AS reason
            FROM decision_records d JOIN orders o ON o.id = d.order_id
            """)
        {
            #expect(try row.decode("candidates", as: Int.self) == 3)
            #expect(try row.decode("limit_price", as: String.self) == (try row.decode("price", as: String.self)))
            #expect(try row.decode("has_latency", as: Bool.self))
            #expect(try row.decode("reason", as: String.self).contains("bps"))
        }
        // Every child respects its venue's step and tick.
        for row in try scenario.connection.query(
            """
            SELECT o.qty, o.price, s.step_size, s.tick_size, s.min_notional FROM orders o
            JOIN symbols s ON s.venue_id = o.venue_id AND s.symbol = o.symbol
            """)
        {
            let qty: ExactDecimal = try row.decode("qty")
            let price: ExactDecimal = try row.decode("price")
            #expect(qty.isMultiple(of: try row.decode("step_size")))
            #expect(price.isMultiple(of: try row.decode("tick_size")))
            #expect(qty * price >= (try row.decode("min_notional", as: ExactDecimal.self)))
        }
        #expect(try DecisionLog.verify(on: scenario.connection).firstBroken == nil)
        // Records are assembled from members encoded once per portfolio and per parent: each must be
        // exactly the canonical encoding of the whole record (the envelope's last member, `record`).
        let stored = try scenario.connection.query(
            "SELECT payload_text FROM decisions WHERE batch_id = \(batch) AND kind = 'order' ORDER BY id"
        ).map { row in
            let text = try row.decode("payload_text", as: String.self)
            return String(text[text.range(of: ",\"record\":")!.upperBound...].dropLast())
        }
        let whole = WholeOrderRecord.all(of: proposal, batch: batch)
        #expect(stored == (try whole.map(DecisionLog.canonical)))
        // …and the text Foundation's sorted-keys encoder gives for it.
        #expect(stored == (try whole.map(CanonicalJSONTests.foundation)))
    }

    /// Every report verifies the chain first and prints its head; that head, kept outside the
    /// database, catches what a chain consistent with itself hides: a deleted or rewritten tail.
    @Test func aChainHeadKeptOutsideTheDatabaseCatchesADeletedOrRewrittenTail() async throws {
        let scenario = try await TradingScenario()
        defer { scenario.stop() }
        _ = try scenario.propose()
        _ = try scenario.propose()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-out-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let report = try BallastBinary.run(["report", "--out", out.path], environment: scenario.environment)
        #expect(report.status == 0, "\(report.stderr)")
        let folder = String(report.stdout.split(separator: "\n").last ?? "")
        let records = try scenario.count("SELECT count(*) AS n FROM decisions")
        let head: String = try scenario.connection.query("SELECT hash FROM decisions ORDER BY id DESC LIMIT 1").first!
            .decode("hash")
        let kept = try String(contentsOfFile: folder + "/chain-head.txt", encoding: .utf8)
        #expect(kept == "\(head)@\(records)\n")
        let summary = try String(contentsOfFile: folder + "/summary.md", encoding: .utf8)
        #expect(summary.contains("Decision chain: \(records) records, head \(head)"), "\(summary)")
        // The Definitions sheet states the hash method and the same verified head.
        let definitions = try #require(try Openpyxl.inspect(folder + "/audit.xlsx").sheet("Definitions"))
        let headRow = definitions.rows.first { $0.first?.value.string == "Chain head at this report" }
        #expect(headRow?[1].value.string?.hasPrefix("\(head)@\(records) ") == true, "\(String(describing: headRow))")
        #expect(definitions.rows.contains { $0.first?.value.string == "Sign convention" })
        let texts = try Openpyxl.inspect(folder + "/audit.xlsx").sheet("Summary")?.rows.flatMap { row in
            row.compactMap { cell -> String? in if case .string(let text) = cell.value { text } else { nil } }
        }
        #expect(texts?.contains { $0.contains("\(records) records, head \(head)") } == true, "\(texts ?? [])")
        func verify(_ arguments: [String]) throws -> BallastBinary.Outcome {
            try BallastBinary.run(["audit", "verify"] + arguments, environment: scenario.environment)
        }
        #expect(try verify(["--since", folder]).status == 0)
        #expect(try verify(["--expect-head", "\(head)@\(records)"]).status == 0)

        // The last record deleted (by an owner who switched the trigger off): the rest still chains.
        try scenario.connection.execute("ALTER TABLE decisions DISABLE TRIGGER decisions_append_only")
        let last: (id: Int64, text: String, prev: String) = try scenario.connection.query(
            "SELECT id, payload_text, prev_hash FROM decisions ORDER BY id DESC LIMIT 1"
        ).map { (try $0.decode("id"), try $0.decode("payload_text"), try $0.decode("prev_hash")) }[0]
        try scenario.connection.execute("DELETE FROM decisions WHERE id = \(last.id)")
        #expect(try verify([]).status == 0)
        let truncated = try verify(["--since", folder])
        #expect(truncated.status == 2 && truncated.stdout.contains("does NOT hold"), "\(truncated.stdout)")

        // The tail rewritten consistently: an edited record with its hash recomputed.
        let edited = last.text.replacingOccurrences(of: "\"reason\":\"", with: "\"reason\":\"(rewritten) ")
        try scenario.connection.execute(
            """
            INSERT INTO decisions (id, batch_id, order_id, portfolio_id, kind, payload_text, prev_hash, hash, created_at)
            SELECT \(last.id), (r->>'batch')::bigint, (r->>'order')::bigint, r->>'portfolio', r->>'kind', \(edited),
                   \(last.prev), \(DecisionLog.hash(previous: last.prev, payloadText: edited)), (r->>'at')::timestamptz
            FROM (SELECT \(edited)::jsonb AS r) e
            """)
        #expect(try verify([]).status == 0)
        #expect(try verify(["--expect-head", "\(head)@\(records)"]).status == 2)

        // A chain that does not verify: the report refuses, with the audit's exit code, and writes nothing.
        try scenario.connection.execute(
            "UPDATE decisions SET payload_text = payload_text || ' ' WHERE id = (SELECT min(id) FROM decisions)")
        let refused = try BallastBinary.run(
            ["report", "--out", out.appendingPathComponent("after").path], environment: scenario.environment)
        #expect(refused.status == 2 && refused.stderr.contains("decision chain broken"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("after").path))
    }

    @Test func auditVerifyNamesTheFirstAlteredRecord() async throws {
        let scenario = try await TradingScenario()
        defer { scenario.stop() }
        _ = try scenario.propose()
        _ = try scenario.propose(dryRun: false)  // a second batch: more records on the chain
        let good = try BallastBinary.run(["audit", "verify"], environment: scenario.environment)
        #expect(good.status == 0)
        #expect(good.stdout.contains("decision chain intact"))
        // The table refuses changes…
        #expect(throws: PostgresError.self) {
            try scenario.connection.execute("UPDATE decisions SET payload_text = payload_text WHERE id = 2")
        }
        // …so an altered record needs the trigger switched off first, as a tamperer with owner rights would.
        let victim: Int64 = try scenario.connection.query("SELECT id FROM decisions ORDER BY id OFFSET 1 LIMIT 1")
            .first!.decode("id")
        try scenario.connection.execute("ALTER TABLE decisions DISABLE TRIGGER decisions_append_only")
        try scenario.connection.execute(
            """
            UPDATE decisions SET payload_text = replace(payload_text, '"reason":"', '"reason":"(edited) ')
            WHERE id = \(victim)
            """)
        let result = try DecisionLog.verify(on: scenario.connection)
        #expect(result.firstBroken?.id == victim)
        let bad = try BallastBinary.run(["audit", "verify"], environment: scenario.environment)
        #expect(bad.status == 2)
        #expect(bad.stdout.contains("BROKEN at record \(victim)"), "\(bad.stdout)")
    }

    @Test func approvalIsManualOverTheCapAndAutomaticUnderIt() async throws {
        let manual = try await TradingScenario(approvalCap: "1000")
        defer { manual.stop() }
        let proposal = try manual.propose()
        let batch = try #require(proposal.batchID)
        #expect(proposal.status == "proposed")
        let early = try BallastBinary.run(
            ["execute", String(batch), "--job", manual.jobPath], environment: manual.environment)
        #expect(early.status == 65)
        #expect(early.stderr.contains("not approved"))
        #expect(manual.venues.simulator.venues.allSatisfy { $0.statistics.ordersAccepted == 0 })
        let approve = try BallastBinary.run(
            ["approve", String(batch), "--by", "alice"], environment: manual.environment)
        #expect(approve.status == 0)
        let row = try manual.connection.query("SELECT status, approval, approved_by FROM batches").first!
        #expect(try row.decode("status", as: String.self) == "approved")
        #expect(try row.decode("approval", as: String.self) == "manual")
        #expect(try row.decode("approved_by", as: String.self) == "alice")
        #expect(try manual.count("SELECT count(*) AS n FROM decisions WHERE kind = 'approval'") == 1)

        let automatic = try await TradingScenario(approvalCap: "10000000")
        defer { automatic.stop() }
        let auto = try automatic.propose()
        #expect(auto.status == "approved")
        let approval = try automatic.connection.query("SELECT approval, approved_by FROM batches").first!
        #expect(try approval.decode("approval", as: String.self) == "automatic")
        #expect(try approval.decode("approved_by", as: String.self) == "approval_cap")
        #expect(try automatic.count("SELECT count(*) AS n FROM orders WHERE state = 'approved'") > 0)
    }

    /// A proposal stores the time it was decided at, not the database's: the batch, its orders and
    /// an automatic approval carry the `now` the proposal was given (a replay's virtual time).
    @Test func aProposalStoresItsOwnTimeNotTheDatabases() async throws {
        let scenario = try await TradingScenario(approvalCap: "10000000")
        defer { scenario.stop() }
        // 30 s on: the books stay younger than max_book_age_s.
        let decidedAt = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 30).rounded())
        let proposal = try Propose(connection: scenario.connection, logger: Logger(label: "test")).run(
            config: scenario.config, runID: nil, dryRun: false, now: decidedAt)[0]
        let batch = try #require(proposal.batchID)
        let row = try scenario.connection.query(
            """
            SELECT b.created_at, b.approved_at, min(o.created_at) AS first, max(o.created_at) AS last
            FROM batches b JOIN orders o ON o.batch_id = b.id WHERE b.id = \(batch) GROUP BY b.id
            """
        ).first!
        for column in ["created_at", "approved_at", "first", "last"] {
            #expect(try row.decode(column, as: Date.self) == decidedAt, "\(column)")
        }
    }

    /// Proposing again replaces a batch that was never sent: it is superseded, with a record in the
    /// chain, and neither approve nor execute will act on it; the new batch trades instead.
    @Test func aLaterProposalSupersedesABatchNeverSent() async throws {
        let scenario = try await TradingScenario()
        defer { scenario.stop() }
        let old = try #require(try scenario.propose().batchID)
        let oldOrders = try scenario.count("SELECT count(*) AS n FROM orders WHERE batch_id = \(old)")
        #expect(
            try Approval(connection: scenario.connection).approve(batch: old, by: "alice")
                == .approved(orders: oldOrders))
        let later = try scenario.propose()
        let new = try #require(later.batchID)
        #expect(later.superseded == [old])
        let row = try scenario.connection.query("SELECT status, superseded_by, reason FROM batches WHERE id = \(old)")
            .first!
        #expect(try row.decode("status", as: String.self) == "superseded")
        #expect(try row.decode("superseded_by", as: Int64?.self) == new)
        let record = try scenario.connection.query(
            "SELECT payload->>'supersededBy' AS by FROM decision_records WHERE kind = 'supersession' AND batch_id = \(old)"
        ).map { try $0.decode("by", as: String.self) }
        #expect(record == [String(new)])
        #expect(try DecisionLog.verify(on: scenario.connection).firstBroken == nil)

        let approve = try BallastBinary.run(["approve", String(old), "--by", "bob"], environment: scenario.environment)
        #expect(approve.status == 65)
        #expect(approve.stderr.contains("superseded by batch \(new)"), "\(approve.stderr)")
        let stale = try BallastBinary.run(
            ["execute", String(old), "--job", scenario.jobPath], environment: scenario.environment)
        #expect(stale.status == 0)
        #expect(stale.stdout.contains("batch \(old) superseded"), "\(stale.stdout)")
        #expect(scenario.venues.simulator.venues.allSatisfy { $0.statistics.ordersAccepted == 0 })

        let newOrders = try scenario.count("SELECT count(*) AS n FROM orders WHERE batch_id = \(new)")
        #expect(
            try Approval(connection: scenario.connection).approve(batch: new, by: "alice")
                == .approved(orders: newOrders))
        let fresh = try BallastBinary.run(
            ["execute", String(new), "--job", scenario.jobPath], environment: scenario.environment)
        #expect(fresh.status == 0, "\(fresh.stderr)")
        let accepted = scenario.venues.simulator.venues.map(\.statistics.ordersAccepted).reduce(0, +)
        #expect(accepted == newOrders && newOrders > 0)
        // The measures count what was sent: the superseded batch's orders reached no route, and its
        // parents' decision was carried by the later batch.
        let run = try JobRun.start("report", on: scenario.connection)
        let measure = Measure(
            connection: scenario.connection, databaseURL: scenario.databaseURL, logger: Logger(label: "test"))
        _ = try measure.run(runID: run.id, from: Date().addingTimeInterval(-3600), to: Date().addingTimeInterval(60))
        #expect(try scenario.count("SELECT coalesce(sum(orders), 0)::int AS n FROM route_measures") == newOrders)
        #expect(try scenario.count("SELECT count(*) AS n FROM order_measures") == newOrders)
        #expect(try scenario.count("SELECT count(*) AS n FROM parent_measures WHERE batch_id = \(old)") == 0)
        #expect(try scenario.count("SELECT count(*) AS n FROM parent_measures WHERE batch_id = \(new)") > 0)
    }

    /// Proposers running at once for one portfolio write one after the other; each later one
    /// supersedes what the earlier ones stored, so one batch is left to approve.
    @Test func concurrentProposalsLeaveOneBatchToApprove() async throws {
        let scenario = try await TradingScenario()
        defer { scenario.stop() }
        let (config, url) = (scenario.config, scenario.databaseURL)
        let stored = try await withThrowingTaskGroup(of: Int64?.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let connection = try TestDatabase.connect(url)
                    defer { connection.close() }
                    return try Propose(connection: connection, logger: Logger(label: "test")).run(
                        config: config, runID: nil, dryRun: false)[0].batchID
                }
            }
            return try await group.reduce(into: [Int64]()) { if let id = $1 { $0.append(id) } }
        }
        #expect(stored.count == 4)
        #expect(try scenario.count("SELECT count(*) AS n FROM batches WHERE status = 'proposed'") == 1)
        #expect(try scenario.count("SELECT count(*) AS n FROM batches WHERE status = 'superseded'") == 3)
        #expect(try scenario.count("SELECT count(*) AS n FROM decisions WHERE kind = 'supersession'") == 3)
        #expect(try DecisionLog.verify(on: scenario.connection).firstBroken == nil)
    }

    /// A batch killed mid-execute holds its portfolio: a proposal now would not see its unsent orders,
    /// so none is made until the batch is finished, and then not until balances are pulled that
    /// show its fills; a finished batch is never superseded.
    @Test func aBatchInFlightHoldsItsPortfolioUntilFinished() async throws {
        let scenario = try await TradingScenario()
        defer { scenario.stop() }
        let batch = try #require(try scenario.propose().batchID)
        _ = try Approval(connection: scenario.connection).approve(batch: batch, by: "alice")
        var killed = scenario.environment
        killed["BALLAST_CRASH_AT"] = "after-send:1"
        let crash = try BallastBinary.run(["execute", String(batch), "--job", scenario.jobPath], environment: killed)
        #expect(crash.status != 0)
        let held = try scenario.propose()
        #expect(held.batchID == nil && held.routes.isEmpty)
        #expect(held.held?.contains("batch \(batch) is executing") == true, "\(String(describing: held.held))")
        #expect(try scenario.count("SELECT count(*) AS n FROM batches") == 1)
        let cli = try BallastBinary.run(
            ["propose", "--job", scenario.jobPath, "--dry-run"], environment: scenario.environment)
        #expect(cli.stdout.contains("held, batch \(batch) is executing"), "\(cli.stdout)")

        let rerun = try BallastBinary.run(
            ["execute", String(batch), "--job", scenario.jobPath], environment: scenario.environment)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        // The fills are stored, the balances not pulled since: proposing from them would trade again.
        let stale = try scenario.propose()
        #expect(stale.held?.contains("predate its fill") == true, "\(String(describing: stale.held))")
        #expect(stale.batchID == nil)
        var logger = Logger(label: "test")
        logger.logLevel = .error
        _ = try await PullJob.run(
            config: scenario.config, databaseURL: scenario.databaseURL, logger: logger,
            environment: scenario.venues.environment)
        let after = try scenario.propose()
        #expect(after.held == nil && after.superseded.isEmpty)
        let status = try scenario.connection.query("SELECT status FROM batches WHERE id = \(batch)").first!
        #expect(try status.decode("status", as: String.self) == "completed")
    }

    @Test func anUnknownAssetIsRefusedByName() async throws {
        let scenario = try await TradingScenario(router: "")
        defer { scenario.stop() }
        var config = scenario.config
        config.portfolios[0].targets["DOGE"] = ExactDecimal("0.05")!
        config.portfolios[0].targets["USDT"] = ExactDecimal("0.15")!
        for dryRun in [true, false] {
            let error = #expect(throws: BallastError.self) {
                try Propose(connection: scenario.connection, logger: Logger(label: "test")).run(
                    config: config, runID: nil, dryRun: dryRun)
            }
            #expect(error?.description.contains("unknown asset 'DOGE'") == true, "\(String(describing: error))")
        }
        #expect(try scenario.count("SELECT count(*) AS n FROM batches") == 0)
    }

    /// A failed write (here a trigger standing in for a full disk or a lost server) stops the worker
    /// deciding ahead, surfaces the database's error, and leaves nothing of the chunk behind.
    @Test func aFailedWriteStopsProposingAndStoresNothing() async throws {
        let scenario = try await TradingScenario()
        defer { scenario.stop() }
        try scenario.connection.execute(
            """
            CREATE FUNCTION refuse_batch() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN RAISE EXCEPTION 'no room for batch %', NEW.batch_id; END $$
            """)
        try scenario.connection.execute(
            "CREATE TRIGGER refuse_batch BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION refuse_batch()")
        let error = #expect(throws: PostgresError.self) { try scenario.propose() }
        #expect(error?.description.contains("no room for batch") == true, "\(String(describing: error))")
        for table in ["batches", "batch_parents", "orders", "decisions"] {
            #expect(try scenario.count("SELECT count(*) AS n FROM \(table)") == 0, "\(table)")
        }
        try scenario.connection.execute("DROP TRIGGER refuse_batch ON orders")
        #expect(try scenario.propose().batchID != nil)
    }

    /// 700 copies of the scenario's portfolio: three chunks, decided by parallel workers and written
    /// in order. A failure in a later chunk — a portfolio that cannot be decided, or a write the
    /// database refuses — ends the run with that error, never hangs, and leaves whole chunks only,
    /// the earlier ones, with their chain intact.
    @Test func aFailureInALaterChunkKeepsTheWholeChunksBeforeIt() async throws {
        let scenario = try await TradingScenario()
        defer { scenario.stop() }
        var config = scenario.config
        let template = config.portfolios[0]
        config.portfolios = (0..<700).map { index in
            var portfolio = template
            portfolio.id = "p\(index)"
            return portfolio
        }
        try scenario.connection.execute(
            "INSERT INTO portfolios (id, quote_asset) SELECT 'p' || n, \(template.quote) FROM generate_series(0, 699) n"
        )
        func propose(_ config: JobConfig) throws -> [Propose.Proposal] {
            try Propose(connection: scenario.connection, logger: Logger(label: "test")).run(
                config: config, runID: nil, dryRun: false)
        }
        func stored() throws -> (batches: Int, last: Int) {
            let row = try scenario.connection.query(
                "SELECT count(*) AS n, coalesce(max(substr(portfolio_id, 2)::int), -1) AS last FROM batches"
            ).first!
            return (try row.decode("n"), try row.decode("last"))
        }

        // Chunk 2 (portfolios 500–699) holds one that cannot be decided.
        var undecidable = config
        undecidable.portfolios[600].targets["DOGE"] = ExactDecimal("0.05")!
        undecidable.portfolios[600].targets["USDT"] = ExactDecimal("0.15")!
        let refused = #expect(throws: BallastError.self) { try propose(undecidable) }
        #expect(refused?.description.contains("'p600'") == true, "\(String(describing: refused))")
        let afterRefusal = try stored()
        #expect([0, 250, 500].contains(afterRefusal.batches), "\(afterRefusal)")
        #expect(afterRefusal.last < 500)
        #expect(try DecisionLog.verify(on: scenario.connection).firstBroken == nil)

        // Chunk 1 (portfolios 250–499) cannot be written: chunk 0 of this run stays, whole.
        try scenario.connection.execute(
            """
            CREATE FUNCTION refuse_p400() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN IF NEW.portfolio_id = 'p400' THEN RAISE EXCEPTION 'no room for p400'; END IF; RETURN NEW; END $$
            """)
        try scenario.connection.execute(
            "CREATE TRIGGER refuse_p400 BEFORE INSERT ON batches FOR EACH ROW EXECUTE FUNCTION refuse_p400()")
        let failed = #expect(throws: PostgresError.self) { try propose(config) }
        #expect(failed?.description.contains("no room for p400") == true, "\(String(describing: failed))")
        #expect(try stored().batches == afterRefusal.batches + 250)
        #expect(try DecisionLog.verify(on: scenario.connection).firstBroken == nil)

        // With the way clear every portfolio is proposed, batch ids ascending in portfolio order.
        try scenario.connection.execute("DROP TRIGGER refuse_p400 ON batches")
        let proposals = try propose(config)
        let ids = proposals.compactMap(\.batchID)
        #expect(ids.count == 700 && ids == ids.sorted())
        #expect(try DecisionLog.verify(on: scenario.connection).firstBroken == nil)
    }

    @Test(arguments: [false, true])
    func executeFillsExactlyTheIntendedOrdersAndARerunSendsNothing(resting: Bool) async throws {
        let campaign = CrashCampaign(
            executable: BallastBinary.url, logger: Logger(label: "test"), makeDatabase: { try TestDatabase.migrated() })
        let trial = try await campaign.run(kill: .none, resting: resting, seed: 21)
        #expect(trial.passed, "\(trial)")
        #expect(!trial.killed)
        #expect(trial.firstExit == 0)
        #expect(trial.reruns == 0)
        #expect(trial.venueOrders == trial.orders - trial.rejected, "\(trial)")
        #expect(trial.attemptsRecorded == trial.venueRequests, "\(trial)")
    }
}

/// An order's decision record as one `Encodable` value, to compare with the text Ballast assembles.
private struct WholeOrderRecord: Encodable {
    var kind = "order"
    var reason: String
    var portfolio: String
    var batch: Int64
    var parent: Int
    var leg: Int
    var intentKey: String
    var clientOrderId: String
    var trade: ParentTrade
    var drift: Double?
    var band: Double?
    var bandBasis: String?
    var sigma: Double?
    var snapshots: [String: Int64]
    var balances: [String: [String: ExactDecimal]]
    var mids: [String: ExactDecimal]
    var venueHealth: [String: VenueHealth]
    var candidates: [RouteCost]
    var split: [ChildPlan]
    var child: ChildPlan
    var books: [String: DecisionInputs.BookIDs]
    var bandInputs: RecomputeInputs.Band?
    var planInputs: RecomputeInputs.Plan?
    var routeInputs: RecomputeInputs.Route?

    static func all(of proposal: Propose.Proposal, batch: Int64) -> [WholeOrderRecord] {
        var records: [WholeOrderRecord] = []
        for (index, route) in proposal.routes.enumerated() {
            let trade = route.parent
            for child in route.children {
                let leg = records.count
                let intent = OrderIntent(
                    portfolio: proposal.portfolio, batch: batch, leg: leg, venue: child.venue, symbol: child.symbol,
                    side: child.side)
                records.append(
                    WholeOrderRecord(
                        reason: "\(child.venue) \(child.side.rawValue) \(child.quantity) \(child.symbol) "
                            + "\(child.style.rawValue) limit \(child.limitPrice): \(route.reason)",
                        portfolio: proposal.portfolio, batch: batch, parent: index, leg: leg, intentKey: intent.key,
                        clientOrderId: intent.clientOrderId, trade: trade, drift: proposal.plan.drift[trade.asset],
                        band: proposal.inputs.bands[trade.asset], bandBasis: proposal.inputs.bandBasis[trade.asset],
                        sigma: proposal.inputs.volatility[trade.asset], snapshots: proposal.inputs.snapshots,
                        balances: proposal.inputs.free, mids: proposal.inputs.mids, venueHealth: proposal.inputs.health,
                        candidates: route.candidates, split: route.children, child: child,
                        books: proposal.inputs.books[trade.asset + trade.quote] ?? [:],
                        bandInputs: proposal.inputs.bandInputs[trade.asset], planInputs: proposal.planInputs,
                        routeInputs: proposal.routeInputs[index]))
            }
        }
        return records
    }
}
