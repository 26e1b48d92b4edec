import BallastCore
import Foundation
import Testing

@Suite struct TransactionCostTests {
    static func d(_ text: String) -> ExactDecimal { ExactDecimal(text)! }
    static let t0 = Date(timeIntervalSince1970: 1_767_225_600)
    static let btc = TradingPair(symbol: "BTCUSDT", base: "BTC", quote: "USDT")
    static let eth = TradingPair(symbol: "ETHUSDT", base: "ETH", quote: "USDT")
    static let sol = TradingPair(symbol: "SOLUSDT", base: "SOL", quote: "USDT")

    static func fill(_ price: String, _ qty: String, fee: String, _ asset: String, after seconds: Double)
        -> TransactionCost.Execution
    {
        .init(
            price: d(price), qty: d(qty), commission: d(fee), commissionAsset: asset,
            time: t0.addingTimeInterval(seconds))
    }

    @Test func buyWithFeesInTheBaseAsset() throws {
        // P̄ = (0.4·43010 + 0.6·43020) / 1.0 = 43016; slippage = (43016 − 43000) / 43000 · 10⁴ = 3.7209 bps.
        // Fees: 0.0004·43010 + 0.0006·43020 = 17.204 + 25.812 = 43.016 USDT = 10 bps of 43016.
        let child = TransactionCost.Child(
            side: .buy, pair: Self.btc, orderedQty: Self.d("1.0"), arrivalMid: Self.d("43000"), submittedAt: Self.t0,
            executions: [
                Self.fill("43010", "0.4", fee: "0.0004", "BTC", after: 2),
                Self.fill("43020", "0.6", fee: "0.0006", "BTC", after: 5),
            ])
        let cost = try TransactionCost.cost(of: child)
        #expect(cost.averagePrice == Self.d("43016"))
        #expect(cost.filledNotional == Self.d("43016"))
        #expect(cost.feesQuote == Self.d("43.016"))
        #expect(cost.slippageBps?.description == "3.7209")
        #expect(cost.feeBps?.description == "10.0000")
        #expect(cost.fillRatio == 1)
        #expect(cost.secondsToFirstFill == 2)
        #expect(cost.secondsToLastFill == 5)
    }

    @Test func sellWithFeesInTheQuoteAsset() throws {
        // Sold below the mid: s·(P̄ − m₀) = −1·(2298.5 − 2300) = +1.5 → 1.5 / 2300 · 10⁴ = 6.5217 bps (a cost).
        let child = TransactionCost.Child(
            side: .sell, pair: Self.eth, orderedQty: Self.d("2"), arrivalMid: Self.d("2300"), submittedAt: Self.t0,
            executions: [Self.fill("2298.5", "2.0", fee: "4.597", "USDT", after: 1)])
        let cost = try TransactionCost.cost(of: child)
        #expect(cost.slippageBps?.description == "6.5217")
        #expect(cost.feeBps?.description == "10.0000")
        // Selling above the mid is a negative cost (price improvement).
        let better = TransactionCost.Child(
            side: .sell, pair: Self.eth, orderedQty: Self.d("1"), arrivalMid: Self.d("2300"), submittedAt: Self.t0,
            executions: [Self.fill("2301.15", "1", fee: "0", "USDT", after: 1)])
        #expect(try TransactionCost.cost(of: better).slippageBps?.description == "-5.0000")
    }

    @Test func feesInAThirdAssetConvertAtTheFillTimePrice() throws {
        // 0.002 BNB at 600 USDT = 1.2 USDT on 1400 notional = 8.5714 bps; slippage (140 − 139.93)/139.93 · 10⁴ = 5.0025.
        let child = TransactionCost.Child(
            side: .buy, pair: Self.sol, orderedQty: Self.d("10"), arrivalMid: Self.d("139.93"), submittedAt: Self.t0,
            executions: [Self.fill("140.00", "10", fee: "0.002", "BNB", after: 3)])
        let lookup: TransactionCost.PriceLookup = { asset, quote, time in
            asset == "BNB" && quote == "USDT" && time == Self.t0.addingTimeInterval(3) ? Self.d("600") : nil
        }
        let cost = try TransactionCost.cost(of: child, price: lookup)
        #expect(cost.feesQuote == Self.d("1.2"))
        #expect(cost.feeBps?.description == "8.5714")
        #expect(cost.slippageBps?.description == "5.0025")
        let missing = #expect(throws: TransactionCost.MissingPrice.self) { try TransactionCost.cost(of: child) }
        #expect(missing?.asset == "BNB")
    }

