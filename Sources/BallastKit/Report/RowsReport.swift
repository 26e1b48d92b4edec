package import Foundation
import Workbook

/// A workbook and CSVs written from rows the caller already holds (a replay's figures), through
/// templates like the audit report's (`Templates/<set>/*.toml`, without a query): each column's
/// field names a key of the rows, and its type, format and width apply as in every report.
///
/// Invariant: the folder appears whole or not at all (written beside it, then renamed).
package enum RowsReport {
    /// The templates of `folder/set/*.toml`, in position order.
    package static func templates(in folder: URL, set: String) throws -> [ReportTemplate] {
        let directory = folder.appendingPathComponent(set, isDirectory: true)
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".toml") }
                .sorted()
        } catch {
            throw BallastError.invalidInput(
                "no report templates in \(directory.path) (set --templates to the Templates folder)")
        }
        return try names.map { name in
            let path = directory.appendingPathComponent(name).path
            var template = try TOMLFile.decode(ReportTemplate.self, path: path)
            template.source = path
            return template
        }.sorted { ($0.position, $0.sheet) < ($1.position, $1.sheet) }
    }

    /// Writes `workbook` and one CSV per template into `folder` (which must not exist yet).
    /// `rows` holds each template's rows by sheet name; a row maps fields to exact text (nil: empty).
    package static func write(
        _ rows: [String: [[String: String?]]], templates: [ReportTemplate], workbook name: String, to folder: URL
    ) throws {
        let fileManager = FileManager.default
        guard !fileManager.fileExists(atPath: folder.path) else {
            throw BallastError.invalidInput("\(folder.path) exists already: choose another --out")
        }
        let staging = folder.deletingLastPathComponent().appendingPathComponent(
            ".\(folder.lastPathComponent).partial-\(ProcessInfo.processInfo.processIdentifier)", isDirectory: true)
        try? fileManager.removeItem(at: staging)
        try fileManager.createDirectory(at: staging, withIntermediateDirectories: true)
        do {
            try fill(rows, templates: templates, workbook: staging.appendingPathComponent(name), csvs: staging)
            try fileManager.moveItem(at: staging, to: folder)
        } catch {
            try? fileManager.removeItem(at: staging)
            throw error
        }
    }

    private static func fill(
        _ rows: [String: [[String: String?]]], templates: [ReportTemplate], workbook path: URL, csvs: URL
    )
        throws
    {
        let workbook = try Workbook(path: path.path)
        var closed = false
        defer { if !closed { try? workbook.close() } }
        let formats = ReportFormats()
        for template in templates {
            let stream = try SheetStream(template: template, workbook: workbook, formats: formats, rowLimit: 1_048_575)
            let csv = try template.csv.map { try CSVWriter(path: csvs.appendingPathComponent($0).path) }
            try csv?.writeHeader(template.columns.map(\.header))
            for row in rows[template.sheet] ?? [] {
                var cells: [CellValue] = []
                var fields: [CSVField] = []
                for column in template.columns {
                    let (cell, field) = try ReportCell.convert(
                        row[column.field] ?? nil, column.type, source: template.source, field: column.field)
                    cells.append(cell)
                    fields.append(field)
                }
                try stream.append(cells: cells)
                try csv?.writeRow(fields)
            }
            try stream.finish()
            try csv?.close()
            if let spec = template.chart, stream.rows > 0 {
                let chart = SummarySheet.chart(
                    spec, template: template, sheet: stream.firstSheet.name, rows: stream.firstSheet.rows)
                try workbook.insertChart(chart, on: stream.firstSheetObject, row: stream.firstSheet.rows + 3, column: 0)
            }
        }
        closed = true
        try workbook.close()
    }
}
