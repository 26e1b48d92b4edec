public import Foundation
public import Logging
import Mustache
public import Postgres
import Workbook

/// Writes a run's audit report — `audit.xlsx`, one CSV per table and
/// `summary.md` — from PostgreSQL into `Output/<date>/<run-id>/`.
///
/// Rows stream from the database (`COPY (query) TO STDOUT`) into constant-memory
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
        /// The decision chain as verified before the report (its head and length).
        public var chain: ChainHead?
        /// CSVs start with a UTF-8 byte-order mark (`--csv-bom=false` turns it off).
        public var csvByteOrderMark = true

        public init(
            runID: String, runDay: String, from: Date, to: Date, configHash: String?, outputRoot: URL,
            chain: ChainHead? = nil
        ) {
            self.chain = chain
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
        /// Seconds libxlsxwriter took to close the workbook (compress and zip its parts), the last step.
        public var closeSeconds: Double
    }

    let connection: Connection
    let databaseURL: String
    let templates: ReportTemplates
    let logger: Logger
    /// Data rows per sheet before continuing on the next ("Fills (2)"); Excel's limit less the header.
    let rowLimit: Int

    /// A report over `connection`; CSVs are written over a second connection to
    /// `databaseURL` that sees the same snapshot. `rowLimit` is lowered only by
    /// tests of sheet continuation.
    public init(
        connection: Connection, databaseURL: String, templates: ReportTemplates, logger: Logger,
        rowLimit: Int = 1_048_575
    ) {
        self.connection = connection
        self.databaseURL = databaseURL
        self.templates = templates
        self.logger = logger
        self.rowLimit = rowLimit
    }

    /// Work that runs alongside the report on a connection of its own (the
    /// measure step); templates marked `after_measure` wait for it.
    public typealias Concurrent = @Sendable (Connection) throws -> Void

    /// Writes the report; nothing appears under the final folder name unless
    /// all of it was written. `alongside` (the measure step) runs concurrently.
    public func write(_ request: Request, alongside: Concurrent? = nil) throws -> Result {
        let day = request.outputRoot.appendingPathComponent(request.runDay, isDirectory: true)
        let folder = day.appendingPathComponent(request.runID, isDirectory: true)
        let staging = day.appendingPathComponent(request.runID + ".partial", isDirectory: true)
        try? FileManager.default.removeItem(at: staging)
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        do {
            let (tables, closeSeconds) = try writeFiles(request, alongside: alongside, into: staging)
            if FileManager.default.fileExists(atPath: folder.path) { try FileManager.default.removeItem(at: folder) }
            try FileManager.default.moveItem(at: staging, to: folder)
            return Result(folder: folder, tables: tables, closeSeconds: closeSeconds)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw error
        }
    }

    /// Writes the workbook on this thread while each table's rows are read on another and written
    /// to its CSV as they pass (so the sheet and the CSV hold exactly the same rows); runs
    /// `alongside` on a third, and fills the tables that need it last, reading them ahead.
    private func writeFiles(_ request: Request, alongside: Concurrent?, into staging: URL) throws -> (
        tables: [(sheet: String, rows: Int, sheets: [String])], closeSeconds: Double
    ) {
        let measured = try alongside.map { work in try startAlongside(work) }
        defer { _ = try? measured?.worker.join() }
        try Self.beginReading(on: connection)
        var inTransaction = true
        defer { if inTransaction { _ = try? connection.execute("COMMIT") } }
        let parameters: [String: String?] = [
            "from": Timestamp.format(request.from), "to": Timestamp.format(request.to), "run": request.runID,
            "chain": request.chain?.description,
        ]
        let (tables, context, closeSeconds) = try writeWorkbook(
            request, parameters: parameters, into: staging, measured: measured?.gate
        ) {
            // Before the deferred tables: the measure step must be done, and visible.
            try measured?.gate.wait()
            try connection.execute("COMMIT")
            inTransaction = false
        }
        let markdown = try MustacheTemplate(string: templates.summary).render(context)
        try Data(markdown.utf8).write(to: staging.appendingPathComponent("summary.md"))
        if let chain = request.chain {
            // Keep this line outside the database: `ballast audit verify --since DIR` checks it later.
            try Data((chain.description + "\n").utf8).write(to: staging.appendingPathComponent("chain-head.txt"))
        }
        return (tables, closeSeconds)
    }

    /// Opens the read-only snapshot a report reads in, tuned for it: sorting a large table for a
    /// sheet should not spill to disk; each report query runs once, so compiling it (PostgreSQL's
    /// JIT, up to half a second a query) costs more than it saves; and no parallel workers. The
    /// rows feed one workbook thread, which needs a core of its own: a parallel plan (a parallel
    /// sort of the Fills, say) takes every core of a database on the same machine for a second or
    /// more before its first row, while the serial plan streams Fills in index order at once.
    static func beginReading(on connection: Connection) throws {
        try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try connection.execute("SET LOCAL work_mem = '64MB'")
        try connection.execute("SET LOCAL jit = off")
        try connection.execute("SET LOCAL max_parallel_workers_per_gather = 0")
    }

    /// Starts `work` on its own thread and connection; the gate opens when it ends.
    private func startAlongside(_ work: @escaping Concurrent) throws -> (worker: Worker, gate: Gate) {
        let gate = Gate()
        let own = Unshared(try connection.sibling(databaseURL: databaseURL, logger: logger))
        let worker = Worker("report-alongside") {
            defer { own.value.close() }
            do {
                try work(own.value)
                gate.open(.success(()))
            } catch {
                gate.open(.failure(error))
                throw error
            }
        }
        return (worker, gate)
    }

    private func writeWorkbook(
        _ request: Request, parameters: [String: String?], into staging: URL, measured: Gate?,
        beforeDeferred: () throws -> Void
    ) throws -> (tables: [(sheet: String, rows: Int, sheets: [String])], context: [String: Any], closeSeconds: Double) {
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
        try summary.printAcross(headerRows: 0)
        var written: [(template: ReportTemplate, stream: SheetStream)] = []
        var streams: [String: SheetStream] = [:]
        var filled: Set<String> = []
        let index = LinkIndex()
        // Every sheet is created in template order (that is the tab order) and filled there when it
        // can be: a sheet is filled after the sheets it links to, and tables that read the measures
        // (or link to one that does) once the measure step is done — those are read ahead.
        let deferred = measured == nil ? [] : templates.tables.filter(\.afterMeasure)
        let plan = try ReportTemplates.fillOrder(templates.tables, later: Set(deferred.map(\.sheet)))
        let late = Set(plan.later.map(\.sheet))
        func reader(_ template: ReportTemplate) -> TableReader {
            TableReader(
                template: template, parameters: parameters,
                csvPath: template.csv.map { staging.appendingPathComponent($0).path },
                byteOrderMark: request.csvByteOrderMark)
        }
        let ahead = try measured.map {
            try ReadAhead(
                plan.later.map(reader), of: request, after: $0, like: connection, databaseURL: databaseURL,
                logger: logger)
        }
        let figures: SummaryContext.Figures
        do {
            func fill(_ template: ReportTemplate) throws {
                try complete(
                    streams[template.sheet]!, reader: reader(template), ahead: ahead?.queue(for: template.sheet),
                    workbook: workbook)
                filled.insert(template.sheet)
            }
            for template in templates.tables {
                let stream = try SheetStream(
                    template: template, workbook: workbook, formats: formats, rowLimit: rowLimit, index: index)
                written.append((template, stream))
                streams[template.sheet] = stream
                let targets = template.columns.compactMap(\.link?.sheet).filter { $0 != template.sheet }
                if !late.contains(template.sheet), targets.allSatisfy(filled.contains) { try fill(template) }
            }
            for template in plan.first where !filled.contains(template.sheet) { try fill(template) }
            if !plan.later.isEmpty {
                try beforeDeferred()
                for template in plan.later { try fill(template) }
            }
            figures = try ahead?.figures() ?? SummaryContext.figures(of: request, on: connection)
        } catch {
            ahead?.cancel(error)
            _ = try? ahead?.figures()
            throw error
        }
        let tables = written.map { ($0.template.sheet, $0.stream.rows, $0.stream.sheets.map(\.name)) }
        let context = SummaryContext.values(of: request, tables: tables, figures: figures)
        try SummarySheet(sheet: summary, workbook: workbook, formats: formats).write(
            context: context, tables: written.map { ($0.template, $0.stream.firstSheet) })
        closed = true
        let closing = ContinuousClock().now
        let cpu = ProcessStats.threadCPUSeconds()
        try workbook.close()
        let closeTime = ContinuousClock().now - closing
        logger.debug("workbook closed in \(closeTime), \(ProcessStats.threadCPU(since: cpu)) on the CPU")
        return (tables, context, closeTime.seconds)
    }

    /// Fills one table's sheet (from `ahead`, where its rows are read ahead) and adds its chart.
    private func complete(
        _ stream: SheetStream, reader: TableReader, ahead: BoundedQueue<TableReader.Batch>?, workbook: Workbook
    ) throws {
        let template = reader.template
        if let ahead {
            try drain(ahead, into: stream)
        } else {
            try pipeline(reader, into: stream)
        }
        try stream.finish()
        if let spec = template.chart, spec.placement != "Summary", stream.rows > 0 {
            let chart = SummarySheet.chart(
                spec, template: template, sheet: stream.firstSheet.name, rows: stream.firstSheet.rows)
            // Below the table, not beside it: the sheet prints one page wide, and a
            // chart to the right would widen that page and shrink the table. It starts a printed page
            // of its own: where the table ended part-way down a page, the chart was cut across two.
            let row = stream.firstSheet.rows + 3
            try stream.firstSheetObject.pageBreak(before: row)
            try workbook.insertChart(chart, on: stream.firstSheetObject, row: row, column: 0)
        }
        logger.info("wrote \(template.sheet): \(stream.rows) rows", metadata: ["sheets": "\(stream.sheets.count)"])
    }

    /// Streams the table's rows through two threads so that reading overlaps the workbook: a reader
    /// on this report's connection converts rows (streamed by COPY) and writes the CSV while
    /// this thread writes the cells.
    private func pipeline(_ reader: TableReader, into stream: SheetStream) throws {
        let rows = TableReader.queue()
        let database = Unshared(connection)
        // The connection is used only by the reader until `worker.join()` returns.
        let worker = Worker("report-reader") {
            do {
                try reader.read(on: database.value, into: rows)
            } catch {
                rows.fail(error)
                throw error
            }
        }
        var failure: (any Error)?
        do {
            try drain(rows, into: stream)
        } catch {
            failure = error
            rows.fail(error)
        }
        // The reader's own error comes first: it is the cause.
        try worker.join()
        if let failure { throw failure }
    }

    /// Writes every batch from `rows` into the sheet.
    private func drain(_ rows: BoundedQueue<TableReader.Batch>, into stream: SheetStream) throws {
        let clock = ContinuousClock()
        var waited = Duration.zero
        var first: Duration?
        let started = clock.now
        let cpu = ProcessStats.threadCPUSeconds()
        while true {
            let before = clock.now
            guard let batch = try rows.take() else { break }
            waited += clock.now - before
            if first == nil { first = waited }
            try stream.append(batch)
        }
        // Wall time less waiting less this thread's CPU time is the time it was runnable but
        // not running: other work (the reader, the database, the measure step) had its core.
        logger.debug(
            "\(stream.template.sheet): \(stream.rows) rows in \(clock.now - started), \(waited) of it waiting for rows (\(first ?? waited) for the first), \(ProcessStats.threadCPU(since: cpu)) on the CPU"
        )
    }

    /// Where each template column sits in the query's result; a missing one names the field.
    package static func positions(of template: ReportTemplate, in columns: [String]) throws -> [Int] {
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
