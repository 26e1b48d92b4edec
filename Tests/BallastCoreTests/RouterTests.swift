import BallastCore
import Foundation
import Testing

@Suite struct RouterTests {
    static func d(_ text: String) -> ExactDecimal { ExactDecimal(text)! }
    static let now = Date(timeIntervalSince1970: 1_795_600_800)  // 2026-11-25T10:00:00Z
    static let healthy = VenueHealth(p95AckSeconds: 0, errorRate: 0, timeoutRate: 0, weightUsed: 0)

    static func rules(minNotional: String = "10") -> SymbolRules {
        SymbolRules(
            pair: TradingPair(symbol: "ETHUSDT", base: "ETH", quote: "USDT"), tickSize: d("0.01"),
            stepSize: d("0.001"), minQty: d("0.001"), minNotional: d(minNotional))
    }

    /// Bid 1999 / ask 2001 (mid 2000, half-spread 5 bps); three levels a side, 1, 1 and 2 ETH.
    static func book() -> DepthSnapshot {
        DepthSnapshot(
            symbol: "ETHUSDT", lastUpdateId: 1,
            bids: [.init(price: d("1999"), qty: 1), .init(price: d("1998"), qty: 1), .init(price: d("1997"), qty: 2)],
            asks: [.init(price: d("2001"), qty: 1), .init(price: d("2002"), qty: 1), .init(price: d("2003"), qty: 2)])
    }

    static func quote(
        _ venue: String, bid: String = "1999", ask: String = "2001", depth: DepthSnapshot? = book(),
        taker: String = "0.001", available: String = "1000000", health: VenueHealth = healthy,
        minNotional: String = "10"
    ) -> VenueQuote {
        VenueQuote(
            venue: venue, account: "main", rules: rules(minNotional: minNotional),
            ticker: BookTicker(symbol: "ETHUSDT", bidPrice: d(bid), bidQty: 10, askPrice: d(ask), askQty: 10),
            depth: depth, makerFee: d("0.0005"), takerFee: d(taker), available: d(available), health: health)
    }

    static func parent(_ side: Side = .buy, _ quantity: String) -> ParentTrade {
        ParentTrade(asset: "ETH", quote: "USDT", side: side, quantity: d(quantity), decisionMid: 2000, reason: "test")
    }

    static func policy(_ urgency: Urgency = .normal, slices: Int = 20, budget: Double = 50) -> RouterPolicy {
        var policy = RouterPolicy()
        policy.urgency = urgency
        policy.slices = slices
        policy.urgencyBudgetBps = budget
        return policy
    }

    static func route(_ parent: ParentTrade, _ quotes: [VenueQuote], sigma: Double = 0, policy: RouterPolicy = policy())
        -> RoutingDecision
    {
        Router.route(parent, quotes: quotes, volatilityPerSqrtSecond: sigma, policy: policy, now: now)
    }

    /// A depth taken at another moment than its ticker can hold a level better than the touch. It
    /// counts as the touch: it does not offset the levels after it, so a quantity's cost equals the
    /// sum of the marginal pieces the split fills, and the split stays the cheapest. (With the offset,
    /// a venue looked cheaper whole than piece by piece, and a split sent a share elsewhere for more.)
    @Test func aDepthLevelBetterThanTheTouchDoesNotOffsetTheLevelsAfterIt() {
        let stale = DepthSnapshot(
            symbol: "ETHUSDT", lastUpdateId: 1, bids: [],
            asks: [.init(price: Self.d("1999"), qty: 1), .init(price: Self.d("2003"), qty: 1)])
        let venue = Self.quote("sim-a", depth: stale)
        let cost = RouteCostModel.cost(
            of: 2, side: .buy, style: .marketableLimit, on: venue, volatilityPerSqrtSecond: 0, policy: Self.policy(),
            now: Self.now)
        // 1 ETH at the touch (1999 counts as 2001), 1 ETH 2 above it: 2 × 1 / (2 × 2000) · 10⁴ = 5 bps.
        #expect(abs(cost.impactBps - 5) < 1e-9, "\(cost.impactBps)")
        let pieces = RouteCostModel.marginalSegments(
            side: .buy, style: .marketableLimit, on: venue, sigma: 0, policy: Self.policy(), capacity: 2)
        let summed = pieces.map { $0.marginal * $0.amount.doubleValue }.reduce(0, +)
        #expect(abs(summed - cost.totalBps * 2) < 1e-9, "\(pieces) vs \(cost.totalBps)")
        // A second venue at 10 bps more whole: the first's first ETH is cheaper, its second dearer.
        let other = Self.quote("sim-b", taker: "0.0011", available: "1000000")
        let decision = Self.route(Self.parent(.buy, "2"), [venue, other], policy: Self.policy(budget: 500))
        #expect(decision.children.map(\.venue).sorted() == ["sim-a", "sim-b"], "\(decision.children)")
    }

