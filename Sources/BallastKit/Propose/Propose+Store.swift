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
            var leg = 0
            for (index, route) in proposal.routes.enumerated() {
                let trade = route.parent
                try connection.execute(
                    """
                    INSERT INTO batch_parents (batch_id, parent, portfolio_id, asset, quote, side, decided_qty,
                                               decision_mid, reason)
                    VALUES (\(batch), \(index), \(proposal.portfolio), \(trade.asset), \(trade.quote),
                            \(trade.side.rawValue), \(trade.quantity), \(trade.decisionMid), \(trade.reason))
                    """)
                var payload = basePayload(proposal, route: route, batch: batch, parent: index)
                if let deferred = route.deferred {
                    payload.kind = "deferral"
                    payload.reason = deferred
                    try DecisionLog.append(
                        payload, kind: "deferral", portfolio: proposal.portfolio, batch: batch, order: nil,
                        on: connection)
                }
                for child in route.children {
                    let intent = OrderIntent(
                        portfolio: proposal.portfolio, batch: batch, leg: leg, venue: child.venue,
                        symbol: child.symbol, side: child.side)
                    let order: Int64 = try connection.query(
                        """
                        INSERT INTO orders (batch_id, parent, leg, generation, intent_key, client_order_id,
                            portfolio_id, account_id, venue_id, symbol, side, style, order_type, time_in_force, price,
                            qty, arrival_mid, decision_mid, state)
                        VALUES (\(batch), \(index), \(leg), 0, \(intent.key), \(intent.clientOrderId),
                            \(proposal.portfolio), \(child.account), \(child.venue), \(child.symbol),
                            \(child.side.rawValue), \(child.style.rawValue), \(child.orderType.rawValue),
                            \(child.timeInForce?.rawValue), \(child.limitPrice), \(child.quantity), \(child.arrivalMid),
                            \(trade.decisionMid), 'proposed')
                        RETURNING id
                        """
                    ).first!.decode("id")
                    var record = payload
                    record.kind = "order"
                    record.leg = leg
                    record.intentKey = intent.key
                    record.clientOrderId = intent.clientOrderId
                    record.child = child
                    record.reason =
                        "\(child.venue) \(child.side.rawValue) \(child.quantity) \(child.symbol) "
                        + "\(child.style.rawValue) limit \(child.limitPrice): \(route.reason)"
                    try DecisionLog.append(
                        record, kind: "order", portfolio: proposal.portfolio, batch: batch, order: order,
                        on: connection)
                    clientIDs.append(intent.clientOrderId)
                    leg += 1
                }
            }
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
        try connection.withTransaction {
            for line in report.lines {
                try connection.execute(
                    """
                    INSERT INTO drift_measures (run_id, portfolio_id, asset, phase, value_quote, weight, target, drift, band)
                    VALUES (\(runID), \(portfolio.id), \(line.asset), 'before', \(line.value), \(line.weight),
                            \(line.target), \(line.drift), \(proposal.inputs.bands[line.asset]))
                    ON CONFLICT (run_id, portfolio_id, asset, phase) DO UPDATE
                    SET value_quote = excluded.value_quote, weight = excluded.weight, target = excluded.target,
                        drift = excluded.drift, band = excluded.band, measured_at = now()
                    """)
            }
        }
    }

    private func basePayload(_ proposal: Proposal, route: RoutingDecision, batch: Int64, parent: Int)
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
