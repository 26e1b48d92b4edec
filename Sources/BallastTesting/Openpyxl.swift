public import Foundation

/// What openpyxl sees in a workbook: the real reader, run as a separate process.
public struct WorkbookDump: Decodable, Sendable {
    /// One sheet.
    public struct SheetDump: Decodable, Sendable {
        public let name: String
        public let maxRow: Int
        public let maxColumn: Int
        public let freezePanes: String?
        public let autoFilter: String?
        public let charts: [ChartDump]
        /// Manual page breaks: each the zero-based row that starts a new printed page.
        public let rowBreaks: [Int]
        public let columnWidths: [String: Double]
        /// The first rows (up to the limit asked for), each a list of cells.
        public let rows: [[CellDump]]
    }

    /// One chart.
    public struct ChartDump: Decodable, Sendable {
        public let type: String
        public let title: String?
        public let series: Int
        /// The zero-based row of the chart's top-left anchor.
        public let anchorRow: Int?
    }

    /// One cell as openpyxl reads it.
    public struct CellDump: Decodable, Sendable, Equatable {
        /// The cached value (formulas give their stored result), as JSON.
        public let value: JSONValue
        /// openpyxl's data type: n (number), s (string), b (bool), d (date), f (formula), e, or null.
        public let type: String
        /// The number format.
        public let format: String
        /// The formula text, when the cell holds one.
        public let formula: String?
        /// Bold font.
        public let bold: Bool
        /// Where the cell's hyperlink leads inside the workbook ("'Sheet'!A5"), when it has one.
        public let link: String?
        /// Horizontal alignment ("center", "left", …), nil when general.
        public let align: String?
    }

    public let sheets: [SheetDump]

    /// The sheet named `name`.
    public func sheet(_ name: String) -> SheetDump? { sheets.first { $0.name == name } }
}

/// A JSON value as decoded from the dump.
public enum JSONValue: Decodable, Sendable, Equatable {
    case null, bool(Bool), number(Double), string(String)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? c.decode(Double.self) {
            self = .number(n)
        } else {
            self = .string(try c.decode(String.self))
        }
    }

    /// The number, if this is one.
    public var number: Double? { if case .number(let n) = self { n } else { nil } }
    /// The string, if this is one.
    public var string: String? { if case .string(let s) = self { s } else { nil } }
}

/// Reads xlsx files back with openpyxl (installed by `Jobs/lib/install-deps.sh`).
public enum Openpyxl {
    /// Loads `path` twice (values and formulas) and returns what openpyxl sees,
    /// with at most `rowLimit` rows of cells per sheet.
    public static func inspect(_ path: String, rowLimit: Int = 200) throws -> WorkbookDump {
        let script = """
            import json, sys, openpyxl
            path, limit = sys.argv[1], int(sys.argv[2])
            values = openpyxl.load_workbook(path, data_only=True)
            formulas = openpyxl.load_workbook(path, data_only=False)
            def plain(v):
                if v is None or isinstance(v, (bool, int, float, str)): return v
                return str(v)
            out = []
            for ws in values.worksheets:
                wf = formulas[ws.title]
                rows = []
                for r, (vr, fr) in enumerate(zip(ws.iter_rows(), wf.iter_rows())):
                    if r >= limit: break
                    rows.append([{"value": plain(v.value), "type": f.data_type, "format": v.number_format,
                                  "formula": f.value if f.data_type == "f" else None,
                                  "bold": bool(v.font and v.font.b),
                                  "link": (f.hyperlink.location or f.hyperlink.target) if f.hyperlink else None,
                                  "align": v.alignment.horizontal if v.alignment else None}
                                 for v, f in zip(vr, fr)])
                charts = []
                for ch in wf._charts:
                    title = None
                    try:
                        title = "".join(run.t for p in ch.title.tx.rich.p for run in (p.r or []))
                    except Exception:
                        pass
                    try:
                        anchor_row = ch.anchor._from.row
                    except Exception:
                        anchor_row = None
                    charts.append({"type": type(ch).__name__, "title": title, "series": len(ch.series),
                                   "anchorRow": anchor_row})
                widths = {k: v.width for k, v in wf.column_dimensions.items() if v.width}
                out.append({"name": ws.title, "maxRow": ws.max_row, "maxColumn": ws.max_column,
                            "freezePanes": wf.freeze_panes, "autoFilter": wf.auto_filter.ref,
                            "charts": charts, "rowBreaks": [b.id for b in wf.row_breaks.brk],
                            "columnWidths": widths, "rows": rows})
            json.dump({"sheets": out}, sys.stdout)
            """
        let output = try runPython(script, arguments: [path, String(rowLimit)])
        return try JSONDecoder().decode(WorkbookDump.self, from: output)
    }

    /// Runs a Python script and returns its standard output; throws with its standard error.
    public static func runPython(_ script: String, arguments: [String]) throws -> Data {
        let scriptURL = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-\(UUID()).py")
        try script.write(to: scriptURL, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: scriptURL) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", scriptURL.path] + arguments
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestSetupError("python3 failed: \(String(decoding: errors, as: UTF8.self))")
        }
        return data
    }
}
