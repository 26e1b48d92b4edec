import BallastCore
import Testing

@Suite struct ReconciliationTests {
    static let btcusdt = TradingPair(symbol: "BTCUSDT", base: "BTC", quote: "USDT")
    static let ethbtc = TradingPair(symbol: "ETHBTC", base: "ETH", quote: "BTC")
    static func d(_ text: String) -> ExactDecimal { ExactDecimal(text)! }

    static let rules = [
        SymbolRules(
            pair: btcusdt, tickSize: d("0.01"), minPrice: d("0.01"), maxPrice: d("1000000"), stepSize: d("0.00001"),
            minQty: d("0.00001"), maxQty: d("9000"), minNotional: d("5"), maxNotional: nil),
        SymbolRules(
            pair: ethbtc, tickSize: d("0.00001"), minPrice: d("0.00001"), maxPrice: d("1000"), stepSize: d("0.0001"),
            minQty: d("0.0001"), maxQty: d("9000"), minNotional: d("0.0001"), maxNotional: nil),
    ]

    /// Bought 0.5 BTC for 21,500 USDT (fee 0.0005 BTC), sold 2 ETH for 0.1 BTC (fee 0.0001 BNB).
    static let fills = [
        Reconciliation.FillTotals(
            pair: btcusdt, side: .buy, qty: d("0.5"), quoteQty: d("21500"), commission: d("0.0005"),
            commissionAsset: "BTC"),
        Reconciliation.FillTotals(
            pair: ethbtc, side: .sell, qty: d("2"), quoteQty: d("0.1"), commission: d("0.0001"), commissionAsset: "BNB"),
    ]

    @Test func theLedgerMovesBaseQuoteAndFeeAssets() {
        let change = Reconciliation.ledgerChange(Self.fills)
        // BTC: +0.5 bought − 0.0005 fee + 0.1 from the ETH sale = 0.5995.
        #expect(change["BTC"] == Self.d("0.5995"))
        #expect(change["USDT"] == Self.d("-21500"))
        #expect(change["ETH"] == Self.d("-2"))
        #expect(change["BNB"] == Self.d("-0.0001"))
    }

    @Test func balancesThatTheFillsExplainMakeNoBreak() {
        let before = ["BTC": Self.d("1"), "USDT": Self.d("50000"), "ETH": Self.d("10"), "BNB": Self.d("1")]
        // The venue's figures, with a rounding difference below one BTC lot (0.00001).
        let after = ["BTC": Self.d("1.599504"), "USDT": Self.d("28500"), "ETH": Self.d("8"), "BNB": Self.d("0.9999")]
        let breaks = Reconciliation.balanceBreaks(before: before, after: after, fills: Self.fills) {
            Reconciliation.tolerance(of: $0, rules: Self.rules)
        }
        #expect(breaks.isEmpty)
    }

    @Test func aMissingFillAndAnUnexplainedChangeAreBreaks() {
        let before = ["BTC": Self.d("1"), "USDT": Self.d("50000"), "ETH": Self.d("10"), "BNB": Self.d("1")]
        // The ETH sale happened at the venue, but its fill is missing from the ledger;
        // and 250 USDT left the account with no fill at all.
        let after = ["BTC": Self.d("1.5995"), "USDT": Self.d("28250"), "ETH": Self.d("8"), "BNB": Self.d("0.9999")]
        let breaks = Reconciliation.balanceBreaks(before: before, after: after, fills: [Self.fills[0]]) {
            Reconciliation.tolerance(of: $0, rules: Self.rules)
        }
        #expect(breaks.map(\.asset) == ["BNB", "BTC", "ETH", "USDT"])
        let eth = breaks.first { $0.asset == "ETH" }!
        #expect(eth.expected == Self.d("10") && eth.actual == Self.d("8") && eth.difference == Self.d("-2"))
        let btc = breaks.first { $0.asset == "BTC" }!
        #expect(btc.expected == Self.d("1.4995") && btc.difference == Self.d("0.1"))
        let usdt = breaks.first { $0.asset == "USDT" }!
        #expect(usdt.expected == Self.d("28500") && usdt.difference == Self.d("-250"))
        #expect(usdt.tolerance == Self.d("0.01"))
    }

    @Test func toleranceIsOneLotStep() {
        #expect(Reconciliation.tolerance(of: "BTC", rules: Self.rules) == Self.d("0.00001"))  // base of BTCUSDT
        #expect(Reconciliation.tolerance(of: "ETH", rules: Self.rules) == Self.d("0.0001"))
        #expect(Reconciliation.tolerance(of: "USDT", rules: Self.rules) == Self.d("0.01"))  // only quoted: a tick
        #expect(Reconciliation.tolerance(of: "DOGE", rules: Self.rules) == .zero)
        // Exactly one lot off is tolerated; a hair more is not.
        let within = Reconciliation.balanceBreaks(
            before: ["BTC": Self.d("1")], after: ["BTC": Self.d("1.00001")], fills: []
        ) {
            Reconciliation.tolerance(of: $0, rules: Self.rules)
        }
        let beyond = Reconciliation.balanceBreaks(
            before: ["BTC": Self.d("1")], after: ["BTC": Self.d("1.000010001")], fills: []
        ) { Reconciliation.tolerance(of: $0, rules: Self.rules) }
        #expect(within.isEmpty && beyond.count == 1)
    }

    @Test func orderExecutionAgainstFills() {
        #expect(!Reconciliation.orderDisagrees(executed: Self.d("1"), filled: Self.d("1"), finished: true))
        #expect(Reconciliation.orderDisagrees(executed: Self.d("1"), filled: Self.d("0.6"), finished: true))
        #expect(Reconciliation.orderDisagrees(executed: Self.d("1"), filled: Self.d("1.2"), finished: true))
        // An open order seen at 0.4 may have filled more since; fewer fills than reported is a gap.
        #expect(!Reconciliation.orderDisagrees(executed: Self.d("0.4"), filled: Self.d("0.7"), finished: false))
        #expect(Reconciliation.orderDisagrees(executed: Self.d("0.4"), filled: Self.d("0.3"), finished: false))
    }
}