    /// Measured passive legs pull the modelled slippage of resting towards what they cost, by
    /// their weight n / (n + n₀); crossing is left as modelled; no measurement, no term.
    @Test func measuredPassiveLegsPullTheRestingEstimateTowardsWhatTheyCost() {
        var venue = Self.quote("sim-a")
        let modelled = RouteCostModel.cost(
            of: 2, side: .buy, style: .passive, on: venue, volatilityPerSqrtSecond: 0.0001, policy: Self.policy(),
            now: Self.now)
        #expect(modelled.measuredBps == nil)
        // Model: −5 + 1.65 · 0.0001 · √30 · 10⁴ = −5 + 9.0370… = 4.0370…; 30 legs measured at 12 bps:
        // w = 30 / 40 = 0.75, term = 0.75 · (12 − 4.0370…) = 5.9722…
        venue.measuredPassive = MeasuredRouteCost(legs: 30, slippageBps: 12)
        let measured = RouteCostModel.cost(
            of: 2, side: .buy, style: .passive, on: venue, volatilityPerSqrtSecond: 0.0001, policy: Self.policy(),
            now: Self.now)
        let model = -5 + 1.65 * 0.0001 * 30.0.squareRoot() * 10_000
        #expect(abs(measured.measuredBps! - 0.75 * (12 - model)) < 1e-9)
        #expect(abs(measured.totalBps - (0.25 * model + 0.75 * 12 + measured.feeBps)) < 1e-9)
        // A chase rests too; crossing does not.
        let chase = RouteCostModel.cost(
            of: 2, side: .buy, style: .chase, on: venue, volatilityPerSqrtSecond: 0.0001, policy: Self.policy(),
            now: Self.now)
        #expect(chase.measuredBps == measured.measuredBps)
        let crossing = RouteCostModel.cost(
            of: 2, side: .buy, style: .marketableLimit, on: venue, volatilityPerSqrtSecond: 0.0001,
            policy: Self.policy(), now: Self.now)
        #expect(crossing.measuredBps == nil)
        // The measured cost decides between venues: the one whose passive legs paid less gets the parent.
        var cheap = Self.quote("sim-b")
        cheap.measuredPassive = MeasuredRouteCost(legs: 30, slippageBps: -4)
        let decision = Self.route(Self.parent(.buy, "1"), [venue, cheap], sigma: 0.0001, policy: Self.policy(.low))
        #expect(decision.children.map(\.venue) == ["sim-b"])
    }

