import BallastCore
import Digest
import Foundation
import LoopbackHTTP

/// What the Kraken front keeps per API key: the last nonce taken and the call counter.
struct KrakenState {
    var lastNonce: [String: UInt64] = [:]
    var counter: [String: (value: Double, at: Date)] = [:]
}

/// The Kraken Spot REST dialect in front of the same exchange the Binance front uses: Kraken's
/// names (XXBT, ZUSD, XBTUSDT, XBT/USDT), string ids (`O…`/`T…`), form-encoded private POSTs
/// signed with HMAC-SHA512 and an always-increasing nonce, answers as `{"error": [], "result": …}`
/// (HTTP 200 even for errors), the decaying call counter, and the same fault kinds. Runs under
/// the venue's lock.
extension SimulatedVenue {
    func krakenGate(_ request: ServerRequest, _ params: RequestParams, arrivalOffset: Duration)
        -> (ServerAction, Duration)
    {
        let now = clock.now().addingTimeInterval(Double(skewMs) / 1000 + arrivalOffset.timeInterval)
        stats.requests += 1
        stats.byEndpoint["\(request.method) \(request.path)", default: 0] += 1
        let delay = latency()
        func answer(_ errors: [String], _ result: String? = nil) -> (ServerAction, Duration) {
            (.respond(.json(200, Self.krakenEnvelope(errors, result))), delay)
        }
        if now < bannedUntil {
            stats.refusedWhileBanned += 1
            return answer(["EGeneral:Temporary lockout"])
        }
        let hit = scriptedFault(request)
        if let rule = hit {
            switch rule.kind {
            case .rateLimit:
                stats.rateLimited += 1
                return answer(["EAPI:Rate limit exceeded"])
            case .ban:
                stats.banned += 1
                bannedUntil = now.addingTimeInterval(Double(rule.retryAfterSeconds))
                return answer(["EGeneral:Temporary lockout"])
            default: break
            }
        }
        let isPrivate = request.path.hasPrefix("/0/private/")
        let method = String(request.path.split(separator: "/").last ?? "")
        let placesOrder = isPrivate && method == "AddOrder"
        var apiKey: String?
        if isPrivate {
            guard request.method == "POST" else { return answer(["EGeneral:Invalid arguments"]) }
            do throws(KrakenError) {
                let key = try krakenAuthenticate(request, params)
                // The call counter: history calls count 2, orders and cancels none (they have the
                // matching engine's counter), every other private call 1.
                let cost: Double =
                    ["TradesHistory", "QueryTrades", "ClosedOrders", "Ledgers", "QueryLedgers"].contains(method)
                    ? 2 : (["AddOrder", "CancelOrder"].contains(method) ? 0 : 1)
                var counter = kraken.counter[key] ?? (0, now)
                counter.value = max(
                    0, counter.value - now.timeIntervalSince(counter.at) * config.limits.callCounterDecayPerSecond)
                counter.at = now
                if counter.value + cost > config.limits.callCounterMax {
                    kraken.counter[key] = counter
                    stats.rateLimited += 1
                    return answer(["EAPI:Rate limit exceeded"])
                }
                counter.value += cost
                kraken.counter[key] = counter
                apiKey = key
            } catch {
                stats.rejected += 1
                return answer([error.text])
            }
        }
        var extra = Duration.zero
        if let rule = hit {
            let perform =
                rule.placed || rule.kind == .dropResponse || rule.kind == .delay || rule.kind == .partialFill
                || !placesOrder
            var reply: String?
            if perform {
                exchange.advance(to: now)
                if rule.kind == .partialFill { exchange.takeShare = ExactDecimal(significand: 5, scale: 1) }
                reply = krakenDispatch(request.method, method, isPrivate, params, apiKey: apiKey, now: now)
                exchange.takeShare = nil
            }
            stats.faultsHit += 1
            switch rule.kind {
            case .serverError: return answer(["EService:Unavailable"])
            case .unknownStatus: return answer(["EService:Busy"])
            case .dropResponse: return (.stall, .zero)
            case .reset: return (.reset, .zero)
            case .malformed:
                let body = reply ?? Self.krakenEnvelope(["EGeneral:Internal error"], nil)
                return (.respond(.json(200, String(body.prefix(max(1, body.count / 2))))), delay)
            case .delay, .partialFill:
                extra = .milliseconds(rule.delayMs)
                if let reply { return (.respond(.json(200, reply)), delay + extra) }
            case .rateLimit, .ban, .delayInbound: break
            }
        }
        exchange.advance(to: now)
        let reply = krakenDispatch(request.method, method, isPrivate, params, apiKey: apiKey, now: now)
        return (.respond(.json(200, reply)), delay + extra)
    }

