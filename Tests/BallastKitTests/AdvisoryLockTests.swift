import BallastCore
import BallastKit
import BallastTesting
import Foundation
import Logging
import Postgres
import Testing

/// Ballast's advisory locks: one 64-bit key per purpose and id, so neither ids nor purposes share one.
@Suite struct AdvisoryLockTests {
    static func isBusy(_ error: any Error) -> Bool {
        if case .busy = error as? BallastError { return true }
        return false
    }

    @Test func batchesTwoToTheThirtyTwoApartAreExecutedAtTheSameTime() async throws {
        let url = try TestDatabase.migrated()
        let setup = try TestDatabase.connect(url)
        defer { setup.close() }
        let low: Int64 = 7
        let high = low + (1 << 32)
        try setup.execute("INSERT INTO portfolios (id, quote_asset) VALUES ('p', 'USDT')")
        try setup.execute(
            "INSERT INTO batches (id, portfolio_id, status) VALUES (\(low), 'p', 'approved'), (\(high), 'p', 'approved')"
        )
        // Batch `low`'s row is held, so its executor stops inside its lock, at the status update.
        try setup.execute("BEGIN")
        try setup.execute("SELECT 1 FROM batches WHERE id = \(low) FOR UPDATE")
        let first = Task { () async throws -> String in
            let connection = try TestDatabase.connect(url)
            defer { connection.close() }
            return try await Execute(connection: connection, venues: [:], logger: Logger(label: "test"))
                .run(batch: low, policy: RouterPolicy()).status
        }
        let watcher = try TestDatabase.connect(url)
        defer { watcher.close() }
        let deadline = ContinuousClock.now + .seconds(20)
        while try watcher.query(
            """
            SELECT count(*) AS n FROM pg_stat_activity
            WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE batches SET status = ''executing''%'
            """
        ).first!.decode("n", as: Int64.self) == 0 {
            try #require(ContinuousClock.now < deadline, "the first executor never reached its status update")
            try await Task.sleep(for: .milliseconds(10))
        }

        let other = try TestDatabase.connect(url)
        defer { other.close() }
        let second = Execute(connection: other, venues: [:], logger: Logger(label: "test"))
        // The same batch from a second session is refused ...
        await #expect {
            _ = try await second.run(batch: low, policy: RouterPolicy())
        } throws: { Self.isBusy($0) }
        // ... and the batch 2³² further on is not held by it.
        let summary = try await second.run(batch: high, policy: RouterPolicy())
        #expect(summary.status == "completed")

        try setup.execute("ROLLBACK")
        #expect(try await first.value == "completed")
    }

    @Test func aBatchIsLockedOnceAndItsNeighbours2To32ApartAreFree() throws {
        let url = try TestDatabase.empty()
        let one = try TestDatabase.connect(url)
        defer { one.close() }
        let two = try TestDatabase.connect(url)
        defer { two.close() }
        let batch: Int64 = 42
        #expect(try AdvisoryLock.executing(batch: batch).tryLock(on: one))
        #expect(try !AdvisoryLock.executing(batch: batch).tryLock(on: two))
        for neighbour in [batch + (1 << 32), batch - (1 << 32), batch + (1 << 33)] {
            #expect(try AdvisoryLock.executing(batch: neighbour).tryLock(on: two), "batch \(neighbour)")
        }
        try AdvisoryLock.executing(batch: batch).unlock(on: one)
        #expect(try AdvisoryLock.executing(batch: batch).tryLock(on: two))
    }

    @Test func everyPurposeHasItsOwnKey() {
        let locks: [AdvisoryLock] =
            [.portfolio("demo"), .portfolio("demo2"), .migrate, .decisionAppend]
            + [1, 2, 1 << 32, 1 + (1 << 32), -1].map { .executing(batch: $0) }
        #expect(Set(locks.map(\.key)).count == locks.count)
        // The key is a function of the name alone, the same in every process and release.
        // (Python: struct.unpack(">q", hashlib.sha256(b"ballast.execute.batch:7").digest()[:8])[0].)
        #expect(AdvisoryLock.executing(batch: 7).key == -6_482_448_198_298_938_948)
        #expect(
            AdvisoryLock.portfolio("demo").name == "portfolio.demo"
                && AdvisoryLock.executing(batch: 7).name == "execute.batch:7")
    }
}
