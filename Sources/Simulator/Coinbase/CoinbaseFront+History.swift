import BallastCore
import Foundation

/// What the fills of one order add up to.
private struct CoinbaseFillTotals {
    var fees = ExactDecimal.zero
    var count = 0
    var last: Date?
}

/// The Coinbase front's lookups: one order, the order list, fills, and batch cancel. Lists are
/// newest first; a cursor is where the next page starts.
extension SimulatedVenue {
    // MARK: Orders

    /// `orders/historical/{order_id}`.
    func coinbaseGetOrder(_ id: String, apiKey: String) throws(CoinbaseError) -> String {
        guard let number = coinbaseNumber("order", id), let order = exchange.orders[number], order.apiKey == apiKey
        else { throw .notFound("order with this orderID was not found") }
        var json = JSONText(capacity: 2048)
        json.raw("{\"order\":")
        coinbaseOrder(&json, order, coinbaseFillTotals(apiKey)[order.orderId])
        json.raw("}")
        return json.text
    }

    /// `orders/historical/batch`: filters `order_ids`, `product_ids`, `order_status`, `order_side`,
    /// `order_types`, `start_date`/`end_date` (on the creation time); `limit` (default 100), `cursor`.
    func coinbaseListOrders(_ query: CoinbaseQuery, apiKey: String) throws(CoinbaseError) -> String {
        let limit = try query.limit(fallback: 100, max: 1000)
        var before = Int64.max
        if let cursor = query["cursor"] {
            guard let number = Int64(cursor) else { throw .invalid("cursor is not one this venue gave") }
            before = number
        }
        let ids = Set(query.all("order_ids").map { coinbaseNumber("order", $0) ?? -1 })
        let symbols = try coinbaseSymbolFilter(query.all("product_ids") + query.all("product_id"))
        let statuses = Set(query.all("order_status"))
        let known: Set = ["OPEN", "FILLED", "CANCELLED", "EXPIRED", "FAILED", "PENDING", "QUEUED", "CANCEL_QUEUED"]
        guard statuses.isSubset(of: known) else { throw .invalid("order_status must be among \(known.sorted())") }
        let side = query["order_side"]
        let types = Set(query.all("order_types"))
        let start = try query.micros("start_date")
        let end = try query.micros("end_date")
        let selected = exchange.orders.values.filter { order in
            order.apiKey == apiKey && order.orderId < before && (ids.isEmpty || ids.contains(order.orderId))
                && (symbols.isEmpty || symbols.contains(order.symbol))
                && (statuses.isEmpty || statuses.contains(Self.coinbaseStatus(order.status)))
                && (side == nil || order.side.venueName == side)
                && (types.isEmpty || types.contains(order.type == .market ? "MARKET" : "LIMIT"))
                && (start.map { CoinbaseText.micros(order.time) >= $0 } ?? true)
                && (end.map { CoinbaseText.micros(order.time) < $0 } ?? true)
        }.sorted { $0.orderId > $1.orderId }
        let page = selected.prefix(limit)
        let totals = coinbaseFillTotals(apiKey)
        var json = JSONText(capacity: 2048 * page.count + 64)
        json.raw("{\"orders\":[")
        for (i, order) in page.enumerated() {
            if i > 0 { json.raw(",") }
            coinbaseOrder(&json, order, totals[order.orderId])
        }
        json.raw("],\"sequence\":\"0\",")
        json.field("has_next", bool: selected.count > limit)
        json.field("cursor", selected.count > limit ? String(page.last!.orderId) : "", comma: false)
        json.raw("}")
        return json.text
    }

    /// `orders/batch_cancel {order_ids}`: one result per id, in order.
    func coinbaseCancel(_ body: [String: Any], apiKey: String, now: Date) throws(CoinbaseError) -> String {
        guard let ids = body["order_ids"] as? [Any], let texts = ids as? [String], !texts.isEmpty else {
            throw .invalid("order_ids must be a list of order ids")
        }
        guard texts.count <= 100 else { throw .invalid("at most 100 orders can be cancelled at once") }
        var json = JSONText(capacity: 128 * texts.count + 16)
        json.raw("{\"results\":[")
        for (i, id) in texts.enumerated() {
            if i > 0 { json.raw(",") }
            var cancelled = false
            if let number = coinbaseNumber("order", id), let order = exchange.orders[number], order.apiKey == apiKey,
                exchange.open.contains(number)
            {
                cancelled =
                    (try? exchange.cancel(
                        apiKey: apiKey, symbol: order.symbol, clientOrderId: nil, orderId: number, at: now)) != nil
            }
            json.raw("{")
            json.field("success", bool: cancelled)
            json.field("failure_reason", cancelled ? "UNKNOWN_CANCEL_FAILURE_REASON" : "UNKNOWN_CANCEL_ORDER")
            json.field("order_id", id, comma: false)
            json.raw("}")
        }
        json.raw("]}")
        return json.text
    }