    /// A Kraken error string, thrown by the front's handlers.
    struct KrakenError: Error {
        let text: String
        init(_ text: String) { self.text = text }
    }

    /// API-Key, nonce above the key's last, and API-Sign over path ‖ SHA-256(nonce ‖ body).
    private func krakenAuthenticate(_ request: ServerRequest, _ params: RequestParams) throws(KrakenError) -> String {
        guard let key = request.header("api-key"), let account = exchange.accounts[key] else {
            throw KrakenError("EAPI:Invalid key")
        }
        guard let nonceText = params["nonce"], let nonce = UInt64(nonceText) else {
            throw KrakenError("EAPI:Invalid nonce")
        }
        guard let sign = request.header("api-sign"), let secret = Data(base64Encoded: account.config.secret) else {
            throw KrakenError("EAPI:Invalid key")
        }
        let message = Array(request.path.utf8) + Digest.sha256(nonceText + request.bodyText)
        guard Data(Digest.hmacSHA512(key: Array(secret), message: message)).base64EncodedString() == sign else {
            throw KrakenError("EAPI:Invalid signature")
        }
        guard nonce > kraken.lastNonce[key] ?? 0 else { throw KrakenError("EAPI:Invalid nonce") }
        kraken.lastNonce[key] = nonce
        return key
    }

    static func krakenEnvelope(_ errors: [String], _ result: String?) -> String {
        var json = JSONText(capacity: 64 + (result?.count ?? 0))
        json.raw("{\"error\":[")
        for (i, error) in errors.enumerated() {
            if i > 0 { json.raw(",") }
            json.string(error)
        }
        json.raw("]")
        if let result { json.raw(",\"result\":" + result) }
        json.raw("}")
        return json.text
    }

    private func krakenDispatch(
        _ httpMethod: String, _ method: String, _ isPrivate: Bool, _ params: RequestParams, apiKey: String?,
        now: Date
    ) -> String {
        do throws(KrakenError) {
            let result: String
            switch (isPrivate, method) {
            case (false, "Time"): result = "{\"unixtime\":\(Int64(now.timeIntervalSince1970)),\"rfc1123\":\"\"}"
            case (false, "Assets"): result = krakenAssets()
            case (false, "AssetPairs"): result = try krakenAssetPairs(params)
            case (false, "Ticker"): result = try krakenTicker(params)
            case (false, "Depth"): result = try krakenDepth(params, now: now)
            case (true, "Balance"): result = krakenBalance(apiKey!, extended: false)
            case (true, "BalanceEx"): result = krakenBalance(apiKey!, extended: true)
            case (true, "TradeVolume"): result = krakenTradeVolume(apiKey!)
            case (true, "TradesHistory"): result = try krakenTradesHistory(params, apiKey: apiKey!)
            case (true, "QueryTrades"): result = try krakenQueryTrades(params, apiKey: apiKey!)
            case (true, "OpenOrders"): result = krakenOrders(params, apiKey: apiKey!, open: true)
            case (true, "ClosedOrders"): result = krakenOrders(params, apiKey: apiKey!, open: false)
            case (true, "QueryOrders"): result = try krakenQueryOrders(params, apiKey: apiKey!)
            case (true, "AddOrder"):
                result = try krakenAddOrder(params, apiKey: apiKey!, now: now)
                stats.ordersAccepted += 1
            case (true, "CancelOrder"): result = try krakenCancel(params, apiKey: apiKey!, now: now)
            default: throw KrakenError("EGeneral:Unknown method")
            }
            return Self.krakenEnvelope([], result)
        } catch {
            stats.rejected += 1
            return Self.krakenEnvelope([error.text], nil)
        }
    }

    // MARK: Names

    /// Kraken's key of an asset: the legacy four-letter names for the old ones, the plain name else.
    static func krakenAssetKey(_ asset: String) -> String {
        switch asset {
        case "BTC": "XXBT"
        case "ETH": "XETH"
        case "USD": "ZUSD"
        case "EUR": "ZEUR"
        case "DOGE": "XXDG"
        default: asset
        }
    }

