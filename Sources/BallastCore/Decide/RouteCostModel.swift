public import Foundation

/// What a route costs for a quantity (DESIGN.md "Definitions": **Route cost**
/// for quantity q, in bps: half-spread + impact (walk the depth snapshot) +
/// fee + latency risk (z · σ per √s · √(p95 ack latency)) + health penalty
/// (error/timeout rate, weight used vs. limit; a banned venue is excluded until
/// its Retry-After passes)).
///
/// Every term is in bps of that venue's **Mid** m = (best bid + best ask) / 2
/// at the venue, signed with the **Side sign** s = +1 buy, −1 sell, so that a
/// positive cost is worse for us:
///
/// - half-spread = (ask − bid) / 2 / m · 10⁴ when crossing (marketable limit);
///   its negative when resting at the touch (passive, post-only: we earn it).
/// - impact (marketable only) = Σ over the levels walked of max(0, s · (price − touch)) · taken
///   / (filled · m) · 10⁴ — s · (VWAP of the walk − touch) / m · 10⁴ when no level is better
///   than the touch — walking the asks for a buy and the bids for a sell (the ticker's touch
///   quantity is the only level when there is no depth), never past the price cap
///   (`Router.capPrice`). A level better than the touch (a depth taken at another moment than
///   its ticker) counts as the touch rather than offsetting the levels after it.
/// - fee = taker fee · 10⁴ crossing, maker fee · 10⁴ resting.
/// - latency risk = z · σ per √s · √(p95 ack seconds) · 10⁴; a passive order
///   also rests, so it is √(p95 ack + passive timeout) for it.
/// - health = errorPenaltyBps · (error rate + timeout rate)
///   + weightPenaltyBps · max(0, weight used − 0.5) / 0.5.
/// - measured (resting styles, once Ballast has measured passive legs on the route) =
///   w · (m̄ − (−half-spread + latency risk)), w = n / (n + n₀): the modelled slippage of resting
///   is pulled towards m̄, what n earlier passive legs there cost (`MeasuredRouteCost`), the model
///   counting as n₀ legs (`RouterPolicy.measuredPrior`). Resting is not free: a leg that does not
///   fill is chased and then crosses, and the fills it does get come mostly when the price is about
///   to move against it; the model alone knows neither, the measurement holds both.
///
/// Passive styles (`passive`, `chase`) rest at the touch; the others cross up to the cap.
public enum RouteCostModel {
    /// Decimal places kept in quantities the model derives (capacities).
    public static let quantityScale = 12

    /// σ per √second from an annualised σ: σ / √(365.25 · 86 400).
    public static func volatilityPerSqrtSecond(annualised sigma: Double) -> Double {
        sigma / (365.25 * 86_400).squareRoot()
    }

    /// The route cost of `quantity` on `quote`, term by term, with `excluded`
    /// saying why the route cannot take it (venue-wide reasons first, then
    /// balance, venue minimums and depth within the cap).
    public static func cost(
        of quantity: ExactDecimal, side: Side, style: OrderStyle, on quote: VenueQuote,
        volatilityPerSqrtSecond sigma: Double, policy: RouterPolicy, now: Date
    ) -> RouteCost {
        var cost = terms(of: quantity, side: side, style: style, on: quote, sigma: sigma, policy: policy)
        cost.excluded =
            venueExclusion(quote, policy: policy, now: now)
            ?? quantityExclusion(quantity, side: side, style: style, on: quote, policy: policy)
        return cost
    }

    /// Why the venue cannot be used for any quantity: symbol not trading, no
    /// two-sided quote, banned (until its Retry-After passes), error + timeout
    /// rate above `maxErrorRate`, or the whole request weight used. Nil when usable.
    public static func venueExclusion(_ quote: VenueQuote, policy: RouterPolicy, now: Date) -> String? {
        let health = quote.health
        let ticker = quote.ticker
        if quote.rules.status != "TRADING" { return "\(quote.rules.pair.symbol) is \(quote.rules.status)" }
        if !ticker.bidPrice.isPositive || !ticker.askPrice.isPositive || ticker.askPrice < ticker.bidPrice {
            return "no two-sided quote (bid \(ticker.bidPrice.plainString), ask \(ticker.askPrice.plainString))"
        }
        if let until = health.bannedUntil, until > now { return "banned until \(until.formatted(.iso8601))" }
        let failing = health.errorRate + health.timeoutRate
        if failing > policy.maxErrorRate {
            return "error rate \(failing.fixed(2)) > \(policy.maxErrorRate.fixed(2))"
        }
        if health.weightUsed >= 1 { return "request weight used \(health.weightUsed.fixed(2)) of the limit" }
        return nil
    }

