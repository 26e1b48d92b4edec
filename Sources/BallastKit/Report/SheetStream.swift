import Postgres
import Workbook

/// Writes one template's rows into its worksheet, continuing on "Name (2)",
/// "Name (3)" … past Excel's row limit.
package final class SheetStream {
    let template: ReportTemplate
    private let workbook: Workbook
    private let formats: ReportFormats
    private var sheet: Sheet
    /// Names of the sheets this table used, and the data rows of each before the current one.
    private var names: [String] = []
    private var earlierRows: [Int] = []
    /// Every sheet this table used, with its data row count.
    var sheets: [(name: String, rows: Int)] {
        zip(names, earlierRows + [rowInSheet]).map { ($0, $1) }
    }
    /// The first worksheet (charts of the table go there).
    let firstSheetObject: Sheet
    private var rowInSheet = 0
    /// Data rows written in all.
    private(set) var rows = 0
    private let rowLimit: Int
    private let columnStyles: [CellStyle?]
    /// Columns that wrap their text, with their widths (in characters).
    private let wrapped: [(index: Int, width: Double)]
    /// Where other sheets' rows are found by value, and where this sheet's are noted.
    private let index: LinkIndex
    /// Columns whose cells link elsewhere: the column, the column holding the key, the target's rows.
    private let linkColumns: [(column: Int, key: Int, target: LinkIndex.Anchor)]
    /// Styles of linked cells (the column's, blue and underlined).
    private let linkStyles: [CellStyle?]
    /// Columns whose values other sheets link to, with where their rows are noted.
    private let anchorColumns: [(column: Int, rows: LinkIndex.Anchor)]

    /// Starts the table's first sheet and CSV.
    init(
        template: ReportTemplate, workbook: Workbook, formats: ReportFormats, rowLimit: Int,
        index: LinkIndex = LinkIndex()
    ) throws {
        self.template = template
        self.index = index
        let fields = template.columns.map(\.field)
        self.linkColumns = template.columns.enumerated().compactMap { i, column in
            column.link.map { (i, fields.firstIndex(of: $0.key ?? column.field)!, index.anchor($0.sheet, $0.anchor)) }
        }
        self.linkStyles = try template.columns.map {
            $0.link == nil ? nil : try workbook.style((formats.format(for: $0) ?? CellFormat()).asLink)
        }
        self.anchorColumns = template.anchors.map { (fields.firstIndex(of: $0)!, index.anchor(template.sheet, $0)) }
        self.workbook = workbook
        self.formats = formats
        self.rowLimit = rowLimit
        self.columnStyles = try template.columns.map { try workbook.style(formats.format(for: $0)) }
        self.wrapped = template.columns.enumerated().filter(\.element.wrap).map {
            ($0.offset, $0.element.width ?? ReportFormats.defaultWidth($0.element.type))
        }
        self.sheet = try workbook.addSheet(template.sheet)
        self.firstSheetObject = sheet
        try startSheet(sheet)
    }

    private func startSheet(_ sheet: Sheet) throws {
        self.sheet = sheet
        if !names.isEmpty { earlierRows.append(rowInSheet) }
        names.append(sheet.name)
        rowInSheet = 0
        var width = 0.0
        for (i, column) in template.columns.enumerated() {
            try sheet.write(.string(column.header), row: 0, column: i, format: formats.header)
            let columnWidth = column.width ?? ReportFormats.defaultWidth(column.type)
            try sheet.setColumns(i, i, width: columnWidth)
            width += columnWidth
        }
        // Tall enough for the longest header wrapped in its column (streamed rows are not resized by readers).
        let headerLines =
            template.columns.map { column in
                Self.lines(column.header, width: column.width ?? ReportFormats.defaultWidth(column.type))
            }.max() ?? 1
        if headerLines > 1 { try sheet.setRow(0, height: 15 * min(headerLines, 6), format: nil) }
        sheet.freezePanes(row: 1)
        // A landscape A4 page holds about 160 characters legibly; a wider sheet prints on as many
        // page widths as it needs (its first column repeated), not shrunk onto one.
        try sheet.printAcross(headerRows: 1, pagesWide: Int((width / Self.charactersPerPage).rounded(.up)))
    }

    /// Column width (in characters) printed on one landscape A4 page before a sheet goes onto a second.
    static let charactersPerPage = 160.0

    /// Writes one row of cells, continuing on a new sheet at the row limit.
    func append(cells: [CellValue]) throws {
        var linked: [Int] = []
        try cells.withUnsafeBufferPointer { try append(row: $0, linked: &linked) }
    }

    /// Writes every row of `batch`.
    func append(_ batch: TableReader.Batch) throws {
        var linked: [Int] = []
        linked.reserveCapacity(linkColumns.count)
        try batch.cells.withUnsafeBufferPointer { all in
            var start = 0
            while start < all.count {
                try append(row: UnsafeBufferPointer(rebasing: all[start..<start + batch.width]), linked: &linked)
                start += batch.width
            }
        }
    }

    /// Writes one row; `linked` is scratch space for the columns linked in it (kept between rows,
    /// so a row allocates nothing of its own: this runs once per row of a million-row sheet).
    private func append(row cells: UnsafeBufferPointer<CellValue>, linked: inout [Int]) throws {
        if rowInSheet == rowLimit {
            try finishSheet()
            try startSheet(try workbook.addSheet("\(template.sheet) (\(names.count + 1))"))
        }
        rowInSheet += 1
        rows += 1
        let (sheet, row) = (self.sheet, rowInSheet)
        if !wrapped.isEmpty { try fitHeight(cells) }
        linked.removeAll(keepingCapacity: true)
        for link in linkColumns {
            if let key = LinkIndex.Key(cells[link.key]), let target = link.target[key],
                try sheet.link(row: row, column: link.column, toSheet: target.sheet, row: target.row)
            {
                linked.append(link.column)
            }
        }
        let styles = columnStyles
        for i in 0..<cells.count {
            // A NULL is an empty cell, not a formatted blank: at 50,000 orders with a dozen empty
            // measures each, formatted blanks cost as much to write as the rest of the sheet.
            switch cells[i] {
            case .blank: continue
            case .string(let text) where text.isEmpty: continue
            default: break
            }
            let style = !linked.isEmpty && linked.contains(i) ? linkStyles[i] : styles[i]
            try sheet.write(cells[i], row: row, column: i, style: style)
        }
        for anchor in anchorColumns {
            guard let key = LinkIndex.Key(cells[anchor.column]) else { continue }
            anchor.rows.note(key, sheet: sheet.name, row: row)
        }
    }

    /// Makes the row tall enough for its wrapped text (readers do not resize
    /// rows written in streaming mode): one line per column width of characters, at most 20.
    /// About how many lines `text` wraps to in a column `width` characters wide.
    static func lines(_ text: String, width: Double) -> Double {
        (Double(text.count) * 1.1 / max(width, 1)).rounded(.up)
    }

    private func fitHeight(_ cells: UnsafeBufferPointer<CellValue>) throws {
        var lines = 1.0
        for (index, width) in wrapped where index < cells.count {
            guard case .string(let text) = cells[index] else { continue }
            lines = max(lines, Self.lines(text, width: width))
        }
        if lines > 1 { try sheet.setRow(rowInSheet, height: 15 * min(lines, 20), format: nil) }
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
    }

    /// The worksheet a chart of this table should draw from (the first).
    var firstSheet: (name: String, rows: Int) { (names[0], earlierRows.first ?? rowInSheet) }
}

