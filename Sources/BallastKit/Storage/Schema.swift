public import Postgres

/// Checks on the schema every command that reads or writes data makes first.
public enum Schema {
    /// Throws when migrations are pending, telling the operator what to run.
    public static func requireCurrent(_ connection: Connection) throws {
        let pending = try Migrator(connection: connection, migrations: try Migration.bundled()).status()
            .filter { $0.appliedAt == nil }
        guard pending.isEmpty else {
            throw BallastError.invalidInput(
                "the database schema is not current (\(pending.count) migration(s) pending): run `ballast db migrate`")
        }
    }
}
