import BallastCore
import Foundation

/// The venue's books and ledgers. Not thread-safe: `SimulatedVenue` holds a lock around every use.
final class Exchange {
    let config: VenueConfig
    var markets: [String: Market] = [:]
    var accounts: [String: SimAccount] = [:]
    var orders: [Int64: SimOrder] = [:]
    /// Order ids per account and client order id, oldest first.
    var byClientID: [String: [String: [Int64]]] = [:]
    var open: Set<Int64> = []
    private var nextOrderID: Int64 = 1
    private var nextTradeID: [String: Int64] = [:]
    private var lastStep: Date
    /// The markets' symbols in the order they step (sorted, so a run repeats exactly).
    private var symbolOrder: [String] = []
    /// Set by a `partial-fill` fault for one order: the share of its quantity it may take now.
    var takeShare: ExactDecimal?

    /// The venue's markets, seeded per asset for the path (venues listing a symbol share
    /// it: `pathSeed`, else the simulator's seed, else `seed`) and per venue for the flow.
    init(config: VenueConfig, seed: UInt64, now: Date) throws(SimulatorError) {
        self.config = config
        self.lastStep = now
        let pathSeed = config.pathSeed ?? config.sharedPathSeed ?? seed
        for symbol in config.symbols {
            markets[symbol.symbol] = try Market(
                config: symbol, venue: config, start: now, pathSeed: PricePaths.seed(pathSeed, symbol: symbol.symbol),
                flowSeed: PricePaths.seed(seed ^ 0xF10E_0000_0000_0000, symbol: symbol.symbol))
            nextTradeID[symbol.symbol] = 1
        }
        for account in config.accounts { accounts[account.apiKey] = SimAccount(config: account, now: now) }
        symbolOrder = markets.keys.sorted()
    }

    // MARK: Time

    /// Steps every market up to `now`, one `stepSeconds` at a time, filling the resting
    /// orders each step's flow or price reaches (see `Market+Queue`). An order placed
    /// at `now` then meets the book as it is at `now`.
    func advance(to now: Date) {
        let step = config.stepSeconds
        var steps = 0
        while lastStep.addingTimeInterval(step) <= now, steps < 100_000 {
            lastStep = lastStep.addingTimeInterval(step)
            steps += 1
            for symbol in symbolOrder {
                let fills = markets[symbol]!.step(to: lastStep, seconds: step)
                for fill in fills {
                    execute(orderID: fill.orderId, price: fill.price, qty: fill.qty, maker: true, at: lastStep)
                }
            }
        }
        if steps == 100_000 { lastStep = now }  // a long idle gap: skip ahead
    }

    // MARK: Orders

    /// A new order request, already parsed and checked for mandatory fields.
    struct NewOrder {
        var symbol: String
        var side: Side
        var type: OrderType
        var timeInForce: TimeInForce?
        var quantity: ExactDecimal?
        var quoteOrderQty: ExactDecimal?
        var price: ExactDecimal?
        var clientOrderId: String
    }

