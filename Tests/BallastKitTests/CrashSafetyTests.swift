import BallastKit
import BallastLab
import BallastTesting
import Foundation
import Logging
import Simulator
import Testing

/// `ballast execute` killed with SIGKILL at injected points and at random moments, then rerun:
/// the simulated venues must hold no duplicate order, no live order, every intent resolved,
/// and balances equal to the start plus the fills ledger.
@Suite(.serialized) struct CrashSafetyTests {
    static let campaign = CrashCampaign(
        executable: BallastBinary.url, logger: Logger(label: "test"), makeDatabase: { try TestDatabase.migrated() })

    /// (point, hit, resting): 26 injected kill points. `between-fills` runs over books a twentieth
    /// as deep, so a crossing order walks several levels and fills in several trades.
    static let points: [(String, Int, Bool)] =
        [1, 2, 3].flatMap { hit in
            [
                ("before-send", hit, false), ("after-send", hit, false), ("before-send", hit, true),
                ("after-send", hit, true), ("after-cancel", hit, true), ("mid-chase", hit, true),
            ]
        }
        + [
            ("before-send", 4, false), ("before-send", 5, false), ("after-send", 4, false), ("after-send", 6, true),
            ("after-cancel", 5, true), ("mid-chase", 4, true), ("between-fills", 1, false), ("after-lookup", 1, false),
        ]

    @Test(arguments: points)
    func killedAtAnInjectedPointThenRerun(point: String, hit: Int, resting: Bool) async throws {
        var setup = CrashCampaign.Setup()
        if point == "between-fills" { setup.depthDivisor = 20 }
        let trial = try await Self.campaign.run(
            kill: .at(point, hit: hit), resting: resting, seed: UInt64(hit * 31 + point.count),
            faults: point == "after-lookup"
                ? [FaultRule(kind: .serverError, method: "POST", path: "/api/v3/order", placed: true)] : [],
            setup: setup)
        #expect(trial.killed, "the kill point was never reached: \(trial)")
        #expect(trial.passed, "\(trial)")
    }

    @Test(arguments: [60, 140, 230, 330, 450, 600])
    func killedAtARandomMomentThenRerun(milliseconds: Int) async throws {
        let delay = Duration.milliseconds(milliseconds + Int.random(in: 0..<50))
        let trial = try await Self.campaign.run(
            kill: .after(delay), resting: milliseconds % 3 == 0, seed: UInt64(milliseconds))
        #expect(trial.passed, "\(trial)")
    }
}
