internal import CXlsxWriter
public import Foundation

/// A value for one cell.
public enum CellValue: Sendable, Equatable {
    /// A number (xlsx stores IEEE doubles; write exact decimals through `Double(decimalString)`).
    case number(Double)
    /// Text.
    case string(String)
    /// A timestamp, stored as an Excel serial date in UTC.
    case date(Date)
    /// TRUE or FALSE.
    case bool(Bool)
    /// A formula with the value it evaluates to, shown by readers that do not recalculate.
    case formula(String, cached: Double)
    /// An empty cell (useful to carry a format).
    case blank
}

/// One worksheet of a `Workbook`.
public final class Sheet {
    /// The sheet's name.
    public let name: String
    let pointer: UnsafeMutablePointer<lxw_worksheet>
    private unowned let workbook: Workbook

    init(name: String, pointer: UnsafeMutablePointer<lxw_worksheet>, workbook: Workbook) {
        self.name = name
        self.pointer = pointer
        self.workbook = workbook
    }

    /// Writes `value` at zero-based (`row`, `column`).
    public func write(_ value: CellValue, row: Int, column: Int, format: CellFormat? = nil) throws(WorkbookError) {
        try write(value, row: row, column: column, style: try workbook.style(format))
    }

    /// Writes `value` with a style resolved once by `Workbook.style(_:)` (the fast path for large sheets).
    public func write(_ value: CellValue, row: Int, column: Int, style: CellStyle?) throws(WorkbookError) {
        guard row >= 0, row < Workbook.maxRows, column >= 0, column < Workbook.maxColumns else {
            throw WorkbookError(code: 0, message: "cell (\(row), \(column)) is outside a sheet on '\(name)'")
        }
        let f = style?.pointer
        let r = UInt32(row)
        let c = UInt16(column)
        let result: lxw_error
        switch value {
        case .number(let number):
            result =
                number.isFinite
                ? worksheet_write_number(pointer, r, c, number, f) : worksheet_write_blank(pointer, r, c, f)
        case .string(let text):
            result =
                text.isEmpty
                ? worksheet_write_blank(pointer, r, c, f) : worksheet_write_string(pointer, r, c, Self.fitted(text), f)
        case .date(let date):
            result = worksheet_write_number(pointer, r, c, Self.excelSerial(date), f)
        case .bool(let flag):
            result = worksheet_write_boolean(pointer, r, c, flag ? 1 : 0, f)
        case .formula(let formula, let cached):
            result = worksheet_write_formula_num(pointer, r, c, formula, f, cached)
        case .blank:
            result = worksheet_write_blank(pointer, r, c, f)
        }
        try check(result, "writing cell (\(row), \(column)) on '\(name)'")
    }

    /// Hyperlinks written on this sheet.
    public private(set) var links = 0
    /// The start of a link's address into each sheet linked to ("internal:'Fills'!A"), made once per sheet.
    private var linkPrefixes: [String: String] = [:]

    private static func linkPrefix(to sheet: String) -> String {
        "internal:'" + sheet.replacingOccurrences(of: "'", with: "''") + "'!A"
    }
    /// The most hyperlinks a worksheet may hold (Excel's limit; libxlsxwriter refuses more).
    public static let maxLinks = 65_530

    /// Makes (`row`, `column`) a hyperlink to cell A`targetRow + 1` of the sheet named `sheet`
    /// in this workbook; write the cell's value after it (with a link format) to show that
    /// value rather than the address. False, and nothing written, once the sheet holds `maxLinks`.
    @discardableResult
    public func link(row: Int, column: Int, toSheet sheet: String, row targetRow: Int) throws(WorkbookError) -> Bool {
        guard links < Self.maxLinks else { return false }
        guard row >= 0, row < Workbook.maxRows, column >= 0, column < Workbook.maxColumns else {
            throw WorkbookError(code: 0, message: "cell (\(row), \(column)) is outside a sheet on '\(name)'")
        }
        let prefix: String
        if let known = linkPrefixes[sheet] {
            prefix = known
        } else {
            prefix = Self.linkPrefix(to: sheet)
            linkPrefixes[sheet] = prefix
        }
        let url = prefix + String(targetRow + 1)
        try check(
            worksheet_write_url(pointer, UInt32(row), UInt16(column), url, nil),
            "writing a link to '\(sheet)' at (\(row), \(column)) on '\(name)'")
        links += 1
        return true
    }

