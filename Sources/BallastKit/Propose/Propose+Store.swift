import BallastCore
import Foundation
import Postgres
import Venues

extension Propose {
    /// Proposals of a chunk, decided and encoded, ready to be written in one transaction.
    struct PreparedChunk: Sendable {
        var proposals: [Proposal]
        /// The chunk's batches, in chain order (the order of `proposals`).
        var batches: [PreparedBatch]
        /// Every portfolio's drift lines as the proposal saw them (the run's "before" phase).
        var drift: [DriftRow]
    }

    /// A batch to write. Its id is drawn before its rows are built: it is part of every intent key
    /// and decision record.
    struct PreparedBatch: Sendable {
        /// Index in the chunk's proposals.
        var proposal: Int
        var id: Int64
        /// `proposed`, `approved` (under the portfolio's approval cap) or `deferred`.
        var status: String
        var reason: String
        var rows: BatchRows
        /// The automatic approval's record (canonical text), when the notional is under the cap.
        var approvalText: String?
    }

    /// One asset's line of a portfolio's drift when it was proposed.
    struct DriftRow: Sendable {
        var portfolio: String
        var asset: String
        var value: ExactDecimal
        var weight: ExactDecimal
        var target: ExactDecimal
        var drift: ExactDecimal
        var band: Double?
    }

    /// Builds what a chunk of proposals writes: batch ids come from `drawBatchIDs(count)`, called
    /// once per chunk (count 0 when nothing trades), for the proposals that trade or defer something.
    static func prepare(
        _ proposals: [Proposal], settings: [String: PortfolioSettings], dialects: [String: VenueDialect] = [:],
        drawBatchIDs: (Int) throws -> [Int64]
    ) throws -> PreparedChunk {
        let trading = proposals.indices.filter { !proposals[$0].routes.isEmpty }
        let ids = try drawBatchIDs(trading.count)
        var chunk = PreparedChunk(proposals: proposals, batches: [], drift: [])
        for (index, id) in zip(trading, ids) {
            let proposal = proposals[index]
            let portfolio = settings[proposal.portfolio]!
            let rows = try BatchRows(proposal, batch: id, dialects: dialects)
            var status = rows.orders.isEmpty ? "deferred" : "proposed"
            let reason =
                rows.orders.isEmpty
                ? "every parent deferred: " + proposal.routes.compactMap(\.deferred).joined(separator: "; ")
                : "drift beyond band: " + proposal.plan.breached.joined(separator: ", ")
            var approvalText: String?
            if status == "proposed", portfolio.approvalCap.isPositive, proposal.notional <= portfolio.approvalCap {
                status = "approved"
                approvalText = try Approval.automaticRecord(
                    batch: id, orders: rows.orders.count, notional: proposal.notional, quote: proposal.quote,
                    cap: portfolio.approvalCap)
            }
            chunk.batches.append(
                PreparedBatch(
                    proposal: index, id: id, status: status, reason: reason, rows: rows, approvalText: approvalText))
        }
        for proposal in proposals {
            guard
                let report = try? DriftReport.compute(
                    holdings: proposal.inputs.holdings, prices: proposal.inputs.mids,
                    targets: settings[proposal.portfolio]!.targets, quote: proposal.quote)
            else { continue }
            chunk.drift += report.lines.map {
                DriftRow(
                    portfolio: proposal.portfolio, asset: $0.asset, value: $0.value, weight: $0.weight,
                    target: $0.target, drift: $0.drift, band: proposal.inputs.bands[$0.asset])
            }
        }
        return chunk
    }

    /// `count` new batch ids, ascending.
    static func drawBatchIDs(_ count: Int, on connection: Connection) throws -> [Int64] {
        guard count > 0 else { return [] }
        return try connection.query(
            "SELECT nextval('batches_id_seq') AS id FROM generate_series(1, \(count)) ORDER BY 1"
        ).map { try $0.decode("id") }
    }

