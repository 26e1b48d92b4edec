public import BallastCore
import Digest
public import Foundation

extension VenueDialect {
    /// Coinbase Advanced Trade: client order ids are the intent key's first 32 hex digits written
    /// as a UUID; the per-second limit is kept per API key.
    public static let coinbaseAdvanced = VenueDialect(
        name: "coinbase-advanced", clientOrderId: CoinbaseAdvancedClient.uuid(intentKey:), budgetPerKey: true,
        callCounter: CoinbaseAdvancedClient.privateCounter, publicCallCounter: CoinbaseAdvancedClient.publicCounter
    ) { parts in
        CoinbaseAdvancedClient(
            venue: parts.venue, account: parts.account, baseURL: parts.baseURL, credentials: parts.credentials,
            transport: parts.transport, governor: parts.governor, events: parts.events, clock: parts.clock)
    }
}

extension CoinbaseAdvancedClient: VenueClient {
    /// `8-4-4-4-12` from the first 32 hex digits of the intent key.
    static func uuid(intentKey: String) -> String {
        let hex = Array(intentKey.prefix(32))
        var parts: [String] = []
        var start = 0
        for length in [8, 4, 4, 4, 12] {
            parts.append(String(hex[start..<min(hex.count, start + length)]))
            start += length
        }
        return parts.joined(separator: "-")
    }

    /// The JWT carries its own two-minute validity on our clock; there is no offset to measure.
    @discardableResult
    public func synchroniseClock() async throws(VenueError) -> Duration { .zero }

    public func clientOrderId(intentKey: String) -> String { Self.uuid(intentKey: intentKey) }

    /// Coinbase answers open orders and fills for the whole account in one listing.
    public var readsAccountWide: Bool { true }

    public func listing() async throws(VenueError) -> ExchangeInfo {
        let names = try await names()
        return ExchangeInfo(
            limits: Self.publishedLimits,
            symbols: names.bySymbol.values.map(\.rules).sorted { $0.pair.symbol < $1.pair.symbol })
    }

    /// Balances from every page of accounts (available and on hold), and the fee tier's rates.
    public func account() async throws(VenueError) -> AccountSnapshot {
        var balances: [String: Balance] = [:]
        var cursor: String?
        repeat {
            var query = [("limit", "250")]
            if let cursor { query.append(("cursor", cursor)) }
            let page: CoinbaseAccounts = try await call(.accounts, query)
            for wire in page.accounts {
                var balance = balances[wire.currency] ?? Balance(asset: wire.currency, free: .zero, locked: .zero)
                balance.free += wire.available_balance.value
                balance.locked += wire.hold?.value ?? .zero
                balances[wire.currency] = balance
            }
            cursor = page.has_next == true ? page.cursor : nil
        } while cursor?.isEmpty == false
        let summary: CoinbaseTransactionSummary = try await call(.transactionSummary)
        return AccountSnapshot(
            balances: balances.values.sorted { $0.asset < $1.asset }, makerRate: summary.fee_tier?.maker_fee_rate,
            takerRate: summary.fee_tier?.taker_fee_rate, updateTime: nil)
    }

    /// The touch of each symbol: one `best_bid_ask` call for all with a key, else the public book
    /// one level deep, product by product.
    public func bookTickers(_ symbols: [String]) async throws(VenueError) -> [BookTicker] {
        let names = try await names()
        let wanted = symbols.isEmpty ? names.bySymbol.keys.sorted() : symbols
        var books: [CoinbasePricebook] = []
        if credentials != nil {
            var query: [(String, String)] = []
            for symbol in wanted { query.append(("product_ids", try await productId(symbol))) }
            let wire: CoinbaseBestBidAsk = try await call(.bestBidAsk, query)
            books = wire.pricebooks
        } else {
            for symbol in wanted {
                let wire: CoinbaseProductBook = try await call(
                    .productBook(signed: false), [("product_id", try await productId(symbol)), ("limit", "1")])
                books.append(wire.pricebook)
            }
        }
        return books.compactMap { book -> BookTicker? in
            guard let symbol = names.symbolOf[book.product_id], let bid = book.bids.first, let ask = book.asks.first
            else { return nil }
            return BookTicker(
                symbol: symbol, bidPrice: bid.price, bidQty: bid.size, askPrice: ask.price, askQty: ask.size)
        }.sorted { $0.symbol < $1.symbol }
    }

