// xlsx workbooks over libxlsxwriter.
//
// Invariants:
// - This is the only module that imports libxlsxwriter; no `lxw_*` type is public.
// - Every libxlsxwriter return code is checked; failures, including at close
//   (where the file is actually written), are thrown, never fatal.
// - Formulas are always written with their computed value, because the
//   library does not calculate and readers that do not recalculate would show 0.
// - Rows go out in order (constant-memory mode needs it and memory stays flat).
internal import CXlsxWriter
import Foundation

/// A failure from libxlsxwriter or a request it would reject.
public struct WorkbookError: Error, Sendable, CustomStringConvertible {
    /// libxlsxwriter's `lxw_error` number (0 when the check was ours).
    public let code: Int
    /// What went wrong, and where.
    public let message: String

    public var description: String { "workbook: \(message)" }
}

/// An xlsx file being written. Add sheets, write rows top to bottom, then `close()`.
public final class Workbook {
    /// How the file is written.
    public struct Options: Sendable {
        /// Flush each row to a temporary file as the next begins, so memory does
        /// not grow with the row count. Rows must then be written in order.
        public var constantMemory: Bool
        /// Allow ZIP64 so files over 4 GB can be written.
        public var zip64: Bool
        /// Where temporary files go (nil: the system default).
        public var temporaryDirectory: String?

        /// Creates options.
        public init(constantMemory: Bool = false, zip64: Bool = true, temporaryDirectory: String? = nil) {
            self.constantMemory = constantMemory
            self.zip64 = zip64
            self.temporaryDirectory = temporaryDirectory
        }
    }

    /// Excel's limit on rows per sheet.
    public static let maxRows = 1_048_576
    /// Excel's limit on columns per sheet.
    public static let maxColumns = 16_384

    /// The file being written.
    public let path: String
    private var pointer: UnsafeMutablePointer<lxw_workbook>?
    private var formats: [CellFormat: UnsafeMutablePointer<lxw_format>] = [:]
    private var sheetNames: Set<String> = []
    private var tmpdir: UnsafeMutablePointer<CChar>?

    /// Starts a new workbook at `path` (written on `close()`).
    public init(path: String, options: Options = Options()) throws(WorkbookError) {
        self.path = path
        tmpdir = options.temporaryDirectory.map { strdup($0)! }
        var lxwOptions = lxw_workbook_options(
            constant_memory: options.constantMemory ? UInt8(LXW_TRUE.rawValue) : 0, tmpdir: tmpdir,
            use_zip64: options.zip64 ? UInt8(LXW_TRUE.rawValue) : 0)
        guard let created = workbook_new_opt(path, &lxwOptions) else {
            free(tmpdir)
            throw WorkbookError(code: 0, message: "cannot start a workbook at \(path)")
        }
        pointer = created
    }

    deinit {
        assert(pointer == nil, "Workbook was not closed")
        free(tmpdir)
    }

    /// Adds a worksheet. Names must be 1–31 characters, unique (ignoring case),
    /// without `[ ] : * ? / \` and not start or end with an apostrophe.
    public func addSheet(_ name: String) throws(WorkbookError) -> Sheet {
        let wb = try live()
        let forbidden: Set<Character> = ["[", "]", ":", "*", "?", "/", "\\"]
        guard !name.isEmpty, name.count <= 31, !name.contains(where: forbidden.contains), !name.hasPrefix("'"),
            !name.hasSuffix("'")
        else { throw WorkbookError(code: 0, message: "'\(name)' is not a valid sheet name") }
        guard sheetNames.insert(name.lowercased()).inserted else {
            throw WorkbookError(code: 0, message: "sheet name '\(name)' is used twice")
        }
        guard let sheet = workbook_add_worksheet(wb, name) else {
            throw WorkbookError(code: 0, message: "cannot add sheet '\(name)'")
        }
        return Sheet(name: name, pointer: sheet, workbook: self)
    }

