public import BallastCore
public import Foundation

extension VenueDialect {
    /// Kraken Spot: client order ids are the first 32 hex digits of the intent key (Kraken takes a
    /// UUID, 32 hex digits or at most 18 characters of text); the call counter is kept per API key,
    /// so each key draws on its own budget.
    public static let krakenSpot = VenueDialect(
        name: "kraken-spot", clientOrderId: { String($0.prefix(32)) }, budgetPerKey: true,
        callCounter: KrakenSpotClient.starterCounter, publicCallCounter: KrakenSpotClient.publicCounter
    ) { parts in
        KrakenSpotClient(
            venue: parts.venue, account: parts.account, baseURL: parts.baseURL, credentials: parts.credentials,
            transport: parts.transport, governor: parts.governor, events: parts.events, clock: parts.clock,
            nonces: parts.nonces, orderWindowMs: parts.recvWindowMs)
    }
}

extension KrakenSpotClient: VenueClient {
    /// Kraken signs with a nonce, not a timestamp: there is no clock offset to measure.
    @discardableResult
    public func synchroniseClock() async throws(VenueError) -> Duration { .zero }

    public func clientOrderId(intentKey: String) -> String { VenueDialect.krakenSpot.clientOrderId(intentKey) }

    /// The venue's clock.
    public func serverTime() async throws(VenueError) -> Date {
        let time: KrakenTime = try await call(.time, [])
        return Date(timeIntervalSince1970: Double(time.unixtime))
    }

    /// Assets and pairs under Ballast's names, with each pair's rules.
    public func listing() async throws(VenueError) -> ExchangeInfo {
        let names = try await names()
        return ExchangeInfo(
            limits: Self.publishedLimits,
            symbols: names.bySymbol.values.map(\.rules).sorted { $0.pair.symbol < $1.pair.symbol })
    }

    public func account() async throws(VenueError) -> AccountSnapshot {
        let names = try await names()
        let wire: [String: KrakenBalance] = try await call(.balanceEx, [])
        var balances: [String: Balance] = [:]
        for (key, entry) in wire {
            let asset = names.assetOf[key] ?? KrakenNames.aliases[key] ?? key
            let held = entry.hold_trade ?? .zero
            var balance = balances[asset] ?? Balance(asset: asset, free: .zero, locked: .zero)
            balance.free += entry.balance - held
            balance.locked += held
            balances[asset] = balance
        }
        // Fee rates of the first pair (Kraken's schedule is the same for every pair of a tier).
        var maker: ExactDecimal?
        var taker: ExactDecimal?
        if let pair = names.bySymbol.values.map(\.altname).sorted().first {
            let volume: KrakenTradeVolume = try await call(.tradeVolume, [("pair", pair)])
            let hundred = ExactDecimal(100)
            taker = volume.fees?.values.first.flatMap { $0.fee.divided(by: hundred, scale: 8, .halfEven) }
            maker = volume.fees_maker?.values.first.flatMap { $0.fee.divided(by: hundred, scale: 8, .halfEven) }
        }
        return AccountSnapshot(
            balances: balances.values.sorted { $0.asset < $1.asset }, makerRate: maker, takerRate: taker,
            updateTime: nil)
    }

    public func bookTickers(_ symbols: [String]) async throws(VenueError) -> [BookTicker] {
        let names = try await names()
        var wanted = symbols
        if wanted.isEmpty { wanted = names.bySymbol.keys.sorted() }
        var pairs: [String] = []
        for symbol in wanted { pairs.append(try await wirePair(symbol).altname) }
        let wire: [String: KrakenTicker] = try await call(.ticker, [("pair", pairs.joined(separator: ","))])
        var tickers: [BookTicker] = []
        for (key, ticker) in wire {
            guard let symbol = names.symbolOf[key], ticker.a.count >= 3, ticker.b.count >= 3 else { continue }
            tickers.append(
                BookTicker(
                    symbol: symbol, bidPrice: ticker.b[0], bidQty: ticker.b[2], askPrice: ticker.a[0],
                    askQty: ticker.a[2]))
        }
        return tickers.sorted { $0.symbol < $1.symbol }
    }

