public import Foundation
import Postgres

/// One CSV cell.
public enum CSVField: Sendable, Equatable {
    /// Text from anywhere (a symbol, a venue message): quoted as needed and
    /// neutralised if a spreadsheet would read it as a formula.
    case text(String)
    /// An exact decimal or integer, written as given.
    case number(String)
    /// An instant, written as ISO 8601 UTC to the millisecond (`2026-11-25T06:17:00.123Z`).
    case timestamp(Date)
    /// `true` or `false`.
    case bool(Bool)
    /// Nothing (SQL NULL).
    case empty
}

/// Writes RFC 4180 CSV (UTF-8, CRLF line ends) to a file, all at once or not at all:
/// rows go to `<path>.partial`, which `close()` renames to `path`. By default the file starts
/// with a UTF-8 byte-order mark, so Excel on Windows reads "≤" and "σ" as written when the file
/// is opened by a double click.
public final class CSVWriter {
    /// The final path.
    public let path: String
    private let partialPath: String
    private var handle: FileHandle?
    private var buffer: [UInt8] = []
    /// Rows written so far (header included).
    public private(set) var rows = 0

    /// Starts a CSV file at `path` (replaced on `close()`), with a UTF-8 byte-order mark unless told not to.
    public init(path: String, byteOrderMark: Bool = true) throws {
        self.path = path
        self.partialPath = path + ".partial"
        guard FileManager.default.createFile(atPath: partialPath, contents: nil) else {
            throw BallastError.invalidInput("cannot create \(partialPath)")
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: partialPath))
        buffer.reserveCapacity(1 << 16)
        if byteOrderMark { buffer += [0xEF, 0xBB, 0xBF] }
    }

    deinit {
        if handle != nil {
            try? handle?.close()
            try? FileManager.default.removeItem(atPath: partialPath)
        }
    }

    /// Appends one row.
    public func writeRow(_ fields: [CSVField]) throws {
        try writeRow { row in
            for field in fields { row.append(field) }
        }
    }

    /// Appends one row whose fields `body` appends in order (the fast path for large tables: the
    /// row is built in this writer's buffer without an array of fields).
    public func writeRow(_ body: (inout Row) throws -> Void) throws {
        // The buffer moves into the row and back, so appending a byte is a plain array append.
        var row = Row()
        swap(&row.bytes, &buffer)
        let start = row.bytes.count
        do {
            try body(&row)
            row.bytes.append(13)
            row.bytes.append(10)
        } catch {
            row.bytes.removeSubrange(start...)  // no half row
            swap(&row.bytes, &buffer)
            throw error
        }
        swap(&row.bytes, &buffer)
        rows += 1
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// One row being written.
    public struct Row {
        fileprivate var bytes: [UInt8] = []
        private var fields = 0

        /// Appends the next field.
        public mutating func append(_ field: CSVField) {
            separate()
            switch field {
            case .text(let text): appendText(CSVWriter.neutralised(text))
            case .number(let digits): bytes.append(contentsOf: digits.utf8)
            case .timestamp(let date): bytes.append(contentsOf: Timestamp.iso8601Milliseconds(date).utf8)
            case .bool(let flag): bytes.append(contentsOf: (flag ? "true" : "false").utf8)
            case .empty: break
            }
        }

        /// Appends the next field, a number given as its exact text (digits, sign, point, exponent).
        public mutating func appendNumber(_ digits: UnsafeBufferPointer<UInt8>) {
            separate()
            bytes.append(contentsOf: digits)
        }

        private mutating func separate() {
            if fields > 0 { bytes.append(UInt8(ascii: ",")) }
            fields += 1
        }

        private mutating func appendText(_ text: String) {
            var text = text
            text.withUTF8 { utf8 in appendText(utf8) }
        }

        private mutating func appendText(_ utf8: UnsafeBufferPointer<UInt8>) {
            guard utf8.contains(where: { $0 == 44 || $0 == 34 || $0 == 10 || $0 == 13 }) else {
                bytes.append(contentsOf: utf8)
                return
            }
            bytes.append(34)
            for byte in utf8 {
                if byte == 34 { bytes.append(34) }
                bytes.append(byte)
            }
            bytes.append(34)
        }
    }

    /// Appends a header row of column names.
    public func writeHeader(_ names: [String]) throws {
        try writeRow(names.map(CSVField.text))
    }

    /// Finishes the file and moves it into place.
    public func close() throws {
        try flush()
        try handle?.close()
        handle = nil
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: partialPath, toPath: path)
    }

    /// Drops the partial file.
    public func discard() {
        try? handle?.close()
        handle = nil
        try? FileManager.default.removeItem(atPath: partialPath)
    }

    private func flush() throws {
        guard !buffer.isEmpty, let handle else { return }
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Text a spreadsheet would run as a formula (`= + - @`, tab, CR first)
    /// gets a leading apostrophe, so it is shown as text and never evaluated.
    public static func neutralised(_ text: String) -> String {
        guard let first = text.utf8.first else { return text }
        switch first {
        case UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 9, 13: return "'" + text
        default: return text
        }
    }
}
