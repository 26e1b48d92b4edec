import Foundation
public import Postgres
import Workbook

/// A small report of the schema's state: each migration and each table's row count.
///
/// It is what `ballast run` writes until the pipeline's own reports exist.
public struct SchemaReport {
    let connection: Connection

    /// A report over `connection`.
    public init(connection: Connection) { self.connection = connection }

    /// Writes `schema.xlsx` and `schema.csv` into `folder`.
    public func write(to folder: OutputFolder) throws {
        let entries = try Migrator(connection: connection, migrations: try Migration.bundled()).status()
        let tables = try connection.query(
            """
            SELECT c.relname AS name, c.reltuples::bigint AS estimate
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
            ORDER BY c.relname
            """)
        var counts: [(String, Int)] = []
        for row in tables {
            let name: String = try row.decode("name")
            let count: Int = try connection.query(
                "SELECT count(*) AS n FROM \(identifier: name)"
            ).first!.decode("n")
            counts.append((name, count))
        }

        let csv = try CSVWriter(path: folder.file("schema.csv"))
        try csv.writeHeader(["kind", "name", "version", "applied_at", "rows"])
        for entry in entries {
            try csv.writeRow([
                .text("migration"), .text(entry.migration.name), .number(String(entry.migration.version)),
                entry.appliedAt.map(CSVField.timestamp) ?? .empty, .empty,
            ])
        }
        for (name, count) in counts {
            try csv.writeRow([.text("table"), .text(name), .empty, .empty, .number(String(count))])
        }
        try csv.close()

        let workbook = try Workbook(path: folder.file("schema.xlsx"))
        let header = CellFormat(bold: true, background: 0xDCE6F1, bottomBorder: true)
        let dateFormat = CellFormat(numberFormat: "yyyy-mm-dd hh:mm:ss")
        let sheet = try workbook.addSheet("Schema")
        try sheet.writeRow(
            [.string("Migration"), .string("Version"), .string("Applied at (UTC)")], row: 0,
            formats: [header, header, header])
        for (i, entry) in entries.enumerated() {
            try sheet.write(.string(entry.migration.name), row: i + 1, column: 0)
            try sheet.write(.number(Double(entry.migration.version)), row: i + 1, column: 1)
            try sheet.write(
                entry.appliedAt.map(CellValue.date) ?? .string("pending"), row: i + 1, column: 2,
                format: dateFormat)
        }
        try sheet.setColumns(0, 0, width: 24)
        try sheet.setColumns(2, 2, width: 22)
        sheet.freezePanes(row: 1)
        let tableSheet = try workbook.addSheet("Tables")
        try tableSheet.writeRow([.string("Table"), .string("Rows")], row: 0, formats: [header, header])
        for (i, (name, count)) in counts.enumerated() {
            try tableSheet.writeRow([.string(name), .number(Double(count))], row: i + 1)
        }
        try tableSheet.setColumns(0, 0, width: 26)
        tableSheet.freezePanes(row: 1)
        try tableSheet.autofilter(firstRow: 0, firstColumn: 0, lastRow: max(counts.count, 1), lastColumn: 1)
        try workbook.close()
    }
}
