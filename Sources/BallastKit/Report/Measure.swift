import BallastCore
public import Foundation
public import Logging
public import Postgres

/// The measure step: transaction-cost analysis of each child order and each
/// route, implementation shortfall of each parent trade, and realised drift —
/// computed with BallastCore's definitions and stored in the measures tables.
///
/// Re-running it over the same period replaces what it stored before.
public struct Measure {
    /// What one run measured.
    public struct Summary: Sendable {
        public var orders = 0
        public var fills = 0
        public var routes = 0
        public var parents = 0
        public var portfolios = 0
    }

    let connection: Connection
    let databaseURL: String
    let logger: Logger

    /// A measure step reading through `connection` and writing through a second
    /// connection to `databaseURL` (so rows stream in and out at once).
    public init(connection: Connection, databaseURL: String, logger: Logger) {
        self.connection = connection
        self.databaseURL = databaseURL
        self.logger = logger
    }

    /// Measures orders created in [`from`, `to`) and stores the aggregates under `runID`.
    @discardableResult
    public func run(runID: String, from: Date, to: Date) throws -> Summary {
        var summary = Summary()
        let writer = try connection.sibling(databaseURL: databaseURL, logger: logger)
        defer { writer.close() }
        let prices = PriceHistory(connection: connection)
        var routes: [Route: [RouteStatistics.Sample]] = [:]
        try connection.execute("SET work_mem = '64MB'")
        // Each query here runs once: PostgreSQL's JIT would compile the per-order aggregate over the
        // fills for 0.75–1.1 s at a million fills before its first row (measured with EXPLAIN
        // ANALYZE: 3.0 s with it, 1.7 s without), CPU taken from the report written alongside.
        try connection.execute("SET jit = off")
        defer {
            _ = try? connection.execute("RESET work_mem")
            _ = try? connection.execute("RESET jit")
        }
        try writer.withTransaction {
            try writer.execute(
                """
                DELETE FROM order_measures
                WHERE order_id IN (SELECT id FROM orders WHERE created_at >= \(from) AND created_at < \(to))
                """)
            try writer.copyIn(
                """
                COPY order_measures (order_id, run_id, portfolio_id, venue_id, symbol, style, side, ordered_qty,
                    filled_qty, avg_price, arrival_mid, decision_mid, filled_notional, fees_quote, slippage_bps, fee_bps,
                    fill_ratio, seconds_to_first_fill, seconds_to_last_fill, retries, rejected, fills, maker_qty) FROM STDIN
                """
            ) { copy in
                try forEachOrder(from: from, to: to) { order in
                    let cost = try order.cost(prices: prices)
                    summary.orders += 1
                    summary.fills += order.fills
                    routes[order.route, default: []].append(
                        .init(
                            orderedQty: order.orderedQty, cost: cost, rejected: order.rejected, retries: order.retries))
                    try order.write(cost, runID: runID, to: copy)
                }
            }
            summary.routes = try storeRoutes(routes, runID: runID, from: from, to: to, connection: writer)
        }
        summary.parents = try ParentShortfall(connection: connection, writer: writer, prices: prices)
            .measure(from: from, to: to)
        var problems: [String] = []
        summary.portfolios = try DriftMeasure(connection: connection, writer: writer).measure(
            runID: runID, problems: &problems)
        for problem in problems { logger.warning("\(problem)") }
        let line =
            "measured \(summary.orders) orders (\(summary.fills) fills) on \(summary.routes) routes, "
            + "\(summary.parents) parent trades, drift of \(summary.portfolios) portfolios"
        logger.info("\(line)")
        return summary
    }

