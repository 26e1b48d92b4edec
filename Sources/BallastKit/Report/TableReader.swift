import Foundation
import Logging
package import Postgres
package import Workbook

/// Reads one report table on a thread other than the workbook's: each row is converted into
/// workbook cells, handed over in batches through a bounded queue, and written to the table's CSV
/// as it passes, so the sheet and the CSV hold exactly the same rows from one read.
struct TableReader {
    let template: ReportTemplate
    let parameters: [String: String?]
    /// Where the table's CSV goes (nil: the table has none).
    let csvPath: String?
    let byteOrderMark: Bool

    /// Rows per batch handed to the workbook.
    static let batchSize = 256

    /// Rows handed to the workbook at once: their cells one after another, `width` to a row (one
    /// allocation a batch, made on the reader's thread and freed on the workbook's).
    struct Batch: Sendable {
        var cells: [CellValue] = []
        let width: Int
        var rows: Int { cells.count / width }
    }

    /// A queue for one table's batches: deep enough that reading runs ahead of the workbook.
    static func queue() -> BoundedQueue<Batch> { BoundedQueue(capacity: 32) }

    /// Checks the query's columns (so a wrong field is caught even when the period is empty), then
    /// streams its rows into `queue` and the CSV, and closes the queue. A query the database refuses
    /// is named by its template. The caller fails the queue with anything this throws.
    func read(on connection: Connection, into queue: BoundedQueue<TableReader.Batch>) throws {
        // COPY takes no binds: the parameters are spliced as quoted literals, in the probe too, so
        // the probe checks the very text that is copied.
        let query = try ReportQuery.bind(
            template.query, parameters: parameters, source: template.source, literal: connection.literal)
        let layout: RowLayout
        let resultWidth: Int
        do {
            var probe: Query = "SELECT * FROM ("
            probe.append(query)
            probe.append(") AS template_rows LIMIT 0")
            let columns = try connection.query(probe).columns
            layout = try RowLayout(template, columns: columns)
            resultWidth = columns.count
        } catch let error as PostgresError where error.sqlState != nil {
            throw BallastError.invalidInput("\(template.source): field query: \(error.message)")
        }
        let csv = try csvPath.map { try CSVWriter(path: $0, byteOrderMark: byteOrderMark) }
        do {
            try csv?.writeHeader(template.columns.map(\.header))
            let width = template.columns.count
            func empty() -> Batch {
                var batch = Batch(width: width)
                batch.cells.reserveCapacity(width * Self.batchSize)
                return batch
            }
            var batch = empty()
            try connection.forEachCopiedRow(query, columns: resultWidth) { row in
                let start = batch.cells.count
                try layout.append(row, to: &batch.cells)
                if let csv { try layout.writeCSV(row, cells: batch.cells[start...], to: csv) }
                if batch.rows == Self.batchSize {
                    try queue.put(batch)
                    batch = empty()
                }
            }
            if !batch.cells.isEmpty { try queue.put(batch) }
            try csv?.close()
            queue.close()
        } catch let error as PostgresError where error.sqlState != nil {
            csv?.discard()
            throw BallastError.invalidInput("\(template.source): field query: \(error.message)")
        } catch {
            csv?.discard()
            throw error
        }
    }
}

/// How one template's result rows become workbook cells and CSV fields, worked out once per query:
/// where each column sits in the result, and its type.
package struct RowLayout {
    let template: ReportTemplate
    let positions: [Int]
    let types: [ReportTemplate.ColumnType]

    /// The layout of `template`'s columns in a result with `columns`; a missing one is named.
    package init(_ template: ReportTemplate, columns: [String]) throws {
        self.template = template
        self.positions = try AuditReport.positions(of: template, in: columns)
        self.types = template.columns.map(\.type)
    }

    /// The workbook cells of one result row.
    package func cells(_ row: some RawTextRow) throws -> [CellValue] {
        var cells: [CellValue] = []
        try append(row, to: &cells)
        return cells
    }

    /// Appends the workbook cells of one result row to `cells` (the reader thread's hot path).
    func append(_ row: some RawTextRow, to cells: inout [CellValue]) throws {
        for i in types.indices {
            let cell = try row.withRawText(at: positions[i]) { bytes in
                guard let cell = ReportCell.cell(bytes, types[i]) else {
                    throw ReportCell.mismatch(
                        bytes, types[i], source: template.source, field: template.columns[i].field)
                }
                return cell
            }
            cells.append(cell)
        }
    }

    /// Writes the same row to its CSV: numbers as the query's exact text (the cells hold binary
    /// doubles), everything else as its cell holds it.
    func writeCSV(_ row: some RawTextRow, cells: ArraySlice<CellValue>, to csv: CSVWriter) throws {
        try csv.writeRow { out in
            for (i, cell) in zip(positions.indices, cells) {
                if case .number = cell {
                    row.withRawText(at: positions[i]) { digits in
                        if let digits { out.appendNumber(digits) } else { out.append(.empty) }
                    }
                } else {
                    out.append(ReportCell.field(cell) { "" })
                }
            }
        }
    }
}

