import BallastCore
import Foundation
import Venues

/// Drives a decision's children at the venues in a replay, by the rules `ballast execute`
/// follows (README "Execute"), kept in memory instead of PostgreSQL:
///
/// - Every order carries the client order id of its intent key; a reprice is a new generation.
/// - A passive child rests post-only at the touch; after the passive timeout it is
///   cancelled and repriced at the touch the venue shows then (a chase), up to `maxChases`
///   times; then what is left crosses as a limit IOC capped at the arrival mid ± the price cap.
///   A post-only order the venue refuses because it would take is repriced the same way.
/// - After an ambiguous answer the order is looked up by client order id; it is sent again
///   only when the venue says it does not exist and a request still in flight could no
///   longer execute (the dialect's resend rule).
/// - A ban or throttle leaves the child unfinished (what it did not fill is opportunity cost).
/// - Legs on different venues advance together: each round gives every unfinished leg one
///   step, and the clock moves only when every one of them is waiting.
final class ReplayExecutor {
    /// One child of the decision and how far it has got.
    struct Leg {
        enum State {
            case send
            case resting(since: Date)
            case ambiguous(sentBy: Date)
            case done
        }

        let parent: Int
        let index: Int
        let child: ChildPlan
        var generation = 0
        var style: OrderStyle
        var type: OrderType
        var timeInForce: TimeInForce?
        var price: ExactDecimal
        /// Quantity of the current generation.
        var quantity: ExactDecimal
        /// Filled by the generations before the current one, and what it cost in quote.
        var filledBefore = ExactDecimal.zero
        var filledQuote = ExactDecimal.zero
        /// The venue's mid when the leg ended with quantity unfilled.
        var endMid: ExactDecimal?
        var resends = 0
        var state = State.send

        init(parent: Int, index: Int, child: ChildPlan) {
            self.parent = parent
            self.index = index
            self.child = child
            style = child.style
            type = child.orderType
            timeInForce = child.timeInForce
            price = child.limitPrice
            quantity = child.quantity
        }

        var isDone: Bool {
            if case .done = state { return true }
            return false
        }
    }

    let clients: [String: BinanceSpotClient]
    let rules: [String: [String: SymbolRules]]
    let policy: RouterPolicy
    let clock: any TimeSource
    let batch: Int64
    /// Rounds a decision may take before what is left is abandoned.
    static let maxRounds = 500
    /// Resends of one order under the resend rule.
    static let maxResends = 3

    init(
        clients: [String: BinanceSpotClient], rules: [String: [String: SymbolRules]], policy: RouterPolicy,
        clock: any TimeSource, batch: Int64
    ) {
        self.clients = clients
        self.rules = rules
        self.policy = policy
        self.clock = clock
        self.batch = batch
    }

    /// Drives every leg until each is done (or the rounds run out).
    func run(_ legs: inout [Leg], ledger: ReplayLedger) async {
        var rounds = 0
        while legs.contains(where: { !$0.isDone }), rounds < Self.maxRounds {
            rounds += 1
            var waiting = true
            for i in legs.indices where !legs[i].isDone {
                if await step(&legs[i], ledger: ledger) { waiting = false }
            }
            if waiting { try? await clock.sleep(for: pollInterval) }
        }
        // Where the price went for what was left unfilled (the measured cost of not filling).
        for i in legs.indices where legs[i].filledBefore < legs[i].child.quantity {
            let ticker = try? await clients[legs[i].child.venue]!.bookTickers([legs[i].child.symbol]).first
            legs[i].endMid = ticker?.mid
        }
    }

    /// How often a resting order is looked at.
    var pollInterval: Duration { .milliseconds(Int64(max(1, policy.passiveTimeoutSeconds / 3) * 1000)) }

