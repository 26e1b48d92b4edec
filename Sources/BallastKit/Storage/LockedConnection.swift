import Foundation
public import Postgres

/// A database connection that several tasks may share, one statement at a time.
public final class LockedConnection: @unchecked Sendable {
    // Safe to share: the connection is only used inside `lock`.
    private let connection: Connection
    private let lock = NSLock()

    /// Takes ownership of `connection`.
    public init(_ connection: Connection) { self.connection = connection }

    /// Runs `body` with the connection, excluding every other user.
    public func with<T>(_ body: (Connection) throws -> T) rethrows -> T {
        try lock.withLock { try body(connection) }
    }

    /// Closes the connection.
    public func close() { lock.withLock { connection.close() } }
}