    /// Validates and places an order arriving at the matching engine at `now`; returns it
    /// with the trades it made at once. The market is first stepped to `now`, so the order
    /// meets the book as it is when it arrives, not as it was when it was sent.
    func place(_ request: NewOrder, apiKey: String, at now: Date, testOnly: Bool = false) throws(ExchangeRefusal)
        -> (SimOrder, [SimTrade])
    {
        advance(to: now)
        guard let market = markets[request.symbol] else { throw .unknownSymbol }
        let rules = market.rules
        if let ids = byClientID[apiKey]?[request.clientOrderId], ids.contains(where: open.contains) {
            throw .duplicateOpenClientOrderId
        }
        let price = request.price ?? .zero
        var qty = request.quantity ?? .zero
        if request.type != .market {
            if let violation = rules.checkPrice(price) { throw .filterFailure(violation.engineFilter) }
        }
        if request.type == .market, qty.isZero, let quote = request.quoteOrderQty {
            qty = marketQuantity(spending: quote, market: market)
            guard qty.isPositive else { throw .filterFailure(.notional) }
        }
        if let violation = rules.checkQuantity(qty) { throw .filterFailure(violation.engineFilter) }
        let reference = request.type == .market ? (request.side == .buy ? market.touch.ask : market.touch.bid) : price
        if reference * qty < rules.minNotional { throw .filterFailure(.notional) }
        let crosses = request.side == .buy ? price >= market.touch.ask : price <= market.touch.bid
        if request.type == .postOnly && crosses { throw .wouldTakeLiquidity }

        // Funds: a buy locks quote at its limit (or the walk's cost), a sell locks base.
        let account = accounts[apiKey]!
        let pair = rules.pair
        let needed: ExactDecimal
        let asset: String
        if request.side == .buy {
            asset = pair.quote
            needed = request.type == .market ? cost(buying: qty, market: market) : price * qty
        } else {
            asset = pair.base
            needed = qty
        }
        guard account.free[asset, default: .zero] >= needed else { throw .insufficientBalance }
        if request.timeInForce == .fok, request.type == .limit,
            market.available(from: request.side == .buy ? .sell : .buy, limit: price) < qty
        {
            if testOnly { return (placeholder(request, apiKey: apiKey, qty: qty, now: now), []) }
            return record(request, apiKey: apiKey, qty: qty, now: now, status: .expired, lock: .zero)
        }
        if testOnly { return (placeholder(request, apiKey: apiKey, qty: qty, now: now), []) }

        var (order, _) = record(request, apiKey: apiKey, qty: qty, now: now, status: .open, lock: needed)
        accounts[apiKey]!.lock(asset, needed, at: now)
        // Take what crosses now, level by level; each level is a trade.
        var trades: [SimTrade] = []
        if request.type == .market || crosses {
            let limit: ExactDecimal? = request.type == .market ? nil : price
            let takeable = takeShare.map { rules.floorQuantity(qty * $0) } ?? qty
            let executions = markets[request.symbol]!.take(
                from: request.side == .buy ? .sell : .buy, qty: takeable, limit: limit)
            for (fillPrice, fillQty) in executions {
                trades.append(execute(orderID: order.orderId, price: fillPrice, qty: fillQty, maker: false, at: now))
            }
            order = orders[order.orderId]!
        }
        // What is left rests (GTC, post-only) or expires (IOC, FOK, market).
        if order.remaining.isPositive
            && (request.type == .market || request.timeInForce == .ioc || request.timeInForce == .fok)
        {
            finish(order.orderId, status: .expired, at: now)
        } else if order.status.isOpen {
            markets[request.symbol]!.rest(id: order.orderId, side: order.side, price: order.price, qty: order.remaining)
        }
        return (orders[order.orderId]!, trades)
    }

    /// Cancels an open order.
    func cancel(apiKey: String, symbol: String, clientOrderId: String?, orderId: Int64?, at now: Date)
        throws(ExchangeRefusal)
        -> SimOrder
    {
        advance(to: now)  // a late cancel finds what filled meanwhile
        guard let id = find(apiKey: apiKey, symbol: symbol, clientOrderId: clientOrderId, orderId: orderId),
            open.contains(id)
        else { throw .noOpenOrder }
        finish(id, status: .cancelled, at: now)
        return orders[id]!
    }

    /// The latest order of `apiKey` with this client order id (or order id).
    func find(apiKey: String, symbol: String, clientOrderId: String?, orderId: Int64?) -> Int64? {
        if let orderId {
            guard let order = orders[orderId], order.apiKey == apiKey, order.symbol == symbol else { return nil }
            return orderId
        }
        guard let clientOrderId else { return nil }
        return byClientID[apiKey]?[clientOrderId]?.last { orders[$0]?.symbol == symbol }
    }

    // MARK: Internals

    /// The order a test-only request describes, with the id it would have been given; not recorded.
    private func placeholder(_ request: NewOrder, apiKey: String, qty: ExactDecimal, now: Date) -> SimOrder {
        SimOrder(
            orderId: nextOrderID, clientOrderId: request.clientOrderId, apiKey: apiKey, symbol: request.symbol,
            side: request.side,
            type: request.type, timeInForce: request.timeInForce, price: request.price ?? .zero, origQty: qty,
            time: now,
            updateTime: now)
    }

    private func record(
        _ request: NewOrder, apiKey: String, qty: ExactDecimal, now: Date, status: VenueOrderStatus, lock: ExactDecimal
    )
        -> (SimOrder, [SimTrade])
    {
        let id = nextOrderID
        nextOrderID += 1
        var order = SimOrder(
            orderId: id, clientOrderId: request.clientOrderId, apiKey: apiKey, symbol: request.symbol,
            side: request.side,
            type: request.type, timeInForce: request.type == .limit ? request.timeInForce : nil,
            price: request.price ?? .zero, origQty: qty, time: now, updateTime: now)
        order.status = status
        order.locked = lock
        if let touch = markets[request.symbol]?.touch {
            order.arrivalMid = (touch.bid + touch.ask).divided(by: 2, scale: 12) ?? .zero
        }
        orders[id] = order
        byClientID[apiKey, default: [:]][request.clientOrderId, default: []].append(id)
        if status.isOpen { open.insert(id) }
        return (order, [])
    }

