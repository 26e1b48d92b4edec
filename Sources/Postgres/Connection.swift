internal import CLibPQ
import Foundation
public import Logging

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

    /// Connects and sets the session to UTC with ISO dates.
    public init(conninfo: String = "", logger: Logger) throws(PostgresError) {
        self.logger = logger
        self.conninfo = conninfo
        self.notices = NoticeSink(logger: logger)
        let keywords = ["fallback_application_name", "dbname"]
        let values = ["ballast", conninfo]
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
        try execute("SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'iso_8601'")
    }

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
        while let raw = PQgetResult(h) {
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
        let raw: OpaquePointer?
        if query.binds.isEmpty {
            raw = PQexec(h, query.sql)
        } else {
            raw = withBinds(query.binds) { values in
                PQexecParams(h, query.sql, Int32(query.binds.count), nil, values, nil, nil, 0)
            }
        }
        return try check(raw, query: query.sql)
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
