import ArgumentParser
import BallastKit
import Foundation
import Postgres

/// `ballast db …`: schema migrations.
struct DBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Manage the PostgreSQL schema.",
        subcommands: [Migrate.self, Status.self])

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
}
