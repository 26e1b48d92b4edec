import BallastCore
import Foundation
public import Logging
public import Postgres

/// `ballast reconcile`: checks the stored data against itself and stores each
/// break with its evidence (definitions: `Reconciliation` in BallastCore).
///
/// - every pair of consecutive balance snapshots of an account against the
///   fills executed between them (after the first, up to and including the second);
/// - our orders, and the orders the venue reported, against their fills;
/// - fills no order of ours explains, as one break per venue, account, symbol
///   and run of new trade ids.
///
/// All of it runs in one transaction: a failure stores nothing. A break already
/// stored is not stored again, so reconciling twice finds nothing new.
public struct Reconcile {
    public struct Summary: Sendable, Equatable {
        public var snapshotPairs = 0
        public var ordersChecked = 0
        public var externalFills = 0
        /// New breaks by kind.
        public var breaks: [String: Int] = [:]
        public var totalBreaks: Int { breaks.values.reduce(0, +) }
    }

    let connection: Connection
    let logger: Logger

    public init(connection: Connection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    public func run(runID: String?) throws -> Summary {
        var summary = Summary()
        try connection.withTransaction {
            try balances(runID: runID, into: &summary)
            try orders(runID: runID, into: &summary)
            try external(runID: runID, into: &summary)
        }
        let kinds = summary.breaks.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
        logger.info(
            "reconciled \(summary.snapshotPairs) snapshot pairs, \(summary.ordersChecked) orders, \(summary.externalFills) external fills: \(summary.totalBreaks == 0 ? "no new breaks" : kinds.joined(separator: ", ") + " new")"
        )
        return summary
    }

    // MARK: Balances against the ledger

    private func balances(runID: String?, into summary: inout Summary) throws {
        let accounts = try connection.query("SELECT id, venue_id FROM accounts ORDER BY id").map {
            (try $0.decode("id", as: String.self), try $0.decode("venue_id", as: String.self))
        }
        var rulesByVenue: [String: [SymbolRules]] = [:]
        for (account, venue) in accounts {
            let rules = try rulesByVenue[venue] ?? symbolRules(venue: venue)
            rulesByVenue[venue] = rules
            let pairs = Dictionary(rules.map { ($0.pair.symbol, $0.pair) }, uniquingKeysWith: { a, _ in a })
            // From the newest snapshot checked before (its mark) onward: a pair is checked once.
            let snapshots = try connection.query(
                """
                SELECT s.id, coalesce(s.venue_time, s.taken_at) AS at FROM balance_snapshots s
                LEFT JOIN reconcile_marks m ON m.account_id = s.account_id
                WHERE s.account_id = \(account)
                  AND (m.account_id IS NULL OR (coalesce(s.venue_time, s.taken_at), s.id) >= (m.snapshot_at, m.snapshot_id))
                ORDER BY at, s.id
                """
            ).map { (try $0.decode("id", as: Int64.self), try $0.decode("at", as: Date.self)) }
            guard snapshots.count > 1 else { continue }
            var before = try totals(snapshot: snapshots[0].0)
            for index in 1..<snapshots.count {
                let (fromID, fromTime) = snapshots[index - 1]
                let (toID, toTime) = snapshots[index]
                let after = try totals(snapshot: toID)
                var fills: [Reconciliation.FillTotals] = []
                var count = 0
                var firstTrade: (Date, String)?
                var lastTrade: (Date, String)?
                for row in try connection.query(
                    """
                    SELECT symbol, side, commission_asset, sum(qty) AS qty, sum(quote_qty) AS quote_qty,
                           sum(commission) AS commission, count(*) AS n,
                           min(executed_at) AS first_at, max(executed_at) AS last_at,
                           (array_agg(trade_id ORDER BY executed_at, trade_id COLLATE "C"))[1] AS first_id,
                           (array_agg(trade_id ORDER BY executed_at DESC, trade_id COLLATE "C" DESC))[1] AS last_id
                    FROM fills
                    WHERE account_id = \(account) AND executed_at > \(fromTime) AND executed_at <= \(toTime)
                    GROUP BY symbol, side, commission_asset
                    """)
                {
                    let symbol: String = try row.decode("symbol")
                    guard let pair = pairs[symbol] else {
                        logger.warning("fills on \(symbol) at \(venue): symbol unknown, left out of the ledger")
                        continue
                    }
                    fills.append(
                        .init(
                            pair: pair, side: try row.decode("side", as: String.self) == "buy" ? .buy : .sell,
                            qty: try row.decode("qty"), quoteQty: try row.decode("quote_qty"),
                            commission: try row.decode("commission"),
                            commissionAsset: try row.decode("commission_asset")))
                    count += try row.decode("n", as: Int.self)
                    let first: (Date, String) = (try row.decode("first_at"), try row.decode("first_id"))
                    let last: (Date, String) = (try row.decode("last_at"), try row.decode("last_id"))
                    if firstTrade.map({ Self.precedes(first, $0) }) ?? true { firstTrade = first }
                    if lastTrade.map({ Self.precedes($0, last) }) ?? true { lastTrade = last }
                }
                let breaks = Reconciliation.balanceBreaks(before: before, after: after, fills: fills) {
                    Reconciliation.tolerance(of: $0, rules: rules)
                }
                for item in breaks {
                    let evidence: [String: Any] = [
                        "from_snapshot": fromID, "to_snapshot": toID, "from_time": Timestamp.iso8601(fromTime),
                        "to_time": Timestamp.iso8601(toTime), "before": item.before.description,
                        "ledger_change": item.change.description, "tolerance": item.tolerance.description,
                        "fills": count, "first_trade_id": firstTrade.map { $0.1 as Any } ?? NSNull(),
                        "last_trade_id": lastTrade.map { $0.1 as Any } ?? NSNull(),
                    ]
                    try store(
                        kind: "balance", subject: "\(account)/\(fromID)-\(toID)/\(item.asset)", runID: runID,
                        venue: venue, account: account, asset: item.asset, symbol: nil, clientOrderId: nil,
                        expected: item.expected, actual: item.actual, evidence: evidence, into: &summary)
                }
                summary.snapshotPairs += 1
                before = after
            }
            let (newest, newestAt) = snapshots[snapshots.count - 1]
            try connection.execute(
                """
                INSERT INTO reconcile_marks (account_id, snapshot_id, snapshot_at, checked_at)
                VALUES (\(account), \(newest), \(newestAt), \(Date()))
                ON CONFLICT (account_id) DO UPDATE
                    SET snapshot_id = EXCLUDED.snapshot_id, snapshot_at = EXCLUDED.snapshot_at,
                        checked_at = EXCLUDED.checked_at
                """)
        }
    }

    /// Whether trade `a` comes before trade `b`: by time, then by id (ids are not ordered by value).
    static func precedes(_ a: (Date, String), _ b: (Date, String)) -> Bool {
        a.0 != b.0 ? a.0 < b.0 : Array(a.1.utf8).lexicographicallyPrecedes(Array(b.1.utf8))
    }

    private func symbolRules(venue: String) throws -> [SymbolRules] {
        try connection.query(
            """
            SELECT symbol, base_asset, quote_asset, status, tick_size, min_price, max_price, step_size, min_qty,
                   max_qty, min_notional, max_notional
            FROM symbols WHERE venue_id = \(venue)
            """
        ).map { try SymbolRules(row: $0) }
    }

    private func totals(snapshot: Int64) throws -> [String: ExactDecimal] {
        var out: [String: ExactDecimal] = [:]
        for row in try connection.query(
            "SELECT asset, free + locked AS total FROM balances WHERE snapshot_id = \(snapshot)")
        {
            out[try row.decode("asset")] = try row.decode("total")
        }
        return out
    }

    // MARK: Orders against their fills

    private func orders(runID: String?, into summary: inout Summary) throws {
        // Ours, as the executor last recorded them, then the venue's own reports.
        let sources: [(String, String, String)] = [
            (
                "orders", "o.venue_order_id",
                "o.state IN ('filled', 'cancelled', 'expired', 'rejected')"
            ),
            (
                "venue_orders", "o.order_id",
                "o.status IN ('filled', 'cancelled', 'expired', 'rejected')"
            ),
        ]
        for (table, orderID, finished) in sources {
            let rows = try connection.query(
                Query(
                    unsafeSQL: """
                        SELECT o.client_order_id, o.venue_id, o.account_id, o.symbol, \(orderID) AS order_id,
                               o.executed_qty, (\(finished)) AS finished, coalesce(f.qty, 0) AS filled,
                               coalesce(f.n, 0) AS n, f.ids
                        FROM \(table) o
                        LEFT JOIN LATERAL (
                            SELECT sum(qty) AS qty, count(*) AS n,
                                   (array_agg(trade_id ORDER BY executed_at, trade_id))[1:50]::text AS ids
                            FROM fills WHERE venue_id = o.venue_id AND symbol = o.symbol AND order_id = \(orderID)
                        ) f ON true
                        WHERE \(orderID) IS NOT NULL
                        ORDER BY o.venue_id, o.symbol, \(orderID)
                        """))
            for row in rows {
                summary.ordersChecked += 1
                let executed: ExactDecimal = try row.decode("executed_qty")
                let filled: ExactDecimal = try row.decode("filled")
                let isFinished: Bool = try row.decode("finished")
                guard Reconciliation.orderDisagrees(executed: executed, filled: filled, finished: isFinished) else {
                    continue
                }
                let venue: String = try row.decode("venue_id")
                let symbol: String = try row.decode("symbol")
                let id: String = try row.decode("order_id")
                let evidence: [String: Any] = [
                    "source": table, "order_id": id, "finished": isFinished, "fills": try row.decode("n", as: Int.self),
                    "trade_ids": try row.decode("ids", as: String?.self) ?? "{}",
                ]
                try store(
                    kind: "order_fills", subject: "\(table)/\(venue)/\(symbol)/\(id)/\(executed)/\(filled)",
                    runID: runID, venue: venue, account: try row.decode("account_id"), asset: nil, symbol: symbol,
                    clientOrderId: try row.decode("client_order_id"), expected: executed, actual: filled,
                    evidence: evidence, into: &summary)
            }
        }
    }

    // MARK: Fills no order of ours explains

    private func external(runID: String?, into summary: inout Summary) throws {
        let rows = try connection.query(
            """
            SELECT f.venue_id, f.account_id, f.symbol, count(*) AS n,
                   (array_agg(f.trade_id ORDER BY f.executed_at, f.trade_id COLLATE "C"))[1] AS first_id,
                   (array_agg(f.trade_id ORDER BY f.executed_at DESC, f.trade_id COLLATE "C" DESC))[1] AS last_id,
                   -- Text, exact to the microsecond: the next check compares stored fills with it.
                   to_char(max(f.executed_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS last_at,
                   sum(f.qty) AS gross,
                   sum(CASE WHEN upper(f.side) = 'BUY' THEN f.qty ELSE -f.qty END) AS net,
                   max(s.base_asset) AS base_asset,
                   (array_agg(DISTINCT f.order_id))[1:20]::text AS order_ids
            FROM fills f
            LEFT JOIN symbols s ON s.venue_id = f.venue_id AND s.symbol = f.symbol
            WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.venue_id = f.venue_id AND o.symbol = f.symbol
                                                       AND o.venue_order_id = f.order_id)
              -- After the last fill an earlier check reported (ids are not ordered: time, then id).
              AND NOT EXISTS (SELECT 1 FROM reconciliation_breaks b
                              WHERE b.kind = 'external_fill' AND b.venue_id = f.venue_id
                                AND b.account_id = f.account_id AND b.symbol = f.symbol
                                AND (f.executed_at, f.trade_id COLLATE "C")
                                    <= ((b.evidence->>'last_executed_at')::timestamptz,
                                        (b.evidence->>'last_trade_id') COLLATE "C"))
            GROUP BY f.venue_id, f.account_id, f.symbol
            ORDER BY f.venue_id, f.account_id, f.symbol
            """)
        for row in rows {
            let venue: String = try row.decode("venue_id")
            let account: String = try row.decode("account_id")
            let symbol: String = try row.decode("symbol")
            let count: Int = try row.decode("n")
            let first: String = try row.decode("first_id")
            let last: String = try row.decode("last_id")
            let lastAt: String = try row.decode("last_at")
            summary.externalFills += count
            let gross: ExactDecimal = try row.decode("gross")
            let evidence: [String: Any] = [
                "fills": count, "first_trade_id": first, "last_trade_id": last,
                "last_executed_at": lastAt, "gross_qty": gross.description,
                "order_ids_sample": try row.decode("order_ids", as: String.self),
                "note": "fills of orders Ballast did not place (manual trading, another system, or history); "
                    + "actual is their net change of the base asset (bought − sold), gross_qty all they traded",
            ]
            // The break is what these fills moved the balance by: the net, in the base asset.
            try store(
                kind: "external_fill", subject: "\(venue)/\(account)/\(symbol)/\(first)-\(last)", runID: runID,
                venue: venue, account: account, asset: try row.decode("base_asset", as: String?.self), symbol: symbol,
                clientOrderId: nil, expected: .zero, actual: try row.decode("net"), evidence: evidence, into: &summary)
        }
    }

    // MARK: Storage

    private func store(
        kind: String, subject: String, runID: String?, venue: String, account: String, asset: String?,
        symbol: String?, clientOrderId: String?, expected: ExactDecimal, actual: ExactDecimal,
        evidence: [String: Any], into summary: inout Summary
    ) throws {
        let json = String(
            decoding: try JSONSerialization.data(withJSONObject: evidence, options: [.sortedKeys]), as: UTF8.self)
        let inserted = try connection.execute(
            """
            INSERT INTO reconciliation_breaks (run_id, kind, subject, venue_id, account_id, asset, symbol,
                                               client_order_id, expected, actual, difference, evidence)
            VALUES (\(runID), \(kind), \(subject), \(venue), \(account), \(asset), \(symbol), \(clientOrderId),
                    \(expected), \(actual), \(actual - expected), \(json)::jsonb)
            ON CONFLICT (kind, subject) DO NOTHING
            """)
        if inserted > 0 { summary.breaks[kind, default: 0] += 1 }
    }
}
