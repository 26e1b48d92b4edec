public import Foundation
import Simulator

/// OHLCV files for replays and the replay benchmark, drawn from a seed: each bar is `substeps`
/// steps of a geometric Brownian motion with daily volatility σ, in regimes — calm (1×) or
/// stressed (3× volatility, 2× volume) — that switch with probability 2 % per bar. A bar's
/// volume is the base volume for its length × the regime's factor × (1 + |bar return| / σ_bar).
/// The files are written as Binance klines are exported: `timestamp,open,high,low,close,volume`
/// with the bar's open time in epoch milliseconds.
public struct SyntheticOHLCV: Sendable {
    /// One asset's series settings.
    public struct Asset: Sendable {
        public var name: String
        public var startPrice: Double
        public var dailyVolatility: Double
        /// Base units traded per day at calm.
        public var dailyVolume: Double

        public init(name: String, startPrice: Double, dailyVolatility: Double, dailyVolume: Double) {
            self.name = name
            self.startPrice = startPrice
            self.dailyVolatility = dailyVolatility
            self.dailyVolume = dailyVolume
        }
    }

    /// BTC, ETH and SOL at the demo venues' start prices and volatilities.
    public static let demoAssets = [
        Asset(name: "BTC", startPrice: 43_000, dailyVolatility: 0.03, dailyVolume: 20_000),
        Asset(name: "ETH", startPrice: 2_300, dailyVolatility: 0.04, dailyVolume: 300_000),
        Asset(name: "SOL", startPrice: 140, dailyVolatility: 0.06, dailyVolume: 4_000_000),
    ]

    public var start: Date
    public var bars: Int
    /// Seconds per bar.
    public var interval: TimeInterval
    public var seed: UInt64
    /// Price steps drawn inside each bar.
    public var substeps = 60

    public init(start: Date, bars: Int, interval: TimeInterval, seed: UInt64) {
        self.start = start
        self.bars = bars
        self.interval = interval
        self.seed = seed
    }

    /// The CSV text of one asset's series.
    public func csv(_ asset: Asset) -> String {
        var random = SeededRandom(seed: seed ^ asset.name.utf8.reduce(0xA5A5_5A5A) { $0 &* 31 &+ UInt64($1) })
        var price = asset.startPrice
        var stressed = false
        let barSigma = asset.dailyVolatility * (interval / 86_400).squareRoot()
        let stepSigma = barSigma / Double(substeps).squareRoot()
        var text = "timestamp,open,high,low,close,volume\n"
        text.reserveCapacity(bars * 64)
        for b in 0..<bars {
            if random.unit() < 0.02 { stressed.toggle() }
            let scale = stressed ? 3.0 : 1.0
            let open = price
            var high = price
            var low = price
            for _ in 0..<substeps {
                price *= exp(stepSigma * scale * random.normal() - 0.5 * pow(stepSigma * scale, 2))
                high = max(high, price)
                low = min(low, price)
            }
            let move = abs(log(price / open)) / (barSigma * scale)
            let volume = asset.dailyVolume * interval / 86_400 * (stressed ? 2 : 1) * (1 + move)
            let time = Int64((start.timeIntervalSince1970 + Double(b) * interval) * 1000)
            text += "\(time),\(Self.price(open)),\(Self.price(high)),\(Self.price(low)),\(Self.price(price)),"
            text += String(format: "%.4f", volume) + "\n"
        }
        return text
    }

    /// Writes `<ASSET>.csv` per asset into `folder`; returns asset → path.
    public func write(_ assets: [Asset] = Self.demoAssets, into folder: URL) throws -> [String: String] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var files: [String: String] = [:]
        for asset in assets {
            let path = folder.appendingPathComponent("\(asset.name).csv").path
            try csv(asset).write(toFile: path, atomically: true, encoding: .utf8)
            files[asset.name] = path
        }
        return files
    }

    private static func price(_ x: Double) -> String { String(format: "%.2f", x) }
}