    /// Kraken's everyday name of an asset (`altname`).
    static func krakenAltname(_ asset: String) -> String {
        switch asset {
        case "BTC": "XBT"
        case "DOGE": "XDG"
        default: asset
        }
    }

    /// (key, altname, wsname) of a pair.
    func krakenPairNames(_ symbol: SymbolConfig) -> (key: String, altname: String, wsname: String) {
        let base = Self.krakenAssetKey(symbol.base)
        let quote = Self.krakenAssetKey(symbol.quote)
        let altname = Self.krakenAltname(symbol.base) + Self.krakenAltname(symbol.quote)
        let legacy = base.count == 4 && quote.count == 4 && (base.hasPrefix("X") && (quote.hasPrefix("Z")))
        return (
            legacy ? base + quote : altname, altname,
            Self.krakenAltname(symbol.base) + "/" + Self.krakenAltname(symbol.quote)
        )
    }

    /// The symbol any of Kraken's names of a pair stands for.
    func krakenSymbol(_ name: String) throws(KrakenError) -> SymbolConfig {
        for symbol in config.symbols {
            let names = krakenPairNames(symbol)
            if [names.key, names.altname, names.wsname].contains(name) { return symbol }
        }
        throw KrakenError("EQuery:Unknown asset pair")
    }

    /// `O`/`T` + a 16-digit base-36 number, in groups of 6-5-6 characters as Kraken spells ids.
    static func krakenID(_ prefix: String, _ value: Int64) -> String {
        var digits = String(value, radix: 36, uppercase: true)
        digits = String(repeating: "0", count: max(0, 16 - digits.count)) + digits
        let chars = Array(prefix + digits)
        return String(chars[0..<6]) + "-" + String(chars[6..<11]) + "-" + String(chars[11...])
    }

    static func krakenNumber(_ id: String, prefix: Character) -> Int64? {
        guard id.first == prefix else { return nil }
        return Int64(id.dropFirst().replacingOccurrences(of: "-", with: ""), radix: 36)
    }

    /// A trade's id: its symbol's place and its number (trade numbers are per symbol).
    func krakenTradeID(_ symbol: String, _ id: Int64) -> String {
        let index = Int64(config.symbols.firstIndex { $0.symbol == symbol } ?? 0)
        return Self.krakenID("T", index * 1_000_000_000_000 + id)
    }

    // MARK: Market data

    /// The pairs a `pair` list names (any of Kraken's names for each), or every pair.
    private func krakenSymbols(_ params: RequestParams) throws(KrakenError) -> [SymbolConfig] {
        guard let wanted = params["pair"] else { return config.symbols }
        var symbols: [SymbolConfig] = []
        for name in wanted.split(separator: ",") { symbols.append(try krakenSymbol(String(name))) }
        return symbols
    }

    private func krakenAssets() -> String {
        var assets = Set<String>()
        for symbol in config.symbols {
            assets.insert(symbol.base)
            assets.insert(symbol.quote)
        }
        for account in exchange.accounts.values { assets.formUnion(account.free.keys) }
        var json = JSONText()
        json.raw("{")
        for (i, asset) in assets.sorted().enumerated() {
            if i > 0 { json.raw(",") }
            json.key(Self.krakenAssetKey(asset))
            json.raw("{")
            json.field("aclass", "currency")
            json.field("altname", Self.krakenAltname(asset))
            json.field("decimals", number: 10)
            json.field("display_decimals", number: 5)
            json.field("status", "enabled", comma: false)
            json.raw("}")
        }
        json.raw("}")
        return json.text
    }

    private func krakenAssetPairs(_ params: RequestParams) throws(KrakenError) -> String {
        let symbols = try krakenSymbols(params)
        var json = JSONText(capacity: 512 * symbols.count)
        json.raw("{")
        for (i, symbol) in symbols.enumerated() {
            if i > 0 { json.raw(",") }
            let names = krakenPairNames(symbol)
            let account = exchange.accounts.values.first?.config
            json.key(names.key)
            json.raw("{")
            json.field("altname", names.altname)
            json.field("wsname", names.wsname)
            json.field("aclass_base", "currency")
            json.field("base", Self.krakenAssetKey(symbol.base))
            json.field("aclass_quote", "currency")
            json.field("quote", Self.krakenAssetKey(symbol.quote))
            json.field("pair_decimals", number: Int64(symbol.tickSize.scale))
            json.field("cost_decimals", number: 8)
            json.field("lot_decimals", number: Int64(symbol.stepSize.scale))
            json.field("lot_multiplier", number: 1)
            json.field("tick_size", symbol.tickSize)
            json.field("ordermin", symbol.minQty)
            json.field("costmin", symbol.minNotional)
            json.raw("\"fees\":[[0,\((account?.takerFee ?? .zero) * ExactDecimal(100))]],")
            json.raw("\"fees_maker\":[[0,\((account?.makerFee ?? .zero) * ExactDecimal(100))]],")
            json.field("fee_volume_currency", "ZUSD")
            json.field("margin_call", number: 80)
            json.field("margin_stop", number: 40)
            json.field("status", "online", comma: false)
            json.raw("}")
        }
        json.raw("}")
        return json.text
    }

