import BallastCore
import BallastLab
import BallastTesting
import Foundation
import Logging
import Postgres
import Simulator
import Testing

@testable import BallastKit

/// What a decision may use: σ over the portfolio's own window (else the fallback window, else the
/// prior, recorded), books no older than `max_book_age_s`, depth combined only with a ticker taken
/// close to it.
@Suite struct DecisionInputsTests {
    static let now = Date(timeIntervalSince1970: 1_795_600_800)
    static func d(_ text: String) -> ExactDecimal { ExactDecimal(text)! }

    /// Two venues quoting ETHUSDT, an account at each; books `ages` seconds old, depth `skew` s after its ticker.
    static func view(ages: [Double] = [2, 2], skew: Double = 0) -> MarketView {
        var view = MarketView()
        for (i, venue) in ["sim-a", "sim-b"].enumerated() {
            let observed = now.addingTimeInterval(-ages[i])
            view.rules[venue] = [
                "ETHUSDT": SymbolRules(
                    pair: TradingPair(symbol: "ETHUSDT", base: "ETH", quote: "USDT"), tickSize: d("0.01"),
                    stepSize: d("0.001"), minQty: d("0.001"), minNotional: d("10"))
            ]
            view.books[venue] = [
                "ETHUSDT": MarketView.Book(
                    ticker: BookTicker(
                        symbol: "ETHUSDT", bidPrice: d("1999"), bidQty: 5, askPrice: d("2001"), askQty: 5),
                    tickerId: Int64(i + 1), observedAt: observed,
                    depth: DepthSnapshot(
                        symbol: "ETHUSDT", lastUpdateId: 1, bids: [.init(price: d("1999"), qty: 5)],
                        asks: [.init(price: d("2001"), qty: 5)]),
                    depthId: Int64(i + 10), depthObservedAt: observed.addingTimeInterval(skew))
            ]
            view.accountVenue["\(venue)-main"] = venue
            view.holdings["\(venue)-main"] = MarketView.Holdings(
                snapshotId: Int64(i + 1), takenAt: now,
                balances: [
                    "ETH": Balance(asset: "ETH", free: 10, locked: 0),
                    "USDT": Balance(asset: "USDT", free: 1_000, locked: 0),
                ])
        }
        return view
    }

    static func portfolio(window: Double = 24) -> PortfolioSettings {
        var bands = BandSettings()
        bands.windowHours = window
        return PortfolioSettings(
            id: "p", quote: "USDT", accounts: ["sim-a-main", "sim-b-main"],
            targets: ["ETH": d("0.5"), "USDT": d("0.5")], bands: bands)
    }

    static var config: JobConfig {
        get throws { try job() }
    }

    static func job() throws -> JobConfig {
        try TOMLFile.decode(
            JobConfig.self,
            text: """
                [[venues]]
                id = "sim-a"
                dialect = "binance-spot"
                base_url = "http://127.0.0.1:1"
                symbols = ["ETHUSDT"]
                """, source: "test")
    }

    @Test func sigmaComesFromThePortfoliosWindowThenTheFallbackWindowThenThePrior() throws {
        var view = Self.view()
        view.volatility = [1: ["ETHUSDT": 0.5], 24: ["ETHUSDT": 0.9], MarketView.fallbackWindowHours: ["ETHUSDT": 0.7]]
        let hourly = try DecisionInputs.gather(
            Self.portfolio(window: 1), config: Self.config, view: view, now: Self.now)
        #expect(hourly.volatility["ETH"] == 0.5 && hourly.volatilityBasis["ETH"] == "σ over 1 h")
        let daily = try DecisionInputs.gather(
            Self.portfolio(window: 24), config: Self.config, view: view, now: Self.now)
        #expect(daily.volatility["ETH"] == 0.9)
        view.volatility[24] = [:]
        let fallback = try DecisionInputs.gather(Self.portfolio(), config: Self.config, view: view, now: Self.now)
        #expect(fallback.volatility["ETH"] == 0.7)
        #expect(fallback.volatilityBasis["ETH"] == "σ over 168 h: fewer than 3 prices in 24 h")
        view.volatility = [:]
        let prior = try DecisionInputs.gather(Self.portfolio(), config: Self.config, view: view, now: Self.now)
        #expect(prior.volatility["ETH"] == 0.8)
        #expect(prior.volatilityBasis["ETH"] == "σ prior 0.8/√yr: fewer than 3 prices in 168 h")
        // The band is computed from it, never silently pinned at its maximum.
        #expect(prior.bandBasis["ETH"]?.contains("σ = 0.8000") == true, "\(prior.bandBasis)")
    }

