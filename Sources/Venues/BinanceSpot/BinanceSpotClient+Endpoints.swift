public import BallastCore
public import Foundation

/// What exchangeInfo says about a venue.
public struct ExchangeInfo: Sendable {
    /// The venue's published limits (safety margin and wait from the defaults).
    public var limits: RateLimits
    /// Trading rules per symbol.
    public var symbols: [SymbolRules]
}

/// Balances and fee rates of an account.
public struct AccountSnapshot: Sendable {
    public var balances: [Balance]
    public var makerRate: ExactDecimal?
    public var takerRate: ExactDecimal?
    /// When the venue last changed the account (nil if not reported).
    public var updateTime: Date?
}

/// A new order request.
public struct NewOrder: Sendable, Hashable {
    public var symbol: String
    public var side: Side
    public var type: OrderType
    public var timeInForce: TimeInForce?
    public var quantity: ExactDecimal
    public var price: ExactDecimal?
    public var clientOrderId: String

    public init(
        symbol: String, side: Side, type: OrderType, timeInForce: TimeInForce?, quantity: ExactDecimal,
        price: ExactDecimal?, clientOrderId: String
    ) {
        self.symbol = symbol
        self.side = side
        self.type = type
        self.timeInForce = timeInForce
        self.quantity = quantity
        self.price = price
        self.clientOrderId = clientOrderId
    }
}

/// One page of an account's fills and where the next page starts.
public struct FillPage: Sendable {
    public var fills: [Fill]
    /// The cursor after this page (the dialect's own text; nil: still at the start).
    public var next: String?
    /// Whether the venue may have more after this page.
    public var more: Bool

    public init(fills: [Fill], next: String?, more: Bool) {
        self.fills = fills
        self.next = next
        self.more = more
    }
}

/// The venue's answer to a new order: the order and the trades it made at once.
public struct OrderAck: Sendable {
    public var order: VenueOrder
    /// Immediate executions (price, qty, commission, trade id); empty for a resting order.
    public var fills: [Fill]
    /// The HTTP attempt of the order request the venue answered (the last, when it was sent more
    /// than once); nil when the event store keeps no ids.
    public var httpAttemptId: HTTPAttempt.ID?

    public init(order: VenueOrder, fills: [Fill], httpAttemptId: HTTPAttempt.ID?) {
        self.order = order
        self.fills = fills
        self.httpAttemptId = httpAttemptId
    }
}

extension BinanceSpotClient {
    /// The venue's server time.
    public func serverTime() async throws(VenueError) -> Date {
        let time: WireServerTime = try await call(.time, [])
        return date(ms: time.serverTime)
    }

    /// Symbols with their filters, and the published rate limits.
    public func exchangeInfo() async throws(VenueError) -> ExchangeInfo {
        let info: WireExchangeInfo = try await call(.exchangeInfo, [])
        var limits = RateLimits()
        for limit in info.rateLimits where limit.interval == "MINUTE" && limit.intervalNum == 1 {
            if limit.rateLimitType == "REQUEST_WEIGHT" { limits.requestWeightPerMinute = limit.limit }
        }
        for limit in info.rateLimits where limit.rateLimitType == "ORDERS" && limit.interval == "SECOND" {
            limits.ordersPerTenSeconds = limit.limit * 10 / max(limit.intervalNum, 1)
        }
        return ExchangeInfo(limits: limits, symbols: info.symbols.map { $0.rules() })
    }

    /// Best bid and offer for `symbols` (all symbols when empty).
    public func bookTickers(_ symbols: [String]) async throws(VenueError) -> [BookTicker] {
        let wire: [WireBookTicker]
        if symbols.count == 1 {
            let one: WireBookTicker = try await call(.bookTicker, [("symbol", symbols[0])])
            wire = [one]
        } else if symbols.isEmpty {
            wire = try await call(.bookTicker, [])
        } else {
            let list = "[" + symbols.map { "\"\($0)\"" }.joined(separator: ",") + "]"
            wire = try await call(.bookTicker, [("symbols", list)])
        }
        return wire.map {
            BookTicker(
                symbol: $0.symbol, bidPrice: $0.bidPrice, bidQty: $0.bidQty, askPrice: $0.askPrice, askQty: $0.askQty)
        }
    }

    /// Order book depth, best levels first (`limit` levels per side).
    public func depth(_ symbol: String, limit: Int = 100) async throws(VenueError) -> DepthSnapshot {
        let wire: WireDepth = try await call(.depth, [("symbol", symbol), ("limit", String(limit))])
        do {
            return try wire.snapshot(symbol: symbol)
        } catch {
            throw .malformed(venue: venue, endpoint: "/api/v3/depth", reason: "\(error)", raw: "")
        }
    }

    /// Balances and commission rates of the account.
    public func account() async throws(VenueError) -> AccountSnapshot {
        let wire: WireAccount = try await call(.account, [])
        return AccountSnapshot(
            balances: wire.balances.map { Balance(asset: $0.asset, free: $0.free, locked: $0.locked) },
            makerRate: wire.commissionRates?.maker, takerRate: wire.commissionRates?.taker,
            updateTime: wire.updateTime.map { date(ms: $0) })
    }

    /// The account's trades on `symbol` with id ≥ `fromId` (one page, at most `limit` ≤ 1000).
    public func myTrades(_ symbol: String, fromId: Int64? = nil, orderId: String? = nil, limit: Int = 1000)
        async throws(VenueError) -> [Fill]
    {
        try await tradesAnswer(symbol, fromId: fromId, orderId: orderId, limit: limit).value
    }

