import BallastKit
import Foundation
public import Logging
// Test support shared by Ballast's test targets: the private PostgreSQL the
// test script starts, a capturing logger, a loopback HTTP server, and
// openpyxl read-back of written workbooks.
public import Postgres

/// Fresh databases on the private PostgreSQL cluster that `Jobs/test.sh` starts.
public enum TestDatabase {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var templateReady = false

    /// The cluster's URL from `BALLAST_DATABASE_URL`; fails the test when unset.
    public static func adminURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["BALLAST_DATABASE_URL"], !url.isEmpty else {
            throw TestSetupError(
                "BALLAST_DATABASE_URL is not set: run the suite with Jobs/test.sh, which starts a private PostgreSQL")
        }
        return url
    }

    /// Creates an empty database and returns its URL.
    public static func empty() throws -> String {
        try create(template: nil)
    }

    /// Creates a database with every bundled migration applied and returns its URL.
    public static func migrated() throws -> String {
        try lock.withLock {
            if !templateReady {
                let admin = try connect(try adminURL())
                defer { admin.close() }
                try admin.execute("DROP DATABASE IF EXISTS ballast_template")
                try admin.execute("CREATE DATABASE ballast_template")
                let template = try connect(try url(for: "ballast_template"))
                defer { template.close() }
                _ = try Migrator(connection: template, migrations: try Migration.bundled()).migrate()
                templateReady = true
            }
        }
        return try create(template: "ballast_template")
    }

    /// Opens a connection to `url` with a quiet logger.
    public static func connect(_ url: String, logger: Logger = Logger(label: "test")) throws -> Connection {
        try Connection(conninfo: url, logger: logger)
    }

    private static func create(template: String?) throws -> String {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        try lock.withLock {
            let admin = try connect(try adminURL())
            defer { admin.close() }
            if let template {
                try admin.execute("CREATE DATABASE \(identifier: String(name)) TEMPLATE \(identifier: template)")
            } else {
                try admin.execute("CREATE DATABASE \(identifier: String(name))")
            }
        }
        return try url(for: String(name))
    }

    /// The admin URL with its database name replaced by `database`.
    static func url(for database: String) throws -> String {
        guard var components = URLComponents(string: try adminURL()) else {
            throw TestSetupError("BALLAST_DATABASE_URL must be a postgresql:// URI in tests")
        }
        components.path = "/" + database
        return components.string!
    }
}

/// The test environment is not set up.
public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
