import BallastCore
import BallastKit
import BallastLab
import BallastTesting
import Foundation
import Logging
import Postgres
import Simulator
import Testing

/// Faults at a venue while a batch executes: the batch completes, or defers and completes on the
/// rerun, with zero duplicate orders and every request the venue saw recorded as an attempt.
@Suite(.serialized) struct ExecuteFaultTests {
    static let order = (method: "POST", path: "/api/v3/order")

    static let faults: [(String, [FaultRule])] = [
        (
            "429 burst",
            [FaultRule(kind: .rateLimit, method: order.method, path: order.path, count: 3, retryAfterSeconds: 1)]
        ),
        ("418 ban", [FaultRule(kind: .ban, method: order.method, path: order.path, retryAfterSeconds: 2)]),
        ("5xx, order placed", [FaultRule(kind: .serverError, method: order.method, path: order.path, placed: true)]),
        ("5xx, order not placed", [FaultRule(kind: .serverError, method: order.method, path: order.path)]),
        (
            "−1007, order placed",
            [FaultRule(kind: .unknownStatus, method: order.method, path: order.path, placed: true)]
        ),
        ("response lost after accept", [FaultRule(kind: .dropResponse, method: order.method, path: order.path)]),
        ("reset, order placed", [FaultRule(kind: .reset, method: order.method, path: order.path, placed: true)]),
        ("reset, order not placed", [FaultRule(kind: .reset, method: order.method, path: order.path)]),
        (
            "lookup fails once too",
            [
                FaultRule(kind: .serverError, method: order.method, path: order.path, placed: true),
                FaultRule(kind: .reset, method: "GET", path: order.path),
            ]
        ),
        ("malformed ack", [FaultRule(kind: .malformed, method: order.method, path: order.path)]),
        ("partial fills", [FaultRule(kind: .partialFill, method: order.method, path: order.path, count: 3)]),
    ]

    @Test(arguments: faults)
    func theBatchCompletesWithoutDuplicates(name: String, rules: [FaultRule]) async throws {
        let database = DatabaseName()
        let campaign = CrashCampaign(
            executable: BallastBinary.url, logger: Logger(label: "test"),
            makeDatabase: { try database.set(TestDatabase.migrated()) })
        let trial = try await campaign.run(kill: .none, resting: false, seed: 5, faults: rules)
        // Each order attempt that names an HTTP attempt names the request it is about, and no two
        // name the same one.
        let links = try Self.attemptLinks(database.get())
        #expect(links.linked > 0 && links.mismatched == 0 && links.shared == 0, "\(name): \(links)")
        #expect(trial.passed, "\(name): \(trial)")
        #expect(trial.firstExit == 0 || trial.firstExit == 3, "\(name): exit \(trial.firstExit)")
        // libcurl itself re-sends an idempotent GET once when a reused connection is reset before any
        // answer (POST and DELETE never reuse a connection): the venue sees that request twice.
        let resentByLibcurl = rules.filter { $0.kind == .reset && $0.method == "GET" }.count
        #expect(trial.venueRequests - trial.attemptsRecorded == resentByLibcurl, "\(name): \(trial)")
    }