    @Test func costTermsOnASmallBook() {
        let health = VenueHealth(p95AckSeconds: 0.25, errorRate: 0.05, timeoutRate: 0.05, weightUsed: 0.75)
        let venue = Self.quote("sim-a", health: health)
        // Buy 2 crossing: half-spread (2001 − 1999)/2 / 2000 · 10⁴ = 5; walk 1 @ 2001 + 1 @ 2002, VWAP 2001.5,
        // impact (2001.5 − 2001)/2000 · 10⁴ = 2.5; fee 0.001 · 10⁴ = 10; latency 1.65 · 0.0001 · √0.25 · 10⁴ = 0.825;
        // health 100 · (0.05 + 0.05) + 20 · (0.75 − 0.5)/0.5 = 20. Total 38.325.
        let crossing = RouteCostModel.cost(
            of: 2, side: .buy, style: .marketableLimit, on: venue, volatilityPerSqrtSecond: 0.0001,
            policy: Self.policy(), now: Self.now)
        #expect(abs(crossing.halfSpreadBps - 5) < 1e-9)
        #expect(abs(crossing.impactBps - 2.5) < 1e-9)
        #expect(abs(crossing.feeBps - 10) < 1e-9)
        #expect(abs(crossing.latencyBps - 0.825) < 1e-9)
        #expect(abs(crossing.healthBps - 20) < 1e-9)
        #expect(abs(crossing.totalBps - 38.325) < 1e-9)
        #expect(crossing.excluded == nil)
        // Sell 3: bids 1 @ 1999, 1 @ 1998, 1 @ 1997, VWAP 1998; impact −(1998 − 1999)/2000 · 10⁴ = 5.
        let selling = RouteCostModel.cost(
            of: 3, side: .sell, style: .marketableLimit, on: venue, volatilityPerSqrtSecond: 0.0001,
            policy: Self.policy(), now: Self.now)
        #expect(abs(selling.impactBps - 5) < 1e-9)
        // Passive: we earn the half-spread (−5), no impact, maker fee 5,
        // latency 1.65 · 0.0001 · √(0.25 + 30) · 10⁴ = 1.65 · 5.5 = 9.075; health 20. Total 29.075.
        let resting = RouteCostModel.cost(
            of: 2, side: .buy, style: .passive, on: venue, volatilityPerSqrtSecond: 0.0001, policy: Self.policy(),
            now: Self.now)
        #expect(abs(resting.halfSpreadBps + 5) < 1e-9)
        #expect(resting.impactBps == 0)
        #expect(abs(resting.feeBps - 5) < 1e-9)
        #expect(abs(resting.latencyBps - 9.075) < 1e-9)
        #expect(abs(resting.totalBps - 29.075) < 1e-9)
        // A 10 bps cap (buy ≤ 2002) holds only 2 of the 4 offered.
        var tight = Self.policy()
        tight.priceCapBps = 10
        let deep = RouteCostModel.cost(
            of: 3, side: .buy, style: .marketableLimit, on: venue, volatilityPerSqrtSecond: 0, policy: tight,
            now: Self.now)
        #expect(deep.excluded == "depth within the cap holds only 2")
        // σ per √s from an annualised σ.
        #expect(abs(RouteCostModel.volatilityPerSqrtSecond(annualised: 1) - 1 / 31_557_600.0.squareRoot()) < 1e-15)
    }

    @Test func theCheaperVenueGetsMore() {
        // Marginal bps per unit: A (fee 10) 15, 20, 25 by level; B (fee 12) 17, 22, 27.
        // Three ETH in 0.1 slices: A's first, B's first, then A's second (20 < 22): A 2, B 1.
        let decision = Self.route(
            Self.parent(.buy, "3"), [Self.quote("sim-a"), Self.quote("sim-b", taker: "0.0012")],
            policy: Self.policy(slices: 30))
        #expect(decision.deferred == nil)
        #expect(decision.children.map(\.venue) == ["sim-a", "sim-b"])
        #expect(decision.children.map(\.quantity) == [2, 1])
        // A for 2: 5 + 2.5 + 10 = 17.5; B for 1: 5 + 0 + 12 = 17.
        #expect(abs(decision.children[0].cost.totalBps - 17.5) < 1e-9)
        #expect(abs(decision.children[1].cost.totalBps - 17) < 1e-9)
        #expect(decision.reason.hasPrefix("sim-a 2 @ 17.5 bps, sim-b 1 @ 17.0 bps: split at equal marginal cost"))
        #expect(decision.candidates.count == 2)
    }