    /// The book of `symbol`; Coinbase gives no update id, so the book's time (ms) stands in.
    public func depth(_ symbol: String, limit: Int) async throws(VenueError) -> DepthSnapshot {
        let product = try await productId(symbol)
        let wire: CoinbaseProductBook = try await call(
            .productBook(signed: credentials != nil),
            [("product_id", product), ("limit", String(min(max(limit, 1), 500)))])
        let time = wire.pricebook.time.flatMap(coinbaseDate).map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
        return DepthSnapshot(
            symbol: symbol, lastUpdateId: time ?? 0,
            bids: wire.pricebook.bids.map { BookLevel(price: $0.price, qty: $0.size) },
            asks: wire.pricebook.asks.map { BookLevel(price: $0.price, qty: $0.size) })
    }

    public func openOrders(_ symbol: String?) async throws(VenueError) -> [VenueOrder] {
        var query = [("order_status", "OPEN")]
        if let symbol { query.append(("product_ids", try await productId(symbol))) }
        var found: [VenueOrder] = []
        try await eachOrderPage(query) { (page: [VenueOrder]) in
            found += page
            return true
        }
        return found.sorted { $0.time < $1.time }
    }

    /// One page of the account's fills (nil symbol: every product). The cursor holds where this
    /// pull started (`start`, a sequence time: the pull reads what came at or after it), the
    /// venue's page cursor within the pull (`page`), and the newest fill seen. When the last page
    /// is read, `start` moves to a second before the newest fill, so fills stamped in the same
    /// instant are read again (and stored once) rather than missed.
    public func fillPage(_ symbol: String?, from cursor: String?, limit: Int) async throws(VenueError) -> FillPage {
        let names = try await names()
        var position = try CoinbaseCursor(cursor, venue: venue)
        var query = [("limit", String(min(max(limit, 1), 1000)))]
        if let symbol { query.append(("product_ids", try await productId(symbol))) }
        if let start = position.start { query.append(("start_sequence_timestamp", coinbaseTimestamp(start))) }
        if let page = position.page { query.append(("cursor", page)) }
        let wire: CoinbaseFills = try await call(.fills, query)
        var fills: [Fill] = []
        for fill in wire.fills {
            guard let sequenced = fill.sequence_timestamp.flatMap(coinbaseDate) ?? coinbaseDate(fill.trade_time) else {
                throw .malformed(
                    venue: venue, endpoint: CoinbaseEndpoint.fills.path,
                    reason: "fill \(fill.trade_id): time '\(fill.trade_time)'", raw: "")
            }
            position.newest = max(position.newest ?? sequenced, sequenced)
            guard let name = names.symbolOf[fill.product_id], let pair = names.bySymbol[name]?.rules.pair else {
                continue
            }
            fills.append(try self.fill(fill, pair: pair))
        }
        let more = !wire.fills.isEmpty && !(wire.cursor ?? "").isEmpty
        if more {
            position.page = wire.cursor
        } else {
            position.page = nil
            if let newest = position.newest { position.start = newest.addingTimeInterval(-1) }
        }
        return FillPage(
            fills: fills.sorted { ($0.time, $0.tradeId) < ($1.time, $1.tradeId) }, next: position.text, more: more)
    }