/// Where each anchored value first appears, per template sheet and field: the worksheet (a
/// continuation sheet past the row limit) and the row. Filled as anchor sheets are written, read
/// by the sheets that link to them (written after them, `ReportTemplates.fillOrder`).
package final class LinkIndex {
    /// A value as a link key: integers (ids) as integers, text as text.
    package enum Key: Hashable {
        case integer(Int64)
        case text(String)

        init?(_ cell: CellValue) {
            switch cell {
            case .number(let number) where number.rounded() == number && abs(number) < 9e15:
                self = .integer(Int64(number))
            case .string(let text) where !text.isEmpty: self = .text(text)
            default: return nil
            }
        }
    }

    /// Where the values of one template's field first appear (one lookup per row written).
    package final class Anchor {
        private(set) var rows: [Key: (sheet: String, row: Int)] = [:]

        subscript(_ key: Key) -> (sheet: String, row: Int)? { rows[key] }

        func note(_ key: Key, sheet: String, row: Int) {
            if rows.index(forKey: key) == nil { rows[key] = (sheet, row) }
        }
    }

    private var anchors: [String: [String: Anchor]] = [:]

    package init() {}

    /// The rows of `template`'s `field`, made empty on first use (by the anchor sheet or a sheet linking to it).
    func anchor(_ template: String, _ field: String) -> Anchor {
        if let known = anchors[template]?[field] { return known }
        let made = Anchor()
        anchors[template, default: [:]][field] = made
        return made
    }
}
