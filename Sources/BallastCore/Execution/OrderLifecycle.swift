/// The execute state machine (DESIGN.md "Orders, keys and the execute state
/// machine") as a pure function: a state and an event give the next state and
/// what the driver must do. No I/O here; the executor persists each
/// transition (track before send) and performs its actions.
///
///     proposed → approved → sending → open → partially_filled → filled
///                                   ↘ cancelled | expired | rejected
///     sending —ambiguous→ unknown —lookup→ the venue's state, or (not found) sending again, same key
public enum OrderState: String, Sendable, Hashable, Codable, CaseIterable {
    case proposed, approved, sending, open
    case partiallyFilled = "partially_filled"
    case filled, cancelled, expired, rejected, unknown

    /// Nothing more can happen to the order at the venue.
    public var isFinal: Bool { [.filled, .cancelled, .expired, .rejected].contains(self) }

    /// An order the venue may hold live.
    public var isLive: Bool { [.open, .partiallyFilled].contains(self) }
}

/// What happened to an order.
public enum OrderEvent: Sendable, Hashable {
    /// A person or the approval cap approved the batch.
    case approve
    /// The executor is about to send (the `sending` row commits before the request leaves).
    case send
    /// The venue answered with the order's status and executed quantity.
    case venueReported(VenueOrderStatus, executed: ExactDecimal, quantity: ExactDecimal)
    /// The venue definitely refused the new order (a 4xx with an error code).
    case refused
    /// No definite answer: timeout, reset, 5xx, −1006/−1007, a body we could not read.
    case ambiguous
    /// A lookup by client order id found no such order (−2013): it was never placed.
    case notFound
    /// The order was withdrawn before sending (batch cancelled or deferred).
    case withdraw
}

/// What the driver does after a transition.
public enum OrderAction: Sendable, Hashable {
    /// Send the new order with this intent's client order id.
    case sendNew
    /// Look the order up by client order id (and its fills) before anything else.
    case lookUp
    /// Fetch fills for what was executed.
    case recordFills
    /// Nothing to do.
    case none
}

/// A refused transition: the event makes no sense in this state.
public struct IllegalTransition: Error, Sendable, Hashable, CustomStringConvertible {
    public var state: OrderState
    public var event: OrderEvent
    public var description: String { "order in state \(state.rawValue) cannot take \(event)" }
}

public enum OrderLifecycle {
    public struct Transition: Sendable, Hashable {
        public var state: OrderState
        public var action: OrderAction

        public init(state: OrderState, action: OrderAction) {
            self.state = state
            self.action = action
        }
    }

    /// The next state and action, or why the event is refused.
    public static func next(_ state: OrderState, _ event: OrderEvent) -> Result<Transition, IllegalTransition> {
        func to(_ s: OrderState, _ a: OrderAction = .none) -> Result<Transition, IllegalTransition> {
            .success(Transition(state: s, action: a))
        }
        let illegal = Result<Transition, IllegalTransition>.failure(IllegalTransition(state: state, event: event))
        switch (state, event) {
        case (.proposed, .approve): return to(.approved)
        case (.proposed, .withdraw), (.approved, .withdraw): return to(.cancelled)
        case (.approved, .send): return to(.sending, .sendNew)
        case (.sending, .refused): return to(.rejected)
        case (.sending, .ambiguous), (.unknown, .ambiguous): return to(.unknown, .lookUp)
        // Only a definite "does not exist" allows sending the same key again.
        case (.unknown, .notFound): return to(.sending, .sendNew)
        case (.sending, .venueReported(let status, let executed, let quantity)),
            (.unknown, .venueReported(let status, let executed, let quantity)),
            (.open, .venueReported(let status, let executed, let quantity)),
            (.partiallyFilled, .venueReported(let status, let executed, let quantity)):
            return to(
                reported(status, executed: executed, quantity: quantity),
                executed.isPositive ? .recordFills : .none)
        // A live order whose status is unclear is looked up, never resent.
        case (.open, .ambiguous), (.partiallyFilled, .ambiguous): return to(state, .lookUp)
        // A finished order reported again as finished the same way: nothing changes (reruns are no-ops).
        // Reported differently, it is an inconsistency for the driver to surface, not to paper over.
        case (let s, .venueReported(let status, let executed, let quantity)) where s.isFinal:
            return reported(status, executed: executed, quantity: quantity) == s ? to(s) : illegal
        default: return illegal
        }
    }

    /// Our state for the venue's status.
    static func reported(_ status: VenueOrderStatus, executed: ExactDecimal, quantity: ExactDecimal) -> OrderState {
        switch status {
        case .open: return executed.isPositive ? .partiallyFilled : .open
        case .partiallyFilled: return executed >= quantity ? .filled : .partiallyFilled
        case .filled: return .filled
        case .pendingCancel: return executed.isPositive ? .partiallyFilled : .open
        case .cancelled: return .cancelled
        case .expired: return .expired
        case .rejected: return .rejected
        }
    }
}