    func fill(_ wire: CoinbaseFill, pair: TradingPair) throws(VenueError) -> Fill {
        guard let side = Side(venueName: wire.side), let time = coinbaseDate(wire.trade_time) else {
            throw .malformed(
                venue: venue, endpoint: CoinbaseEndpoint.fills.path,
                reason: "fill \(wire.trade_id): side '\(wire.side)', time '\(wire.trade_time)'", raw: "")
        }
        // Coinbase charges its commission in the quote currency. A fill sized in quote gives the
        // quote amount as its size.
        let quoteSized = wire.size_in_quote == true
        let qty = quoteSized ? wire.size.divided(by: wire.price, scale: 12, .halfEven) ?? .zero : wire.size
        return Fill(
            symbol: pair.symbol, tradeId: wire.trade_id, orderId: wire.order_id, side: side, price: wire.price,
            qty: qty,
            quoteQty: quoteSized ? wire.size : wire.price * wire.size, commission: wire.commission,
            commissionAsset: pair.quote, isMaker: wire.liquidity_indicator == "MAKER", time: time)
    }

    // MARK: Orders

    /// Places an order under its client order id and reads it back by the venue's id (its status,
    /// what it executed, the venue's own time). A request that may have been lost is sent again
    /// with the same id (the venue answers a repeat with the original order); a refusal names the
    /// venue's reason.
    public func placeOrder(_ order: NewOrder) async throws(VenueError) -> OrderAck {
        let sentAt = clock.now()
        let product = try await productId(order.symbol)
        let size = order.quantity.description
        let price = order.price?.description ?? ""
        let configuration: [String: any Sendable]
        switch (order.type, order.timeInForce) {
        case (.market, _): configuration = ["market_market_ioc": ["base_size": size]]
        case (.postOnly, _):
            let limit: [String: any Sendable] = ["base_size": size, "limit_price": price, "post_only": true]
            configuration = ["limit_limit_gtc": limit]
        case (.limit, .ioc?): configuration = ["sor_limit_ioc": ["base_size": size, "limit_price": price]]
        case (.limit, .fok?): configuration = ["limit_limit_fok": ["base_size": size, "limit_price": price]]
        case (.limit, _):
            let limit: [String: any Sendable] = ["base_size": size, "limit_price": price, "post_only": false]
            configuration = ["limit_limit_gtc": limit]
        }
        let body: [String: any Sendable] = [
            "client_order_id": order.clientOrderId, "product_id": product, "side": order.side.venueName,
            "order_configuration": configuration,
        ]
        let created: Answer<CoinbaseCreateOrder> = try await answer(
            .createOrder, body: body, serving: order.clientOrderId)
        guard created.value.success, let placed = created.value.success_response else {
            throw .rejected(
                venue: venue, endpoint: CoinbaseEndpoint.createOrder.path, httpStatus: 200, code: 0,
                message: created.value.error_response?.text ?? "refused without a reason",
                httpAttemptId: created.httpAttemptId)
        }
        knownOrders.withLock { $0[order.clientOrderId] = placed.order_id }
        if let read = try? await orderById(placed.order_id, serving: order.clientOrderId).value {
            return OrderAck(order: read, fills: [], httpAttemptId: created.httpAttemptId)
        }
        return OrderAck(
            order: .acknowledged(order, orderId: placed.order_id, sentAt: sentAt), fills: [],
            httpAttemptId: created.httpAttemptId)
    }

    /// The order this client placed (read by its id), else the newest orders of the product
    /// within `lookback`, searched for the client id; nil when neither finds it. A miss beyond the
    /// lookback costs nothing: an order sent again under the same id returns the original. The
    /// answer names the read that found the order (or the last, that did not).
    public func queryOrder(_ symbol: String, clientOrderId: String) async throws(VenueError)
        -> Answer<VenueOrder?>
    {
        if let id = knownOrders.withLock({ $0[clientOrderId] }) {
            return try await orderById(id, serving: clientOrderId)
        }
        let product = try await productId(symbol)
        let since = clock.now().addingTimeInterval(-Self.lookback)
        var found: VenueOrder?
        let last = try await eachOrderPage(
            [("product_ids", product), ("start_date", coinbaseTimestamp(since))], serving: clientOrderId
        ) { (page: [VenueOrder]) in
            found = page.first { $0.clientOrderId == clientOrderId }
            return found == nil
        }
        if let found { knownOrders.withLock { $0[clientOrderId] = found.orderId } }
        return Answer(found, httpAttemptId: last)
    }