    /// Writes a chunk in one transaction: its batches, their parents and child orders, the
    /// supersession of each decided portfolio's earlier batches that were never sent, the decision
    /// records (supersessions, then each batch's records and its automatic approval) in one append
    /// under the chain's lock, and, under a run, every portfolio's drift "before". The same handful
    /// of statements whatever the chunk's size. Returns the proposals with their batch, status,
    /// client order ids and the batches they superseded.
    func write(_ chunk: PreparedChunk, runID: String?, now: Date) throws -> [Proposal] {
        var proposals = chunk.proposals
        let batches = chunk.batches
        let decided = proposals.filter { $0.held == nil }
        guard !batches.isEmpty || !decided.isEmpty || (runID != nil && !chunk.drift.isEmpty) else {
            return proposals
        }
        var superseded: [Supersession] = []
        try connection.withTransaction {
            // The chain's lock first, held to the end: two proposers write one after the other, and
            // the later one's supersession sees (and supersedes) what the earlier one committed.
            try DecisionLog.lock(on: connection)
            var entries: [DecisionLog.Entry] = []
            var orderIDs: [Int64: [Int64]] = [:]
            if !batches.isEmpty {
                try connection.execute(
                    """
                    INSERT INTO batches (id, portfolio_id, run_id, status, notional, reason, approved_by, approval,
                                         approved_at, created_at)
                    SELECT b.id, b.portfolio, \(runID), b.status, b.notional, b.reason,
                           CASE WHEN b.automatic THEN \(Approval.capApprover) END,
                           CASE WHEN b.automatic THEN 'automatic' END,
                           CASE WHEN b.automatic THEN \(now)::timestamptz END, \(now)::timestamptz
                    FROM unnest(\(batches.map(\.id))::bigint[], \(batches.map { proposals[$0.proposal].portfolio })::text[],
                                \(batches.map(\.status))::text[], \(batches.map { proposals[$0.proposal].notional })::numeric[],
                                \(batches.map(\.reason))::text[], \(batches.map { $0.approvalText != nil })::bool[])
                         AS b(id, portfolio, status, notional, reason, automatic)
                    """)
                orderIDs = try insertParentsAndOrders(batches, proposals: proposals, now: now)
            }
            if !decided.isEmpty {
                var replacement: [String: Int64] = [:]
                for batch in batches { replacement[proposals[batch.proposal].portfolio] = batch.id }
                superseded = try supersede(decided.map(\.portfolio), replacedBy: replacement)
                entries += try superseded.map { old in
                    DecisionLog.Entry(
                        kind: "supersession", portfolio: old.portfolio, batch: old.batch, order: nil,
                        payloadText: try DecisionLog.canonical(old), at: now)
                }
            }
            for batch in batches {
                let portfolio = proposals[batch.proposal].portfolio
                for record in batch.rows.records {
                    entries.append(
                        DecisionLog.Entry(
                            kind: record.kind, portfolio: portfolio, batch: batch.id,
                            order: record.leg.map { orderIDs[batch.id]![$0] }, payloadText: record.text, at: now))
                }
                if let approval = batch.approvalText {
                    entries.append(
                        DecisionLog.Entry(
                            kind: "approval", portfolio: portfolio, batch: batch.id, order: nil, payloadText: approval,
                            at: now))
                }
            }
            try DecisionLog.append(entries, on: connection)
            if let runID, !chunk.drift.isEmpty { try insertDriftBefore(chunk.drift, runID: runID) }
        }
        for batch in batches {
            proposals[batch.proposal].batchID = batch.id
            proposals[batch.proposal].status = batch.status
            proposals[batch.proposal].clientOrderIDs = batch.rows.orders.map(\.clientOrderId)
        }
        let byPortfolio = Dictionary(grouping: superseded, by: \.portfolio)
        for index in proposals.indices {
            proposals[index].superseded = byPortfolio[proposals[index].portfolio]?.map(\.batch).sorted() ?? []
        }
        return proposals
    }