    private func krakenTicker(_ params: RequestParams) throws(KrakenError) -> String {
        let symbols = try krakenSymbols(params)
        var json = JSONText(capacity: 256 * symbols.count)
        json.raw("{")
        for (i, symbol) in symbols.enumerated() {
            if i > 0 { json.raw(",") }
            let market = exchange.markets[symbol.symbol]!
            let bid = market.levels(.buy).first ?? BookLevel(price: .zero, qty: .zero)
            let ask = market.levels(.sell).first ?? BookLevel(price: .zero, qty: .zero)
            let mid = (bid.price + ask.price).divided(by: 2, scale: 8) ?? .zero
            json.key(krakenPairNames(symbol).key)
            json.raw("{")
            func triple(_ key: String, _ price: ExactDecimal, _ qty: ExactDecimal) {
                json.key(key)
                json.raw("[\"\(price)\",\"1\",\"\(qty)\"],")
            }
            triple("a", ask.price, ask.qty)
            triple("b", bid.price, bid.qty)
            json.raw("\"c\":[\"\(mid)\",\"0\"],\"v\":[\"0\",\"0\"],\"p\":[\"\(mid)\",\"\(mid)\"],\"t\":[0,0],")
            json.raw("\"l\":[\"\(mid)\",\"\(mid)\"],\"h\":[\"\(mid)\",\"\(mid)\"],\"o\":\"\(mid)\"")
            json.raw("}")
        }
        json.raw("}")
        return json.text
    }

    private func krakenDepth(_ params: RequestParams, now: Date) throws(KrakenError) -> String {
        guard let name = params["pair"] else { throw KrakenError("EGeneral:Invalid arguments") }
        let symbol = try krakenSymbol(name)
        let count = Int(params["count"] ?? "100") ?? 100
        guard (1...500).contains(count) else { throw KrakenError("EGeneral:Invalid arguments") }
        let market = exchange.markets[symbol.symbol]!
        let stamp = Int64(now.timeIntervalSince1970)
        var json = JSONText(capacity: 64 * count)
        json.raw("{")
        json.key(krakenPairNames(symbol).key)
        json.raw("{")
        for (key, side) in [("asks", Side.sell), ("bids", Side.buy)] {
            json.key(key)
            json.raw("[")
            for (i, level) in market.levels(side).prefix(count).enumerated() {
                if i > 0 { json.raw(",") }
                json.raw("[\"\(level.price)\",\"\(level.qty)\",\(stamp)]")
            }
            json.raw(side == .sell ? "]," : "]")
        }
        json.raw("}}")
        return json.text
    }

    // MARK: Account

    private func krakenBalance(_ apiKey: String, extended: Bool) -> String {
        let account = exchange.accounts[apiKey]!
        var json = JSONText()
        json.raw("{")
        let assets = Set(account.free.keys).union(account.locked.keys).sorted()
        for (i, asset) in assets.enumerated() {
            if i > 0 { json.raw(",") }
            let free = account.free[asset] ?? .zero
            let held = account.locked[asset] ?? .zero
            json.key(Self.krakenAssetKey(asset))
            if extended {
                json.raw("{")
                json.field("balance", free + held)
                json.field("hold_trade", held, comma: false)
                json.raw("}")
            } else {
                json.string((free + held).description)
            }
        }
        json.raw("}")
        return json.text
    }

