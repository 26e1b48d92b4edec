import ArgumentParser
import BallastKit
import Foundation

/// `ballast pull`: venue data into PostgreSQL.
struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Pull balances, books, open orders and new fills from every configured venue.",
        discussion: """
            Safe to repeat: nothing already stored is stored again, and a pull that was killed resumes \
            from its cursors. Exits 69 when any venue could not be pulled (the others are still stored).
            """)

    @OptionGroup var global: GlobalOptions

    @Option(
        name: .long,
        help: ArgumentHelp("The job file (TOML) naming venues, accounts and portfolios.", valueName: "file"))
    var job: String

    func run() async throws {
        try await global.run("pull") { logger in
            let config = try JobConfig.load(path: job)
            let summaries = try await PullJob.run(config: config, databaseURL: global.conninfo, logger: logger)
            print("venue            symbols tickers depth balances orders fills(seen/new)")
            for s in summaries {
                let line = [
                    s.venue.padding(toLength: 16, withPad: " ", startingAt: 0), pad(s.symbols, 7), pad(s.tickers, 7),
                    pad(s.depthSnapshots, 5), pad(s.balanceSnapshots, 8), pad(s.orders, 6),
                    "\(s.fillsSeen)/\(s.fillsNew)",
                ].joined(separator: " ")
                print(line + (s.failure.map { "  FAILED: \($0)" } ?? ""))
            }
            if summaries.contains(where: { $0.failure != nil }) { throw ExitCode(69) }
        }
    }

    private func pad(_ n: Int, _ width: Int) -> String {
        let text = String(n)
        return String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