    /// The most the route can take: the free balance (a buy's at the limit
    /// price), the depth within the cap for a marketable order, and the venue's
    /// maximum quantity. Zero when the venue is excluded as a whole.
    public static func capacity(
        side: Side, style: OrderStyle, on quote: VenueQuote, policy: RouterPolicy, now: Date
    ) -> ExactDecimal {
        guard venueExclusion(quote, policy: policy, now: now) == nil else { return .zero }
        let price = limitPrice(side: side, style: style, on: quote, policy: policy)
        var most = side == .sell ? quote.available : affordable(at: price, on: quote)
        if !isPassive(style) {
            most = min(most, walk(quote, side: side, quantity: nil, limit: price).filled)
        }
        if !quote.rules.maxQty.isZero { most = min(most, quote.rules.maxQty) }
        return max(most, .zero)
    }

    /// What a buy of `quantity` at `price` takes from the free quote: the notional plus the taker
    /// fee. Reserved in quote even where the venue takes its fee from the asset bought, so that the
    /// buys of a batch never add up to more than a venue's free quote, with or without fees.
    public static func buyCost(_ quantity: ExactDecimal, at price: ExactDecimal, on quote: VenueQuote) -> ExactDecimal {
        quantity * price * (.one + quote.takerFee)
    }

    /// The most a buy at `price` can afford from the free quote, fee included, on the quantity scale.
    static func affordable(at price: ExactDecimal, on quote: VenueQuote) -> ExactDecimal {
        guard quote.available.isPositive else { return .zero }
        return quote.available.divided(by: price * (.one + quote.takerFee), scale: quantityScale, .down) ?? .zero
    }

    /// The limit price the route would send: the cap on the tick when crossing,
    /// the touch on the tick when resting (`Router.capPrice`, `Router.repricePassive`).
    public static func limitPrice(side: Side, style: OrderStyle, on quote: VenueQuote, policy: RouterPolicy)
        -> ExactDecimal
    {
        if isPassive(style) { return Router.repricePassive(side: side, ticker: quote.ticker, rules: quote.rules) }
        return Router.capPrice(
            side: side, arrivalMid: quote.ticker.mid, rules: quote.rules, capBps: policy.priceCapBps)
    }

    /// True for the styles that rest at the touch rather than cross.
    static func isPassive(_ style: OrderStyle) -> Bool { style == .passive || style == .chase }

    /// The five terms for `quantity`, with no exclusion applied.
    static func terms(
        of quantity: ExactDecimal, side: Side, style: OrderStyle, on quote: VenueQuote, sigma: Double,
        policy: RouterPolicy
    ) -> RouteCost {
        let ticker = quote.ticker
        let mid = ticker.mid
        let passive = isPassive(style)
        let m = mid.doubleValue
        let halfSpread = m > 0 ? ticker.spread.doubleValue / 2 / m * 10_000 : 0
        var impact = 0.0
        if !passive, m > 0, quantity.isPositive {
            // Each level taken costs s · (price − touch) per unit beyond the touch. A level better than
            // the touch (a depth taken at another moment than its ticker) counts as the touch: it
            // neither adds impact nor offsets the levels after it, so a quantity's cost is exactly the
            // sum of its `marginalSegments`, the pieces the router's split fills cheapest first.
            let limit = limitPrice(side: side, style: style, on: quote, policy: policy)
            let walked = walk(quote, side: side, quantity: quantity, limit: limit)
            if walked.filled.isPositive {
                impact = walked.beyondTouch.doubleValue / (walked.filled * mid).doubleValue * 10_000
            }
        }
        let health = quote.health
        let seconds = health.p95AckSeconds + (passive ? policy.passiveTimeoutSeconds : 0)
        let latency = policy.z * sigma * max(seconds, 0).squareRoot() * 10_000
        let penalty =
            policy.errorPenaltyBps * (health.errorRate + health.timeoutRate)
            + policy.weightPenaltyBps * max(0, health.weightUsed - 0.5) / 0.5
        var cost = RouteCost(
            venue: quote.venue, symbol: quote.rules.pair.symbol, style: style, quantity: quantity,
            halfSpreadBps: passive ? -halfSpread : halfSpread, impactBps: impact,
            feeBps: (passive ? quote.makerFee : quote.takerFee).doubleValue * 10_000, latencyBps: latency,
            healthBps: penalty)
        if passive, let measured = quote.measuredPassive, measured.legs > 0 {
            let weight = Double(measured.legs) / (Double(measured.legs) + max(policy.measuredPrior, 0))
            cost.measuredBps = weight * (measured.slippageBps - (-halfSpread + latency))
        }
        return cost
    }

