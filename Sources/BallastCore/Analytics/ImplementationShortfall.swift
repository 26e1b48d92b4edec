public import Foundation

/// Implementation shortfall (Perold, 1988) of a parent order, in quote and in
/// bps of decision notional (DESIGN.md "Definitions"):
///
///     IS = Σ s·(pᶠ − m_dec)·qᶠ + fees + s·(m_end − m_dec)·q_unfilled
///
/// where the sum runs over every fill of every child, m_dec is the mid at the
/// decision, m_end the mid when execution ended, and q_unfilled the decided
/// quantity that was never filled (its cost is the opportunity cost).
public struct ImplementationShortfall: Sendable, Hashable {
    /// Σ s·(pᶠ − m_dec)·qᶠ: what the fills cost against the decision mid.
    public var executionCost: ExactDecimal
    /// Fees in quote.
    public var fees: ExactDecimal
    /// s·(m_end − m_dec)·q_unfilled: what not trading cost.
    public var opportunityCost: ExactDecimal
    /// The total, in quote.
    public var total: ExactDecimal
    /// m_dec · decided quantity.
    public var decisionNotional: ExactDecimal
    /// The total in bps of decision notional (nil when that is zero).
    public var bps: ExactDecimal?
    public var filledQty: ExactDecimal
    public var unfilledQty: ExactDecimal

    /// The shortfall of a parent that decided `decidedQty` at `decisionMid`,
    /// whose children produced `executions`, ending with the mid at `endMid`.
    public static func compute(
        side: Side, pair: TradingPair, decidedQty: ExactDecimal, decisionMid: ExactDecimal, endMid: ExactDecimal,
        executions: [TransactionCost.Execution], price: TransactionCost.PriceLookup = { _, _, _ in nil }
    ) throws(TransactionCost.MissingPrice) -> ImplementationShortfall {
        let s = ExactDecimal(side.sign)
        var execution = ExactDecimal.zero
        var fees = ExactDecimal.zero
        var filled = ExactDecimal.zero
        for fill in executions {
            execution += s * (fill.price - decisionMid) * fill.qty
            fees += try TransactionCost.feeInQuote(fill, pair: pair, price: price)
            filled += fill.qty
        }
        let unfilled = max(decidedQty - filled, .zero)
        let opportunity = s * (endMid - decisionMid) * unfilled
        let total = execution + fees + opportunity
        let notional = decisionMid * decidedQty
        return ImplementationShortfall(
            executionCost: execution, fees: fees, opportunityCost: opportunity, total: total,
            decisionNotional: notional,
            bps: TransactionCost.bps(total, of: notional), filledQty: filled, unfilledQty: unfilled)
    }
}
