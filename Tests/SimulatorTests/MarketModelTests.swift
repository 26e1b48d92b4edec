import BallastCore
import Foundation
import Testing

@testable import Simulator

/// The market model driven directly with explicit times: no venue, no HTTP, no sleeping.
@Suite struct MarketModelTests {
    static let start = Date(timeIntervalSince1970: 1_767_225_600)
    static let venue = VenueConfig(name: "t")

    /// BTCUSDT of the demo (level 0.5 BTC, 2 bps spread, σ_daily 3 %), adjusted.
    static func btc(_ configure: (inout SymbolConfig) -> Void = { _ in }) -> SymbolConfig {
        var symbol = SymbolConfig.demo[0]
        configure(&symbol)
        return symbol
    }

    /// A market on a scripted path of (seconds after start, mid), with no flow unless asked.
    static func scripted(_ mids: [(Double, Double)] = [(0, 43_000)], flow: Double = 0) -> Market {
        let config = btc { $0.flowRatePerSecond = flow }
        let points = mids.map { PathPoint(time: start.addingTimeInterval($0.0), mid: $0.1) }
        return Market(
            config: config, venue: venue, path: ScriptedPath(points: points, dailyVolatility: 0.03), start: start,
            flowSeed: 3)
    }

    static func at(_ seconds: Int) -> Date { start.addingTimeInterval(Double(seconds)) }

