internal import CXlsxWriter

/// How a cell looks: font weight, number format, colours, alignment.
public struct CellFormat: Hashable, Sendable {
    /// Horizontal alignment.
    public enum Alignment: Sendable, Hashable { case general, left, center, right }

    /// Bold text.
    public var bold: Bool
    /// An Excel number format such as `#,##0.00`, `0.00%` or `yyyy-mm-dd hh:mm:ss`.
    public var numberFormat: String?
    /// Solid background colour as 0xRRGGBB.
    public var background: UInt32?
    /// Font colour as 0xRRGGBB.
    public var fontColor: UInt32?
    /// Horizontal alignment.
    public var alignment: Alignment
    /// Wrap long text.
    public var wrap: Bool
    /// A thin bottom border (header rows).
    public var bottomBorder: Bool
    /// Single underline (hyperlinks).
    public var underline: Bool = false

    /// Creates a format.
    public init(
        bold: Bool = false, numberFormat: String? = nil, background: UInt32? = nil, fontColor: UInt32? = nil,
        alignment: Alignment = .general, wrap: Bool = false, bottomBorder: Bool = false
    ) {
        self.bold = bold
        self.numberFormat = numberFormat
        self.background = background
        self.fontColor = fontColor
        self.alignment = alignment
        self.wrap = wrap
        self.bottomBorder = bottomBorder
    }

    /// The same format drawn as a hyperlink: blue, underlined.
    public var asLink: CellFormat {
        var copy = self
        copy.fontColor = 0x0563C1
        copy.underline = true
        return copy
    }

    /// The same format with another number format.
    public func with(numberFormat: String) -> CellFormat {
        var copy = self
        copy.numberFormat = numberFormat
        return copy
    }

    func apply(to f: UnsafeMutablePointer<lxw_format>) {
        if bold { format_set_bold(f) }
        if let numberFormat { format_set_num_format(f, numberFormat) }
        if let background {
            format_set_pattern(f, UInt8(LXW_PATTERN_SOLID.rawValue))
            format_set_bg_color(f, background)
        }
        if let fontColor { format_set_font_color(f, fontColor) }
        switch alignment {
        case .general: break
        case .left: format_set_align(f, UInt8(LXW_ALIGN_LEFT.rawValue))
        case .center: format_set_align(f, UInt8(LXW_ALIGN_CENTER.rawValue))
        case .right: format_set_align(f, UInt8(LXW_ALIGN_RIGHT.rawValue))
        }
        if wrap { format_set_text_wrap(f) }
        if bottomBorder { format_set_bottom(f, UInt8(LXW_BORDER_THIN.rawValue)) }
        if underline { format_set_underline(f, UInt8(LXW_UNDERLINE_SINGLE.rawValue)) }
    }
}

/// A chart drawn from cell ranges.
public struct Chart: Sendable {
    /// The chart type.
    /// A scatter plots each value against its category, read as a number (x).
    public enum Kind: String, Sendable, Codable { case bar, column, line, pie, scatter }

    /// One data series: a name, category labels and values.
    public struct Series: Sendable {
        public var name: String
        public var categories: CellRange
        public var values: CellRange

        public init(name: String, categories: CellRange, values: CellRange) {
            self.name = name
            self.categories = categories
            self.values = values
        }
    }

    public var kind: Kind
    public var title: String
    public var series: [Series]
    public var xAxisTitle: String?
    public var yAxisTitle: String?
    /// The value axis's number format (the values' column format); nil: the program's default.
    public var valueFormat: String?
    /// Size relative to the default 480 × 288 pixels.
    public var widthScale: Double
    public var heightScale: Double

    /// Creates a chart.
    public init(
        kind: Kind, title: String, series: [Series], xAxisTitle: String? = nil, yAxisTitle: String? = nil,
        valueFormat: String? = nil, widthScale: Double = 1.5, heightScale: Double = 1.2
    ) {
        self.valueFormat = valueFormat
        self.kind = kind
        self.title = title
        self.series = series
        self.xAxisTitle = xAxisTitle
        self.yAxisTitle = yAxisTitle
        self.widthScale = widthScale
        self.heightScale = heightScale
    }
}

/// A rectangular range on a named sheet, zero-based and inclusive.
public struct CellRange: Sendable, Hashable {
    public var sheet: String
    public var firstRow: Int
    public var firstColumn: Int
    public var lastRow: Int
    public var lastColumn: Int

    public init(sheet: String, firstRow: Int, firstColumn: Int, lastRow: Int, lastColumn: Int) {
        self.sheet = sheet
        self.firstRow = firstRow
        self.firstColumn = firstColumn
        self.lastRow = lastRow
        self.lastColumn = lastColumn
    }
}

extension Chart.Kind {
    var lxwType: UInt8 {
        switch self {
        case .bar: UInt8(LXW_CHART_BAR.rawValue)
        case .column: UInt8(LXW_CHART_COLUMN.rawValue)
        case .line: UInt8(LXW_CHART_LINE.rawValue)
        case .pie: UInt8(LXW_CHART_PIE.rawValue)
        case .scatter: UInt8(LXW_CHART_SCATTER.rawValue)
        }
    }
}
