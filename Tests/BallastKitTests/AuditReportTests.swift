import BallastKit
import BallastLab
import BallastTesting
import Foundation
import Logging
import Postgres
import Testing

@Suite struct AuditReportTests {
    static var templatesFolder: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("Templates")
    }

    static func outputRoot() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("ballast-report-\(UUID().uuidString)")
    }

    @Test func workbookAndCSVsMatchTheDatabaseAndContinuePastTheRowLimit() throws {
        let url = try TestDatabase.migrated()
        let connection = try TestDatabase.connect(url)
        defer { connection.close() }
        let data = try SyntheticTrading(connection: connection).generate(fills: 2_500, fillsPerOrder: 10)
        // Requests: 40 in the period (one names an order), 5 before it.
        try connection.execute(
            """
            INSERT INTO http_attempts (venue_id, method, endpoint, started_at, outcome, http_status, total_ms,
                                       client_order_id)
            SELECT 'sim-a', 'POST', '/api/v3/order', \(data.from)::timestamptz + (i || ' seconds')::interval, 'ok', 200, 12.3456,
                   CASE WHEN i = 1 THEN (SELECT client_order_id FROM orders ORDER BY id LIMIT 1) END
            FROM generate_series(1, 40) i
            UNION ALL
            SELECT 'sim-a', 'GET', '/api/v3/time', \(data.from)::timestamptz - interval '1 hour', 'ok', 200, 1, NULL
            FROM generate_series(1, 5)
            """)
        // One stored book 1.5 s after the first order's last fill (its fills span 0.45 s, so it lies 1–2 s
        // after each of them), its mid 10 bps above their mean price.
        let firstOrderFills = """
            FROM fills f JOIN orders o ON o.venue_id = f.venue_id AND o.symbol = f.symbol AND o.venue_order_id = f.order_id
            WHERE o.id = (SELECT min(id) FROM orders)
            """
        try connection.execute(
            Query(
                unsafeSQL: """
                    INSERT INTO book_tickers (venue_id, symbol, bid_price, bid_qty, ask_price, ask_qty, observed_at)
                    SELECT min(f.venue_id), min(f.symbol), avg(f.price) * 1.001, 1, avg(f.price) * 1.001, 1,
                           max(f.executed_at) + interval '1.5 seconds'
                    """ + firstOrderFills))
        let markoutMid = try connection.query(
            Query(unsafeSQL: "SELECT (avg(f.price) * 1.001)::float8 AS m " + firstOrderFills))[0]
            .decode("m", as: Double.self)
        let markoutFills = try connection.query(
            Query(unsafeSQL: "SELECT f.price::float8 AS p, f.qty::float8 AS q " + firstOrderFills)
        )
        .map { (try $0.decode("p", as: Double.self), try $0.decode("q", as: Double.self)) }
        try Measure(connection: connection, databaseURL: url, logger: Logger(label: "t")).run(
            runID: data.runID, from: data.from, to: data.to)
        let templates = try ReportTemplates.load(from: Self.templatesFolder)
        let report = AuditReport(
            connection: connection, databaseURL: url, templates: templates, logger: Logger(label: "t"), rowLimit: 1_000)
        let started = ContinuousClock().now
        let result = try report.write(
            .init(
                runID: data.runID, runDay: "2026-01-01", from: data.from, to: data.to, configHash: "abc",
                outputRoot: Self.outputRoot()))
        let elapsed = (ContinuousClock().now - started).seconds
        // The workbook's close (compressing its parts) is timed apart, for the benchmark to print.
        #expect(result.closeSeconds > 0 && result.closeSeconds < elapsed)
        let fills = try #require(result.tables.first { $0.sheet == "Fills" })
        #expect(fills.rows == 2_500)
        #expect(fills.sheets == ["Fills", "Fills (2)", "Fills (3)"])

        let dump = try Openpyxl.inspect(result.folder.appendingPathComponent("audit.xlsx").path, rowLimit: 3)
        #expect(
            dump.sheets.map(\.name) == [
                "Summary", "Definitions", "Routes", "Decisions", "Orders & Attempts", "Worst orders", "Order costs",
                "Parent trades", "Costs by group", "HTTP Attempts", "Slippage distribution", "Slippage vs size",
                "Router calibration",
                "Fills", "Fills (2)", "Fills (3)", "Reconciliation", "Venue health", "Drift",
            ])
        // Every request of the period, and nothing from before it; the one that placed an order names it.
        #expect(dump.sheet("HTTP Attempts")?.maxRow == 41)
        let http = try String(contentsOf: result.folder.appendingPathComponent("http_attempts.csv"), encoding: .utf8)
            .split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(http.count == 41 && http[1][11] == "12.3")
        let firstOrder = try connection.query("SELECT id::text AS id FROM orders ORDER BY id LIMIT 1")[0].decode(
            "id", as: String.self)
        #expect(http[1][17] == firstOrder[...], "\(http[1])")
        // One row per measured order; its costs in quote add up: delay + slippage + fees = total.
        let measured = try connection.query(
            """
            SELECT count(*) AS n,
                   sum(CASE WHEN upper(m.side) = 'BUY' THEN 1 ELSE -1 END * (m.avg_price - m.decision_mid) * m.filled_qty
                       + m.fees_quote)::float8 AS total
            FROM order_measures m JOIN orders o ON o.id = m.order_id
            """)[0]
        #expect(dump.sheet("Order costs")?.maxRow == 1 + (try measured.decode("n", as: Int.self)))
        let costs = try String(contentsOf: result.folder.appendingPathComponent("order_costs.csv"), encoding: .utf8)
            .split(separator: "\r\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        // Markouts: the first order's fills each have a book 1–2 s later, none later on.
        let side = try connection.query("SELECT upper(side) AS side FROM orders ORDER BY id LIMIT 1")[0].decode(
            "side", as: String.self)
        let firstCosts = try #require(costs.first)
        let sign: Double = side == "BUY" ? 1 : -1
        var weighted = 0.0
        var quantity = 0.0
        for (price, qty) in markoutFills {
            weighted += sign * (price - markoutMid) / price * qty
            quantity += qty
        }
        let expectedMarkout = weighted / quantity * 10_000
        #expect(abs(Double(firstCosts[28])! - expectedMarkout) <= 0.006, "\(firstCosts[28]) vs \(expectedMarkout)")
        #expect(firstCosts[29] == "" && firstCosts[30] == "")
        #expect(firstCosts[31].contains("10 of 10 fills: no stored book 10–20 s after"), "\(firstCosts[31])")
        #expect(costs.dropFirst().allSatisfy { $0[28] == "" && $0[31].contains("no") && $0[31].contains("stored") })
        #expect(costs.last?[31] == "no book of this venue and symbol stored after the order was placed")
        // Maker share, straight from the fills (the measure step stores it with each order's totals).
        let makerShares = try connection.query(
            """
            SELECT o.id::text AS id,
                   coalesce(round(coalesce(sum(f.qty) FILTER (WHERE f.is_maker), 0) / nullif(sum(f.qty), 0) * 100, 2)::text, '')
                       AS pct
            FROM orders o JOIN order_measures m ON m.order_id = o.id
            LEFT JOIN fills f ON f.venue_id = o.venue_id AND f.symbol = o.symbol AND f.order_id = o.venue_order_id
            GROUP BY o.id
            """
        ).reduce(into: [String: String]()) { $0[try $1.decode("id")] = try $1.decode("pct", as: String.self) }
        #expect(costs.allSatisfy { makerShares[String($0[0])] == String($0[27]) }, "\(makerShares.prefix(3))")
        #expect(Set(costs.map { String($0[27]) }).count > 1, "the maker share varies across orders")
        #expect(costs.contains { $0[27] == "0.00" }, "an order whose every fill took liquidity shows 0.00, not blank")
        var total = 0.0
        for row in costs {
            let delay = Double(row[17])!
            let slippage = Double(row[19])!
            let fees = Double(row[22])!
            let rowTotal = Double(row[24])!
            #expect(abs(delay + slippage + fees - rowTotal) <= 0.02, "\(row)")
            total += rowTotal
        }
        #expect(abs(total - (try measured.decode("total", as: Double.self))) <= 0.005 * Double(costs.count) + 0.01)
        #expect(dump.sheet("Fills")?.maxRow == 1_001)
        #expect(dump.sheet("Fills (2)")?.maxRow == 1_001)
        #expect(dump.sheet("Fills (3)")?.maxRow == 501)
        let sheet = try #require(dump.sheet("Fills"))
        #expect(sheet.freezePanes == "A2")
        #expect(sheet.autoFilter == "A1:O1001")  // 15 columns, the last Origin
        #expect(sheet.rows[0].map(\.value.string).first == "Executed at (UTC)")
        #expect(sheet.rows[0].allSatisfy { $0.bold })
        // Numbers are numbers with their formats; timestamps are dates.
        let first = sheet.rows[1]
        #expect(first[5].type == "n")
        #expect(first[6].format == "#,##0.00000000_)")
        #expect(first[0].value.string?.hasPrefix("2026-01-01") == true)
        #expect(first[0].format == "yyyy-mm-dd hh:mm:ss.000_)")
        // Maker (TRUE/FALSE) is centred, clear of the trade id beside it; ids are left as text.
        #expect(first[10].type == "b")
        #expect(first[10].align == "center")
        #expect(first[11].align == nil)
        #expect(dump.sheet("Orders & Attempts")?.maxRow == 251)

        // The CSV carries the exact decimals the database holds, in the same order.
        let csv = try String(contentsOf: result.folder.appendingPathComponent("fills.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\r\n", omittingEmptySubsequences: true)
        #expect(lines.count == 2_501)
        let firstFill = try connection.query(
            """
            SELECT price::text AS p, qty::text AS q,
                   to_char(date_trunc('milliseconds', executed_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS t
            FROM fills ORDER BY executed_at, venue_id, trade_id LIMIT 1
            """
        ).first!
        let fields = lines[1].split(separator: ",", omittingEmptySubsequences: false)
        #expect(String(fields[5]) == (try firstFill.decode("p", as: String.self)))
        #expect(String(fields[6]) == (try firstFill.decode("q", as: String.self)))
        // Times to the millisecond, as the sheet shows them (point 7), in every row.
        #expect(String(fields[0]) == (try firstFill.decode("t", as: String.self)))
        #expect(
            lines.dropFirst().allSatisfy {
                $0.prefix(24).wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil
            })

        // Charts sit on the Summary: slippage by route (drift and latency need data this test does not make).
        let charts = dump.sheet("Summary")?.charts ?? []
        #expect(
            charts.contains {
                $0.title == "Arrival slippage by route (bps)" && $0.type == "BarChart" && $0.series >= 1
            },
            "\(charts.map { "\($0.type) \($0.title ?? "-") \($0.series)" })")

        // A chart below its table starts a printed page: LibreOffice cut the slippage histogram across two.
        let distribution = try #require(dump.sheet("Slippage distribution"))
        let histogram = try #require(distribution.charts.first)
        #expect(histogram.anchorRow == distribution.maxRow + 2)
        #expect(distribution.rowBreaks == [distribution.maxRow + 2])

        let summary = try String(contentsOf: result.folder.appendingPathComponent("summary.md"), encoding: .utf8)
        #expect(summary.contains("| Ballast's fills | 2500 |"), "\(summary)")
        #expect(summary.contains("| External and history fills (not Ballast's orders) | 0 |"))
        #expect(summary.contains(data.runID))
        #expect(!FileManager.default.fileExists(atPath: result.folder.path + ".partial"))
    }

    /// A run's period is shown to the millisecond, so its bounds are whole milliseconds: it ends at the
    /// millisecond after the run finished, and the next run's begins there (no gap, no overlap).
    @Test func runPeriodsAreWholeMillisecondsThatMeet() throws {
        let connection = try TestDatabase.connect(try TestDatabase.migrated())
        defer { connection.close() }
        try connection.execute(
            """
            INSERT INTO job_runs (id, command, started_at, finished_at, status) VALUES
              ('r1', 'run', '2026-03-01 09:00:00.250001+00', '2026-03-01 09:00:05.123999+00', 'succeeded'),
              ('r2', 'run', '2026-03-01 10:00:00+00', '2026-03-01 10:00:04.999+00', 'succeeded')
            """)
        let first = try ReportJob.period(ofRun: "r1", connection: connection)
        let second = try ReportJob.period(ofRun: "r2", connection: connection)
        #expect(Timestamp.iso8601Bound(first.from) == "2026-03-01T09:00:00.250Z")
        #expect(Timestamp.iso8601Bound(first.to) == "2026-03-01T09:00:05.124Z")
        #expect(Timestamp.format(second.from) == Timestamp.format(first.to))
        #expect(Timestamp.iso8601Bound(second.to) == "2026-03-01T10:00:05.000Z")
        // A fill at the instant a run finished is inside its period; one a microsecond later is not in it.
        let finished = try #require(Timestamp.parse("2026-03-01 09:00:05.123999+00"))
        #expect(finished < first.to)
        #expect(try #require(Timestamp.parse("2026-03-01 09:00:05.124000+00")) >= first.to)
    }

    /// The headline is Ballast's own trading: fills of orders it placed. Fills pulled from the account's
    /// history (or made by others on it) are counted apart and marked on the Fills sheet.
    @Test func theHeadlineIsBallastsTradingAndExternalFillsAreApart() throws {
        let url = try TestDatabase.migrated()
        let connection = try TestDatabase.connect(url)
        defer { connection.close() }
        let data = try SyntheticTrading(connection: connection).generate(fills: 40, fillsPerOrder: 10)
        // Three fills of an order Ballast never placed, in the same period.
        try connection.execute(
            """
            INSERT INTO fills (venue_id, account_id, symbol, trade_id, order_id, side, price, qty, quote_qty,
                               commission, commission_asset, is_maker, executed_at)
            SELECT venue_id, account_id, symbol, (trade_id::bigint + 900000000)::text, '777777777', side, price, qty * 100,
                   quote_qty * 100, commission, commission_asset, is_maker, executed_at
            FROM fills ORDER BY executed_at LIMIT 3
            """)
        try Measure(connection: connection, databaseURL: url, logger: Logger(label: "t")).run(
            runID: data.runID, from: data.from, to: data.to)
        let report = AuditReport(
            connection: connection, databaseURL: url, templates: try ReportTemplates.load(from: Self.templatesFolder),
            logger: Logger(label: "t"))
        let result = try report.write(
            .init(
                runID: data.runID, runDay: "2026-01-01", from: data.from, to: data.to, configHash: "abc",
                outputRoot: Self.outputRoot()))
        let expected = try connection.query(
            """
            SELECT round(sum(f.quote_qty), 2)::text AS ours FROM fills f
            JOIN orders o ON o.venue_id = f.venue_id AND o.symbol = f.symbol AND o.venue_order_id = f.order_id
            """
        ).first!.decode("ours", as: String.self)
        let external = try connection.query(
            "SELECT round(sum(quote_qty), 2)::text AS n FROM fills WHERE order_id = '777777777'"
        ).first!.decode("n", as: String.self)
        let summary = try String(contentsOf: result.folder.appendingPathComponent("summary.md"), encoding: .utf8)
        #expect(summary.contains("| Ballast's fills | 40 |"), "\(summary)")
        #expect(summary.contains("| Ballast's filled notional (quote) | \(expected) |"))
        #expect(summary.contains("| External and history fills (not Ballast's orders) | 3 |"))
        #expect(summary.contains("| Their notional (quote) | \(external) |"))
        let dump = try Openpyxl.inspect(result.folder.appendingPathComponent("audit.xlsx").path)
        let fills = try #require(dump.sheet("Fills"))
        let origin = try #require(fills.rows[0].firstIndex { $0.value.string == "Origin" })
        let origins = fills.rows.dropFirst().map { $0[origin].value.string }
        #expect(origins.filter { $0 == "external" }.count == 3)
        #expect(origins.filter { $0 == "ballast" }.count == 40)
        let headline = try #require(dump.sheet("Summary")).rows.first { $0.first?.value.string == "Ballast's fills" }
        #expect(headline?[1].value.number == 40)
    }

    @Test func anEmptyPeriodGivesAValidReportThatSaysSo() throws {
        let url = try TestDatabase.migrated()
        let connection = try TestDatabase.connect(url)
        defer { connection.close() }
        let result = try ReportJob.run(
            scope: .period(from: Date(timeIntervalSince1970: 0), to: Date(timeIntervalSince1970: 86_400)),
            connection: connection, databaseURL: url, templatesFolder: Self.templatesFolder,
            outputRoot: Self.outputRoot(),
            logger: Logger(label: "t"))
        // Nothing but the definitions.
        #expect(result.tables.filter { $0.sheet != "Definitions" }.map(\.rows).reduce(0, +) == 0)
        let dump = try Openpyxl.inspect(result.folder.appendingPathComponent("audit.xlsx").path)
        #expect(dump.sheet("Fills")?.rows[1].first?.value.string == "No rows in this period.")
        let summary = try #require(dump.sheet("Summary"))
        #expect(summary.rows.contains { $0.first?.value.string?.hasPrefix("No orders or fills") == true })
        let markdown = try String(contentsOf: result.folder.appendingPathComponent("summary.md"), encoding: .utf8)
        #expect(markdown.contains("Nothing traded in this period."))
    }

    @Test func anInvalidTemplateIsRejectedNamingFileAndField() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-tpl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("audit"), withIntermediateDirectories: true)
        try "x".write(to: folder.appendingPathComponent("summary.md.mustache"), atomically: true, encoding: .utf8)
        let cases: [(String, String)] = [
            (
                "sheet = \"S\"\nquery = \"SELECT 1 AS a\"\n[[columns]]\nfield = \"a\"\ntype = \"money\"",
                "unknown column type 'money'"
            ),
            (
                "sheet = \"S\"\nquery = \"SELECT 1 AS a\"\n[[columns]]\nfield = \"a\"\nwidth = \"wide\"",
                "columns[0].width"
            ),
            ("sheet = \"S/x\"\nquery = \"SELECT 1 AS a\"\n[[columns]]\nfield = \"a\"", "field sheet"),
            ("sheet = \"S\"\nquery = \"SELECT :when AS a\"\n[[columns]]\nfield = \"a\"", "unknown parameter ':when'"),
            ("sheet = \"S\"\nquery = \"SELECT 1 AS a\"\ncolumns = []", "at least one column"),
            (
                "sheet = \"S\"\nquery = \"SELECT 1 AS a\"\n[[columns]]\nfield = \"a\"\nwdith = 3",
                "unknown setting 'wdith'"
            ),
        ]
        for (text, expected) in cases {
            let file = folder.appendingPathComponent("audit/bad.toml")
            try text.write(to: file, atomically: true, encoding: .utf8)
            let error = #expect(throws: BallastError.self) { try ReportTemplates.load(from: folder) }
            #expect(error?.description.contains("bad.toml") == true, "\(error?.description ?? "")")
            #expect(error?.description.contains(expected) == true, "\(error?.description ?? "") ≠ \(expected)")
        }
        // Links: to a sheet no template makes, by a field the target does not anchor, in a cycle.
        let linking = "sheet = \"S\"\nquery = \"SELECT 1 AS a\"\nanchors = [\"a\"]\n[[columns]]\nfield = \"a\"\n"
        try (linking + "link = { sheet = \"T\", anchor = \"a\" }").write(
            to: folder.appendingPathComponent("audit/bad.toml"), atomically: true, encoding: .utf8)
        let missing = #expect(throws: BallastError.self) { try ReportTemplates.load(from: folder) }
        #expect(missing?.description.contains("links to sheet 'T', which no template makes") == true)
        try "sheet = \"T\"\nquery = \"SELECT 1 AS a\"\n[[columns]]\nfield = \"a\"\n".write(
            to: folder.appendingPathComponent("audit/other.toml"), atomically: true, encoding: .utf8)
        let unanchored = #expect(throws: BallastError.self) { try ReportTemplates.load(from: folder) }
        #expect(unanchored?.description.contains("does not list in its anchors") == true)
        try
            "sheet = \"T\"\nquery = \"SELECT 1 AS a\"\nanchors = [\"a\"]\n[[columns]]\nfield = \"a\"\nlink = { sheet = \"S\", anchor = \"a\" }\n"
            .write(to: folder.appendingPathComponent("audit/other.toml"), atomically: true, encoding: .utf8)
        let cycle = #expect(throws: BallastError.self) { try ReportTemplates.load(from: folder) }
        #expect(cycle?.description.contains("link in a cycle: S → T → S") == true, "\(cycle?.description ?? "")")
        try FileManager.default.removeItem(at: folder.appendingPathComponent("audit/other.toml"))

        // A field the query does not return is caught when the report runs, even with no rows.
        try "sheet = \"S\"\nquery = \"SELECT 1 AS a WHERE false\"\n[[columns]]\nfield = \"b\"".write(
            to: folder.appendingPathComponent("audit/bad.toml"), atomically: true, encoding: .utf8)
        let url = try TestDatabase.migrated()
        let connection = try TestDatabase.connect(url)
        defer { connection.close() }
        let error = #expect(throws: BallastError.self) {
            try ReportJob.run(
                scope: .period(from: Date(timeIntervalSince1970: 0), to: Date()), connection: connection,
                databaseURL: url, templatesFolder: folder, outputRoot: Self.outputRoot(), logger: Logger(label: "t"))
        }
        #expect(error?.description.contains("column field 'b' is not returned by the query") == true)
    }

    /// Tables that wait for the measure step are read ahead on two lanes. A table that fails there
    /// stops the report with its template named, whether the workbook reaches it before or after a
    /// large table the other lane is holding (which must then be let go, not left blocked), and
    /// nothing is left under the output folder.
    @Test func aTableReadAheadThatFailsStopsTheReportNamingItsTemplate() throws {
        let url = try TestDatabase.migrated()
        let connection = try TestDatabase.connect(url)
        defer { connection.close() }
        // 20,000 rows: more than a lane's queue holds, so its lane waits on the workbook.
        let large =
            "query = \"SELECT g AS a FROM generate_series(1, 20000) g\"\n[[columns]]\nfield = \"a\"\ntype = \"integer\""
        let failing =
            "query = \"SELECT 1 / (count(*) - count(*)) AS a FROM fills\"\n[[columns]]\nfield = \"a\"\ntype = \"integer\""
        for (first, second, broken) in [(large, failing, "b.toml"), (failing, large, "a.toml")] {
            let folder = try Self.templates([
                "now.toml": "sheet = \"Now\"\nposition = 1\nquery = \"SELECT 1 AS a\"\n[[columns]]\nfield = \"a\"",
                "a.toml": "sheet = \"A\"\nposition = 2\nafter_measure = true\ncsv = \"a.csv\"\n\(first)",
                "b.toml": "sheet = \"B\"\nposition = 3\nafter_measure = true\ncsv = \"b.csv\"\n\(second)",
            ])
            defer { try? FileManager.default.removeItem(at: folder) }
            let (error, left) = Self.failingReport(url: url, connection: connection, templates: folder, measure: true)
            #expect(error.contains(broken), "\(error)")
            #expect(error.contains("division by zero"), "\(error)")
            #expect(left.allSatisfy { !$0.hasSuffix(".xlsx") && !$0.hasSuffix(".csv") }, "\(left)")
        }
    }

    @Test func aValueNotOfItsColumnsTypeStopsTheReportNamingTemplateFieldAndValue() throws {
        let url = try TestDatabase.migrated()
        let connection = try TestDatabase.connect(url)
        defer { connection.close() }
        // Row 5,000 of 10,000 holds text in a decimal column: rows and CSV bytes are already written by then.
        let folder = try Self.templates([
            "amounts.toml": """
            sheet = "Amounts"
            position = 1
            csv = "amounts.csv"
            query = "SELECT g AS n, CASE WHEN g = 5000 THEN '12.5 USDT' ELSE g::text END AS amount FROM generate_series(1, 10000) g"
            [[columns]]
            field = "n"
            type = "integer"
            [[columns]]
            field = "amount"
            type = "decimal"
            """
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let (error, left) = Self.failingReport(url: url, connection: connection, templates: folder, measure: false)
        #expect(error.contains("amounts.toml"), "\(error)")
        #expect(error.contains("'amount' is typed decimal"), "\(error)")
        #expect(error.contains("'12.5 USDT'"), "\(error)")
        #expect(left.allSatisfy { !$0.hasSuffix(".xlsx") && !$0.contains(".csv") }, "\(left)")
    }

    /// A templates folder holding `audit/<name>` for each file given, and a summary template.
    static func templates(_ files: [String: String]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-tpl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("audit"), withIntermediateDirectories: true)
        try "x".write(to: folder.appendingPathComponent("summary.md.mustache"), atomically: true, encoding: .utf8)
        for (name, text) in files {
            try text.write(to: folder.appendingPathComponent("audit/\(name)"), atomically: true, encoding: .utf8)
        }
        return folder
    }

    /// Runs a report over all time that must fail: its error's text ("" when it did not fail) and
    /// the files left under its output folder.
    static func failingReport(url: String, connection: Connection, templates: URL, measure: Bool) -> (
        error: String, left: [String]
    ) {
        let output = outputRoot()
        let error = #expect(throws: BallastError.self) {
            try ReportJob.run(
                scope: .period(from: Date(timeIntervalSince1970: 0), to: Date()), connection: connection,
                databaseURL: url, templatesFolder: templates, outputRoot: output, logger: Logger(label: "t"),
                measure: measure)
        }
        let left = FileManager.default.enumerator(atPath: output.path)?.allObjects as? [String] ?? []
        return (error?.description ?? "", left)
    }

    @Test func outsideTextIsNeutralisedInCSVs() throws {
        let url = try TestDatabase.migrated()
        let connection = try TestDatabase.connect(url)
        defer { connection.close() }
        try connection.execute(
            """
            INSERT INTO reconciliation_breaks (kind, venue_id, asset, expected, actual, difference, evidence)
            VALUES ('balance', '=cmd|calc', '@SUM(1)', 1.5, 1.25, -0.25, '{"note": "+1"}')
            """)
        let result = try ReportJob.run(
            scope: .period(from: Date().addingTimeInterval(-60), to: Date().addingTimeInterval(60)),
            connection: connection, databaseURL: url,
            templatesFolder: Self.templatesFolder, outputRoot: Self.outputRoot(), logger: Logger(label: "t"))
        let csv = try String(contentsOf: result.folder.appendingPathComponent("reconciliation.csv"), encoding: .utf8)
        let row = csv.split(separator: "\r\n")[1]
        #expect(row.contains(",'=cmd|calc,"))
        #expect(row.contains(",'@SUM(1),"))
        #expect(row.contains(",-0.25,"), "numbers are not neutralised: \(row)")
    }
}