    /// The split is the exact minimum of the router's own objective (within each venue's step),
    /// checked against every allocation on a small grid: three venues with different books, fees
    /// and steps.
    @Test(arguments: ["0.7", "1.3", "2.9", "4.4"])
    func theSplitIsTheCheapestAllocationWithinAStep(_ size: String) {
        func venue(_ name: String, taker: String, step: String, depth: DepthSnapshot) -> VenueQuote {
            var quote = Self.quote(name, depth: depth, taker: taker)
            quote.rules = SymbolRules(
                pair: TradingPair(symbol: "ETHUSDT", base: "ETH", quote: "USDT"), tickSize: Self.d("0.01"),
                stepSize: Self.d(step), minQty: Self.d(step), minNotional: Self.d("1"))
            return quote
        }
        let thin = DepthSnapshot(
            symbol: "ETHUSDT", lastUpdateId: 1, bids: [],
            asks: [.init(price: Self.d("2001"), qty: Self.d("0.4")), .init(price: Self.d("2003"), qty: 3)])
        let deep = DepthSnapshot(
            symbol: "ETHUSDT", lastUpdateId: 1, bids: [],
            asks: [
                .init(price: Self.d("2001"), qty: 1), .init(price: Self.d("2002"), qty: 1),
                .init(price: Self.d("2004"), qty: 3),
            ])
        let venues = [
            venue("sim-a", taker: "0.001", step: "0.1", depth: deep),
            venue("sim-b", taker: "0.0011", step: "0.01", depth: thin),
            venue("sim-c", taker: "0.0009", step: "0.1", depth: thin),
        ]
        let parent = Self.parent(.buy, size)
        let decision = Self.route(parent, venues, policy: Self.policy(slices: 3, budget: 500))
        func cost(_ quantities: [ExactDecimal]) -> Double {
            zip(venues, quantities).map { venue, quantity in
                guard quantity.isPositive else { return 0 }
                return RouteCostModel.cost(
                    of: quantity, side: .buy, style: .marketableLimit, on: venue, volatilityPerSqrtSecond: 0,
                    policy: Self.policy(), now: Self.now
                ).totalBps * quantity.doubleValue
            }.reduce(0, +)
        }
        let routed = venues.map { v in decision.children.first { $0.venue == v.venue }?.quantity ?? .zero }
        #expect(routed.reduce(ExactDecimal.zero, +) == parent.quantity)  // nothing left that a step could take
        // Every allocation of the same total on a 0.01 grid (0.1 for sim-a and sim-c), within the books.
        var best = Double.infinity
        let total = Int((parent.quantity.doubleValue * 100).rounded())
        for a in stride(from: 0, through: min(total, 500), by: 10) {
            for c in stride(from: 0, through: min(total - a, 340), by: 10) {
                let b = total - a - c
                guard b >= 0, b <= 340 else { continue }
                best = min(best, cost([a, b, c].map { ExactDecimal(significand: Int128($0), scale: 2) }))
            }
        }
        #expect(cost(routed) <= best + 1e-6, "routed \(routed) costs \(cost(routed)), best \(best)")
    }

    @Test func equalVenuesSplitEvenly() {
        let decision = Self.route(Self.parent(.sell, "2"), [Self.quote("sim-a"), Self.quote("sim-b")])
        #expect(decision.children.map(\.quantity) == [1, 1])
        #expect(decision.children.allSatisfy { $0.side == .sell })
    }

