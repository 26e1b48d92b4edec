import BallastCore
import Foundation

/// The Coinbase front's products, books, accounts and fee tier.
extension SimulatedVenue {
    // MARK: Products and books

    /// `products`, `products/{id}`, `product_book`, `best_bid_ask` (and their public `market/` twins).
    func coinbaseMarketData(_ parts: [String], _ query: CoinbaseQuery, now: Date) throws(CoinbaseError) -> String {
        switch (parts.first ?? "", parts.count) {
        case ("products", 1): return coinbaseProducts(query)
        case ("products", 2):
            guard let symbol = coinbaseSymbol(parts[1]) else {
                throw .notFound("ProductID \(parts[1]) could not be found")
            }
            var json = JSONText(capacity: 1024)
            coinbaseProduct(&json, symbol)
            return json.text
        case ("product_book", 1): return try coinbaseProductBook(query, now: now)
        case ("best_bid_ask", 1): return try coinbaseBestBidAsk(query, now: now)
        default: throw .notFound("no such endpoint")
        }
    }

    private func coinbaseProducts(_ query: CoinbaseQuery) -> String {
        let wanted = query.all("product_ids")
        var symbols = config.symbols.filter { wanted.isEmpty || wanted.contains(Self.coinbaseProductID($0)) }
        if let type = query["product_type"], type != "SPOT" { symbols = [] }
        let offset = max(0, Int(query["offset"] ?? "") ?? 0)
        let page = symbols.dropFirst(offset).prefix(max(0, Int(query["limit"] ?? "") ?? Int.max))
        var json = JSONText(capacity: 1024 * page.count + 64)
        json.raw("{\"products\":[")
        for (i, symbol) in page.enumerated() {
            if i > 0 { json.raw(",") }
            coinbaseProduct(&json, symbol)
        }
        json.raw("],\"num_products\":\(symbols.count)}")
        return json.text
    }

    /// The mid, on the symbol's tick grid.
    private func coinbaseMid(_ symbol: SymbolConfig) -> ExactDecimal {
        let touch = exchange.markets[symbol.symbol]!.touch
        return ((touch.bid + touch.ask).divided(by: 2, scale: symbol.tickSize.scale + 1) ?? .zero)
            .rounded(toMultipleOf: symbol.tickSize, .halfEven)
    }

    private func coinbaseProduct(_ json: inout JSONText, _ symbol: SymbolConfig) {
        let mid = CoinbaseText.amount(coinbaseMid(symbol))
        json.raw("{")
        json.field("product_id", Self.coinbaseProductID(symbol))
        json.field("price", mid)
        json.field("price_percentage_change_24h", "0")
        json.field("volume_24h", "0")
        json.field("volume_percentage_change_24h", "0")
        json.field("base_increment", symbol.stepSize.description)
        json.field("quote_increment", symbol.tickSize.description)
        json.field("quote_min_size", CoinbaseText.amount(symbol.minNotional))
        json.field("quote_max_size", "1000000000")
        json.field("base_min_size", CoinbaseText.amount(symbol.minQty))
        json.field("base_max_size", CoinbaseText.amount(symbol.maxQty))
        json.field("base_name", symbol.base)
        json.field("quote_name", symbol.quote)
        json.raw("\"watched\":false,\"is_disabled\":false,\"new\":false,")
        json.field("status", "online")
        json.raw("\"cancel_only\":false,\"limit_only\":false,\"post_only\":false,\"trading_disabled\":false,")
        json.raw("\"auction_mode\":false,")
        json.field("product_type", "SPOT")
        json.field("quote_currency_id", symbol.quote)
        json.field("base_currency_id", symbol.base)
        json.raw("\"fcm_trading_session_details\":null,")
        json.field("mid_market_price", mid)
        json.raw("\"alias\":\"\",\"alias_to\":[],")
        json.field("base_display_symbol", symbol.base)
        json.field("quote_display_symbol", symbol.quote)
        json.raw("\"view_only\":false,")
        json.field("price_increment", symbol.tickSize.description)
        json.field("display_name", Self.coinbaseProductID(symbol))
        json.field("product_venue", "CBE")
        json.field("approximate_quote_24h_volume", "0", comma: false)
        json.raw("}")
    }

