import BallastCore
import Foundation

/// One of our resting orders as the book sees it: its price and the queue ahead of it.
struct RestingOrder {
    /// The venue's order id.
    let id: Int64
    /// The order's side: a buy rests on the bids, a sell on the asks.
    let side: Side
    /// Its limit price.
    let price: ExactDecimal
    /// Its price's place on the book's lattice (`Book.slot`).
    let slot: Int
    /// Lots still open.
    var remaining: Int
    /// Shown lots of other traders ahead of it at its price.
    var queueAhead: Int
}

/// A resting order's execution, at its own limit price (it is the maker).
struct RestingFill: Equatable {
    /// The venue's order id.
    let orderId: Int64
    /// The order's limit price.
    let price: ExactDecimal
    /// Quantity filled.
    let qty: ExactDecimal
}

/// Queue positions: passive orders earn their fills (in the spirit of hftbacktest's
/// queue models). A resting order joins the back of the queue at its price: the
/// quantity ahead is what the book shows there when it arrives (0 when it improves
/// the quote or sits off the lattice). It fills only when
/// (a) other traders' market orders trading at its price consume the queue ahead of
///     it — a flow order walks the book in price priority, our orders at a price
///     after the queue ahead of them, before the rest; or
/// (b) the market trades through it: the opposite shown touch reaches its limit
///     (ask ≤ buy limit, bid ≥ sell limit), and it fills in full at its limit.
/// The mid merely touching its price fills nothing. The queue ahead never exceeds
/// what is shown at the price (when the level thins — volatility, liquidity
/// withdrawn — the orders ahead are taken to have left: hftbacktest's risk-averse
/// queue model); depth that comes back joins behind.
extension Market {
    /// Adds our order `id` resting at `price` with `qty` open, at the back of the queue.
    mutating func rest(id: Int64, side: Side, price: ExactDecimal, qty: ExactDecimal) {
        let slot = book.slot(price)
        let ahead = book.queueLots(side, slot: slot) ?? 0
        resting.append(
            RestingOrder(id: id, side: side, price: price, slot: slot, remaining: book.lots(qty), queueAhead: ahead))
    }

    /// Forgets order `id` (cancelled, expired or filled).
    mutating func removeResting(_ id: Int64) { resting.removeAll { $0.id == id } }

    /// The queue ahead of each order shrinks to what its price still shows.
    mutating func clampQueues() {
        for i in resting.indices {
            if let shown = book.queueLots(resting[i].side, slot: resting[i].slot) {
                resting[i].queueAhead = min(resting[i].queueAhead, shown)
            }
        }
    }

    /// Orders the opposite touch has reached fill in full at their limit.
    mutating func tradeThrough() -> [RestingFill] {
        guard !resting.isEmpty else { return [] }
        let bid = 2 * book.bestIndex(.buy)
        let ask = 2 * book.bestIndex(.sell)
        var fills: [RestingFill] = []
        for order in resting where order.side == .buy ? ask <= order.slot : bid >= order.slot {
            fills.append(RestingFill(orderId: order.id, price: order.price, qty: book.qty(lots: order.remaining)))
        }
        if !fills.isEmpty {
            let filled = Set(fills.map(\.orderId))
            resting.removeAll { filled.contains($0.id) }
        }
        return fills
    }

    /// Another trader's market order of `lots` on `aggressor`'s side walks the other side
    /// of the book — shown levels and our resting orders, in price priority — and
    /// consumes what it trades; returns what our orders filled.
    mutating func absorb(aggressor: Side, lots: Int) -> [RestingFill] {
        let side = aggressor.opposite
        let better: (Int, Int) -> Bool = side == .buy ? { $0 > $1 } : { $0 < $1 }
        let ours =
            resting.isEmpty
            ? []
            : resting.indices.filter { resting[$0].side == side }.sorted { a, b in
                let (x, y) = (resting[a], resting[b])
                if x.slot != y.slot { return better(x.slot, y.slot) }
                return (x.queueAhead, x.id) < (y.queueAhead, y.id)
            }
        var left = lots
        var next = 0  // into `ours`
        var level = 0
        var fills: [RestingFill] = []
        drain: while left > 0 {
            while level < book.levelCount, book.shownLots(side, level: level) == 0 { level += 1 }
            let levelSlot = level < book.levelCount ? 2 * book.index(side, level: level) : nil
            let orderSlot = next < ours.count ? resting[ours[next]].slot : nil
            let slot: Int
            switch (levelSlot, orderSlot) {
            case (nil, nil): break drain
            case (let a?, nil): slot = a
            case (nil, let b?): slot = b
            case (let a?, let b?): slot = better(b, a) ? b : a
            }
            let shown = levelSlot == slot ? book.shownLots(side, level: level) : 0
            var group: [Int] = []
            while next < ours.count, resting[ours[next]].slot == slot {
                group.append(ours[next])
                next += 1
            }
            var consumed = 0
            for i in group where left > 0 {
                let before = min(left, max(min(resting[i].queueAhead, shown) - consumed, 0))
                consumed += before
                left -= before
                let filled = min(left, resting[i].remaining)
                guard filled > 0 else { continue }
                left -= filled
                resting[i].remaining -= filled
                fills.append(RestingFill(orderId: resting[i].id, price: resting[i].price, qty: book.qty(lots: filled)))
            }
            let after = min(left, max(shown - consumed, 0))
            consumed += after
            left -= after
            if levelSlot == slot {
                book.consume(side, index: book.index(side, level: level), lots: consumed)
                level += 1
            }
            for i in group { resting[i].queueAhead = max(resting[i].queueAhead - consumed, 0) }
        }
        resting.removeAll { $0.remaining <= 0 }
        return fills
    }
}
