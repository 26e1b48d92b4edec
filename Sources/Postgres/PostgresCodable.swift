public import Foundation

/// A value that can be sent as a bind parameter, in PostgreSQL's text format.
public protocol PostgresEncodable: Sendable {
    /// The value as PostgreSQL input text; nil sends SQL NULL.
    var postgresText: String? { get }
}

/// A value that can be read from a result column in PostgreSQL's text format.
public protocol PostgresDecodable {
    /// Decodes the column text; throws `decodingFailed` when it does not fit.
    init(postgresText: String) throws(PostgresError)
    /// Decodes the column's raw UTF-8 bytes; types that can skip making a String do.
    init(postgresBytes: UnsafeBufferPointer<UInt8>) throws(PostgresError)
}

extension PostgresDecodable {
    public init(postgresBytes: UnsafeBufferPointer<UInt8>) throws(PostgresError) {
        try self.init(postgresText: String(decoding: postgresBytes, as: UTF8.self))
    }
}

/// A failure to decode `text` as `type`.
func decodingError(_ text: String, _ type: Any.Type) -> PostgresError {
    PostgresError(code: .decodingFailed, message: "cannot read '\(text.prefix(60))' as \(type)")
}

extension String: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { self }
    public init(postgresText: String) { self = postgresText }
}

extension Int: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init(postgresText: String) throws(PostgresError) {
        guard let value = Int(postgresText) else { throw decodingError(postgresText, Int.self) }
        self = value
    }
    public init(postgresBytes: UnsafeBufferPointer<UInt8>) throws(PostgresError) {
        guard let value = parseInteger(postgresBytes) else {
            throw decodingError(String(decoding: postgresBytes, as: UTF8.self), Int.self)
        }
        self = value
    }
}

/// A decimal integer from ASCII bytes, nil when malformed or out of range.
func parseInteger(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
    var index = 0
    var negative = false
    if bytes.first == UInt8(ascii: "-") {
        negative = true
        index = 1
    }
    guard index < bytes.count else { return nil }
    var value = 0
    while index < bytes.count {
        let byte = bytes[index]
        guard byte >= 48, byte <= 57 else { return nil }
        let (times, o1) = value.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times.addingReportingOverflow(Int(byte - 48))
        guard !o1, !o2 else { return nil }
        value = sum
        index += 1
    }
    return negative ? -value : value
}

extension Int64: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init(postgresBytes: UnsafeBufferPointer<UInt8>) throws(PostgresError) {
        guard let value = parseInteger(postgresBytes) else {
            throw decodingError(String(decoding: postgresBytes, as: UTF8.self), Int64.self)
        }
        self = Int64(value)
    }
    public init(postgresText: String) throws(PostgresError) {
        guard let value = Int64(postgresText) else { throw decodingError(postgresText, Int64.self) }
        self = value
    }
}

extension Int32: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init(postgresText: String) throws(PostgresError) {
        guard let value = Int32(postgresText) else { throw decodingError(postgresText, Int32.self) }
        self = value
    }
}

extension Double: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? {
        if isNaN { return "NaN" }
        if isInfinite { return self > 0 ? "Infinity" : "-Infinity" }
        return String(self)
    }
    public init(postgresText: String) throws(PostgresError) {
        guard let value = Double(postgresText) else { throw decodingError(postgresText, Double.self) }
        self = value
    }
}

extension Bool: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { self ? "t" : "f" }
    public init(postgresText: String) throws(PostgresError) {
        switch postgresText {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw decodingError(postgresText, Bool.self)
        }
    }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public var postgresText: String? { self?.postgresText }
}

extension Date: PostgresEncodable, PostgresDecodable {
    /// ISO 8601 in UTC with microseconds, e.g. `2026-11-25 06:17:00.123456+00`.
    public var postgresText: String? { Timestamp.format(self) }

    /// Reads the session's ISO output (`YYYY-MM-DD HH:MM:SS[.ffffff]+00`).
    public init(postgresText: String) throws(PostgresError) {
        guard let date = Timestamp.parse(postgresText) else { throw decodingError(postgresText, Date.self) }
        self = date
    }

    public init(postgresBytes: UnsafeBufferPointer<UInt8>) throws(PostgresError) {
        guard let date = Timestamp.parse(bytes: postgresBytes) else {
            throw decodingError(String(decoding: postgresBytes, as: UTF8.self), Date.self)
        }
        self = date
    }
}

extension UUID: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { uuidString.lowercased() }
    public init(postgresText: String) throws(PostgresError) {
        guard let value = UUID(uuidString: postgresText) else { throw decodingError(postgresText, UUID.self) }
        self = value
    }
}

/// Raw bytes for a `bytea` column, sent and read in hex form.
public struct ByteA: Sendable, Hashable, PostgresEncodable, PostgresDecodable {
    /// The bytes.
    public var bytes: [UInt8]

    /// Wraps `bytes`.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var postgresText: String? {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public init(postgresText: String) throws(PostgresError) {
        let utf8 = Array(postgresText.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"), utf8.count % 2 == 0
        else { throw decodingError(postgresText, ByteA.self) }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((utf8.count - 2) / 2)
        var i = 2
        while i < utf8.count {
            guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else {
                throw decodingError(postgresText, ByteA.self)
            }
            bytes.append(hi << 4 | lo)
            i += 2
        }
        self.bytes = bytes
    }
}