    /// How far back a lookup by client order id searches the order history (seconds).
    public static let lookback: TimeInterval = 2 * 86_400

    /// Cancels by client order id; nil when the venue does not know the order or it can no longer
    /// be cancelled (it finished meanwhile: the executor looks it up).
    /// The answer names the cancel request (the lookup's, when the order was not found).
    public func cancelOrder(_ symbol: String, clientOrderId: String) async throws(VenueError)
        -> Answer<VenueOrder?>
    {
        let lookup = try await queryOrder(symbol, clientOrderId: clientOrderId)
        guard let order = lookup.value else { return lookup }
        let cancel: Answer<CoinbaseCancelResults> = try await answer(
            .cancelOrders, body: ["order_ids": [order.orderId]], serving: clientOrderId)
        guard
            cancel.value.results.first(where: { $0.order_id == order.orderId || $0.order_id == nil })?.success == true
        else { return Answer(nil, httpAttemptId: cancel.httpAttemptId) }
        let read = try await orderById(order.orderId, serving: clientOrderId).value
        return Answer(read, httpAttemptId: cancel.httpAttemptId)
    }

    /// The fills of one order, every page; the answer names the last page's request.
    public func orderFills(_ symbol: String, orderId: String) async throws(VenueError) -> Answer<[Fill]> {
        let names = try await names()
        guard let pair = names.bySymbol[symbol]?.rules.pair else { return Answer([], httpAttemptId: nil) }
        var fills: [Fill] = []
        var cursor: String?
        var last: HTTPAttempt.ID?
        repeat {
            var query = [("order_ids", orderId), ("limit", "1000")]
            if let cursor { query.append(("cursor", cursor)) }
            let page: Answer<CoinbaseFills> = try await answer(.fills, query)
            last = page.httpAttemptId
            let read = try await page.map { (page) throws(VenueError) in
                var read: [Fill] = []
                for wire in page.fills where wire.order_id == orderId { read.append(try fill(wire, pair: pair)) }
                return read
            }
            fills += read.value
            cursor = page.value.fills.isEmpty ? nil : page.value.cursor
        } while cursor?.isEmpty == false
        return Answer(fills.sorted { ($0.time, $0.tradeId) < ($1.time, $1.tradeId) }, httpAttemptId: last)
    }

    /// No window to wait out: a request sent again under the same client order id returns the
    /// order the first one placed, however late the first arrives.
    public func inFlightRequestsExpire(sentBy: Date) -> Date { sentBy }

    // MARK: Orders, read

    /// The order the venue knows by `id`; nil when it answers 404.
    func orderById(_ id: String, serving clientOrderId: String?) async throws(VenueError) -> Answer<VenueOrder?> {
        let wire: Answer<CoinbaseOrderEnvelope>
        do {
            wire = try await answer(.order(id), serving: clientOrderId)
        } catch {
            if case .rejected(_, _, 404, _, _, let attempt) = error { return Answer(nil, httpAttemptId: attempt) }
            throw error
        }
        return try await wire.map { (wire) async throws(VenueError) in try await order(wire.order) }
    }

    /// Calls `body` with each page of orders matching `query`, newest first, while it returns true.
    /// Returns the attempt of the last page read.
    @discardableResult
    func eachOrderPage(
        _ query: [(String, String)], serving clientOrderId: String? = nil,
        _ body: ([VenueOrder]) async throws(VenueError) -> Bool
    ) async throws(VenueError) -> HTTPAttempt.ID? {
        var cursor: String?
        var last: HTTPAttempt.ID?
        repeat {
            var page = query + [("limit", "250")]
            if let cursor { page.append(("cursor", cursor)) }
            let wire: Answer<CoinbaseOrders> = try await answer(.listOrders, page, serving: clientOrderId)
            last = wire.httpAttemptId
            let orders = try await wire.map { (wire) async throws(VenueError) in
                var orders: [VenueOrder] = []
                for entry in wire.orders { if let read = try await order(entry) { orders.append(read) } }
                return orders
            }
            guard try await body(orders.value) else { return last }
            cursor = wire.value.has_next == true ? wire.value.cursor : nil
        } while cursor?.isEmpty == false
        return last
    }

