import BallastCore
public import Foundation
import Mustache

/// One table of the audit report, defined as data in `Templates/audit/*.toml`:
/// the query that produces its rows and how each column is shown. Adding a
/// column is an edit to the file, not a rebuild.
///
///     sheet = "Fills"
///     csv = "fills.csv"
///     position = 50
///     query = "SELECT executed_at, venue_id, qty FROM fills WHERE executed_at >= :from AND executed_at < :to"
///
///     [[columns]]
///     field = "qty"
///     header = "Quantity"
///     type = "decimal"        # text, integer, decimal, bps, percent, timestamp, bool
///     format = "#,##0.00000000"
///     width = 16
///
/// Queries may use the parameters `:from`, `:to` (timestamptz) and `:run` (text).
public struct ReportTemplate: Sendable, Decodable {
    /// The file it came from (for messages).
    public var source: String = ""
    /// The worksheet name (≤ 31 characters; continuation sheets add " (2)", …).
    public var sheet: String
    /// The CSV file name, or nil for no CSV.
    public var csv: String?
    /// Order among the report's sheets (ascending).
    public var position: Int
    /// The SQL query.
    public var query: String
    /// The columns, in order.
    public var columns: [Column]
    /// An optional chart drawn from this sheet's rows.
    public var chart: ChartSpec?
    /// The query reads what the measure step writes: when the report runs the
    /// measure step alongside, this table is filled after it finishes.
    public var afterMeasure: Bool
    /// Fields other sheets may link to: the first row holding each value is remembered.
    public var anchors: [String]

    /// How one column is shown.
    public struct Column: Sendable, Decodable {
        public var field: String
        public var header: String
        public var type: ColumnType
        public var format: String?
        public var width: Double?
        /// Wrap long text inside the column's width (evidence, reasons, JSON) so it
        /// neither spills across the sheet nor shrinks the printed page.
        public var wrap: Bool
        /// The cell links to the first row of another sheet that holds the same value.
        public var link: Link?