    @Test func aSlowVenueLosesToAFastOneWithTheSameBook() {
        func venue(_ name: String, p95: Double) -> VenueQuote {
            Self.quote(
                name, depth: nil, health: VenueHealth(p95AckSeconds: p95, errorRate: 0, timeoutRate: 0, weightUsed: 0))
        }
        // Latency 1.65 · 0.0002 · √p95 · 10⁴: 3.3 bps at 1 s, 6.6 bps at 4 s.
        let decision = Self.route(
            Self.parent(.buy, "1"), [venue("slow", p95: 4), venue("fast", p95: 1)], sigma: 0.0002)
        #expect(abs(decision.candidates[0].latencyBps - 6.6) < 1e-9)
        #expect(abs(decision.candidates[1].latencyBps - 3.3) < 1e-9)
        #expect(decision.children.map(\.venue) == ["fast"])
        #expect(decision.children.map(\.quantity) == [1])
    }

    @Test func bannedAndUnhealthyVenuesAreExcludedWithTheirReason() {
        let banned = Self.quote(
            "sim-a",
            health: VenueHealth(
                p95AckSeconds: 0, errorRate: 0, timeoutRate: 0, weightUsed: 0,
                bannedUntil: Self.now.addingTimeInterval(60)))
        let failing = Self.quote(
            "sim-b", health: VenueHealth(p95AckSeconds: 0, errorRate: 0.4, timeoutRate: 0.22, weightUsed: 0))
        let decision = Self.route(Self.parent(.buy, "1"), [banned, failing, Self.quote("sim-c")])
        #expect(decision.candidates[0].excluded == "banned until 2026-11-25T10:01:00Z")
        #expect(decision.candidates[1].excluded == "error rate 0.62 > 0.50")
        #expect(decision.children.map(\.venue) == ["sim-c"])
        #expect(decision.reason.contains("sim-a excluded: banned until 2026-11-25T10:01:00Z"))
        #expect(decision.reason.contains("sim-b excluded: error rate 0.62 > 0.50"))
        // A ban that has run out no longer excludes.
        let lifted = Self.quote(
            "sim-a",
            health: VenueHealth(
                p95AckSeconds: 0, errorRate: 0, timeoutRate: 0, weightUsed: 0,
                bannedUntil: Self.now.addingTimeInterval(-1)))
        #expect(Self.route(Self.parent(.buy, "1"), [lifted]).children.count == 1)
        // Every venue out: deferred, naming each.
        let none = Self.route(Self.parent(.buy, "1"), [banned, failing])
        #expect(none.children.isEmpty)
        #expect(
            none.deferred == "no healthy venue: sim-a: banned until 2026-11-25T10:01:00Z; sim-b: error rate 0.62 > 0.50"
        )
        let unlisted = Self.route(
            ParentTrade(asset: "SOL", quote: "USDT", side: .buy, quantity: 1, decisionMid: 150, reason: ""),
            [Self.quote("sim-a")])
        #expect(unlisted.deferred == "no venue lists SOL/USDT")
    }

    @Test func overBudgetDefersAndHighUrgencyDoublesTheBudget() {
        // One ETH at the touch: 5 + 0 + 10 = 15 bps against a 10 bps budget.
        let normal = Self.route(Self.parent(.buy, "1"), [Self.quote("sim-a")], policy: Self.policy(budget: 10))
        #expect(normal.children.isEmpty)
        #expect(normal.deferred == "cheapest split costs 15.0 bps > budget 10.0 bps")
        let high = Self.route(Self.parent(.buy, "1"), [Self.quote("sim-a")], policy: Self.policy(.high, budget: 10))
        #expect(high.deferred == nil)
        #expect(high.children.map(\.quantity) == [1])
    }

    @Test func stepsBalancesAndMinimumsAreRespected() throws {
        // On the step: 1.23456 → 1.234.
        let stepped = Self.route(Self.parent(.buy, "1.23456"), [Self.quote("sim-a")])
        #expect(stepped.children.map(\.quantity) == [Self.d("1.234")])
        // A sell never exceeds the free base balance; the rest is left unrouted.
        let sell = Self.route(Self.parent(.sell, "1"), [Self.quote("sim-a", available: "0.5005")])
        #expect(sell.children.map(\.quantity) == [Self.d("0.5")])
        #expect(sell.reason.contains("0.5 of 1 left unrouted"))
        // A buy's notional at its limit (cap 2006.00) never exceeds the free quote: 1000 / 2006 → 0.498.
        let buy = Self.route(Self.parent(.buy, "1"), [Self.quote("sim-a", available: "1000")])
        let child = try #require(buy.children.first)
        #expect(child.quantity == Self.d("0.498"))
        #expect(child.quantity * child.limitPrice <= 1000)
        // …nor does its cost with the taker fee reserved: 998.988 buys 0.498 at 2006.00 before the fee, 0.497 with it.
        let tight = Self.route(Self.parent(.buy, "1"), [Self.quote("sim-a", available: "998.988")])
        let fitted = try #require(tight.children.first)
        #expect(fitted.quantity == Self.d("0.497"))
        #expect(
            RouteCostModel.buyCost(fitted.quantity, at: fitted.limitPrice, on: Self.quote("sim-a")) <= Self.d("998.988")
        )
        // A venue that cannot afford the trade says what it would need, fee included, rounded up on 8 places.
        let poor = Self.route(Self.parent(.buy, "0.333333333"), [Self.quote("sim-a", available: "10")])
        #expect(
            poor.candidates.first?.excluded == "needs 669.33533267 USDT at 2006 with the fee, available 10",
            "\(String(describing: poor.candidates.first?.excluded))")
        // A share below its venue's minimum notional is dropped and said so.
        let small = Self.route(Self.parent(.buy, "2"), [Self.quote("sim-a"), Self.quote("sim-b", minNotional: "5000")])
        #expect(small.children.map(\.venue) == ["sim-a"])
        #expect(small.reason.contains("sim-b's 1 dropped: Filter failure: NOTIONAL"))
        // Every share below its minimum: deferred.
        let dust = Self.route(Self.parent(.buy, "0.0004"), [Self.quote("sim-a")])
        #expect(dust.deferred?.hasPrefix("no venue's share meets its minimums") == true)
    }

    @Test func lowUrgencyRestsAtTheTouchWithLimitMaker() throws {
        let buy = Self.route(Self.parent(.buy, "1"), [Self.quote("sim-a")], policy: Self.policy(.low))
        let child = try #require(buy.children.first)
        #expect(child.style == .passive)
        #expect(child.orderType == .postOnly)
        #expect(child.timeInForce == nil)
        #expect(child.limitPrice == 1999)
        let sell = Self.route(Self.parent(.sell, "1"), [Self.quote("sim-a")], policy: Self.policy(.low))
        #expect(sell.children.first?.limitPrice == 2001)
        #expect(buy.candidates.allSatisfy { $0.style == .passive })
    }

    @Test func aMarketableLimitIsCappedOnTheTick() throws {
        // Mid 2000.005; buy cap 2000.005 · 1.003 = 2006.005015 → 2006.00; sell 2000.005 · 0.997 = 1994.004985 → 1994.01.
        let venue = Self.quote("sim-a", bid: "1999.99", ask: "2000.02", depth: nil)
        let buy = Self.route(Self.parent(.buy, "1"), [venue])
        let child = try #require(buy.children.first)
        #expect(child.orderType == .limit)
        #expect(child.timeInForce == .ioc)
        #expect(child.style == .marketableLimit)
        #expect(child.limitPrice == Self.d("2006.00"))
        #expect(child.arrivalMid == Self.d("2000.005"))
        #expect(Self.route(Self.parent(.sell, "1"), [venue]).children.first?.limitPrice == Self.d("1994.01"))
        #expect(
            Router.capPrice(side: .sell, arrivalMid: Self.d("2000.005"), rules: Self.rules(), capBps: 30)
                == Self.d("1994.01"))
        #expect(Router.repricePassive(side: .buy, ticker: venue.ticker, rules: Self.rules()) == Self.d("1999.99"))
        #expect(Router.budgetBps(Self.policy(.high)) == 100)
    }
}
