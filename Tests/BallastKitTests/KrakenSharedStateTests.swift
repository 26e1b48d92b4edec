import BallastKit
import BallastTesting
import Foundation
import Logging
import Postgres
import Testing
import Venues

/// Issue 15 §3: Kraken's decaying call counter and its always-increasing nonce, each shared by
/// every process using a key through PostgreSQL (two connections stand for two processes).
@Suite struct KrakenSharedStateTests {
    @Test func twoProcessesShareOneDecayingCallCounter() async throws {
        let url = try TestDatabase.migrated()
        let (dbA, dbB) = (
            LockedConnection(try TestDatabase.connect(url)), LockedConnection(try TestDatabase.connect(url))
        )
        defer {
            dbA.close()
            dbB.close()
        }
        let a = PostgresRateBudgetStore(database: dbA)
        let b = PostgresRateBudgetStore(database: dbB)
        // Kraken's starter tier: 15 points, draining 0.33 a second; a margin of 0.2 leaves 12.
        let limits = RateLimits(
            safetyMargin: 0.2, callCounter: .init(max: 15, decayPerSecond: 0.33))
        let start = Date(timeIntervalSince1970: 1_767_225_600)
        let granted = try await withThrowingTaskGroup(of: Int.self) { group in
            for store in [a, b] {
                group.addTask {
                    var count = 0
                    for _ in 0..<10 {
                        if try store.reserve(venue: "k", key: "key", weight: 1, orders: 0, limits: limits, now: start)
                            == .granted
                        {
                            count += 1
                        }
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(granted == 12, "12 points of the shared counter at once, whichever process asks")
        // The next point waits for the counter to drain by one: 1 / 0.33 s.
        guard
            case .wait(let until, _) = try a.reserve(
                venue: "k", key: "key", weight: 1, orders: 0, limits: limits, now: start)
        else {
            Issue.record("a 13th point must wait")
            return
        }
        #expect(abs(until.timeIntervalSince(start) - 1 / 0.33) < 0.01, "\(until.timeIntervalSince(start)) s")
        // Three seconds later about one point has drained: one more fits, then none.
        let later = start.addingTimeInterval(3.1)
        #expect(try b.reserve(venue: "k", key: "key", weight: 1, orders: 0, limits: limits, now: later) == .granted)
        #expect(try a.reserve(venue: "k", key: "key", weight: 1, orders: 0, limits: limits, now: later) != .granted)
        // A history call (2 points) after a minute of quiet: the counter has drained to zero.
        let quiet = start.addingTimeInterval(60)
        #expect(try a.reserve(venue: "k", key: "key", weight: 2, orders: 0, limits: limits, now: quiet) == .granted)
    }

    /// Two processes drawing nonces for one key at once: every nonce is distinct, and no process
    /// signs with one while the other's request with a higher nonce is on its way (held in turn).
    @Test func noncesRiseAcrossProcessesAndRequestsOfAKeyTakeTurns() async throws {
        let url = try TestDatabase.migrated()
        let logger = Logger(label: "test")
        let a = PostgresNonceSource(databaseURL: url, logger: logger)
        let b = PostgresNonceSource(databaseURL: url, logger: logger)
        defer {
            a.close()
            b.close()
        }
        let inFlight = InFlight()
        let drawn = try await withThrowingTaskGroup(of: [UInt64].self) { group in
            for source in [a, b] {
                for _ in 0..<3 {
                    group.addTask {
                        var nonces: [UInt64] = []
                        for _ in 0..<8 {
                            let nonce = try await source.withNonce(venue: "k", key: "fp1", now: 1_000) {
                                (nonce) async throws(VenueError) -> UInt64 in
                                inFlight.enter()
                                try? await Task.sleep(for: .milliseconds(2))
                                inFlight.leave()
                                return nonce
                            }
                            nonces.append(nonce)
                        }
                        return nonces
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(drawn.count == 48 && Set(drawn).count == 48, "48 distinct nonces")
        #expect(drawn.min()! >= 1_000, "never below the clock")
        #expect(inFlight.most == 1, "one request of the key in flight at a time, across both sources")
        // The store keeps the highest; a source started afresh continues above it.
        let fresh = PostgresNonceSource(databaseURL: url, logger: logger)
        defer { fresh.close() }
        let next = try await fresh.withNonce(venue: "k", key: "fp1", now: 5) { (n) async throws(VenueError) in n }
        #expect(next == drawn.max()! + 1)
        // Another key is not held up by this one's turns.
        let other = try await a.withNonce(venue: "k", key: "fp2", now: 77) { (n) async throws(VenueError) in n }
        #expect(other == 77)
    }
}

/// Counts requests inside the nonce's turn at once.
final class InFlight: @unchecked Sendable {
    // Safe to share: both counters are only touched under `lock`.
    private let lock = NSLock()
    private var now = 0
    private(set) var most = 0

    func enter() {
        lock.withLock {
            now += 1
            most = max(most, now)
        }
    }

    func leave() { lock.withLock { now -= 1 } }
}
