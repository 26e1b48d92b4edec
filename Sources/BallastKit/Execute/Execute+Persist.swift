import BallastCore
import Foundation
import Postgres
import Venues

extension Execute {
    /// Applies `event` through the pure state machine and commits the new state
    /// with its attempt record, before the driver acts on it.
    func apply(_ order: inout ChildOrder, _ event: OrderEvent, _ attempt: AttemptRecord?) throws {
        let transition: OrderLifecycle.Transition
        switch OrderLifecycle.next(order.state, event) {
        case .success(let next): transition = next
        case .failure(let illegal):
            throw BallastError.internalFailure("\(order.clientOrderId): \(illegal)")
        }
        order.state = transition.state
        try connection.withTransaction {
            try connection.execute(
                """
                UPDATE orders SET state = \(order.state.rawValue), venue_order_id = \(order.venueOrderId),
                       venue_created_at = coalesce(venue_created_at, \(order.venueCreatedAt)),
                       executed_qty = \(order.executed), cumulative_quote = \(order.cumulativeQuote),
                       last_error = \(attempt?.message), updated_at = \(clock.now())
                WHERE id = \(order.id)
                """)
            if var attempt {
                attempt.detail = attempt.detail ?? "\(event)"
                try record(order, attempt)
            }
        }
    }

    /// Appends an `order_attempts` row, naming the HTTP attempt it is about (as the venue's answer
    /// or failure named it; none for a step no request was sent for).
    func record(_ order: ChildOrder, _ attempt: AttemptRecord) throws {
        let detail = try DecisionLog.canonical(["detail": attempt.detail ?? ""])
        try connection.execute(
            """
            INSERT INTO order_attempts (order_id, http_attempt_id, action, started_at, outcome, http_status, venue_code,
                                        venue_message, state_after, detail)
            VALUES (\(order.id), \(attempt.httpAttemptId), \(attempt.action), \(clock.now()), \(attempt.outcome),
                    \(attempt.httpStatus), \(attempt.venueCode), \(attempt.message), \(order.state.rawValue),
                    \(detail)::jsonb)
            """)
    }

    /// Stores the ack's fills when they add up to what the venue says was executed; otherwise leaves it to `ensureFills`.
    func storeFills(_ fills: [Fill], of order: ChildOrder, ifTheyCover executed: ExactDecimal) throws {
        guard !fills.isEmpty, fills.map(\.qty).reduce(ExactDecimal.zero, +) == executed else { return }
        try insertFills(fills, of: order)
    }

    /// Makes the fills ledger hold every execution of `order`: when Σ stored fills is short of
    /// what the venue executed, fetches the order's trades and stores the missing ones.
    func ensureFills(_ order: ChildOrder, _ venue: any OrderVenue) async throws {
        guard order.executed.isPositive, let venueOrderId = order.venueOrderId else { return }
        let stored: ExactDecimal =
            try connection.query(
                """
                SELECT coalesce(sum(qty), 0) AS q FROM fills
                WHERE venue_id = \(order.venue) AND account_id = \(order.account) AND symbol = \(order.symbol)
                  AND order_id = \(venueOrderId)
                """
            ).first!.decode("q")
        guard stored < order.executed else { return }
        let fills: Answer<[Fill]>
        do {
            fills = try await venue.orderFills(order.symbol, orderId: venueOrderId)
        } catch {
            let failure = AttemptRecord(
                action: "fills", outcome: "failed", httpAttemptId: error.httpAttemptId, message: "\(error)")
            try record(order, failure)
            throw ExecuteDeferral(reason: "\(order.clientOrderId): fills not fetched: \(error)")
        }
        try record(
            order,
            AttemptRecord(
                action: "fills", outcome: "ok", httpAttemptId: fills.httpAttemptId,
                detail: "\(fills.value.count) trades"))
        try insertFills(fills.value, of: order)
    }

    /// Inserts fills one by one (idempotent on the venue's trade id).
    private func insertFills(_ fills: [Fill], of order: ChildOrder) throws {
        for (index, fill) in fills.enumerated() {
            if index > 0 { crash.reach("between-fills") }
            try connection.execute(
                """
                INSERT INTO fills (venue_id, account_id, symbol, trade_id, order_id, order_list_id, side, price, qty,
                                   quote_qty, commission, commission_asset, is_maker, executed_at, run_id)
                VALUES (\(order.venue), \(order.account), \(order.symbol), \(fill.tradeId), \(fill.orderId),
                        \(fill.orderListId), \(fill.side.rawValue), \(fill.price), \(fill.qty), \(fill.quoteQty),
                        \(fill.commission), \(fill.commissionAsset), \(fill.isMaker), \(fill.time), \(runID))
                ON CONFLICT DO NOTHING
                """)
        }
    }

