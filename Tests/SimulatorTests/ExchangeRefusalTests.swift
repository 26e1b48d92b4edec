import BallastCore
import Foundation
import Testing

@testable import Simulator

/// The matching engine refuses in its own terms; each front words the refusal as its venue does.
@Suite struct ExchangeRefusalTests {
    /// A refusal and its words at Binance (code, message), Kraken and Coinbase (`error`).
    struct Wording: Sendable, CustomStringConvertible {
        let refusal: ExchangeRefusal
        let binanceCode: Int
        let binanceMessage: String
        let kraken: String
        let coinbase: String
        var description: String { "\(refusal)" }
    }

    static let wordings: [Wording] = [
        Wording(
            refusal: .insufficientBalance, binanceCode: -2010,
            binanceMessage: "Account has insufficient balance for requested action.",
            kraken: "EOrder:Insufficient funds", coinbase: "INSUFFICIENT_FUND"),
        Wording(
            refusal: .duplicateOpenClientOrderId, binanceCode: -2010, binanceMessage: "Duplicate order sent.",
            kraken: "EOrder:Duplicate order", coinbase: "UNKNOWN_FAILURE_REASON"),
        Wording(
            refusal: .wouldTakeLiquidity, binanceCode: -2010,
            binanceMessage: "Order would immediately match and take.", kraken: "EOrder:Post only order",
            coinbase: "INVALID_LIMIT_PRICE_POST_ONLY"),
        Wording(
            refusal: .noOpenOrder, binanceCode: -2011, binanceMessage: "Unknown order sent.",
            kraken: "EOrder:Unknown order", coinbase: "UNKNOWN_FAILURE_REASON"),
        Wording(
            refusal: .unknownSymbol, binanceCode: -1121, binanceMessage: "Invalid symbol.",
            kraken: "EQuery:Unknown asset pair", coinbase: "INVALID_PRODUCT_ID"),
        Wording(
            refusal: .filterFailure(.price), binanceCode: -1013, binanceMessage: "Filter failure: PRICE_FILTER",
            kraken: "EOrder:Invalid price", coinbase: "INVALID_LIMIT_PRICE"),
        Wording(
            refusal: .filterFailure(.quantity), binanceCode: -1013, binanceMessage: "Filter failure: LOT_SIZE",
            kraken: "EOrder:Order minimum not met", coinbase: "INVALID_SIZE_PRECISION"),
        Wording(
            refusal: .filterFailure(.notional), binanceCode: -1013, binanceMessage: "Filter failure: NOTIONAL",
            kraken: "EOrder:Cost minimum not met", coinbase: "PREVIEW_INVALID_QUOTE_SIZE_TOO_SMALL"),
        Wording(
            refusal: .unknownAccount, binanceCode: -2015,
            binanceMessage: "Invalid API-key, IP, or permissions for action.", kraken: "EGeneral:Invalid arguments",
            coinbase: "UNKNOWN_FAILURE_REASON"),
    ]

    @Test func anOrderBeyondTheBalanceIsRefusedInTheEnginesOwnTermsAndWordedByEachFront() throws {
        let exchange = try ExchangeMatchingTests.exchange()
        let bid = exchange.markets["BTCUSDT"]!.touch.bid
        let order = ExchangeMatchingTests.order("too-big", .buy, .limit, qty: "1000", price: bid)
        #expect(throws: ExchangeRefusal.insufficientBalance) {
            try exchange.place(order, apiKey: ExchangeMatchingTests.account.apiKey, at: ExchangeMatchingTests.start)
        }
        let binance = BinanceError(.insufficientBalance)
        #expect(binance.status == 400 && binance.code == -2010)
        #expect(binance.body == #"{"code":-2010,"msg":"Account has insufficient balance for requested action."}"#)
        #expect(SimulatedVenue.krakenError(.insufficientBalance).text == "EOrder:Insufficient funds")
        let coinbase = SimulatedVenue.coinbaseRefusal(.insufficientBalance, market: false)
        #expect(coinbase.error == "INSUFFICIENT_FUND" && coinbase.previewReason == "PREVIEW_INSUFFICIENT_FUND")
    }

    @Test(arguments: wordings)
    func everyRefusalHasItsWordsInEveryDialect(_ wording: Wording) {
        let binance = BinanceError(wording.refusal)
        #expect(binance.status == 400)
        #expect(binance.code == wording.binanceCode)
        #expect(binance.message == wording.binanceMessage)
        #expect(SimulatedVenue.krakenError(wording.refusal).text == wording.kraken)
        #expect(SimulatedVenue.coinbaseRefusal(wording.refusal, market: false).error == wording.coinbase)
    }

    @Test func aMarketOrderTheBookCannotFillIsNoLiquidityAtCoinbase() {
        #expect(SimulatedVenue.coinbaseRefusal(.filterFailure(.notional), market: true).error == "INVALID_NO_LIQUIDITY")
    }
}