    static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(1, values.count)) }

    // MARK: Spread and depth follow volatility

    @Test func theSpreadWidensAndDepthThinsInAVolSpike() throws {
        let config = Self.btc {
            $0.scenario = .volSpike
            $0.scenarioSeconds = 7200
        }
        var market = try Market(config: config, venue: Self.venue, start: Self.start, pathSeed: 11, flowSeed: 12)
        var calm: [(spread: Double, depth: Double)] = []
        var spike: [(spread: Double, depth: Double)] = []
        // The spike runs from 2400 s to 3600 s; leave σ_s five half-lives to settle.
        for t in 1...3600 {
            _ = market.step(to: Self.at(t), seconds: 1)
            let book = market.book
            let half = (book.price(book.askIndex) - book.price(book.bidIndex)).doubleValue / 2 / market.mid
            let sample = (half, Double(book.full[0]))
            if (600..<2400).contains(t) { calm.append(sample) }
            if (2700..<3600).contains(t) { spike.append(sample) }
        }
        #expect(Self.mean(spike.map(\.spread)) >= 2 * Self.mean(calm.map(\.spread)))
        #expect(Self.mean(spike.map(\.depth)) <= 0.5 * Self.mean(calm.map(\.depth)))
    }

    // MARK: Impact with resilience

    @Test func takenDepthComesBackByItsHalfLife() {
        var market = Self.scripted()
        let executions = market.take(from: .sell, qty: ExactDecimal(1), limit: nil)
        #expect(executions.map(\.1).sum() == ExactDecimal(1))
        #expect(executions.count == 2)  // 0.5 at the touch, the rest a level deeper
        #expect(market.book.taken(.sell) == ExactDecimal(1))
        for t in 1...5 { _ = market.step(to: Self.at(t), seconds: 1) }  // one half-life (5 s)
        #expect(abs(market.book.taken(.sell).doubleValue - 0.5) < 0.01)
        for t in 6...10 { _ = market.step(to: Self.at(t), seconds: 1) }
        #expect(abs(market.book.taken(.sell).doubleValue - 0.25) < 0.01)
    }

    @Test func permanentImpactMovesTheMidByTheSquareRootLaw() {
        var market = Self.scripted()
        let before = market.mid
        // V_daily = 1 order/s · 86 400 s · mean size 0.05 BTC (the flow's defaults; switched off here).
        let volume = 86_400 * 0.05
        _ = market.take(from: .sell, qty: ExactDecimal(2), limit: nil)
        let expected = 0.5 * 0.03 * (2 / volume).squareRoot()
        #expect(abs(log(market.mid / before) - expected) < 1e-12)
        // It fades by its half-life (30 minutes): after one minute almost all is left.
        for t in 1...60 { _ = market.step(to: Self.at(t), seconds: 1) }
        let faded = expected * pow(0.5, 60.0 / 1800).squareRoot()
        #expect(abs(log(market.mid / before) - faded) < 1e-12)
        // Selling moves it down.
        _ = market.take(from: .buy, qty: ExactDecimal(8), limit: nil)
        #expect(market.mid < before)
    }

    // MARK: Passive orders earn their fills

    @Test func aRestingBidDoesNotFillWhileThePriceOnlyTouchesIt() {
        var market = Self.scripted([(0, 43_000), (1, 42_995.70), (2, 43_000), (3, 42_995.70), (4, 43_000)])
        let bid = market.touch.bid
        #expect(bid == ExactDecimal("42995.70")!)
        market.rest(id: 1, side: .buy, price: bid, qty: ExactDecimal("0.1")!)
        #expect(market.book.qty(lots: market.resting[0].queueAhead) == ExactDecimal("0.5")!)
        var lowest = market.mid
        for t in 1...4 {
            #expect(market.step(to: Self.at(t), seconds: 1).isEmpty)
            lowest = min(lowest, market.mid)
        }
        #expect(lowest <= bid.doubleValue)
        #expect(market.resting.count == 1)
    }

    @Test func aRestingBidFillsOnceSellFlowHasConsumedTheQueueAhead() {
        var market = Self.scripted()
        let bid = market.touch.bid
        market.rest(id: 1, side: .buy, price: bid, qty: ExactDecimal("0.1")!)
        // Buyers never reach it; sellers first trade the 0.5 BTC ahead of it (lots of 0.00001 BTC).
        #expect(market.absorb(aggressor: .buy, lots: 100_000).isEmpty)
        #expect(market.absorb(aggressor: .sell, lots: 30_000).isEmpty)
        #expect(market.book.qty(lots: market.resting[0].queueAhead) == ExactDecimal("0.2")!)
        #expect(
            market.absorb(aggressor: .sell, lots: 25_000)
                == [RestingFill(orderId: 1, price: bid, qty: ExactDecimal("0.05")!)])
        #expect(
            market.absorb(aggressor: .sell, lots: 20_000)
                == [RestingFill(orderId: 1, price: bid, qty: ExactDecimal("0.05")!)])
        #expect(market.resting.isEmpty)
    }

    @Test func aRestingBidFillsInFullWhenTheAskTradesThroughIt() {
        var market = Self.scripted([(0, 43_000), (1, 42_980)])
        let bid = market.touch.bid
        market.rest(id: 7, side: .buy, price: bid, qty: ExactDecimal("0.1")!)
        let fills = market.step(to: Self.at(1), seconds: 1)
        #expect(market.touch.ask <= bid)
        #expect(fills == [RestingFill(orderId: 7, price: bid, qty: ExactDecimal("0.1")!)])
    }

    @Test func restingBuysThatFillAreFollowedByALowerMid() throws {
        var market = try Market(config: Self.btc(), venue: Self.venue, start: Self.start, pathSeed: 5, flowSeed: 6)
        let horizon = 10
        var mids: [Double] = [market.mid]
        var fills: [(time: Int, price: Double)] = []
        var placed: (id: Int64, time: Int)?
        var nextID: Int64 = 1
        for t in 1...20_000 {
            if let order = placed, t - order.time >= 60 || market.resting.isEmpty {
                market.removeResting(order.id)
                placed = nil
            }
            if placed == nil {
                market.rest(id: nextID, side: .buy, price: market.touch.bid, qty: ExactDecimal("0.05")!)
                placed = (nextID, t)
                nextID += 1
            }
            for fill in market.step(to: Self.at(t), seconds: 1) { fills.append((t, fill.price.doubleValue)) }
            mids.append(market.mid)
        }
        let markouts = fills.filter { $0.time + horizon < mids.count }.map { fill in
            (fill.price - mids[fill.time + horizon]) / fill.price * 10_000
        }
        #expect(markouts.count >= 100)
        #expect(Self.mean(markouts) > 0, "mean markout \(Self.mean(markouts)) bps over \(markouts.count) fills")
        #expect(Double(markouts.filter { $0 > 0 }.count) > 0.5 * Double(markouts.count))
    }

    // MARK: Paths

    @Test(arguments: Scenario.allCases)
    func aScenarioRepeatsForItsSeedAndDiffersForAnother(scenario: Scenario) {
        func path(_ seed: UInt64) -> [PathPoint] {
            scenario.path(
                seed: seed, start: Self.start, duration: 7200, step: 1, startPrice: 43_000, dailyVolatility: 0.03)
        }
        let first = path(1)
        #expect(first.count == 7201)
        #expect(first.map(\.mid.bitPattern) == path(1).map(\.mid.bitPattern))
        #expect(first.map(\.mid) != path(2).map(\.mid))
        let lowest = first.map(\.mid).min()! / 43_000
        switch scenario {
        case .volSpike: #expect(first.map(\.volatilityMultiplier).max() == 5 && first.map(\.liquidity).min() == 0.5)
        case .flashCrash: #expect(lowest < 0.9 && first.map(\.liquidity).min()! < 0.25)
        case .trendChop: #expect(first.allSatisfy { $0.volatilityMultiplier == 1 })
        }
    }

    @Test func venuesListingASymbolFollowOnePathEachWithItsOwnBook() throws {
        let config = SimulatorConfig(seed: 9, venues: [VenueConfig(name: "a"), VenueConfig(name: "b")])
        let a = try Exchange(config: config.venues[0], seed: 101, now: Self.start)
        let b = try Exchange(config: config.venues[1], seed: 202, now: Self.start)
        let other = try Exchange(
            config: SimulatorConfig(seed: 10, venues: [VenueConfig(name: "a")]).venues[0], seed: 101, now: Self.start)
        var (pathA, pathB, pathOther): ([UInt64], [UInt64], [UInt64]) = ([], [], [])
        for t in stride(from: 30, through: 1800, by: 30) {
            for exchange in [a, b, other] { exchange.advance(to: Self.at(t)) }
            pathA.append(a.markets["BTCUSDT"]!.pathMid.bitPattern)
            pathB.append(b.markets["BTCUSDT"]!.pathMid.bitPattern)
            pathOther.append(other.markets["BTCUSDT"]!.pathMid.bitPattern)
        }
        #expect(pathA == pathB)
        #expect(pathA != pathOther)
        #expect(Set(pathA).count > 10)
        #expect(a.markets["ETHUSDT"]!.pathMid != a.markets["BTCUSDT"]!.pathMid)
    }

    // MARK: Settings

    @Test func modelSettingsDecodeWithDefaultsAndUnknownOnesAreRefused() throws {
        let symbol = """
            {"symbol": "BTCUSDT", "base": "BTC", "quote": "USDT", "tick_size": "0.01", "step_size": "0.00001",
             "start_price": "43000.00", "level_qty": "0.5", "scenario": "flash-crash", "impact_y": 0.7}
            """
        let venue = "{\"name\": \"x\", \"resilience_half_life_s\": 2, \"path_seed\": 5, \"symbols\": [\(symbol)]}"
        let config = try JSONDecoder().decode(SimulatorConfig.self, from: Data("{\"venues\": [\(venue)]}".utf8))
        let decoded = config.venues[0]
        #expect(decoded.resilienceHalfLifeSeconds == 2 && decoded.pathSeed == 5 && decoded.volHalfLifeSeconds == 60)
        #expect(decoded.symbols[0].scenario == .flashCrash && decoded.symbols[0].impactY == 0.7)
        #expect(decoded.symbols[0].flowRatePerSecond == 1 && decoded.symbols[0].scenarioSeconds == 7200)
        let typo = symbol.replacingOccurrences(of: "impact_y", with: "impact_why")
        #expect {
            _ = try JSONDecoder().decode(SymbolConfig.self, from: Data(typo.utf8))
        } throws: { error in "\(error)".contains("unknown setting 'impact_why'") }
    }
}
