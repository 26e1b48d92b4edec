import BallastCore
import Foundation
import Postgres

/// Realised drift of every portfolio from the latest balances and mids,
/// stored as the run's "after" phase (the proposal stores "before").
struct DriftMeasure {
    let connection: Connection
    let writer: Connection

    /// Measures every portfolio; what could not be measured is said in `problems`.
    func measure(runID: String, problems: inout [String]) throws -> Int {
        let portfolios = try connection.query("SELECT id, quote_asset FROM portfolios ORDER BY id")
        var measured = 0
        for portfolio in portfolios {
            let id: String = try portfolio.decode("id")
            let quote: String = try portfolio.decode("quote_asset")
            let targets = Dictionary(
                uniqueKeysWithValues: try connection.query(
                    "SELECT asset, weight FROM portfolio_targets WHERE portfolio_id = \(id)"
                ).map { (try $0.decode("asset", as: String.self), try $0.decode("weight", as: ExactDecimal.self)) })
            guard !targets.isEmpty else { continue }
            let holdings = try PortfolioState.holdings(of: id, connection: connection)
            guard !holdings.isEmpty else {
                problems.append("portfolio \(id): no balances stored yet; drift not measured")
                continue
            }
            let prices = try PortfolioState.mids(
                of: Array(targets.keys) + Array(holdings.keys), quote: quote, connection: connection)
            let report: DriftReport
            do {
                report = try DriftReport.compute(holdings: holdings, prices: prices, targets: targets, quote: quote)
            } catch {
                problems.append("portfolio \(id): drift not measured: \(error)")
                continue
            }
            if !report.unpriced.isEmpty {
                problems.append(
                    "portfolio \(id): \(report.unpriced.joined(separator: ", ")) held but not targeted and not priced in \(quote); left out of its value"
                )
            }
            try writer.execute(
                "DELETE FROM drift_measures WHERE run_id = \(runID) AND portfolio_id = \(id) AND phase = 'after'")
            for line in report.lines {
                try writer.execute(
                    """
                    INSERT INTO drift_measures (run_id, portfolio_id, asset, phase, value_quote, weight, target, drift)
                    VALUES (\(runID), \(id), \(line.asset), 'after', \(line.value), \(line.weight), \(line.target),
                        \(line.drift))
                    """)
            }
            measured += 1
        }
        return measured
    }
}

/// What a portfolio holds and what its assets are worth, from stored snapshots.
enum PortfolioState {
    /// Σ (free + locked) per asset over the latest balance snapshot of each of the portfolio's accounts.
    static func holdings(of portfolio: String, connection: Connection) throws -> [String: ExactDecimal] {
        var holdings: [String: ExactDecimal] = [:]
        for row in try connection.query(
            """
            SELECT b.asset, sum(b.free + b.locked) AS total
            FROM portfolio_accounts pa
            JOIN LATERAL (SELECT id FROM balance_snapshots s WHERE s.account_id = pa.account_id
                          ORDER BY taken_at DESC, id DESC LIMIT 1) latest ON true
            JOIN balances b ON b.snapshot_id = latest.id
            WHERE pa.portfolio_id = \(portfolio)
            GROUP BY b.asset
            """)
        {
            holdings[try row.decode("asset")] = try row.decode("total")
        }
        return holdings
    }

    /// The latest mid of each asset against `quote`, averaged over venues that list the pair.
    static func mids(of assets: [String], quote: String, connection: Connection) throws -> [String: ExactDecimal] {
        var mids: [String: ExactDecimal] = [:]
        for asset in Set(assets) where asset != quote {
            let row = try connection.query(
                """
                SELECT avg((t.bid_price + t.ask_price) / 2) AS mid FROM (
                    SELECT DISTINCT ON (venue_id) bid_price, ask_price FROM book_tickers
                    WHERE symbol = \(TradingPair.symbol(base: asset, quote: quote)) ORDER BY venue_id, observed_at DESC, id DESC) t
                """
            ).first
            if let mid = try row?.decode("mid", as: ExactDecimal?.self) {
                mids[asset] = mid.rounded(scale: 12, .halfEven)
            }
        }
        return mids
    }
}