    /// Coinbase's name of an order's status.
    static func coinbaseStatus(_ status: VenueOrderStatus) -> String {
        switch status {
        case .open, .partiallyFilled, .pendingCancel: "OPEN"
        case .filled: "FILLED"
        case .cancelled: "CANCELLED"
        case .expired: "EXPIRED"
        case .rejected: "FAILED"
        }
    }

    /// Fees, number and last time of the fills of each order of the key.
    private func coinbaseFillTotals(_ apiKey: String) -> [Int64: CoinbaseFillTotals] {
        var totals: [Int64: CoinbaseFillTotals] = [:]
        guard let account = exchange.accounts[apiKey] else { return totals }
        for trades in account.trades.values {
            for trade in trades {
                totals[trade.orderId, default: CoinbaseFillTotals()].fees += trade.commission
                totals[trade.orderId, default: CoinbaseFillTotals()].count += 1
                totals[trade.orderId, default: CoinbaseFillTotals()].last = trade.time
            }
        }
        return totals
    }

    /// The order object of Get Order and List Orders.
    private func coinbaseOrder(_ json: inout JSONText, _ order: SimOrder, _ totals: CoinbaseFillTotals?) {
        let totals = totals ?? CoinbaseFillTotals()
        let average =
            order.executedQty.isPositive ? order.cumulativeQuote.divided(by: order.executedQty, scale: 8) : nil
        let completion =
            order.origQty.isPositive
            ? (order.executedQty * ExactDecimal(100)).divided(by: order.origQty, scale: 2) : nil
        let timeInForce: String
        switch (order.type, order.timeInForce) {
        case (.market, _), (.limit, .ioc): timeInForce = "IMMEDIATE_OR_CANCEL"
        case (.limit, .fok): timeInForce = "FILL_OR_KILL"
        default: timeInForce = "GOOD_UNTIL_CANCELLED"
        }
        let afterFees = order.side == .buy ? order.cumulativeQuote + totals.fees : order.cumulativeQuote - totals.fees
        json.raw("{")
        json.field("order_id", coinbaseID("order", order.orderId))
        json.field("product_id", coinbaseProductID(of: order))
        json.field("user_id", coinbaseUserID(order.apiKey))
        json.raw("\"order_configuration\":")
        coinbaseConfiguration(&json, order)
        json.raw(",")
        json.field("side", order.side.venueName)
        json.field("client_order_id", order.clientOrderId)
        json.field("status", Self.coinbaseStatus(order.status))
        json.field("time_in_force", timeInForce)
        json.field("created_time", CoinbaseText.time(order.time))
        json.field("completion_percentage", CoinbaseText.amount(completion ?? .zero))
        json.field("filled_size", CoinbaseText.amount(order.executedQty))
        json.field("average_filled_price", CoinbaseText.amount(average ?? .zero))
        json.field("fee", "")
        json.field("number_of_fills", String(totals.count))
        json.field("filled_value", CoinbaseText.amount(order.cumulativeQuote))
        json.field("pending_cancel", bool: false)
        json.field("size_in_quote", bool: coinbase.quoteSizes[order.orderId] != nil)
        json.field("total_fees", CoinbaseText.amount(totals.fees))
        json.field("size_inclusive_of_fees", bool: false)
        json.field("total_value_after_fees", CoinbaseText.amount(afterFees))
        json.field("trigger_status", "INVALID_ORDER_TYPE")
        json.field("order_type", order.type == .market ? "MARKET" : "LIMIT")
        json.field("reject_reason", "REJECT_REASON_UNSPECIFIED")
        json.field("settled", bool: !order.status.isOpen)
        json.field("product_type", "SPOT")
        json.field("reject_message", "")
        json.field("cancel_message", order.status == .cancelled ? "User requested cancel" : "")
        json.field("order_placement_source", "RETAIL_ADVANCED")
        json.field("outstanding_hold_amount", CoinbaseText.amount(order.locked))
        json.field("is_liquidation", bool: false)
        if let last = totals.last {
            json.field("last_fill_time", CoinbaseText.time(last))
        } else {
            json.raw("\"last_fill_time\":null,")
        }
        json.raw("\"edit_history\":[],")
        json.field("leverage", "")
        json.field("margin_type", "UNKNOWN_MARGIN_TYPE")
        json.field("retail_portfolio_id", coinbasePortfolioID(order.apiKey))
        json.field("originating_order_id", "")
        json.field("attached_order_id", "", comma: false)
        json.raw("}")
    }