    /// Adds a chart drawn from ranges of this workbook's sheets, placed on `sheet`
    /// with its top-left corner at (`row`, `column`).
    public func insertChart(_ chart: Chart, on sheet: Sheet, row: Int, column: Int) throws(WorkbookError) {
        let wb = try live()
        guard let c = workbook_add_chart(wb, chart.kind.lxwType) else {
            throw WorkbookError(code: 0, message: "cannot create chart '\(chart.title)'")
        }
        chart_title_set_name(c, chart.title)
        for series in chart.series {
            guard let s = chart_add_series(c, nil, nil) else {
                throw WorkbookError(code: 0, message: "cannot add series '\(series.name)' to '\(chart.title)'")
            }
            chart_series_set_name(s, series.name)
            if chart.kind == .scatter {
                // Spreadsheet programs differ on a scatter's default marker (LibreOffice draws none).
                chart_series_set_marker_type(s, UInt8(LXW_CHART_MARKER_CIRCLE.rawValue))
                chart_series_set_marker_size(s, 6)
            }
            let cat = series.categories
            chart_series_set_categories(
                s, cat.sheet, UInt32(cat.firstRow), UInt16(cat.firstColumn), UInt32(cat.lastRow),
                UInt16(cat.lastColumn))
            let val = series.values
            chart_series_set_values(
                s, val.sheet, UInt32(val.firstRow), UInt16(val.firstColumn), UInt32(val.lastRow),
                UInt16(val.lastColumn))
        }
        if let x = chart.xAxisTitle { chart_axis_set_name(c.pointee.x_axis, x) }
        if let y = chart.yAxisTitle { chart_axis_set_name(c.pointee.y_axis, y) }
        if let format = chart.valueFormat { chart_axis_set_num_format(c.pointee.y_axis, format) }
        if chart.kind == .bar || chart.kind == .column {
            // Category labels at the low end of the value axis, so negative bars do not run over them.
            chart_axis_set_label_position(c.pointee.x_axis, UInt8(LXW_CHART_AXIS_LABEL_POSITION_LOW.rawValue))
        }
        chart_legend_set_position(
            c, UInt8(chart.series.count > 1 ? LXW_CHART_LEGEND_BOTTOM.rawValue : LXW_CHART_LEGEND_NONE.rawValue))
        var options = lxw_chart_options()
        options.x_scale = chart.widthScale
        options.y_scale = chart.heightScale
        try check(
            worksheet_insert_chart_opt(sheet.pointer, UInt32(row), UInt16(column), c, &options),
            "inserting chart '\(chart.title)' on '\(sheet.name)'")
    }

    /// Writes the file. Errors here (a full disk, a missing directory) are thrown.
    public func close() throws(WorkbookError) {
        guard let wb = pointer else { return }
        pointer = nil
        formats = [:]
        try check(workbook_close(wb), "writing \(path)")
    }

    // MARK: Internals used by Sheet

    func live() throws(WorkbookError) -> UnsafeMutablePointer<lxw_workbook> {
        guard let pointer else { throw WorkbookError(code: 0, message: "workbook \(path) is already closed") }
        return pointer
    }

    /// A format resolved once, to pass to `Sheet.write(_:row:column:style:)` cell after cell.
    public func style(_ format: CellFormat?) throws(WorkbookError) -> CellStyle? {
        try lxwFormat(format).map(CellStyle.init)
    }

    /// The libxlsxwriter format for `format`, created once and reused.
    func lxwFormat(_ format: CellFormat?) throws(WorkbookError) -> UnsafeMutablePointer<lxw_format>? {
        guard let format else { return nil }
        if let existing = formats[format] { return existing }
        guard let f = workbook_add_format(try live()) else {
            throw WorkbookError(code: 0, message: "cannot create a cell format")
        }
        format.apply(to: f)
        formats[format] = f
        return f
    }
}

/// A cell format already registered with a workbook; valid until the workbook closes.
public struct CellStyle {
    let pointer: UnsafeMutablePointer<lxw_format>
}

/// Turns a libxlsxwriter return code into a thrown error.
func check(_ error: lxw_error, _ context: @autoclosure () -> String) throws(WorkbookError) {
    guard error == LXW_NO_ERROR else {
        throw WorkbookError(
            code: Int(error.rawValue), message: "\(context()): \(String(cString: lxw_strerror(error)))")
    }
}
