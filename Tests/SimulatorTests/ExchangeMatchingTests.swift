import BallastCore
import Foundation
import Testing

@testable import Simulator

/// The exchange's matching against the market model, driven with explicit times.
@Suite struct ExchangeMatchingTests {
    static let start = Date(timeIntervalSince1970: 1_767_225_600)
    static let account = AccountConfig.demo(venue: "t")

    static func exchange(seed: UInt64 = 21) throws -> Exchange {
        var venue = VenueConfig(name: "t")
        venue.accounts = [account]
        return try Exchange(config: SimulatorConfig(seed: 4, venues: [venue]).venues[0], seed: seed, now: start)
    }

    static func order(
        _ id: String, _ side: Side, _ type: OrderType, qty: String, price: ExactDecimal? = nil
    ) -> Exchange.NewOrder {
        Exchange.NewOrder(
            symbol: "BTCUSDT", side: side, type: type, timeInForce: type == .limit ? .gtc : nil,
            quantity: ExactDecimal(qty)!, quoteOrderQty: nil, price: price, clientOrderId: id)
    }

    @Test func anOrderMeetsTheBookAsItIsWhenItArrives() throws {
        let watched = try Self.exchange()
        let trading = try Self.exchange()
        let arrival = Self.start.addingTimeInterval(90)
        watched.advance(to: arrival)
        let ask = watched.markets["BTCUSDT"]!.touch.ask
        #expect(ask != trading.markets["BTCUSDT"]!.touch.ask)
        // Sent at the start, arriving 90 s later: it fills against the book at arrival.
        let (_, trades) = try trading.place(
            Self.order("late", .buy, .market, qty: "0.01"), apiKey: Self.account.apiKey, at: arrival)
        #expect(trades.map(\.price) == [ask])
    }

    @Test func aRestingOrderFillsAsAMakerOnlyOnceTheMarketReachesIt() throws {
        let exchange = try Self.exchange()
        let bid = exchange.markets["BTCUSDT"]!.touch.bid
        let (placed, immediate) = try exchange.place(
            Self.order("passive", .buy, .postOnly, qty: "0.02", price: bid), apiKey: Self.account.apiKey,
            at: Self.start)
        #expect(placed.status == .open && immediate.isEmpty)
        var t = 0
        while exchange.orders[placed.orderId]!.status.isOpen, t < 3600 {
            t += 1
            exchange.advance(to: Self.start.addingTimeInterval(Double(t)))
        }
        let filled = exchange.orders[placed.orderId]!
        #expect(filled.status == .filled, "still open after \(t) s")
        let trades = exchange.accounts[Self.account.apiKey]!.trades["BTCUSDT"] ?? []
        #expect(!trades.isEmpty && trades.allSatisfy { $0.isMaker && $0.price == bid })
        #expect(exchange.markets["BTCUSDT"]!.resting.isEmpty)
    }

    @Test func aCancelledOrderLeavesTheQueue() throws {
        let exchange = try Self.exchange()
        let bid = exchange.markets["BTCUSDT"]!.touch.bid - ExactDecimal(50)
        let (placed, _) = try exchange.place(
            Self.order("gone", .buy, .limit, qty: "0.02", price: bid), apiKey: Self.account.apiKey, at: Self.start)
        #expect(exchange.markets["BTCUSDT"]!.resting.map(\.id) == [placed.orderId])
        _ = try exchange.cancel(
            apiKey: Self.account.apiKey, symbol: "BTCUSDT", clientOrderId: "gone", orderId: nil,
            at: Self.start.addingTimeInterval(1))
        #expect(exchange.markets["BTCUSDT"]!.resting.isEmpty)
    }
}
