import BallastCore
import Testing

@Suite struct RebalanceTests {
    static func d(_ text: String) -> ExactDecimal { ExactDecimal(text)! }

    /// BTC 1 @ 50 000, ETH 10 @ 3 000, SOL 100 @ 100, USDT 10 000: Σ value 100 000;
    /// weights 0.50, 0.30, 0.10, 0.10.
    static let holdings: [String: ExactDecimal] = ["BTC": 1, "ETH": 10, "SOL": 100, "USDT": 10_000]
    static let mids: [String: ExactDecimal] = ["BTC": 50_000, "ETH": 3_000, "SOL": 100]
    static let bands = ["BTC": 0.05, "ETH": 0.05, "SOL": 0.05, "USDT": 0.05]

    @Test func insideTheBandsNothingTrades() throws {
        // Drift +0.02, −0.02, 0, 0: all within ±0.05.
        let targets = ["BTC": Self.d("0.48"), "ETH": Self.d("0.32"), "SOL": Self.d("0.1"), "USDT": Self.d("0.1")]
        let plan = try Rebalance.plan(
            holdings: Self.holdings, mids: Self.mids, targets: targets, quote: "USDT", bands: Self.bands,
            sizeTo: .target)
        #expect(plan.trades.isEmpty)
        #expect(plan.breached.isEmpty)
        #expect(abs(plan.drift["BTC"]! - 0.02) < 1e-12)
        #expect(plan.notes == ["every asset is inside its band: no trade"])
        #expect(plan.totalValue == 100_000)
    }

    /// Drift BTC +0.10, ETH −0.08, SOL −0.02, USDT 0: BTC and ETH breach ±0.05.
    static let targets = ["BTC": Self.d("0.4"), "ETH": Self.d("0.38"), "SOL": Self.d("0.12"), "USDT": Self.d("0.1")]

    @Test func aBreachTradesEveryDriftedAssetToTarget() throws {
        let plan = try Rebalance.plan(
            holdings: Self.holdings, mids: Self.mids, targets: Self.targets, quote: "USDT", bands: Self.bands,
            sizeTo: .target)
        #expect(plan.breached == ["BTC", "ETH"])
        // Sell 10 000 / 50 000 = 0.2 BTC; buy 8 000 / 3 000 = 2.666666666666 ETH (12 places, down);
        // SOL is inside its band but trades too: buy 2 000 / 100 = 20 SOL. USDT never trades.
        #expect(plan.trades.map(\.asset) == ["BTC", "ETH", "SOL"])
        #expect(plan.trades.map(\.side) == [.sell, .buy, .buy])
        #expect(plan.trades.map(\.quantity) == [Self.d("0.2"), Self.d("2.666666666666"), 20])
        #expect(plan.trades.map(\.decisionMid) == [50_000, 3_000, 100])
        #expect(plan.trades.allSatisfy { $0.quote == "USDT" })
        #expect(plan.trades[0].reason == "BTC drift +10.00 pp > band 5.00 pp; sized to target")
        #expect(plan.trades[1].reason == "ETH drift -8.00 pp > band 5.00 pp; sized to target")
        #expect(plan.trades[2].reason == "SOL drift -2.00 pp within band 5.00 pp; sized to target")
        #expect(plan.notes.isEmpty)
    }

    @Test func anAssetOutsideTradableIsValuedButNotTraded() throws {
        // 10 BNB @ 500 = 5 000 more: Σ value 105 000. BNB counts in the weights, never trades.
        var holdings = Self.holdings
        holdings["BNB"] = 10
        var mids = Self.mids
        mids["BNB"] = 500
        let plan = try Rebalance.plan(
            holdings: holdings, mids: mids, targets: Self.targets, quote: "USDT", bands: Self.bands, sizeTo: .target,
            tradable: Set(Self.targets.keys))
        #expect(plan.totalValue == 105_000)
        #expect(!plan.trades.contains { $0.asset == "BNB" })
        #expect(plan.trades.map(\.asset) == ["BTC", "ETH", "SOL"])
        #expect(plan.notes.contains("held but not tradable, so valued and not traded: BNB"))
    }