    /// The first venue's IOC legs (the fault is scripted there) take half their quantity and expire
    /// with the rest: each is final with what it filled, its fills stored to the last unit, the other
    /// venues' legs fill whole, and the batch completes; nothing is sent again.
    @Test func partialFillsEndFinalWithTheirFillsStored() async throws {
        let database = DatabaseName()
        let campaign = CrashCampaign(
            executable: BallastBinary.url, logger: Logger(label: "test"),
            makeDatabase: { try database.set(TestDatabase.migrated()) })
        let partial = FaultRule(kind: .partialFill, method: Self.order.method, path: Self.order.path, count: 3)
        let trial = try await campaign.run(kill: .none, resting: false, seed: 5, faults: [partial])
        #expect(trial.passed && trial.firstExit == 0, "\(trial)")
        let connection = try TestDatabase.connect(database.get())
        defer { connection.close() }
        let legs = try connection.query(
            """
            SELECT o.venue_id, o.state, o.qty, o.executed_qty, coalesce(sum(f.qty), 0) AS filled
            FROM orders o LEFT JOIN fills f ON f.venue_id = o.venue_id AND f.symbol = o.symbol
                                           AND f.order_id = o.venue_order_id
            GROUP BY o.id ORDER BY o.id
            """
        ).map { row in
            (
                venue: try row.decode("venue_id", as: String.self), state: try row.decode("state", as: String.self),
                qty: try row.decode("qty", as: ExactDecimal.self),
                executed: try row.decode("executed_qty", as: ExactDecimal.self),
                filled: try row.decode("filled", as: ExactDecimal.self)
            )
        }
        let faulted = legs.filter { $0.venue == "sim-a" }
        #expect(!faulted.isEmpty && faulted.count <= 3, "\(legs)")
        #expect(
            faulted.allSatisfy { $0.state == "expired" && $0.executed.isPositive && $0.executed < $0.qty },
            "\(legs)")
        #expect(legs.filter { $0.venue != "sim-a" }.allSatisfy { $0.state == "filled" }, "\(legs)")
        #expect(legs.allSatisfy { $0.executed == $0.filled }, "\(legs)")
        #expect(legs.count == trial.orders && trial.venueOrders == trial.orders)
        let batch = try connection.query("SELECT status FROM batches").first!
        #expect(try batch.decode("status", as: String.self) == "completed")
        // With no request refused before it left, every order attempt names its HTTP attempt.
        let links = try Self.attemptLinks(database.get())
        #expect(links.unlinked == 0 && links.mismatched == 0 && links.shared == 0 && links.linked > 0, "\(links)")
    }

    /// Each dialect's order request, and what its attempt record says of a scripted fault: Kraken
    /// answers an unavailable service with an error in an HTTP 200, and Coinbase's client sends a
    /// create again (the venue keeps its client order id for good) until it gives up after four.
    static let creates: [(dialect: SimDialect, path: String, serverError: String, tries: Int)] = [
        (.binanceSpot, "/api/v3/order", "server_error", 1),
        (.krakenSpot, "/0/private/AddOrder", "venue_error", 1),
        (.coinbaseAdvanced, "/api/v3/brokerage/orders", "server_error", 4),
    ]

    /// A create whose outcome is unknown (the venue placed the order, then answered 5xx or reset
    /// the connection) is an `order_attempts` row naming the very HTTP attempt that failed: the
    /// order request of that order, ended the way the fault ended it, and the last one sent for it.
    @Test(arguments: [FaultRule.Kind.serverError, .reset], SimDialect.allCases)
    func anAmbiguousCreateNamesTheHTTPAttemptThatFailed(fault: FaultRule.Kind, dialect: SimDialect) async throws {
        let create = try #require(Self.creates.first { $0.dialect == dialect })
        let database = DatabaseName()
        let campaign = CrashCampaign(
            executable: BallastBinary.url, logger: Logger(label: "test"),
            makeDatabase: { try database.set(TestDatabase.migrated()) })
        var setup = CrashCampaign.Setup()
        setup.dialects = [create.dialect]
        let rule = FaultRule(kind: fault, method: "POST", path: create.path, count: create.tries, placed: true)
        let trial = try await campaign.run(kill: .none, resting: false, seed: 5, faults: [rule], setup: setup)
        #expect(trial.passed, "\(create.dialect) \(fault): \(trial)")

        let connection = try TestDatabase.connect(database.get())
        defer { connection.close() }
        let rows = try connection.query(
            """
            SELECT o.client_order_id AS ours, a.http_attempt_id AS named, h.method, h.endpoint, h.outcome,
                   h.client_order_id AS requested,
                   (SELECT max(x.id) FROM http_attempts x
                    WHERE x.venue_id = o.venue_id AND x.client_order_id = o.client_order_id
                      AND x.method = 'POST' AND x.endpoint = \(create.path)) AS last_sent
            FROM order_attempts a JOIN orders o ON o.id = a.order_id
                 LEFT JOIN http_attempts h ON h.id = a.http_attempt_id
            WHERE a.action = 'create' AND a.outcome = 'ambiguous'
            """
        ).map { row in
            (
                ours: try row.decode("ours", as: String.self), named: try row.decode("named", as: Int64?.self),
                method: try row.decode("method", as: String?.self),
                endpoint: try row.decode("endpoint", as: String?.self),
                outcome: try row.decode("outcome", as: String?.self),
                requested: try row.decode("requested", as: String?.self),
                lastSent: try row.decode("last_sent", as: Int64?.self)
            )
        }
        let failed = fault == .reset ? "transport_error" : create.serverError
        #expect(!rows.isEmpty, "\(create.dialect) \(fault): no ambiguous create")
        for row in rows {
            #expect(row.named != nil && row.named == row.lastSent, "\(create.dialect) \(fault): \(row)")
            #expect(row.method == "POST" && row.endpoint == create.path, "\(create.dialect) \(fault): \(row)")
            #expect(row.outcome == failed && row.requested == row.ours, "\(create.dialect) \(fault): \(row)")
        }
    }

    /// How `order_attempts` rows link to `http_attempts`: unlinked, linked, linked to a request about
    /// something else (another order, another action), and linked to a request another row names.
    static func attemptLinks(_ url: String) throws -> (unlinked: Int, linked: Int, mismatched: Int, shared: Int) {
        let connection = try TestDatabase.connect(url)
        defer { connection.close() }
        let row = try connection.query(
            """
            SELECT count(*) FILTER (WHERE a.http_attempt_id IS NULL) AS unlinked,
                   count(*) FILTER (WHERE a.http_attempt_id IS NOT NULL) AS linked,
                   count(*) FILTER (WHERE a.http_attempt_id IS NOT NULL AND NOT coalesce(
                       CASE a.action
                           WHEN 'fills' THEN h.endpoint = '/api/v3/myTrades'
                           ELSE h.endpoint = '/api/v3/order' AND h.client_order_id = o.client_order_id
                                AND h.method = CASE a.action WHEN 'create' THEN 'POST' WHEN 'query' THEN 'GET'
                                                             WHEN 'cancel' THEN 'DELETE' END
                       END, false)) AS mismatched,
                   count(a.http_attempt_id) - count(DISTINCT a.http_attempt_id) AS shared
            FROM order_attempts a JOIN orders o ON o.id = a.order_id LEFT JOIN http_attempts h ON h.id = a.http_attempt_id
            """
        ).first!
        return (
            try row.decode("unlinked"), try row.decode("linked"), try row.decode("mismatched"), try row.decode("shared")
        )
    }
}

/// The database a campaign trial made, kept for the test to read afterwards.
final class DatabaseName: @unchecked Sendable {
    // Safe to share: `name` is only touched under `lock`.
    private let lock = NSLock()
    private var name = ""
    func set(_ value: String) -> String { lock.withLock { name = value }; return value }
    func get() -> String { lock.withLock { name } }
}
