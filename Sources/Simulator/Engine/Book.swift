import BallastCore
import Foundation

/// The synthetic book of one symbol at one venue, on a fixed price lattice.
///
/// Levels sit at multiples of the spacing g (a whole number of ticks, about 1 bp
/// of the start price), so a price stays the same level while the mid moves and a
/// queue at it keeps its meaning. With half-spread h (a fraction) the quoted spread
/// is n = max(1, round(2·h·mid / g)) spacings, the best bid at lattice index
/// round(mid / g − n / 2) and the best ask n above. Level i of a side (0 at the
/// touch) holds full_i = ⌊level_qty · (1 + i/4) · depth factor⌋ on the lot step.
/// Quantity taken from a price (by our orders or other traders' flow) is
/// remembered per price and shown as missing until it comes back:
/// shown = max(0, full_i − taken at that price); each step a taken amount keeps
/// ⌊taken · 0.5^(Δt / resilience half-life)⌋ lots.
///
/// Quantities are held in whole lots (multiples of the step size), exact, and
/// become decimals only at the edges.
struct Book {
    /// The lattice spacing g.
    let spacing: ExactDecimal
    /// g as a double (re-quoting runs every step of every market).
    private let spacingDouble: Double
    /// Levels per side.
    let levelCount: Int
    /// The lot step, as a decimal and as a double.
    let stepSize: ExactDecimal
    private let stepDouble: Double
    /// level_qty · (1 + i/4) in lots, before the depth factor.
    private let baseLots: [Double]
    /// Lattice index of the quoted best bid and best ask.
    private(set) var bidIndex = 1
    private(set) var askIndex = 2
    /// Full lots of level i (both sides), after the depth factor.
    private(set) var full: [Int]
    private var depthFactor = 1.0
    /// Lots taken per lattice index, as (index, lots) pairs: few at a time, so a short array
    /// searched in line beats a hashed dictionary on the market's hot path.
    private var takenBid: [(index: Int, lots: Int)] = []
    private var takenAsk: [(index: Int, lots: Int)] = []

    /// Lots missing at lattice index `k` of `side`.
    private func takenLots(_ side: Side, _ k: Int) -> Int {
        for entry in side == .buy ? takenBid : takenAsk where entry.index == k { return entry.lots }
        return 0
    }

    /// A book for `config`, its spacing set from `mid`.
    init(config: SymbolConfig, mid: Double) {
        let tick = config.tickSize
        spacing = (tick * ExactDecimal(max(1, Int((mid * 0.0001 / tick.doubleValue).rounded()))))
        spacingDouble = spacing.doubleValue
        levelCount = config.depthLevels
        stepSize = config.stepSize
        stepDouble = config.stepSize.doubleValue
        baseLots = (0..<config.depthLevels).map { i in
            ((config.levelQty * ExactDecimal(4 + i)).divided(by: 4, scale: 12)!
                .divided(by: config.stepSize, scale: 6, .down) ?? .zero).doubleValue
        }
        full = baseLots.map { Int($0.rounded(.down)) }
    }

    // MARK: Quotes

    /// Re-centres the quotes on `mid` with half-spread `halfSpread` (a fraction) and rescales depth.
    mutating func requote(mid: Double, halfSpread: Double, depthFactor factor: Double) {
        let g = spacingDouble
        let n = max(1, Int((2 * halfSpread * mid / g).rounded()))
        bidIndex = max(1, Int((mid / g - Double(n) / 2).rounded()))
        askIndex = bidIndex + n
        if factor != depthFactor {
            depthFactor = factor
            for i in full.indices { full[i] = Int((baseLots[i] * factor).rounded(.down)) }
        }
    }

    /// The price of lattice index `k`.
    func price(_ k: Int) -> ExactDecimal {
        ExactDecimal(significand: spacing.significand * Int128(k), scale: spacing.scale)
    }

    /// `lots` lots as a quantity.
    func qty(lots: Int) -> ExactDecimal {
        ExactDecimal(significand: stepSize.significand * Int128(lots), scale: stepSize.scale)
    }

    /// Whole lots in `qty` (rounded down).
    func lots(_ qty: ExactDecimal) -> Int {
        Int((qty.divided(by: stepSize, scale: 0, .down) ?? .zero).significand)
    }

    /// Whole lots in a size from the price process (rounded down).
    func lots(_ size: Double) -> Int { size > 0 ? Int((size / stepDouble).rounded(.down)) : 0 }

    /// The lattice index of level `i` of `side` (`.buy`: bids, `.sell`: asks).
    func index(_ side: Side, level i: Int) -> Int { side == .buy ? bidIndex - i : askIndex + i }

