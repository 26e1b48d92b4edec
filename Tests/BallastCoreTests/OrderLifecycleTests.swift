import BallastCore
import Testing

@Suite struct OrderLifecycleTests {
    static let qty = ExactDecimal("1")!
    static let half = ExactDecimal("0.5")!

    /// Every event kind, with representative venue reports.
    static let events: [OrderEvent] =
        [.approve, .send, .refused, .ambiguous, .notFound, .withdraw]
        + VenueOrderStatus.allCases.flatMap { status in
            [ExactDecimal.zero, half, qty].map { OrderEvent.venueReported(status, executed: $0, quantity: qty) }
        }

    @Test func everyStateAndEventHasADefinedOutcome() {
        var legal = 0
        var refused = 0
        for state in OrderState.allCases {
            for event in Self.events {
                switch OrderLifecycle.next(state, event) {
                case .success(let t):
                    legal += 1
                    // A new order is only ever sent from approved, or from unknown after "not found".
                    if t.action == .sendNew {
                        #expect(t.state == .sending)
                        #expect(
                            (state == .approved && event == .send) || (state == .unknown && event == .notFound),
                            "\(state) + \(event) sends")
                    }
                    // A finished order stays finished, as it was.
                    if state.isFinal { #expect(t.state == state, "\(state) + \(event) → \(t.state)") }
                case .failure(let error):
                    refused += 1
                    #expect(error.state == state)
                }
            }
        }
        #expect(legal + refused == OrderState.allCases.count * Self.events.count)
        #expect(legal > 40 && refused > 40)
    }

    @Test func theHappyPath() throws {
        var state = OrderState.proposed
        for (event, expected) in [
            (OrderEvent.approve, OrderState.approved), (.send, .sending),
            (.venueReported(.open, executed: .zero, quantity: Self.qty), .open),
            (.venueReported(.partiallyFilled, executed: Self.half, quantity: Self.qty), .partiallyFilled),
            (.venueReported(.filled, executed: Self.qty, quantity: Self.qty), .filled),
        ] {
            state = try OrderLifecycle.next(state, event).get().state
            #expect(state == expected)
        }
        // A rerun that sees the same filled order changes nothing and sends nothing.
        let again = try OrderLifecycle.next(.filled, .venueReported(.filled, executed: Self.qty, quantity: Self.qty))
            .get()
        #expect(again == .init(state: .filled, action: .none))
    }

    @Test func anAmbiguousOutcomeIsLookedUpNeverBlindlyResent() throws {
        let lost = try OrderLifecycle.next(.sending, .ambiguous).get()
        #expect(lost == .init(state: .unknown, action: .lookUp))
        // Still unclear: look up again, do not send.
        #expect(try OrderLifecycle.next(.unknown, .ambiguous).get() == .init(state: .unknown, action: .lookUp))
        #expect(throws: IllegalTransition.self) { try OrderLifecycle.next(.unknown, .send).get() }
        // The venue has it: take its state (and its fills).
        let found = try OrderLifecycle.next(
            .unknown, .venueReported(.filled, executed: Self.qty, quantity: Self.qty)
        ).get()
        #expect(found == .init(state: .filled, action: .recordFills))
        // The venue says it does not exist: now, and only now, the same key goes again.
        #expect(try OrderLifecycle.next(.unknown, .notFound).get() == .init(state: .sending, action: .sendNew))
        #expect(throws: IllegalTransition.self) { try OrderLifecycle.next(.open, .notFound).get() }
    }

    @Test func venueStatusesMapToOurStates() throws {
        func after(_ status: VenueOrderStatus, _ executed: ExactDecimal) throws -> OrderState {
            try OrderLifecycle.next(.open, .venueReported(status, executed: executed, quantity: Self.qty)).get().state
        }
        #expect(try after(.open, .zero) == .open)
        #expect(try after(.open, Self.half) == .partiallyFilled)
        #expect(try after(.partiallyFilled, Self.half) == .partiallyFilled)
        #expect(try after(.cancelled, Self.half) == .cancelled)
        #expect(try after(.expired, .zero) == .expired)
        #expect(try after(.pendingCancel, .zero) == .open)
        #expect(try OrderLifecycle.next(.sending, .refused).get().state == .rejected)
        // A finished order reported differently is an inconsistency, refused.
        #expect(throws: IllegalTransition.self) {
            try OrderLifecycle.next(.cancelled, .venueReported(.filled, executed: Self.qty, quantity: Self.qty)).get()
        }
    }

    @Test func intentKeysAreDeterministicAndFitTheVenue() {
        let intent = OrderIntent(portfolio: "core", batch: 42, leg: 3, venue: "binance", symbol: "BTCUSDT", side: .buy)
        #expect(
            intent.key
                == OrderIntent(portfolio: "core", batch: 42, leg: 3, venue: "binance", symbol: "BTCUSDT", side: .buy)
                .key)
        #expect(intent.key.count == 64)
        let id = intent.clientOrderId
        #expect(
            id.count <= 36 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        // A reprice is a new generation and a new key; so is any other field.
        #expect(intent.nextGeneration().clientOrderId != id)
        var other = intent
        other.side = .sell
        #expect(other.key != intent.key)
        // Length prefixes keep field boundaries: "ab"+"c" is not "a"+"bc".
        let a = OrderIntent(portfolio: "ab", batch: 1, leg: 0, venue: "c", symbol: "X", side: .buy)
        let b = OrderIntent(portfolio: "a", batch: 1, leg: 0, venue: "bc", symbol: "X", side: .buy)
        #expect(a.key != b.key)
        // Pinned: the key must never change between releases, or reruns would resend.
        #expect(intent.canonical == "4:core|2:42|1:3|7:binance|7:BTCUSDT|3:buy|1:0")
        // SHA-256 of that text as Python's hashlib computes it.
        #expect(intent.key == "20e6429b002a9ce1424730e90790c10fe7dfad53eca333d56cc75c8b6a9aea1f")
        #expect(id == "bl20e6429b002a9ce1424730e90790c10f")
    }
}