    /// An order in Ballast's terms; nil for a product Ballast does not list.
    func order(_ wire: CoinbaseOrder) async throws(VenueError) -> VenueOrder? {
        let names = try await names()
        guard let symbol = names.symbolOf[wire.product_id] else { return nil }
        func bad(_ what: String) -> VenueError {
            .malformed(
                venue: venue, endpoint: CoinbaseEndpoint.listOrders.path, reason: "order \(wire.order_id): \(what)",
                raw: "")
        }
        guard let side = Side(venueName: wire.side) else { throw bad("side '\(wire.side)'") }
        guard let created = coinbaseDate(wire.created_time) else { throw bad("created_time '\(wire.created_time)'") }
        let configuration = wire.order_configuration
        let limit =
            configuration?.limit_limit_gtc ?? configuration?.limit_limit_gtd ?? configuration?.sor_limit_ioc
            ?? configuration?.limit_limit_fok
        let type: OrderType
        let timeInForce: TimeInForce?
        if configuration?.market_market_ioc != nil || wire.order_type == "MARKET" {
            (type, timeInForce) = (.market, nil)
        } else if limit?.post_only == true {
            (type, timeInForce) = (.postOnly, nil)
        } else if configuration?.sor_limit_ioc != nil {
            (type, timeInForce) = (.limit, .ioc)
        } else if configuration?.limit_limit_fok != nil {
            (type, timeInForce) = (.limit, .fok)
        } else {
            (type, timeInForce) = (.limit, .gtc)
        }
        let executed = wire.filled_size ?? .zero
        let status: VenueOrderStatus
        switch wire.status {
        case "OPEN", "PENDING", "QUEUED", "CANCEL_QUEUED": status = executed.isPositive ? .partiallyFilled : .open
        case "FILLED": status = .filled
        case "CANCELLED": status = .cancelled
        case "EXPIRED": status = .expired
        case "FAILED": status = .rejected
        default: throw bad("status '\(wire.status)'")
        }
        let quantity = limit?.base_size ?? configuration?.market_market_ioc?.base_size ?? executed
        return VenueOrder(
            symbol: symbol, orderId: wire.order_id, clientOrderId: wire.client_order_id ?? "", side: side, type: type,
            timeInForce: timeInForce, price: limit?.limit_price ?? .zero, origQty: quantity, executedQty: executed,
            cumulativeQuoteQty: wire.filled_value ?? .zero, status: status, time: created,
            updateTime: wire.last_fill_time.flatMap(coinbaseDate) ?? created)
    }
}

/// Where a Coinbase fills pull stands: `start=<RFC 3339>;page=<venue cursor>;newest=<RFC 3339>`
/// (each part only when set).
struct CoinbaseCursor {
    var start: Date?
    var page: String?
    var newest: Date?

    init(_ text: String?, venue: String) throws(VenueError) {
        guard let text, !text.isEmpty else { return }
        for part in text.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            let bad = VenueError.malformed(
                venue: venue, endpoint: CoinbaseEndpoint.fills.path,
                reason: "stored fills cursor '\(text)' is not a Coinbase cursor", raw: "")
            guard pair.count == 2 else { throw bad }
            switch pair[0] {
            case "start": guard let date = coinbaseDate(pair[1]) else { throw bad }; start = date
            case "newest": guard let date = coinbaseDate(pair[1]) else { throw bad }; newest = date
            case "page": page = pair[1]
            default: throw bad
            }
        }
    }

    var text: String? {
        var parts: [String] = []
        if let start { parts.append("start=\(coinbaseTimestamp(start))") }
        if let page { parts.append("page=\(page)") }
        if let newest { parts.append("newest=\(coinbaseTimestamp(newest))") }
        return parts.isEmpty ? nil : parts.joined(separator: ";")
    }
}