extension Array: PostgresEncodable where Element: PostgresEncodable {
    /// A PostgreSQL array literal, every element double-quoted, its backslashes and double quotes escaped
    /// (byte by byte: large elements, such as JSON documents, cost no more than a copy).
    public var postgresText: String? {
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (index, element) in enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            guard let text = element.postgresText else {
                out.append(contentsOf: "NULL".utf8)
                continue
            }
            out.append(UInt8(ascii: "\""))
            for byte in text.utf8 {
                if byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\"") { out.append(UInt8(ascii: "\\")) }
                out.append(byte)
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }
}

/// Fast UTC timestamp text in PostgreSQL's ISO style.
public enum Timestamp {
    /// `YYYY-MM-DD HH:MM:SS.ffffff+00` for `date`, to the nearest microsecond (see `microseconds`).
    public static func format(_ date: Date) -> String {
        render(date, separator: UInt8(ascii: " "), zone: [43, 48, 48])
    }

    /// ISO 8601 as CSV and JSON want it: `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    public static func iso8601(_ date: Date) -> String {
        render(date, separator: UInt8(ascii: "T"), zone: [UInt8(ascii: "Z")])
    }

    /// ISO 8601 to the millisecond, `YYYY-MM-DDTHH:MM:SS.fffZ`: `date` cut to the millisecond it falls
    /// in (as `truncatedToMillisecond`), the form of the report's CSVs and summary.
    public static func iso8601Milliseconds(_ date: Date) -> String {
        render(microseconds(date), places: 3, separator: UInt8(ascii: "T"), zone: [UInt8(ascii: "Z")])
    }

    /// Whole milliseconds since 1970 of the millisecond `date` falls in.
    public static func milliseconds(_ date: Date) -> Int { microseconds(date).floorDiv(1_000) }

    /// `date` cut to the millisecond it falls in, the instant the report shows.
    public static func truncatedToMillisecond(_ date: Date) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds(date)) / 1_000)
    }

    /// `iso8601Milliseconds` where `date` is a whole millisecond, else `iso8601`: a bound that must be
    /// shown as it is (a period's start and end), never moved to the millisecond.
    public static func iso8601Bound(_ date: Date) -> String {
        microseconds(date) % 1_000 == 0 ? iso8601Milliseconds(date) : iso8601(date)
    }

    /// `date` to the nearest whole microsecond since 1970. PostgreSQL keeps whole microseconds, which a
    /// `Date` read back holds only to within a fraction of one: cutting the double instead would turn
    /// the 12:00:00.123000 the database sent (held as …0.12299999) into 12:00:00.122999.
    private static func microseconds(_ date: Date) -> Int {
        Int((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    private static func render(_ date: Date, separator: UInt8, zone: [UInt8]) -> String {
        render(microseconds(date), places: 6, separator: separator, zone: zone)
    }

    /// `micros` since 1970 as text, its fraction of a second cut to `places` digits (3 or 6).
    private static func render(_ micros: Int, places: Int, separator: UInt8, zone: [UInt8]) -> String {
        let totalSeconds = micros.floorDiv(1_000_000)
        let fraction = (micros - totalSeconds * 1_000_000) / (places == 3 ? 1_000 : 1)
        let (y, m, d) = civil(fromDays: totalSeconds.floorDiv(86_400))
        let secondOfDay = totalSeconds - totalSeconds.floorDiv(86_400) * 86_400
        var out = [UInt8]()
        out.reserveCapacity(29)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var v = value
            while divisor > 0 {
                out.append(UInt8(48 + v / divisor))
                v %= divisor
                divisor /= 10
            }
        }
        digits(y, 4)
        out.append(45)
        digits(m, 2)
        out.append(45)
        digits(d, 2)
        out.append(separator)
        digits(secondOfDay / 3600, 2)
        out.append(58)
        digits(secondOfDay / 60 % 60, 2)
        out.append(58)
        digits(secondOfDay % 60, 2)
        out.append(46)
        digits(fraction, places)
        out.append(contentsOf: zone)
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses `YYYY-MM-DD HH:MM:SS[.f…][+HH[:MM]]` (or with `T`); nil if malformed.
    public static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parse(bytes: $0) }
    }

    /// `parse(_:)` over raw UTF-8 bytes.
    public static func parse(bytes b: UnsafeBufferPointer<UInt8>) -> Date? {
        func num(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var v = 0
            for i in from..<(from + count) {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard b.count >= 19, let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2),
            let mi = num(14, 2), let s = num(17, 2), b[4] == 45, b[7] == 45, b[10] == 32 || b[10] == 84
        else { return nil }
        var i = 19
        var fraction = 0.0
        if i < b.count, b[i] == 46 {
            i += 1
            var scale = 0.1
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                fraction += Double(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
        }
        var offset = 0
        if i < b.count {
            if b[i] == 90 {  // Z
                i += 1
            } else if b[i] == 43 || b[i] == 45 {
                let sign = b[i] == 45 ? -1 : 1
                guard let oh = num(i + 1, 2) else { return nil }
                var om = 0
                i += 3
                if i < b.count, b[i] == 58 {
                    guard let m = num(i + 1, 2) else { return nil }
                    om = m
                    i += 3
                }
                offset = sign * (oh * 3600 + om * 60)
            }
        }
        guard i == b.count else { return nil }
        let days = days(fromCivil: y, mo, d)
        let seconds = days * 86_400 + h * 3600 + mi * 60 + s - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func days(fromCivil y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day count since 1970-01-01.
    static func civil(fromDays z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (m <= 2 ? y + 1 : y, m, d)
    }
}

extension Int {
    fileprivate func floorDiv(_ d: Int) -> Int {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }
}