    /// Creates the next generation of a resting leg that ended unfilled: repriced to the touch
    /// (`chase`) up to `maxChases` times, then crossing within the cap. Returns false when the leg is done.
    func chase(_ order: ChildOrder, venue: any OrderVenue, policy: RouterPolicy) async throws -> Bool {
        guard order.style == .passive || order.style == .chase, order.state != .filled else { return false }
        guard order.generation <= policy.maxChases else { return false }
        guard let rules = try rules(order.venue, order.symbol) else { return false }
        let remainder = rules.floorQuantity(order.quantity - order.executed)
        guard remainder.isPositive, remainder >= rules.minQty else { return false }
        crash.reach("mid-chase")
        let crossing = order.generation == policy.maxChases
        let anchor = order.arrivalMid ?? order.price
        let price: ExactDecimal
        if crossing {
            price = Router.capPrice(side: order.side, arrivalMid: anchor, rules: rules, capBps: policy.priceCapBps)
        } else {
            // A chase rests at the touch as the venue shows it now.
            let touch: BookTicker
            do {
                guard let ticker = try await venue.bookTickers([order.symbol]).first else {
                    throw ExecuteDeferral(reason: "\(order.venue) returned no ticker for \(order.symbol)")
                }
                touch = ticker
            } catch let error as ExecuteDeferral {
                throw error
            } catch {
                throw ExecuteDeferral(reason: "\(order.venue): ticker for the reprice: \(error)")
            }
            price = Router.repricePassive(side: order.side, ticker: touch, rules: rules)
        }
        let next = OrderIntent(
            portfolio: order.portfolio, batch: order.batch, leg: order.leg, venue: order.venue, symbol: order.symbol,
            side: order.side, generation: order.generation + 1)
        let clientOrderID = venue.clientOrderId(intentKey: next.key)
        let style: OrderStyle = crossing ? .marketableLimit : .chase
        let reason =
            crossing
            ? "unfilled after \(order.generation) reprices: crossing within the cap at \(price)"
            : "resting order unfilled after \(policy.passiveTimeoutSeconds) s: repriced at the touch"
        try connection.withTransaction {
            let inserted = try connection.query(
                """
                INSERT INTO orders (batch_id, parent, leg, generation, parent_order_id, intent_key, client_order_id,
                    portfolio_id, account_id, venue_id, symbol, side, style, order_type, time_in_force, price, qty,
                    arrival_mid, decision_mid, state, created_at, updated_at)
                VALUES (\(order.batch), \(order.parent), \(order.leg), \(next.generation), \(order.id), \(next.key),
                    \(clientOrderID), \(order.portfolio), \(order.account), \(order.venue), \(order.symbol),
                    \(order.side.rawValue), \(style.rawValue),
                    \(crossing ? OrderType.limit.rawValue : OrderType.postOnly.rawValue),
                    \(crossing ? TimeInForce.ioc.rawValue : nil), \(price), \(remainder), \(order.arrivalMid),
                    \(order.decisionMid), 'approved', \(clock.now()), \(clock.now()))
                ON CONFLICT (batch_id, leg, generation) DO NOTHING
                RETURNING id
                """
            ).first?.decode("id", as: Int64.self)
            guard let inserted else { return }
            try DecisionLog.append(
                RepricePayload(
                    kind: "reprice", reason: reason, previous: order.clientOrderId, intentKey: next.key,
                    clientOrderId: clientOrderID, generation: next.generation, style: style.rawValue,
                    quantity: remainder, limitPrice: price),
                kind: "reprice", portfolio: order.portfolio, batch: order.batch, order: inserted, at: clock.now(),
                on: connection)
        }
        return true
    }

    func rules(_ venue: String, _ symbol: String) throws -> SymbolRules? {
        try connection.query("SELECT * FROM symbols WHERE venue_id = \(venue) AND symbol = \(symbol)").first.map {
            try SymbolRules(row: $0)
        }
    }
}

struct RepricePayload: Encodable {
    var kind: String
    var reason: String
    var previous: String
    var intentKey: String
    var clientOrderId: String
    var generation: Int
    var style: String
    var quantity: ExactDecimal
    var limitPrice: ExactDecimal
}
