import BallastCore
import Foundation

/// The Binance Spot REST endpoints, answered from the exchange. Runs under the venue's lock.
extension SimulatedVenue {
    func binanceDispatch(_ method: String, _ path: String, _ params: RequestParams, apiKey: String?, now: Date)
        throws(BinanceError) -> Reply
    {
        switch (method, path) {
        case ("GET", "/api/v3/ping"): return Reply(body: "{}")
        case ("GET", "/api/v3/time"): return Reply(body: "{\"serverTime\":\(now.milliseconds)}")
        case ("GET", "/api/v3/exchangeInfo"): return try exchangeInfo(params, now: now)
        case ("GET", "/api/v3/ticker/bookTicker"): return try bookTicker(params)
        case ("GET", "/api/v3/ticker/price"): return try tickerPrice(params)
        case ("GET", "/api/v3/depth"): return try depth(params)
        case ("GET", "/api/v3/account"): return account(apiKey!)
        case ("GET", "/api/v3/myTrades"): return try myTrades(params, apiKey: apiKey!)
        case ("GET", "/api/v3/openOrders"): return try openOrders(params, apiKey: apiKey!)
        case ("GET", "/api/v3/allOrders"): return try allOrders(params, apiKey: apiKey!)
        case ("POST", "/api/v3/order"): return try newOrder(params, apiKey: apiKey!, now: now, mode: .place)
        case ("POST", "/api/v3/order/test"): return try newOrder(params, apiKey: apiKey!, now: now, mode: .test)
        case ("GET", "/api/v3/order"): return try queryOrder(params, apiKey: apiKey!)
        case ("DELETE", "/api/v3/order"): return try cancelOrder(params, apiKey: apiKey!, now: now)
        default:
            throw BinanceError(status: 404, code: -1000, message: "Unknown endpoint \(method) \(path).")
        }
    }

    // MARK: Market data