    @Test func anUnfilledOrderHasNoSlippageAndZeroFillRatio() throws {
        let child = TransactionCost.Child(
            side: .buy, pair: Self.btc, orderedQty: Self.d("1"), arrivalMid: Self.d("43000"), submittedAt: Self.t0,
            executions: [])
        let cost = try TransactionCost.cost(of: child)
        #expect(cost.slippageBps == nil && cost.feeBps == nil && cost.averagePrice == nil)
        #expect(cost.fillRatio == 0)
    }

    @Test func shortfallOfAPartiallyFilledBuyIncludesTheOpportunityCost() throws {
        // Decided 1 BTC at 43000; 0.6 filled at 43020 with 25.812 USDT fees; the mid ended at 43100.
        // Execution (43020 − 43000)·0.6 = 12; opportunity (43100 − 43000)·0.4 = 40; total 12 + 25.812 + 40 = 77.812
        // = 18.0958 bps of 43000.
        let shortfall = try ImplementationShortfall.compute(
            side: .buy, pair: Self.btc, decidedQty: Self.d("1"), decisionMid: Self.d("43000"), endMid: Self.d("43100"),
            executions: [Self.fill("43020", "0.6", fee: "25.812", "USDT", after: 4)])
        #expect(shortfall.executionCost == 12)
        #expect(shortfall.fees == Self.d("25.812"))
        #expect(shortfall.opportunityCost == 40)
        #expect(shortfall.total == Self.d("77.812"))
        #expect(shortfall.bps?.description == "18.0958")
        #expect(shortfall.unfilledQty == Self.d("0.4"))
    }

    @Test func shortfallOfAPartiallyFilledSell() throws {
        // Sell 2 ETH decided at 2300; 1.5 at 2298 (fees 3.447); end mid 2290.
        // Execution −(2298 − 2300)·1.5 = 3; opportunity −(2290 − 2300)·0.5 = 5; total 11.447 = 24.8848 bps of 4600.
        let shortfall = try ImplementationShortfall.compute(
            side: .sell, pair: Self.eth, decidedQty: Self.d("2"), decisionMid: Self.d("2300"), endMid: Self.d("2290"),
            executions: [Self.fill("2298", "1.5", fee: "3.447", "USDT", after: 1)])
        #expect(shortfall.executionCost == 3)
        #expect(shortfall.opportunityCost == 5)
        #expect(shortfall.total == Self.d("11.447"))
        #expect(shortfall.bps?.description == "24.8848")
    }

    @Test func percentilesUseNearestRank() {
        let values = Array(1...20)
        #expect(RouteStatistics.nearestRank(values, 50) == 10)
        #expect(RouteStatistics.nearestRank(values, 95) == 19)
        #expect(RouteStatistics.nearestRank([1, 2, 3], 95) == 3)
        #expect(RouteStatistics.nearestRank([1, 2, 3], 50) == 2)
        #expect(RouteStatistics.nearestRank([Int](), 50) == nil)
    }

    @Test func routeAggregatesWeightSlippageByQuantity() throws {
        func sample(_ slip: String?, qty: String, notional: String, fees: String, ordered: String)
            -> RouteStatistics.Sample
        {
            RouteStatistics.Sample(
                orderedQty: Self.d(ordered),
                cost: .init(
                    filledQty: Self.d(qty), averagePrice: nil, filledNotional: Self.d(notional),
                    feesQuote: Self.d(fees),
                    slippageBps: slip.map(Self.d), feeBps: nil, fillRatio: .zero, secondsToFirstFill: nil,
                    secondsToLastFill: slip == nil ? nil : 2),
                rejected: slip == nil, retries: 1)
        }
        // (2 bps × 1 + 5 bps × 3) / 4 = 4.25 bps; fees 10 + 20 on 1000 + 3000 = 75 bps; filled 4 of 5.
        let stats = RouteStatistics.aggregate(
            Route(venue: "a", symbol: "BTCUSDT", style: "passive"),
            [
                sample("2", qty: "1", notional: "1000", fees: "10", ordered: "1"),
                sample("5", qty: "3", notional: "3000", fees: "20", ordered: "3"),
                sample(nil, qty: "0", notional: "0", fees: "0", ordered: "1"),
            ])
        #expect(stats.orders == 3)
        #expect(stats.slippageMeanBps?.description == "4.2500")
        #expect(stats.slippageP50Bps == 2)
        #expect(stats.slippageP95Bps == 5)
        #expect(stats.feeBps?.description == "75.0000")
        #expect(stats.fillRatio == Self.d("0.8"))
        #expect(stats.rejects == 1)
        #expect(stats.retries == 3)
        #expect(stats.medianSecondsToFill == 2)
    }

