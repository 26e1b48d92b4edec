public import BallastCore
public import Foundation

/// Counters a venue keeps about the requests it saw.
public struct VenueStats: Sendable, Codable, Equatable {
    /// API requests received (control requests excluded).
    public var requests = 0
    /// Requests per `METHOD /path`.
    public var byEndpoint: [String: Int] = [:]
    /// Requests refused with 418 because a ban was in force.
    public var refusedWhileBanned = 0
    /// 429 responses sent.
    public var rateLimited = 0
    /// Bans imposed (418 after ignored 429s, or scripted).
    public var banned = 0
    /// Requests refused by the venue's rules (signature, filters, balance…).
    public var rejected = 0
    /// Orders accepted.
    public var ordersAccepted = 0
    /// Scripted faults that hit.
    public var faultsHit = 0
    /// The most request weight used in any one minute.
    public var maxWeightPerMinute = 0
}

/// An order as the venue holds it (for tests and `/sim/orders`, whatever the front's dialect): its
/// side, type and status in Ballast's words (`buy`, `post_only`, `filled`), as the engine keeps them.
public struct OrderView: Sendable, Codable, Equatable {
    public var orderId: Int64
    public var clientOrderId: String
    public var symbol: String
    public var side: String
    public var type: String
    public var status: String
    public var price: ExactDecimal
    public var origQty: ExactDecimal
    public var executedQty: ExactDecimal
    /// The venue's mid when the order reached its matching engine, before it traded.
    public var arrivalMid: ExactDecimal
    /// When the venue accepted it.
    public var time: Date

    init(_ order: SimOrder) {
        orderId = order.orderId
        clientOrderId = order.clientOrderId
        symbol = order.symbol
        side = order.side.rawValue
        type = order.type.rawValue
        status = order.status.rawValue
        price = order.price
        origQty = order.origQty
        executedQty = order.executedQty
        arrivalMid = order.arrivalMid
        time = order.time
    }

    /// Whether it can still trade (open, partially filled or pending a cancel).
    public var isOpen: Bool { VenueOrderStatus(rawValue: status)?.isOpen ?? false }
}

/// One asset's balance.
public struct BalanceView: Sendable, Codable, Equatable {
    public var free: ExactDecimal
    public var locked: ExactDecimal
    public var total: ExactDecimal { free + locked }
}

/// One trade of an account.
public struct TradeView: Sendable, Codable, Equatable {
    public var symbol: String
    public var id: Int64
    public var orderId: Int64
    public var isBuyer: Bool
    public var price: ExactDecimal
    public var qty: ExactDecimal
    public var commission: ExactDecimal
    public var commissionAsset: String

    init(symbol: String, trade: SimTrade) {
        self.symbol = symbol
        id = trade.id
        orderId = trade.orderId
        isBuyer = trade.isBuyer
        price = trade.price
        qty = trade.qty
        commission = trade.commission
        commissionAsset = trade.commissionAsset
    }
}
