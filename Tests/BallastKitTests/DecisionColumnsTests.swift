import BallastKit
import BallastTesting
import Foundation
import Postgres
import Testing

/// Issue 12 §2: every column a report reads from a decision record is under its hash, and the
/// records written before that still verify.
@Suite(.serialized) struct DecisionColumnsTests {
    /// Each column reports join or filter on, edited by an owner who switched the trigger off.
    static let edits: [(column: String, sql: String)] = [
        ("order_id", "order_id = (SELECT max(id) FROM orders)"),
        ("created_at", "created_at = created_at - interval '1 day'"),
        ("batch_id", "batch_id = NULL"),
        ("kind", "kind = 'approval'"),
        ("portfolio_id", "portfolio_id = 'another'"),
    ]

    @Test(arguments: edits.map(\.column))
    func anEditedColumnBreaksTheChainAtItsRecord(column: String) async throws {
        let scenario = try await TradingScenario()
        defer { scenario.stop() }
        _ = try scenario.propose()
        let victim: Int64 = try scenario.connection.query(
            "SELECT min(id) AS id FROM decisions WHERE kind = 'order' AND order_id <> (SELECT max(id) FROM orders)"
        ).first!.decode("id")
        let intact = try DecisionLog.verify(on: scenario.connection)
        #expect(intact.firstBroken == nil && intact.legacy == 0 && intact.covered == intact.checked)

        // What a report reads through the view is the hashed value, whatever the column says.
        let before = try scenario.connection.query(
            "SELECT order_id, created_at, batch_id, kind, portfolio_id FROM decision_records WHERE id = \(victim)")
        try scenario.connection.execute("ALTER TABLE decisions DISABLE TRIGGER decisions_append_only")
        let edit = Self.edits.first { $0.column == column }!.sql
        #expect(
            try scenario.connection.execute(Query(unsafeSQL: "UPDATE decisions SET \(edit) WHERE id = \(victim)")) == 1)
        let after = try scenario.connection.query(
            "SELECT order_id, created_at, batch_id, kind, portfolio_id FROM decision_records WHERE id = \(victim)")
        #expect((0..<5).map { before[0].text(at: $0) } == (0..<5).map { after[0].text(at: $0) })

        let result = try DecisionLog.verify(on: scenario.connection)
        #expect(result.firstBroken?.id == victim)
        #expect(result.firstBroken?.reason.contains("column \(column) was altered") == true, "\(result.firstBroken!)")
        let cli = try BallastBinary.run(["audit", "verify"], environment: scenario.environment)
        #expect(cli.status == 2 && cli.stdout.contains("BROKEN at record \(victim)"), "\(cli.stdout)")
        let report = try BallastBinary.run(
            ["report", "--out", FileManager.default.temporaryDirectory.appendingPathComponent("r-\(UUID())").path],
            environment: scenario.environment)
        #expect(report.status == 2 && report.stderr.contains("decision chain broken"), "\(report.stderr)")
    }

    /// Records hashed the old way (the decision text alone) stay verifiable; new ones chain onto them
    /// covered, and an old-style record after a covered one is refused.
    @Test func legacyRecordsStillVerifyAndNoneMayFollowACoveredOne() async throws {
        let scenario = try await TradingScenario()
        defer { scenario.stop() }
        var previous = DecisionLog.genesis
        for reason in ["first", "second"] {
            let text = "{\"kind\":\"order\",\"reason\":\"\(reason)\"}"
            let hash = DecisionLog.hash(previous: previous, payloadText: text)
            try scenario.connection.execute(
                """
                INSERT INTO decisions (portfolio_id, kind, payload_text, prev_hash, hash)
                VALUES ('demo', 'order', \(text), \(previous), \(hash))
                """)
            previous = hash
        }
        _ = try scenario.propose()
        let result = try DecisionLog.verify(on: scenario.connection)
        #expect(result.firstBroken == nil, "\(result.firstBroken.map { "\($0)" } ?? "")")
        #expect(result.legacy == 2 && result.covered == result.checked - 2 && result.covered > 0)
        let cli = try BallastBinary.run(["audit", "verify"], environment: scenario.environment)
        #expect(cli.status == 0 && cli.stdout.contains("2 record(s) written before migration 0011"), "\(cli.stdout)")
        // The view gives a legacy record's columns as stored and its text as the payload.
        let legacy = try scenario.connection.query(
            "SELECT covered, payload->>'reason' AS reason FROM decision_records ORDER BY id LIMIT 1")[0]
        #expect(try legacy.decode("covered", as: Bool.self) == false)
        #expect(try legacy.decode("reason", as: String.self) == "first")

        let head = result.head
        let text = "{\"kind\":\"order\",\"reason\":\"late\"}"
        try scenario.connection.execute(
            """
            INSERT INTO decisions (portfolio_id, kind, payload_text, prev_hash, hash)
            VALUES ('demo', 'order', \(text), \(head), \(DecisionLog.hash(previous: head, payloadText: text)))
            """)
        let late = try DecisionLog.verify(on: scenario.connection)
        #expect(late.firstBroken?.reason.contains("not hashed follows") == true)
    }
}
