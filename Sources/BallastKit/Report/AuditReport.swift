public import Foundation
public import Logging
import Mustache
public import Postgres
import Workbook

/// Writes a run's audit report — `audit.xlsx`, one CSV per table and
/// `summary.md` — from PostgreSQL into `Output/<date>/<run-id>/`.
///
/// Rows stream from the database (single-row mode) into constant-memory
/// sheets, so memory does not grow with the row count. Files are written into
/// a `.partial` folder that is renamed only when everything is complete.
public struct AuditReport {
    /// What to report on.
    public struct Request: Sendable {
        public var runID: String
        public var runDay: String
        public var from: Date
        public var to: Date
        public var configHash: String?
        public var outputRoot: URL

        public init(runID: String, runDay: String, from: Date, to: Date, configHash: String?, outputRoot: URL) {
            self.runID = runID
            self.runDay = runDay
            self.from = from
            self.to = to
            self.configHash = configHash
            self.outputRoot = outputRoot
        }
    }

    /// What was written.
    public struct Result: Sendable {
        public var folder: URL
        /// Rows per table, in sheet order.
        public var tables: [(sheet: String, rows: Int, sheets: [String])]
        public var totalRows: Int { tables.reduce(0) { $0 + $1.rows } }
    }

    let connection: Connection
    let templates: ReportTemplates
    let logger: Logger
    /// Data rows per sheet before continuing on the next ("Fills (2)"); Excel's limit less the header.
    let rowLimit: Int

    /// A report over `connection`; `rowLimit` is lowered only by tests of sheet continuation.
    public init(connection: Connection, templates: ReportTemplates, logger: Logger, rowLimit: Int = 1_048_575) {
        self.connection = connection
        self.templates = templates
        self.logger = logger
        self.rowLimit = rowLimit
    }

    /// Writes the report; nothing appears under the final folder name unless all of it was written.
    public func write(_ request: Request) throws -> Result {
        let day = request.outputRoot.appendingPathComponent(request.runDay, isDirectory: true)
        let folder = day.appendingPathComponent(request.runID, isDirectory: true)
        let staging = day.appendingPathComponent(request.runID + ".partial", isDirectory: true)
        try? FileManager.default.removeItem(at: staging)
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        do {
            let tables = try writeFiles(request, into: staging)
            if FileManager.default.fileExists(atPath: folder.path) { try FileManager.default.removeItem(at: folder) }
            try FileManager.default.moveItem(at: staging, to: folder)
            return Result(folder: folder, tables: tables)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw error
        }
    }

    private func writeFiles(_ request: Request, into staging: URL) throws -> [(
        sheet: String, rows: Int, sheets: [String]
    )] {
        let tmp = staging.appendingPathComponent(".tmp", isDirectory: true)
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let workbook = try Workbook(
            path: staging.appendingPathComponent("audit.xlsx").path,
            options: .init(constantMemory: true, zip64: true, temporaryDirectory: tmp.path))
        var closed = false
        defer { if !closed { try? workbook.close() } }
        let formats = ReportFormats()
        let summary = try workbook.addSheet("Summary")
        let parameters: [String: String?] = [
            "from": Timestamp.format(request.from), "to": Timestamp.format(request.to), "run": request.runID,
        ]
        var written: [(template: ReportTemplate, stream: SheetStream)] = []
        for template in templates.tables {
            let stream = try SheetStream(
                template: template, workbook: workbook,
                csvPath: template.csv.map { staging.appendingPathComponent($0).path }, formats: formats,
                rowLimit: rowLimit)
            do {
                try fill(stream, template: template, parameters: parameters)
                try stream.finish()
                if let spec = template.chart, spec.placement != "Summary", stream.rows > 0 {
                    let chart = SummarySheet.chart(
                        spec, template: template, sheet: stream.firstSheet.name, rows: stream.firstSheet.rows)
                    try workbook.insertChart(
                        chart, on: stream.firstSheetObject, row: 1, column: template.columns.count + 1)
                }
            } catch {
                stream.discard()
                throw error
            }
            logger.info("wrote \(template.sheet): \(stream.rows) rows", metadata: ["sheets": "\(stream.sheets.count)"])
            written.append((template, stream))
        }
        let tables = written.map { ($0.template.sheet, $0.stream.rows, $0.stream.sheets.map(\.name)) }
        let context = SummaryContext(request: request, tables: tables, connection: connection)
        try SummarySheet(sheet: summary, workbook: workbook, formats: formats).write(
            context: try context.values(), tables: written.map { ($0.template, $0.stream.firstSheet) })
        closed = true
        try workbook.close()
        let markdown = try MustacheTemplate(string: templates.summary).render(try context.values())
        try Data(markdown.utf8).write(to: staging.appendingPathComponent("summary.md"))
        return tables
    }

    private func fill(_ stream: SheetStream, template: ReportTemplate, parameters: [String: String?]) throws {
        let query = try ReportQuery.bind(template.query, parameters: parameters, source: template.source)
        do {
            // Check the columns first, so a wrong field is caught even when the period is empty.
            var probe: Query = "SELECT * FROM ("
            probe.append(query)
            probe.append(") AS template_rows LIMIT 0")
            let positions = try Self.positions(of: template, in: try connection.query(probe).columns)
            try connection.forEachRow(query) { row in try stream.append(row, positions: positions) }
        } catch let error as PostgresError where error.sqlState != nil {
            throw BallastError.invalidInput("\(template.source): field query: \(error.message)")
        }
    }

    /// Where each template column sits in the query's result; a missing one names the field.
    static func positions(of template: ReportTemplate, in columns: [String]) throws -> [Int] {
        try template.columns.map { column in
            guard let index = columns.firstIndex(of: column.field) else {
                throw BallastError.invalidInput(
                    "\(template.source): column field '\(column.field)' is not returned by the query "
                        + "(it returns: \(columns.joined(separator: ", ")))")
            }
            return index
        }
    }
}
