import Foundation
import Logging
import Postgres

#if canImport(Glibc)
    import Glibc
#endif

/// Writes the report's CSVs on a thread and a connection of their own, reading
/// the same snapshot as the workbook. The thread runs at a lower priority, so
/// it takes the CPU the workbook leaves idle (notably while the workbook is
/// compressed at close) rather than slowing it down.
final class CSVExport: @unchecked Sendable {
    // Safe to share: `cancelled` is guarded by `lock`; everything else is
    // touched only by the export thread until `join()` returns.
    private let lock = NSLock()
    private var cancelled = false
    private var worker: Worker?
    /// Whether each CSV starts with a UTF-8 byte-order mark (set before the worker starts).
    private var byteOrderMark = true

    /// Starts exporting `templates` (those with a `csv`) into `folder`: first
    /// those read from the shared snapshot, then — once `measured` opens, in a
    /// fresh transaction — those that read the measure step's results.
    static func start(
        templates: [ReportTemplate], deferred: [ReportTemplate], measured: Gate?, parameters: [String: String?],
        folder: URL, databaseURL: String, snapshot: String, searchPath: String, byteOrderMark: Bool = true,
        logger: Logger
    ) throws -> CSVExport {
        let export = CSVExport()
        export.byteOrderMark = byteOrderMark
        let connection = try Connection(conninfo: databaseURL, logger: logger)
        do {
            try connection.execute("SELECT set_config('search_path', \(searchPath), false)")
            try connection.execute("SET work_mem = '64MB'")
            try connection.execute("SET jit = off")  // one run per query: compiling costs more than it saves
            try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try connection.execute(
                Query(unsafeSQL: "SET TRANSACTION SNAPSHOT '\(snapshot.filter { $0.isHexDigit || $0 == "-" })'"))
        } catch {
            connection.close()
            throw error
        }
        let owned = Unshared(connection)
        export.worker = Worker("report-csv") {
            // On Linux the nice value is per thread: 0 means this thread alone.
            setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
            defer { owned.value.close() }
            for template in templates {
                guard let name = template.csv else { continue }
                try export.write(
                    template, to: folder.appendingPathComponent(name).path, parameters: parameters,
                    connection: owned.value)
            }
            try owned.value.execute("COMMIT")
            guard !deferred.isEmpty else { return }
            try measured?.wait()
            for template in deferred {
                guard let name = template.csv else { continue }
                try export.write(
                    template, to: folder.appendingPathComponent(name).path, parameters: parameters,
                    connection: owned.value)
            }
        }
        return export
    }

    /// Asks the export to stop at the next row.
    func cancel() { lock.withLock { cancelled = true } }

    /// Waits for the export; rethrows its failure.
    func join() throws { try worker?.join() }

    private var isCancelled: Bool { lock.withLock { cancelled } }

    private struct Cancelled: Error {}

    private func write(
        _ template: ReportTemplate, to path: String, parameters: [String: String?], connection: Connection
    )
        throws
    {
        let query = try ReportQuery.bind(template.query, parameters: parameters, source: template.source)
        let writer = try CSVWriter(path: path, byteOrderMark: byteOrderMark)
        do {
            try writer.writeHeader(template.columns.map(\.header))
            var positions: [Int]?
            try connection.forEachRow(query, fetchSize: 4096) { row in
                if positions == nil { positions = try AuditReport.positions(of: template, in: row.columns) }
                if writer.rows % 4096 == 0, isCancelled { throw Cancelled() }
                try writer.writeRow(try SheetStream.convert(row, template: template, positions: positions!).1)
            }
            try writer.close()
        } catch {
            writer.discard()
            throw error
        }
    }
}
