import BallastCore
import Foundation

// The JSON shapes of Binance Spot responses, decoded with exact decimals and
// mapped to BallastCore's types. Decimals are JSON strings, ids and times numbers.

struct WireError: Decodable {
    let code: Int
    let msg: String
}

struct WireServerTime: Decodable {
    let serverTime: Int64
}

struct WireExchangeInfo: Decodable {
    struct RateLimit: Decodable {
        let rateLimitType: String
        let interval: String
        let intervalNum: Int
        let limit: Int
    }
    struct Symbol: Decodable {
        let symbol: String
        let status: String
        let baseAsset: String
        let quoteAsset: String
        let filters: [Filter]
    }
    struct Filter: Decodable {
        let filterType: String
        let minPrice: ExactDecimal?
        let maxPrice: ExactDecimal?
        let tickSize: ExactDecimal?
        let minQty: ExactDecimal?
        let maxQty: ExactDecimal?
        let stepSize: ExactDecimal?
        let minNotional: ExactDecimal?
        let maxNotional: ExactDecimal?
    }
    let rateLimits: [RateLimit]
    let symbols: [Symbol]
}

struct WireBookTicker: Decodable {
    let symbol: String
    let bidPrice: ExactDecimal
    let bidQty: ExactDecimal
    let askPrice: ExactDecimal
    let askQty: ExactDecimal
}

struct WireDepth: Decodable {
    let lastUpdateId: Int64
    let bids: [[ExactDecimal]]
    let asks: [[ExactDecimal]]
}

struct WireAccount: Decodable {
    struct WireBalance: Decodable {
        let asset: String
        let free: ExactDecimal
        let locked: ExactDecimal
    }
    struct Rates: Decodable {
        let maker: ExactDecimal
        let taker: ExactDecimal
    }
    let balances: [WireBalance]
    let commissionRates: Rates?
    let updateTime: Int64?
}

struct WireTrade: Decodable {
    let symbol: String
    let id: Int64
    let orderId: Int64
    let orderListId: Int64?
    let price: ExactDecimal
    let qty: ExactDecimal
    let quoteQty: ExactDecimal
    let commission: ExactDecimal
    let commissionAsset: String
    let time: Int64
    let isBuyer: Bool
    let isMaker: Bool
}

struct WireOrder: Decodable {
    let symbol: String
    let orderId: Int64
    let clientOrderId: String
    let price: ExactDecimal
    let origQty: ExactDecimal
    let executedQty: ExactDecimal
    let cumulativeQuoteQty: ExactDecimal
    let status: String
    let timeInForce: String?
    let type: String
    let side: String
    let time: Int64?
    let updateTime: Int64?
    let transactTime: Int64?
    let fills: [WireOrderFill]?

    enum CodingKeys: String, CodingKey {
        case symbol, orderId, clientOrderId, price, origQty, executedQty, status, timeInForce, type, side, time
        case updateTime, transactTime, fills
        case cummulativeQuoteQty, cumulativeQuoteQty
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        symbol = try c.decode(String.self, forKey: .symbol)
        orderId = try c.decode(Int64.self, forKey: .orderId)
        clientOrderId = try c.decode(String.self, forKey: .clientOrderId)
        price = try c.decode(ExactDecimal.self, forKey: .price)
        origQty = try c.decode(ExactDecimal.self, forKey: .origQty)
        executedQty = try c.decode(ExactDecimal.self, forKey: .executedQty)
        // Binance spells it "cummulativeQuoteQty"; accept the plain spelling too.
        cumulativeQuoteQty =
            try c.decodeIfPresent(ExactDecimal.self, forKey: .cummulativeQuoteQty)
            ?? c.decode(ExactDecimal.self, forKey: .cumulativeQuoteQty)
        status = try c.decode(String.self, forKey: .status)
        timeInForce = try c.decodeIfPresent(String.self, forKey: .timeInForce)
        type = try c.decode(String.self, forKey: .type)
        side = try c.decode(String.self, forKey: .side)
        time = try c.decodeIfPresent(Int64.self, forKey: .time)
        updateTime = try c.decodeIfPresent(Int64.self, forKey: .updateTime)
        transactTime = try c.decodeIfPresent(Int64.self, forKey: .transactTime)
        fills = try c.decodeIfPresent([WireOrderFill].self, forKey: .fills)
    }
}

struct WireOrderFill: Decodable {
    let price: ExactDecimal
    let qty: ExactDecimal
    let commission: ExactDecimal
    let commissionAsset: String
    let tradeId: Int64
}

/// Milliseconds since 1970 as a `Date`.
func date(ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }

/// A wire value that decoded but does not make sense (unknown enum spelling, short depth level).
struct WireMappingError: Error, CustomStringConvertible {
    let description: String
}

extension WireOrder {
    func venueOrder() throws -> VenueOrder {
        guard let side = Side(venueName: side) else { throw WireMappingError(description: "unknown side '\(side)'") }
        guard let type = OrderType(binanceName: type) else {
            throw WireMappingError(description: "unknown type '\(type)'")
        }
        guard let status = VenueOrderStatus(binanceName: status) else {
            throw WireMappingError(description: "unknown status '\(status)'")
        }
        let created = time ?? transactTime ?? 0
        return VenueOrder(
            symbol: symbol, orderId: String(orderId), clientOrderId: clientOrderId, side: side, type: type,
            timeInForce: timeInForce.flatMap(TimeInForce.init(binanceName:)), price: price, origQty: origQty,
            executedQty: executedQty, cumulativeQuoteQty: cumulativeQuoteQty, status: status,
            time: date(ms: created), updateTime: date(ms: updateTime ?? transactTime ?? created))
    }
}

extension WireTrade {
    func fill() -> Fill {
        Fill(
            symbol: symbol, tradeId: String(id), orderId: String(orderId), orderListId: orderListId ?? -1,
            side: isBuyer ? .buy : .sell,
            price: price, qty: qty, quoteQty: quoteQty, commission: commission, commissionAsset: commissionAsset,
            isMaker: isMaker, time: date(ms: time))
    }
}

extension WireDepth {
    func snapshot(symbol: String) throws -> DepthSnapshot {
        func levels(_ rows: [[ExactDecimal]]) throws -> [BookLevel] {
            try rows.map { row in
                guard row.count >= 2 else {
                    throw WireMappingError(description: "depth level with \(row.count) values")
                }
                return BookLevel(price: row[0], qty: row[1])
            }
        }
        return DepthSnapshot(symbol: symbol, lastUpdateId: lastUpdateId, bids: try levels(bids), asks: try levels(asks))
    }
}

extension WireExchangeInfo.Symbol {
    func rules() -> SymbolRules {
        func filter(_ name: String) -> WireExchangeInfo.Filter? { filters.first { $0.filterType == name } }
        let price = filter("PRICE_FILTER")
        let lot = filter("LOT_SIZE")
        let notional = filter("NOTIONAL") ?? filter("MIN_NOTIONAL")
        return SymbolRules(
            pair: TradingPair(symbol: symbol, base: baseAsset, quote: quoteAsset), status: status,
            tickSize: price?.tickSize ?? .zero, minPrice: price?.minPrice ?? .zero, maxPrice: price?.maxPrice ?? .zero,
            stepSize: lot?.stepSize ?? .zero, minQty: lot?.minQty ?? .zero, maxQty: lot?.maxQty ?? .zero,
            minNotional: notional?.minNotional ?? .zero,
            maxNotional: notional?.maxNotional.flatMap { $0.isZero ? nil : $0 })
    }
}
