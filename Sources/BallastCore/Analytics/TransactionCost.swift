public import Foundation

/// Transaction-cost analysis of child orders (DESIGN.md "Definitions"):
///
/// - **Mid** m = (best bid + best ask) / 2 at the venue.
/// - **Arrival mid** m₀ of a child order = the mid in the snapshot its decision used.
/// - **Side sign** s = +1 buy, −1 sell. Positive cost = worse for us.
/// - **Arrival slippage (bps)** = s · (P̄ − m₀) / m₀ · 10⁴, P̄ = qty-weighted average fill price.
/// - **Fee (bps)** = fees converted to quote at fill price / filled notional · 10⁴.
///
/// Amounts are exact; bps are rounded half-even to `bpsScale` places.
public enum TransactionCost {
    /// Decimal places kept in bps figures.
    public static let bpsScale = 4
    /// Decimal places kept in average prices.
    public static let priceScale = 12

    /// One execution of a child order.
    public struct Execution: Sendable, Hashable {
        public var price: ExactDecimal
        public var qty: ExactDecimal
        public var commission: ExactDecimal
        public var commissionAsset: String
        public var time: Date

        public init(
            price: ExactDecimal, qty: ExactDecimal, commission: ExactDecimal, commissionAsset: String, time: Date
        ) {
            self.price = price
            self.qty = qty
            self.commission = commission
            self.commissionAsset = commissionAsset
            self.time = time
        }
    }

    /// A child order and its executions.
    public struct Child: Sendable {
        public var side: Side
        public var pair: TradingPair
        public var orderedQty: ExactDecimal
        /// m₀: the mid the decision used.
        public var arrivalMid: ExactDecimal
        /// When the venue accepted the order, on the venue's clock (nil: unknown), so that times to
        /// fill subtract venue time from venue time.
        public var submittedAt: Date?
        public var executions: [Execution]

        public init(
            side: Side, pair: TradingPair, orderedQty: ExactDecimal, arrivalMid: ExactDecimal, submittedAt: Date?,
            executions: [Execution]
        ) {
            self.side = side
            self.pair = pair
            self.orderedQty = orderedQty
            self.arrivalMid = arrivalMid
            self.submittedAt = submittedAt
            self.executions = executions
        }
    }

    /// What a child order cost.
    public struct ChildCost: Sendable, Hashable {
        public var filledQty: ExactDecimal
        /// P̄, nil when nothing filled.
        public var averagePrice: ExactDecimal?
        /// Σ price · qty, in quote.
        public var filledNotional: ExactDecimal
        /// Σ fees converted to quote.
        public var feesQuote: ExactDecimal
        /// Arrival slippage in bps, nil when nothing filled.
        public var slippageBps: ExactDecimal?
        /// Fees in bps of filled notional, nil when nothing filled.
        public var feeBps: ExactDecimal?
        /// filled / ordered.
        public var fillRatio: ExactDecimal
        public var secondsToFirstFill: Double?
        public var secondsToLastFill: Double?

        public init(
            filledQty: ExactDecimal, averagePrice: ExactDecimal?, filledNotional: ExactDecimal, feesQuote: ExactDecimal,
            slippageBps: ExactDecimal?, feeBps: ExactDecimal?, fillRatio: ExactDecimal, secondsToFirstFill: Double?,
            secondsToLastFill: Double?
        ) {
            self.filledQty = filledQty
            self.averagePrice = averagePrice
            self.filledNotional = filledNotional
            self.feesQuote = feesQuote
            self.slippageBps = slippageBps
            self.feeBps = feeBps
            self.fillRatio = fillRatio
            self.secondsToFirstFill = secondsToFirstFill
            self.secondsToLastFill = secondsToLastFill
        }
    }

    /// A fee could not be converted to the quote asset.
    public struct MissingPrice: Error, Sendable, Hashable, CustomStringConvertible {
        public let asset: String
        public let quote: String
        public let time: Date
        public var description: String {
            "no \(asset) price in \(quote) at \(time) to convert a fee paid in \(asset)"
        }
    }

    /// The price of `asset` in `quote` at `time`, for fees paid in a third asset (e.g. BNB).
    public typealias PriceLookup = (_ asset: String, _ quote: String, _ time: Date) -> ExactDecimal?