    /// The book of `symbol`; Kraken gives no update id, so the newest level's time (ms) stands in.
    public func depth(_ symbol: String, limit: Int) async throws(VenueError) -> DepthSnapshot {
        let pair = try await wirePair(symbol)
        let wire: [String: KrakenBook] = try await call(
            .depth, [("pair", pair.altname), ("count", String(min(max(limit, 1), 500)))])
        guard let book = wire[pair.key] ?? wire.values.first else {
            throw .malformed(venue: venue, endpoint: "/0/public/Depth", reason: "no book for \(pair.key)", raw: "")
        }
        let newest = (book.bids + book.asks).map { (level: KrakenLevel) in level.time }.max() ?? 0
        return DepthSnapshot(
            symbol: symbol, lastUpdateId: Int64((newest * 1000).rounded(.down)),
            bids: book.bids.map { BookLevel(price: $0.price, qty: $0.volume) },
            asks: book.asks.map { BookLevel(price: $0.price, qty: $0.volume) })
    }

    public func openOrders(_ symbol: String?) async throws(VenueError) -> [VenueOrder] {
        let wire: KrakenOrders = try await call(.openOrders, [])
        return try await orders(wire.open ?? [:]).filter { symbol == nil || $0.symbol == symbol }
    }

    /// One page of the account's trades on `symbol` (nil: every pair). Kraken lists trades newest first, 50 a page, by
    /// offset; the cursor holds where this pull started (`start`, a time: the pull reads what came
    /// after it), how far it has read (`ofs`), and the newest trade seen. Only when the last page is
    /// read does `start` move on (a second back, so a trade stamped in the same second as the newest
    /// is not missed; it is stored once). Trades arriving during a pull push older ones to higher
    /// offsets: a resumed pull may read some twice, never skip one.
    /// Kraken answers open orders and trades for the whole account in one call.
    public var readsAccountWide: Bool { true }

    public func fillPage(_ symbol: String?, from cursor: String?, limit: Int) async throws(VenueError) -> FillPage {
        let names = try await names()
        var position = try KrakenCursor(cursor, venue: venue)
        var params: [(String, String)] = [("ofs", String(position.offset))]
        if position.start > 0 { params.append(("start", String(position.start))) }
        let wire: KrakenTradesHistory = try await call(.tradesHistory, params)
        var fills: [Fill] = []
        for (id, trade) in wire.trades {
            position.newest = max(position.newest, Int64(trade.time.rounded(.down)))
            guard let name = names.symbolOf[trade.pair], symbol == nil || name == symbol,
                let pair = names.bySymbol[name]
            else { continue }
            fills.append(try fill(id, trade, pair: pair.rules.pair))
        }
        let read = position.offset + wire.trades.count
        let more = !wire.trades.isEmpty && read < wire.count
        if more {
            position.offset = read
        } else {
            position.offset = 0
            if position.newest > 0 { position.start = max(position.start, position.newest - 1) }
        }
        return FillPage(
            fills: fills.sorted { ($0.time, $0.tradeId) < ($1.time, $1.tradeId) }, next: position.text, more: more)
    }

    private func fill(_ id: String, _ trade: KrakenTrade, pair: TradingPair) throws(VenueError) -> Fill {
        guard let side = Side(venueName: trade.type) else {
            throw .malformed(
                venue: venue, endpoint: "/0/private/TradesHistory", reason: "trade \(id): side '\(trade.type)'",
                raw: "")
        }
        // Kraken takes its fee in the quote currency of the pair.
        return Fill(
            symbol: pair.symbol, tradeId: id, orderId: trade.ordertxid, side: side, price: trade.price, qty: trade.vol,
            quoteQty: trade.cost, commission: trade.fee, commissionAsset: pair.quote, isMaker: trade.maker ?? false,
            time: krakenDate(trade.time))
    }

    // MARK: Orders

