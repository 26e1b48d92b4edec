import BallastKit
import BallastTesting
import Foundation
import Postgres
import Testing
import Venues

@Suite struct RateBudgetStoreTests {
    /// Two stores on two connections stand for two processes sharing one API key.
    @Test func twoProcessesSharingAKeyStayUnderTheLimit() async throws {
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
        let limits = RateLimits(requestWeightPerMinute: 1000, safetyMargin: 0.1)  // 900 usable
        let now = Date(timeIntervalSince1970: 1_767_225_600)
        let granted = try await withThrowingTaskGroup(of: Int.self) { group in
            for store in [a, b] {
                group.addTask {
                    var count = 0
                    for _ in 0..<100 {
                        if try store.reserve(
                            venue: "v", key: "k", weight: 10, orders: 0, limits: limits, now: now)
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
        #expect(granted == 90, "90 × 10 = 900 weight, the budget")
        // The next window starts empty.
        let later = now.addingTimeInterval(60)
        #expect(
            try a.reserve(venue: "v", key: "k", weight: 10, orders: 0, limits: limits, now: later) == .granted)
        // Another key has its own budget.
        #expect(
            try b.reserve(venue: "v", key: "other", weight: 10, orders: 0, limits: limits, now: now) == .granted)
    }

    @Test func bansAndBackOffsAreSharedToo() async throws {
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
        let now = Date(timeIntervalSince1970: 1_767_225_600)
        try a.ban(venue: "v", key: "k", until: now.addingTimeInterval(120))
        #expect(
            try b.reserve(venue: "v", key: "k", weight: 1, orders: 0, limits: RateLimits(), now: now)
                == .banned(until: now.addingTimeInterval(120)))
        try a.backOff(venue: "v", key: "k2", until: now.addingTimeInterval(5))
        let answer = try b.reserve(venue: "v", key: "k2", weight: 1, orders: 0, limits: RateLimits(), now: now)
        #expect(answer == .wait(until: now.addingTimeInterval(5), reason: "Retry-After from the venue"))
        // The venue's own count raises ours.
        try a.observe(venue: "v", key: "k3", usedWeight1m: 5390, orderCount10s: nil, now: now)
        let limited = try b.reserve(venue: "v", key: "k3", weight: 20, orders: 0, limits: RateLimits(), now: now)
        #expect(limited != .granted, "5390 + 20 passes the 5400 budget")
    }
}