    /// The fee of `execution` in the quote asset: base fees at the fill price,
    /// quote fees as they are, any other asset through `price`.
    public static func feeInQuote(_ execution: Execution, pair: TradingPair, price: PriceLookup) throws(MissingPrice)
        -> ExactDecimal
    {
        if execution.commission.isZero || execution.commissionAsset == pair.quote { return execution.commission }
        if execution.commissionAsset == pair.base { return execution.commission * execution.price }
        guard let rate = price(execution.commissionAsset, pair.quote, execution.time) else {
            throw MissingPrice(asset: execution.commissionAsset, quote: pair.quote, time: execution.time)
        }
        return execution.commission * rate
    }

    /// Sums over a child's executions: all the cost formulas need.
    public struct Totals: Sendable, Hashable {
        /// Σ qty.
        public var filledQty: ExactDecimal
        /// Σ price · qty, in quote.
        public var notional: ExactDecimal
        /// Σ fees converted to quote.
        public var feesQuote: ExactDecimal
        public var firstFill: Date?
        public var lastFill: Date?

        public init(
            filledQty: ExactDecimal, notional: ExactDecimal, feesQuote: ExactDecimal, firstFill: Date?, lastFill: Date?
        ) {
            self.filledQty = filledQty
            self.notional = notional
            self.feesQuote = feesQuote
            self.firstFill = firstFill
            self.lastFill = lastFill
        }
    }

    /// The totals of `executions` of an order on `pair`.
    public static func totals(of executions: [Execution], pair: TradingPair, price: PriceLookup) throws(MissingPrice)
        -> Totals
    {
        var totals = Totals(filledQty: .zero, notional: .zero, feesQuote: .zero, firstFill: nil, lastFill: nil)
        for execution in executions {
            totals.filledQty += execution.qty
            totals.notional += execution.price * execution.qty
            totals.feesQuote += try feeInQuote(execution, pair: pair, price: price)
            totals.firstFill = min(totals.firstFill ?? execution.time, execution.time)
            totals.lastFill = max(totals.lastFill ?? execution.time, execution.time)
        }
        return totals
    }

    /// The cost of one child order.
    public static func cost(of child: Child, price: PriceLookup = { _, _, _ in nil }) throws(MissingPrice) -> ChildCost
    {
        cost(
            side: child.side, orderedQty: child.orderedQty, arrivalMid: child.arrivalMid,
            submittedAt: child.submittedAt,
            totals: try totals(of: child.executions, pair: child.pair, price: price))
    }

    /// The cost of a child order from its execution totals (summed elsewhere,
    /// e.g. by the database): P̄ = notional / filled, then the definitions above.
    public static func cost(
        side: Side, orderedQty: ExactDecimal, arrivalMid: ExactDecimal, submittedAt: Date?, totals: Totals
    ) -> ChildCost {
        let ratio = orderedQty.isZero ? .zero : totals.filledQty.divided(by: orderedQty, scale: 8)!
        guard totals.filledQty.isPositive,
            let average = totals.notional.divided(by: totals.filledQty, scale: priceScale)
        else {
            return ChildCost(
                filledQty: totals.filledQty, averagePrice: nil, filledNotional: totals.notional,
                feesQuote: totals.feesQuote, slippageBps: nil, feeBps: nil, fillRatio: ratio, secondsToFirstFill: nil,
                secondsToLastFill: nil)
        }
        return ChildCost(
            filledQty: totals.filledQty, averagePrice: average, filledNotional: totals.notional,
            feesQuote: totals.feesQuote, slippageBps: slippageBps(side: side, average: average, arrivalMid: arrivalMid),
            feeBps: bps(totals.feesQuote, of: totals.notional), fillRatio: ratio,
            secondsToFirstFill: submittedAt.flatMap { start in totals.firstFill.map { $0.timeIntervalSince(start) } },
            secondsToLastFill: submittedAt.flatMap { start in totals.lastFill.map { $0.timeIntervalSince(start) } })
    }

    /// Arrival slippage (bps) = s · (P̄ − m₀) / m₀ · 10⁴; nil when m₀ is not positive.
    public static func slippageBps(side: Side, average: ExactDecimal, arrivalMid: ExactDecimal) -> ExactDecimal? {
        guard arrivalMid.isPositive else { return nil }
        let signed = side == .buy ? average - arrivalMid : arrivalMid - average
        return (signed * 10_000).divided(by: arrivalMid, scale: bpsScale, .halfEven)
    }

    /// `part` in bps of `whole` (nil when `whole` is zero).
    public static func bps(_ part: ExactDecimal, of whole: ExactDecimal) -> ExactDecimal? {
        (part * 10_000).divided(by: whole, scale: bpsScale, .halfEven)
    }
}
