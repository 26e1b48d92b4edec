import ArgumentParser
import BallastKit
import BallastLab
import Foundation

extension BenchCommand {
    /// `ballast bench fuzz`: seeded mutations of valid inputs through every decoder of untrusted input.
    struct FuzzBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fuzz",
            abstract:
                "Feed every decoder (venue answers, OHLCV, job and simulator files, decimals, timestamps) mutated inputs."
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "Mutated inputs per decoder.")
        var cases: Int = 10_000

        @Option(help: "Seed of the mutations.")
        var seed: Int = 1

        func validate() throws {
            guard cases > 0, seed >= 0 else { throw ValidationError("--cases must be positive, --seed not negative") }
        }

        func run() async throws {
            try await global.run("bench") { logger in
                let started = Date()
                let outcomes = try await Fuzz(cases: cases, seed: UInt64(seed)).run { logger.info("\($0)") }
                print(
                    "bench fuzz: \(cases) cases per decoder, seed \(seed) — every input refused or accepted, none crashed"
                )
                for o in outcomes {
                    print(
                        "  \(o.target.padding(toLength: 22, withPad: " ", startingAt: 0))"
                            + String(
                                format: "%8d accepted %8d refused %9.0f cases/s", o.accepted, o.refused,
                                Double(o.cases) / max(o.seconds, 1e-9)))
                }
                print(String(format: "  total     : %.2f s", Date().timeIntervalSince(started)))
            }
        }
    }
}
