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
        // Times to fill are the venue's clock minus the venue's clock: sim-a's IOC orders filled the
        // moment the venue accepted them, though their answers came 1.5 s later.
        let run = try JobRun.start("measure", on: connection)
        _ = try Measure(connection: connection, databaseURL: database.get(), logger: Logger(label: "test")).run(
            runID: run.id, from: Date(timeIntervalSince1970: 0), to: Date().addingTimeInterval(60))
        let measured = try connection.query(
            """
            SELECT m.venue_id, m.seconds_to_first_fill AS s, o.venue_created_at IS NOT NULL AS known
            FROM order_measures m JOIN orders o ON o.id = m.order_id WHERE m.filled_qty > 0
            """
        ).map {
            (
                venue: try $0.decode("venue_id", as: String.self), seconds: try $0.decode("s", as: Double?.self),
                known: try $0.decode("known", as: Bool.self)
            )
        }
        #expect(!measured.isEmpty && measured.allSatisfy { $0.known }, "\(measured)")
        #expect(measured.allSatisfy { ($0.seconds ?? -1) >= 0 && ($0.seconds ?? 9) < 0.5 }, "\(measured)")
    }
}