    /// The symbols named by `symbol` or `symbols` (a JSON array), or all of them.
    private func selectedSymbols(_ params: RequestParams) throws(BinanceError) -> [String] {
        if let one = params["symbol"] {
            guard exchange.markets[one] != nil else { throw .invalidSymbol }
            return [one]
        }
        if let list = params["symbols"] {
            let names = list.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).split(separator: ",").map {
                $0.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
            }
            guard !names.isEmpty else { throw .badRequest(-1102, "Mandatory parameter 'symbols' was empty.") }
            for name in names where exchange.markets[name] == nil { throw .invalidSymbol }
            return names
        }
        return config.symbols.map(\.symbol)
    }

    private func exchangeInfo(_ params: RequestParams, now: Date) throws(BinanceError) -> Reply {
        let names = Set(try selectedSymbols(params))
        var json = JSONText(capacity: 4096)
        json.raw("{")
        json.field("timezone", "UTC")
        json.field("serverTime", number: now.milliseconds)
        json.raw("\"rateLimits\":[")
        let limits = config.limits
        let rows: [(String, String, Int, Int)] = [
            ("REQUEST_WEIGHT", "MINUTE", 1, limits.requestWeightPerMinute),
            ("ORDERS", "SECOND", 10, limits.ordersPer10s),
            ("ORDERS", "DAY", 1, limits.ordersPerDay),
            ("RAW_REQUESTS", "MINUTE", 5, 61_000),
        ]
        for (i, row) in rows.enumerated() {
            if i > 0 { json.raw(",") }
            json.raw("{")
            json.field("rateLimitType", row.0)
            json.field("interval", row.1)
            json.field("intervalNum", number: Int64(row.2))
            json.field("limit", number: Int64(row.3), comma: false)
            json.raw("}")
        }
        json.raw("],\"exchangeFilters\":[],\"symbols\":[")
        var first = true
        for symbol in config.symbols where names.contains(symbol.symbol) {
            if !first { json.raw(",") }
            first = false
            json.raw("{")
            json.field("symbol", symbol.symbol)
            json.field("status", "TRADING")
            json.field("baseAsset", symbol.base)
            json.field("baseAssetPrecision", number: 8)
            json.field("quoteAsset", symbol.quote)
            json.field("quotePrecision", number: 8)
            json.field("quoteAssetPrecision", number: 8)
            json.field("baseCommissionPrecision", number: 8)
            json.field("quoteCommissionPrecision", number: 8)
            json.raw("\"orderTypes\":[\"LIMIT\",\"LIMIT_MAKER\",\"MARKET\"],")
            json.field("icebergAllowed", bool: false)
            json.field("ocoAllowed", bool: false)
            json.field("otoAllowed", bool: false)
            json.field("quoteOrderQtyMarketAllowed", bool: true)
            json.field("allowTrailingStop", bool: false)
            json.field("cancelReplaceAllowed", bool: false)
            json.field("isSpotTradingAllowed", bool: true)
            json.field("isMarginTradingAllowed", bool: false)
            json.raw("\"filters\":[")
            json.raw("{")
            json.field("filterType", "PRICE_FILTER")
            json.field("minPrice", symbol.tickSize)
            json.field("maxPrice", ExactDecimal(1_000_000_000))
            json.field("tickSize", symbol.tickSize, comma: false)
            json.raw("},{")
            json.field("filterType", "LOT_SIZE")
            json.field("minQty", symbol.minQty)
            json.field("maxQty", symbol.maxQty)
            json.field("stepSize", symbol.stepSize, comma: false)
            json.raw("},{")
            json.field("filterType", "MARKET_LOT_SIZE")
            json.field("minQty", ExactDecimal.zero)
            json.field("maxQty", symbol.maxQty)
            json.field("stepSize", ExactDecimal.zero, comma: false)
            json.raw("},{")
            json.field("filterType", "NOTIONAL")
            json.field("minNotional", symbol.minNotional)
            json.field("applyMinToMarket", bool: true)
            json.field("maxNotional", ExactDecimal(9_000_000))
            json.field("applyMaxToMarket", bool: false)
            json.field("avgPriceMins", number: 5, comma: false)
            json.raw("}],")
            json.raw("\"permissions\":[],\"permissionSets\":[[\"SPOT\"]],")
            json.field("defaultSelfTradePreventionMode", "EXPIRE_MAKER")
            json.raw("\"allowedSelfTradePreventionModes\":[\"EXPIRE_TAKER\",\"EXPIRE_MAKER\",\"EXPIRE_BOTH\"]")
            json.raw("}")
        }
        json.raw("]}")
        return Reply(body: json.text)
    }

    private func bookTicker(_ params: RequestParams) throws(BinanceError) -> Reply {
        try perSymbol(params) { name, json in
            let market = exchange.markets[name]!
            let bid = market.levels(.buy).first
            let ask = market.levels(.sell).first
            json.field("bidPrice", bid?.price ?? .zero)
            json.field("bidQty", bid?.qty ?? .zero)
            json.field("askPrice", ask?.price ?? .zero)
            json.field("askQty", ask?.qty ?? .zero, comma: false)
        }
    }

    private func tickerPrice(_ params: RequestParams) throws(BinanceError) -> Reply {
        try perSymbol(params) { name, json in
            let market = exchange.markets[name]!
            let (bid, ask) = market.touch
            let mid = (bid + ask).divided(by: 2, scale: 8)!.rounded(toMultipleOf: market.config.tickSize, .down)
            json.field("price", mid, comma: false)
        }
    }

    /// One object per selected symbol (`{"symbol":…, fields}`): a bare object when
    /// `symbol` was given, an array otherwise, as the venue answers.
    private func perSymbol(_ params: RequestParams, _ fields: (String, inout JSONText) -> Void) throws(BinanceError)
        -> Reply
    {
        let names = try selectedSymbols(params)
        var json = JSONText()
        let single = params["symbol"] != nil
        if !single { json.raw("[") }
        for (i, name) in names.enumerated() {
            if i > 0 { json.raw(",") }
            json.raw("{")
            json.field("symbol", name)
            fields(name, &json)
            json.raw("}")
        }
        if !single { json.raw("]") }
        return Reply(body: json.text)
    }

    private func depth(_ params: RequestParams) throws(BinanceError) -> Reply {
        let symbol = try params.required("symbol")
        guard let market = exchange.markets[symbol] else { throw .invalidSymbol }
        let limit = Int(try params.integer("limit") ?? 100)
        guard (1...5000).contains(limit) else {
            throw .badRequest(-1100, "Illegal characters found in parameter 'limit'; legal range is '1-5000'.")
        }
        var json = JSONText(capacity: 64 * limit)
        json.raw("{")
        json.field("lastUpdateId", number: market.updateId)
        for (key, side) in [("bids", Side.buy), ("asks", Side.sell)] {
            json.key(key)
            json.raw("[")
            for (i, level) in market.levels(side).prefix(limit).enumerated() {
                if i > 0 { json.raw(",") }
                json.raw("[")
                json.string(level.price.withScale(atLeast: 8).description)
                json.raw(",")
                json.string(level.qty.withScale(atLeast: 8).description)
                json.raw("]")
            }
            json.raw(side == .buy ? "]," : "]")
        }
        json.raw("}")
        return Reply(body: json.text)
    }

    // MARK: Account

    private func account(_ apiKey: String) -> Reply {
        let account = exchange.accounts[apiKey]!
        let rates = account.config
        var json = JSONText(capacity: 1024)
        json.raw("{")
        func basisPoints(_ fee: ExactDecimal) -> Int64 { Int64((fee * ExactDecimal(10_000)).description) ?? 0 }
        json.field("makerCommission", number: basisPoints(rates.makerFee))
        json.field("takerCommission", number: basisPoints(rates.takerFee))
        json.field("buyerCommission", number: 0)
        json.field("sellerCommission", number: 0)
        json.raw("\"commissionRates\":{")
        json.field("maker", rates.makerFee)
        json.field("taker", rates.takerFee)
        json.field("buyer", ExactDecimal.zero)
        json.field("seller", ExactDecimal.zero, comma: false)
        json.raw("},")
        json.field("canTrade", bool: true)
        json.field("canWithdraw", bool: false)
        json.field("canDeposit", bool: false)
        json.field("brokered", bool: false)
        json.field("requireSelfTradePrevention", bool: false)
        json.field("preventSor", bool: false)
        json.field("updateTime", number: account.updateTime.milliseconds)
        json.field("accountType", "SPOT")
        json.raw("\"balances\":[")
        let assets = Set(account.free.keys).union(account.locked.keys).sorted()
        for (i, asset) in assets.enumerated() {
            if i > 0 { json.raw(",") }
            json.raw("{")
            json.field("asset", asset)
            json.field("free", account.free[asset] ?? .zero)
            json.field("locked", account.locked[asset] ?? .zero, comma: false)
            json.raw("}")
        }
        json.raw("],\"permissions\":[\"SPOT\"],")
        json.field("uid", number: Int64(abs(apiKey.hashValue % 1_000_000_000)), comma: false)
        json.raw("}")
        return Reply(body: json.text)
    }

    private func limit(_ params: RequestParams, default fallback: Int, max: Int) throws(BinanceError) -> Int {
        guard let value = try params.integer("limit") else { return fallback }
        guard value >= 1 else { throw .badRequest(-1100, "Illegal characters found in parameter 'limit'.") }
        return Int(Swift.min(value, Int64(max)))
    }

    private func myTrades(_ params: RequestParams, apiKey: String) throws(BinanceError) -> Reply {
        let symbol = try params.required("symbol")
        guard exchange.markets[symbol] != nil else { throw .invalidSymbol }
        let limit = try limit(params, default: 500, max: 1000)
        let account = exchange.accounts[apiKey]!
        let trades: [SimTrade]
        if let fromId = try params.integer("fromId") {
            trades = account.trades(symbol, fromId: fromId, orderId: try params.integer("orderId"), limit: limit)
        } else if let orderId = try params.integer("orderId") {
            trades = account.trades(symbol, fromId: 0, orderId: orderId, limit: limit)
        } else {
            trades = account.recentTrades(symbol, limit: limit)
        }
        var json = JSONText(capacity: 300 * trades.count + 2)
        json.raw("[")
        for (i, trade) in trades.enumerated() {
            if i > 0 { json.raw(",") }
            trade.json(&json, symbol: symbol)
        }
        json.raw("]")
        return Reply(body: json.text)
    }

    private func orderList(_ orders: [SimOrder]) -> Reply {
        var json = JSONText(capacity: 400 * orders.count + 2)
        json.raw("[")
        for (i, order) in orders.enumerated() {
            if i > 0 { json.raw(",") }
            order.json(&json)
        }
        json.raw("]")
        return Reply(body: json.text)
    }

    private func openOrders(_ params: RequestParams, apiKey: String) throws(BinanceError) -> Reply {
        let symbol = params["symbol"]
        if let symbol, exchange.markets[symbol] == nil { throw .invalidSymbol }
        let orders = exchange.open.sorted().compactMap { exchange.orders[$0] }.filter {
            $0.apiKey == apiKey && (symbol == nil || $0.symbol == symbol)
        }
        return orderList(orders)
    }

    private func allOrders(_ params: RequestParams, apiKey: String) throws(BinanceError) -> Reply {
        let symbol = try params.required("symbol")
        guard exchange.markets[symbol] != nil else { throw .invalidSymbol }
        let limit = try limit(params, default: 500, max: 1000)
        let all = exchange.orders.values.filter { $0.apiKey == apiKey && $0.symbol == symbol }.sorted {
            $0.orderId < $1.orderId
        }
        if let from = try params.integer("orderId") {
            return orderList(Array(all.filter { $0.orderId >= from }.prefix(limit)))
        }
        return orderList(Array(all.suffix(limit)))
    }

    // MARK: Orders

    /// How far a new order request goes.
    enum NewOrderMode {
        /// Placed: it rests or trades.
        case place
        /// Checked only, answered `{}` (`/api/v3/order/test`).
        case test
        /// Checked and answered as if placed, without placing it (a fault's answer to an order it
        /// did not place).
        case answerOnly
    }

    func newOrder(_ params: RequestParams, apiKey: String, now: Date, mode: NewOrderMode) throws(BinanceError)
        -> Reply
    {
        let symbol = try params.required("symbol")
        guard exchange.markets[symbol] != nil else { throw .invalidSymbol }
        guard let side = Side(venueName: try params.required("side")) else {
            throw .badRequest(-1117, "Invalid side.")
        }
        guard let type = OrderType(binanceName: try params.required("type")) else {
            throw .badRequest(-1116, "Invalid orderType.")
        }
        var timeInForce: TimeInForce?
        if let text = params["timeInForce"] {
            guard let value = TimeInForce(binanceName: text) else { throw .badRequest(-1115, "Invalid timeInForce.") }
            timeInForce = value
        }
        let quantity = try params.decimal("quantity")
        let quoteOrderQty = try params.decimal("quoteOrderQty")
        let price = try params.decimal("price")
        switch type {
        case .limit:
            if timeInForce == nil {
                throw .badRequest(-1102, "Param 'timeInForce' was not sent, was empty/null, or malformed.")
            }
            if quantity == nil {
                throw .badRequest(-1102, "Param 'quantity' was not sent, was empty/null, or malformed.")
            }
            if price == nil { throw .badRequest(-1102, "Param 'price' was not sent, was empty/null, or malformed.") }
        case .postOnly:
            if quantity == nil {
                throw .badRequest(-1102, "Param 'quantity' was not sent, was empty/null, or malformed.")
            }
            if price == nil { throw .badRequest(-1102, "Param 'price' was not sent, was empty/null, or malformed.") }
        case .market:
            if quantity == nil && quoteOrderQty == nil {
                throw .badRequest(-1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!")
            }
            if price != nil { throw .badRequest(-1106, "Parameter 'price' sent when not required.") }
        }
        let clientOrderId: String
        if let given = params["newClientOrderId"] {
            guard given.count <= 36,
                given.unicodeScalars.allSatisfy({
                    ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
                        || $0 == "_"
                })
            else {
                throw .badRequest(
                    -1100,
                    "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[a-zA-Z0-9-_]{1,36}$'.")
            }
            clientOrderId = given
        } else {
            clientOrderId = generatedClientID()
        }
        let responseType = params["newOrderRespType"] ?? (type == .postOnly ? "ACK" : "FULL")
        guard ["ACK", "RESULT", "FULL"].contains(responseType) else {
            throw .badRequest(-1100, "Illegal characters found in parameter 'newOrderRespType'.")
        }
        let request = Exchange.NewOrder(
            symbol: symbol, side: side, type: type, timeInForce: timeInForce, quantity: quantity,
            quoteOrderQty: quoteOrderQty, price: price, clientOrderId: clientOrderId)
        let (order, trades) = try binanceWords { () throws(ExchangeRefusal) in
            try exchange.place(request, apiKey: apiKey, at: now, testOnly: mode != .place)
        }
        if mode == .test { return Reply(body: "{}") }
        var json = JSONText(capacity: 512 + 128 * trades.count)
        switch responseType {
        case "ACK":
            json.raw("{")
            json.field("symbol", symbol)
            json.field("orderId", number: order.orderId)
            json.field("orderListId", number: -1)
            json.field("clientOrderId", clientOrderId)
            json.field("transactTime", number: now.milliseconds, comma: false)
            json.raw("}")
        case "RESULT": order.json(&json, transact: true)
        default: order.json(&json, fills: trades, transact: true)
        }
        return Reply(body: json.text, placedOrder: mode == .place)
    }

    /// The order named by `orderId` or `origClientOrderId`.
    private func named(_ params: RequestParams, apiKey: String) throws(BinanceError) -> (String, String?, Int64?) {
        let symbol = try params.required("symbol")
        guard exchange.markets[symbol] != nil else { throw .invalidSymbol }
        let orderId = try params.integer("orderId")
        let clientId = params["origClientOrderId"]
        if orderId == nil && clientId == nil {
            throw .badRequest(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        }
        return (symbol, clientId, orderId)
    }

    private func queryOrder(_ params: RequestParams, apiKey: String) throws(BinanceError) -> Reply {
        let (symbol, clientId, orderId) = try named(params, apiKey: apiKey)
        guard let id = exchange.find(apiKey: apiKey, symbol: symbol, clientOrderId: clientId, orderId: orderId),
            let order = exchange.orders[id]
        else { throw .noSuchOrder }
        var json = JSONText(capacity: 512)
        order.json(&json)
        return Reply(body: json.text)
    }

    private func cancelOrder(_ params: RequestParams, apiKey: String, now: Date) throws(BinanceError) -> Reply {
        let (symbol, clientId, orderId) = try named(params, apiKey: apiKey)
        let order = try binanceWords { () throws(ExchangeRefusal) in
            try exchange.cancel(apiKey: apiKey, symbol: symbol, clientOrderId: clientId, orderId: orderId, at: now)
        }
        var json = JSONText(capacity: 512)
        json.raw("{")
        json.field("symbol", symbol)
        json.field("origClientOrderId", order.clientOrderId)
        json.field("orderId", number: order.orderId)
        json.field("orderListId", number: -1)
        json.field("clientOrderId", params["newClientOrderId"] ?? generatedClientID())
        json.field("transactTime", number: now.milliseconds)
        json.field("price", order.price)
        json.field("origQty", order.origQty)
        json.field("executedQty", order.executedQty)
        json.field("cummulativeQuoteQty", order.cumulativeQuote)
        json.field("status", order.status.binanceName)
        json.field("timeInForce", (order.timeInForce ?? .gtc).binanceName)
        json.field("type", order.type.binanceName)
        json.field("side", order.side.venueName)
        json.field("selfTradePreventionMode", "EXPIRE_MAKER", comma: false)
        json.raw("}")
        return Reply(body: json.text)
    }
}

extension SimAccount {
    /// The latest `limit` trades on `symbol`, oldest first.
    func recentTrades(_ symbol: String, limit: Int) -> [SimTrade] {
        var out = Array((trades[symbol] ?? []).suffix(limit))
        for block in synthetic[symbol] ?? [] {
            for i in Swift.max(0, block.count - limit)..<block.count { out.append(block.trade(i)) }
        }
        out.sort { $0.id < $1.id }
        return Array(out.suffix(limit))
    }
}
