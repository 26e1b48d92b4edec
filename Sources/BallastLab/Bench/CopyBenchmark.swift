import BallastCore
import BallastKit
import Foundation
public import Logging
public import Postgres

/// `ballast bench copy`: COPY fill-shaped rows into PostgreSQL and stream them out again.
public struct CopyBenchmark {
    /// What one run measured.
    public struct Result: Sendable {
        public var rows: Int
        public var secondsIn: Double
        public var secondsOut: Double
        public var bytesOut: Int
        public var quantitySum: String
        public var expectedQuantitySum: String
        public var peakResidentBytes: Int?
        /// psql's own `\copy` of the same rows (the text COPY TO STDOUT gave back) into a table of
        /// the same shape; nil when psql is not on PATH.
        public var psqlSeconds: Double?

        public var rowsPerSecondIn: Double { Double(rows) / max(secondsIn, 1e-9) }
        public var psqlRowsPerSecond: Double? { psqlSeconds.map { Double(rows) / max($0, 1e-9) } }
        public var rowsPerSecondOut: Double { Double(rows) / max(secondsOut, 1e-9) }
    }

    let connection: Connection
    let logger: Logger

    /// A benchmark over `connection` (it creates and drops a temporary table).
    public init(connection: Connection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Loads `rows` rows with COPY FROM STDIN, checks their exact sum, then
    /// streams them back with COPY TO STDOUT.
    public func run(rows: Int, progress: (String) -> Void) throws -> Result {
        try connection.execute(
            """
            CREATE TEMP TABLE bench_fills (
                venue_id text, account_id text, symbol text, trade_id text, order_id text, side text,
                price numeric, qty numeric, quote_qty numeric, commission numeric, commission_asset text,
                is_maker boolean, executed_at timestamptz
            ) ON COMMIT PRESERVE ROWS
            """)
        defer { _ = try? connection.execute("DROP TABLE IF EXISTS bench_fills") }

        let start = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01
        var expected = ExactDecimal.zero
        let clock = ContinuousClock()
        let inStart = clock.now
        let stored = try connection.copyIn("COPY bench_fills FROM STDIN") { writer in
            for i in 0..<rows {
                let price = ExactDecimal(significand: Int128(4_300_000_000 + (i % 50_000) * 7), scale: 5)
                let qty = ExactDecimal(significand: Int128(1 + i % 997), scale: 8)
                expected += qty
                try writer.field("bench")
                try writer.field("acct-1")
                try writer.field("BTCUSDT")
                try writer.field(i + 1)
                try writer.field(i / 3 + 1)
                try writer.field(i % 2 == 0 ? "buy" : "sell")
                try writer.field(price.description)
                try writer.field(qty.description)
                try writer.field((price * qty).description)
                try writer.field("0.00000100")
                try writer.field("BNB")
                try writer.field(i % 3 == 0 ? "t" : "f")
                try writer.field(start.addingTimeInterval(Double(i) * 0.25))
                try writer.endRow()
                if (i + 1) % 250_000 == 0 { progress("copied in \(i + 1) of \(rows) rows") }
            }
        }
        let secondsIn = (clock.now - inStart).seconds
        guard stored == rows else {
            throw BallastError.internalFailure("COPY stored \(stored) rows, expected \(rows)")
        }
        let sum: ExactDecimal =
            try connection.query("SELECT coalesce(sum(qty), 0) AS total FROM bench_fills").first!.decode("total")

        let outStart = clock.now
        var bytes = 0
        var text: [UInt8] = []
        let streamed = try connection.copyOut("COPY bench_fills TO STDOUT") { line in
            bytes += line.count
            text.append(contentsOf: line)
        }
        let secondsOut = (clock.now - outStart).seconds
        guard streamed == rows else {
            throw BallastError.internalFailure("COPY TO STDOUT returned \(streamed) rows, expected \(rows)")
        }
        progress("loading the same rows with psql's \\copy for comparison")
        let psqlSeconds = try psqlCopy(text, rows: rows)
        return Result(
            rows: rows, secondsIn: secondsIn, secondsOut: secondsOut, bytesOut: bytes,
            quantitySum: sum.description, expectedQuantitySum: expected.description,
            peakResidentBytes: ProcessStats.peakResidentBytes(), psqlSeconds: psqlSeconds)
    }

    /// Times psql's `\copy` of `text` (COPY's text format) into an unlogged table shaped like
    /// `bench_fills` (a temporary table is not visible to psql's session; neither writes WAL).
    private func psqlCopy(_ text: [UInt8], rows: Int) throws -> Double? {
        guard
            let psql = ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":")
                .map({ "\($0)/psql" }).first(where: FileManager.default.isExecutableFile(atPath:))
        else { return nil }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-copy-\(UUID()).txt")
        try Data(text).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let table = "ballast_bench_psql_\(ProcessInfo.processInfo.processIdentifier)"
        try connection.execute(Query(unsafeSQL: "CREATE UNLOGGED TABLE \(table) (LIKE bench_fills)"))
        defer { _ = try? connection.execute(Query(unsafeSQL: "DROP TABLE IF EXISTS \(table)")) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: psql)
        process.arguments = [
            "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-q", "-d", connection.conninfo, "-c",
            "\\copy \(table) FROM '\(file.path)'",
        ]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        let clock = ContinuousClock()
        let started = clock.now
        try process.run()
        process.waitUntilExit()
        let seconds = (clock.now - started).seconds
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw BallastError.internalFailure("psql \\copy failed: \(message)")
        }
        let loaded: Int = try connection.query(Query(unsafeSQL: "SELECT count(*) AS n FROM \(table)")).first!
            .decode("n")
        guard loaded == rows else {
            throw BallastError.internalFailure("psql \\copy loaded \(loaded) rows, expected \(rows)")
        }
        return seconds
    }
}
