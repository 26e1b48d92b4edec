import Foundation

/// The market model's settings and formulas, one place for what README's "Market
/// model" section states. Every order meets the same formulas; nothing here knows
/// who sent it. Volatilities are fractions: σ_s per √second (the short-horizon
/// estimate), σ_daily per √day; σ_ref = σ_daily / √86 400 is the calm level.
struct MarketModel {
    /// Configured half-spread, as a fraction of the mid (spread_bps / 20 000).
    let baseHalfSpread: Double
    /// a: the half-spread is at least a · σ_s (one second's volatility).
    let spreadVolMultiple: Double
    /// γ: depth scales with min(1, σ_ref / σ_s)^γ.
    let depthVolExponent: Double
    /// σ_daily of the path.
    let dailyVolatility: Double
    /// σ_ref = σ_daily / √86 400, per √second.
    let referenceSigma: Double
    /// Y of the square-root law.
    let impactY: Double
    /// V_daily of the square-root law, in base units.
    let dailyVolume: Double
    /// Half-life of the σ_s estimate (EWMA of squared log returns).
    let volHalfLife: Double
    /// Half-life at which taken depth comes back.
    let resilienceHalfLife: Double
    /// Half-life at which the signed volume behind the permanent impact fades.
    let impactHalfLife: Double
    /// λ₀: other traders' market orders per second at σ_s = σ_ref.
    let flowRate: Double
    /// Mean size of other traders' market orders (base units) off an OHLCV path.
    let flowOrderQty: Double
    /// κ: how strongly the flow's buy share follows the price move.
    let flowImbalance: Double
    /// H: how far ahead (seconds) the move the flow follows reaches.
    let flowHorizon: Double

    /// The model of `symbol` at `venue`, on a path with `dailyVolatility` and, when known, `pathDailyVolume`.
    init(symbol: SymbolConfig, venue: VenueConfig, dailyVolatility: Double, pathDailyVolume: Double?) {
        baseHalfSpread = symbol.spreadBps / 20_000
        spreadVolMultiple = symbol.spreadVolMultiple
        depthVolExponent = symbol.depthVolExponent
        self.dailyVolatility = max(dailyVolatility, 1e-9)
        referenceSigma = self.dailyVolatility / (86_400.0).squareRoot()
        impactY = symbol.impactY
        volHalfLife = venue.volHalfLifeSeconds
        resilienceHalfLife = venue.resilienceHalfLifeSeconds
        impactHalfLife = venue.impactHalfLifeSeconds
        flowRate = symbol.flowRatePerSecond
        flowOrderQty = (symbol.flowOrderQty ?? symbol.levelQty.divided(by: 10, scale: 12)!).doubleValue
        flowImbalance = symbol.flowImbalance
        flowHorizon = symbol.flowHorizonSeconds
        // Off an OHLCV path: the flow's expected daily volume (as if at 1 order/s when switched off).
        dailyVolume = symbol.dailyVolume ?? pathDailyVolume ?? (flowRate > 0 ? flowRate : 1) * 86_400 * flowOrderQty
    }

    /// Half-spread as a fraction of the mid: h = max(spread_bps / 20 000, a · σ_s).
    func halfSpread(sigma: Double) -> Double { max(baseHalfSpread, spreadVolMultiple * sigma) }

    /// Depth scale: liquidity · min(1, σ_ref / σ_s)^γ · volume factor.
    func depthFactor(sigma: Double, liquidity: Double, volumeFactor: Double) -> Double {
        let calm = sigma > 0 ? min(1, referenceSigma / sigma) : 1
        return max(0, liquidity) * pow(calm, depthVolExponent) * volumeFactor
    }

    /// Permanent impact as a log offset of the mid for signed volume W (base units):
    /// ι = sign(W) · Y · σ_daily · √(|W| / V_daily).
    func impact(signedVolume w: Double) -> Double {
        guard w != 0 else { return 0 }
        return (w < 0 ? -1 : 1) * impactY * dailyVolatility * (abs(w) / dailyVolume).squareRoot()
    }

    /// Flow intensity relative to calm: clamp(σ_s / σ_ref, 0.25, 10).
    func flowIntensity(sigma: Double) -> Double { min(10, max(0.25, sigma / referenceSigma)) }

    /// The share of flow orders that buy when the path moves by log return r over the
    /// next `seconds` (the horizon): p_buy = 1 / (1 + e^{−κ·z}), z = r / (σ_s · √seconds), z clamped to ±6.
    func buyShare(logReturn r: Double, sigma: Double, seconds: Double) -> Double {
        let scale = max(sigma, referenceSigma * 0.1) * seconds.squareRoot()
        let z = min(6, max(-6, r / scale))
        return 1 / (1 + exp(-flowImbalance * z))
    }

    /// The factor 0.5^(Δt / half-life) that a decaying quantity keeps over `seconds`.
    static func decay(seconds: Double, halfLife: Double) -> Double {
        halfLife > 0 ? pow(0.5, seconds / halfLife) : 0
    }

    /// One EWMA update of the variance per second: v ← λ·v + (1 − λ)·r² / Δt, λ = 0.5^(Δt / half-life).
    func updatedVariance(_ variance: Double, logReturn r: Double, seconds: Double) -> Double {
        let keep = Self.decay(seconds: seconds, halfLife: volHalfLife)
        return keep * variance + (1 - keep) * r * r / seconds
    }
}