    private func krakenTradeVolume(_ apiKey: String) -> String {
        let rates = exchange.accounts[apiKey]!.config
        var json = JSONText()
        json.raw("{\"currency\":\"ZUSD\",\"volume\":\"0\",\"fees\":{")
        for (i, symbol) in config.symbols.enumerated() {
            if i > 0 { json.raw(",") }
            json.key(krakenPairNames(symbol).key)
            json.raw("{\"fee\":\"\(rates.takerFee * ExactDecimal(100))\"}")
        }
        json.raw("},\"fees_maker\":{")
        for (i, symbol) in config.symbols.enumerated() {
            if i > 0 { json.raw(",") }
            json.key(krakenPairNames(symbol).key)
            json.raw("{\"fee\":\"\(rates.makerFee * ExactDecimal(100))\"}")
        }
        json.raw("}}")
        return json.text
    }

    /// Every trade of the key, newest first, as (symbol, trade).
    private func krakenTrades(_ apiKey: String) -> [(SymbolConfig, SimTrade)] {
        let account = exchange.accounts[apiKey]!
        var all: [(SymbolConfig, SimTrade)] = []
        for symbol in config.symbols {
            for trade in account.recentTrades(symbol.symbol, limit: Int.max) { all.append((symbol, trade)) }
        }
        return all.sorted { ($0.1.time, $0.1.id) > ($1.1.time, $1.1.id) }
    }

    private func krakenTrade(_ json: inout JSONText, _ symbol: SymbolConfig, _ trade: SimTrade) {
        json.key(krakenTradeID(symbol.symbol, trade.id))
        json.raw("{")
        json.field("ordertxid", Self.krakenID("O", trade.orderId))
        json.field("postxid", Self.krakenID("P", trade.id))
        json.field("pair", krakenPairNames(symbol).key)
        json.raw("\"time\":\(String(format: "%.4f", trade.time.timeIntervalSince1970)),")
        json.field("type", trade.isBuyer ? "buy" : "sell")
        json.field("ordertype", "limit")
        json.field("price", trade.price)
        json.field("cost", trade.quoteQty)
        json.field("fee", trade.commission)
        json.field("vol", trade.qty)
        json.field("margin", ExactDecimal.zero)
        json.field("leverage", "0")
        json.field("misc", "")
        json.field("trade_id", number: trade.id)
        json.field("maker", bool: trade.isMaker, comma: false)
        json.raw("}")
    }

    private func krakenTradesHistory(_ params: RequestParams, apiKey: String) throws(KrakenError) -> String {
        let offset = Int(params["ofs"] ?? "0") ?? 0
        let start = Double(params["start"] ?? "")
        let end = Double(params["end"] ?? "")
        let matching = krakenTrades(apiKey).filter { _, trade in
            let t = trade.time.timeIntervalSince1970
            return (start.map { t > $0 } ?? true) && (end.map { t <= $0 } ?? true)
        }
        var json = JSONText(capacity: 400 * 50)
        json.raw("{\"trades\":{")
        for (i, (symbol, trade)) in matching.dropFirst(offset).prefix(50).enumerated() {
            if i > 0 { json.raw(",") }
            krakenTrade(&json, symbol, trade)
        }
        json.raw("},\"count\":\(matching.count)}")
        return json.text
    }

    private func krakenQueryTrades(_ params: RequestParams, apiKey: String) throws(KrakenError) -> String {
        guard let wanted = params["txid"] else { throw KrakenError("EGeneral:Invalid arguments") }
        let ids = Set(wanted.split(separator: ",").map(String.init))
        var json = JSONText()
        json.raw("{")
        var first = true
        for (symbol, trade) in krakenTrades(apiKey) where ids.contains(krakenTradeID(symbol.symbol, trade.id)) {
            if !first { json.raw(",") }
            first = false
            krakenTrade(&json, symbol, trade)
        }
        json.raw("}")
        return json.text
    }

    // MARK: Orders

