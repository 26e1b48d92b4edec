import Foundation
public import Logging
import Postgres
public import Venues

/// Nonces kept in `venue_nonces`, shared by every Ballast process using a key. A request takes the
/// key's advisory lock (`nonce.<fingerprint>`), draws a nonce above the stored one and above the
/// clock, and holds the lock until its answer arrives: requests of one key are signed and sent one
/// at a time across processes, so the venue never sees a nonce lower than one it already took.
///
/// The connection is opened on first use (most venues sign without nonces) and shared by every
/// key; the lock is taken with `pg_try_advisory_lock` and retried, never waited for on the shared
/// connection, so a key held elsewhere does not stop another key's request from finishing.
public final class PostgresNonceSource: NonceSource, @unchecked Sendable {
    // Safe to share: `connection` is only touched under `lock`.
    private let databaseURL: String
    private let logger: Logger
    private let lock = NSLock()
    private var connection: Connection?
    private let turns = KeyedTurns()

    public init(databaseURL: String, logger: Logger) {
        self.databaseURL = databaseURL
        self.logger = logger
    }

    public func withNonce<T: Sendable>(
        venue: String, key: String, now: UInt64, _ send: (UInt64) async throws(VenueError) -> T
    ) async throws(VenueError) -> T {
        await turns.acquire(key)
        let nonce: UInt64
        do {
            nonce = try await draw(key: key, now: now)
        } catch {
            await turns.release(key)
            throw .notRecorded(venue: venue, endpoint: "nonce", detail: "\(error)")
        }
        let result: Result<T, VenueError>
        do {
            result = .success(try await send(nonce))
        } catch {
            result = .failure(error)
        }
        release(key: key)
        await turns.release(key)
        return try result.get()
    }

    /// Takes the key's lock (trying every 10 ms) and returns the next nonce.
    private func draw(key: String, now: UInt64) async throws -> UInt64 {
        let advisory = AdvisoryLock("nonce." + key)
        while true {
            let taken: Bool = try lock.withLock {
                let connection = try open()
                return try advisory.tryLock(on: connection)
            }
            if taken { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        do {
            return try lock.withLock {
                let text: String = try open().query(
                    """
                    INSERT INTO venue_nonces (key_fingerprint, last_nonce) VALUES (\(key), \(String(now))::numeric)
                    ON CONFLICT (key_fingerprint) DO UPDATE
                    SET last_nonce = greatest(venue_nonces.last_nonce + 1, EXCLUDED.last_nonce), updated_at = now()
                    RETURNING last_nonce::text AS n
                    """
                )[0].decode("n")
                guard let nonce = UInt64(text) else { throw BallastError.internalFailure("nonce \(text)") }
                return nonce
            }
        } catch {
            release(key: key)
            throw error
        }
    }

    private func release(key: String) {
        lock.withLock {
            guard let connection else { return }
            do {
                try AdvisoryLock("nonce." + key).unlock(on: connection)
            } catch {
                // A connection that cannot unlock is closed: its session's locks go with it.
                logger.error("nonce lock of key \(key) not released (\(error)); closing its connection")
                connection.close()
                self.connection = nil
            }
        }
    }

    private func open() throws -> Connection {
        if let connection { return connection }
        let opened = try Connection(conninfo: databaseURL, logger: logger)
        connection = opened
        return opened
    }

    /// Closes the connection (and with it any lock it holds).
    public func close() {
        lock.withLock {
            connection?.close()
            connection = nil
        }
    }
}