        enum CodingKeys: String, CodingKey, CaseIterable { case field, header, type, format, width, wrap, link }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(
                try decoder.container(keyedBy: AnyKey.self), known: CodingKeys.self, section: "[[columns]]")
            let c = try decoder.container(keyedBy: CodingKeys.self)
            field = try c.decode(String.self, forKey: .field)
            header = try c.decodeIfPresent(String.self, forKey: .header) ?? field
            let typeName = try c.decodeIfPresent(String.self, forKey: .type) ?? "text"
            guard let type = ColumnType(rawValue: typeName) else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: c.codingPath + [CodingKeys.type],
                        debugDescription:
                            "unknown column type '\(typeName)' (known: \(ColumnType.allCases.map(\.rawValue).joined(separator: ", ")))"
                    ))
            }
            self.type = type
            format = try c.decodeIfPresent(String.self, forKey: .format)
            width = try c.decodeNumberIfPresent(forKey: .width)
            wrap = try c.decodeIfPresent(Bool.self, forKey: .wrap) ?? false
            link = try c.decodeIfPresent(Link.self, forKey: .link)
        }

        /// The Excel number format: the column's own or its type's default.
        public var numberFormat: String? { format ?? type.defaultFormat }
    }

    /// Where a column's cells link to: `link = { sheet = "Orders & Attempts", anchor = "order_id" }`
    /// makes each cell a hyperlink to the first row of that sheet whose `anchor` field (one of the
    /// target's `anchors`) holds this row's `key` field (the column's own field unless named).
    public struct Link: Sendable, Decodable {
        public var sheet: String
        public var anchor: String
        public var key: String?

        enum CodingKeys: String, CodingKey, CaseIterable { case sheet, anchor, key }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(
                try decoder.container(keyedBy: AnyKey.self), known: CodingKeys.self, section: "link")
            let c = try decoder.container(keyedBy: CodingKeys.self)
            sheet = try c.decode(String.self, forKey: .sheet)
            anchor = try c.decode(String.self, forKey: .anchor)
            key = try c.decodeIfPresent(String.self, forKey: .key)
        }
    }

    /// The kinds of value a column holds.
    public enum ColumnType: String, Sendable, CaseIterable {
        case text, integer, decimal, bps, percent, timestamp, bool

        var defaultFormat: String? {
            switch self {
            case .text, .bool: nil
            case .integer: "#,##0"
            case .decimal: "#,##0.00######"
            case .bps: "0.00\" bps\""
            case .percent: "0.00%"
            case .timestamp: "yyyy-mm-dd hh:mm:ss.000"
            }
        }
    }

    /// A chart of this sheet's rows.
    public struct ChartSpec: Sendable, Decodable {
        public var kind: String
        public var title: String
        /// The field whose values label the categories.
        public var categories: String
        /// The fields plotted as series.
        public var values: [String]
        /// Where the chart goes: the sheet's name (default) or `Summary`.
        public var placement: String?
        /// The axes' titles, with their units (`x_title`, `y_title`).
        public var xTitle: String?
        public var yTitle: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case kind, title, categories, values, placement, xTitle = "x_title", yTitle = "y_title"
        }

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(
                try decoder.container(keyedBy: AnyKey.self), known: CodingKeys.self, section: "[chart]")
            let c = try decoder.container(keyedBy: CodingKeys.self)
            kind = try c.decode(String.self, forKey: .kind)
            title = try c.decode(String.self, forKey: .title)
            categories = try c.decode(String.self, forKey: .categories)
            values = try c.decode([String].self, forKey: .values)
            placement = try c.decodeIfPresent(String.self, forKey: .placement)
            xTitle = try c.decodeIfPresent(String.self, forKey: .xTitle)
            yTitle = try c.decodeIfPresent(String.self, forKey: .yTitle)
            guard ["bar", "column", "line", "scatter"].contains(kind) else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: c.codingPath + [CodingKeys.kind],
                        debugDescription: "must be bar, column, line or scatter (x = categories, y = values)"))
            }
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case sheet, csv, position, query, columns, chart, afterMeasure = "after_measure", anchors
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(
            try decoder.container(keyedBy: AnyKey.self), known: CodingKeys.self, section: "the template")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sheet = try c.decode(String.self, forKey: .sheet)
        csv = try c.decodeIfPresent(String.self, forKey: .csv)
        position = try c.decodeIfPresent(Int.self, forKey: .position) ?? 100
        // A table of rows the caller already holds (a replay's figures) has no query.
        query = try c.decodeIfPresent(String.self, forKey: .query) ?? ""
        columns = try c.decode([Column].self, forKey: .columns)
        chart = try c.decodeIfPresent(ChartSpec.self, forKey: .chart)
        afterMeasure = try c.decodeIfPresent(Bool.self, forKey: .afterMeasure) ?? false
        anchors = try c.decodeIfPresent([String].self, forKey: .anchors) ?? []
        func bad(_ key: CodingKeys, _ why: String) -> DecodingError {
            .dataCorrupted(.init(codingPath: c.codingPath + [key], debugDescription: why))
        }
        let forbidden: Set<Character> = ["[", "]", ":", "*", "?", "/", "\\"]
        guard !sheet.isEmpty, sheet.count <= 27, !sheet.contains(where: forbidden.contains) else {
            throw bad(.sheet, "'\(sheet)' must be 1–27 characters without [ ] : * ? / \\")
        }
        if let csv, csv.contains("/") || !csv.hasSuffix(".csv") {
            throw bad(.csv, "'\(csv)' must be a plain file name ending in .csv")
        }
        guard !columns.isEmpty else { throw bad(.columns, "a template needs at least one column") }
        let fields = Set(columns.map(\.field))
        if let chart {
            for field in [chart.categories] + chart.values where !fields.contains(field) {
                throw bad(.chart, "chart field '\(field)' is not one of the columns")
            }
        }
        for anchor in anchors where !fields.contains(anchor) {
            throw bad(.anchors, "anchor '\(anchor)' is not one of the columns")
        }
        for column in columns {
            if let key = column.link?.key, !fields.contains(key) {
                throw bad(.columns, "column '\(column.field)': link key '\(key)' is not one of the columns")
            }
        }
        _ = try ReportQuery.bind(query, parameters: [:], source: "")  // placeholders must be known names
    }
}

/// The report's templates, read from a folder at run time.
public struct ReportTemplates: Sendable {
    /// The sheet templates in position order.
    public var tables: [ReportTemplate]
    /// The Mustache text of `summary.md`.
    public var summary: String