    private func krakenOrder(_ json: inout JSONText, _ order: SimOrder, trades: Bool) {
        let symbol = config.symbols.first { $0.symbol == order.symbol }!
        let names = krakenPairNames(symbol)
        json.key(Self.krakenID("O", order.orderId))
        json.raw("{\"refid\":null,\"userref\":0,")
        if !order.clientOrderId.hasPrefix("kr-auto-") { json.field("cl_ord_id", order.clientOrderId) }
        let status: String
        switch order.status {
        case .open, .partiallyFilled, .pendingCancel: status = "open"
        case .filled: status = "closed"
        case .cancelled, .rejected: status = "canceled"
        case .expired: status = "expired"
        }
        json.field("status", status)
        json.raw("\"opentm\":\(String(format: "%.4f", order.time.timeIntervalSince1970)),\"starttm\":0,\"expiretm\":0,")
        if !order.status.isOpen {
            json.raw("\"closetm\":\(String(format: "%.4f", order.updateTime.timeIntervalSince1970)),")
        }
        let side = order.side == .buy ? "buy" : "sell"
        let kind = order.type == .market ? "market" : "limit"
        json.raw("\"descr\":{")
        json.field("pair", names.altname)
        json.field("type", side)
        json.field("ordertype", kind)
        json.field("price", order.price)
        json.field("price2", "0")
        json.field("leverage", "none")
        json.field("order", "\(side) \(order.origQty) \(names.altname) @ \(kind) \(order.price)")
        json.field("close", "", comma: false)
        json.raw("},")
        json.field("vol", order.origQty)
        json.field("vol_exec", order.executedQty)
        json.field("cost", order.cumulativeQuote)
        json.field("fee", ExactDecimal.zero)
        let average =
            order.executedQty.isPositive
            ? (order.cumulativeQuote.divided(by: order.executedQty, scale: 8) ?? .zero) : .zero
        json.field("price", average)
        json.field("stopprice", "0")
        json.field("limitprice", "0")
        json.field("misc", "")
        json.field("oflags", order.type == .postOnly ? "post,fciq" : "fciq")
        if order.type == .limit { json.field("timeinforce", order.timeInForce == .ioc ? "IOC" : "GTC") }
        if trades {
            let ids = (exchange.accounts[order.apiKey]?.trades[order.symbol] ?? []).filter {
                $0.orderId == order.orderId
            }.map { "\"\(krakenTradeID(order.symbol, $0.id))\"" }
            json.raw("\"trades\":[\(ids.joined(separator: ","))],")
        }
        json.raw("\"reason\":null}")
    }

    private func krakenOrders(_ params: RequestParams, apiKey: String, open: Bool) -> String {
        let client = params["cl_ord_id"]
        let selected = exchange.orders.values.filter {
            $0.apiKey == apiKey && exchange.open.contains($0.orderId) == open
                && (client == nil || $0.clientOrderId == client)
        }.sorted { $0.orderId > $1.orderId }
        var json = JSONText(capacity: 512 * min(selected.count, 50) + 32)
        json.raw(open ? "{\"open\":{" : "{\"closed\":{")
        let page = open ? Array(selected) : Array(selected.dropFirst(Int(params["ofs"] ?? "0") ?? 0).prefix(50))
        for (i, order) in page.enumerated() {
            if i > 0 { json.raw(",") }
            krakenOrder(&json, order, trades: params["trades"] == "true")
        }
        json.raw("}")
        if !open { json.raw(",\"count\":\(selected.count)") }
        json.raw("}")
        return json.text
    }

    private func krakenQueryOrders(_ params: RequestParams, apiKey: String) throws(KrakenError) -> String {
        guard let wanted = params["txid"] else { throw KrakenError("EGeneral:Invalid arguments") }
        var json = JSONText()
        json.raw("{")
        var first = true
        for id in wanted.split(separator: ",") {
            guard let number = Self.krakenNumber(String(id), prefix: "O"), let order = exchange.orders[number],
                order.apiKey == apiKey
            else { throw KrakenError("EOrder:Invalid order") }
            if !first { json.raw(",") }
            first = false
            krakenOrder(&json, order, trades: params["trades"] == "true")
        }
        json.raw("}")
        return json.text
    }

