import BallastCore
import Foundation
import Postgres

/// Implementation shortfall of each parent trade decided in a period, from
/// `batch_parents`, its children's fills and the mid when execution ended — for a batch not
/// finished yet, at the period's end (a parameter, never the database's clock). A superseded
/// batch's parents are left out: the later proposal that replaced them carries the decision.
struct ParentShortfall {
    let connection: Connection
    let writer: Connection
    let prices: PriceHistory

    func measure(from: Date, to: Date) throws -> Int {
        let parents = try connection.query(
            """
            SELECT bp.batch_id, bp.parent, bp.portfolio_id, bp.asset, bp.quote, bp.side, bp.decided_qty,
                   bp.decision_mid, coalesce(b.finished_at, \(to)::timestamptz) AS ended_at,
                   array_agg(DISTINCT o.venue_id) FILTER (WHERE o.venue_id IS NOT NULL)::text AS venues
            FROM batch_parents bp JOIN batches b ON b.id = bp.batch_id
            LEFT JOIN orders o ON o.batch_id = bp.batch_id AND o.parent = bp.parent
            WHERE b.created_at >= \(from) AND b.created_at < \(to) AND b.status <> 'superseded'
            GROUP BY bp.batch_id, bp.parent, b.finished_at
            ORDER BY bp.batch_id, bp.parent
            """)
        for row in parents {
            let batch: Int64 = try row.decode("batch_id")
            let parent: Int = try row.decode("parent")
            let asset: String = try row.decode("asset")
            let quote: String = try row.decode("quote")
            let pair = TradingPair(symbol: TradingPair.symbol(base: asset, quote: quote), base: asset, quote: quote)
            let decisionMid: ExactDecimal = try row.decode("decision_mid")
            let venues = (try row.decode("venues", as: String?.self) ?? "{}").trimmingCharacters(in: ["{", "}"])
                .split(separator: ",").map(String.init)
            let ended: Date = try row.decode("ended_at")
            let executions = try connection.query(
                """
                SELECT f.price, f.qty, f.commission, f.commission_asset, f.executed_at
                FROM orders o JOIN fills f
                  ON f.venue_id = o.venue_id AND f.symbol = o.symbol AND f.order_id = o.venue_order_id
                WHERE o.batch_id = \(batch) AND o.parent = \(parent)
                ORDER BY f.executed_at
                """
            ).map {
                TransactionCost.Execution(
                    price: try $0.decode("price"), qty: try $0.decode("qty"), commission: try $0.decode("commission"),
                    commissionAsset: try $0.decode("commission_asset"), time: try $0.decode("executed_at"))
            }
            let endMid = prices.latestMid(symbol: pair.symbol, venues: venues, before: ended) ?? decisionMid
            let side: String = try row.decode("side")
            let shortfall: ImplementationShortfall
            do {
                shortfall = try ImplementationShortfall.compute(
                    side: side == "sell" ? .sell : .buy, pair: pair, decidedQty: try row.decode("decided_qty"),
                    decisionMid: decisionMid, endMid: endMid, executions: executions
                ) { asset, quote, time in
                    venues.lazy.compactMap {
                        prices.mid(venue: $0, symbol: TradingPair.symbol(base: asset, quote: quote), at: time)
                    }.first
                }
            } catch {
                throw BallastError.invalidInput("batch \(batch) parent \(parent): \(error)")
            }
            try writer.execute(
                """
                INSERT INTO parent_measures (batch_id, parent, portfolio_id, symbol, side, decision_qty, filled_qty,
                    decision_mid, end_mid, decision_notional, shortfall_quote, shortfall_bps)
                VALUES (\(batch), \(parent), \(try row.decode("portfolio_id", as: String.self)), \(pair.symbol), \(side),
                    \(try row.decode("decided_qty", as: ExactDecimal.self)), \(shortfall.filledQty), \(decisionMid),
                    \(endMid), \(shortfall.decisionNotional), \(shortfall.total), \(shortfall.bps))
                ON CONFLICT (batch_id, parent) DO UPDATE SET filled_qty = EXCLUDED.filled_qty,
                    end_mid = EXCLUDED.end_mid, shortfall_quote = EXCLUDED.shortfall_quote,
                    shortfall_bps = EXCLUDED.shortfall_bps, measured_at = now()
                """)
        }
        return parents.count
    }
}
