import BallastKit
public import Foundation
public import Logging
public import Postgres
import Workbook

/// `ballast bench report`: a large trading history through the whole report
/// path, against the floor of libxlsxwriter writing the same sheet from memory.
///
/// Works in a scratch schema of its own (created, migrated and dropped here),
/// so it never touches the data in the database it is pointed at. With BALLAST_BENCH_KEEP set,
/// the schema and the last repetition's report and floor workbooks are kept (the folder is logged).
public struct ReportBenchmark {
    public struct Result: Sendable {
        public var fills: Int
        public var orders: Int
        public var routes: Int
        public var generateSeconds: Double
        /// One entry per repetition, report and floor alternating (report first).
        public var measureSeconds: [Double]
        public var reportSeconds: [Double]
        /// Of each report, the time libxlsxwriter took to close the workbook (as `floorCloseSeconds`).
        public var reportCloseSeconds: [Double]
        public var floorSeconds: [Double]
        /// Of each floor, the time libxlsxwriter took to close (compress and zip) the workbook.
        public var floorCloseSeconds: [Double]
        public var reportRows: Int
        /// After the first report, before the floor's rows are loaded.
        public var peakResidentBytesAfterReport: Int?
        public var peakResidentBytesAfterFloor: Int?

        /// The fastest report against the fastest floor: interference from the rest of the machine
        /// only ever adds time, so the best of several runs is the least disturbed figure of each.
        public var bestRatio: Double { reportSeconds.min()! / max(floorSeconds.min()!, 1e-9) }
        /// Each repetition's report/floor ratio (the pair run back to back), in run order.
        public var ratios: [Double] { zip(reportSeconds, floorSeconds).map { $0 / max($1, 1e-9) } }
        /// The median of the repetitions' report/floor ratios: each pair meets the same spell of a
        /// busy machine, where the fastest report and the fastest floor may come from different spells.
        public var medianRatio: Double {
            let ratios = ratios.sorted()
            return ratios.count % 2 == 1
                ? ratios[ratios.count / 2] : (ratios[ratios.count / 2 - 1] + ratios[ratios.count / 2]) / 2
        }
    }

    let connection: Connection
    let databaseURL: String
    let templatesFolder: URL
    let logger: Logger

    public init(connection: Connection, databaseURL: String, templatesFolder: URL, logger: Logger) {
        self.connection = connection
        self.databaseURL = databaseURL
        self.templatesFolder = templatesFolder
        self.logger = logger
    }