    /// An earlier batch a proposal replaced, as its decision record holds it.
    struct Supersession: Encodable {
        var kind = "supersession"
        var portfolio: String
        var batch: Int64
        var supersededBy: Int64?
        var reason: String
    }

    /// Marks the portfolios' batches that were never sent (`proposed` or `approved`, every order still
    /// unsent) `superseded`, each by the portfolio's new batch when it has one. Refuses, so that the
    /// chunk rolls back, when one of the portfolios has a batch that started executing meanwhile: its
    /// orders are not in the balances this proposal saw.
    private func supersede(_ portfolios: [String], replacedBy replacement: [String: Int64]) throws
        -> [Supersession]
    {
        let rows = try connection.query(
            """
            UPDATE batches b
            SET status = 'superseded', superseded_by = n.new_id, finished_at = now(),
                reason = CASE WHEN n.new_id IS NULL THEN 'superseded: a later proposal found nothing to trade'
                              ELSE 'superseded by batch ' || n.new_id END
            FROM unnest(\(portfolios)::text[], \(portfolios.map { replacement[$0] })::bigint[]) AS n(portfolio, new_id)
            WHERE b.portfolio_id = n.portfolio AND b.status IN ('proposed', 'approved')
              AND b.id IS DISTINCT FROM n.new_id
              AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.batch_id = b.id AND o.state NOT IN ('proposed', 'approved'))
            RETURNING b.id, b.portfolio_id, n.new_id, b.reason
            """)
        if let started = try connection.query(
            """
            SELECT id, portfolio_id FROM batches
            WHERE portfolio_id = ANY(\(portfolios)::text[]) AND status = 'executing' LIMIT 1
            """
        ).first {
            throw BallastError.busy(
                "batch \(try started.decode("id", as: Int64.self)) of portfolio "
                    + "'\(try started.decode("portfolio_id", as: String.self))' started executing while this "
                    + "proposal was being written; nothing of this chunk was stored: propose again when it finishes")
        }
        return try rows.map { row in
            Supersession(
                portfolio: try row.decode("portfolio_id"), batch: try row.decode("id"),
                supersededBy: try row.decode("new_id"), reason: try row.decode("reason"))
        }.sorted { $0.batch < $1.batch }
    }

    /// The drift the proposals saw, stored as the run's "before" phase (the measure step stores "after").
    private func insertDriftBefore(_ lines: [DriftRow], runID: String) throws {
        try connection.execute(
            """
            INSERT INTO drift_measures (run_id, portfolio_id, asset, phase, value_quote, weight, target, drift, band)
            SELECT \(runID), l.portfolio, l.asset, 'before', l.value, l.weight, l.target, l.drift, l.band
            FROM unnest(\(lines.map(\.portfolio))::text[], \(lines.map(\.asset))::text[],
                        \(lines.map(\.value))::numeric[], \(lines.map(\.weight))::numeric[],
                        \(lines.map(\.target))::numeric[], \(lines.map(\.drift))::numeric[],
                        \(lines.map(\.band))::float8[])
                 AS l(portfolio, asset, value, weight, target, drift, band)
            ON CONFLICT (run_id, portfolio_id, asset, phase) DO UPDATE
            SET value_quote = excluded.value_quote, weight = excluded.weight, target = excluded.target,
                drift = excluded.drift, band = excluded.band, measured_at = now()
            """)
    }

    /// A batch's parents, child orders and decision records, built before anything is written.
    struct BatchRows: Sendable {
        var parents: [ParentTrade] = []
        /// In leg order: the leg is the index.
        var orders: [Order] = []
        /// In chain order: per parent its deferral, or one record per child order (by leg).
        var records: [(kind: String, leg: Int?, text: String)] = []