    @Test func driftWeightsAndTurnover() throws {
        // Values 40000 + 20000 + 20000 = 80000 → weights 0.5, 0.25, 0.25 against 0.5, 0.3, 0.2.
        let report = try DriftReport.compute(
            holdings: ["BTC": Self.d("1"), "ETH": Self.d("10"), "USDT": Self.d("20000")],
            prices: ["BTC": Self.d("40000"), "ETH": Self.d("2000")],
            targets: ["BTC": Self.d("0.5"), "ETH": Self.d("0.3"), "USDT": Self.d("0.2")], quote: "USDT")
        #expect(report.totalValue == 80000)
        #expect(report.lines.map(\.asset) == ["BTC", "ETH", "USDT"])
        #expect(report.lines.map(\.drift) == [0, Self.d("-0.05"), Self.d("0.05")])
        #expect(report.portfolioDrift == Self.d("0.05"))
        #expect(report.turnover == Self.d("0.05"))
        // A held asset outside the targets with no price is left out, and named.
        let partial = try DriftReport.compute(
            holdings: ["USDT": 100, "DOGE": 5], prices: [:], targets: ["USDT": 1], quote: "USDT")
        #expect(partial.unpriced == ["DOGE"] && partial.totalValue == 100 && partial.portfolioDrift == 0)
        // A target held but unpriced cannot be weighed at all.
        #expect(throws: DriftReport.Problem.noPrice(asset: "BTC")) {
            try DriftReport.compute(holdings: ["BTC": 1, "USDT": 5], prices: [:], targets: ["BTC": 1], quote: "USDT")
        }
        #expect(throws: DriftReport.Problem.self) {
            try DriftReport.compute(holdings: ["DOGE": 5], prices: [:], targets: ["USDT": 1], quote: "USDT")
        }
        #expect(throws: DriftReport.Problem.self) {
            try DriftReport.compute(holdings: [:], prices: [:], targets: ["USDT": 1], quote: "USDT")
        }
    }
}

@Suite struct TransactionCostTotalsTests {
    /// Property: costing from sums (as the database computes them) equals costing fill by fill.
    @Test func costFromTotalsEqualsCostFromExecutions() throws {
        var rng = SplitMix64(seed: 42)
        let pair = TradingPair(symbol: "BTCUSDT", base: "BTC", quote: "USDT")
        let start = Date(timeIntervalSince1970: 1_767_225_600)
        for _ in 0..<500 {
            let count = Int(rng.next() % 6)
            let executions = (0..<count).map { i in
                TransactionCost.Execution(
                    price: ExactDecimal(significand: Int128(4_300_000 + Int(rng.next() % 2000)), scale: 2),
                    qty: ExactDecimal(significand: Int128(1 + rng.next() % 100_000), scale: 8),
                    commission: ExactDecimal(significand: Int128(rng.next() % 1000), scale: 8),
                    commissionAsset: rng.next() % 2 == 0 ? "BTC" : "USDT", time: start.addingTimeInterval(Double(i)))
            }
            let side: Side = rng.next() % 2 == 0 ? .buy : .sell
            let child = TransactionCost.Child(
                side: side, pair: pair, orderedQty: ExactDecimal(significand: 500_000, scale: 8),
                arrivalMid: ExactDecimal(significand: 4_300_000, scale: 2), submittedAt: start, executions: executions)
            let direct = try TransactionCost.cost(of: child)
            let totals = try TransactionCost.totals(of: executions, pair: pair) { _, _, _ in nil }
            let summed = TransactionCost.cost(
                side: side, orderedQty: child.orderedQty, arrivalMid: child.arrivalMid, submittedAt: start,
                totals: totals)
            #expect(direct == summed)
        }
    }
}