    /// Lots level `i` of `side` shows.
    func shownLots(_ side: Side, level i: Int) -> Int {
        max(full[i] - takenLots(side, index(side, level: i)), 0)
    }

    /// What level `i` of `side` shows.
    func displayed(_ side: Side, level i: Int) -> ExactDecimal { qty(lots: shownLots(side, level: i)) }

    /// Shown levels of one side with quantity, best first.
    func levels(_ side: Side) -> [BookLevel] {
        var out: [BookLevel] = []
        out.reserveCapacity(levelCount)
        for i in 0..<levelCount {
            let k = index(side, level: i)
            guard k > 0 else { break }
            let lots = shownLots(side, level: i)
            if lots > 0 { out.append(BookLevel(price: price(k), qty: qty(lots: lots))) }
        }
        return out
    }

    /// The lattice index of `side`'s best shown level (the quoted touch if none shows any).
    func bestIndex(_ side: Side) -> Int {
        for i in 0..<levelCount where shownLots(side, level: i) > 0 { return index(side, level: i) }
        return index(side, level: 0)
    }

    /// The best shown price of `side`.
    func best(_ side: Side) -> ExactDecimal { price(bestIndex(side)) }

    // MARK: Queues

    /// A price's place on the lattice: 2k at lattice index k, 2k + 1 between k and k + 1,
    /// so comparing slots compares prices.
    func slot(_ price: ExactDecimal) -> Int {
        let units = price.divided(by: spacing, scale: 0, .down) ?? .zero
        let k = Int(units.significand)
        return 2 * k + (price.isMultiple(of: spacing) ? 0 : 1)
    }

    /// Lots a new order at `slot` on `side` queues behind: 0 when it improves the quote or
    /// sits off the lattice (no one else is there), nil deeper than the shown levels (unknown).
    func queueLots(_ side: Side, slot: Int) -> Int? {
        let touch = 2 * index(side, level: 0)
        if side == .buy ? slot > touch : slot < touch { return 0 }
        guard slot % 2 == 0 else { return 0 }
        let level = side == .buy ? bidIndex - slot / 2 : slot / 2 - askIndex
        guard level < levelCount else { return nil }
        return shownLots(side, level: level)
    }

    // MARK: Taking and recovering

    /// Records `lots` taken from lattice index `k` of `side`.
    mutating func consume(_ side: Side, index k: Int, lots: Int) {
        guard lots > 0 else { return }
        func add(_ taken: inout [(index: Int, lots: Int)]) {
            if let i = taken.firstIndex(where: { $0.index == k }) {
                taken[i].lots += lots
            } else {
                taken.append((k, lots))
            }
        }
        if side == .buy { add(&takenBid) } else { add(&takenAsk) }
    }

    /// Takes up to `qty` from `side`, best level first, at prices within `limit` (nil: any);
    /// returns the executions (price, qty), one per level.
    mutating func take(_ side: Side, qty: ExactDecimal, limit: ExactDecimal?) -> [(ExactDecimal, ExactDecimal)] {
        var remaining = lots(qty)
        var out: [(ExactDecimal, ExactDecimal)] = []
        for i in 0..<levelCount where remaining > 0 {
            let k = index(side, level: i)
            guard k > 0 else { break }
            let levelPrice = price(k)
            if let limit, side == .sell ? levelPrice > limit : levelPrice < limit { break }
            let q = min(shownLots(side, level: i), remaining)
            guard q > 0 else { continue }
            out.append((levelPrice, self.qty(lots: q)))
            consume(side, index: k, lots: q)
            remaining -= q
        }
        return out
    }

    /// Lets taken depth come back: each taken amount keeps ⌊lots · `factor`⌋ (factor =
    /// 0.5^(Δt / half-life)); amounts far from the quotes are forgotten.
    mutating func recover(keeping factor: Double) {
        let reach = 4 * levelCount + 4
        func decay(_ taken: inout [(index: Int, lots: Int)], around centre: Int) {
            guard !taken.isEmpty else { return }
            for i in taken.indices { taken[i].lots = Int((Double(taken[i].lots) * factor).rounded(.down)) }
            taken.removeAll { $0.lots <= 0 || abs($0.index - centre) > reach }
        }
        decay(&takenBid, around: bidIndex)
        decay(&takenAsk, around: askIndex)
    }

    /// Everything still missing from `side` (for tests and statistics).
    func taken(_ side: Side) -> ExactDecimal {
        qty(lots: (side == .buy ? takenBid : takenAsk).map(\.lots).reduce(0, +))
    }
}