        /// A child order as it is inserted.
        struct Order: Sendable {
            var parent: Int
            var intentKey: String
            var clientOrderId: String
            var child: ChildPlan
            var decisionMid: ExactDecimal
        }

        /// Builds the rows and encodes the records. A record holds (keys in canonical order): balances,
        /// band, bandBasis, bandInputs, batch, books, candidates, child, clientOrderId, drift, intentKey,
        /// kind, leg, mids, parent, planInputs, portfolio, reason, routeInputs, sigma, snapshots, split,
        /// trade, venueHealth (the *Inputs members are what `audit recompute` redoes the decision from). What a
        /// portfolio's records share is encoded once, and what a parent's share once per parent.
        init(_ proposal: Proposal, batch: Int64, dialects: [String: VenueDialect] = [:]) throws {
            let inputs = proposal.inputs
            var portfolioMembers = CanonicalObject()
            try portfolioMembers.set("portfolio", proposal.portfolio)
            try portfolioMembers.set("batch", batch)
            try portfolioMembers.set("snapshots", inputs.snapshots)
            try portfolioMembers.set("balances", inputs.free)
            try portfolioMembers.set("mids", inputs.mids)
            try portfolioMembers.set("venueHealth", inputs.health)
            try portfolioMembers.set("planInputs", proposal.planInputs)
            for (index, route) in proposal.routes.enumerated() {
                let trade = route.parent
                let asset = trade.asset
                parents.append(trade)
                var parentMembers = portfolioMembers
                try parentMembers.set("parent", index)
                try parentMembers.set("trade", trade)
                try parentMembers.set("drift", proposal.plan.drift[asset])
                try parentMembers.set("band", inputs.bands[asset])
                try parentMembers.set("bandBasis", inputs.bandBasis[asset])
                try parentMembers.set("sigma", inputs.volatility[asset])
                try parentMembers.set("candidates", route.candidates)
                try parentMembers.set("split", route.children)
                try parentMembers.set("books", inputs.books[trade.symbol] ?? [:])
                try parentMembers.set("bandInputs", inputs.bandInputs[asset])
                try parentMembers.set(
                    "routeInputs", proposal.routeInputs.indices.contains(index) ? proposal.routeInputs[index] : nil)
                if let deferred = route.deferred {
                    var record = parentMembers
                    try record.set("kind", "deferral")
                    try record.set("reason", deferred)
                    records.append(("deferral", nil, record.text))
                }
                for child in route.children {
                    let leg = orders.count
                    let intent = OrderIntent(
                        portfolio: proposal.portfolio, batch: batch, leg: leg, venue: child.venue,
                        symbol: child.symbol, side: child.side)
                    let order = Order(
                        parent: index, intentKey: intent.key,
                        clientOrderId: dialects[child.venue]?.clientOrderId(intent.key) ?? intent.clientOrderId,
                        child: child,
                        decisionMid: trade.decisionMid)
                    orders.append(order)
                    var record = parentMembers
                    try record.set("kind", "order")
                    try record.set("leg", leg)
                    try record.set("intentKey", order.intentKey)
                    try record.set("clientOrderId", order.clientOrderId)
                    try record.set("child", child)
                    try record.set(
                        "reason",
                        "\(child.venue) \(child.side.rawValue) \(child.quantity) \(child.symbol) "
                            + "\(child.style.rawValue) limit \(child.limitPrice): \(route.reason)")
                    records.append(("order", leg, record.text))
                }
            }
        }
    }

