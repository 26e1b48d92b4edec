import Foundation
import Postgres
import Workbook

/// Converts PostgreSQL's text for a value into a workbook cell and a CSV field.
/// Amounts stay exact in the CSV; the workbook stores numbers as numbers.
enum ReportCell {
    /// The workbook cell for raw column bytes, without building strings for numbers and
    /// timestamps (the report's hot path); nil when the text is not of the column's type.
    static func cell(_ bytes: UnsafeBufferPointer<UInt8>?, _ type: ReportTemplate.ColumnType) -> CellValue? {
        guard let bytes, let base = bytes.baseAddress else { return .blank }
        switch type {
        case .text:
            return .string(String(decoding: bytes, as: UTF8.self))
        case .integer, .decimal, .bps, .percent:
            if let value = plainDecimal(bytes) { return .number(value) }
            var end: UnsafeMutablePointer<CChar>?
            let value = base.withMemoryRebound(to: CChar.self, capacity: bytes.count + 1) { text in
                let value = strtod(text, &end)
                return end.map { $0 == text + bytes.count } == true ? value : nil
            }
            guard let value, value.isFinite else { return nil }
            return .number(value)
        case .timestamp:
            // To the millisecond, as the CSV writes it: the sheet's format would round the rest.
            return Timestamp.parse(bytes: bytes).map { .date(Timestamp.truncatedToMillisecond($0)) }
        case .bool:
            return .bool(bytes.first == UInt8(ascii: "t"))
        }
    }

    /// The double nearest to plain decimal text (`-4303452.3508728`) when its digits, without the
    /// point, make an integer below 2⁵³ and at most 22 of them follow the point; nil otherwise
    /// (more digits, an exponent, anything else: `strtod` reads those). Both the integer and the
    /// power of ten are then exact doubles, and IEEE division rounds their quotient correctly, so
    /// the result is the one `strtod` gives (Clinger's fast path), without its cost per number.
    static func plainDecimal(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        var i = 0
        var negative = false
        if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            i = 1
        }
        var mantissa: UInt64 = 0
        var digits = 0
        var decimals = 0
        var point = false
        while i < bytes.count {
            let byte = bytes[i]
            if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                guard mantissa < (1 << 53) / 10 else { return nil }
                mantissa = mantissa * 10 + UInt64(byte - UInt8(ascii: "0"))
                digits += 1
                if point { decimals += 1 }
            } else if byte == UInt8(ascii: "."), !point {
                point = true
            } else {
                return nil
            }
            i += 1
        }
        guard digits > 0, decimals < exactPowersOfTen.count else { return nil }
        let value = Double(mantissa) / exactPowersOfTen[decimals]
        return negative ? -value : value
    }

    /// 10⁰ … 10²², every power of ten a double holds exactly.
    private static let exactPowersOfTen: [Double] = (0...22).map { exponent in
        (0..<exponent).reduce(1.0) { product, _ in product * 10 }
    }

    /// The error for a value the query returned that is not of its column's type.
    static func mismatch(
        _ bytes: UnsafeBufferPointer<UInt8>?, _ type: ReportTemplate.ColumnType, source: String, field: String
    )
        -> BallastError
    {
        let text = bytes.map { String(decoding: $0.prefix(40), as: UTF8.self) } ?? ""
        return BallastError.invalidInput(
            "\(source): column '\(field)' is typed \(type.rawValue) but the query returned '\(text)'")
    }

    /// The cell and CSV field for a value read as a String (the replay reports' path), converted
    /// as `cell` converts raw bytes.
    static func convert(_ text: String?, _ type: ReportTemplate.ColumnType, source: String, field: String) throws
        -> (CellValue, CSVField)
    {
        guard var text else { return (.blank, .empty) }
        let cell = text.withUTF8 { bytes in bytes.isEmpty && type != .text ? nil : Self.cell(bytes, type) }
        guard let cell else { throw text.withUTF8 { Self.mismatch($0, type, source: source, field: field) } }
        return (cell, Self.field(cell) { text })
    }

    /// The CSV field of a converted cell: a number as the exact text it was read from (the cell
    /// holds a binary double), everything else as the cell holds it.
    static func field(_ cell: CellValue, exactText: () -> String) -> CSVField {
        switch cell {
        case .blank, .formula: .empty  // a value converts to no formula
        case .string(let text): .text(text)
        case .number: .number(exactText())
        case .date(let date): .timestamp(date)
        case .bool(let flag): .bool(flag)
        }
    }
}

/// The cell formats a report uses, created once.
struct ReportFormats {
    let header = CellFormat(bold: true, background: 0xDCE6F1, wrap: true, bottomBorder: true)
    let title = CellFormat(bold: true, fontColor: 0x1F3864)
    let label = CellFormat(bold: true)
    let note = CellFormat(fontColor: 0x7F7F7F)
    private var cache: [String: CellFormat] = [:]

    func format(for column: ReportTemplate.Column) -> CellFormat? {
        let numberFormat = column.numberFormat.map { Self.padded($0, column.type) }
        // TRUE/FALSE is centred: LibreOffice shows it as a right-aligned 1/0 that runs into the text
        // of the column to its right ("0 T00000…"); Excel centres it anyway.
        let alignment: CellFormat.Alignment = column.type == .bool ? .center : .general
        if column.wrap { return CellFormat(numberFormat: numberFormat, alignment: alignment, wrap: true) }
        if numberFormat == nil, alignment == .general { return nil }
        return CellFormat(numberFormat: numberFormat, alignment: alignment)
    }

    /// A right-aligned column's number format with the width of ")" kept clear after each section
    /// (the accounting convention `_)`), so a number does not run into the text of the column to its
    /// right: "0 bl743a…" rather than "0bl743a…". Sections are split at `;` outside quotes.
    static func padded(_ format: String, _ type: ReportTemplate.ColumnType) -> String {
        guard type != .text, type != .bool else { return format }
        var sections: [String] = [""]
        var quoted = false
        for character in format {
            if character == "\"" { quoted.toggle() }
            if character == ";", !quoted {
                sections.append("")
            } else {
                sections[sections.count - 1].append(character)
            }
        }
        return sections.map { $0.isEmpty || $0.hasSuffix("_)") ? $0 : $0 + "_)" }.joined(separator: ";")
    }

    static func defaultWidth(_ type: ReportTemplate.ColumnType) -> Double {
        switch type {
        case .timestamp: 23
        case .decimal: 16
        case .bps, .percent: 12
        case .integer: 10
        case .bool: 8
        case .text: 18
        }
    }
}
