public import Foundation

/// One point of a price path: the common mid of an asset and the market's conditions.
public struct PathPoint: Sendable, Equatable {
    /// When the point holds.
    public var time: Date
    /// The asset's common mid, before any venue's own impact.
    public var mid: Double
    /// Volatility relative to the path's base volatility (1: calm; 5: a spike).
    public var volatilityMultiplier: Double
    /// Book depth relative to normal (1: normal; below 1: liquidity withdrawn).
    public var liquidity: Double

    /// A point from its fields.
    public init(time: Date, mid: Double, volatilityMultiplier: Double = 1, liquidity: Double = 1) {
        self.time = time
        self.mid = mid
        self.volatilityMultiplier = volatilityMultiplier
        self.liquidity = liquidity
    }
}

/// The path's state for one market step, with the bar it falls in on an OHLCV path.
struct PathStep {
    /// The point in force.
    var point: PathPoint
    /// The OHLCV bar in progress; nil on other paths and in gaps between bars.
    var bar: BarProgress?
}

/// Where a step falls in an OHLCV bar: what the flow must add up to, and the depth scale.
struct BarProgress: Equatable {
    /// The bar's index in its series.
    let index: Int
    /// The bar's volume (base units).
    let volume: Double
    /// The bar's volume over the file's median bar volume.
    let volumeFactor: Double
    /// This step's position in the bar, 0-based.
    let step: Int
    /// Steps the bar spans.
    let steps: Int
}