    /// One product's levels, best first: `{product_id, bids, asks, time}`.
    private func coinbasePricebook(_ json: inout JSONText, _ symbol: SymbolConfig, depth: Int, now: Date) {
        let market = exchange.markets[symbol.symbol]!
        json.raw("{")
        json.field("product_id", Self.coinbaseProductID(symbol))
        for (key, side) in [("bids", Side.buy), ("asks", Side.sell)] {
            json.key(key)
            json.raw("[")
            for (i, level) in market.levels(side).prefix(depth).enumerated() {
                if i > 0 { json.raw(",") }
                json.raw("{")
                json.field("price", CoinbaseText.amount(level.price))
                json.field("size", CoinbaseText.amount(level.qty), comma: false)
                json.raw("}")
            }
            json.raw("],")
        }
        json.field("time", CoinbaseText.time(now), comma: false)
        json.raw("}")
    }

    private func coinbaseBestBidAsk(_ query: CoinbaseQuery, now: Date) throws(CoinbaseError) -> String {
        var symbols: [SymbolConfig] = []
        for id in query.all("product_ids") {
            guard let symbol = coinbaseSymbol(id) else { throw .invalid("ProductID \(id) is invalid") }
            symbols.append(symbol)
        }
        if symbols.isEmpty { symbols = config.symbols }
        var json = JSONText(capacity: 256 * symbols.count + 16)
        json.raw("{\"pricebooks\":[")
        for (i, symbol) in symbols.enumerated() {
            if i > 0 { json.raw(",") }
            coinbasePricebook(&json, symbol, depth: 1, now: now)
        }
        json.raw("]}")
        return json.text
    }

    private func coinbaseProductBook(_ query: CoinbaseQuery, now: Date) throws(CoinbaseError) -> String {
        guard let id = query["product_id"] else { throw .invalid("product_id is required") }
        guard let symbol = coinbaseSymbol(id) else { throw .notFound("ProductID \(id) could not be found") }
        let depth = try query.limit(fallback: Int.max, max: Int.max)
        let touch = exchange.markets[symbol.symbol]!.touch
        let mid = (touch.bid + touch.ask).divided(by: 2, scale: symbol.tickSize.scale + 1) ?? .zero
        let spread = touch.ask - touch.bid
        let bps = mid.isPositive ? (spread * ExactDecimal(10_000)).divided(by: mid, scale: 4) ?? .zero : .zero
        var json = JSONText(capacity: 96 * min(depth, 2 * symbol.depthLevels) + 256)
        json.raw("{\"pricebook\":")
        coinbasePricebook(&json, symbol, depth: depth, now: now)
        json.raw(",")
        json.field("last", CoinbaseText.amount(coinbaseMid(symbol)))
        json.field("mid_market", CoinbaseText.amount(mid))
        json.field("spread_bps", CoinbaseText.amount(bps))
        json.field("spread_absolute", CoinbaseText.amount(spread), comma: false)
        json.raw("}")
        return json.text
    }

    // MARK: Accounts

    /// The key's wallets, one per asset it holds or a listed product trades, in asset order.
    private func coinbaseWallets(_ apiKey: String) -> [String] {
        let account = exchange.accounts[apiKey]!
        var assets = Set(account.free.keys).union(account.locked.keys)
        for symbol in config.symbols {
            assets.insert(symbol.base)
            assets.insert(symbol.quote)
        }
        return assets.sorted()
    }

    private func coinbaseWallet(_ json: inout JSONText, _ asset: String, apiKey: String) {
        let account = exchange.accounts[apiKey]!
        let updated = CoinbaseText.time(account.updateTime)
        json.raw("{")
        json.field("uuid", CoinbaseText.uuid(seed: "\(name)|account|\(apiKey)|\(asset)"))
        json.field("name", "\(asset) Wallet")
        json.field("currency", asset)
        json.raw("\"available_balance\":{")
        json.field("value", CoinbaseText.amount(account.free[asset] ?? .zero))
        json.field("currency", asset, comma: false)
        json.raw("},\"default\":true,\"active\":true,")
        json.field("created_at", updated)
        json.field("updated_at", updated)
        json.raw("\"deleted_at\":null,")
        json.field("type", ["USD", "EUR", "GBP"].contains(asset) ? "ACCOUNT_TYPE_FIAT" : "ACCOUNT_TYPE_CRYPTO")
        json.raw("\"ready\":true,\"hold\":{")
        json.field("value", CoinbaseText.amount(account.locked[asset] ?? .zero))
        json.field("currency", asset, comma: false)
        json.raw("},")
        json.field("retail_portfolio_id", coinbasePortfolioID(apiKey))
        json.field("platform", "ACCOUNT_PLATFORM_CONSUMER", comma: false)
        json.raw("}")
    }

