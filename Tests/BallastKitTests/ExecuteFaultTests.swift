import BallastKit
import BallastTesting
import Foundation
import Logging
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
    ]

    @Test(arguments: faults)
    func theBatchCompletesWithoutDuplicates(name: String, rules: [FaultRule]) async throws {
        let campaign = CrashCampaign(
            executable: BallastBinary.url, logger: Logger(label: "test"), makeDatabase: { try TestDatabase.migrated() })
        let trial = try await campaign.run(kill: .none, resting: false, seed: 5, faults: rules)
        #expect(trial.passed, "\(name): \(trial)")
        #expect(trial.firstExit == 0 || trial.firstExit == 3, "\(name): exit \(trial.firstExit)")
        // libcurl itself re-sends an idempotent GET once when a reused connection is reset before any
        // answer (POST and DELETE never reuse a connection): the venue sees that request twice.
        let resentByLibcurl = rules.filter { $0.kind == .reset && $0.method == "GET" }.count
        #expect(trial.venueRequests - trial.attemptsRecorded == resentByLibcurl, "\(name): \(trial)")
    }
}
