internal import CLibPQ
import Foundation

/// One data row of `COPY … TO STDOUT` in text format, split into its fields: each field's bytes
/// sit in the row's own buffer, unescaped and NUL-terminated in place.
public struct CopyRow: RawTextRow {
    let bytes: UnsafeMutablePointer<UInt8>
    /// Start and length of each field; a length of -1 is SQL NULL.
    let fields: UnsafeBufferPointer<(start: Int, length: Int)>

    /// The number of fields.
    public var count: Int { fields.count }

    public func withRawText<T>(at position: Int, _ body: (UnsafeBufferPointer<UInt8>?) throws -> T) rethrows -> T {
        let field = fields[position]
        if field.length < 0 { return try body(nil) }
        return try body(UnsafeBufferPointer(start: bytes + field.start, count: field.length))
    }

    /// Splits one text-format line (`length` bytes, its newline not counted but still there) at the
    /// tabs, unescaping each field in place (escapes only shorten it) and ending it with a NUL where
    /// its delimiter was. False when the line does not hold `expected` fields.
    static func split(
        _ bytes: UnsafeMutablePointer<UInt8>, length: Int, expected: Int,
        into fields: inout [(start: Int, length: Int)]
    ) -> Bool {
        fields.removeAll(keepingCapacity: true)
        var start = 0
        var i = 0
        var escaped = false
        while i <= length {
            let byte: UInt8 = i < length ? bytes[i] : 10
            if byte == 9 || byte == 10 {
                var fieldLength = i - start
                if escaped {
                    if fieldLength == 2, bytes[start] == 92, bytes[start + 1] == UInt8(ascii: "N") {
                        fieldLength = -1
                    } else {
                        fieldLength = unescape(bytes + start, count: fieldLength)
                    }
                    escaped = false
                }
                if fieldLength >= 0 { bytes[start + fieldLength] = 0 }
                fields.append((start, fieldLength))
                start = i + 1
                if byte == 10 { break }
            } else if byte == 92 {
                escaped = true
                i += 1  // the escaped byte is never a delimiter
            }
            i += 1
        }
        return fields.count == expected
    }

    /// Decodes text-format escapes in place; returns the new length.
    static func unescape(_ bytes: UnsafeMutablePointer<UInt8>, count: Int) -> Int {
        var read = 0
        var write = 0
        while read < count {
            var byte = bytes[read]
            read += 1
            if byte == 92, read < count {
                let code = bytes[read]
                read += 1
                switch code {
                case UInt8(ascii: "b"): byte = 8
                case UInt8(ascii: "f"): byte = 12
                case UInt8(ascii: "n"): byte = 10
                case UInt8(ascii: "r"): byte = 13
                case UInt8(ascii: "t"): byte = 9
                case UInt8(ascii: "v"): byte = 11
                case UInt8(ascii: "0")...UInt8(ascii: "7"):
                    var value = Int(code - 48)
                    var digits = 1
                    while digits < 3, read < count, (48...55).contains(bytes[read]) {
                        value = value * 8 + Int(bytes[read] - 48)
                        read += 1
                        digits += 1
                    }
                    byte = UInt8(truncatingIfNeeded: value)
                default: byte = code
                }
            }
            bytes[write] = byte
            write += 1
        }
        return write
    }
}

extension Connection {
    /// Streams the rows of `query` through `COPY (query) TO STDOUT`: the server sends each row as
    /// it is produced, with none of a cursor's staging (a FETCH stores each batch before sending it,
    /// which costs the database about a quarter more CPU on a million rows), and no result object is
    /// built per batch here. COPY takes no binds: splice values with `literal(_:)`. `columns` is the
    /// number of fields each row must have. Returns the row count.
    @discardableResult
    public func forEachCopiedRow(_ query: Query, columns: Int, _ body: (CopyRow) throws -> Void) throws -> Int {
        guard query.binds.isEmpty else {
            throw PostgresError(
                code: .misuse, message: "COPY takes no binds; splice values with literal(_:)", query: query.sql)
        }
        var fields: [(start: Int, length: Int)] = []
        fields.reserveCapacity(columns + 1)
        return try copyLines(Query(unsafeSQL: "COPY (\(query.sql)) TO STDOUT")) { line in
            guard line.last == 10 else {
                throw PostgresError(
                    code: .decodingFailed, message: "a COPY row does not end its line", query: query.sql)
            }
            guard CopyRow.split(line.baseAddress!, length: line.count - 1, expected: columns, into: &fields) else {
                throw PostgresError(
                    code: .decodingFailed,
                    message: "a COPY row has \(fields.count) fields where the query has \(columns) columns",
                    query: query.sql)
            }
            try fields.withUnsafeBufferPointer { try body(CopyRow(bytes: line.baseAddress!, fields: $0)) }
        }
    }

    /// `value` as an SQL literal quoted by libpq for this connection (NULL for nil), to splice into
    /// SQL that cannot take binds.
    public func literal(_ value: String?) throws -> String {
        guard let value else { return "NULL" }
        let h = try live()
        guard let quoted = PQescapeLiteral(h, value, value.utf8.count) else { throw connectionError(query: nil) }
        defer { PQfreemem(quoted) }
        return String(cString: quoted)
    }
}