    /// `myTrades`, naming the attempt the page came in.
    func tradesAnswer(_ symbol: String, fromId: Int64? = nil, orderId: String? = nil, limit: Int = 1000)
        async throws(VenueError) -> Answer<[Fill]>
    {
        var params = [("symbol", symbol)]
        if let orderId { params.append(("orderId", orderId)) }
        if let fromId { params.append(("fromId", String(fromId))) }
        params.append(("limit", String(min(max(limit, 1), 1000))))
        let wire: Answer<[WireTrade]> = try await answer(.myTrades, params)
        return Answer(wire.value.map { $0.fill() }, httpAttemptId: wire.httpAttemptId)
    }

    /// One page of the account's fills on `symbol` from `cursor` (nil: from its first trade). The
    /// cursor is the next trade id to ask for (`fromId`), as text.
    public func fillPage(_ symbol: String?, from cursor: String?, limit: Int = 1000) async throws(VenueError)
        -> FillPage
    {
        guard let symbol else {
            throw .rejected(
                venue: venue, endpoint: "/api/v3/myTrades", httpStatus: 400, code: -1102,
                message: "Binance reads trades one symbol at a time")
        }
        var start: Int64 = 0
        if let cursor {
            guard let id = Int64(cursor) else {
                throw .malformed(
                    venue: venue, endpoint: "/api/v3/myTrades",
                    reason: "stored fills cursor '\(cursor)' is not a trade id",
                    raw: "")
            }
            start = id
        }
        let fills = try await myTrades(symbol, fromId: start, limit: limit)
        let last = fills.compactMap { Int64($0.tradeId) }.max()
        return FillPage(
            fills: fills, next: last.map { String($0 + 1) } ?? cursor, more: fills.count >= min(limit, 1000))
    }

    /// Open orders on `symbol` (all symbols when nil: weight 80).
    public func openOrders(_ symbol: String?) async throws(VenueError) -> [VenueOrder] {
        let wire: [WireOrder] = try await call(.openOrders, symbol.map { [("symbol", $0)] } ?? [])
        return try mapOrders(wire, "/api/v3/openOrders")
    }

    /// Order history on `symbol`.
    public func allOrders(_ symbol: String, limit: Int = 500) async throws(VenueError) -> [VenueOrder] {
        let wire: [WireOrder] = try await call(.allOrders, [("symbol", symbol), ("limit", String(min(limit, 1000)))])
        return try mapOrders(wire, "/api/v3/allOrders")
    }

    /// Places an order with its client order id and FULL response. An
    /// ambiguous outcome throws `outcomeUnknown`: look the order up before any resend.
    public func placeOrder(_ order: NewOrder) async throws(VenueError) -> OrderAck {
        var params: [(String, String)] = [
            ("symbol", order.symbol), ("side", order.side.venueName), ("type", order.type.binanceName),
        ]
        if let tif = order.timeInForce, order.type == .limit { params.append(("timeInForce", tif.binanceName)) }
        params.append(("quantity", order.quantity.description))
        if let price = order.price, order.type != .market { params.append(("price", price.description)) }
        params.append(("newClientOrderId", order.clientOrderId))
        params.append(("newOrderRespType", "FULL"))
        let reply: Answer<WireOrder> = try await answer(.newOrder, params, clientOrderId: order.clientOrderId)
        let placed = try mapOrder(reply)
        let fills = (reply.value.fills ?? []).map {
            Fill(
                symbol: placed.symbol, tradeId: String($0.tradeId), orderId: placed.orderId, side: placed.side,
                price: $0.price,
                qty: $0.qty, quoteQty: $0.price * $0.qty, commission: $0.commission,
                commissionAsset: $0.commissionAsset, isMaker: false, time: placed.updateTime)
        }
        return OrderAck(order: placed, fills: fills, httpAttemptId: reply.httpAttemptId)
    }

    /// Looks an order up by client order id; nil when the venue says it does not exist (−2013).
    public func queryOrder(_ symbol: String, clientOrderId: String) async throws(VenueError)
        -> Answer<VenueOrder?>
    {
        do {
            let wire: Answer<WireOrder> = try await answer(
                .queryOrder, [("symbol", symbol), ("origClientOrderId", clientOrderId)], clientOrderId: clientOrderId)
            return Answer(try mapOrder(wire), httpAttemptId: wire.httpAttemptId)
        } catch {
            if error.venueCode == -2013 { return Answer(nil, httpAttemptId: error.httpAttemptId) }
            throw error
        }
    }

    /// Cancels an order by client order id; nil when the venue does not know it (−2011).
    public func cancelOrder(_ symbol: String, clientOrderId: String) async throws(VenueError)
        -> Answer<VenueOrder?>
    {
        do {
            let wire: Answer<WireOrder> = try await answer(
                .cancelOrder, [("symbol", symbol), ("origClientOrderId", clientOrderId)], clientOrderId: clientOrderId)
            return Answer(try mapOrder(wire), httpAttemptId: wire.httpAttemptId)
        } catch {
            if error.venueCode == -2011 { return Answer(nil, httpAttemptId: error.httpAttemptId) }
            throw error
        }
    }

    /// One order of `/api/v3/order` in Ballast's terms; one that does not map is `malformed`, in
    /// the attempt it came in.
    private func mapOrder(_ wire: Answer<WireOrder>) throws(VenueError) -> VenueOrder {
        do {
            return try wire.value.venueOrder()
        } catch {
            throw .malformed(
                venue: venue, endpoint: "/api/v3/order", reason: "\(error)", raw: "", httpAttemptId: wire.httpAttemptId)
        }
    }

    private func mapOrders(_ wire: [WireOrder], _ endpoint: String) throws(VenueError) -> [VenueOrder] {
        do {
            return try wire.map { try $0.venueOrder() }
        } catch {
            throw .malformed(venue: venue, endpoint: endpoint, reason: "\(error)", raw: "")
        }
    }
}
