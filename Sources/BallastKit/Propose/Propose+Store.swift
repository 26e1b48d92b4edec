import BallastCore
import Foundation
import Postgres

/// One decision record's payload: what the decision saw, what it compared and what it chose.
struct OrderDecisionPayload: Encodable {
    var kind: String
    var reason: String
    var portfolio: String
    var batch: Int64
    var parent: Int
    var leg: Int?
    var intentKey: String?
    var clientOrderId: String?
    var trade: ParentTrade
    var drift: Double?
    var band: Double?
    var bandBasis: String?
    var sigma: Double?
    var snapshots: [String: Int64]
    var balances: [String: [String: ExactDecimal]]
    var mids: [String: ExactDecimal]
    var venueHealth: [String: VenueHealth]
    var candidates: [RouteCost]
    var split: [ChildPlan]
    var child: ChildPlan?
    /// Book ticker and depth snapshot ids per venue for the traded symbol.
    var books: [String: DecisionInputs.BookIDs]
}

extension Propose {
    /// Writes the batch, its parents, child orders and decision records in one transaction.
    /// Nothing is stored when no asset breached its band.
    ///
    /// The same handful of statements whatever the batch's size: the batch (its id is part of every
    /// intent key and record), its parents and orders together, then its decision records in one
    /// append under the chain's lock (`DecisionLog.append(_:on:)`).
    func store(_ proposal: inout Proposal, portfolio: PortfolioSettings, runID: String?) throws {
        guard !proposal.routes.isEmpty else { return }
        let children = proposal.routes.flatMap(\.children)
        let status = children.isEmpty ? "deferred" : "proposed"
        let reason =
            children.isEmpty
            ? "every parent deferred: " + proposal.routes.compactMap(\.deferred).joined(separator: "; ")
            : "drift beyond band: " + proposal.plan.breached.joined(separator: ", ")
        var clientIDs: [String] = []
        let batch: Int64 = try connection.withTransaction {
            let batch: Int64 = try connection.query(
                """
                INSERT INTO batches (portfolio_id, run_id, status, notional, reason)
                VALUES (\(proposal.portfolio), \(runID), \(status), \(proposal.notional), \(reason)) RETURNING id
                """
            ).first!.decode("id")
            let rows = try BatchRows(proposal, batch: batch)
            let orderIDs = try insert(rows, batch: batch, portfolio: proposal.portfolio)
            try DecisionLog.append(
                rows.records.map {
                    DecisionLog.Entry(
                        kind: $0.kind, portfolio: proposal.portfolio, batch: batch, order: $0.leg.map { orderIDs[$0] },
                        payloadText: $0.text)
                }, on: connection)
            clientIDs = rows.orders.map(\.clientOrderId)
            return batch
        }
        proposal.batchID = batch
        proposal.status = status
        proposal.clientOrderIDs = clientIDs
        if status == "proposed", portfolio.approvalCap.isPositive, proposal.notional <= portfolio.approvalCap {
            try Approval(connection: connection).approve(
                batch: batch, by: "approval_cap", automatic: true,
                reason: "notional \(proposal.notional) \(proposal.quote) ≤ approval cap \(portfolio.approvalCap)")
            proposal.status = "approved"
        }
    }

    /// The drift the proposal saw, stored as the run's "before" phase (the measure step stores "after").
    func storeDriftBefore(_ proposal: Proposal, portfolio: PortfolioSettings, runID: String) throws {
        let report: DriftReport
        do {
            report = try DriftReport.compute(
                holdings: proposal.inputs.holdings, prices: proposal.inputs.mids, targets: portfolio.targets,
                quote: portfolio.quote)
        } catch { return }
        let lines = report.lines
        // One statement for the portfolio's lines: this runs for every portfolio of every run.
        try connection.execute(
            """
            INSERT INTO drift_measures (run_id, portfolio_id, asset, phase, value_quote, weight, target, drift, band)
            SELECT \(runID), \(portfolio.id), l.asset, 'before', l.value, l.weight, l.target, l.drift, l.band
            FROM unnest(\(lines.map(\.asset))::text[], \(lines.map(\.value))::numeric[],
                        \(lines.map(\.weight))::numeric[], \(lines.map(\.target))::numeric[],
                        \(lines.map(\.drift))::numeric[], \(lines.map { proposal.inputs.bands[$0.asset] })::float8[])
                 AS l(asset, value, weight, target, drift, band)
            ON CONFLICT (run_id, portfolio_id, asset, phase) DO UPDATE
            SET value_quote = excluded.value_quote, weight = excluded.weight, target = excluded.target,
                drift = excluded.drift, band = excluded.band, measured_at = now()
            """)
    }

    /// A batch's parents, child orders and decision records, built before anything is written.
    struct BatchRows {
        var parents: [ParentTrade] = []
        /// In leg order: the leg is the index.
        var orders: [Order] = []
        /// In chain order: per parent its deferral, or one record per child order (by leg).
        var records: [(kind: String, leg: Int?, text: String)] = []

        /// A child order as it is inserted.
        struct Order {
            var parent: Int
            var intentKey: String
            var clientOrderId: String
            var child: ChildPlan
            var decisionMid: ExactDecimal
        }

