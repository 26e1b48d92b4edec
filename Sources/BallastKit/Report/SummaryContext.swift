import Foundation
import Postgres

/// The figures the Summary sheet and `summary.md` show: provenance, row
/// counts, totals and the top routes, for the report's period.
enum SummaryContext {
    /// What the database says of the period: counts, Ballast's own trading apart from the
    /// account's other fills, and the top routes (which the measure step writes).
    struct Figures: Sendable {
        var fills, orders, batches, decisions, breaks, requests: Int
        var ballastFills, feesElsewhere, externalFills: Int
        /// Exact decimal text.
        var ballastNotional, ballastFees, externalNotional: String
        var routes: [Route]

        struct Route: Sendable {
            var venue, dialect, symbol, style: String
            var orders: Int
            /// Exact decimal text; "—" where there is no figure.
            var notional, slippageBps, feeBps: String
        }
    }

    /// Queries the figures of `request`'s period over `connection`.
    static func figures(of request: AuditReport.Request, on connection: Connection) throws -> Figures {
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
        ).map { row in
            Figures.Route(
                venue: try row.decode("venue_id"), dialect: try row.decode("dialect"), symbol: try row.decode("symbol"),
                style: try row.decode("style"), orders: try row.decode("orders"),
                notional: try row.decode("filled_notional"),
                slippageBps: try row.decode("slippage_bps_mean", as: String?.self) ?? "—",
                feeBps: try row.decode("fee_bps_mean", as: String?.self) ?? "—")
        }
        return Figures(
            fills: try totals.decode("fills"), orders: try totals.decode("orders"),
            batches: try totals.decode("batches"), decisions: try totals.decode("decisions"),
            breaks: try totals.decode("breaks"), requests: try totals.decode("requests"),
            ballastFills: try own.decode("ours"), feesElsewhere: try own.decode("fees_elsewhere"),
            externalFills: try own.decode("external"), ballastNotional: try own.decode("notional"),
            ballastFees: try own.decode("fees"), externalNotional: try own.decode("external_notional"),
            routes: routes)
    }

    /// A dictionary for Mustache (and the Summary sheet), every amount as exact text.
    static func values(
        of request: AuditReport.Request, tables: [(sheet: String, rows: Int, sheets: [String])], figures: Figures
    ) -> [String: Any] {
        let routes: [[String: Any]] = figures.routes.map {
            [
                "venue": $0.venue, "dialect": $0.dialect, "symbol": $0.symbol, "style": $0.style,
                "orders": $0.orders, "notional": $0.notional, "slippage_bps": $0.slippageBps, "fee_bps": $0.feeBps,
            ]
        }
        return [
            "run_id": request.runID,
            "generated_at": Timestamp.iso8601Milliseconds(Date()),
            // A run's bounds are whole milliseconds (`ReportJob.period(ofRun:)`); a --from/--to given to
            // the microsecond is shown as given.
            "from": Timestamp.iso8601Bound(request.from),
            "to": Timestamp.iso8601Bound(request.to),
            "config_hash": request.configHash ?? "—",
            "chain": request.chain.map {
                "\($0.length ?? 0) records, head \($0.hash) (verified before this report; each record's hash is "
                    + "SHA-256 of the previous hash followed by its canonical JSON)"
            } ?? "—",
            "chain_head": request.chain?.description ?? "—",
            "version": BallastVersion.current,
            "tables": tables.map { ["sheet": $0.sheet, "rows": $0.rows, "sheets": $0.sheets.joined(separator: ", ")] },
            "fills": figures.fills,
            "ballast_fills": figures.ballastFills,
            "ballast_notional": figures.ballastNotional,
            "ballast_fees": figures.ballastFees,
            "fees_elsewhere": figures.feesElsewhere,
            "has_fees_elsewhere": figures.feesElsewhere > 0,
            "external_fills": figures.externalFills,
            "external_notional": figures.externalNotional,
            "orders": figures.orders,
            "batches": figures.batches,
            "decisions": figures.decisions,
            "breaks": figures.breaks,
            "requests": figures.requests,
            "routes": routes,
            "has_routes": !routes.isEmpty,
            "empty": figures.fills == 0 && figures.orders == 0,
        ]
    }
}
