import ArgumentParser
import BallastKit
import Foundation
import Postgres

/// `ballast db …`: schema migrations.
struct DBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Manage the PostgreSQL schema.",
        subcommands: [Migrate.self, Status.self, Prune.self])

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply pending schema migrations in one transaction.")

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await global.run("db") { logger in
                let connection = try global.connect(logger)
                defer { connection.close() }
                let applied = try Migrator(connection: connection, migrations: try Migration.bundled()).migrate()
                if applied.isEmpty {
                    print("Schema is up to date.")
                } else {
                    for migration in applied { print("Applied \(migration.version)_\(migration.name)") }
                    print("Applied \(applied.count) migration\(applied.count == 1 ? "" : "s").")
                }
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List applied and pending migrations.")

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await global.run("db") { logger in
                let connection = try global.connect(logger)
                defer { connection.close() }
                let entries = try Migrator(connection: connection, migrations: try Migration.bundled()).status()
                for entry in entries {
                    let state = entry.appliedAt.map { "applied \(Timestamp.iso8601($0))" } ?? "pending"
                    print("\(String(format: "%04d", entry.migration.version))_\(entry.migration.name)  \(state)")
                }
                let pending = entries.filter { $0.appliedAt == nil }.count
                print(
                    pending == 0 ? "Schema is up to date." : "\(pending) pending migration\(pending == 1 ? "" : "s").")
            }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drop whole months of market observations (book tickers, depth) older than the retention.",
            discussion: """
                Run as the schema's owner (as `db migrate` is), e.g. monthly from cron. Fills, HTTP attempts, \
                decision records and balances are never dropped. A decision older than the retention can no \
                longer be recomputed from its record (`audit recompute` finds the prices it names gone).
                """)

        @OptionGroup var global: GlobalOptions

        @Option(
            help: ArgumentHelp(
                "Keep market observations this many days (whole months older are dropped).", valueName: "days"))
        var marketDays: Int

        func validate() throws {
            guard marketDays >= 1 else { throw ValidationError("--market-days must be at least 1") }
        }

        func run() async throws {
            try await global.run("db") { logger in
                let connection = try global.connect(logger)
                defer { connection.close() }
                try Schema.requireCurrent(connection)
                let cutoff = Date().addingTimeInterval(-Double(marketDays) * 86_400)
                let dropped: Int64 = try connection.query(
                    "SELECT ballast_drop_market_months(\(cutoff)) AS n")[0].decode("n")
                print("Dropped \(dropped) market observation(s) of months ending before \(Timestamp.iso8601(cutoff)).")
            }
        }
    }
}
