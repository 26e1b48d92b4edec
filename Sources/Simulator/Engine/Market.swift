import BallastCore
import Foundation

/// One symbol's market at one venue: the asset's common price path, this venue's
/// impact on it, and a synthetic book around the result that every order meets alike.
///
/// Invariants:
/// - mid = path mid · exp(ι), ι the permanent impact of the signed volume our orders took.
/// - The book is re-quoted from the mid, σ_s, the path's liquidity and the bar's
///   volume after every step and every take, so an order meets the book as it is
///   at the time it is matched.
/// - Taken depth comes back only by the resilience half-life, never at once.
/// - Resting orders fill only through `Market+Queue`: queue ahead consumed by
///   other traders' flow at their price, or the market trading through them.
struct Market {
    let config: SymbolConfig
    let rules: SymbolRules
    /// Settings and formulas.
    let model: MarketModel
    /// The synthetic book.
    var book: Book
    /// Our resting orders on this market, in arrival order.
    var resting: [RestingOrder] = []
    private var path: any PriceSource
    /// The path from this step to the flow's horizon, one point per step (the path is exogenous, so it can be read ahead).
    private var ahead: [PathStep] = []
    private var flow: OrderFlow
    /// The time of the last step.
    private(set) var time: Date
    /// Bumped whenever the book changes (the depth endpoint's `lastUpdateId`).
    private(set) var updateId: Int64 = 1
    /// The asset's common mid from the path.
    private(set) var pathMid: Double
    /// This venue's mid: the path mid with our impact.
    private(set) var mid: Double
    /// The mid at the last step, for the next step's return.
    private var stepMid: Double
    /// σ_s²: EWMA of squared log returns of the mid, per second.
    private(set) var variance: Double
    /// W: signed base quantity our orders took (buys positive), fading by the impact half-life.
    private(set) var signedVolume = 0.0
    /// The path's state at the last step.
    private(set) var conditions: PathStep

    /// The market `config` asks for at `venue`: its path drawn from `pathSeed`, its flow from `flowSeed`.
    init(config: SymbolConfig, venue: VenueConfig, start: Date, pathSeed: UInt64, flowSeed: UInt64)
        throws(SimulatorError)
    {
        let path = try PricePaths.make(config: config, seed: pathSeed, start: start, step: venue.stepSeconds)
        self.init(config: config, venue: venue, path: path, start: start, flowSeed: flowSeed)
    }

    /// A market on a given `path` (scripted paths in tests and replays).
    init(config: SymbolConfig, venue: VenueConfig, path: any PriceSource, start: Date, flowSeed: UInt64) {
        var path = path
        let first = path.advance(to: start)
        self.config = config
        self.rules = config.rules
        self.model = MarketModel(
            symbol: config, venue: venue, dailyVolatility: path.dailyVolatility, pathDailyVolume: path.dailyVolume)
        self.path = path
        self.flow = OrderFlow(seed: flowSeed)
        self.time = start
        self.pathMid = first.point.mid
        self.mid = first.point.mid
        self.stepMid = first.point.mid
        self.variance = model.referenceSigma * model.referenceSigma
        self.conditions = first
        self.book = Book(config: config, mid: first.point.mid)
        requote()
    }

    /// σ_s, per √second.
    var sigma: Double { variance.squareRoot() }

    /// Moves the market one step of `seconds` to `date`; returns what resting orders filled.
    ///
    /// Within the step: taken depth recovers; other traders' market orders arrive and
    /// trade against the book as it stands, their buy share following the move the
    /// path makes from the last step to the flow's horizon H (k = max(1, round(H / Δt))
    /// steps ahead: the flow is informed, so a resting order it fills is followed by
    /// the price moving against it); then the mid moves, σ_s updates, the book is
    /// re-quoted, queues shrink to what their prices show, and orders the new opposite
    /// touch has reached fill.
    mutating func step(to date: Date, seconds: Double) -> [RestingFill] {
        let horizon = max(1, Int((model.flowHorizon / seconds).rounded()))
        let aligned = ahead.first.map { abs($0.point.time.timeIntervalSince(date)) < seconds / 2 } ?? false
        if !aligned { ahead = [path.advance(to: date)] }  // the first step, or after a skip
        while ahead.count < horizon {
            ahead.append(path.advance(to: ahead[ahead.count - 1].point.time.addingTimeInterval(seconds)))
        }
        let next = ahead.removeFirst()
        let informed = log((ahead.last ?? next).point.mid / pathMid)
        book.recover(keeping: MarketModel.decay(seconds: seconds, halfLife: model.resilienceHalfLife))
        var fills: [RestingFill] = []
        let orders = flow.draw(
            seconds: seconds, intensity: model.flowIntensity(sigma: sigma),
            buyShare: model.buyShare(logReturn: informed, sigma: sigma, seconds: Double(horizon) * seconds),
            model: model, bar: next.bar)
        // Buyers meet only the asks and our resting sells, sellers only the bids and our resting
        // buys, and the book does not move within a step: each side's orders trade as one sum.
        var buyLots = 0
        var sellLots = 0
        for (side, size) in orders {
            if side == .buy { buyLots += book.lots(size) } else { sellLots += book.lots(size) }
        }
        if buyLots > 0 { fills += absorb(aggressor: .buy, lots: buyLots) }
        if sellLots > 0 { fills += absorb(aggressor: .sell, lots: sellLots) }
        pathMid = next.point.mid
        conditions = next
        signedVolume *= MarketModel.decay(seconds: seconds, halfLife: model.impactHalfLife)
        mid = pathMid * exp(model.impact(signedVolume: signedVolume))
        variance = model.updatedVariance(variance, logReturn: log(mid / stepMid), seconds: seconds)
        stepMid = mid
        requote()
        time = date
        updateId += 1
        clampQueues()
        return fills + tradeThrough()
    }

    /// Best shown bid and ask (the first level of each side with quantity).
    var touch: (bid: ExactDecimal, ask: ExactDecimal) { (book.best(.buy), book.best(.sell)) }

    /// Shown levels of one side (`.buy`: bids, `.sell`: asks), best first.
    func levels(_ side: Side) -> [BookLevel] { book.levels(side) }

    /// Takes up to `qty` from one side's levels priced within `limit` (nil: any) for one
    /// of our orders; returns the executions (price, qty) level by level. The quantity
    /// taken moves the mid by the permanent impact.
    mutating func take(from side: Side, qty: ExactDecimal, limit: ExactDecimal?) -> [(ExactDecimal, ExactDecimal)] {
        let executions = book.take(side, qty: qty, limit: limit)
        guard !executions.isEmpty else { return [] }
        let filled = executions.map(\.1).sum().doubleValue
        signedVolume += side == .sell ? filled : -filled
        mid = pathMid * exp(model.impact(signedVolume: signedVolume))
        requote()
        updateId += 1
        return executions
    }

    /// What `take` would fill, without taking it.
    func available(from side: Side, limit: ExactDecimal?) -> ExactDecimal {
        levels(side).filter { level in
            guard let limit else { return true }
            return side == .sell ? level.price <= limit : level.price >= limit
        }.map(\.qty).sum()
    }

    /// Re-quotes the book from the mid, σ_s, liquidity and the bar's volume.
    private mutating func requote() {
        let depth = model.depthFactor(
            sigma: sigma, liquidity: conditions.point.liquidity, volumeFactor: conditions.bar?.volumeFactor ?? 1)
        book.requote(mid: mid, halfSpread: model.halfSpread(sigma: sigma), depthFactor: depth)
    }
}
