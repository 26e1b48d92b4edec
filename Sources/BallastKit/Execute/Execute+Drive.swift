import BallastCore
import Foundation
import Postgres
import Venues

extension Execute {
    /// Drives one leg until its latest generation is final (chasing where the policy says) or it must wait.
    func drive(batch: Int64, leg: Int, policy: RouterPolicy, summary: inout Summary) async throws {
        var unresolvedLookups = 0
        var steps = 0
        while true {
            steps += 1
            guard steps <= Self.maxSteps else {
                throw ExecuteDeferral(reason: "leg \(leg) made no progress in \(Self.maxSteps) steps")
            }
            var order = try ChildOrder.latest(batch: batch, leg: leg, on: connection)
            guard let venue = venues[order.venue] else {
                throw ExecuteDeferral(reason: "no client configured for venue '\(order.venue)'")
            }
            switch order.state {
            case .proposed:
                throw BallastError.internalFailure("order \(order.clientOrderId) is proposed in an approved batch")
            case .approved:
                try apply(&order, .send, nil)
                crash.reach("before-send")
                if checkFirst == .always || ambiguity.rerun {
                    // It may have left before, unrecorded: an earlier executor died no later than this
                    // one started. Looked up (and resent only under the resend rule) like any ambiguity.
                    ambiguity.note(order.id, at: startedAt)
                    try apply(
                        &order, .ambiguous,
                        AttemptRecord(
                            action: "query", outcome: "check_first",
                            detail: checkFirst == .always
                                ? "the database may lose recent commits: looked up before the first send"
                                : "rerun of a started batch: looked up before the first send"))
                    continue
                }
                try await place(&order, venue, summary: &summary)
            case .sending:
                // Found on a rerun: the request may or may not have left (no later than this executor started).
                ambiguity.note(order.id, at: startedAt)
                try apply(
                    &order, .ambiguous, AttemptRecord(action: "query", outcome: "resumed", detail: "found in sending"))
            case .unknown:
                unresolvedLookups += 1
                guard unresolvedLookups <= Self.maxLookups else {
                    throw ExecuteDeferral(
                        reason:
                            "\(order.clientOrderId) at \(order.venue): still unknown after \(Self.maxLookups) lookups")
                }
                summary.lookups += 1
                try await lookUp(&order, venue, summary: &summary)
            case .open, .partiallyFilled:
                if order.rests {
                    try await rest(&order, venue, policy: policy, summary: &summary)
                } else {
                    summary.lookups += 1
                    try await lookUp(&order, venue, summary: &summary)
                }
            case .filled, .cancelled, .expired, .rejected:
                try await ensureFills(order, venue)
                guard try await chase(order, venue: venue, policy: policy) else { return }
                summary.chases += 1
            }
        }
    }

    /// Lookups in a row that may end ambiguous before the leg is left for a rerun.
    static let maxLookups = 5
    /// Steps one leg may take in one run (every generation's send, lookups, waits) before it is left for a rerun.
    static let maxSteps = 100

    /// Sends the order (state `sending`, committed) and records what the venue said.
    func place(_ order: inout ChildOrder, _ venue: any OrderVenue, summary: inout Summary) async throws {
        summary.sent += 1
        ambiguity.forget(order.id)
        let ack: OrderAck
        do {
            ack = try await venue.placeOrder(order.request)
        } catch {
            // The request left no later than now, if it left at all.
            ambiguity.note(order.id, at: clock.now())
            try failed(&order, error, action: "create")
            return
        }
        crash.reach("after-send")
        try report(
            &order, ack.order,
            AttemptRecord(action: "create", outcome: "accepted", httpAttemptId: ack.httpAttemptId, httpStatus: 200))
        try storeFills(ack.fills, of: order, ifTheyCover: ack.order.executedQty)
    }

    /// Asks the venue for the order by client order id; resends the same key only if it does not
    /// exist and a request still in flight could no longer execute. Before that time, waits for
    /// it (on the clock) and leaves the order `unknown`, so the driver looks it up once more.
    func lookUp(_ order: inout ChildOrder, _ venue: any OrderVenue, summary: inout Summary) async throws {
        let lookup: Answer<VenueOrder?>
        do {
            lookup = try await venue.queryOrder(order.symbol, clientOrderId: order.clientOrderId)
        } catch {
            try failed(&order, error, action: "query")
            return
        }
        crash.reach("after-lookup")
        let safe = venue.inFlightRequestsExpire(sentBy: ambiguity.inFlightSince(order.id, fallback: startedAt))
        if let found = lookup.value {
            try report(
                &order, found,
                AttemptRecord(action: "query", outcome: "found", httpAttemptId: lookup.httpAttemptId, httpStatus: 200))
        } else if resendGuard, clock.now() < safe {
            let wait = safe.timeIntervalSince(clock.now())
            try record(
                order,
                AttemptRecord(
                    action: "query", outcome: "not_found_yet", httpAttemptId: lookup.httpAttemptId, venueCode: -2013,
                    detail: String(
                        format: "not found, but a request in flight could still execute: looking again in %.3f s",
                        wait)))
            try await clock.sleep(for: .milliseconds(Int64((wait * 1000).rounded(.up))))
        } else {
            try apply(
                &order, .notFound,
                AttemptRecord(
                    action: "query", outcome: "not_found", httpAttemptId: lookup.httpAttemptId, venueCode: -2013,
                    message: "Order does not exist."))
            try await place(&order, venue, summary: &summary)
        }
    }

