import BallastCore
import BallastKit
import BallastLab
import BallastTesting
import Foundation
import Logging
import Simulator
import Testing

/// The resend rule: after an ambiguous send, "no such order" proves nothing while the request may
/// still reach the venue. The first venue holds its first order request 1.5 s on the way in; the
/// client gives up after 0.5 s, looks the order up (not there yet) and, without the rule, sends
/// the same client order id again — and the venue executes both (an IOC that filled is no longer
/// open, so its id is free). With the rule, execute waits until recvWindow has passed since the
/// send, looks again, and finds the original.
@Suite(.serialized) struct ResendRuleTests {
    static let campaign = CrashCampaign(
        executable: BallastBinary.url, logger: Logger(label: "test"), makeDatabase: { try TestDatabase.migrated() })

    static func setup(recvWindowMs: Int, unsafe: Bool) -> CrashCampaign.Setup {
        var setup = CrashCampaign.Setup()
        setup.venueSettings = "timeout_ms = 500\nrecv_window_ms = \(recvWindowMs)"
        if unsafe { setup.environment["BALLAST_TEST_UNSAFE_RESEND"] = "1" }
        // Enough of everything that a second order is not refused for funds.
        setup.deposits = [
            "USDT": ExactDecimal(1_000_000), "BTC": ExactDecimal(50), "ETH": ExactDecimal(500),
            "SOL": ExactDecimal(5000),
        ]
        return setup
    }

    static func heldOnTheWayIn(_ milliseconds: Double) -> [FaultRule] {
        [FaultRule(kind: .delayInbound, method: "POST", path: "/api/v3/order", delayMs: milliseconds)]
    }

    @Test func withoutTheRuleTheResendBecomesASecondOrder() async throws {
        let trial = try await Self.campaign.run(
            kill: .none, resting: false, seed: 5, faults: Self.heldOnTheWayIn(1500),
            setup: Self.setup(recvWindowMs: 3000, unsafe: true))
        print("resend rule off: \(trial)")
        #expect(trial.duplicates >= 1, "\(trial)")
        #expect(!trial.passed)
    }

    @Test func withTheRuleTheOriginalIsFoundAndNothingIsSentTwice() async throws {
        let trial = try await Self.campaign.run(
            kill: .none, resting: false, seed: 5, faults: Self.heldOnTheWayIn(1500),
            setup: Self.setup(recvWindowMs: 3000, unsafe: false))
        print("resend rule on: \(trial)")
        #expect(trial.passed, "\(trial)")
        #expect(trial.duplicates == 0 && trial.firstExit == 0, "\(trial)")
        // It waited out the window: 0.5 s timeout + 3 s recvWindow + 1 s margin before the second lookup.
        #expect(trial.firstSeconds >= 4.5, "\(trial)")
    }

    /// Held past its recvWindow, the original is refused by the venue when it arrives (−1021):
    /// the second lookup finds nothing, and the one resend is the only order.
    @Test func aRequestHeldPastItsWindowIsRefusedAndTheResendIsTheOnlyOrder() async throws {
        let trial = try await Self.campaign.run(
            kill: .none, resting: false, seed: 5, faults: Self.heldOnTheWayIn(2500),
            setup: Self.setup(recvWindowMs: 1500, unsafe: false))
        print("held past its window: \(trial)")
        #expect(trial.passed, "\(trial)")
        #expect(trial.duplicates == 0 && trial.firstExit == 0, "\(trial)")
    }

    /// The kill campaign with order requests delayed on their way in (half of them held 600 ms at
    /// the first venue, against a 250 ms client timeout): SIGKILLs at random moments, reruns,
    /// 0 duplicates.
    @Test(arguments: [150, 400, 700, 1100, 1600, 2400])
    func killedWhileRequestsAreDelayedOnTheWayIn(milliseconds: Int) async throws {
        var setup = Self.setup(recvWindowMs: 1000, unsafe: false)
        setup.venueSettings = "timeout_ms = 250\nrecv_window_ms = 1000"
        let held = FaultRule(
            kind: .delayInbound, method: "POST", path: "/api/v3/order", count: nil, probability: 0.5, delayMs: 600)
        let trial = try await Self.campaign.run(
            kill: .after(.milliseconds(milliseconds)), resting: milliseconds % 3 == 0, seed: UInt64(milliseconds),
            faults: [held], setup: setup)
        print("delayed inbound, killed: \(trial)")
        #expect(trial.passed, "\(trial)")
    }
}
