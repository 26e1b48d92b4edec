import BallastCore
import Foundation

/// The synthetic book of one symbol at one venue, on a fixed price lattice.
///
/// Levels sit at multiples of the spacing g (a whole number of ticks, about 1 bp
/// of the start price), so a price stays the same level while the mid moves and a
/// queue at it keeps its meaning. With half-spread h (a fraction) the quoted spread
/// is n = max(1, round(2·h·mid / g)) spacings, the best bid at lattice index
/// round(mid / g − n / 2) and the best ask n above. Level i of a side (0 at the
/// touch) holds full_i = level_qty · (1 + i/4) · depth factor, on the lot step.
/// Quantity taken from a price (by our orders or other traders' flow) is
/// remembered per price and shown as missing until it comes back:
/// displayed = max(0, full_i − taken at that price); taken amounts decay by the
/// resilience half-life each step.
struct Book {
    /// The lattice spacing g.
    let spacing: ExactDecimal
    /// Levels per side.
    let levelCount: Int
    private let stepSize: ExactDecimal
    /// level_qty · (1 + i/4), before the depth factor.
    private let baseQty: [ExactDecimal]
    /// Lattice index of the quoted best bid and best ask.
    private(set) var bidIndex = 1
    private(set) var askIndex = 2
    /// Full quantity of level i (both sides), after the depth factor.
    private(set) var full: [ExactDecimal]
    private var takenBid: [Int: ExactDecimal] = [:]
    private var takenAsk: [Int: ExactDecimal] = [:]

    /// An empty-handed book for `config`, its spacing set from `mid`.
    init(config: SymbolConfig, mid: Double) {
        let tick = config.tickSize
        spacing = tick * ExactDecimal(max(1, Int((mid * 0.0001 / tick.doubleValue).rounded())))
        levelCount = config.depthLevels
        stepSize = config.stepSize
        baseQty = (0..<config.depthLevels).map { i in
            (config.levelQty * ExactDecimal(4 + i)).divided(by: 4, scale: 12)!
        }
        full = baseQty.map { $0.rounded(toMultipleOf: config.stepSize, .down) }
    }

    /// Re-centres the quotes on `mid` with half-spread `halfSpread` (a fraction) and rescales depth.
    mutating func requote(mid: Double, halfSpread: Double, depthFactor: Double) {
        let g = spacing.doubleValue
        let n = max(1, Int((2 * halfSpread * mid / g).rounded()))
        bidIndex = max(1, Int((mid / g - Double(n) / 2).rounded()))
        askIndex = bidIndex + n
        let factor = ExactDecimal(rounding: depthFactor).rounded(scale: 6, .halfEven)
        full = baseQty.map { ($0 * factor).rounded(toMultipleOf: stepSize, .down) }
    }

    /// The price of lattice index `k`.
    func price(_ k: Int) -> ExactDecimal { spacing * ExactDecimal(k) }

    /// The lattice index of level `i` of `side` (`.buy`: bids, `.sell`: asks).
    func index(_ side: Side, level i: Int) -> Int { side == .buy ? bidIndex - i : askIndex + i }

    /// What level `i` of `side` shows.
    func displayed(_ side: Side, level i: Int) -> ExactDecimal {
        let taken = (side == .buy ? takenBid : takenAsk)[index(side, level: i)] ?? .zero
        return max(full[i] - taken, .zero)
    }

    /// Shown levels of one side with quantity, best first.
    func levels(_ side: Side) -> [BookLevel] {
        var out: [BookLevel] = []
        out.reserveCapacity(levelCount)
        for i in 0..<levelCount {
            let k = index(side, level: i)
            guard k > 0 else { break }
            let qty = displayed(side, level: i)
            if qty.isPositive { out.append(BookLevel(price: price(k), qty: qty)) }
        }
        return out
    }

    /// The best shown price of `side`: the first level with quantity (the quoted touch if none has any).
    func best(_ side: Side) -> ExactDecimal {
        for i in 0..<levelCount where displayed(side, level: i).isPositive {
            return price(index(side, level: i))
        }
        return price(index(side, level: 0))
    }

    /// The shown quantity a new order at `price` on `side` would queue behind: 0 when
    /// the price improves the quote or is off the lattice (no one else is there), nil
    /// when it lies deeper than the shown levels (unknown: left as it was).
    func queue(_ side: Side, at price: ExactDecimal) -> ExactDecimal? {
        let touch = self.price(index(side, level: 0))
        if side == .buy ? price > touch : price < touch { return .zero }
        guard price.isMultiple(of: spacing), let k = latticeIndex(price) else { return .zero }
        let level = side == .buy ? bidIndex - k : k - askIndex
        guard level < levelCount else { return nil }
        return displayed(side, level: level)
    }

    /// The lattice index of a multiple of the spacing.
    func latticeIndex(_ price: ExactDecimal) -> Int? {
        guard let units = price.divided(by: spacing, scale: 0) else { return nil }
        return Int(units.doubleValue.rounded())
    }

    /// Records `qty` taken from lattice index `k` of `side`.
    mutating func consume(_ side: Side, index k: Int, qty: ExactDecimal) {
        guard qty.isPositive else { return }
        if side == .buy { takenBid[k, default: .zero] += qty } else { takenAsk[k, default: .zero] += qty }
    }

    /// Takes up to `qty` from `side`, best level first, at prices within `limit` (nil: any);
    /// returns the executions (price, qty), one per level.
    mutating func take(_ side: Side, qty: ExactDecimal, limit: ExactDecimal?) -> [(ExactDecimal, ExactDecimal)] {
        var remaining = qty
        var out: [(ExactDecimal, ExactDecimal)] = []
        for i in 0..<levelCount where remaining.isPositive {
            let k = index(side, level: i)
            guard k > 0 else { break }
            let levelPrice = price(k)
            if let limit, side == .sell ? levelPrice > limit : levelPrice < limit { break }
            let q = min(displayed(side, level: i), remaining)
            guard q.isPositive else { continue }
            out.append((levelPrice, q))
            consume(side, index: k, qty: q)
            remaining -= q
        }
        return out
    }

    /// Lets taken depth come back: each taken amount keeps `factor` (0.5^(Δt / half-life)), on
    /// the lot step; amounts far from the quotes are forgotten.
    mutating func recover(keeping factor: Double) {
        let keep = ExactDecimal(rounding: factor).rounded(scale: 6, .halfEven)
        let reach = 4 * levelCount + 4
        func decayed(_ taken: [Int: ExactDecimal], around centre: Int) -> [Int: ExactDecimal] {
            var out: [Int: ExactDecimal] = [:]
            for (k, qty) in taken where abs(k - centre) <= reach {
                let left = (qty * keep).rounded(toMultipleOf: stepSize, .down)
                if left.isPositive { out[k] = left }
            }
            return out
        }
        if !takenBid.isEmpty { takenBid = decayed(takenBid, around: bidIndex) }
        if !takenAsk.isEmpty { takenAsk = decayed(takenAsk, around: askIndex) }
    }

    /// Everything still missing from `side` (for tests and statistics).
    func taken(_ side: Side) -> ExactDecimal { (side == .buy ? takenBid : takenAsk).values.map { $0 }.sum() }
}