    /// Places an order with its client order id (`cl_ord_id`) and a deadline after which the
    /// matching engine refuses it. Kraken answers with the order's id only, so the order is read
    /// back by that id (QueryOrders): its status, what it executed and when the venue opened it.
    /// If that read fails the order is reported as new at the time it was sent, and the executor
    /// looks it up as it does any order still open.
    public func placeOrder(_ order: NewOrder) async throws(VenueError) -> OrderAck {
        let sentAt = clock.now()
        let pair = try await wirePair(order.symbol)
        var params: [(String, String)] = [
            ("ordertype", order.type == .market ? "market" : "limit"), ("type", order.side.krakenName),
            ("volume", order.quantity.description), ("pair", pair.altname),
        ]
        if let price = order.price, order.type != .market { params.append(("price", price.description)) }
        if order.type == .postOnly {
            params.append(("oflags", "post"))
        } else if let tif = order.timeInForce, order.type == .limit {
            guard let name = tif.krakenName else {
                throw .rejected(
                    venue: venue, endpoint: "/0/private/AddOrder", httpStatus: 0, code: 0,
                    message: "Kraken has no fill-or-kill time in force for spot orders; nothing was sent")
            }
            params.append(("timeinforce", name))
        }
        params.append(("cl_ord_id", order.clientOrderId))
        params.append(("deadline", Self.rfc3339(clock.now().addingTimeInterval(Double(orderWindowMs) / 1000))))
        let added: Answer<KrakenAddOrder> = try await answer(.addOrder, params, clientOrderId: order.clientOrderId)
        guard let txid = added.value.txid.first else {
            throw .malformed(
                venue: venue, endpoint: "/0/private/AddOrder", reason: "no txid", raw: "",
                httpAttemptId: added.httpAttemptId)
        }
        if let wire: [String: KrakenOrder] = try? await call(.queryOrders, [("txid", txid)]),
            let placed = try? await orders(wire).first(where: { $0.orderId == txid })
        {
            return OrderAck(order: placed, fills: [], httpAttemptId: added.httpAttemptId)
        }
        return OrderAck(
            order: .acknowledged(order, orderId: txid, sentAt: sentAt), fills: [], httpAttemptId: added.httpAttemptId)
    }

    /// Looks an order up by client order id among open orders, then closed ones; nil when neither
    /// knows it. The answer names the read that found it (or the last, that did not).
    public func queryOrder(_ symbol: String, clientOrderId: String) async throws(VenueError)
        -> Answer<VenueOrder?>
    {
        let open: Answer<KrakenOrders> = try await answer(
            .openOrders, [("cl_ord_id", clientOrderId)], clientOrderId: clientOrderId)
        let found = try await open.map { (wire) async throws(VenueError) in
            try await orders(wire.open ?? [:]).first { $0.clientOrderId == clientOrderId }
        }
        if found.value != nil { return found }
        let closed: Answer<KrakenOrders> = try await answer(
            .closedOrders, [("cl_ord_id", clientOrderId)], clientOrderId: clientOrderId)
        return try await closed.map { (wire) async throws(VenueError) in
            try await orders(wire.closed ?? [:]).first { $0.clientOrderId == clientOrderId }
        }
    }

    /// Cancels by client order id; nil when the venue does not know the order. The order is read
    /// back after the cancel; the answer names the cancel request.
    public func cancelOrder(_ symbol: String, clientOrderId: String) async throws(VenueError)
        -> Answer<VenueOrder?>
    {
        let cancel: Answer<KrakenCancel>
        do {
            cancel = try await answer(.cancelOrder, [("cl_ord_id", clientOrderId)], clientOrderId: clientOrderId)
        } catch {
            if case .rejected(_, _, _, _, let message, let id) = error, message.hasPrefix("EOrder:Unknown order") {
                return Answer(nil, httpAttemptId: id)
            }
            throw error
        }
        let order = try await queryOrder(symbol, clientOrderId: clientOrderId).value
        return Answer(order, httpAttemptId: cancel.httpAttemptId)
    }