/// Reads the tables that wait for the measure step ahead of the workbook: as soon as the step is
/// done, each into its own queue, so the workbook is not left waiting on their queries (the order
/// costs' aggregate over every fill takes seconds) while it is still writing the tables before them.
///
/// Two lanes, each a thread and a connection, take the tables in turn, each lane in the order the
/// workbook fills them: a lane can be held up only by a table the workbook is about to write, and
/// the query of the table after a large one runs on the other lane meanwhile. Both lanes read one
/// read-only snapshot, taken once the measure step is done; the first lane also queries the
/// Summary's figures in it.
final class ReadAhead: @unchecked Sendable {
    // Safe to share: `queues` and `workers` are set in `init` and only read after; the queues and
    // gates are thread-safe; `read` is written by the first lane before it ends and read only after
    // `join()`.
    private let queues: [String: BoundedQueue<TableReader.Batch>]
    private var workers: [Worker] = []
    private var read: SummaryContext.Figures?
    /// The first lane's snapshot, handed to the second.
    private let snapshot = BoundedQueue<String>(capacity: 1)
    /// Opens when the second lane has taken the snapshot (the first keeps it until then).
    private let imported = Gate()

    /// Starts reading `request`'s Summary figures and `readers` once `measured` opens, over new
    /// connections like `connection` (opened here, on the caller's thread).
    init(
        _ readers: [TableReader], of request: AuditReport.Request, after measured: Gate, like connection: Connection,
        databaseURL: String, logger: Logger
    ) throws {
        queues = Dictionary(uniqueKeysWithValues: readers.map { ($0.template.sheet, TableReader.queue()) })
        let lanes = readers.count > 1 ? 2 : 1
        var connections: [Unshared<Connection>] = []
        do {
            for _ in 0..<lanes {
                connections.append(Unshared(try connection.sibling(databaseURL: databaseURL, logger: logger)))
            }
        } catch {
            for opened in connections { opened.value.close() }
            throw error
        }
        for lane in 0..<lanes {
            let mine = readers.enumerated().filter { $0.offset % lanes == lane }.map(\.element)
            let own = connections[lane]
            workers.append(
                Worker("report-read-ahead-\(lane)") { [self] in
                    defer { own.value.close() }
                    try self.run(mine, lane: lane, of: lanes, request: request, after: measured, on: own.value)
                })
        }
    }

    private func run(
        _ readers: [TableReader], lane: Int, of lanes: Int, request: AuditReport.Request, after measured: Gate,
        on connection: Connection
    ) throws {
        var pending = readers.map { queues[$0.template.sheet]! }
        do {
            try measured.wait()
            try AuditReport.beginReading(on: connection)
            if lane == 0 {
                if lanes > 1 {
                    try snapshot.put(try connection.query("SELECT pg_export_snapshot() AS id").first!.decode("id"))
                }
                read = try SummaryContext.figures(of: request, on: connection)
            } else {
                guard let id = try snapshot.take() else { throw BallastError.invalidInput("no snapshot to read") }
                try connection.execute(
                    Query(unsafeSQL: "SET TRANSACTION SNAPSHOT '\(id.filter { $0.isHexDigit || $0 == "-" })'"))
                imported.open(.success(()))
            }
            for reader in readers {
                try reader.read(on: connection, into: pending[0])
                pending.removeFirst()
            }
            if lane == 0, lanes > 1 { try imported.wait() }
            try connection.execute("COMMIT")
        } catch {
            for queue in pending { queue.fail(error) }
            snapshot.fail(error)
            imported.open(.failure(error))
            throw error
        }
    }

    /// The queue `sheet`'s rows arrive in.
    func queue(for sheet: String) -> BoundedQueue<TableReader.Batch>? { queues[sheet] }

    /// Stops the reading (the workbook failed): every queue fails with `error`.
    func cancel(_ error: any Error) {
        for queue in queues.values { queue.fail(error) }
        snapshot.fail(error)
        imported.open(.failure(error))
    }

    /// Waits for both lanes and returns the Summary's figures; rethrows a lane's failure.
    func figures() throws -> SummaryContext.Figures {
        var failure: (any Error)?
        for worker in workers {
            do { try worker.join() } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
        return read!
    }
}
