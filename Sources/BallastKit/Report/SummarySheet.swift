import Foundation
import Workbook

/// The Summary sheet: provenance, row counts, totals, and the charts templates
/// place on it (drawn from their own sheets' rows).
struct SummarySheet {
    let sheet: Sheet
    let workbook: Workbook
    let formats: ReportFormats

    func write(context: [String: Any], tables: [(ReportTemplate, (name: String, rows: Int))]) throws {
        var row = 0
        try sheet.setColumns(0, 0, width: 28)
        try sheet.setColumns(1, 1, width: 60)
        try sheet.write(.string("Ballast audit report"), row: row, column: 0, format: formats.title)
        row += 2
        let provenance: [(String, String)] = [
            ("Run id", "run_id"), ("Period from (UTC)", "from"), ("Period to (UTC)", "to"),
            ("Generated at (UTC)", "generated_at"), ("Configuration hash", "config_hash"), ("Decision chain", "chain"),
            ("Ballast version", "version"),
        ]
        for (label, key) in provenance {
            try sheet.write(.string(label), row: row, column: 0, format: formats.label)
            // Long values (the chain's head, the configuration hash) wrap within the column, so the
            // page prints at a readable size instead of shrinking to fit one long line.
            let text = "\(context[key] ?? "")"
            try sheet.write(.string(text), row: row, column: 1, format: CellFormat(wrap: true))
            let lines = (Double(text.count) / 60).rounded(.up)
            if lines > 1 { try sheet.setRow(row, height: 15 * lines, format: nil) }
            row += 1
        }
        if context["empty"] as? Bool == true {
            row += 1
            try sheet.write(
                .string("No orders or fills in this period: every sheet below is empty by design."), row: row,
                column: 0, format: formats.note)
            row += 1
        }
        row += 1
        try sheet.write(.string("Totals"), row: row, column: 0, format: formats.title)
        row += 1
        let totals: [(String, String, Bool)] = [
            ("Ballast's fills", "ballast_fills", false),
            ("Ballast's filled notional (quote)", "ballast_notional", true),
            ("Ballast's fees (quote)", "ballast_fees", true),
            ("External and history fills", "external_fills", false),
            ("External notional (quote)", "external_notional", true),
            ("Orders", "orders", false),
            ("Batches", "batches", false), ("Decisions", "decisions", false),
            ("Reconciliation breaks", "breaks", false), ("Venue requests", "requests", false),
        ]
        for (label, key, decimal) in totals {
            try sheet.write(.string(label), row: row, column: 0, format: formats.label)
            let text = "\(context[key] ?? 0)"
            try sheet.write(
                .number(Double(text) ?? 0), row: row, column: 1,
                format: CellFormat(numberFormat: decimal ? "#,##0.00" : "#,##0"))
            row += 1
        }
        row += 1
        try sheet.write(.string("Sheets"), row: row, column: 0, format: formats.title)
        row += 1
        for (template, first) in tables {
            // Each sheet's name links to it.
            try sheet.link(row: row, column: 0, toSheet: first.name, row: 0)
            try sheet.write(.string(template.sheet), row: row, column: 0, format: formats.label.asLink)
            let total = (context["tables"] as? [[String: Any]])?.first { $0["sheet"] as? String == template.sheet }
            try sheet.write(
                .number(Double(total?["rows"] as? Int ?? first.rows)), row: row, column: 1,
                format: CellFormat(numberFormat: "#,##0\" rows\""))
            row += 1
        }
        try placeCharts(tables, startingAt: row + 1)
        sheet.freezePanes(row: 1)
    }

    /// Charts whose template asks for the Summary go here, side by side below the tables.
    private func placeCharts(_ tables: [(ReportTemplate, (name: String, rows: Int))], startingAt row: Int) throws {
        var column = 0
        var chartRow = row
        for (template, first) in tables {
            guard let spec = template.chart, first.rows > 0 else { continue }
            let chart = Self.chart(spec, template: template, sheet: first.name, rows: first.rows)
            if spec.placement == "Summary" {
                try workbook.insertChart(chart, on: sheet, row: chartRow, column: column)
                column += 4
                if column >= 8 {
                    column = 0
                    chartRow += 18
                }
            }
        }
    }

    /// A chart of `template`'s first sheet rows (categories and values by field).
    static func chart(_ spec: ReportTemplate.ChartSpec, template: ReportTemplate, sheet: String, rows: Int) -> Chart {
        let columns = template.columns.map(\.field)
        let categoryColumn = columns.firstIndex(of: spec.categories)!
        // A line follows a series over time and a scatter shows every point (every row); bars
        // compare the first 50.
        let chartRows = spec.kind == "line" || spec.kind == "scatter" ? min(rows, 100_000) : min(rows, 50)
        let series = spec.values.map { field -> Chart.Series in
            let column = columns.firstIndex(of: field)!
            return Chart.Series(
                name: template.columns[column].header,
                categories: CellRange(
                    sheet: sheet, firstRow: 1, firstColumn: categoryColumn, lastRow: chartRows,
                    lastColumn: categoryColumn),
                values: CellRange(
                    sheet: sheet, firstRow: 1, firstColumn: column, lastRow: chartRows, lastColumn: column))
        }
        // A bar chart lies on its side: its categories run up the vertical axis, which
        // libxlsxwriter still calls y, and its values along the horizontal one.
        let sideways = spec.kind == "bar"
        // The value axis shows numbers as the sheet does (a percent column as %, not a fraction).
        let valueFormat = spec.values.first.flatMap { field in
            template.columns.first { $0.field == field }?.numberFormat
        }
        return Chart(
            kind: Chart.Kind(rawValue: spec.kind) ?? .bar, title: spec.title, series: series,
            xAxisTitle: sideways ? spec.yTitle : spec.xTitle, yAxisTitle: sideways ? spec.xTitle : spec.yTitle,
            valueFormat: valueFormat)
    }
}