    /// The trades of one order: its trade ids (QueryOrders), then the trades (QueryTrades). The
    /// answer names the last of the two that was sent.
    public func orderFills(_ symbol: String, orderId: String) async throws(VenueError) -> Answer<[Fill]> {
        let pair = try await wirePair(symbol)
        let orders: Answer<[String: KrakenOrder]> = try await answer(
            .queryOrders, [("txid", orderId), ("trades", "true")])
        let ids = orders.value[orderId]?.trades ?? []
        guard !ids.isEmpty else { return Answer([], httpAttemptId: orders.httpAttemptId) }
        let trades: Answer<[String: KrakenTrade]> = try await answer(
            .queryTrades, [("txid", ids.joined(separator: ","))])
        return try await trades.map { (trades) throws(VenueError) in
            var fills: [Fill] = []
            for (id, trade) in trades { fills.append(try fill(id, trade, pair: pair.rules.pair)) }
            return fills.sorted { ($0.time, $0.tradeId) < ($1.time, $1.tradeId) }
        }
    }

    /// An order request is refused by the matching engine after its `deadline` (sent + the order
    /// window on our clock); a second of margin covers the venue's clock against ours.
    public func inFlightRequestsExpire(sentBy: Date) -> Date {
        sentBy.addingTimeInterval(Double(orderWindowMs) / 1000 + Self.resendMargin)
    }

    /// Seconds added to the order window before a resend (see `inFlightRequestsExpire`).
    public static let resendMargin: TimeInterval = 1

    private func orders(_ wire: [String: KrakenOrder]) async throws(VenueError) -> [VenueOrder] {
        let names = try await names()
        var out: [VenueOrder] = []
        for (txid, order) in wire {
            guard let symbol = names.symbolOf[order.descr.pair] else { continue }
            guard let side = Side(venueName: order.descr.type) else {
                throw .malformed(
                    venue: venue, endpoint: "/0/private/OpenOrders",
                    reason: "order \(txid): side '\(order.descr.type)'",
                    raw: "")
            }
            let postOnly = order.oflags?.split(separator: ",").contains("post") ?? false
            let type: OrderType = order.descr.ordertype == "market" ? .market : postOnly ? .postOnly : .limit
            let status: VenueOrderStatus
            switch order.status {
            case "pending", "open": status = order.vol_exec.isPositive ? .partiallyFilled : .open
            // Closed with less than its volume executed: the rest of an IOC order expired.
            case "closed": status = order.vol_exec >= order.vol ? .filled : .expired
            case "canceled": status = .cancelled
            case "expired": status = .expired
            default:
                throw .malformed(
                    venue: venue, endpoint: "/0/private/OpenOrders", reason: "order \(txid): status '\(order.status)'",
                    raw: "")
            }
            out.append(
                VenueOrder(
                    symbol: symbol, orderId: txid, clientOrderId: order.cl_ord_id ?? "", side: side, type: type,
                    timeInForce: type == .limit ? TimeInForce(krakenName: order.timeinforce ?? "GTC") : nil,
                    price: order.descr.price ?? .zero, origQty: order.vol, executedQty: order.vol_exec,
                    cumulativeQuoteQty: order.cost, status: status, time: krakenDate(order.opentm),
                    updateTime: krakenDate(order.closetm ?? order.opentm)))
        }
        return out.sorted { $0.time < $1.time }
    }

    static func rfc3339(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

/// Where a Kraken trades pull stands: `start=S;ofs=N;newest=T`.
struct KrakenCursor {
    var start: Int64 = 0
    var offset = 0
    var newest: Int64 = 0

    init(_ text: String?, venue: String) throws(VenueError) {
        guard let text else { return }
        var fields: [String: Int64] = [:]
        for part in text.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, let value = Int64(pair[1]) else {
                throw .malformed(
                    venue: venue, endpoint: "/0/private/TradesHistory",
                    reason: "stored fills cursor '\(text)' is not a Kraken cursor", raw: "")
            }
            fields[String(pair[0])] = value
        }
        start = fields["start"] ?? 0
        offset = Int(fields["ofs"] ?? 0)
        newest = fields["newest"] ?? 0
    }

    var text: String { "start=\(start);ofs=\(offset);newest=\(newest)" }
}
