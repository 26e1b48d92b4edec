import Postgres
import Workbook

/// Streams one template's rows into its worksheet (continuing on "Name (2)",
/// "Name (3)" … past Excel's row limit) and its CSV.
final class SheetStream {
    let template: ReportTemplate
    private let workbook: Workbook
    private let csv: CSVWriter?
    private let formats: ReportFormats
    private var sheet: Sheet
    /// Every sheet this table used, with its data row count.
    private(set) var sheets: [(name: String, rows: Int)] = []
    /// The first worksheet (charts of the table go there).
    let firstSheetObject: Sheet
    private var rowInSheet = 0
    /// Data rows written in all.
    private(set) var rows = 0
    private let rowLimit: Int

    /// Starts the table's first sheet and CSV.
    init(template: ReportTemplate, workbook: Workbook, csvPath: String?, formats: ReportFormats, rowLimit: Int) throws {
        self.template = template
        self.workbook = workbook
        self.formats = formats
        self.rowLimit = rowLimit
        self.csv = try csvPath.map { try CSVWriter(path: $0) }
        self.sheet = try workbook.addSheet(template.sheet)
        self.firstSheetObject = sheet
        try csv?.writeHeader(template.columns.map(\.header))
        try startSheet(sheet)
    }

    private func startSheet(_ sheet: Sheet) throws {
        self.sheet = sheet
        sheets.append((sheet.name, 0))
        rowInSheet = 0
        for (i, column) in template.columns.enumerated() {
            try sheet.write(.string(column.header), row: 0, column: i, format: formats.header)
            try sheet.setColumns(i, i, width: column.width ?? ReportFormats.defaultWidth(column.type))
        }
        sheet.freezePanes(row: 1)
    }

    /// Appends one result row: typed cells in the sheet, exact text in the CSV.
    func append(_ row: Row, positions: [Int]) throws {
        if rowInSheet == rowLimit {
            try finishSheet()
            try startSheet(try workbook.addSheet("\(template.sheet) (\(sheets.count + 1))"))
        }
        rowInSheet += 1
        rows += 1
        sheets[sheets.count - 1].rows = rowInSheet
        var fields: [CSVField] = []
        fields.reserveCapacity(template.columns.count)
        for (i, column) in template.columns.enumerated() {
            let text = row.text(at: positions[i])
            let (cell, field) = try ReportCell.convert(text, column.type, source: template.source, field: column.field)
            try sheet.write(cell, row: rowInSheet, column: i, format: formats.format(for: column))
            fields.append(field)
        }
        try csv?.writeRow(fields)
    }

    /// Adds the autofilter over the current sheet's rows.
    func finishSheet() throws {
        try sheet.autofilter(
            firstRow: 0, firstColumn: 0, lastRow: max(rowInSheet, 1), lastColumn: template.columns.count - 1)
    }

    /// Finishes the last sheet and the CSV.
    func finish() throws {
        if rows == 0 {
            try sheet.write(.string("No rows in this period."), row: 1, column: 0, format: formats.note)
        }
        try finishSheet()
        try csv?.close()
    }

    /// Drops the partial CSV after a failure.
    func discard() { csv?.discard() }

    /// The worksheet a chart of this table should draw from (the first).
    var firstSheet: (name: String, rows: Int) { sheets[0] }
}