    /// One step of a leg; false when the leg only waits (the clock must move first).
    private func step(_ leg: inout Leg, ledger: ReplayLedger) async -> Bool {
        let client = clients[leg.child.venue]!
        let id = clientOrderId(leg)
        switch leg.state {
        case .done: return false
        case .send:
            ledger.order(
                id, parent: leg.parent,
                estimate: ReplayLedger.Estimate(style: leg.child.style, bps: leg.child.cost.totalBps))
            let sentBy = clock.now()
            do {
                let ack = try await client.placeOrder(
                    NewOrder(
                        symbol: leg.child.symbol, side: leg.child.side, type: leg.type, timeInForce: leg.timeInForce,
                        quantity: leg.quantity, price: leg.price, clientOrderId: id))
                await seen(&leg, ack.order)
            } catch {
                switch error {
                case .rejected(_, _, _, let code, _, _) where code == -2010 && leg.type == .postOnly:
                    await next(&leg, executed: .zero, quote: .zero)  // it would take: reprice at the touch as it is now
                case .outcomeUnknown, .malformed: leg.state = .ambiguous(sentBy: sentBy)
                default: leg.state = .done
                }
            }
            return true
        case .resting(let since):
            if clock.now().timeIntervalSince(since) >= policy.passiveTimeoutSeconds {
                if let cancelled = try? await client.cancelOrder(leg.child.symbol, clientOrderId: id).value {
                    await finish(&leg, cancelled)
                } else if let found = try? await client.queryOrder(leg.child.symbol, clientOrderId: id).value {
                    await seen(&leg, found)
                }
                return true
            }
            guard let found = try? await client.queryOrder(leg.child.symbol, clientOrderId: id).value else {
                return false
            }
            if found.status.isOpen { return false }
            await finish(&leg, found)
            return true
        case .ambiguous(let sentBy):
            let found: VenueOrder?
            do { found = try await client.queryOrder(leg.child.symbol, clientOrderId: id).value } catch { return false }
            if let found {
                await seen(&leg, found)
            } else if clock.now() < client.inFlightRequestsExpire(sentBy: sentBy) {
                return false  // a request in flight could still execute: look again later
            } else if leg.resends < Self.maxResends {
                leg.resends += 1
                leg.state = .send
            } else {
                leg.state = .done
            }
            return true
        }
    }

    /// Applies what the venue says of the current generation.
    private func seen(_ leg: inout Leg, _ order: VenueOrder) async {
        if order.status.isOpen {
            if case .resting = leg.state { return }
            leg.state = .resting(since: clock.now())
        } else {
            await finish(&leg, order)
        }
    }

    /// The current generation is over with `order.executedQty` filled: chase, cross, or stop.
    private func finish(_ leg: inout Leg, _ order: VenueOrder) async {
        await next(&leg, executed: order.executedQty, quote: order.cumulativeQuoteQty)
    }

    private func next(_ leg: inout Leg, executed: ExactDecimal, quote: ExactDecimal) async {
        leg.filledBefore += executed
        leg.filledQuote += quote
        guard let rule = rules[leg.child.venue]?[leg.child.symbol] else {
            leg.state = .done
            return
        }
        let left = rule.floorQuantity(leg.child.quantity - leg.filledBefore)
        let resting = leg.type == .postOnly
        guard resting, left >= rule.minQty, leg.generation <= policy.maxChases else {
            leg.state = .done
            return
        }
        if leg.generation == policy.maxChases {
            leg.price = Router.capPrice(
                side: leg.child.side, arrivalMid: leg.child.arrivalMid, rules: rule, capBps: policy.priceCapBps)
            leg.type = .limit
            leg.timeInForce = .ioc
            leg.style = .marketableLimit
        } else {
            guard let ticker = try? await clients[leg.child.venue]!.bookTickers([leg.child.symbol]).first else {
                leg.state = .done
                return
            }
            leg.price = Router.repricePassive(side: leg.child.side, ticker: ticker, rules: rule)
            leg.style = .chase
        }
        guard left * leg.price >= rule.minNotional else {
            leg.state = .done
            return
        }
        leg.generation += 1
        leg.quantity = left
        leg.resends = 0
        leg.state = .send
    }

    private func clientOrderId(_ leg: Leg) -> String {
        OrderIntent(
            portfolio: "replay", batch: batch, leg: leg.index, venue: leg.child.venue, symbol: leg.child.symbol,
            side: leg.child.side, generation: leg.generation
        ).clientOrderId
    }
}
