import BallastCore
import Foundation

// What Coinbase Advanced Trade answers, as far as Ballast reads it. Amounts arrive as decimal
// strings and decode straight into `ExactDecimal`; ids are strings (UUIDs).

/// An error body (`{"error": "...", "message": "...", "error_details": "..."}`), on any 4xx or 5xx.
struct CoinbaseErrorBody: Decodable {
    let error: String?
    let message: String?
    let error_details: String?

    var text: String {
        [error, message, error_details].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
    }
}

struct CoinbaseProduct: Decodable {
    let product_id: String
    let base_currency_id: String
    let quote_currency_id: String
    let base_increment: ExactDecimal
    let quote_increment: ExactDecimal?
    let price_increment: ExactDecimal?
    let base_min_size: ExactDecimal?
    let quote_min_size: ExactDecimal?
    let status: String?
    let trading_disabled: Bool?
    let is_disabled: Bool?
    let product_type: String?
}

struct CoinbaseProducts: Decodable {
    let products: [CoinbaseProduct]
}

/// A book level: `{"price": "...", "size": "..."}`.
struct CoinbaseLevel: Decodable {
    let price: ExactDecimal
    let size: ExactDecimal
}

struct CoinbasePricebook: Decodable {
    let product_id: String
    let bids: [CoinbaseLevel]
    let asks: [CoinbaseLevel]
    let time: String?
}

struct CoinbaseBestBidAsk: Decodable {
    let pricebooks: [CoinbasePricebook]
}

struct CoinbaseProductBook: Decodable {
    let pricebook: CoinbasePricebook
}

struct CoinbaseAmount: Decodable {
    let value: ExactDecimal
    let currency: String?
}

struct CoinbaseAccount: Decodable {
    let currency: String
    let available_balance: CoinbaseAmount
    let hold: CoinbaseAmount?
}

struct CoinbaseAccounts: Decodable {
    let accounts: [CoinbaseAccount]
    let has_next: Bool?
    let cursor: String?
}

struct CoinbaseFeeTier: Decodable {
    let maker_fee_rate: ExactDecimal?
    let taker_fee_rate: ExactDecimal?
}

struct CoinbaseTransactionSummary: Decodable {
    let fee_tier: CoinbaseFeeTier?
}

/// The order configurations Ballast sends and reads back (one key is set per order).
struct CoinbaseOrderConfiguration: Decodable {
    struct Limit: Decodable {
        let base_size: ExactDecimal?
        let limit_price: ExactDecimal?
        let post_only: Bool?
    }

    struct Market: Decodable {
        let base_size: ExactDecimal?
        let quote_size: ExactDecimal?
    }

    let limit_limit_gtc: Limit?
    let limit_limit_gtd: Limit?
    let limit_limit_fok: Limit?
    let sor_limit_ioc: Limit?
    let market_market_ioc: Market?
}

struct CoinbaseOrder: Decodable {
    let order_id: String
    let product_id: String
    let client_order_id: String?
    let side: String
    let status: String
    let order_configuration: CoinbaseOrderConfiguration?
    let time_in_force: String?
    let order_type: String?
    let created_time: String
    let last_fill_time: String?
    let filled_size: ExactDecimal?
    let filled_value: ExactDecimal?
    let average_filled_price: ExactDecimal?
}

struct CoinbaseOrderEnvelope: Decodable {
    let order: CoinbaseOrder
}

struct CoinbaseOrders: Decodable {
    let orders: [CoinbaseOrder]
    let has_next: Bool?
    let cursor: String?
}

struct CoinbaseCreateOrder: Decodable {
    struct Success: Decodable {
        let order_id: String
        let client_order_id: String?
    }

    struct Failure: Decodable {
        let error: String?
        let message: String?
        let error_details: String?
        let preview_failure_reason: String?
        let new_order_failure_reason: String?

        var text: String {
            [error, message, error_details, preview_failure_reason, new_order_failure_reason].compactMap { $0 }
                .filter { !$0.isEmpty && !$0.hasPrefix("UNKNOWN_") }.joined(separator: ": ")
        }
    }

    let success: Bool
    let success_response: Success?
    let error_response: Failure?
}

struct CoinbaseCancelResults: Decodable {
    struct Result: Decodable {
        let success: Bool
        let failure_reason: String?
        let order_id: String?
    }

    let results: [Result]
}

struct CoinbaseFill: Decodable {
    let entry_id: String?
    let trade_id: String
    let order_id: String
    let trade_time: String
    let price: ExactDecimal
    let size: ExactDecimal
    let commission: ExactDecimal
    let product_id: String
    let sequence_timestamp: String?
    let liquidity_indicator: String?
    let size_in_quote: Bool?
    let side: String
}

struct CoinbaseFills: Decodable {
    let fills: [CoinbaseFill]
    let cursor: String?
}

/// RFC 3339 times as Coinbase writes them (`2024-01-15T10:00:00Z`, `…:00.123456Z`, `…+00:00`),
/// with any number of fractional digits; nil when `text` is not one.
func coinbaseDate(_ text: String) -> Date? {
    let bytes = Array(text.utf8)
    func number(_ from: Int, _ count: Int) -> Int? {
        guard from + count <= bytes.count else { return nil }
        var value = 0
        for byte in bytes[from..<(from + count)] {
            guard (48...57).contains(byte) else { return nil }
            value = value * 10 + Int(byte - 48)
        }
        return value
    }
    guard bytes.count >= 20, let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
        let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2)
    else { return nil }
    var index = 19
    var fraction = 0.0
    if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
        index += 1
        var scale = 0.1
        while index < bytes.count, (48...57).contains(bytes[index]) {
            fraction += Double(bytes[index] - 48) * scale
            scale /= 10
            index += 1
        }
    }
    var offsetSeconds = 0
    if index < bytes.count, bytes[index] == UInt8(ascii: "Z") || bytes[index] == UInt8(ascii: "z") {
        index += 1
    } else if index + 6 == bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-"),
        let hours = number(index + 1, 2), let minutes = number(index + 4, 2)
    {
        offsetSeconds = (hours * 3600 + minutes * 60) * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
        index += 6
    } else {
        return nil
    }
    guard index == bytes.count else { return nil }
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    guard
        let whole = calendar.date(
            from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second))
    else { return nil }
    return whole.addingTimeInterval(fraction - Double(offsetSeconds))
}

/// A time as Coinbase's filters take it: RFC 3339 UTC with milliseconds.
func coinbaseTimestamp(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: date)
}
