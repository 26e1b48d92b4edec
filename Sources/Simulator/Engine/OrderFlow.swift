import BallastCore
import Foundation

/// Other traders' market orders at one venue and symbol: a seeded process on both sides.
///
/// Off an OHLCV path, a step of Δt seconds brings N ~ Poisson(λ₀ · f · Δt) orders,
/// f = clamp(σ_s / σ_ref, 0.25, 10), each of size ~ Exponential(mean flow_order_qty).
/// On an OHLCV path the flow adds up to the bar's volume V: with R still to trade and
/// m steps left in the bar, a step expects E = R · min(1, f / m) with orders of mean
/// size V / (n · Δt · λ₀) (n steps per bar), capped at R; the bar's last step trades
/// all that is left. Each order buys with probability p_buy (`MarketModel.buyShare`) of
/// the path's move from the last step to the flow's horizon, so sells dominate ahead of
/// a fall and buys ahead of a rise: the flow is informed, and the passive orders it
/// fills are adversely selected.
struct OrderFlow {
    private var random: SeededRandom
    private var bar = -1
    private var barLeft = 0.0

    /// A flow drawing from `seed`.
    init(seed: UInt64) { random = SeededRandom(seed: seed) }

    /// One step's orders, in arrival order: the aggressor's side and size (base units).
    mutating func draw(
        seconds: Double, intensity f: Double, buyShare: Double, model: MarketModel, bar progress: BarProgress?
    ) -> [(Side, Double)] {
        guard let progress else {
            let count = poisson(model.flowRate * f * seconds)
            return (0..<count).map { _ in order(buyShare: buyShare, mean: model.flowOrderQty) }
        }
        if progress.index != bar {
            bar = progress.index
            // Joining a bar part-way: only its remaining share is still to trade.
            barLeft = progress.volume * Double(progress.steps - progress.step) / Double(progress.steps)
        }
        guard barLeft > 0, model.flowRate > 0 else { return [] }
        let mean = max(progress.volume / (Double(progress.steps) * seconds * model.flowRate), 1e-12)
        let stepsLeft = progress.steps - progress.step
        var out: [(Side, Double)] = []
        if stepsLeft <= 1 {
            while barLeft > 0 {
                var next = order(buyShare: buyShare, mean: mean)
                if out.count >= 10_000 { next.1 = barLeft }
                next.1 = min(next.1, barLeft)
                barLeft -= next.1
                out.append(next)
            }
            return out
        }
        let expected = barLeft * min(1, f / Double(stepsLeft))
        for _ in 0..<poisson(expected / mean) where barLeft > 0 {
            var next = order(buyShare: buyShare, mean: mean)
            next.1 = min(next.1, barLeft)
            barLeft -= next.1
            out.append(next)
        }
        return out
    }

    /// One order: buys with probability `buyShare`; size exponential with mean `mean`.
    private mutating func order(buyShare: Double, mean: Double) -> (Side, Double) {
        let side: Side = random.unit() < buyShare ? .buy : .sell
        return (side, -mean * log(1 - random.unit()))
    }

    /// A Poisson draw: Knuth's product of uniforms for small means, a rounded normal above 30.
    private mutating func poisson(_ lambda: Double) -> Int {
        guard lambda > 0 else { return 0 }
        if lambda > 30 { return max(0, Int((lambda + lambda.squareRoot() * random.normal()).rounded())) }
        let limit = exp(-lambda)
        var product = random.unit()
        var count = 0
        while product > limit {
            count += 1
            product *= random.unit()
        }
        return count
    }
}