    /// The most characters a cell holds (Excel's limit; libxlsxwriter refuses more).
    public static let maxCellCharacters = 32_767
    /// What ends a text cut to fit a cell.
    public static let truncationMark = " … [cut at Excel's 32,767 characters a cell; the CSV holds the whole text]"

    /// `text`, cut to fit one cell with a mark saying so (a decision record of a portfolio with many
    /// venues and assets can be longer than a cell may hold; the report's CSV keeps all of it).
    static func fitted(_ text: String) -> String {
        guard text.utf8.count > maxCellCharacters, text.count > maxCellCharacters else { return text }
        return String(text.prefix(maxCellCharacters - truncationMark.count)) + truncationMark
    }

    /// Writes a row of values starting at column 0, each with the format at the same position.
    public func writeRow(_ values: [CellValue], row: Int, formats: [CellFormat?] = []) throws(WorkbookError) {
        for (column, value) in values.enumerated() {
            try write(value, row: row, column: column, format: column < formats.count ? formats[column] : nil)
        }
    }

    /// Sets the width (in characters) and default format of columns `first...last`.
    public func setColumns(_ first: Int, _ last: Int, width: Double, format: CellFormat? = nil) throws(WorkbookError) {
        try check(
            worksheet_set_column(pointer, UInt16(first), UInt16(last), width, try workbook.lxwFormat(format)),
            "setting columns \(first)–\(last) on '\(name)'")
    }

    /// Sets the format of a whole row (e.g. a header row).
    public func setRow(_ row: Int, height: Double = 15, format: CellFormat?) throws(WorkbookError) {
        try check(
            worksheet_set_row(pointer, UInt32(row), height, try workbook.lxwFormat(format)),
            "setting row \(row) on '\(name)'")
    }

    /// Printing: zero-based `row` starts a new page (so a chart anchored there is not cut across two).
    public func pageBreak(before row: Int) throws(WorkbookError) {
        guard row > 0, row < Workbook.maxRows else {
            throw WorkbookError(code: 0, message: "no page break before row \(row) on '\(name)'")
        }
        var breaks: [lxw_row_t] = [lxw_row_t(row), 0]  // the list ends at 0
        try check(worksheet_set_h_pagebreaks(pointer, &breaks), "setting a page break on '\(name)'")
    }

    /// Keeps rows above `row` and columns left of `column` in view while scrolling.
    public func freezePanes(row: Int, column: Int = 0) {
        worksheet_freeze_panes(pointer, UInt32(row), UInt16(column))
    }

    /// Printing and PDF export: landscape A4, the columns on `pagesWide` page widths (as many
    /// pages tall as needed), the first `headerRows` rows repeated on each page and, when the
    /// sheet spans more than one page width, its first column too (the row's id).
    public func printAcross(headerRows: Int = 1, pagesWide: Int = 1) throws(WorkbookError) {
        worksheet_set_landscape(pointer)
        worksheet_set_paper(pointer, 9)  // A4
        worksheet_fit_to_pages(pointer, UInt16(max(1, pagesWide)), 0)
        if headerRows > 0 {
            try check(
                worksheet_repeat_rows(pointer, 0, UInt32(headerRows - 1)), "setting print titles on '\(name)'")
        }
        if pagesWide > 1 {
            try check(worksheet_repeat_columns(pointer, 0, 0), "setting print title columns on '\(name)'")
        }
    }

    /// Adds filter buttons over the given range (header row first).
    public func autofilter(firstRow: Int, firstColumn: Int, lastRow: Int, lastColumn: Int) throws(WorkbookError) {
        try check(
            worksheet_autofilter(pointer, UInt32(firstRow), UInt16(firstColumn), UInt32(lastRow), UInt16(lastColumn)),
            "setting the autofilter on '\(name)'")
    }

    /// Days since 1899-12-30, Excel's serial date, for a UTC instant.
    static func excelSerial(_ date: Date) -> Double {
        date.timeIntervalSince1970 / 86_400 + 25_569
    }
}
