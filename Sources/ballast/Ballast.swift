import ArgumentParser
import BallastKit

/// The `ballast` command line.
@main
struct Ballast: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ballast",
        abstract: "Keep crypto portfolios on target across exchanges, and prove what each trade cost.",
        discussion: """
            Database settings follow libpq: --database (or BALLAST_DATABASE_URL) takes a URI or \
            key=value conninfo; when neither is given, the PG* environment variables and ~/.pgpass apply.

            Exit codes: 0 success, 1 failure, 64 usage, 65 bad input, 69 a service is unavailable, \
            75 another run holds the lock (try again later).
            """,
        version: BallastVersion.current,
        subcommands: [
            RunCommand.self, PullCommand.self, ReconcileCommand.self, ReportCommand.self, DBCommand.self,
            ProposeCommand.self, ApproveCommand.self, ExecuteCommand.self, AuditCommand.self, SimCommand.self,
            RunsCommand.self, WorkerCommand.self, BenchCommand.self, ReplayCommand.self,
        ])
}