    /// `accounts?limit=&cursor=`: a page of wallets; the cursor is the place of the next one.
    func coinbaseAccounts(_ query: CoinbaseQuery, apiKey: String) throws(CoinbaseError) -> String {
        let wallets = coinbaseWallets(apiKey)
        let limit = try query.limit(fallback: 49, max: 250)
        var start = 0
        if let cursor = query["cursor"] {
            guard let place = Int(cursor), place >= 0 else { throw .invalid("cursor is not one this venue gave") }
            start = place
        }
        let page = wallets.dropFirst(start).prefix(limit)
        let next = start + page.count
        var json = JSONText(capacity: 512 * page.count + 64)
        json.raw("{\"accounts\":[")
        for (i, asset) in page.enumerated() {
            if i > 0 { json.raw(",") }
            coinbaseWallet(&json, asset, apiKey: apiKey)
        }
        json.raw("],")
        json.field("has_next", bool: next < wallets.count)
        json.field("cursor", next < wallets.count ? String(next) : "")
        json.field("size", number: Int64(page.count), comma: false)
        json.raw("}")
        return json.text
    }

    /// `accounts/{uuid}`.
    func coinbaseAccount(_ uuid: String, apiKey: String) throws(CoinbaseError) -> String {
        guard
            let asset = coinbaseWallets(apiKey).first(where: {
                CoinbaseText.uuid(seed: "\(name)|account|\(apiKey)|\($0)") == uuid.lowercased()
            })
        else { throw .notFound("account \(uuid) could not be found") }
        var json = JSONText()
        json.raw("{\"account\":")
        coinbaseWallet(&json, asset, apiKey: apiKey)
        json.raw("}")
        return json.text
    }

    // MARK: Fees

    /// `transaction_summary`: the key's fee tier (its maker and taker rates) and what it traded
    /// through orders on dollar-quoted products (volume and fees, in dollars).
    func coinbaseTransactionSummary(apiKey: String) -> String {
        let account = exchange.accounts[apiKey]!
        var volume = ExactDecimal.zero
        var fees = ExactDecimal.zero
        for symbol in config.symbols where ["USD", "USDC", "USDT"].contains(symbol.quote) {
            for trade in account.trades[symbol.symbol] ?? [] {
                volume += trade.quoteQty
                if trade.commissionAsset == symbol.quote { fees += trade.commission }
            }
        }
        var json = JSONText(capacity: 512)
        json.raw("{\"total_volume\":\(CoinbaseText.amount(volume)),\"total_fees\":\(CoinbaseText.amount(fees)),")
        json.raw("\"fee_tier\":{")
        json.field("pricing_tier", "Simulated")
        json.field("usd_from", "0")
        json.field("usd_to", "")
        json.field("taker_fee_rate", CoinbaseText.amount(account.config.takerFee))
        json.field("maker_fee_rate", CoinbaseText.amount(account.config.makerFee))
        json.field("aop_from", "")
        json.field("aop_to", "", comma: false)
        json.raw("},\"margin_rate\":null,\"goods_and_services_tax\":null,")
        json.raw("\"advanced_trade_only_volume\":\(CoinbaseText.amount(volume)),")
        json.raw("\"advanced_trade_only_fees\":\(CoinbaseText.amount(fees)),")
        json.raw("\"coinbase_pro_volume\":0,\"coinbase_pro_fees\":0,")
        json.field("total_balance", "")
        json.field("has_promo_fee", bool: false, comma: false)
        json.raw("}")
        return json.text
    }
}
