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
    /// Quantity still open.
    var remaining: ExactDecimal
    /// Shown quantity of other traders ahead of it at its price.
    var queueAhead: ExactDecimal
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
        let ahead = book.queue(side, at: price) ?? .zero
        resting.append(RestingOrder(id: id, side: side, price: price, remaining: qty, queueAhead: ahead))
    }

    /// Forgets order `id` (cancelled, expired or filled).
    mutating func removeResting(_ id: Int64) { resting.removeAll { $0.id == id } }

    /// The queue ahead of each order shrinks to what its price still shows.
    mutating func clampQueues() {
        for i in resting.indices {
            if let shown = book.queue(resting[i].side, at: resting[i].price) {
                resting[i].queueAhead = min(resting[i].queueAhead, shown)
            }
        }
    }

    /// Orders the opposite touch has reached fill in full at their limit.
    mutating func tradeThrough() -> [RestingFill] {
        let (bid, ask) = touch
        var fills: [RestingFill] = []
        for order in resting where order.side == .buy ? ask <= order.price : bid >= order.price {
            fills.append(RestingFill(orderId: order.id, price: order.price, qty: order.remaining))
        }
        let filled = Set(fills.map(\.orderId))
        resting.removeAll { filled.contains($0.id) }
        return fills
    }

    /// Another trader's market order of `qty` on `aggressor`'s side walks the other side
    /// of the book — shown levels and our resting orders, in price priority — and
    /// consumes what it trades; returns what our orders filled.
    mutating func absorb(aggressor: Side, qty: ExactDecimal) -> [RestingFill] {
        let side = aggressor.opposite
        let better: (ExactDecimal, ExactDecimal) -> Bool = side == .buy ? { $0 > $1 } : { $0 < $1 }
        let prices = Set(levels(side).map(\.price) + resting.filter { $0.side == side }.map(\.price)).sorted(by: better)
        var left = qty
        var fills: [RestingFill] = []
        for price in prices where left.isPositive {
            let level = shownLevel(side, at: price)
            let shown = level?.qty ?? .zero
            var consumed = ExactDecimal.zero
            let here = resting.indices.filter { resting[$0].side == side && resting[$0].price == price }
                .sorted { (resting[$0].queueAhead, resting[$0].id) < (resting[$1].queueAhead, resting[$1].id) }
            for i in here {
                let ahead = min(resting[i].queueAhead, shown)
                let before = min(left, max(ahead - consumed, .zero))
                consumed += before
                left -= before
                guard left.isPositive else { break }
                let filled = min(left, resting[i].remaining)
                left -= filled
                resting[i].remaining -= filled
                fills.append(RestingFill(orderId: resting[i].id, price: price, qty: filled))
            }
            let after = min(left, max(shown - consumed, .zero))
            consumed += after
            left -= after
            if let level, consumed.isPositive { book.consume(side, index: level.index, qty: consumed) }
            for i in here { resting[i].queueAhead = max(resting[i].queueAhead - consumed, .zero) }
        }
        resting.removeAll { !$0.remaining.isPositive }
        return fills
    }

    /// The lattice index and shown quantity of `side`'s level at `price`, if one is there.
    private func shownLevel(_ side: Side, at price: ExactDecimal) -> (index: Int, qty: ExactDecimal)? {
        guard price.isMultiple(of: book.spacing), let k = book.latticeIndex(price) else { return nil }
        let level = side == .buy ? book.bidIndex - k : k - book.askIndex
        guard level >= 0, level < book.levelCount else { return nil }
        return (k, book.displayed(side, level: level))
    }
}
