public import BallastCore
import Foundation

/// Kraken answers every call with `{"error": [...], "result": ...}`, HTTP 200 even for most errors.
struct KrakenEnvelope<Result: Decodable>: Decodable {
    let error: [String]
    let result: Result?
}

/// Only the errors of an envelope (read before the result, so a bad result is not mistaken for one).
struct KrakenErrors: Decodable {
    let error: [String]?
}

struct KrakenTime: Decodable {
    let unixtime: Int64
}

struct KrakenAsset: Decodable {
    let altname: String
    let decimals: Int?
}

struct KrakenPair: Decodable {
    let altname: String
    let wsname: String?
    let base: String
    let quote: String
    let pair_decimals: Int
    let lot_decimals: Int
    let tick_size: ExactDecimal?
    let ordermin: ExactDecimal?
    let costmin: ExactDecimal?
    let status: String?
}

/// A ticker: `a` = [ask, whole lot volume, lot volume], `b` the same for the bid.
struct KrakenTicker: Decodable {
    let a: [ExactDecimal]
    let b: [ExactDecimal]
}

/// A book level: [price, volume, timestamp].
struct KrakenLevel: Decodable {
    let price: ExactDecimal
    let volume: ExactDecimal
    let time: Double

    init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        price = try c.decode(ExactDecimal.self)
        volume = try c.decode(ExactDecimal.self)
        time = try c.decode(Double.self)
    }
}

struct KrakenBook: Decodable {
    let bids: [KrakenLevel]
    let asks: [KrakenLevel]
}

struct KrakenBalance: Decodable {
    let balance: ExactDecimal
    let hold_trade: ExactDecimal?
}

struct KrakenFee: Decodable {
    let fee: ExactDecimal
}

struct KrakenTradeVolume: Decodable {
    let fees: [String: KrakenFee]?
    let fees_maker: [String: KrakenFee]?
}

struct KrakenTrade: Decodable {
    let ordertxid: String
    let pair: String
    let time: Double
    let type: String
    let price: ExactDecimal
    let cost: ExactDecimal
    let fee: ExactDecimal
    let vol: ExactDecimal
    let maker: Bool?
}

struct KrakenTradesHistory: Decodable {
    let trades: [String: KrakenTrade]
    let count: Int
}

struct KrakenOrderDescription: Decodable {
    let pair: String
    let type: String
    let ordertype: String
    let price: ExactDecimal?
}

struct KrakenOrder: Decodable {
    let cl_ord_id: String?
    let status: String
    let opentm: Double
    let closetm: Double?
    let descr: KrakenOrderDescription
    let vol: ExactDecimal
    let vol_exec: ExactDecimal
    let cost: ExactDecimal
    let oflags: String?
    let timeinforce: String?
    let trades: [String]?
}

struct KrakenOrders: Decodable {
    let open: [String: KrakenOrder]?
    let closed: [String: KrakenOrder]?
}

struct KrakenAddOrder: Decodable {
    let txid: [String]
}

struct KrakenCancel: Decodable {
    let count: Int
}

/// Seconds since 1970 (Kraken's times carry fractions) as a `Date`.
func krakenDate(_ seconds: Double) -> Date { Date(timeIntervalSince1970: seconds) }
