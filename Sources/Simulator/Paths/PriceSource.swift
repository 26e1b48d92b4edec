import Foundation

/// A market's exogenous price path: the same for every venue quoting the asset
/// (same seed, same step), each venue adding only its own impact on top.
protocol PriceSource {
    /// The path at `date`; dates come in increasing order, one market step apart.
    mutating func advance(to date: Date) -> PathStep
    /// The path's base daily volatility σ_daily (fraction per √day).
    var dailyVolatility: Double { get }
    /// Quantity the whole market trades per day, when the path knows it (an OHLCV file).
    var dailyVolume: Double? { get }
}

/// Chooses a symbol's path: its OHLCV file, else its scenario, else the seeded random walk.
enum PricePaths {
    /// The path `config` asks for, seeded with `seed` (per asset), stepping every `step` seconds from `start`.
    static func make(config: SymbolConfig, seed: UInt64, start: Date, step: Double) throws(SimulatorError)
        -> any PriceSource
    {
        if let file = config.ohlcvPath {
            let series = try OHLCVSeries.load(file)
            return OHLCVPath(series: series, seed: seed, step: step, fallbackVolatility: config.volatility)
        }
        if let scenario = config.scenario {
            return ScenarioWalk(
                scenario, seed: seed, start: start, duration: config.scenarioSeconds, step: step,
                startPrice: config.startPrice.doubleValue, dailyVolatility: config.volatility)
        }
        return RegimeWalk(
            seed: seed, start: start, step: step, startPrice: config.startPrice.doubleValue,
            dailyVolatility: config.volatility, floor: config.tickSize.doubleValue * 10)
    }

    /// A seed for `symbol`'s path or flow, from a run's seed: venues listing the symbol share it.
    static func seed(_ base: UInt64, symbol: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a, stable across runs (unlike `hashValue`)
        for byte in symbol.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return base ^ hash
    }
}