        init(_ proposal: Proposal, batch: Int64) throws {
            for (index, route) in proposal.routes.enumerated() {
                let trade = route.parent
                parents.append(trade)
                var payload = Self.basePayload(proposal, route: route, batch: batch, parent: index)
                if let deferred = route.deferred {
                    payload.kind = "deferral"
                    payload.reason = deferred
                    records.append(("deferral", nil, try DecisionLog.canonical(payload)))
                }
                for child in route.children {
                    let leg = orders.count
                    let intent = OrderIntent(
                        portfolio: proposal.portfolio, batch: batch, leg: leg, venue: child.venue,
                        symbol: child.symbol, side: child.side)
                    let order = Order(
                        parent: index, intentKey: intent.key, clientOrderId: intent.clientOrderId, child: child,
                        decisionMid: trade.decisionMid)
                    orders.append(order)
                    var record = payload
                    record.kind = "order"
                    record.leg = leg
                    record.intentKey = order.intentKey
                    record.clientOrderId = order.clientOrderId
                    record.child = child
                    record.reason =
                        "\(child.venue) \(child.side.rawValue) \(child.quantity) \(child.symbol) "
                        + "\(child.style.rawValue) limit \(child.limitPrice): \(route.reason)"
                    records.append(("order", leg, try DecisionLog.canonical(record)))
                }
            }
        }

        /// What every record of a parent shares: the inputs the decision saw, its candidates and split.
        static func basePayload(_ proposal: Proposal, route: RoutingDecision, batch: Int64, parent: Int)
            -> OrderDecisionPayload
        {
            let asset = route.parent.asset
            return OrderDecisionPayload(
                kind: "order", reason: route.reason, portfolio: proposal.portfolio, batch: batch, parent: parent,
                trade: route.parent, drift: proposal.plan.drift[asset], band: proposal.inputs.bands[asset],
                bandBasis: proposal.inputs.bandBasis[asset], sigma: proposal.inputs.volatility[asset],
                snapshots: proposal.inputs.snapshots, balances: proposal.inputs.free, mids: proposal.inputs.mids,
                venueHealth: proposal.inputs.health, candidates: route.candidates, split: route.children,
                books: proposal.inputs.books[route.parent.asset + route.parent.quote] ?? [:])
        }
    }

    /// Inserts the parents and the child orders (in leg order) in one statement; returns the order ids by leg.
    private func insert(_ rows: BatchRows, batch: Int64, portfolio: String) throws -> [Int64] {
        let parents = rows.parents
        let orders = rows.orders
        let placed = try connection.query(
            """
            WITH parents AS (
                INSERT INTO batch_parents (batch_id, parent, portfolio_id, asset, quote, side, decided_qty,
                                           decision_mid, reason)
                SELECT \(batch), p.parent, \(portfolio), p.asset, p.quote, p.side, p.decided_qty, p.decision_mid,
                       p.reason
                FROM unnest(\(Array(parents.indices))::int[], \(parents.map(\.asset))::text[],
                            \(parents.map(\.quote))::text[], \(parents.map(\.side.rawValue))::text[],
                            \(parents.map(\.quantity))::numeric[], \(parents.map(\.decisionMid))::numeric[],
                            \(parents.map(\.reason))::text[])
                     AS p(parent, asset, quote, side, decided_qty, decision_mid, reason))
            INSERT INTO orders (batch_id, parent, leg, generation, intent_key, client_order_id, portfolio_id,
                account_id, venue_id, symbol, side, style, order_type, time_in_force, price, qty, arrival_mid,
                decision_mid, state)
            SELECT \(batch), o.parent, o.leg, 0, o.intent_key, o.client_order_id, \(portfolio), o.account_id,
                   o.venue_id, o.symbol, o.side, o.style, o.order_type, o.time_in_force, o.price, o.qty,
                   o.arrival_mid, o.decision_mid, 'proposed'
            FROM unnest(\(orders.map(\.parent))::int[], \(Array(orders.indices))::int[],
                        \(orders.map(\.intentKey))::text[], \(orders.map(\.clientOrderId))::text[],
                        \(orders.map(\.child.account))::text[], \(orders.map(\.child.venue))::text[],
                        \(orders.map(\.child.symbol))::text[], \(orders.map(\.child.side.rawValue))::text[],
                        \(orders.map(\.child.style.rawValue))::text[], \(orders.map(\.child.orderType.rawValue))::text[],
                        \(orders.map(\.child.timeInForce?.rawValue))::text[], \(orders.map(\.child.limitPrice))::numeric[],
                        \(orders.map(\.child.quantity))::numeric[], \(orders.map(\.child.arrivalMid))::numeric[],
                        \(orders.map(\.decisionMid))::numeric[])
                 AS o(parent, leg, intent_key, client_order_id, account_id, venue_id, symbol, side, style, order_type,
                      time_in_force, price, qty, arrival_mid, decision_mid)
            ORDER BY o.leg
            RETURNING id, leg
            """)
        var ids = [Int64](repeating: 0, count: orders.count)
        for row in placed { ids[try row.decode("leg", as: Int.self)] = try row.decode("id") }
        return ids
    }
}