    /// Records one execution of an order and moves the money.
    @discardableResult
    func execute(orderID: Int64, price: ExactDecimal, qty: ExactDecimal, maker: Bool, at time: Date) -> SimTrade {
        var order = orders[orderID]!
        let market = markets[order.symbol]!
        let pair = market.rules.pair
        let notional = price * qty
        var account = accounts[order.apiKey]!
        let rate = maker ? account.config.makerFee : account.config.takerFee
        // Commission in the asset received (base for a buy, quote for a sell), or in the quote
        // for either side where the venue takes its fees that way.
        let inQuote = config.feesInQuote || order.side == .sell
        var commissionAsset = inQuote ? pair.quote : pair.base
        var commission = ((inQuote ? notional : qty) * rate).rounded(scale: 8, .up)
        if !config.feesInQuote, let feeAsset = account.config.feeAsset,
            let feePrice = feeAssetPrice(feeAsset, quote: pair.quote)
        {
            let inQuote = order.side == .buy ? commission * price : commission
            let converted = (inQuote.divided(by: feePrice, scale: 8, .up) ?? .zero)
            if account.free[feeAsset, default: .zero] >= converted {
                commission = converted
                commissionAsset = feeAsset
            }
        }
        if order.side == .buy {
            account.spendLocked(pair.quote, notional, at: time)
            order.locked -= notional
            account.credit(pair.base, qty, at: time)
        } else {
            account.spendLocked(pair.base, qty, at: time)
            order.locked -= qty
            account.credit(pair.quote, notional, at: time)
        }
        account.credit(commissionAsset, -commission, at: time)
        let id = nextTradeID[order.symbol]!
        nextTradeID[order.symbol] = id + 1
        let trade = SimTrade(
            id: id, orderId: orderID, price: price, qty: qty, quoteQty: notional, commission: commission,
            commissionAsset: commissionAsset, time: time, isBuyer: order.side == .buy, isMaker: maker)
        account.trades[order.symbol, default: []].append(trade)
        accounts[order.apiKey] = account
        order.executedQty += qty
        order.cumulativeQuote += notional
        order.updateTime = time
        order.status = order.remaining.isPositive ? .partiallyFilled : .filled
        orders[orderID] = order
        if order.status == .filled { finish(orderID, status: .filled, at: time) }
        return trade
    }

    /// Closes an order and releases what it still had locked.
    func finish(_ id: Int64, status: VenueOrderStatus, at time: Date) {
        guard var order = orders[id] else { return }
        let pair = markets[order.symbol]!.rules.pair
        accounts[order.apiKey]!.unlock(order.side == .buy ? pair.quote : pair.base, order.locked, at: time)
        order.locked = .zero
        order.status = status
        order.updateTime = time
        orders[id] = order
        open.remove(id)
        markets[order.symbol]?.removeResting(id)
    }

    private func feeAssetPrice(_ asset: String, quote: String) -> ExactDecimal? {
        guard let market = markets[asset + quote] else { return nil }
        let (bid, ask) = market.touch
        return (bid + ask).divided(by: 2, scale: 8)
    }

    private func cost(buying qty: ExactDecimal, market: Market) -> ExactDecimal {
        var remaining = qty
        var total = ExactDecimal.zero
        for level in market.levels(.sell) where remaining.isPositive {
            let q = min(level.qty, remaining)
            total += level.price * q
            remaining -= q
        }
        return total
    }

    private func marketQuantity(spending quote: ExactDecimal, market: Market) -> ExactDecimal {
        var budget = quote
        var qty = ExactDecimal.zero
        for level in market.levels(.sell) where budget.isPositive {
            let affordable = (budget.divided(by: level.price, scale: 12, .down) ?? .zero)
                .rounded(toMultipleOf: market.config.stepSize, .down)
            let q = min(level.qty, affordable)
            qty += q
            budget -= q * level.price
            if q < level.qty { break }
        }
        return qty
    }

    /// Adds `count` generated historical trades for `apiKey` on `symbol`.
    func seedHistory(apiKey: String, symbol: String, count: Int, now: Date) throws(ExchangeRefusal) {
        guard let market = markets[symbol] else { throw .unknownSymbol }
        guard accounts[apiKey] != nil else { throw .unknownAccount }
        let first = nextTradeID[symbol]!
        nextTradeID[symbol] = first + Int64(count)
        let block = SyntheticTrades(
            firstId: first, count: count, start: now.addingTimeInterval(-Double(count) * 0.01 - 60),
            basePrice: market.config.startPrice, tick: market.config.tickSize, step: market.config.stepSize,
            quote: market.config.quote)
        accounts[apiKey]!.synthetic[symbol, default: []].append(block)
    }
}
