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

        enum CodingKeys: String, CodingKey, CaseIterable { case field, header, type, format, width, wrap }

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
        }

        /// The Excel number format: the column's own or its type's default.
        public var numberFormat: String? { format ?? type.defaultFormat }
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
        case sheet, csv, position, query, columns, chart, afterMeasure = "after_measure"
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
        let summaryPath = folder.appendingPathComponent("summary.md.mustache").path
        guard let summary = try? String(contentsOfFile: summaryPath, encoding: .utf8) else {
            throw BallastError.invalidInput("cannot read the summary template \(summaryPath)")
        }
        try checkSummary(summary, source: summaryPath)
        return ReportTemplates(
            tables: tables.sorted { ($0.position, $0.sheet) < ($1.position, $1.sheet) }, summary: summary)
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
