public import Logging
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

    /// Makes this month's partitions and the next three (the function runs as the schema's owner, so
    /// `ballast_app` needs no DDL); a failure is logged, not thrown: rows land in the default
    /// partitions meanwhile.
    public static func ensurePartitions(_ connection: Connection, logger: Logger) {
        do {
            let made: Int = try connection.query("SELECT ballast_ensure_partitions() AS n")[0].decode("n")
            if made > 0 { logger.info("made \(made) monthly partition(s)") }
        } catch {
            logger.warning("monthly partitions not made: \(error)")
        }
    }
}