    /// Waits for a resting order to fill; past the policy's timeout, cancels it (to be repriced).
    func rest(_ order: inout ChildOrder, _ venue: any OrderVenue, policy: RouterPolicy, summary: inout Summary)
        async throws
    {
        let sentAt =
            try connection.query(
                "SELECT min(started_at) AS t FROM order_attempts WHERE order_id = \(order.id) AND action = 'create'"
            ).first?.decode("t", as: Date?.self) ?? clock.now()
        let deadline = sentAt.addingTimeInterval(policy.passiveTimeoutSeconds)
        let interval = max(pollInterval, .milliseconds(Int64(policy.passiveTimeoutSeconds * 100)))
        while clock.now() < deadline {
            let left = Duration.milliseconds(Int64(max(0, deadline.timeIntervalSince(clock.now())) * 1000))
            try await clock.sleep(for: min(interval, left + .milliseconds(1)))
            let lookup: Answer<VenueOrder?>
            do { lookup = try await venue.queryOrder(order.symbol, clientOrderId: order.clientOrderId) } catch {
                try failed(&order, error, action: "query")
                return
            }
            guard let seen = lookup.value else {
                try apply(
                    &order, .ambiguous,
                    AttemptRecord(
                        action: "query", outcome: "not_found", httpAttemptId: lookup.httpAttemptId, venueCode: -2013))
                return
            }
            if seen.status.isOpen && seen.executedQty == order.executed { continue }
            try report(
                &order, seen,
                AttemptRecord(action: "query", outcome: "found", httpAttemptId: lookup.httpAttemptId, httpStatus: 200))
            if order.state.isFinal { return }
        }
        let cancel: Answer<VenueOrder?>
        do { cancel = try await venue.cancelOrder(order.symbol, clientOrderId: order.clientOrderId) } catch {
            try failed(&order, error, action: "cancel")
            return
        }
        crash.reach("after-cancel")
        if let cancelled = cancel.value {
            try report(
                &order, cancelled,
                AttemptRecord(
                    action: "cancel", outcome: "cancelled", httpAttemptId: cancel.httpAttemptId, httpStatus: 200))
        } else {
            // Not cancellable: it finished meanwhile. The lookup says how.
            try apply(
                &order, .ambiguous,
                AttemptRecord(
                    action: "cancel", outcome: "unknown_order", httpAttemptId: cancel.httpAttemptId, venueCode: -2011))
            try await lookUp(&order, venue, summary: &summary)
        }
    }

    /// Applies the venue's view of the order.
    func report(_ order: inout ChildOrder, _ seen: VenueOrder, _ attempt: AttemptRecord) throws {
        order.venueOrderId = seen.orderId
        // The venue's own acceptance time (an answer without one decodes as the epoch).
        if order.venueCreatedAt == nil, seen.time.timeIntervalSince1970 > 0 { order.venueCreatedAt = seen.time }
        order.cumulativeQuote = seen.cumulativeQuoteQty
        let event = OrderEvent.venueReported(seen.status, executed: seen.executedQty, quantity: order.quantity)
        var attempt = attempt
        attempt.detail = "status \(seen.status.rawValue), executed \(seen.executedQty)"
        order.executed = seen.executedQty
        try apply(&order, event, attempt)
    }

    /// What a failed request means for the order: refused, ambiguous, or not sent (defer the leg).
    /// The row names the HTTP attempt the failure came in, where there was one.
    func failed(_ order: inout ChildOrder, _ error: VenueError, action: String) throws {
        let http = error.httpAttemptId
        switch error {
        case .rejected(_, _, let status, let code, let message, _) where action == "create":
            try apply(
                &order, .refused,
                AttemptRecord(
                    action: action, outcome: "rejected", httpAttemptId: http, httpStatus: status, venueCode: code,
                    message: message))
        case .outcomeUnknown, .malformed, .rejected:
            try apply(
                &order, .ambiguous,
                AttemptRecord(action: action, outcome: "ambiguous", httpAttemptId: http, message: "\(error)"))
        case .notRecorded(_, _, let detail):
            // The database failed under the request's own record: nothing more can be written.
            throw BallastError.database(
                "\(order.clientOrderId) at \(order.venue) not sent: \(error)",
                PostgresError(code: .connectionFailed, message: detail))
        case .banned, .throttled, .unreachable, .missingCredentials:
            try record(
                order, AttemptRecord(action: action, outcome: "not_sent", httpAttemptId: http, message: "\(error)"))
            throw ExecuteDeferral(reason: "\(order.clientOrderId) at \(order.venue): \(error)")
        }
    }
}
