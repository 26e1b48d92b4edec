import BallastCore
import Foundation

/// An order as the simulated venue keeps it.
struct SimOrder {
    let orderId: Int64
    let clientOrderId: String
    let apiKey: String
    let symbol: String
    let side: Side
    let type: OrderType
    let timeInForce: TimeInForce?
    /// Limit price (zero for market orders).
    let price: ExactDecimal
    let origQty: ExactDecimal
    var executedQty: ExactDecimal = .zero
    var cumulativeQuote: ExactDecimal = .zero
    var status: VenueOrderStatus = .open
    let time: Date
    var updateTime: Date
    /// What is still locked for it: quote for a buy, base for a sell.
    var locked: ExactDecimal = .zero
    /// The venue's mid, (best bid + best ask) / 2, when the order reached the matching engine,
    /// before it traded: the arrival mid m₀ as the venue saw it, whoever sent the order.
    var arrivalMid: ExactDecimal = .zero

    var remaining: ExactDecimal { origQty - executedQty }
}

/// A trade of one account.
struct SimTrade {
    let id: Int64
    let orderId: Int64
    let price: ExactDecimal
    let qty: ExactDecimal
    let quoteQty: ExactDecimal
    let commission: ExactDecimal
    let commissionAsset: String
    let time: Date
    let isBuyer: Bool
    let isMaker: Bool
}

/// A block of generated historical trades (for pull benchmarks): trade `i` of
/// the block is computed, not stored, so a million cost no memory.
struct SyntheticTrades {
    let firstId: Int64
    let count: Int
    let start: Date
    let basePrice: ExactDecimal
    let tick: ExactDecimal
    let step: ExactDecimal
    let quote: String

    func trade(_ i: Int) -> SimTrade {
        let price = basePrice + tick * ExactDecimal((i * 7919) % 2000 - 1000)
        let qty = step * ExactDecimal(1 + (i * 104_729) % 997)
        let quoteQty = price * qty
        return SimTrade(
            id: firstId + Int64(i), orderId: 1_000_000_000 + Int64(i / 3), price: price, qty: qty, quoteQty: quoteQty,
            commission: (quoteQty * ExactDecimal(significand: 1, scale: 3)).rounded(scale: 8, .down),
            commissionAsset: quote, time: start.addingTimeInterval(Double(i) * 0.01), isBuyer: i % 2 == 0,
            isMaker: i % 3 == 0)
    }
}

/// One account: balances, trades and fee settings.
struct SimAccount {
    let config: AccountConfig
    var free: [String: ExactDecimal]
    var locked: [String: ExactDecimal] = [:]
    var trades: [String: [SimTrade]] = [:]
    var synthetic: [String: [SyntheticTrades]] = [:]
    var updateTime: Date

    init(config: AccountConfig, now: Date) {
        self.config = config
        self.free = config.balances
        self.updateTime = now
    }

    mutating func credit(_ asset: String, _ amount: ExactDecimal, at time: Date) {
        free[asset, default: .zero] += amount
        updateTime = time
    }

    mutating func lock(_ asset: String, _ amount: ExactDecimal, at time: Date) {
        free[asset, default: .zero] -= amount
        locked[asset, default: .zero] += amount
        updateTime = time
    }

    mutating func spendLocked(_ asset: String, _ amount: ExactDecimal, at time: Date) {
        locked[asset, default: .zero] -= amount
        updateTime = time
    }

    mutating func unlock(_ asset: String, _ amount: ExactDecimal, at time: Date) {
        guard amount.isPositive else { return }
        locked[asset, default: .zero] -= amount
        free[asset, default: .zero] += amount
        updateTime = time
    }

    /// Trades on `symbol` with id ≥ `fromId`, in id order, at most `limit`.
    func trades(_ symbol: String, fromId: Int64, orderId: Int64?, limit: Int) -> [SimTrade] {
        var out: [SimTrade] = []
        for block in synthetic[symbol] ?? [] where orderId == nil {
            let lastId = block.firstId + Int64(block.count) - 1
            guard fromId <= lastId else { continue }
            var i = Int(max(fromId, block.firstId) - block.firstId)
            while i < block.count && out.count < limit {
                out.append(block.trade(i))
                i += 1
            }
        }
        let real = trades[symbol] ?? []
        var low = 0
        var high = real.count
        while low < high {
            let middle = (low + high) / 2
            if real[middle].id < fromId { low = middle + 1 } else { high = middle }
        }
        for trade in real[low...] where orderId == nil || trade.orderId == orderId {
            out.append(trade)
        }
        out.sort { $0.id < $1.id }
        return Array(out.prefix(limit))
    }
}
