import BallastTesting
import Foundation
import Logging
import Postgres
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Every session commits durably and has a deadline, whatever the server's defaults.
@Suite struct DeadlineTests {
    /// A database whose default is asynchronous commit: Ballast's sessions still commit synchronously.
    @Test func aServerDefaultOfAsynchronousCommitIsOverridden() throws {
        let url = try TestDatabase.empty()
        let admin = try TestDatabase.connect(url)
        defer { admin.close() }
        let name: String = try admin.query("SELECT current_database() AS d").first!.decode("d")
        try admin.execute("ALTER DATABASE \(identifier: name) SET synchronous_commit = off")
        let plain = try admin.query("SELECT current_setting('synchronous_commit') AS s").first!
        #expect(try plain.decode("s", as: String.self) == "on")  // set by this session's own start
        let session = try TestDatabase.connect(url)
        defer { session.close() }
        let inside: String = try session.query("SHOW synchronous_commit").first!.decode("synchronous_commit")
        #expect(inside == "on")
        // The database default really is off: a session that does not override it sees off.
        let raw: String = try session.query(
            """
            SELECT array_to_string(s.setconfig, ',') AS setting
            FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = current_database()
            """
        ).first!.decode("setting")
        #expect(raw == "synchronous_commit=off")
    }

    /// Without a configured timeout the session gets Ballast's; one set in conninfo is kept.
    @Test func statementTimeoutHasADefaultAndConninfoWins() throws {
        let url = try TestDatabase.empty()
        let plain = try TestDatabase.connect(url)
        defer { plain.close() }
        #expect(plain.statementTimeout == .seconds(Connection.defaultStatementTimeoutSeconds))
        let configured = try TestDatabase.connect(url + "?options=-c%20statement_timeout%3D1500")
        defer { configured.close() }
        #expect(configured.statementTimeout == .milliseconds(1500))
        #expect(configured.deadline == .milliseconds(3500))
        // The server enforces it too: a statement past it is cancelled.
        #expect(throws: PostgresError.self) { try configured.execute("SELECT pg_sleep(3)") }
    }

    /// A server process that stops answering (SIGSTOP of this session's backend: the statement
    /// timeout cannot fire inside a frozen process) ends the call at the client's deadline, with
    /// the connection closed, instead of hanging.
    @Test func aFrozenServerEndsTheCallAtTheDeadline() throws {
        let url = try TestDatabase.empty()
        let connection = try TestDatabase.connect(url + "?options=-c%20statement_timeout%3D1000")
        defer { connection.close() }
        let backend: Int32 = try connection.query("SELECT pg_backend_pid() AS p").first!.decode("p")
        #expect(kill(backend, SIGSTOP) == 0)
        defer { kill(backend, SIGCONT) }
        let start = ContinuousClock.now
        var caught: PostgresError?
        do { try connection.execute("SELECT 1") } catch { caught = error }
        let waited = ContinuousClock.now - start
        #expect(caught?.code == .deadlineExceeded && caught?.isUnavailable == true, "\(String(describing: caught))")
        #expect(waited >= .milliseconds(2900) && waited < .seconds(6), "waited \(waited)")
        #expect(!connection.isOpen)
    }
}
