import BallastKit
import Foundation
import Postgres

/// A schema of a benchmark's own, so it never touches the data in the
/// database it is pointed at: created fresh, migrated, and made the
/// connection's search_path; `drop` removes it again unless BALLAST_BENCH_KEEP is set.
struct ScratchSchema {
    let name: String
    let connection: Connection

    init(_ name: String, on connection: Connection) throws {
        self.name = name
        self.connection = connection
        try connection.execute("DROP SCHEMA IF EXISTS \(identifier: name) CASCADE")
        try connection.execute("CREATE SCHEMA \(identifier: name)")
        try connection.execute("SET search_path TO \(identifier: name)")
        _ = try Migrator(connection: connection, migrations: try Migration.bundled()).migrate()
    }

    /// A handle on a schema made earlier, to drop it.
    init(existing name: String, on connection: Connection) {
        self.name = name
        self.connection = connection
    }

    func drop() {
        _ = try? connection.execute("SET search_path TO DEFAULT")
        if ProcessInfo.processInfo.environment["BALLAST_BENCH_KEEP"] == nil {
            _ = try? connection.execute("DROP SCHEMA IF EXISTS \(identifier: name) CASCADE")
        }
    }
}