    /// Inserts the batches' parents and child orders in one statement; returns the order ids per
    /// batch, by leg. An automatically approved batch's orders go in `approved`.
    private func insertParentsAndOrders(_ batches: [PreparedBatch], proposals: [Proposal], now: Date) throws
        -> [Int64: [Int64]]
    {
        var parents: [(batch: Int64, portfolio: String, parent: Int, trade: ParentTrade)] = []
        var orders: [(batch: Int64, portfolio: String, leg: Int, state: String, order: BatchRows.Order)] = []
        for batch in batches {
            let portfolio = proposals[batch.proposal].portfolio
            for (index, trade) in batch.rows.parents.enumerated() {
                parents.append((batch.id, portfolio, index, trade))
            }
            let state = batch.approvalText == nil ? "proposed" : "approved"
            for (leg, order) in batch.rows.orders.enumerated() {
                orders.append((batch.id, portfolio, leg, state, order))
            }
        }
        let placed = try connection.query(
            """
            WITH parents AS (
                INSERT INTO batch_parents (batch_id, parent, portfolio_id, asset, quote, side, decided_qty,
                                           decision_mid, reason)
                SELECT p.batch_id, p.parent, p.portfolio_id, p.asset, p.quote, p.side, p.decided_qty, p.decision_mid,
                       p.reason
                FROM unnest(\(parents.map(\.batch))::bigint[], \(parents.map(\.parent))::int[],
                            \(parents.map(\.portfolio))::text[], \(parents.map(\.trade.asset))::text[],
                            \(parents.map(\.trade.quote))::text[], \(parents.map(\.trade.side.rawValue))::text[],
                            \(parents.map(\.trade.quantity))::numeric[], \(parents.map(\.trade.decisionMid))::numeric[],
                            \(parents.map(\.trade.reason))::text[])
                     AS p(batch_id, parent, portfolio_id, asset, quote, side, decided_qty, decision_mid, reason))
            INSERT INTO orders (batch_id, parent, leg, generation, intent_key, client_order_id, portfolio_id,
                account_id, venue_id, symbol, side, style, order_type, time_in_force, price, qty, arrival_mid,
                decision_mid, state, created_at, updated_at)
            SELECT o.batch_id, o.parent, o.leg, 0, o.intent_key, o.client_order_id, o.portfolio_id, o.account_id,
                   o.venue_id, o.symbol, o.side, o.style, o.order_type, o.time_in_force, o.price, o.qty,
                   o.arrival_mid, o.decision_mid, o.state, \(now)::timestamptz, \(now)::timestamptz
            FROM unnest(\(orders.map(\.batch))::bigint[], \(orders.map(\.order.parent))::int[],
                        \(orders.map(\.leg))::int[], \(orders.map(\.order.intentKey))::text[],
                        \(orders.map(\.order.clientOrderId))::text[], \(orders.map(\.portfolio))::text[],
                        \(orders.map(\.order.child.account))::text[], \(orders.map(\.order.child.venue))::text[],
                        \(orders.map(\.order.child.symbol))::text[], \(orders.map(\.order.child.side.rawValue))::text[],
                        \(orders.map(\.order.child.style.rawValue))::text[],
                        \(orders.map(\.order.child.orderType.rawValue))::text[],
                        \(orders.map(\.order.child.timeInForce?.rawValue))::text[],
                        \(orders.map(\.order.child.limitPrice))::numeric[], \(orders.map(\.order.child.quantity))::numeric[],
                        \(orders.map(\.order.child.arrivalMid))::numeric[], \(orders.map(\.order.decisionMid))::numeric[],
                        \(orders.map(\.state))::text[])
                 WITH ORDINALITY AS o(batch_id, parent, leg, intent_key, client_order_id, portfolio_id, account_id,
                      venue_id, symbol, side, style, order_type, time_in_force, price, qty, arrival_mid, decision_mid,
                      state, n)
            ORDER BY o.n
            RETURNING id, batch_id, leg
            """)
        var ids: [Int64: [Int64]] = [:]
        for batch in batches { ids[batch.id] = [Int64](repeating: 0, count: batch.rows.orders.count) }
        for row in placed {
            ids[try row.decode("batch_id", as: Int64.self)]![try row.decode("leg", as: Int.self)] = try row.decode("id")
        }
        return ids
    }
}