    // MARK: Fills

    /// `orders/historical/fills`: filters `order_ids`, `trade_ids`, `product_ids`,
    /// `start_sequence_timestamp` (inclusive), `end_sequence_timestamp` (exclusive); `limit`
    /// (default 100), `cursor`. Newest first; `cursor` is empty on the last page.
    func coinbaseFills(_ query: CoinbaseQuery, apiKey: String) throws(CoinbaseError) -> String {
        let limit = try query.limit(fallback: 100, max: 1000)
        typealias Key = (Int64, Int, Int64)  // the fill's time in microseconds, its product's place, its id
        var after: Key?
        if let cursor = query["cursor"] {
            let parts = cursor.split(separator: ".").compactMap { Int64($0) }
            guard parts.count == 3 else { throw .invalid("cursor is not one this venue gave") }
            after = (parts[0], Int(parts[1]), parts[2])
        }
        let symbols = try coinbaseSymbolFilter(query.all("product_ids") + query.all("product_id"))
        let orders = Set(query.all("order_ids").map { coinbaseNumber("order", $0) ?? -1 })
        let tradeIDs = Set(query.all("trade_ids").map { $0.lowercased() })
        let start = try query.micros("start_sequence_timestamp")
        let end = try query.micros("end_sequence_timestamp")
        let account = exchange.accounts[apiKey]!
        var fills: [(key: Key, symbol: SymbolConfig, trade: SimTrade)] = []
        for (index, symbol) in config.symbols.enumerated() where symbols.isEmpty || symbols.contains(symbol.symbol) {
            for trade in account.recentTrades(symbol.symbol, limit: Int.max) {
                let key: Key = (CoinbaseText.micros(trade.time), index, trade.id)
                if let after, !(key < after) { continue }
                guard orders.isEmpty || orders.contains(trade.orderId),
                    tradeIDs.isEmpty || tradeIDs.contains(coinbaseID("trade", coinbaseTradeNumber(index, trade.id))),
                    start.map({ key.0 >= $0 }) ?? true, end.map({ key.0 < $0 }) ?? true
                else { continue }
                fills.append((key, symbol, trade))
            }
        }
        fills.sort { $0.key > $1.key }
        let page = fills.prefix(limit)
        let userID = coinbaseUserID(apiKey)
        let portfolioID = coinbasePortfolioID(apiKey)
        var json = JSONText(capacity: 640 * page.count + 64)
        json.raw("{\"fills\":[")
        for (i, fill) in page.enumerated() {
            if i > 0 { json.raw(",") }
            let number = coinbaseTradeNumber(fill.key.1, fill.trade.id)
            let time = CoinbaseText.time(fill.trade.time)
            json.raw("{")
            json.field("entry_id", coinbaseID("entry", number))
            json.field("trade_id", coinbaseID("trade", number))
            json.field("order_id", coinbaseID("order", fill.trade.orderId))
            json.field("trade_time", time)
            json.field("trade_type", "FILL")
            json.field("price", CoinbaseText.amount(fill.trade.price))
            json.field("size", CoinbaseText.amount(fill.trade.qty))
            json.field("commission", CoinbaseText.amount(fill.trade.commission))
            json.field("product_id", Self.coinbaseProductID(fill.symbol))
            json.field("sequence_timestamp", time)
            json.field("liquidity_indicator", fill.trade.isMaker ? "MAKER" : "TAKER")
            json.field("size_in_quote", bool: false)
            json.field("user_id", userID)
            json.field("side", fill.trade.isBuyer ? "BUY" : "SELL")
            json.field("retail_portfolio_id", portfolioID, comma: false)
            json.raw("}")
        }
        json.raw("],")
        let next = fills.count > limit ? page.last.map { "\($0.key.0).\($0.key.1).\($0.key.2)" } : nil
        json.field("cursor", next ?? "", comma: false)
        json.raw("}")
        return json.text
    }

    /// A trade's number across products: its product's place and its number there (trade numbers
    /// are per product).
    private func coinbaseTradeNumber(_ symbolIndex: Int, _ id: Int64) -> Int64 {
        Int64(symbolIndex) * 1_000_000_000_000 + id
    }

    /// The symbols a list of product ids names (empty: no filter); an unknown id is refused.
    private func coinbaseSymbolFilter(_ productIDs: [String]) throws(CoinbaseError) -> Set<String> {
        var symbols = Set<String>()
        for id in productIDs {
            guard let symbol = coinbaseSymbol(id) else { throw .invalid("ProductID \(id) is invalid") }
            symbols.insert(symbol.symbol)
        }
        return symbols
    }
}
