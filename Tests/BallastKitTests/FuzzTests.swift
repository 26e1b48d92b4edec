import BallastLab
import Foundation
import Testing

/// Every decoder of untrusted input refuses mutated garbage with an error; none crashes (a trap
/// would end this test process) or accepts everything.
@Suite struct FuzzTests {
    @Test func everyDecoderRefusesGarbageWithoutCrashing() async throws {
        let outcomes = try await Fuzz(cases: 1_500, seed: 11).run()
        let names = Set(outcomes.map(\.target))
        for expected in [
            "exact-decimal", "timestamp", "ohlcv-csv", "job-toml", "simulator-toml", "report-template",
            "summary-template", "venue-exchange-info",
            "venue-book-tickers", "venue-depth", "venue-account", "venue-new-order", "venue-my-trades",
        ] {
            #expect(names.contains(expected), "\(expected) was fuzzed")
        }
        for outcome in outcomes {
            #expect(outcome.cases == 1_500)
            // The unmutated seeds decode; most mutations do not.
            #expect(outcome.accepted >= 1, "\(outcome.target) accepted its own seeds")
            #expect(outcome.refused > 0, "\(outcome.target) refused some garbage")
        }
    }
}