    @Test func bandEdgeSizingTradesOnlyTheBreachesBackToTheEdge() throws {
        // BTC: (0.10 − 0.05) · 100 000 = 5 000 → 0.1 BTC; ETH: (0.08 − 0.05) · 100 000 = 3 000 → 1 ETH.
        let plan = try Rebalance.plan(
            holdings: Self.holdings, mids: Self.mids, targets: Self.targets, quote: "USDT", bands: Self.bands,
            sizeTo: .bandEdge)
        #expect(plan.trades.map(\.asset) == ["BTC", "ETH"])
        #expect(plan.trades.map(\.quantity) == [Self.d("0.1"), 1])
        #expect(plan.trades[1].reason == "ETH drift -8.00 pp > band 5.00 pp; sized to the band edge")
    }

    /// BTC 1 @ 50 000 and SOL 500 @ 100, no cash: Σ 100 000. Targets BTC 0.3,
    /// SOL 0.4, ADA 0.2 (mid 0.5), DOT 0.1 (mid 5): sells 20 000 BTC and 10 000
    /// SOL fund buys of 20 000 ADA and 10 000 DOT.
    static func fourWay(cashBuffer: ExactDecimal) throws -> RebalancePlan {
        try Rebalance.plan(
            holdings: ["BTC": 1, "SOL": 500], mids: ["BTC": 50_000, "SOL": 100, "ADA": Self.d("0.5"), "DOT": 5],
            targets: ["BTC": Self.d("0.3"), "SOL": Self.d("0.4"), "ADA": Self.d("0.2"), "DOT": Self.d("0.1")],
            quote: "USDT",
            bands: ["BTC": 0.05, "SOL": 0.05, "ADA": 0.05, "DOT": 0.05], sizeTo: .target, cashBuffer: cashBuffer)
    }

    @Test func sellsComeBeforeBuysLargestFirst() throws {
        let plan = try Self.fourWay(cashBuffer: 0)
        #expect(plan.trades.map(\.asset) == ["BTC", "SOL", "ADA", "DOT"])
        #expect(plan.trades.map(\.side) == [.sell, .sell, .buy, .buy])
        #expect(plan.trades.map(\.quantity) == [Self.d("0.4"), 100, 40_000, 2_000])
        #expect(plan.notes.isEmpty)  // proceeds 30 000 cover buys of 30 000 exactly
    }

    @Test func buysAreScaledWhenCashIsShort() throws {
        // Proceeds 30 000 − buffer 6 000 = 24 000 for 30 000 of buys: every buy × 0.8.
        let plan = try Self.fourWay(cashBuffer: 6_000)
        #expect(plan.trades.map(\.quantity) == [Self.d("0.4"), 100, 32_000, 1_600])
        #expect(plan.notes == ["buys scaled to the cash available: 24000.00 of 30000.00 USDT (80.0%)"])
        #expect(plan.trades[2].reason.hasSuffix("; sized to target; scaled to 80.0% for the cash available"))
        #expect(plan.trades[0].reason.hasSuffix("; sized to target"))
        // A buffer larger than the cash: no buys at all, the sells stand.
        let broke = try Self.fourWay(cashBuffer: 40_000)
        #expect(broke.trades.map(\.side) == [.sell, .sell])
        #expect(broke.notes.first?.hasPrefix("no cash for buys") == true)
    }

    @Test func neverSellsMoreThanIsHeld() throws {
        // Out of XRP entirely (14 places held, quantities kept to 12, rounded down) and of BTC exactly.
        let held: [String: ExactDecimal] = [
            "XRP": Self.d("0.12345678901234"), "BTC": Self.d("0.123456789"), "USDT": 100,
        ]
        let plan = try Rebalance.plan(
            holdings: held, mids: ["XRP": 3, "BTC": 50_000], targets: ["USDT": 1], quote: "USDT",
            bands: ["XRP": 0.01, "BTC": 0.01], sizeTo: .target)
        #expect(plan.trades.map(\.asset) == ["BTC", "XRP"])
        #expect(plan.trades.allSatisfy { $0.side == .sell && $0.quantity <= held[$0.asset]! })
        #expect(plan.trades[0].quantity == Self.d("0.123456789"))
        #expect(plan.trades[1].quantity == Self.d("0.123456789012"))
    }

    @Test func anAssetToBuyWithoutAMidCannotBePlanned() {
        #expect(throws: DriftReport.Problem.noPrice(asset: "ADA")) {
            try Rebalance.plan(
                holdings: ["BTC": 1], mids: ["BTC": 50_000], targets: ["BTC": Self.d("0.5"), "ADA": Self.d("0.5")],
                quote: "USDT", bands: ["BTC": 0.05], sizeTo: .target)
        }
    }
}
