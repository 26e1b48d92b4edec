public import Foundation

/// Built-in seeded market scenarios for replays. Each is a path of (time, mid,
/// volatility multiplier, liquidity factor) drawn from a seed, a start, a duration,
/// a step, a start price and a base daily volatility σ:
///
/// - `vol-spike`: calm; then, 40 % of the way through what is left after it, a
///   20-minute spike with 5× volatility and books at half depth; then recovery,
///   the excess volatility halving every 10 minutes (liquidity following).
/// - `trend-chop`: a trending leg over the first half (direction seeded, total
///   move 4·σ·√(half / 1 day)), then mean-reverting chop around where it ended
///   (Ornstein–Uhlenbeck, half-life 5 minutes).
/// - `flash-crash`: calm; then a −15 % drop over 3 minutes with 4× volatility
///   while liquidity withdraws to a fifth; a rebound over 10 minutes to −5 % as
///   liquidity returns; then the excess volatility halves every 10 minutes.
///
/// The mid is startPrice · exp(shape(t) + noise(t)), the noise a walk with steps
/// σ · multiplier(t) · √(Δt / 86 400) · ε. After the duration the path holds its last point.
public enum Scenario: String, CaseIterable, Sendable, Codable {
    case volSpike = "vol-spike"
    case trendChop = "trend-chop"
    case flashCrash = "flash-crash"

    /// The scenario's path: one point every `step` seconds from `start` through `start + duration`.
    public func path(
        seed: UInt64, start: Date, duration: TimeInterval, step: TimeInterval, startPrice: Double,
        dailyVolatility: Double
    ) -> [PathPoint] {
        var walk = ScenarioWalk(
            self, seed: seed, start: start, duration: duration, step: step, startPrice: startPrice,
            dailyVolatility: dailyVolatility)
        let count = Int((duration / step).rounded(.down))
        return (0...count).map { walk.advance(to: start.addingTimeInterval(Double($0) * step)).point }
    }

    /// The deterministic part at `elapsed` seconds of `duration`: log level, volatility
    /// multiplier and liquidity factor (the seeded trend direction is ±1 in `direction`).
    func shape(elapsed t: Double, duration: Double, direction: Double, dailyVolatility σ: Double)
        -> (level: Double, volatility: Double, liquidity: Double)
    {
        switch self {
        case .volSpike:
            let spike = 1200.0
            let begin = 0.4 * max(0, duration - spike)
            let multiplier: Double
            if t < begin {
                multiplier = 1
            } else if t < begin + spike {
                multiplier = 5
            } else {
                multiplier = 1 + 4 * pow(0.5, (t - begin - spike) / 600)
            }
            return (0, multiplier, 1 - 0.5 * (multiplier - 1) / 4)
        case .trendChop:
            let half = duration / 2
            let move = direction * 4 * σ * (half / 86_400).squareRoot()
            return (move * min(1, t / max(half, 1)), 1, 1)
        case .flashCrash:
            let drop = 180.0
            let rebound = 600.0
            let begin = 0.4 * max(0, duration - drop - rebound)
            let bottom = log(0.85)
            let after = log(0.95)
            if t < begin { return (0, 1, 1) }
            if t < begin + drop {
                let progress = (t - begin) / drop
                return (bottom * progress, 4, 1 - 0.8 * progress)
            }
            if t < begin + drop + rebound {
                let progress = (t - begin - drop) / rebound
                return (bottom + (after - bottom) * progress, 4, 0.2 + 0.6 * progress)
            }
            let excess = pow(0.5, (t - begin - drop - rebound) / 600)
            return (after, 1 + 3 * excess, 1 - 0.2 * excess)
        }
    }

    /// Whether the noise reverts to its level at `elapsed` (trend-chop's second half), and how fast (per second).
    func reversion(elapsed t: Double, duration: Double) -> Double? {
        self == .trendChop && t >= duration / 2 ? log(2) / 300 : nil
    }
}
