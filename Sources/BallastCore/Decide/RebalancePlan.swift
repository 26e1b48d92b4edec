/// What a rebalance decided for one portfolio: its drift against the bands,
/// which assets breached, and the parent trades (sells first) that bring it back.
public struct RebalancePlan: Sendable, Hashable, Codable {
    /// **Drift** dᵢ = wᵢ − targetᵢ per asset (DESIGN.md "Definitions"), the quote asset included.
    public var drift: [String: Double]
    /// Each asset's band half-width, as a weight (0.05 = ±5 percentage points).
    public var bands: [String: Double]
    /// The assets whose |drift| exceeds their band, largest excess first (`Bands.breaches`).
    public var breached: [String]
    /// The parent trades: sells (largest notional first), then buys (largest first). Empty inside the bands.
    public var trades: [ParentTrade]
    /// Σ value at mid in the quote currency, the denominator of every weight.
    public var totalValue: ExactDecimal
    /// What the plan did that a reader should know (no breach, buys scaled to the cash, assets left out).
    public var notes: [String]

    /// Creates a plan from its parts (`Rebalance.plan` is the usual way to get one).
    public init(
        drift: [String: Double], bands: [String: Double], breached: [String], trades: [ParentTrade],
        totalValue: ExactDecimal, notes: [String]
    ) {
        self.drift = drift
        self.bands = bands
        self.breached = breached
        self.trades = trades
        self.totalValue = totalValue
        self.notes = notes
    }
}
