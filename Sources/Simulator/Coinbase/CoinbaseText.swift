import BallastCore
import Digest
import Foundation

/// How the Coinbase front spells times, ids and amounts.
enum CoinbaseText {
    /// RFC 3339 in UTC with microseconds, as Coinbase writes times: `2026-01-01T00:00:00.123456Z`.
    static func time(_ date: Date) -> String {
        let total = micros(date)
        let seconds = total >= 0 ? total / 1_000_000 : (total - 999_999) / 1_000_000
        let fraction = total - seconds * 1_000_000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let inDay = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(inDay / 3600, 2)):\(pad(inDay % 3600 / 60, 2)):"
            + "\(pad(inDay % 60, 2)).\(pad(fraction, 6))Z"
    }

    /// Microseconds since 1970 of an RFC 3339 time (`Z` or an offset, any fraction, cut to
    /// microseconds), counted exactly so a time read back names the same microsecond; nil for
    /// anything else.
    static func micros(_ text: String) -> Int64? {
        guard text.contains("T") else { return nil }
        var whole = Substring(text)
        var fraction: Int64 = 0
        if let dot = text.firstIndex(of: ".") {
            let digits = text[text.index(after: dot)...].prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty else { return nil }
            let six = String((digits + "000000").prefix(6))
            fraction = Int64(six) ?? 0
            whole = text[..<dot] + text[digits.endIndex...]
        }
        guard let seconds = OHLCVTimestamp.parse(whole), seconds == seconds.rounded(.down) else { return nil }
        return Int64(seconds) * 1_000_000 + fraction
    }

    /// Microseconds since 1970 of `date`, rounded down (as `time` writes it).
    static func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded(.down)) }

    /// The civil date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
    private static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shifted = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shifted + 2) / 5 + 1
        let month = shifted < 10 ? shifted + 3 : shifted - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// 16 bytes as a lower-case UUID, 8-4-4-4-12.
    static func uuid(_ bytes: [UInt8]) -> String {
        let hex = Digest.hex(bytes.prefix(16))
        let chars = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(chars[$0]) }.joined(separator: "-")
    }

    /// A version-4-shaped UUID derived from `seed`: the same seed, the same id.
    static func uuid(seed: String) -> String {
        var bytes = Array(Digest.sha256(seed).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return uuid(bytes)
    }

    /// An amount as Coinbase writes it: a string without trailing zeros.
    static func amount(_ value: ExactDecimal) -> String { value.plainString }
}

/// A query string with repeated keys kept (`product_ids=A&product_ids=B`), as Coinbase reads
/// its list parameters.
struct CoinbaseQuery {
    private var pairs: [(String, String)] = []

    init(_ raw: String) {
        for part in raw.split(separator: "&") {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = pieces.count > 1 ? RequestParams.decode(String(pieces[1])) : ""
            pairs.append((RequestParams.decode(String(pieces[0])), value))
        }
    }

    /// Every non-empty value given for `name`, in order.
    func all(_ name: String) -> [String] { pairs.filter { $0.0 == name && !$0.1.isEmpty }.map(\.1) }

    /// The last non-empty value given for `name`.
    subscript(_ name: String) -> String? { all(name).last }

    /// A page size: `fallback` when absent, refused outside 1…`max`.
    func limit(fallback: Int, max: Int) throws(CoinbaseError) -> Int {
        guard let text = self["limit"] else { return fallback }
        guard let value = Int(text), value >= 1 else { throw .invalid("limit must be a positive integer") }
        return min(value, max)
    }

    /// An RFC 3339 time parameter, in microseconds since 1970.
    func micros(_ name: String) throws(CoinbaseError) -> Int64? {
        guard let text = self[name] else { return nil }
        guard let micros = CoinbaseText.micros(text) else { throw .invalid("\(name) must be an RFC 3339 time") }
        return micros
    }
}

extension AccountConfig {
    /// A funded demo account for a Coinbase-dialect venue: a CDP-style key name
    /// (`organizations/<uuid>/apiKeys/<uuid>`) and a P-256 private key PEM, both derived from the
    /// venue's name, so a demo's job file can be written without being told them (demo only).
    public static func coinbaseDemo(venue: String) -> AccountConfig {
        var account = AccountConfig.demo(venue: venue)
        let organization = CoinbaseText.uuid(seed: "ballast-demo|\(venue)|organization")
        let key = CoinbaseText.uuid(seed: "ballast-demo|\(venue)|api-key")
        account.apiKey = "organizations/\(organization)/apiKeys/\(key)"
        account.secret = ECPrivateKey(derivedFrom: Array("ballast-demo|\(venue)|ec-key".utf8)).pem
        return account
    }

    /// Why `secret` cannot be a Coinbase key's secret, if it cannot.
    static func coinbaseSecretProblem(_ secret: String) -> String? {
        do throws(DigestError) {
            _ = try ECPrivateKey(pem: secret)
            return nil
        } catch {
            return "a Coinbase key's secret must be a P-256 private key in PEM (\(error))"
        }
    }
}
