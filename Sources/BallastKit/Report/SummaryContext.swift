import Foundation
import Postgres

/// The figures the Summary sheet and `summary.md` show: provenance, row
/// counts, totals and the top routes, for the report's period.
struct SummaryContext {
    let request: AuditReport.Request
    let tables: [(sheet: String, rows: Int, sheets: [String])]
    let connection: Connection

    /// A dictionary for Mustache (and the Summary sheet), every amount as exact text.
    func values() throws -> [String: Any] {
        let from = request.from
        let to = request.to
        let totals = try connection.query(
            """
            SELECT
              (SELECT count(*) FROM fills WHERE executed_at >= \(from) AND executed_at < \(to)) AS fills,
              (SELECT count(*) FROM orders WHERE created_at >= \(from) AND created_at < \(to)) AS orders,
              (SELECT count(*) FROM batches WHERE created_at >= \(from) AND created_at < \(to)) AS batches,
              (SELECT count(*) FROM decision_records WHERE created_at >= \(from) AND created_at < \(to)) AS decisions,
              (SELECT count(*) FROM reconciliation_breaks WHERE detected_at >= \(from) AND detected_at < \(to))
                AS breaks,
              (SELECT count(*) FROM http_attempts WHERE started_at >= \(from) AND started_at < \(to)) AS requests
            """
        ).first!
        // Ballast's own trading: fills of orders Ballast placed (joined on the venue's order id). Fees in
        // the quote as charged, or in the base converted at the fill's own price; fees charged in a third
        // asset (a fee token) are counted apart, never guessed into the quote.
        let own = try connection.query(
            """
            SELECT count(*) FILTER (WHERE o.id IS NOT NULL) AS ours,
                   round(coalesce(sum(f.quote_qty) FILTER (WHERE o.id IS NOT NULL), 0), 2)::text AS notional,
                   round(coalesce(sum(CASE WHEN f.commission_asset = s.quote_asset THEN f.commission
                                           WHEN f.commission_asset = s.base_asset THEN f.commission * f.price END)
                                  FILTER (WHERE o.id IS NOT NULL), 0), 2)::text AS fees,
                   count(*) FILTER (WHERE o.id IS NOT NULL AND f.commission_asset <> s.quote_asset
                                    AND f.commission_asset <> s.base_asset) AS fees_elsewhere,
                   count(*) FILTER (WHERE o.id IS NULL) AS external,
                   round(coalesce(sum(f.quote_qty) FILTER (WHERE o.id IS NULL), 0), 2)::text AS external_notional
            FROM fills f
            LEFT JOIN orders o ON o.venue_id = f.venue_id AND o.symbol = f.symbol AND o.venue_order_id = f.order_id
            LEFT JOIN symbols s ON s.venue_id = f.venue_id AND s.symbol = f.symbol
            WHERE f.executed_at >= \(from) AND f.executed_at < \(to)
            """
        ).first!
        let routes = try connection.query(
            """
            SELECT r.venue_id, coalesce(v.dialect, '') AS dialect, r.symbol, r.style, r.orders,
                   round(r.filled_notional, 2)::text AS filled_notional,
                   round(r.slippage_bps_mean::numeric, 2)::text AS slippage_bps_mean,
                   round(r.fee_bps_mean::numeric, 2)::text AS fee_bps_mean
            FROM route_measures r LEFT JOIN venues v ON v.id = r.venue_id
            WHERE r.run_id = \(request.runID)
            ORDER BY r.filled_notional DESC, r.venue_id, r.symbol, r.style LIMIT 10
            """
        ).map { row -> [String: Any] in
            [
                "venue": try row.decode("venue_id", as: String.self),
                "dialect": try row.decode("dialect", as: String.self),
                "symbol": try row.decode("symbol", as: String.self),
                "style": try row.decode("style", as: String.self), "orders": try row.decode("orders", as: Int.self),
                "notional": try row.decode("filled_notional", as: String.self),
                "slippage_bps": try row.decode("slippage_bps_mean", as: String?.self) ?? "—",
                "fee_bps": try row.decode("fee_bps_mean", as: String?.self) ?? "—",
            ]
        }
        let fills: Int = try totals.decode("fills")
        let orders: Int = try totals.decode("orders")
        return [
            "run_id": request.runID,
            "generated_at": Timestamp.iso8601(Date()),
            "from": Timestamp.iso8601(from),
            "to": Timestamp.iso8601(to),
            "config_hash": request.configHash ?? "—",
            "chain": request.chain.map {
                "\($0.length ?? 0) records, head \($0.hash) (verified before this report; each record's hash is "
                    + "SHA-256 of the previous hash followed by its canonical JSON)"
            } ?? "—",
            "chain_head": request.chain?.description ?? "—",
            "version": BallastVersion.current,
            "tables": tables.map { ["sheet": $0.sheet, "rows": $0.rows, "sheets": $0.sheets.joined(separator: ", ")] },
            "fills": fills,
            "ballast_fills": try own.decode("ours", as: Int.self),
            "ballast_notional": try own.decode("notional", as: String.self),
            "ballast_fees": try own.decode("fees", as: String.self),
            "fees_elsewhere": try own.decode("fees_elsewhere", as: Int.self),
            "has_fees_elsewhere": try own.decode("fees_elsewhere", as: Int.self) > 0,
            "external_fills": try own.decode("external", as: Int.self),
            "external_notional": try own.decode("external_notional", as: String.self),
            "orders": orders,
            "batches": try totals.decode("batches", as: Int.self),
            "decisions": try totals.decode("decisions", as: Int.self),
            "breaks": try totals.decode("breaks", as: Int.self),
            "requests": try totals.decode("requests", as: Int.self),
            "routes": routes,
            "has_routes": !routes.isEmpty,
            "empty": fills == 0 && orders == 0,
        ]
    }
}
