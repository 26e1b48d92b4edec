import Foundation

/// A `Scenario` drawn step by step, so a long path costs no memory.
///
/// Point k (at start + k·Δt) has mid = startPrice · exp(shape(t) + noise_k), where
/// noise_k = noise_{k−1} + σ · multiplier(t) · √(Δt / 86 400) · ε_k, or, while the
/// scenario reverts (trend-chop's chop), noise_k = a + (noise_{k−1} − a)·e^{−θΔt} + the
/// same shock, a being the noise when reversion began. After the duration it holds.
struct ScenarioWalk: PriceSource {
    let scenario: Scenario
    let dailyVolatility: Double
    var dailyVolume: Double? { nil }
    private let start: Date
    private let duration: Double
    private let step: Double
    private let startPrice: Double
    private let lastIndex: Int
    private var random: SeededRandom
    private let direction: Double
    private var index = 0
    private var noise = 0.0
    private var anchor: Double?
    private var point: PathPoint

    /// The walk of `scenario` for these settings; the same arguments give the same path.
    init(
        _ scenario: Scenario, seed: UInt64, start: Date, duration: Double, step: Double, startPrice: Double,
        dailyVolatility: Double
    ) {
        self.scenario = scenario
        self.dailyVolatility = dailyVolatility
        self.start = start
        self.duration = duration
        self.step = step
        self.startPrice = startPrice
        self.lastIndex = Int((duration / step).rounded(.down))
        var random = SeededRandom(seed: seed)
        self.direction = random.unit() < 0.5 ? -1 : 1
        self.random = random
        let shape = scenario.shape(
            elapsed: 0, duration: duration, direction: direction, dailyVolatility: dailyVolatility)
        self.point = PathPoint(
            time: start, mid: startPrice * exp(shape.level), volatilityMultiplier: shape.volatility,
            liquidity: shape.liquidity)
    }

    mutating func advance(to date: Date) -> PathStep {
        let target = min(lastIndex, Int((date.timeIntervalSince(start) / step + 1e-9).rounded(.down)))
        while index < target {
            index += 1
            let t = Double(index) * step
            let shape = scenario.shape(
                elapsed: t, duration: duration, direction: direction, dailyVolatility: dailyVolatility)
            let shock = dailyVolatility * shape.volatility * (step / 86_400).squareRoot() * random.normal()
            if let theta = scenario.reversion(elapsed: t, duration: duration) {
                let level = anchor ?? noise
                anchor = level
                noise = level + (noise - level) * exp(-theta * step) + shock
            } else {
                noise += shock
            }
            point = PathPoint(
                time: start.addingTimeInterval(t), mid: startPrice * exp(shape.level + noise),
                volatilityMultiplier: shape.volatility, liquidity: shape.liquidity)
        }
        var current = point
        current.time = date
        return PathStep(point: current, bar: nil)
    }
}
