import Foundation

/// The default path: a seeded geometric random walk with volatility regimes.
///
/// Each step of Δt seconds: with probability 0.002 the regime flips between calm
/// (multiplier 1) and volatile (multiplier 3); then
/// mid ← mid · exp(σ_daily · multiplier · √(Δt / 86 400) · ε), ε ~ N(0, 1),
/// floored at ten ticks. Liquidity stays 1.
struct RegimeWalk: PriceSource {
    let dailyVolatility: Double
    var dailyVolume: Double? { nil }
    private let step: Double
    private let floor: Double
    private var random: SeededRandom
    private var time: Date
    private var volatile = false
    private var point: PathPoint

    /// A walk from `startPrice` at `start`, one step every `step` seconds.
    init(seed: UInt64, start: Date, step: Double, startPrice: Double, dailyVolatility: Double, floor: Double) {
        self.dailyVolatility = dailyVolatility
        self.step = step
        self.floor = floor
        self.random = SeededRandom(seed: seed)
        self.time = start
        self.point = PathPoint(time: start, mid: startPrice)
    }

    mutating func advance(to date: Date) -> PathStep {
        var steps = Int((date.timeIntervalSince(time) / step).rounded())
        // After a long idle gap the venue skips ahead: one draw covers the whole gap.
        let seconds = steps > 100_000 ? date.timeIntervalSince(time) : step
        if steps > 100_000 { steps = 1 }
        for _ in 0..<max(0, steps) {
            if random.unit() < 0.002 { volatile.toggle() }
            let multiplier: Double = volatile ? 3 : 1
            let sigma = dailyVolatility * multiplier * (seconds / 86_400).squareRoot()
            point.mid = max(point.mid * exp(sigma * random.normal()), floor)
            point.volatilityMultiplier = multiplier
        }
        time = date
        point.time = date
        return PathStep(point: point, bar: nil)
    }
}
