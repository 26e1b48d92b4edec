import Foundation

/// A path through an OHLCV series: within each bar, a seeded plausible path
/// through its open, high, low and close.
///
/// A bar of interval T spans n = max(1, round(T / Δt)) steps. Step 0 shows the
/// open and step n−1 the close; the high and the low sit at two distinct seeded
/// steps in between, in a seeded order (a coin flip). Between these anchors the log
/// price is a Brownian bridge with per-step volatility σ_bar / √n, σ_bar the
/// Parkinson estimate ln(H/L) / (2·√ln 2), clamped to [low, high]. A bar too short
/// for four anchors keeps the open, then the first extreme, then the close, as fit.
/// Before the first bar the path shows its open; past a bar's n steps (a gap
/// before the next bar) and after the last, it holds the close. Each bar draws
/// from its own seed (the path's seed and the bar's index), so the path does not
/// depend on when it is asked for.
struct OHLCVPath: PriceSource {
    let series: OHLCVSeries
    let dailyVolatility: Double
    private let seed: UInt64
    private let step: Double
    private let stepsPerBar: Int
    private var cachedBar = -1
    private var cached: [Double] = []

    /// The daily volume of the file: its median bar volume times the bars in a day.
    var dailyVolume: Double? { series.medianVolume > 0 ? series.medianVolume * 86_400 / series.interval : nil }

    /// A path through `series`; σ_daily comes from the closes, else `fallbackVolatility`.
    init(series: OHLCVSeries, seed: UInt64, step: Double, fallbackVolatility: Double) {
        self.series = series
        self.seed = seed
        self.step = step
        self.stepsPerBar = max(1, Int((series.interval / step).rounded()))
        let estimated = series.dailyVolatility ?? 0
        self.dailyVolatility = estimated > 0 ? estimated : fallbackVolatility
    }

    mutating func advance(to date: Date) -> PathStep {
        guard let b = series.barIndex(at: date) else {
            return PathStep(point: PathPoint(time: date, mid: series.bars[0].open), bar: nil)
        }
        let bar = series.bars[b]
        let k = Int((date.timeIntervalSince(bar.time) / step + 1e-9).rounded(.down))
        guard k < stepsPerBar else { return PathStep(point: PathPoint(time: date, mid: bar.close), bar: nil) }
        if cachedBar != b {
            var random = SeededRandom(seed: seed ^ (UInt64(b) &* 0xD6E8_FEB8_6659_FD93))
            cached = Self.bridge(bar, steps: stepsPerBar, random: &random)
            cachedBar = b
        }
        let factor = series.medianVolume > 0 ? min(10, max(0.1, bar.volume / series.medianVolume)) : 1
        let progress = BarProgress(
            index: b, volume: series.medianVolume > 0 ? bar.volume : 0, volumeFactor: factor, step: k,
            steps: stepsPerBar)
        return PathStep(point: PathPoint(time: date, mid: cached[k]), bar: progress)
    }

    /// The n prices of one bar, open first and close last, through its high and low.
    static func bridge(_ bar: OHLCVBar, steps n: Int, random: inout SeededRandom) -> [Double] {
        let highFirst = random.unit() < 0.5
        let extremes = highFirst ? [bar.high, bar.low] : [bar.low, bar.high]
        var anchors: [(Int, Double)]
        switch n {
        case 1: anchors = [(0, bar.close)]
        case 2: anchors = [(0, bar.open), (1, bar.close)]
        case 3: anchors = [(0, bar.open), (1, extremes[0]), (2, bar.close)]
        default:
            let first = 1 + Int(random.unit() * Double(n - 2))
            var second = 1 + Int(random.unit() * Double(n - 3))
            if second >= first { second += 1 }
            anchors = [(0, bar.open), (min(first, second), extremes[0]), (max(first, second), extremes[1])]
            anchors.append((n - 1, bar.close))
        }
        let range = log(bar.high / bar.low)
        let sigma = range / (2 * log(2).squareRoot()) / Double(n).squareRoot()
        var out = [Double](repeating: anchors[0].1, count: n)
        for ((i, a), (j, b)) in zip(anchors, anchors.dropFirst()) {
            let m = j - i
            var walk = [Double](repeating: 0, count: m + 1)
            for s in 1...m { walk[s] = walk[s - 1] + sigma * random.normal() }
            for s in 1..<m {
                let w = Double(s) / Double(m)
                let x = log(a) + (log(b) - log(a)) * w + walk[s] - w * walk[m]
                out[i + s] = min(bar.high, max(bar.low, exp(x)))
            }
            out[j] = b
        }
        out[anchors[0].0] = anchors[0].1
        return out
    }
}