    /// Reads `folder/audit/*.toml` and `folder/summary.md.mustache`; an invalid
    /// file is rejected with a message naming the file and the field.
    public static func load(from folder: URL) throws -> ReportTemplates {
        let audit = folder.appendingPathComponent("audit", isDirectory: true)
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: audit.path).filter { $0.hasSuffix(".toml") }
                .sorted()
        } catch {
            throw BallastError.invalidInput(
                "no report templates in \(audit.path) (set --templates to the Templates folder)")
        }
        var tables: [ReportTemplate] = []
        for name in names {
            let path = audit.appendingPathComponent(name).path
            var template = try TOMLFile.decode(ReportTemplate.self, path: path)
            template.source = path
            guard !template.query.isEmpty else { throw BallastError.invalidInput("\(path): query is missing") }
            tables.append(template)
        }
        var seen: Set<String> = []
        for t in tables where !seen.insert(t.sheet.lowercased()).inserted {
            throw BallastError.invalidInput("\(t.source): sheet name '\(t.sheet)' is used by another template")
        }
        try checkLinks(tables)
        let summaryPath = folder.appendingPathComponent("summary.md.mustache").path
        guard let summary = try? String(contentsOfFile: summaryPath, encoding: .utf8) else {
            throw BallastError.invalidInput("cannot read the summary template \(summaryPath)")
        }
        try checkSummary(summary, source: summaryPath)
        return ReportTemplates(
            tables: tables.sorted { ($0.position, $0.sheet) < ($1.position, $1.sheet) }, summary: summary)
    }

    /// Refuses a link to a sheet no template makes, to a field that sheet does not anchor, or links
    /// that form a cycle (a sheet is filled after the sheets it links to).
    static func checkLinks(_ tables: [ReportTemplate]) throws {
        let bySheet = Dictionary(tables.map { ($0.sheet, $0) }) { first, _ in first }
        for table in tables {
            for column in table.columns {
                guard let link = column.link else { continue }
                guard let target = bySheet[link.sheet] else {
                    throw BallastError.invalidInput(
                        "\(table.source): column '\(column.field)' links to sheet '\(link.sheet)', which no template makes"
                    )
                }
                guard target.anchors.contains(link.anchor) else {
                    throw BallastError.invalidInput(
                        "\(table.source): column '\(column.field)' links to '\(link.sheet)' by '\(link.anchor)', "
                            + "which that sheet's template does not list in its anchors")
                }
            }
        }
        _ = try fillOrder(tables, later: [])
    }

    /// The order to fill `tables` in: each after the sheets it links to, otherwise in position
    /// order; those named in `later` (and any that link to one of them) after all the others.
    static func fillOrder(_ tables: [ReportTemplate], later: Set<String>) throws -> (
        first: [ReportTemplate], later: [ReportTemplate]
    ) {
        let bySheet = Dictionary(tables.map { ($0.sheet, $0) }) { first, _ in first }
        func targets(_ t: ReportTemplate) -> [String] { t.columns.compactMap(\.link?.sheet).filter { $0 != t.sheet } }
        var order: [ReportTemplate] = []
        var state: [String: Bool] = [:]  // false: being visited, true: done
        func visit(_ t: ReportTemplate, path: [String]) throws {
            if state[t.sheet] == true { return }
            if state[t.sheet] == false {
                throw BallastError.invalidInput(
                    "report templates link in a cycle: " + (path + [t.sheet]).joined(separator: " → "))
            }
            state[t.sheet] = false
            for name in targets(t) { if let target = bySheet[name] { try visit(target, path: path + [t.sheet]) } }
            state[t.sheet] = true
            order.append(t)
        }
        for t in tables { try visit(t, path: []) }
        // A sheet linking (directly or not) to a later one is filled later too.
        var lateSheets = later
        for t in order where targets(t).contains(where: lateSheets.contains) { lateSheets.insert(t.sheet) }
        return (order.filter { !lateSheets.contains($0.sheet) }, order.filter { lateSheets.contains($0.sheet) })
    }

    /// Refuses a summary template that is not valid Mustache, naming `source`: checked when the
    /// templates are read, before any report is written.
    public static func checkSummary(_ text: String, source: String) throws {
        do {
            _ = try MustacheTemplate(string: text)
        } catch {
            throw BallastError.invalidInput("\(source): not a valid Mustache template (\(error))")
        }
    }
}
