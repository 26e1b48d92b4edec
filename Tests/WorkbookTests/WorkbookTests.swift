import BallastTesting
import Foundation
import Testing
import Workbook

@Suite struct WorkbookTests {
    static func temporaryPath(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-wb-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    @Test func formatsFormulasAndChartsReadBackInOpenpyxl() throws {
        let path = Self.temporaryPath("sample.xlsx")
        let workbook = try Workbook(path: path)
        let header = CellFormat(bold: true, background: 0xDCE6F1, bottomBorder: true)
        let bps = CellFormat(numberFormat: "0.00\" bps\"")
        let amount = CellFormat(numberFormat: "#,##0.00000000")
        let percent = CellFormat(numberFormat: "0.00%")
        let when = CellFormat(numberFormat: "yyyy-mm-dd hh:mm:ss")

        let routes = try workbook.addSheet("Routes")
        try routes.writeRow(
            [.string("Route"), .string("Slippage"), .string("Filled"), .string("Fill ratio"), .string("First fill")],
            row: 0, formats: Array(repeating: header, count: 5))
        let data: [(String, Double, Double, Double)] = [
            ("sim-a BTCUSDT passive", 1.25, 0.5, 0.98), ("sim-b BTCUSDT marketable-limit", 4.5, 1.25, 1.0),
            ("sim-c ETHUSDT chase", -0.75, 10.125, 0.87),
        ]
        let firstFill = Date(timeIntervalSince1970: 1_764_051_420)  // 2025-11-25 06:17:00 UTC
        for (i, (route, slip, filled, ratio)) in data.enumerated() {
            try routes.writeRow(
                [.string(route), .number(slip), .number(filled), .number(ratio), .date(firstFill)],
                row: i + 1, formats: [nil, bps, amount, percent, when])
        }
        try routes.write(.string("Total"), row: 4, column: 0, format: header)
        try routes.write(.formula("=SUM(C2:C4)", cached: 11.875), row: 4, column: 2, format: amount)
        try routes.setColumns(0, 0, width: 34)
        try routes.setColumns(4, 4, width: 20)
        routes.freezePanes(row: 1)
        try routes.autofilter(firstRow: 0, firstColumn: 0, lastRow: 3, lastColumn: 4)
        let chart = Chart(
            kind: .bar, title: "Slippage by route",
            series: [
                Chart.Series(
                    name: "bps",
                    categories: CellRange(sheet: "Routes", firstRow: 1, firstColumn: 0, lastRow: 3, lastColumn: 0),
                    values: CellRange(sheet: "Routes", firstRow: 1, firstColumn: 1, lastRow: 3, lastColumn: 1))
            ],
            xAxisTitle: "bps")
        try workbook.insertChart(chart, on: routes, row: 6, column: 0)
        let summary = try workbook.addSheet("Orders & Attempts")
        try summary.write(.string("x"), row: 0, column: 0)
        try summary.write(.bool(true), row: 0, column: 1)
        try workbook.close()

        let dump = try Openpyxl.inspect(path)
        #expect(dump.sheets.map(\.name) == ["Routes", "Orders & Attempts"])
        let sheet = try #require(dump.sheet("Routes"))
        #expect(sheet.freezePanes == "A2")
        #expect(sheet.autoFilter == "A1:E4")
        #expect(sheet.rows[0].map(\.value.string) == ["Route", "Slippage", "Filled", "Fill ratio", "First fill"])
        #expect(sheet.rows[0].allSatisfy { $0.bold })
        #expect(sheet.rows[1][1].type == "n")
        #expect(sheet.rows[1][1].value.number == 1.25)
        #expect(sheet.rows[1][1].format == "0.00\" bps\"")
        #expect(sheet.rows[2][2].format == "#,##0.00000000")
        #expect(sheet.rows[3][3].format == "0.00%")
        #expect(sheet.rows[1][4].format == "yyyy-mm-dd hh:mm:ss")
        #expect(sheet.rows[1][4].value.string?.hasPrefix("2025-11-25") == true)
        // The formula keeps its text and its cached result.
        #expect(sheet.rows[4][2].formula == "=SUM(C2:C4)")
        #expect(sheet.rows[4][2].value.number == 11.875)
        #expect(sheet.charts.count == 1)
        #expect(sheet.charts.first?.type == "BarChart")
        #expect(sheet.charts.first?.title == "Slippage by route")
        #expect(sheet.charts.first?.series == 1)
        #expect(sheet.columnWidths["A"].map { $0 > 30 } == true)
    }

    @Test func constantMemoryModeWritesLargeSheetsInOrder() throws {
        let path = Self.temporaryPath("big.xlsx")
        let workbook = try Workbook(path: path, options: .init(constantMemory: true))
        let sheet = try workbook.addSheet("Fills")
        try sheet.writeRow([.string("id"), .string("qty")], row: 0)
        for i in 1...20_000 {
            try sheet.writeRow([.number(Double(i)), .number(Double(i) / 8)], row: i)
        }
        try workbook.close()
        let dump = try Openpyxl.inspect(path, rowLimit: 3)
        #expect(dump.sheets[0].maxRow == 20_001)
        #expect(dump.sheets[0].rows[2][1].value.number == 0.25)
    }

    /// A text longer than a cell may hold is cut with a mark, not refused (which would fail the whole report).
    @Test func aTextLongerThanACellIsCutWithAMark() throws {
        let path = Self.temporaryPath("long.xlsx")
        let workbook = try Workbook(path: path, options: .init(constantMemory: true))
        let sheet = try workbook.addSheet("Decisions")
        let long = String(repeating: "σ0123456789", count: 4_000)  // 44,000 characters
        try sheet.writeRow([.string(long), .string("next")], row: 0)
        try workbook.close()
        let cell = try #require(try Openpyxl.inspect(path, rowLimit: 1).sheets[0].rows[0][0].value.string)
        #expect(cell.count == Sheet.maxCellCharacters)
        #expect(cell.hasSuffix(Sheet.truncationMark) && cell.hasPrefix("σ0123456789σ"))
    }

    @Test func badRequestsAreErrorsNotCrashes() throws {
        let path = Self.temporaryPath("bad.xlsx")
        let workbook = try Workbook(path: path)
        #expect(throws: WorkbookError.self) { try workbook.addSheet("bad/name") }
        #expect(throws: WorkbookError.self) { try workbook.addSheet(String(repeating: "x", count: 32)) }
        let sheet = try workbook.addSheet("Ok")
        #expect(throws: WorkbookError.self) { try workbook.addSheet("OK") }
        #expect(throws: WorkbookError.self) { try sheet.write(.number(1), row: Workbook.maxRows, column: 0) }
        try workbook.close()
        // Closing into a folder that does not exist is thrown, not fatal.
        let missing = try Workbook(path: "/nonexistent-\(UUID().uuidString)/x.xlsx")
        _ = try missing.addSheet("S")
        #expect(throws: WorkbookError.self) { try missing.close() }
    }
}
