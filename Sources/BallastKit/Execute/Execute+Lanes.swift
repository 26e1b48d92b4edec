import BallastCore
import Foundation
import Logging
import Postgres
import Venues

extension Execute {
    /// Drives every venue's legs at once, one lane per venue: each lane has its own database
    /// session and drives its legs in order, so a resting or slow leg holds up only the legs
    /// behind it at the same venue. Returns why legs were deferred. A failure that is not a
    /// deferral (the database) stops every lane and is thrown.
    func driveLanes(batch: Int64, policy: RouterPolicy, summary: inout Summary) async throws -> [String] {
        let lanes = try lanes(of: batch)
        guard lanes.count > 1 else {
            return try await drive(lanes.first?.legs ?? [], batch: batch, policy: policy, summary: &summary)
        }
        let searchPath: String = try connection.query("SELECT current_setting('search_path') AS p").first!.decode("p")
        let lane = Lane(
            conninfo: connection.conninfo, searchPath: searchPath, venues: venues, logger: logger, runID: runID,
            crash: crash, pollInterval: pollInterval, clock: clock, checkFirst: checkFirst, resendGuard: resendGuard,
            startedAt: startedAt, rerun: ambiguity.rerun)
        return try await withThrowingTaskGroup(of: (Summary, [String]).self) { group in
            for (_, legs) in lanes {
                group.addTask { try await lane.drive(legs, batch: batch, policy: policy) }
            }
            var deferrals: [String] = []
            for try await (part, deferred) in group {
                summary.sent += part.sent
                summary.lookups += part.lookups
                summary.chases += part.chases
                deferrals += deferred
            }
            return deferrals
        }
    }

    /// Drives `legs` one after another on this executor's session; returns why legs were deferred.
    func drive(_ legs: [Int], batch: Int64, policy: RouterPolicy, summary: inout Summary) async throws -> [String] {
        var deferrals: [String] = []
        for leg in legs {
            do {
                try await drive(batch: batch, leg: leg, policy: policy, summary: &summary)
            } catch let error as ExecuteDeferral {
                deferrals.append(error.reason)
                logger.warning("leg deferred: \(error.reason)", metadata: ["batch": "\(batch)", "leg": "\(leg)"])
            }
        }
        return deferrals
    }
}

/// What one venue's lane needs to make an executor of its own: nothing it shares with the
/// other lanes but Sendable values (the venue clients, the logger, the clock, the crash points).
struct Lane: Sendable {
    let conninfo: String
    let searchPath: String
    let venues: [String: any OrderVenue]
    let logger: Logger
    let runID: String?
    let crash: CrashPoints
    let pollInterval: Duration
    let clock: any TimeSource
    let checkFirst: Execute.CheckFirst
    let resendGuard: Bool
    let startedAt: Date
    let rerun: Bool

    /// Opens the lane's session (durable, with the same search_path), drives `legs` and closes it.
    func drive(_ legs: [Int], batch: Int64, policy: RouterPolicy) async throws -> (Execute.Summary, [String]) {
        let connection = try Connection(conninfo: conninfo, logger: logger)
        defer { connection.close() }
        try connection.execute("SELECT set_config('search_path', \(searchPath), false)")
        let executor = Execute(
            connection: connection, venues: venues, logger: logger, runID: runID, crash: crash,
            pollInterval: pollInterval, clock: clock, checkFirst: checkFirst, resendGuard: resendGuard,
            startedAt: startedAt)
        executor.ambiguity.rerun = rerun
        var summary = Execute.Summary()
        let deferrals = try await executor.drive(legs, batch: batch, policy: policy, summary: &summary)
        return (summary, deferrals)
    }
}