    /// Streams the period's orders that were sent (an order still `proposed` or `approved`, such as
    /// one of a superseded batch, never reached a route) with their execution totals, summed by the
    /// database (exactly: numeric). Fees in the base or quote asset are summed
    /// there too; fees in a third asset are converted fill by fill here.
    ///
    /// Each order's fills are summed through the fills' order index, order by order, rather than by
    /// joining every fill and sorting the lot: the rows stream from the first order on, and at a
    /// million fills the database spends about a third of the CPU (this runs while the report writes).
    private func forEachOrder(from: Date, to: Date, _ body: (MeasuredOrder) throws -> Void) throws {
        try connection.forEachRow(
            """
            SELECT o.id, o.portfolio_id, o.venue_id, o.symbol, o.style, o.side, o.qty, o.arrival_mid, o.decision_mid,
                   o.venue_created_at, o.state, p.quote_asset, sym.base_asset, coalesce(a.creates, 0) AS creates,
                   t.filled, t.notional, t.fees_known, t.other_fees, t.fill_count, t.maker_qty, t.first_fill, t.last_fill
            FROM orders o
            JOIN portfolios p ON p.id = o.portfolio_id
            LEFT JOIN symbols sym ON sym.venue_id = o.venue_id AND sym.symbol = o.symbol
            LEFT JOIN (SELECT order_id, count(*) AS creates FROM order_attempts WHERE action = 'create'
                       GROUP BY order_id) a ON a.order_id = o.id
            CROSS JOIN LATERAL (
                SELECT coalesce(sum(f.qty), 0) AS filled, coalesce(sum(f.price * f.qty), 0) AS notional,
                       coalesce(sum(CASE WHEN f.commission_asset = p.quote_asset THEN f.commission
                                         WHEN f.commission_asset = coalesce(sym.base_asset,
                                              left(o.symbol, length(o.symbol) - length(p.quote_asset)))
                                         THEN f.commission * f.price ELSE 0 END), 0) AS fees_known,
                       count(*) FILTER (WHERE f.commission <> 0 AND f.commission_asset <> p.quote_asset
                                        AND f.commission_asset <> coalesce(sym.base_asset,
                                            left(o.symbol, length(o.symbol) - length(p.quote_asset)))) AS other_fees,
                       count(f.trade_id) AS fill_count,
                       CASE WHEN count(*) > 0 THEN coalesce(sum(f.qty) FILTER (WHERE f.is_maker), 0) END AS maker_qty,
                       min(f.executed_at) AS first_fill, max(f.executed_at) AS last_fill
                FROM fills f
                WHERE f.venue_id = o.venue_id AND f.symbol = o.symbol AND f.order_id = o.venue_order_id
            ) t
            WHERE o.created_at >= \(from) AND o.created_at < \(to) AND o.state NOT IN ('proposed', 'approved')
            ORDER BY o.id
            """, fetchSize: 4096
        ) { row in
            var order = try MeasuredOrder(row)
            if try row.decode("other_fees", as: Int.self) > 0 { order.otherFees = try otherFees(order) }
            try body(order)
        }
    }

    /// The fills of `order` whose fee was paid in a third asset (converted fill by fill).
    private func otherFees(_ order: MeasuredOrder) throws -> [TransactionCost.Execution] {
        let pair = order.pair
        return try connection.query(
            """
            SELECT f.price, f.qty, f.commission, f.commission_asset, f.executed_at
            FROM orders o JOIN fills f
              ON f.venue_id = o.venue_id AND f.symbol = o.symbol AND f.order_id = o.venue_order_id
            WHERE o.id = \(order.id) AND f.commission <> 0 AND f.commission_asset NOT IN (\(pair.base), \(pair.quote))
            """
        ).map {
            TransactionCost.Execution(
                price: try $0.decode("price"), qty: try $0.decode("qty"), commission: try $0.decode("commission"),
                commissionAsset: try $0.decode("commission_asset"), time: try $0.decode("executed_at"))
        }
    }

    private func storeRoutes(
        _ routes: [Route: [RouteStatistics.Sample]], runID: String, from: Date, to: Date, connection: Connection
    ) throws -> Int {
        try connection.execute("DELETE FROM route_measures WHERE run_id = \(runID)")
        for (route, samples) in routes.sorted(by: { $0.key < $1.key }) {
            let s = RouteStatistics.aggregate(route, samples)
            try connection.execute(
                """
                INSERT INTO route_measures (run_id, period_from, period_to, venue_id, symbol, style, orders, filled_qty,
                    filled_notional, slippage_bps_mean, slippage_bps_p50, slippage_bps_p95, fee_bps_mean, fill_ratio,
                    median_seconds_to_fill, rejects, retries)
                VALUES (\(runID), \(from), \(to), \(route.venue), \(route.symbol), \(route.style), \(s.orders),
                    \(s.filledQty), \(s.filledNotional), \(s.slippageMeanBps), \(s.slippageP50Bps), \(s.slippageP95Bps),
                    \(s.feeBps), \(s.fillRatio), \(s.medianSecondsToFill), \(s.rejects), \(s.retries))
                """)
        }
        return routes.count
    }
}