    /// Runs the benchmark for `fills` fills, writing into a temporary folder: the report (with
    /// `measure` alongside, as in `ballast run`) and the floor, alternately, `repeats` times each,
    /// so that both meet the same spells of a busy machine.
    public func run(
        fills: Int, repeats: Int = 3, measure: @escaping @Sendable (Connection, String, Date, Date) throws -> Void
    ) throws -> Result {
        precondition(repeats > 0)
        let schema = try ScratchSchema("ballast_bench_\(ProcessInfo.processInfo.processIdentifier)", on: connection)
        defer { schema.drop() }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-bench-\(UUID().uuidString)")
        let keep = ProcessInfo.processInfo.environment["BALLAST_BENCH_KEEP"] != nil
        defer {
            if keep {
                logger.info("kept the last report and floor in \(out.path)")
            } else {
                try? FileManager.default.removeItem(at: out)
            }
        }
        let clock = ContinuousClock()

        var t = clock.now
        logger.info("generating \(fills) fills")
        let data = try SyntheticTrading(connection: connection).generate(fills: fills)
        let generateSeconds = (clock.now - t).seconds

        let templates = try ReportTemplates.load(from: templatesFolder)
        var result = Result(
            fills: fills, orders: data.orders, routes: data.routes, generateSeconds: generateSeconds,
            measureSeconds: [], reportSeconds: [], reportCloseSeconds: [], floorSeconds: [], floorCloseSeconds: [],
            reportRows: 0)
        // The floor is the same workbook's cells written by libxlsxwriter alone: every sheet's rows,
        // read into memory before its clock starts (no database, no formats, no CSVs, no charts).
        var sheets: [(name: String, rows: [[CellValue]])] = []
        for repetition in 1...repeats {
            if repetition > 1 {
                // The measure step replaces its rows each time: clear out the dead ones first (untimed),
                // so each repetition starts from what a single run would find.
                try connection.execute(
                    "VACUUM (ANALYZE) order_measures, parent_measures, route_measures, drift_measures")
            }
            t = clock.now
            logger.info("measuring and writing the report (\(repetition) of \(repeats))")
            let measureTime = Unshared(MeasureClock())
            let (runID, from, to) = (data.runID, data.from, data.to)
            let written = try AuditReport(
                connection: connection, databaseURL: databaseURL, templates: templates, logger: logger
            )
            .write(
                .init(
                    runID: data.runID, runDay: "bench-\(repetition)", from: data.from, to: data.to, configHash: nil,
                    outputRoot: out),
                alongside: { connection in
                    let start = ContinuousClock().now
                    try measure(connection, runID, from, to)
                    measureTime.value.seconds = (ContinuousClock().now - start).seconds
                })
            result.reportSeconds.append((clock.now - t).seconds)
            result.reportCloseSeconds.append(written.closeSeconds)
            result.measureSeconds.append(measureTime.value.seconds)
            result.reportRows = written.totalRows
            if !keep || repetition < repeats { try? FileManager.default.removeItem(at: written.folder) }

            if sheets.isEmpty {
                result.peakResidentBytesAfterReport = ProcessStats.peakResidentBytes()
                logger.info("loading every sheet's rows into memory for the floor")
                for template in templates.tables {
                    sheets.append(
                        (
                            template.sheet,
                            try Self.load(
                                template, connection: connection, runID: data.runID, from: data.from, to: data.to)
                        ))
                }
            }
            let cells = sheets.map { $0.rows.reduce(0) { $0 + $1.count } }.reduce(0, +)
            let rows = sheets.map(\.rows.count).reduce(0, +)
            logger.info(
                "measuring the floor (\(repetition) of \(repeats)): libxlsxwriter alone, \(rows) rows, \(cells) cells")
            t = clock.now
            result.floorCloseSeconds.append(try Self.floor(sheets, directory: out, logger: logger))
            result.floorSeconds.append((clock.now - t).seconds)
        }
        result.peakResidentBytesAfterFloor = ProcessStats.peakResidentBytes()
        return result
    }

    /// The rows of `template` as cells, read before the floor's clock starts.
    static func load(_ template: ReportTemplate, connection: Connection, runID: String, from: Date, to: Date) throws
        -> [[CellValue]]
    {
        let query = try ReportQuery.bind(
            template.query,
            parameters: ["from": Timestamp.format(from), "to": Timestamp.format(to), "run": runID, "chain": nil],
            source: template.source)
        var rows: [[CellValue]] = []
        var layout: RowLayout?
        try connection.forEachRow(query) { row in
            if layout == nil { layout = try RowLayout(template, columns: row.columns) }
            rows.append(try layout!.cells(row))
        }
        return rows
    }

    /// The floor: the same sheets, rows and columns written to constant-memory sheets by a
    /// plain loop through the Workbook adapter — no database, no formats. Returns the seconds
    /// spent closing (compressing) the workbook.
    static func floor(_ sheets: [(name: String, rows: [[CellValue]])], directory: URL, logger: Logger) throws
        -> Double
    {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let workbook = try Workbook(
            path: directory.appendingPathComponent("floor.xlsx").path,
            options: .init(constantMemory: true, zip64: true, temporaryDirectory: directory.path))
        let clock = ContinuousClock()
        for (name, rows) in sheets {
            let (started, cpu) = (clock.now, ProcessStats.threadCPUSeconds())
            let sheet = try workbook.addSheet(name)
            for (r, row) in rows.enumerated() {
                for (c, cell) in row.enumerated() { try sheet.write(cell, row: r, column: c, style: nil) }
            }
            if rows.count >= 10_000 {
                logger.debug(
                    "floor \(name): \(rows.count) rows in \(clock.now - started), \(ProcessStats.threadCPU(since: cpu)) on the CPU"
                )
            }
        }
        let (closing, cpu) = (clock.now, ProcessStats.threadCPUSeconds())
        try workbook.close()
        logger.debug("floor closed in \(clock.now - closing), \(ProcessStats.threadCPU(since: cpu)) on the CPU")
        return (clock.now - closing).seconds
    }
}

/// Where the measure step's duration is left for the benchmark to print.
final class MeasureClock: @unchecked Sendable {
    // Safe to share: written once by the measure thread before the report joins it.
    var seconds = 0.0
}

extension Optional {
    /// The value, or the error `make` builds.
    func orElse(_ make: () -> any Error) throws -> Wrapped {
        guard let self else { throw make() }
        return self
    }
}
