import Digest
public import Foundation
public import Postgres

/// One numbered schema change, read from `Migrations/NNNN_name.sql`.
public struct Migration: Sendable, Equatable {
    /// The number that orders migrations.
    public let version: Int
    /// The descriptive part of the file name.
    public let name: String
    /// The SQL text.
    public let sql: String
    /// SHA-256 of the SQL text, to notice a migration edited after it was applied.
    public var checksum: String { Digest.hex(Digest.sha256(sql)) }

    /// Creates a migration.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// The migrations shipped with Ballast, in version order.
    public static func bundled() throws -> [Migration] {
        guard let directory = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            throw BallastError.internalFailure("the Migrations resource is missing from the build")
        }
        return try load(from: directory)
    }

    /// Reads `NNNN_name.sql` files from `directory`; rejects other names and duplicate numbers.
    public static func load(from directory: URL) throws -> [Migration] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }
        var migrations: [Migration] = []
        for file in files {
            let stem = file.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]) else {
                throw BallastError.invalidInput("migration file '\(file)' is not named NNNN_name.sql")
            }
            let sql = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            migrations.append(
                Migration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql))
        }
        migrations.sort { $0.version < $1.version }
        for (a, b) in zip(migrations, migrations.dropFirst()) where a.version == b.version {
            throw BallastError.invalidInput("two migrations are numbered \(a.version): \(a.name), \(b.name)")
        }
        return migrations
    }
}

/// Applies numbered migrations and reports which are applied.
public struct Migrator {
    /// A migration and when it was applied (nil: pending).
    public struct Entry: Sendable {
        public let migration: Migration
        public let appliedAt: Date?
    }

    private let connection: Connection
    private let migrations: [Migration]

    /// A migrator for `connection` over `migrations` (default: the bundled ones).
    public init(connection: Connection, migrations: [Migration]) {
        self.connection = connection
        self.migrations = migrations
    }

    /// Every known migration with its applied time, in version order. Reads only: a role
    /// without DDL rights (`ballast_app`) may ask, and a database never migrated has every
    /// migration pending.
    public func status() throws -> [Entry] {
        try connection.withTransaction {
            try AdvisoryLock.migrate.lockForTransaction(on: connection)
            let applied = try appliedVersions()
            try verifyChecksums(applied)
            return migrations.map { Entry(migration: $0, appliedAt: applied[$0.version]?.appliedAt) }
        }
    }

    /// Applies every pending migration in one transaction (all or none) and
    /// returns those applied; an empty result means the schema was up to date.
    /// Concurrent migrators of one database wait for each other on an advisory lock.
    ///
    /// Roles are the cluster's, not the database's: two databases migrated at once can both find
    /// a role missing and both create it, and one then fails on the name (a unique violation, or
    /// "already exists" once the other committed). Having rolled back, it tries once more, and
    /// then finds the role there.
    public func migrate() throws -> [Migration] {
        do {
            return try migrateOnce()
        } catch BallastError.database(_, let underlying?)
            where underlying.code == .uniqueViolation || underlying.code == .duplicateObject
        {
            return try migrateOnce()
        }
    }

    private func migrateOnce() throws -> [Migration] {
        try connection.withTransaction {
            // The lock comes first: even creating the ledger table must not race.
            try AdvisoryLock.migrate.lockForTransaction(on: connection)
            let applied = try appliedVersions()
            try verifyChecksums(applied)
            let pending = migrations.filter { applied[$0.version] == nil }
            // Nothing to do is done without DDL, so a role that may not change the schema can
            // run `--migrate` on a current database.
            guard !pending.isEmpty else { return [] }
            try ensureLedger()
            for migration in pending {
                do {
                    try connection.execute(Query(unsafeSQL: migration.sql))
                } catch let error as PostgresError {
                    throw BallastError.database(
                        "migration \(migration.version)_\(migration.name) failed: \(error.message)", error)
                }
                try connection.execute(
                    """
                    INSERT INTO schema_migrations (version, name, checksum)
                    VALUES (\(migration.version), \(migration.name), \(migration.checksum))
                    """)
            }
            return pending
        }
    }

    private func ensureLedger() throws {
        try connection.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version     integer PRIMARY KEY,
                name        text NOT NULL,
                checksum    text NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now()
            )
            """)
    }

    /// The ledger's rows; none when the ledger does not exist yet.
    private func appliedVersions() throws -> [Int: (checksum: String, appliedAt: Date)] {
        var applied: [Int: (checksum: String, appliedAt: Date)] = [:]
        let ledger = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")
        guard try ledger.first?.decode("present", as: Bool.self) == true else { return applied }
        for row in try connection.query("SELECT version, checksum, applied_at FROM schema_migrations") {
            applied[try row.decode("version")] = (try row.decode("checksum"), try row.decode("applied_at"))
        }
        return applied
    }

    private func verifyChecksums(_ applied: [Int: (checksum: String, appliedAt: Date)]) throws {
        for migration in migrations {
            if let recorded = applied[migration.version], recorded.checksum != migration.checksum {
                throw BallastError.invalidInput(
                    "migration \(migration.version)_\(migration.name) was changed after it was applied "
                        + "(checksum \(recorded.checksum.prefix(12)) in the database, \(migration.checksum.prefix(12)) now)"
                )
            }
        }
        let known = Set(migrations.map(\.version))
        if let unknown = applied.keys.filter({ !known.contains($0) }).max() {
            throw BallastError.invalidInput(
                "the database has migration \(unknown), which this ballast does not know: it is older than the schema")
        }
    }
}
