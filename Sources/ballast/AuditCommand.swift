import ArgumentParser
import BallastKit
import Foundation

/// `ballast audit verify`.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Audit the decision records.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Recompute the decision records' hash chain; name the first record that does not match.",
            discussion: "Exits 0 when the chain holds and 2 when a record was altered.")

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await global.run("audit") { logger in
                let connection = try global.connect(logger)
                defer { connection.close() }
                try Schema.requireCurrent(connection)
                let result = try DecisionLog.verify(on: connection)
                if let broken = result.firstBroken {
                    print(
                        "decision chain BROKEN at record \(broken.id) (after \(result.checked - 1) good): \(broken.reason)"
                    )
                    throw ExitCode(2)
                }
                print("decision chain intact: \(result.checked) record(s), head \(result.head)")
            }
        }
    }
}
