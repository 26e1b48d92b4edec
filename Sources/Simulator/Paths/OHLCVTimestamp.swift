import Foundation

/// The timestamps OHLCV exports write, read without a locale or a formatter:
///
/// - epoch numbers: seconds, milliseconds (Binance klines, pandas `to_json`) or
///   microseconds (Binance's newer spot klines), told apart by magnitude;
/// - ISO-8601 as pandas and spreadsheets write it: a date (`2024-01-31`), or a
///   date and a time joined by `T` or a space (`2024-01-31 13:05`,
///   `2024-01-31T13:05:07.250`), UTC unless an offset follows (`Z`, `+02:00`,
///   `-0530`, `+02`).
enum OHLCVTimestamp {
    /// Seconds since 1970-01-01 UTC for `text`, or nil when it is neither form.
    static func parse(_ text: Substring) -> Double? {
        let bytes = Array(text.utf8)
        guard let first = bytes.first else { return nil }
        if isDigit(first), bytes.count < 5 || bytes[4] != UInt8(ascii: "-") {
            return epoch(String(text))
        }
        return iso(bytes)
    }

    /// An epoch number: below 10¹¹ seconds, below 10¹⁴ milliseconds, else microseconds.
    private static func epoch(_ text: String) -> Double? {
        guard text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let value = Double(text),
            value.isFinite
        else { return nil }
        if value >= 1e14 { return value / 1e6 }
        if value >= 1e11 { return value / 1e3 }
        return value
    }

    /// `YYYY-MM-DD[(T| )HH:MM[:SS[.f…]]][Z|±HH[:MM]]`.
    private static func iso(_ b: [UInt8]) -> Double? {
        var i = 0
        func number(_ digits: Int) -> Int? {
            guard i + digits <= b.count else { return nil }
            var value = 0
            for byte in b[i..<(i + digits)] {
                guard isDigit(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            i += digits
            return value
        }
        func expect(_ character: Character) -> Bool {
            guard i < b.count, b[i] == character.asciiValue else { return false }
            i += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            (1...12).contains(month), (1...daysIn(month, year)).contains(day)
        else { return nil }
        var seconds = Double(daysFromCivil(year, month, day)) * 86_400
        if i < b.count, b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: " ") {
            i += 1
            guard let hour = number(2), expect(":"), let minute = number(2), hour < 24, minute < 60 else { return nil }
            seconds += Double(hour * 3600 + minute * 60)
            if expect(":") {
                guard let second = number(2), second <= 60 else { return nil }
                seconds += Double(second)
                if expect(".") {
                    var scale = 0.1
                    let start = i
                    while i < b.count, isDigit(b[i]) {
                        seconds += Double(b[i] - UInt8(ascii: "0")) * scale
                        scale /= 10
                        i += 1
                    }
                    guard i > start else { return nil }
                }
            }
        }
        guard let offset = zone(b, &i), i == b.count else { return nil }
        return seconds - offset
    }

    /// The UTC offset in seconds at `i` (0 when none is written), or nil when it is malformed.
    private static func zone(_ b: [UInt8], _ i: inout Int) -> Double? {
        guard i < b.count else { return 0 }
        if b[i] == UInt8(ascii: "Z") {
            i += 1
            return 0
        }
        guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") else { return nil }
        let sign: Double = b[i] == UInt8(ascii: "-") ? -1 : 1
        let digits = b[(i + 1)...].filter { $0 != UInt8(ascii: ":") }
        guard [2, 4].contains(digits.count), digits.allSatisfy(isDigit) else { return nil }
        let value = digits.map { Int($0 - UInt8(ascii: "0")) }
        let hours = value[0] * 10 + value[1]
        let minutes = digits.count == 4 ? value[2] * 10 + value[3] : 0
        guard hours <= 14, minutes < 60 else { return nil }
        i = b.count
        return sign * Double(hours * 3600 + minutes * 60)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func daysIn(_ month: Int, _ year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
