internal import CLibPQ
import Foundation

extension Connection {
    /// Bulk-loads rows with `COPY … FROM STDIN` (text format): `body` writes the
    /// rows, which travel in 64 KiB chunks. If `body` throws, the COPY is aborted
    /// and nothing is loaded. Returns the number of rows the server stored.
    @discardableResult
    public func copyIn(_ query: Query, _ body: (CopyWriter) throws -> Void) throws -> Int {
        let h = try live()
        _ = try check(PQexec(h, query.sql), query: query.sql)
        let writer = CopyWriter(connection: h)
        do {
            try body(writer)
            try writer.flush()
        } catch {
            _ = PQputCopyEnd(h, "aborted by the client")
            drainResults()
            throw error
        }
        guard PQputCopyEnd(h, nil) == 1 else { throw connectionError(query: query.sql) }
        var stored = 0
        var failure: PostgresError?
        while let raw = PQgetResult(h) {
            if PQresultStatus(raw) == PGRES_COMMAND_OK {
                stored = Int(String(cString: PQcmdTuples(raw))) ?? writer.rows
            } else if failure == nil {
                failure = serverError(raw, query: query.sql)
            }
            PQclear(raw)
        }
        if let failure { throw failure }
        return stored
    }

    /// Streams `COPY … TO STDOUT`: `body` receives each data row as raw bytes
    /// (one line in text or CSV format, newline included). Returns the row count.
    @discardableResult
    public func copyOut(_ query: Query, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        try copyLines(query) { line in try body(UnsafeRawBufferPointer(line)) }
    }

    /// `copyOut` with each line's buffer writable: it is libpq's copy of the line, this caller's
    /// until `body` returns (then freed).
    func copyLines(_ query: Query, _ body: (UnsafeMutableBufferPointer<UInt8>) throws -> Void) throws -> Int {
        let h = try live()
        _ = try check(PQexec(h, query.sql), query: query.sql)
        var rows = 0
        var failure: (any Error)?
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(h, &buffer, 0)
            if length > 0, let buffer {
                if failure == nil {
                    do {
                        try buffer.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
                            try body(UnsafeMutableBufferPointer(start: $0, count: Int(length)))
                        }
                        rows += 1
                    } catch {
                        failure = error
                        cancelRunningQuery()
                    }
                }
                PQfreemem(buffer)
            } else {
                break
            }
        }
        while let raw = PQgetResult(h) {
            if PQresultStatus(raw) != PGRES_COMMAND_OK, failure == nil {
                failure = serverError(raw, query: query.sql)
            }
            PQclear(raw)
        }
        if let failure { throw failure }
        return rows
    }
}

/// Writes rows for `COPY … FROM STDIN` in PostgreSQL's text format, escaping
/// backslashes, tabs and line breaks and spelling NULL as `\N`.
///
/// Write each field with `field(_:)` then close the row with `endRow()`.
public final class CopyWriter {
    private let connection: OpaquePointer
    private var buffer: [UInt8] = []
    private var fieldsInRow = 0
    /// Rows completed so far.
    public private(set) var rows = 0
    static let chunkSize = 64 * 1024

    init(connection: OpaquePointer) {
        self.connection = connection
        buffer.reserveCapacity(Self.chunkSize + 1024)
    }

    /// Appends a text field (nil is NULL), escaping backslash, tab, newline and carriage return.
    /// The buffer is touched once per field (text with nothing to escape is copied whole): per-byte
    /// appends to a class's array paid a dynamic exclusivity check each.
    public func field(_ text: String?) throws {
        separate()
        guard var text else {
            buffer.append(UInt8(ascii: "\\"))
            buffer.append(UInt8(ascii: "N"))
            return
        }
        text.withUTF8 { bytes in
            if !bytes.contains(where: { $0 == 92 || $0 == 9 || $0 == 10 || $0 == 13 }) {
                buffer.append(contentsOf: bytes)
                return
            }
            var escaped: [UInt8] = []
            escaped.reserveCapacity(bytes.count + 8)
            for byte in bytes {
                switch byte {
                case 92: escaped.append(92); escaped.append(92)
                case 9: escaped.append(92); escaped.append(UInt8(ascii: "t"))
                case 10: escaped.append(92); escaped.append(UInt8(ascii: "n"))
                case 13: escaped.append(92); escaped.append(UInt8(ascii: "r"))
                default: escaped.append(byte)
                }
            }
            buffer.append(contentsOf: escaped)
        }
    }

    /// Appends an encodable value (its PostgreSQL text, or NULL).
    public func field(_ value: some PostgresEncodable) throws {
        try field(value.postgresText)
    }

    /// Appends an integer field (its decimal digits; a small string, no allocation).
    public func field(_ value: Int) throws {
        separate()
        var digits = String(value)
        digits.withUTF8 { buffer.append(contentsOf: $0) }
    }

    /// Ends the current row, sending a chunk when the buffer is full.
    public func endRow() throws {
        buffer.append(10)
        fieldsInRow = 0
        rows += 1
        if buffer.count >= Self.chunkSize { try flush() }
    }

    private func separate() {
        if fieldsInRow > 0 { buffer.append(9) }
        fieldsInRow += 1
    }

    func flush() throws(PostgresError) {
        guard !buffer.isEmpty else { return }
        let result = buffer.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { PQputCopyData(connection, $0.baseAddress, Int32($0.count)) }
        }
        guard result == 1 else {
            throw PostgresError(
                code: .connectionFailed, message: String(cString: PQerrorMessage(connection)))
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