/// One child order being measured, with its execution totals.
struct MeasuredOrder {
    let id: Int64
    let portfolio: String
    let route: Route
    let pair: TradingPair
    let side: Side
    let orderedQty: ExactDecimal
    let arrivalMid: ExactDecimal
    let decisionMid: ExactDecimal?
    /// When the venue accepted the order (its clock), nil when it never said.
    let submittedAt: Date?
    var totals: TransactionCost.Totals
    /// Fills whose fee is in a third asset (their fee is not in `totals` yet).
    var otherFees: [TransactionCost.Execution] = []
    let fills: Int
    /// Quantity filled as maker: zero when every fill took liquidity, nil when there were no fills.
    let makerQty: ExactDecimal?
    let rejected: Bool
    let retries: Int

    init(_ row: Row) throws {
        id = try row.decode("id")
        portfolio = try row.decode("portfolio_id")
        let symbol: String = try row.decode("symbol")
        let quote: String = try row.decode("quote_asset")
        route = Route(venue: try row.decode("venue_id"), symbol: symbol, style: try row.decode("style"))
        let base =
            try row.decode("base_asset", as: String?.self)
            ?? (symbol.hasSuffix(quote) ? String(symbol.dropLast(quote.count)) : symbol)
        pair = TradingPair(symbol: symbol, base: base, quote: quote)
        side = (try row.decode("side", as: String.self)) == "sell" ? .sell : .buy
        orderedQty = try row.decode("qty")
        decisionMid = try row.decode("decision_mid", as: ExactDecimal?.self)
        arrivalMid = try row.decode("arrival_mid", as: ExactDecimal?.self) ?? decisionMid ?? .zero
        submittedAt = try row.decode("venue_created_at", as: Date?.self)
        totals = TransactionCost.Totals(
            filledQty: try row.decode("filled"), notional: try row.decode("notional"),
            feesQuote: try row.decode("fees_known"), firstFill: try row.decode("first_fill", as: Date?.self),
            lastFill: try row.decode("last_fill", as: Date?.self))
        fills = try row.decode("fill_count")
        makerQty = try row.decode("maker_qty", as: ExactDecimal?.self)
        rejected = (try row.decode("state", as: String.self)) == "rejected"
        retries = max(0, (try row.decode("creates", as: Int.self)) - 1)
    }

    func cost(prices: PriceHistory) throws -> TransactionCost.ChildCost {
        var totals = totals
        do {
            let venue = route.venue
            totals.feesQuote += try TransactionCost.totals(of: otherFees, pair: pair) { asset, quote, time in
                prices.mid(venue: venue, symbol: TradingPair.symbol(base: asset, quote: quote), at: time)
            }.feesQuote
        } catch {
            throw BallastError.invalidInput("order \(id): \(error)")
        }
        return TransactionCost.cost(
            side: side, orderedQty: orderedQty, arrivalMid: arrivalMid, submittedAt: submittedAt, totals: totals)
    }

    func write(_ cost: TransactionCost.ChildCost, runID: String, to copy: CopyWriter) throws {
        try copy.field(Int(id))
        try copy.field(runID)
        try copy.field(portfolio)
        try copy.field(route.venue)
        try copy.field(route.symbol)
        try copy.field(route.style)
        try copy.field(side.rawValue)
        try copy.field(orderedQty)
        try copy.field(cost.filledQty)
        try copy.field(cost.averagePrice)
        try copy.field(arrivalMid)
        try copy.field(decisionMid)
        try copy.field(cost.filledNotional)
        try copy.field(cost.feesQuote)
        try copy.field(cost.slippageBps)
        try copy.field(cost.feeBps)
        try copy.field(cost.fillRatio)
        try copy.field(cost.secondsToFirstFill)
        try copy.field(cost.secondsToLastFill)
        try copy.field(retries)
        try copy.field(rejected ? "t" : "f")
        try copy.field(fills)
        try copy.field(makerQty)
        try copy.endRow()
    }
}
