internal import CLibPQ
import Foundation
public import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One libpq connection, owned by one task at a time.
///
/// Settings follow libpq's own conventions: `conninfo` may be a URI
/// (`postgresql://user@host:5432/db`), `key=value` pairs, or empty to use the
/// `PG*` environment variables and `~/.pgpass`. Call `close()` when done.
public final class Connection {
    private var handle: OpaquePointer?
    private let notices: NoticeSink
    private var cursorCount = 0
    /// The logger that receives server NOTICEs and WARNINGs.
    public let logger: Logger
    /// The settings this connection was opened with (may hold a password: never log it).
    public let conninfo: String

    /// Connects and prepares the session: UTC with ISO dates, durable commits
    /// (`synchronous_commit = on`, whatever the server's default), and deadlines.
    ///
    /// Deadlines follow libpq's conventions: `connect_timeout` and the `keepalives*`
    /// settings come from `conninfo` or the `PG*` variables, else Ballast's defaults
    /// (10 s to connect; keepalives after 30 s idle, every 10 s, 3 lost probes);
    /// `statement_timeout` comes from `options=-c statement_timeout=…`, `PGOPTIONS` or
    /// the role's settings, else 60 s. Every query also waits at most the statement
    /// timeout plus `grace` on the client side, so a server that stalls rather than
    /// fails (frozen, partitioned) ends the call with `connectionFailed` instead of hanging.
    public init(conninfo: String = "", logger: Logger, grace: Duration = .seconds(2)) throws(PostgresError) {
        self.logger = logger
        self.conninfo = conninfo
        self.notices = NoticeSink(logger: logger)
        let environment = ProcessInfo.processInfo.environment
        var keywords = ["fallback_application_name"]
        var values = ["ballast"]
        if environment["PGCONNECT_TIMEOUT"] == nil {
            keywords.append("connect_timeout")
            values.append(String(Self.defaultConnectTimeoutSeconds))
        }
        for (keyword, value) in Self.keepaliveDefaults {
            keywords.append(keyword)
            values.append(value)
        }
        // Last, so that what conninfo says overrides the defaults above.
        keywords.append("dbname")
        values.append(conninfo)
        let h = withCStringArray(keywords) { k in
            withCStringArray(values) { v in PQconnectdbParams(k, v, 1) }
        }
        guard let h else {
            throw PostgresError(code: .connectionFailed, message: "libpq could not allocate a connection")
        }
        guard PQstatus(h) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(h)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(h)
            throw PostgresError(code: .connectionFailed, message: "cannot connect: \(message)")
        }
        handle = h
        PQsetNoticeProcessor(h, noticeCallback, Unmanaged.passUnretained(notices).toOpaque())
        // A stand-in for failover to an asynchronous standby, for crash tests only: commits
        // acknowledged before they are on disk. Never set it in production.
        let loseRecentCommits = environment["BALLAST_TEST_LOSE_RECENT_COMMITS"] == "1"
        try execute(
            Query(
                unsafeSQL:
                    "SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'; "
                    + "SET synchronous_commit = \(loseRecentCommits ? "off" : "on")"))
        var milliseconds: Int64 =
            try query("SELECT setting::bigint AS ms FROM pg_settings WHERE name = 'statement_timeout'").first!
            .decode("ms")
        if milliseconds == 0 {
            milliseconds = Int64(Self.defaultStatementTimeoutSeconds) * 1000
            try execute(Query(unsafeSQL: "SET statement_timeout = \(milliseconds)"))
        }
        statementTimeout = .milliseconds(milliseconds)
        deadline = milliseconds > 0 ? .milliseconds(milliseconds) + grace : nil
    }

    /// Seconds libpq waits to connect when neither conninfo nor `PGCONNECT_TIMEOUT` says.
    public static let defaultConnectTimeoutSeconds = 10
    /// The session's `statement_timeout` when nothing configures one.
    public static let defaultStatementTimeoutSeconds = 60
    /// TCP keepalives: a dead peer is noticed in about a minute, not hours.
    static let keepaliveDefaults = [
        ("keepalives", "1"), ("keepalives_idle", "30"), ("keepalives_interval", "10"), ("keepalives_count", "3"),
    ]

    /// The session's `statement_timeout` (zero: none).
    public private(set) var statementTimeout: Duration = .zero
    /// How long one call waits for the server before giving up on the connection (nil: forever).
    public private(set) var deadline: Duration?

    deinit {
        assert(handle == nil, "Postgres.Connection was not closed")
        if let handle { PQfinish(handle) }
    }

    /// Closes the connection; further calls throw `misuse`. Safe to call twice.
    public func close() {
        if let handle { PQfinish(handle) }
        handle = nil
    }

    /// True while the connection is open and healthy.
    public var isOpen: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// The server's version number, e.g. 150018 for 15.18.
    public var serverVersion: Int {
        handle.map { Int(PQserverVersion($0)) } ?? 0
    }

    /// Runs a query and returns all of its rows.
    @discardableResult
    public func query(_ query: Query) throws(PostgresError) -> Rows {
        Rows(handle: try run(query))
    }

    /// Runs a statement and returns the number of rows it affected.
    @discardableResult
    public func execute(_ query: Query) throws(PostgresError) -> Int {
        let result = try run(query)
        return Int(String(cString: PQcmdTuples(result.pointer))) ?? 0
    }

    /// Runs `body` in a transaction: commits when it returns, rolls back when it throws.
    public func withTransaction<T>(
        _ isolation: IsolationLevel = .readCommitted, _ body: () throws -> T
    ) throws -> T {
        try execute(isolation.beginStatement)
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            if isOpen { _ = try? execute("ROLLBACK") }
            throw error
        }
    }

    /// Transaction isolation levels.
    public enum IsolationLevel: Sendable {
        case readCommitted, repeatableRead, serializable

        var beginStatement: Query {
            switch self {
            case .readCommitted: "BEGIN ISOLATION LEVEL READ COMMITTED"
            case .repeatableRead: "BEGIN ISOLATION LEVEL REPEATABLE READ"
            case .serializable: "BEGIN ISOLATION LEVEL SERIALIZABLE"
            }
        }
    }

    /// Streams rows one at a time (libpq single-row mode): memory stays flat
    /// however many rows the query returns. Returns the number of rows seen.
    @discardableResult
    public func forEachRow(_ query: Query, _ body: (Row) throws -> Void) throws -> Int {
        let h = try live()
        let sent = withBinds(query.binds) { values in
            PQsendQueryParams(h, query.sql, Int32(query.binds.count), nil, values, nil, nil, 0)
        }
        guard sent == 1 else { throw connectionError(query: query.sql) }
        guard PQsetSingleRowMode(h) == 1 else {
            drainResults()
            throw PostgresError(code: .misuse, message: "could not enter single-row mode", query: query.sql)
        }
        var count = 0
        var failure: (any Error)?
        while true {
            try awaitResult(query: query.sql)
            guard let raw = PQgetResult(h) else { break }
            let status = PQresultStatus(raw)
            if status == PGRES_SINGLE_TUPLE, failure == nil {
                do {
                    try body(Row(handle: ResultHandle(raw), index: 0))
                    count += 1
                } catch {
                    failure = error
                    cancelRunningQuery()
                }
            } else if status == PGRES_FATAL_ERROR, failure == nil {
                failure = serverError(raw, query: query.sql)
                PQclear(raw)
            } else {
                PQclear(raw)
            }
        }
        if let failure { throw failure }
        return count
    }

    /// Streams rows through a server-side cursor, `fetchSize` rows per round
    /// trip: memory stays flat and the per-row cost is far below single-row
    /// mode. Runs inside the current transaction, or in one of its own when
    /// none is open. Returns the number of rows seen.
    @discardableResult
    public func forEachRow(_ query: Query, fetchSize: Int, _ body: (Row) throws -> Void) throws -> Int {
        let h = try live()
        let ownTransaction = PQtransactionStatus(h) == PQTRANS_IDLE
        if ownTransaction { try execute("BEGIN") }
        do {
            cursorCount += 1
            let cursor = "ballast_cursor_\(cursorCount)"
            var declare = Query(unsafeSQL: "DECLARE \(cursor) NO SCROLL CURSOR FOR ")
            declare.append(query)
            try execute(declare)
            var count = 0
            while true {
                let rows = try self.query(Query(unsafeSQL: "FETCH FORWARD \(max(1, fetchSize)) FROM \(cursor)"))
                for row in rows { try body(row) }
                count += rows.count
                if rows.count < fetchSize { break }
            }
            try execute(Query(unsafeSQL: "CLOSE \(cursor)"))
            if ownTransaction { try execute("COMMIT") }
            return count
        } catch {
            if ownTransaction, isOpen { _ = try? execute("ROLLBACK") }
            throw error
        }
    }

    // MARK: Internals shared with the COPY extension

    /// The open handle, or `misuse` if the connection was closed.
    func live() throws(PostgresError) -> OpaquePointer {
        guard let handle else { throw PostgresError(code: .misuse, message: "connection is closed") }
        return handle
    }

    private func run(_ query: Query) throws(PostgresError) -> ResultHandle {
        let h = try live()
        try failFastIfStalled(query: query.sql)
        let sent: Int32
        if query.binds.isEmpty {
            sent = PQsendQuery(h, query.sql)
        } else {
            sent = withBinds(query.binds) { values in
                PQsendQueryParams(h, query.sql, Int32(query.binds.count), nil, values, nil, nil, 0)
            }
        }
        guard sent == 1 else { throw connectionError(query: query.sql) }
        // Like PQexec: the first failure, else the last result (COPY hands over at once).
        var kept: OpaquePointer?
        var failed = false
        while true {
            try awaitResult(query: query.sql)
            guard let raw = PQgetResult(h) else { break }
            let status = PQresultStatus(raw)
            if status == PGRES_COPY_IN || status == PGRES_COPY_OUT {
                if let kept { PQclear(kept) }
                return try check(raw, query: query.sql)
            }
            if failed {
                PQclear(raw)
                continue
            }
            if let kept { PQclear(kept) }
            kept = raw
            failed = status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE || status == PGRES_NONFATAL_ERROR
        }
        return try check(kept, query: query.sql)
    }

    /// Waits until a result can be read without blocking, at most `deadline`. A server that
    /// does not answer in time (stalled, frozen, cut off) costs the connection: it is closed
    /// and the call fails with `deadlineExceeded`, which callers treat like a lost server.
    func awaitResult(query: String?) throws(PostgresError) {
        let h = try live()
        let start = ContinuousClock.now
        while PQisBusy(h) == 1 {
            var timeout: Int32 = -1
            if let deadline {
                let left = deadline - (ContinuousClock.now - start)
                guard left > .zero else {
                    close()
                    Self.stalls.withLock { $0[conninfo] = ContinuousClock.now }
                    throw PostgresError(
                        code: .deadlineExceeded,
                        message:
                            "the database did not answer within \(Self.seconds(deadline)) s (statement_timeout "
                            + "\(Self.seconds(statementTimeout)) s plus a grace): the connection was closed",
                        query: query)
                }
                timeout = Int32(clamping: Self.milliseconds(left))
            }
            var descriptor = pollfd(fd: PQsocket(h), events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, timeout)
            if ready < 0 && errno != EINTR { throw connectionError(query: query) }
            if ready > 0 && PQconsumeInput(h) == 0 { throw connectionError(query: query) }
        }
    }

    /// When a session of this process last gave up on each server (by conninfo). A server that
    /// stalled for one session stalls for all: for one deadline after that, the others fail at
    /// once instead of each waiting out a deadline of its own.
    private static let stalls = Mutex<[String: ContinuousClock.Instant]>([:])

    private func failFastIfStalled(query: String) throws(PostgresError) {
        guard let deadline, let since = Self.stalls.withLock({ $0[conninfo] }) else { return }
        let ago = ContinuousClock.now - since
        guard ago < deadline else { return }
        throw PostgresError(
            code: .deadlineExceeded,
            message:
                "the database did not answer another session of this process within \(Self.seconds(deadline)) s "
                + "(\(Self.seconds(ago)) s ago): not waiting again",
            query: query)
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        max(1, duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.3g", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }

    /// Turns a result into a handle, or into the error it carries.
    func check(_ raw: OpaquePointer?, query: String?) throws(PostgresError) -> ResultHandle {
        guard let raw else { throw connectionError(query: query) }
        switch PQresultStatus(raw) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_COPY_IN, PGRES_COPY_OUT:
            return ResultHandle(raw)
        default:
            let error = serverError(raw, query: query)
            PQclear(raw)
            throw error
        }
    }

    func serverError(_ raw: OpaquePointer, query: String?) -> PostgresError {
        func field(_ code: UInt8) -> String? {
            PQresultErrorField(raw, Int32(code)).map { String(cString: $0) }
        }
        let sqlState = field(UInt8(ascii: "C"))
        let message =
            field(UInt8(ascii: "M"))
            ?? String(cString: PQresultErrorMessage(raw)).trimmingCharacters(in: .whitespacesAndNewlines)
        let code: PostgresError.Code =
            sqlState.map(PostgresError.Code.init(sqlState:))
            ?? (handle.map { PQstatus($0) == CONNECTION_BAD } == true ? .connectionFailed : .other("?"))
        return PostgresError(
            code: code, sqlState: sqlState, message: message, detail: field(UInt8(ascii: "D")), query: query)
    }

    func connectionError(query: String?) -> PostgresError {
        let message = handle.map { String(cString: PQerrorMessage($0)) } ?? "connection is closed"
        return PostgresError(
            code: .connectionFailed, message: message.trimmingCharacters(in: .whitespacesAndNewlines), query: query)
    }

    /// Asks the server to stop the running statement; results must still be drained.
    func cancelRunningQuery() {
        guard let handle, let cancel = PQgetCancel(handle) else { return }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancel, &buffer, Int32(buffer.count))
        PQfreeCancel(cancel)
    }

    /// Reads and discards every pending result so the connection is usable again.
    func drainResults() {
        guard let handle else { return }
        while let raw = PQgetResult(handle) { PQclear(raw) }
    }
}

/// Receives libpq notices and forwards them to a logger.
private final class NoticeSink {
    let logger: Logger
    init(logger: Logger) { self.logger = logger }
}

private let noticeCallback: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?) -> Void = {
    context, message in
    guard let context, let message else { return }
    let sink = Unmanaged<NoticeSink>.fromOpaque(context).takeUnretainedValue()
    let text = String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
    if text.hasPrefix("WARNING") {
        sink.logger.warning("\(text)", metadata: ["source": "postgres"])
    } else {
        sink.logger.debug("\(text)", metadata: ["source": "postgres"])
    }
}

/// Calls `body` with a C array of NUL-terminated copies of `binds` (NULL for nil).
func withBinds<R>(_ binds: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    let copies: [UnsafeMutablePointer<CChar>?] = binds.map { $0.map { strdup($0)! } }
    defer { copies.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
}

/// Calls `body` with a NULL-terminated C array of copies of `strings`.
private func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0)! }
    defer { copies.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