    @Test func anOldBookIsNotUsedAndWhenEveryBookIsOldTheDecisionRefusesWithTheReason() throws {
        let one = try DecisionInputs.gather(
            Self.portfolio(), config: Self.config, view: Self.view(ages: [2, 300]), now: Self.now)
        #expect(one.books["ETHUSDT"]?.keys.sorted() == ["sim-a"])
        #expect(one.excludedBooks["ETHUSDT@sim-b"] == "ticker 300.0 s old > max_book_age_s 60: not used")
        #expect(one.quotes(for: "ETHUSDT", side: .buy, view: Self.view(ages: [2, 300])).map(\.venue) == ["sim-a"])
        #expect {
            try DecisionInputs.gather(
                Self.portfolio(), config: Self.config, view: Self.view(ages: [90, 300]), now: Self.now)
        } throws: {
            "\($0)".contains("every book of ETHUSDT is older than max_book_age_s = 60 (the newest is 90.0 s old)")
        }
    }

    @Test func aDepthTakenFarFromItsTickerIsNotCombinedWithIt() throws {
        let view = Self.view(skew: 0.6)
        var portfolio = Self.portfolio()
        portfolio.router.maxDepthSkewSeconds = 0.5
        let inputs = try DecisionInputs.gather(portfolio, config: Self.config, view: view, now: Self.now)
        #expect(inputs.touchOnly["ETHUSDT@sim-a"]?.hasPrefix("depth taken 0.600 s from its ticker") == true)
        #expect(inputs.quotes(for: "ETHUSDT", side: .buy, view: view).allSatisfy { $0.depth == nil })
        let close = try DecisionInputs.gather(
            Self.portfolio(), config: Self.config, view: Self.view(skew: 0.6), now: Self.now)
        #expect(close.touchOnly.isEmpty)  // within the default second
        #expect(close.quotes(for: "ETHUSDT", side: .buy, view: Self.view(skew: 0.6)).allSatisfy { $0.depth != nil })
    }
}

/// Pull stamps each observation with its own time.
@Suite(.serialized) struct PullTimestampTests {
    @Test func aDepthFetchedLaterCarriesItsOwnTime() async throws {
        let venues = try SimulatedVenues(venues: 1, seed: 3)
        defer { venues.stop() }
        venues.simulator.venues[0].addFault(
            FaultRule(kind: .delay, method: "GET", path: "/api/v3/depth", count: nil, delayMs: 300))
        let url = try TestDatabase.migrated()
        var logger = Logger(label: "test")
        logger.logLevel = .error
        _ = try await PullJob.run(
            config: venues.config, databaseURL: url, logger: logger, environment: venues.environment)
        let connection = try TestDatabase.connect(url)
        defer { connection.close() }
        let gaps = try connection.query(
            """
            SELECT extract(epoch FROM d.observed_at - t.observed_at)::float8 AS gap
            FROM depth_snapshots d JOIN book_tickers t USING (venue_id, symbol) ORDER BY d.observed_at
            """
        ).map { try $0.decode("gap", as: Double.self) }
        #expect(!gaps.isEmpty)
        #expect(gaps.allSatisfy { $0 >= 0.3 }, "\(gaps)")
        // Each depth after the one before it: the later symbols waited for the earlier ones.
        #expect(gaps.last! >= 0.3 * Double(gaps.count) - 0.05, "\(gaps)")
    }
}
