/// Reconciliation (DESIGN.md "Pipeline", step 2): balances against the fills
/// ledger, our orders against their fills, and fills no order of ours explains.
///
/// - **Balance ledger**: previous snapshot + fills − fees = current snapshot,
///   per venue, account and asset, within one lot step of that asset.
///   A buy adds its quantity of the base asset and takes its quote quantity;
///   a sell the reverse; every commission is taken from its own asset.
/// - **Order fills**: an order's executed quantity = Σ its fills' quantities.
/// - **External fills**: fills whose order is not one of ours.
public enum Reconciliation {
    /// The fills of one symbol, side and commission asset between two snapshots, summed.
    public struct FillTotals: Sendable, Hashable {
        public var pair: TradingPair
        public var side: Side
        public var qty: ExactDecimal
        public var quoteQty: ExactDecimal
        public var commission: ExactDecimal
        public var commissionAsset: String

        public init(
            pair: TradingPair, side: Side, qty: ExactDecimal, quoteQty: ExactDecimal, commission: ExactDecimal,
            commissionAsset: String
        ) {
            self.pair = pair
            self.side = side
            self.qty = qty
            self.quoteQty = quoteQty
            self.commission = commission
            self.commissionAsset = commissionAsset
        }
    }

    /// How the fills change each asset's balance.
    public static func ledgerChange(_ fills: [FillTotals]) -> [String: ExactDecimal] {
        var change: [String: ExactDecimal] = [:]
        for fill in fills {
            let sign: ExactDecimal = fill.side == .buy ? 1 : -1
            change[fill.pair.base, default: .zero] += sign * fill.qty
            change[fill.pair.quote, default: .zero] -= sign * fill.quoteQty
            change[fill.commissionAsset, default: .zero] -= fill.commission
        }
        return change
    }

    /// A balance that the fills do not explain.
    public struct BalanceBreak: Sendable, Hashable {
        public var asset: String
        /// The balance the ledger predicts: before + change.
        public var expected: ExactDecimal
        /// The balance the venue reported.
        public var actual: ExactDecimal
        /// actual − expected.
        public var difference: ExactDecimal { actual - expected }
        public var before: ExactDecimal
        public var change: ExactDecimal
        public var tolerance: ExactDecimal
    }

    /// Assets whose `after` balance differs from `before` + the fills' change by
    /// more than their tolerance, in asset order. Balances are totals (free + locked).
    public static func balanceBreaks(
        before: [String: ExactDecimal], after: [String: ExactDecimal], fills: [FillTotals],
        tolerance: (String) -> ExactDecimal
    ) -> [BalanceBreak] {
        let change = ledgerChange(fills)
        let assets = Set(before.keys).union(after.keys).union(change.keys).sorted()
        var breaks: [BalanceBreak] = []
        for asset in assets {
            let start = before[asset] ?? .zero
            let delta = change[asset] ?? .zero
            let expected = start + delta
            let actual = after[asset] ?? .zero
            let allowed = tolerance(asset)
            if (actual - expected).magnitude > allowed {
                breaks.append(
                    BalanceBreak(
                        asset: asset, expected: expected, actual: actual, before: start, change: delta,
                        tolerance: allowed))
            }
        }
        return breaks
    }

    /// One lot step of `asset` at a venue: the smallest step size of the symbols
    /// trading it as base; for an asset only ever quoted, the smallest tick size
    /// of the symbols quoted in it; zero when the venue lists it nowhere.
    public static func tolerance(of asset: String, rules: [SymbolRules]) -> ExactDecimal {
        let steps = rules.filter { $0.pair.base == asset }.map(\.stepSize).filter(\.isPositive)
        if let smallest = steps.min() { return smallest }
        let ticks = rules.filter { $0.pair.quote == asset }.map(\.tickSize).filter(\.isPositive)
        return ticks.min() ?? .zero
    }

    /// Whether an order's reported execution disagrees with its fills: a
    /// finished order must equal Σ fills; an open one may have filled more
    /// since it was observed, but never less.
    public static func orderDisagrees(executed: ExactDecimal, filled: ExactDecimal, finished: Bool) -> Bool {
        finished ? executed != filled : filled < executed
    }
}
