internal import CLibPQ

/// Owns one `PGresult` and frees it exactly once.
final class ResultHandle {
    let pointer: OpaquePointer
    let columnNames: [String]
    let positions: [String: Int]

    init(_ pointer: OpaquePointer) {
        self.pointer = pointer
        let count = Int(PQnfields(pointer))
        columnNames = (0..<count).map { PQfname(pointer, Int32($0)).map { String(cString: $0) } ?? "" }
        var positions: [String: Int] = [:]
        for (i, name) in columnNames.enumerated() where positions[name] == nil { positions[name] = i }
        self.positions = positions
    }

    deinit { PQclear(pointer) }

    func text(row: Int, column: Int) -> String? {
        if PQgetisnull(pointer, Int32(row), Int32(column)) == 1 { return nil }
        return String(cString: PQgetvalue(pointer, Int32(row), Int32(column)))
    }
}

/// The rows a query returned, fully received.
public struct Rows: RandomAccessCollection {
    let handle: ResultHandle?

    /// The result's column names in order.
    public var columns: [String] { handle?.columnNames ?? [] }
    public var startIndex: Int { 0 }
    public var endIndex: Int { handle.map { Int(PQntuples($0.pointer)) } ?? 0 }
    public subscript(position: Int) -> Row { Row(handle: handle!, index: position) }
}

/// A row whose columns can be read as PostgreSQL's text for each value, without building strings:
/// a row of a query result (`Row`) or of `COPY … TO STDOUT` (`CopyRow`).
public protocol RawTextRow {
    /// Calls `body` with the column's bytes (NUL-terminated in memory, the terminator not
    /// counted), or nil for SQL NULL.
    func withRawText<T>(at position: Int, _ body: (UnsafeBufferPointer<UInt8>?) throws -> T) rethrows -> T
}

/// One row of a result; columns are read by name or position and decoded by type.
public struct Row: RawTextRow {
    let handle: ResultHandle
    let index: Int

    /// The result's column names in order.
    public var columns: [String] { handle.columnNames }

    /// The raw text of column `position`, nil for SQL NULL.
    public func text(at position: Int) -> String? {
        handle.text(row: index, column: position)
    }

    /// Calls `body` with the column's bytes (NUL-terminated in memory, the
    /// terminator not counted), or nil for SQL NULL — no String is made.
    public func withRawText<T>(at position: Int, _ body: (UnsafeBufferPointer<UInt8>?) throws -> T) rethrows -> T {
        let r = Int32(index)
        let c = Int32(position)
        if PQgetisnull(handle.pointer, r, c) == 1 { return try body(nil) }
        let length = Int(PQgetlength(handle.pointer, r, c))
        return try PQgetvalue(handle.pointer, r, c).withMemoryRebound(to: UInt8.self, capacity: length + 1) {
            try body(UnsafeBufferPointer(start: $0, count: length))
        }
    }

    /// The raw text of the named column, nil for SQL NULL.
    public func text(_ column: String) throws(PostgresError) -> String? {
        handle.text(row: index, column: try position(of: column))
    }

    /// Decodes the named column; throws `unexpectedNull` for NULL.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws(PostgresError) -> T {
        guard let value = try decode(column, as: T?.self) else {
            throw PostgresError(code: .unexpectedNull, message: "column '\(column)' is NULL")
        }
        return value
    }

    /// Decodes the named column, nil for NULL.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T?.Type = T?.self) throws(PostgresError)
        -> T?
    {
        let position = try position(of: column)
        let r = Int32(index)
        let c = Int32(position)
        if PQgetisnull(handle.pointer, r, c) == 1 { return nil }
        let length = Int(PQgetlength(handle.pointer, r, c))
        let value = PQgetvalue(handle.pointer, r, c)!
        return try value.withMemoryRebound(to: UInt8.self, capacity: length + 1) { bytes throws(PostgresError) in
            try T(postgresBytes: UnsafeBufferPointer(start: bytes, count: length))
        }
    }

    /// Decodes column `position`; throws `unexpectedNull` for NULL.
    public func decode<T: PostgresDecodable>(at position: Int, as type: T.Type = T.self) throws(PostgresError) -> T {
        guard let text = text(at: position) else {
            throw PostgresError(code: .unexpectedNull, message: "column \(position) is NULL")
        }
        return try T(postgresText: text)
    }

    private func position(of column: String) throws(PostgresError) -> Int {
        guard let position = handle.positions[column] else {
            throw PostgresError(
                code: .noSuchColumn,
                message: "no column '\(column)' in result (has: \(handle.columnNames.joined(separator: ", ")))")
        }
        return position
    }
}
