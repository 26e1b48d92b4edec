import BallastCore
import Foundation

/// One symbol's market: a mid that moves by a seeded random walk with
/// volatility regimes (or follows an OHLCV path), and a synthetic book around
/// it whose liquidity our marketable orders consume until the next step.
struct Market {
    let config: SymbolConfig
    let rules: SymbolRules
    private(set) var mid: Double
    private(set) var time: Date
    private(set) var updateId: Int64 = 1
    /// Quantity already taken at each level since the last step (ask side, bid side).
    private var takenAsk: [ExactDecimal]
    private var takenBid: [ExactDecimal]
    private var volatile = false
    private let path: [(Date, Double)]

    init(config: SymbolConfig, start: Date) throws(SimulatorError) {
        self.config = config
        self.rules = config.rules
        self.time = start
        self.takenAsk = Array(repeating: .zero, count: config.depthLevels)
        self.takenBid = Array(repeating: .zero, count: config.depthLevels)
        if let file = config.ohlcvPath {
            self.path = try OHLCV.load(file)
            self.mid = path.first?.1 ?? config.startPrice.doubleValue
        } else {
            self.path = []
            self.mid = config.startPrice.doubleValue
        }
    }

    /// Moves the market one step of `seconds` to `to`.
    mutating func step(to date: Date, seconds: Double, random: inout SeededRandom) {
        time = date
        updateId += 1
        takenAsk = Array(repeating: .zero, count: config.depthLevels)
        takenBid = Array(repeating: .zero, count: config.depthLevels)
        if !path.isEmpty {
            mid = OHLCV.price(in: path, at: date) ?? mid
            return
        }
        // Volatility regimes: calm, or three times as volatile; switches are rare.
        if random.unit() < 0.002 { volatile.toggle() }
        let perSecond = config.volatility / (86_400.0).squareRoot() * (volatile ? 3 : 1)
        mid *= exp(perSecond * seconds.squareRoot() * random.normal())
        mid = max(mid, config.tickSize.doubleValue * 10)
    }

    /// Best bid and ask: the mid ± half the spread, on ticks, at least one tick apart.
    var touch: (bid: ExactDecimal, ask: ExactDecimal) {
        let tick = config.tickSize
        let halfSpread = mid * config.spreadBps / 20_000
        let bid = ExactDecimal(rounding: mid - halfSpread).rounded(toMultipleOf: tick, .down)
        var ask = ExactDecimal(rounding: mid + halfSpread).rounded(toMultipleOf: tick, .up)
        if ask <= bid { ask = bid + tick }
        return (max(bid, tick), ask)
    }

    /// Levels of one side, best first: price and the quantity still available.
    func levels(_ side: Side) -> [BookLevel] {
        let (bid, ask) = touch
        let spacing =
            config.tickSize * ExactDecimal(max(1, Int((mid * 0.0001 / config.tickSize.doubleValue).rounded())))
        var out: [BookLevel] = []
        out.reserveCapacity(config.depthLevels)
        for i in 0..<config.depthLevels {
            let offset = spacing * ExactDecimal(i)
            let price = side == .buy ? bid - offset : ask + offset
            guard price.isPositive else { break }
            // Deeper levels hold more: qty × (1 + i/4), on the lot step.
            let full = (config.levelQty * ExactDecimal(4 + i)).divided(by: 4, scale: 12)!
                .rounded(toMultipleOf: config.stepSize, .down)
            let taken = side == .buy ? takenBid[i] : takenAsk[i]
            out.append(BookLevel(price: price, qty: max(full - taken, .zero)))
        }
        return out
    }

    /// Takes up to `qty` from one side's levels priced within `limit` (nil: any);
    /// returns the executions (price, qty) level by level.
    mutating func take(from side: Side, qty: ExactDecimal, limit: ExactDecimal?) -> [(ExactDecimal, ExactDecimal)] {
        var remaining = qty
        var out: [(ExactDecimal, ExactDecimal)] = []
        for (i, level) in levels(side).enumerated() where remaining.isPositive && level.qty.isPositive {
            if let limit {
                if side == .sell && level.price > limit { break }
                if side == .buy && level.price < limit { break }
            }
            let q = min(level.qty, remaining)
            out.append((level.price, q))
            remaining -= q
            if side == .buy { takenBid[i] += q } else { takenAsk[i] += q }
        }
        if !out.isEmpty { updateId += 1 }
        return out
    }

    /// What `take` would fill, without taking it.
    func available(from side: Side, limit: ExactDecimal?) -> ExactDecimal {
        levels(side).filter { level in
            guard let limit else { return true }
            return side == .sell ? level.price <= limit : level.price >= limit
        }.map(\.qty).sum()
    }
}

extension ExactDecimal {
    /// A decimal near `value` (12 places), for the price process only.
    init(rounding value: Double) {
        self = ExactDecimal(String(format: "%.12f", value)) ?? .zero
    }
}

/// OHLCV candles (Binance kline export order: timestamp,open,high,low,close,volume).
enum OHLCV {
    /// (time, close) per candle, in time order.
    static func load(_ path: String) throws(SimulatorError) -> [(Date, Double)] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw .invalidConfig("cannot read OHLCV file \(path)")
        }
        var rows: [(Date, Double)] = []
        for (number, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if number == 0, Double(fields.first ?? "") == nil { continue }  // header
            guard fields.count >= 5, let stamp = Double(fields[0]), let close = Double(fields[4]), close > 0 else {
                throw .invalidConfig("\(path):\(number + 1): expected timestamp,open,high,low,close,volume")
            }
            // Binance exports milliseconds; accept seconds too.
            let seconds = stamp > 10_000_000_000 ? stamp / 1000 : stamp
            rows.append((Date(timeIntervalSince1970: seconds), close))
        }
        guard !rows.isEmpty else { throw .invalidConfig("\(path): no candles") }
        return rows.sorted { $0.0 < $1.0 }
    }

    /// The close of the candle in force at `date` (held after the last one).
    static func price(in path: [(Date, Double)], at date: Date) -> Double? {
        var low = 0
        var high = path.count
        while low < high {
            let middle = (low + high) / 2
            if path[middle].0 <= date { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? path.first?.1 : path[low - 1].1
    }
}
