import BallastCore
import BallastKit
import BallastLab
import BallastTesting
import Foundation
import Logging
import Postgres
import Simulator
import Testing

/// Execute drives each venue's legs at the same time as the other venues': a slow venue (every
/// order answered 1.5 s late at the first one) holds up its own legs only.
@Suite(.serialized) struct ExecuteConcurrencyTests {
    @Test func aSlowVenueDoesNotHoldUpTheOthers() async throws {
        let database = DatabaseName()
        let campaign = CrashCampaign(
            executable: BallastBinary.url, logger: Logger(label: "test"),
            makeDatabase: { try database.set(TestDatabase.migrated()) })
        let slow = FaultRule(kind: .delay, method: "POST", path: "/api/v3/order", count: nil, delayMs: 1500)
        let trial = try await campaign.run(kill: .none, resting: false, seed: 5, faults: [slow])
        #expect(trial.passed && trial.firstExit == 0, "\(trial)")
        let connection = try TestDatabase.connect(database.get())
        defer { connection.close() }
        // When each venue's creates were recorded (after their answers), from the batch's first.
        let rows = try connection.query(
            """
            SELECT o.venue_id, count(*) AS creates,
                   extract(epoch FROM max(a.started_at) - (SELECT min(started_at) FROM order_attempts)) AS last_s
            FROM order_attempts a JOIN orders o ON o.id = a.order_id
            WHERE a.action = 'create' GROUP BY o.venue_id ORDER BY o.venue_id
            """
        ).map {
            (
                venue: try $0.decode("venue_id", as: String.self), creates: try $0.decode("creates", as: Int.self),
                last: try $0.decode("last_s", as: Double.self)
            )
        }
        let slowVenue = rows.first { $0.venue == "sim-a" }
        #expect((slowVenue?.creates ?? 0) >= 2, "\(rows)")
        #expect((slowVenue?.last ?? 0) >= 1.5, "\(rows)")
        for other in rows where other.venue != "sim-a" {
            #expect(other.last < 1.0, "\(other.venue)'s orders waited for sim-a's: \(rows)")
        }
    }
}
