import Foundation

/// A path given point by point (scripted tests and replays): each point holds until the next.
struct ScriptedPath: PriceSource {
    let points: [PathPoint]
    let dailyVolatility: Double
    var dailyVolume: Double? { nil }
    private var next = 0

    /// A path through `points` (at least one, in time order).
    init(points: [PathPoint], dailyVolatility: Double) {
        precondition(!points.isEmpty, "a scripted path needs a point")
        self.points = points
        self.dailyVolatility = dailyVolatility
    }

    mutating func advance(to date: Date) -> PathStep {
        while next + 1 < points.count, points[next + 1].time <= date { next += 1 }
        var point = points[next]
        point.time = date
        return PathStep(point: point, bar: nil)
    }
}