    /// A route's marginal cost per unit (bps) as pieces of quantity, cheapest first, up to
    /// `capacity`: the constant terms (half-spread, fee, latency risk, health, measured) plus, when
    /// crossing, s · (level price − touch) / mid · 10⁴ for each book level within the cap (the
    /// derivative of the depth-walk impact × quantity). Σ marginal · amount over the pieces up to
    /// any boundary equals that quantity's total cost (`terms(...).totalBps × quantity`).
    package static func marginalSegments(
        side: Side, style: OrderStyle, on quote: VenueQuote, sigma: Double, policy: RouterPolicy,
        capacity: ExactDecimal
    ) -> [(marginal: Double, amount: ExactDecimal)] {
        guard capacity.isPositive else { return [] }
        let unit = terms(of: capacity, side: side, style: style, on: quote, sigma: sigma, policy: policy)
        let constant = unit.totalBps - unit.impactBps
        if isPassive(style) { return [(constant, capacity)] }
        let ticker = quote.ticker
        let mid = ticker.mid.doubleValue
        guard mid > 0 else { return [(constant, capacity)] }
        let touch = side == .buy ? ticker.askPrice : ticker.bidPrice
        let limit = limitPrice(side: side, style: style, on: quote, policy: policy)
        let levels = takenLevels(quote, side: side)
        var out: [(marginal: Double, amount: ExactDecimal)] = []
        var room = capacity
        for level in levels where level.qty.isPositive && room.isPositive {
            if side == .buy ? level.price > limit : level.price < limit { break }
            let amount = min(level.qty, room)
            let excess = ((level.price - touch) * ExactDecimal(side.sign)).doubleValue / mid * 10_000
            out.append((constant + max(0, excess), amount))
            room -= amount
        }
        return out
    }

    /// Why `quantity` does not fit a usable venue: balance, minimums, depth within the cap.
    static func quantityExclusion(
        _ quantity: ExactDecimal, side: Side, style: OrderStyle, on quote: VenueQuote, policy: RouterPolicy
    ) -> String? {
        let rules = quote.rules
        let price = limitPrice(side: side, style: style, on: quote, policy: policy)
        if side == .sell, quantity > quote.available {
            return "available \(quote.available.plainString) \(rules.pair.base) < \(quantity.plainString)"
        }
        if side == .buy, buyCost(quantity, at: price, on: quote) > quote.available {
            // Rounded up to 8 places for the reader: the comparison above is exact.
            let needs = buyCost(quantity, at: price, on: quote).rounded(scale: 8, .up)
            return "needs \(needs.plainString) \(rules.pair.quote) at \(price.plainString) with the fee, "
                + "available \(quote.available.plainString)"
        }
        let floored = rules.floorQuantity(quantity)
        if !floored.isPositive || floored < rules.minQty {
            return "quantity \(floored.plainString) on the step is below the minimum \(rules.minQty.plainString)"
        }
        if floored * price < rules.minNotional {
            return "notional \((floored * price).plainString) is below the minimum \(rules.minNotional.plainString)"
        }
        if !isPassive(style) {
            let depth = walk(quote, side: side, quantity: nil, limit: price).filled
            if depth < quantity { return "depth within the cap holds only \(depth.plainString)" }
        }
        return nil
    }

    /// The levels a `side` order takes, best first: the asks for a buy, the bids for a sell; the
    /// ticker's touch alone when there is no depth.
    static func takenLevels(_ quote: VenueQuote, side: Side) -> [BookLevel] {
        let ticker = quote.ticker
        if let depth = quote.depth {
            return side == .buy ? depth.asks.sorted { $0.price < $1.price } : depth.bids.sorted { $0.price > $1.price }
        }
        return [
            side == .buy
                ? BookLevel(price: ticker.askPrice, qty: ticker.askQty)
                : BookLevel(price: ticker.bidPrice, qty: ticker.bidQty)
        ]
    }

    /// Walks the side of the book a `side` order takes (asks for a buy, bids for
    /// a sell; the ticker's touch when there is no depth), never past `limit`,
    /// until `quantity` is filled (or the whole side within the limit when nil). `beyondTouch` is
    /// Σ max(0, s · (price − touch)) · taken: what the levels cost past the touch, a level better than
    /// the touch counting as the touch.
    static func walk(_ quote: VenueQuote, side: Side, quantity: ExactDecimal?, limit: ExactDecimal)
        -> (filled: ExactDecimal, notional: ExactDecimal, beyondTouch: ExactDecimal)
    {
        let levels = takenLevels(quote, side: side)
        let touch = side == .buy ? quote.ticker.askPrice : quote.ticker.bidPrice
        var filled = ExactDecimal.zero
        var notional = ExactDecimal.zero
        var beyond = ExactDecimal.zero
        for level in levels where level.qty.isPositive {
            if side == .buy ? level.price > limit : level.price < limit { break }
            var take = level.qty
            if let quantity {
                guard filled < quantity else { break }
                take = min(take, quantity - filled)
            }
            filled += take
            notional += level.price * take
            let over = (level.price - touch) * ExactDecimal(side.sign)
            if over.isPositive { beyond += over * take }
        }
        return (filled, notional, beyond)
    }
}