    /// A client order id Kraken accepts: a UUID, 32 hex digits, or free text of at most 18 characters.
    static func krakenClientIDValid(_ id: String) -> Bool {
        let hex = id.unicodeScalars.allSatisfy { $0.properties.isASCIIHexDigit }
        if id.count == 32 && hex { return true }
        if id.count == 36, UUID(uuidString: id) != nil { return true }
        return !id.isEmpty && id.count <= 18 && id.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 32 }
    }

    private func krakenAddOrder(_ params: RequestParams, apiKey: String, now: Date) throws(KrakenError) -> String {
        guard let pair = params["pair"], let typeText = params["type"], let side = Side(venueName: typeText),
            let kind = params["ordertype"], let volumeText = params["volume"], let volume = ExactDecimal(volumeText)
        else { throw KrakenError("EGeneral:Invalid arguments") }
        let symbol = try krakenSymbol(pair)
        var price: ExactDecimal?
        if let text = params["price"] {
            guard let value = ExactDecimal(text) else { throw KrakenError("EGeneral:Invalid arguments:price") }
            price = value
        }
        let postOnly = (params["oflags"] ?? "").split(separator: ",").contains("post")
        var timeInForce: TimeInForce?
        let type: OrderType
        switch kind {
        case "market":
            type = .market
        case "limit":
            guard price != nil else { throw KrakenError("EGeneral:Invalid arguments:price") }
            type = postOnly ? .postOnly : .limit
            if !postOnly {
                switch params["timeinforce"] ?? "GTC" {
                case "GTC": timeInForce = .gtc
                case "IOC": timeInForce = .ioc
                default: throw KrakenError("EGeneral:Invalid arguments:timeinforce")
                }
            }
        default: throw KrakenError("EGeneral:Invalid arguments:ordertype")
        }
        if let deadline = params["deadline"] {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            guard let date = formatter.date(from: deadline) ?? ISO8601DateFormatter().date(from: deadline) else {
                throw KrakenError("EGeneral:Invalid arguments:deadline")
            }
            if now > date { throw KrakenError("EOrder:Deadline elapsed") }
        }
        let clientOrderId: String
        if let given = params["cl_ord_id"] {
            guard Self.krakenClientIDValid(given) else { throw KrakenError("EGeneral:Invalid arguments:cl_ord_id") }
            clientOrderId = given
        } else {
            clientOrderId = "kr-auto-" + generatedClientID()
        }
        let request = Exchange.NewOrder(
            symbol: symbol.symbol, side: side, type: type, timeInForce: type == .limit ? timeInForce : nil,
            quantity: volume, quoteOrderQty: nil, price: price, clientOrderId: clientOrderId)
        let order: SimOrder
        do throws(ExchangeRefusal) {
            (order, _) = try exchange.place(request, apiKey: apiKey, at: now)
        } catch {
            throw Self.krakenError(error)
        }
        let names = krakenPairNames(symbol)
        var json = JSONText()
        json.raw("{\"descr\":{")
        json.field(
            "order",
            "\(side == .buy ? "buy" : "sell") \(volume) \(names.altname) @ \(kind)\(price.map { " \($0)" } ?? "")",
            comma: false)
        json.raw("},\"txid\":[\"\(Self.krakenID("O", order.orderId))\"]}")
        return json.text
    }

    private func krakenCancel(_ params: RequestParams, apiKey: String, now: Date) throws(KrakenError) -> String {
        var target: SimOrder?
        if let txid = params["txid"] {
            if let number = Self.krakenNumber(txid, prefix: "O"), let order = exchange.orders[number],
                order.apiKey == apiKey
            {
                target = order
            } else {
                target = exchange.orders.values.first { $0.apiKey == apiKey && $0.clientOrderId == txid }
            }
        } else if let client = params["cl_ord_id"] {
            target = exchange.orders.values.filter { $0.apiKey == apiKey && $0.clientOrderId == client }
                .max { $0.orderId < $1.orderId }
        } else {
            throw KrakenError("EGeneral:Invalid arguments")
        }
        guard let order = target, exchange.open.contains(order.orderId) else {
            throw KrakenError("EOrder:Unknown order")
        }
        do throws(ExchangeRefusal) {
            _ = try exchange.cancel(
                apiKey: apiKey, symbol: order.symbol, clientOrderId: nil, orderId: order.orderId, at: now)
        } catch {
            throw Self.krakenError(error)
        }
        return "{\"count\":1}"
    }

    /// The engine's refusal in Kraken's words.
    static func krakenError(_ refusal: ExchangeRefusal) -> KrakenError {
        switch refusal {
        case .duplicateOpenClientOrderId: KrakenError("EOrder:Duplicate order")
        case .wouldTakeLiquidity: KrakenError("EOrder:Post only order")
        case .insufficientBalance: KrakenError("EOrder:Insufficient funds")
        case .noOpenOrder: KrakenError("EOrder:Unknown order")
        case .unknownSymbol: KrakenError("EQuery:Unknown asset pair")
        case .filterFailure(.notional): KrakenError("EOrder:Cost minimum not met")
        case .filterFailure(.quantity): KrakenError("EOrder:Order minimum not met")
        case .filterFailure(.price): KrakenError("EOrder:Invalid price")
        case .unknownAccount: KrakenError("EGeneral:Invalid arguments")
        }
    }
}
