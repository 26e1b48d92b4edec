import ArgumentParser
import BallastKit
import Foundation

/// `ballast approve BATCH --by NAME`.
struct ApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve a proposed batch so that `ballast execute` may send it.",
        discussion: "The approval (who, when) is stored with the batch and appended to the decision records.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The batch id `ballast propose` printed.")
    var batch: Int64

    @Option(name: .long, help: ArgumentHelp("Who approves (recorded).", valueName: "name"))
    var by: String

    func run() async throws {
        try await global.run("approve") { logger in
            let connection = try global.connect(logger)
            defer { connection.close() }
            try Schema.requireCurrent(connection)
            switch try Approval(connection: connection).approve(batch: batch, by: by) {
            case .approved(let orders): print("batch \(batch) approved by \(by): \(orders) order(s) may be executed")
            case .alreadyApproved(let who): print("batch \(batch) was already approved by \(who): nothing changed")
            }
        }
    }
}
