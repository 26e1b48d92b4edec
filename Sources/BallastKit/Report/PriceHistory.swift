import BallastCore
import Foundation
import Postgres

/// Mids observed at a venue over time (book tickers), loaded per symbol on
/// first use, for converting fees paid in a third asset at the fill time.
final class PriceHistory {
    private let connection: Connection
    private var series: [String: [(Date, ExactDecimal)]] = [:]

    init(connection: Connection) { self.connection = connection }

    /// The latest mid of `symbol` at `venue` observed at or before `time`
    /// (or the first one after it, when none came before); nil if never observed.
    func mid(venue: String, symbol: String, at time: Date) -> ExactDecimal? {
        let key = venue + "/" + symbol
        if series[key] == nil {
            series[key] =
                (try? connection.query(
                    """
                    SELECT observed_at, (bid_price + ask_price) / 2 AS mid FROM book_tickers
                    WHERE venue_id = \(venue) AND symbol = \(symbol) ORDER BY observed_at
                    """
                ).map { (try $0.decode("observed_at", as: Date.self), try $0.decode("mid", as: ExactDecimal.self)) })
                ?? []
        }
        guard let points = series[key], !points.isEmpty else { return nil }
        var low = 0
        var high = points.count
        while low < high {
            let middle = (low + high) / 2
            if points[middle].0 <= time { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? points[0].1 : points[low - 1].1
    }

    /// The latest mid of `symbol` across venues, for the end of an execution.
    func latestMid(symbol: String, venues: [String], before time: Date) -> ExactDecimal? {
        venues.compactMap { mid(venue: $0, symbol: symbol, at: time) }.first
    }
}
