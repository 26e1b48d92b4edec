public import Foundation

/// Best bid and offer at one moment.
public struct BookTicker: Sendable, Hashable, Codable {
    public var symbol: String
    public var bidPrice: ExactDecimal
    public var bidQty: ExactDecimal
    public var askPrice: ExactDecimal
    public var askQty: ExactDecimal

    public init(
        symbol: String, bidPrice: ExactDecimal, bidQty: ExactDecimal, askPrice: ExactDecimal, askQty: ExactDecimal
    ) {
        self.symbol = symbol
        self.bidPrice = bidPrice
        self.bidQty = bidQty
        self.askPrice = askPrice
        self.askQty = askQty
    }

    /// Mid m = (best bid + best ask) / 2 at the venue (DESIGN.md "Mid").
    public var mid: ExactDecimal {
        (bidPrice + askPrice).divided(by: 2, scale: max(bidPrice.scale, askPrice.scale) + 1)!
    }

    /// Ask − bid.
    public var spread: ExactDecimal { askPrice - bidPrice }
}

/// One price level of a book side.
public struct BookLevel: Sendable, Hashable, Codable {
    public var price: ExactDecimal
    public var qty: ExactDecimal

    public init(price: ExactDecimal, qty: ExactDecimal) {
        self.price = price
        self.qty = qty
    }
}

/// Order book depth at one moment, best level first on each side.
public struct DepthSnapshot: Sendable, Hashable, Codable {
    public var symbol: String
    public var lastUpdateId: Int64
    public var bids: [BookLevel]
    public var asks: [BookLevel]

    public init(symbol: String, lastUpdateId: Int64, bids: [BookLevel], asks: [BookLevel]) {
        self.symbol = symbol
        self.lastUpdateId = lastUpdateId
        self.bids = bids
        self.asks = asks
    }
}

/// An asset balance in an account.
public struct Balance: Sendable, Hashable, Codable {
    public var asset: String
    public var free: ExactDecimal
    public var locked: ExactDecimal

    public init(asset: String, free: ExactDecimal, locked: ExactDecimal) {
        self.asset = asset
        self.free = free
        self.locked = locked
    }

    /// free + locked.
    public var total: ExactDecimal { free + locked }
}

/// One execution of one of an account's orders, as the venue reports it (myTrades).
public struct Fill: Sendable, Hashable, Codable {
    public var symbol: String
    /// The venue's trade id (unique per symbol), as the venue writes it (Binance numbers trades,
    /// other venues name them).
    public var tradeId: String
    /// The venue's order id, as the venue writes it.
    public var orderId: String
    public var orderListId: Int64
    public var side: Side
    public var price: ExactDecimal
    public var qty: ExactDecimal
    public var quoteQty: ExactDecimal
    public var commission: ExactDecimal
    public var commissionAsset: String
    public var isMaker: Bool
    public var time: Date

    public init(
        symbol: String, tradeId: String, orderId: String, orderListId: Int64 = -1, side: Side, price: ExactDecimal,
        qty: ExactDecimal, quoteQty: ExactDecimal, commission: ExactDecimal, commissionAsset: String, isMaker: Bool,
        time: Date
    ) {
        self.symbol = symbol
        self.tradeId = tradeId
        self.orderId = orderId
        self.orderListId = orderListId
        self.side = side
        self.price = price
        self.qty = qty
        self.quoteQty = quoteQty
        self.commission = commission
        self.commissionAsset = commissionAsset
        self.isMaker = isMaker
        self.time = time
    }
}

/// An order as the venue reports it (order query, openOrders, allOrders).
public struct VenueOrder: Sendable, Hashable, Codable {
    public var symbol: String
    /// The venue's order id, as the venue writes it.
    public var orderId: String
    public var clientOrderId: String
    public var side: Side
    public var type: OrderType
    public var timeInForce: TimeInForce?
    public var price: ExactDecimal
    public var origQty: ExactDecimal
    public var executedQty: ExactDecimal
    public var cumulativeQuoteQty: ExactDecimal
    public var status: VenueOrderStatus
    public var time: Date
    public var updateTime: Date

    public init(
        symbol: String, orderId: String, clientOrderId: String, side: Side, type: OrderType, timeInForce: TimeInForce?,
        price: ExactDecimal, origQty: ExactDecimal, executedQty: ExactDecimal, cumulativeQuoteQty: ExactDecimal,
        status: VenueOrderStatus, time: Date, updateTime: Date
    ) {
        self.symbol = symbol
        self.orderId = orderId
        self.clientOrderId = clientOrderId
        self.side = side
        self.type = type
        self.timeInForce = timeInForce
        self.price = price
        self.origQty = origQty
        self.executedQty = executedQty
        self.cumulativeQuoteQty = cumulativeQuoteQty
        self.status = status
        self.time = time
        self.updateTime = updateTime
    }
}
