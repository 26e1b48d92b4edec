import BallastCore
import BallastTesting
import CurlHTTP
import Foundation
import Simulator
import Testing
import Transport
import Venues

/// A simulated venue and Ballast's Binance client talking to it over real HTTP on loopback.
final class VenueHarness: @unchecked Sendable {
    let simulator: Simulator
    let venue: SimulatedVenue
    let curl: CurlClient
    let events = MemoryEventSink()
    let store: LocalRateBudgetStore
    let account = AccountConfig.demo(venue: "sim-t")
    /// The venue's and the clients' clock (virtual: the market moves only when a test says so).
    let clock: any TimeSource

    init(
        configure: (inout VenueConfig) -> Void = { _ in }, timeout: Duration = .seconds(5),
        store: LocalRateBudgetStore = LocalRateBudgetStore(), seed: UInt64 = 7, clock: any TimeSource = SystemTime(),
        latencyMovesClock: Bool = false
    ) throws {
        var config = VenueConfig(name: "sim-t")
        config.latency = LatencyProfile(baseMs: 0, jitterMs: 0)
        config.accounts = [AccountConfig.demo(venue: "sim-t")]
        configure(&config)
        self.clock = clock
        simulator = try Simulator(
            config: SimulatorConfig(seed: seed, venues: [config]), clock: clock, latencyMovesClock: latencyMovesClock)
        venue = simulator.venues[0]
        curl = CurlClient(connectTimeout: .seconds(2), timeout: timeout)
        self.store = store
    }

    func client(
        secret: String? = nil, limits: RateLimits = RateLimits(maxWait: .seconds(10)),
        transport: (any HTTPTransport)? = nil
    ) -> BinanceSpotClient {
        let credentials = Credentials(apiKey: account.apiKey, secret: secret ?? account.secret)
        let governor = RateGovernor(
            venue: "sim-t", keyFingerprint: credentials.fingerprint, limits: limits, store: store, events: events,
            clock: clock)
        return BinanceSpotClient(
            venue: "sim-t", account: "acct", baseURL: venue.baseURL, credentials: credentials,
            transport: transport ?? curl, governor: governor, events: events, clock: clock)
    }

    func close() {
        curl.close()
        simulator.stop()
    }
}

@Suite(.serialized) struct SimulatorVenueTests {
    @Test func everyEndpointRoundTrips() async throws {
        let h = try VenueHarness()
        defer { h.close() }
        let client = h.client()
        try await client.synchroniseClock()
        let asked = Date()
        let time = try await client.serverTime()
        let answered = Date()
        // The venue's clock is the real one: its time falls within the call (ms precision, 1 s slack).
        #expect(time >= asked.addingTimeInterval(-1) && time <= answered.addingTimeInterval(1), "\(time) vs \(asked)")

        let info = try await client.exchangeInfo()
        #expect(info.symbols.map(\.pair.symbol).sorted() == ["BNBUSDT", "BTCUSDT", "ETHBTC", "ETHUSDT", "SOLUSDT"])
        let eth = try #require(info.symbols.first { $0.pair.symbol == "ETHUSDT" })
        #expect(eth.tickSize == ExactDecimal("0.01")!)
        #expect(eth.stepSize == ExactDecimal("0.0001")!)
        #expect(eth.minNotional == ExactDecimal("5")!)
        #expect(info.limits.requestWeightPerMinute == 6000)

        let tickers = try await client.bookTickers(["ETHUSDT", "BTCUSDT"])
        #expect(tickers.count == 2)
        for ticker in tickers { #expect(ticker.bidPrice < ticker.askPrice) }
        let depth = try await client.depth("ETHUSDT", limit: 5)
        #expect(depth.bids.count == 5 && depth.asks.count == 5)
        #expect(depth.bids[0].price > depth.bids[1].price && depth.asks[0].price < depth.asks[1].price)

        let account = try await client.account()
        #expect(account.balances.first { $0.asset == "USDT" }?.free == ExactDecimal("100000")!)
        #expect(account.takerRate == ExactDecimal("0.001")!)

        // A resting buy below the bid: placed, visible, cancelled.
        let bid = try #require(tickers.first { $0.symbol == "ETHUSDT" }).bidPrice
        let resting = NewOrder(
            symbol: "ETHUSDT", side: .buy, type: .limit, timeInForce: .gtc, quantity: ExactDecimal("0.5")!,
            price: bid - ExactDecimal(50), clientOrderId: "rt-rest-1")
        let ack = try await client.placeOrder(resting)
        #expect(ack.order.status == .open && ack.fills.isEmpty)
        #expect(try await client.queryOrder("ETHUSDT", clientOrderId: "rt-rest-1").value?.orderId == ack.order.orderId)
        #expect(try await client.openOrders("ETHUSDT").map(\.clientOrderId) == ["rt-rest-1"])
        let locked = try await client.account().balances.first { $0.asset == "USDT" }!.locked
        #expect(locked == (bid - ExactDecimal(50)) * ExactDecimal("0.5")!)
        #expect(try await client.cancelOrder("ETHUSDT", clientOrderId: "rt-rest-1").value?.status == .cancelled)
        #expect(try await client.openOrders(nil).isEmpty)
        #expect(try await client.queryOrder("ETHUSDT", clientOrderId: "never-sent").value == nil)
        #expect(try await client.cancelOrder("ETHUSDT", clientOrderId: "never-sent").value == nil)

        // A marketable sell: filled at once, fee in USDT, visible in myTrades and allOrders.
        let sell = NewOrder(
            symbol: "ETHUSDT", side: .sell, type: .market, timeInForce: nil, quantity: ExactDecimal("1.5")!,
            price: nil, clientOrderId: "rt-mkt-1")
        let filled = try await client.placeOrder(sell)
        #expect(filled.order.status == .filled)
        #expect(filled.fills.map(\.qty).sum() == ExactDecimal("1.5")!)
        #expect(filled.fills.allSatisfy { $0.commissionAsset == "USDT" })
        let trades = try await client.myTrades("ETHUSDT", fromId: 0)
        #expect(trades.map(\.tradeId) == filled.fills.map(\.tradeId))
        #expect(trades.allSatisfy { $0.side == .sell && !$0.isMaker })
        #expect(try await client.allOrders("ETHUSDT").map(\.clientOrderId) == ["rt-rest-1", "rt-mkt-1"])
        let eth2 = try await client.account().balances.first { $0.asset == "ETH" }!
        #expect(eth2.free == ExactDecimal("18.5")!)

        // Every request was recorded with its timings.
        let attempts = h.events.attempts
        #expect(attempts.count >= 15)
        #expect(attempts.allSatisfy { $0.timings != nil && $0.httpStatus != nil })
    }

    @Test func filtersAreEnforcedOnBothSides() async throws {
        let h = try VenueHarness()
        defer { h.close() }
        let client = h.client()
        let rules = try #require(try await client.exchangeInfo().symbols.first { $0.pair.symbol == "BTCUSDT" })
        // Ours: the rules from exchangeInfo catch an off-step quantity and a tiny notional.
        #expect(rules.check(price: ExactDecimal("43000.00")!, qty: ExactDecimal("0.000015")!) != nil)
        #expect(rules.check(price: ExactDecimal("43000.00")!, qty: ExactDecimal("0.00001")!)?.filter == "NOTIONAL")
        #expect(rules.check(price: ExactDecimal("43000.005")!, qty: ExactDecimal("0.001")!)?.filter == "PRICE_FILTER")
        // Theirs: the venue refuses the same orders with −1013 naming the filter.
        let cases: [(String, String, String)] = [
            ("43000.00", "0.000015", "LOT_SIZE"), ("43000.00", "0.00001", "NOTIONAL"),
            ("43000.005", "0.001", "PRICE_FILTER"),
        ]
        for (i, (price, qty, filter)) in cases.enumerated() {
            let order = NewOrder(
                symbol: "BTCUSDT", side: .buy, type: .limit, timeInForce: .gtc, quantity: ExactDecimal(qty)!,
                price: ExactDecimal(price)!, clientOrderId: "flt-\(i)")
            await #expect {
                _ = try await client.placeOrder(order)
            } throws: { error in
                guard case .rejected(_, _, 400, -1013, let message, _) = error as? VenueError else { return false }
                return message == "Filter failure: \(filter)"
            }
        }
        #expect(h.venue.orders(apiKey: h.account.apiKey).isEmpty)
    }

    @Test func duplicateClientIDIsRefusedWhileOpenAndTradesAgainAfterFill() async throws {
        let h = try VenueHarness()
        defer { h.close() }
        let client = h.client()
        let ticker = try #require(try await client.bookTickers(["ETHUSDT"]).first)
        let passive = NewOrder(
            symbol: "ETHUSDT", side: .buy, type: .postOnly, timeInForce: nil, quantity: ExactDecimal("0.2")!,
            price: ticker.bidPrice - ExactDecimal(30), clientOrderId: "dup-1")
        _ = try await client.placeOrder(passive)
        await #expect {
            _ = try await client.placeOrder(passive)
        } throws: { error in
            (error as? VenueError)?.venueCode == -2010 && "\(error)".contains("Duplicate order sent.")
        }
        _ = try await client.cancelOrder("ETHUSDT", clientOrderId: "dup-1")

        // A marketable limit fills at once; the same id is then accepted as a new order.
        let crossing = NewOrder(
            symbol: "ETHUSDT", side: .buy, type: .limit, timeInForce: .gtc, quantity: ExactDecimal("0.2")!,
            price: ticker.askPrice + ExactDecimal(5), clientOrderId: "dup-2")
        let first = try await client.placeOrder(crossing)
        #expect(first.order.status == .filled)
        let second = try await client.placeOrder(crossing)
        #expect(second.order.status == .filled)
        #expect(second.order.orderId != first.order.orderId)
        let views = h.venue.orders(apiKey: h.account.apiKey)
        #expect(views.map(\.clientOrderId) == ["dup-1", "dup-2", "dup-2"])
        #expect(views.map(\.status) == ["cancelled", "filled", "filled"])
    }

    @Test func venueRulesForMakerIOCFOKAndBalance() async throws {
        // In virtual time, so the book the orders meet is the one the ticker showed, however busy the machine.
        let h = try VenueHarness(
            configure: {
                // A thin book: 0.5 ETH at the touch, then more a level deeper.
                $0.symbols = SymbolConfig.demo.map { symbol in
                    var s = symbol
                    s.levelQty = s.symbol == "ETHUSDT" ? ExactDecimal("0.5")! : s.levelQty
                    return s
                }
            }, clock: VirtualTime())
        defer { h.close() }
        let client = h.client()
        let ticker = try #require(try await client.bookTickers(["ETHUSDT"]).first)
        func order(_ id: String, _ type: OrderType, _ tif: TimeInForce?, _ qty: String, _ price: ExactDecimal)
            -> NewOrder
        {
            NewOrder(
                symbol: "ETHUSDT", side: .buy, type: type, timeInForce: tif, quantity: ExactDecimal(qty)!, price: price,
                clientOrderId: id)
        }
        // LIMIT_MAKER at the ask would take: refused.
        await #expect {
            _ = try await client.placeOrder(order("mk", .postOnly, nil, "0.1", ticker.askPrice))
        } throws: { error in "\(error)".contains("Order would immediately match and take.") }
        // IOC at the ask for more than the touch holds: partial fill, the rest expires.
        let ioc = try await client.placeOrder(order("ioc", .limit, .ioc, "0.8", ticker.askPrice))
        #expect(ioc.order.status == .expired)
        #expect(ioc.order.executedQty == ExactDecimal("0.5")!)
        // FOK for more than the book holds within the limit: nothing fills.
        let fok = try await client.placeOrder(order("fok", .limit, .fok, "3", ticker.askPrice))
        #expect(fok.order.status == .expired && fok.order.executedQty.isZero && fok.fills.isEmpty)
        // More than the account can pay for.
        await #expect {
            _ = try await client.placeOrder(order("big", .limit, .gtc, "500", ticker.bidPrice - ExactDecimal(100)))
        } throws: { error in "\(error)".contains("insufficient balance") }
    }

    @Test func rateLimitWaitsRetryAfterThenSucceeds() async throws {
        let h = try VenueHarness()
        defer { h.close() }
        h.venue.addFault(FaultRule(kind: .rateLimit, path: "/api/v3/account", count: 1, retryAfterSeconds: 1))
        let client = h.client()
        let started = Date()
        let account = try await client.account()
        #expect(!account.balances.isEmpty)
        #expect(Date().timeIntervalSince(started) >= 0.9)
        let stats = h.venue.statistics
        #expect(stats.rateLimited == 1)
        #expect(stats.byEndpoint["GET /api/v3/account"] == 2)
        #expect(h.events.throttles.contains { $0.decision == .waited })
    }

    @Test func banMeansNoRequestReachesTheVenueUntilItEnds() async throws {
        let h = try VenueHarness()
        defer { h.close() }
        h.venue.addFault(FaultRule(kind: .ban, path: "/api/v3/account", count: 1, retryAfterSeconds: 3))
        let client = h.client()
        await #expect {
            _ = try await client.account()
        } throws: { error in
            if case .banned = error as? VenueError { return true }
            return false
        }
        let seen = h.venue.statistics.requests
        // During the ban every call is refused here, before any request is sent.
        for _ in 0..<5 {
            await #expect(throws: VenueError.self) { _ = try await client.bookTickers(["BTCUSDT"]) }
        }
        #expect(h.venue.statistics.requests == seen)
        #expect(h.venue.statistics.refusedWhileBanned == 0)
        #expect(h.events.throttles.contains { $0.decision == .refused })
        // After it passes, requests flow again.
        try await Task.sleep(for: .seconds(3.2))
        #expect(try await client.bookTickers(["BTCUSDT"]).count == 1)
        #expect(h.venue.statistics.requests == seen + 1)
    }

    @Test func venueBansAClientThatIgnores429s() async throws {
        let h = try VenueHarness { $0.limits = LimitConfig(requestWeightPerMinute: 30, violationsBeforeBan: 2) }
        defer { h.close() }
        var statuses: [Int] = []
        for _ in 0..<6 {
            // A client with no governor: plain HTTP, hammering.
            let response = try await h.curl.send(
                .init(method: .get, url: h.venue.baseURL + "/api/v3/exchangeInfo", headers: [], body: []))
            statuses.append(response.status)
        }
        #expect(statuses.prefix(1) == [200])
        #expect(statuses.contains(429))
        #expect(statuses.last == 418)
        #expect(h.venue.statistics.banned == 1)
    }

    @Test func clockSkewIsCorrectedAfterAMinus1021() async throws {
        let h = try VenueHarness { $0.clockSkewMs = -2500 }
        defer { h.close() }
        let client = h.client()
        let account = try await client.account()
        #expect(!account.balances.isEmpty)
        let offset = client.serverClockOffset
        #expect(offset < .milliseconds(-2000) && offset > .milliseconds(-3000))
        #expect(h.events.attempts.contains { $0.venueCode == -1021 })
        #expect(h.events.attempts.last?.httpStatus == 200)
    }

    @Test func aWrongSecretIsRefusedWithMinus1022() async throws {
        let h = try VenueHarness()
        defer { h.close() }
        let client = h.client(secret: "not-the-secret")
        await #expect {
            _ = try await client.account()
        } throws: { error in (error as? VenueError)?.venueCode == -1022 }
    }

    @Test func malformedJSONIsANamedErrorKeepingThePayload() async throws {
        let h = try VenueHarness()
        defer { h.close() }
        h.venue.addFault(FaultRule(kind: .malformed, path: "/api/v3/depth", count: 1))
        let client = h.client()
        await #expect {
            _ = try await client.depth("BTCUSDT", limit: 5)
        } throws: { error in
            guard case .malformed(_, let endpoint, _, let raw, _) = error as? VenueError else { return false }
            return endpoint == "/api/v3/depth" && raw.hasPrefix("{\"lastUpdateId\"")
        }
    }

    @Test func aMalformedAnswerIsThisRequestsAnswerCutShort() async throws {
        let h = try VenueHarness()
        defer { h.close() }
        let wire = BodyRecorder(h.curl)
        let client = h.client(transport: wire)
        let ticker = try #require(try await client.bookTickers(["SOLUSDT"]).first)
        func order(_ id: String) -> NewOrder {
            NewOrder(
                symbol: "SOLUSDT", side: .buy, type: .postOnly, timeInForce: nil, quantity: ExactDecimal("0.1")!,
                price: ticker.bidPrice - ExactDecimal(10), clientOrderId: id)
        }
        func malformed(_ method: String, _ call: () async throws -> Void) async -> String? {
            h.venue.addFault(FaultRule(kind: .malformed, method: method, path: "/api/v3/order", count: 1))
            do {
                try await call()
            } catch let error as VenueError {
                if case .malformed(_, _, _, let raw, _) = error { return raw }
            } catch {}
            Issue.record("\(method) /api/v3/order did not answer a malformed body")
            return nil
        }
        func isJSON(_ text: String) -> Bool { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) != nil }

        // What the venue answers when nothing goes wrong.
        _ = try await client.placeOrder(order("real"))
        let placed = try #require(wire.last)
        _ = try await client.queryOrder("SOLUSDT", clientOrderId: "real")
        let queried = try #require(wire.last)
        _ = try await client.cancelOrder("SOLUSDT", clientOrderId: "never-placed")
        let unknown = try #require(wire.last)

        // An order the fault does not place is answered as it would have been, cut short.
        let order1 = await malformed("POST") { _ = try await client.placeOrder(order("cut")) }
        #expect(try await client.queryOrder("SOLUSDT", clientOrderId: "cut").value == nil)
        let query = await malformed("GET") { _ = try await client.queryOrder("SOLUSDT", clientOrderId: "real") }
        let cancel = await malformed("DELETE") { _ = try await client.cancelOrder("SOLUSDT", clientOrderId: "real") }
        let refusal = await malformed("DELETE") {
            _ = try await client.cancelOrder("SOLUSDT", clientOrderId: "never-placed")
        }
        for (raw, real) in [(order1, placed), (query, queried), (cancel, queried), (refusal, unknown)] {
            let raw = try #require(raw)
            #expect(!isJSON(raw) && isJSON(real), "\(raw)")
            #expect(raw.count < real.count, "\(raw) vs \(real)")
            #expect(!raw.contains("BTCUSDT"), "\(raw)")
        }
        for raw in [order1, query, cancel] {
            #expect(raw?.hasPrefix("{\"symbol\":\"SOLUSDT\"") == true, "\(raw ?? "")")
        }
        #expect(query.map { queried.hasPrefix($0) } == true)
        #expect(refusal.map { unknown.hasPrefix($0) } == true, "\(refusal ?? "") vs \(unknown)")
    }

    @Test func ambiguousOrderOutcomesAreUnknownAndTheOrderCanBeFound() async throws {
        let h = try VenueHarness(timeout: .seconds(1))
        defer { h.close() }
        let client = h.client()
        let ticker = try #require(try await client.bookTickers(["BTCUSDT"]).first)
        let cases: [(FaultRule.Kind, Bool)] = [
            (.serverError, true), (.unknownStatus, true), (.dropResponse, true), (.reset, true), (.serverError, false),
            (.reset, false),
        ]
        for (i, (kind, placed)) in cases.enumerated() {
            h.venue.addFault(FaultRule(kind: kind, method: "POST", path: "/api/v3/order", count: 1, placed: placed))
            let id = "amb-\(i)"
            let order = NewOrder(
                symbol: "BTCUSDT", side: .buy, type: .postOnly, timeInForce: nil, quantity: ExactDecimal("0.001")!,
                price: ticker.bidPrice - ExactDecimal(100), clientOrderId: id)
            await #expect {
                _ = try await client.placeOrder(order)
            } throws: { error in
                if case .outcomeUnknown = error as? VenueError { return true }
                return false
            }
            // The lookup by client order id tells what really happened.
            let found = try await client.queryOrder("BTCUSDT", clientOrderId: id).value
            #expect((found != nil) == placed, "\(kind) placed=\(placed)")
        }
        let live = h.venue.orders(apiKey: h.account.apiKey).filter(\.isOpen)
        #expect(live.map(\.clientOrderId) == ["amb-0", "amb-1", "amb-2", "amb-3"])
    }

    @Test func aPartialFillFaultTakesHalfAndTheRestExpiresOrRests() async throws {
        let h = try VenueHarness()
        defer { h.close() }
        let client = h.client()
        let ticker = try #require(try await client.bookTickers(["BTCUSDT"]).first)
        func order(_ id: String, _ tif: TimeInForce) -> NewOrder {
            NewOrder(
                symbol: "BTCUSDT", side: .buy, type: .limit, timeInForce: tif, quantity: ExactDecimal("0.01001")!,
                price: ticker.askPrice, clientOrderId: id)
        }
        h.venue.addFault(FaultRule(kind: .partialFill, method: "POST", path: "/api/v3/order", count: 2))
        // Half of 0.01001 on the 0.00001 step is 0.00500: an IOC order expires with the rest…
        let ioc = try await client.placeOrder(order("half-ioc", .ioc))
        #expect(ioc.order.status == .expired)
        #expect(ioc.order.executedQty == ExactDecimal("0.005")!)
        #expect(ioc.fills.map(\.qty).reduce(ExactDecimal.zero, +) == ExactDecimal("0.005")!)
        // …a GTC one rests with it.
        let gtc = try await client.placeOrder(order("half-gtc", .gtc))
        #expect(gtc.order.status == .partiallyFilled)
        #expect(gtc.order.executedQty == ExactDecimal("0.005")!)
        // The fault spent, the next order takes all it crosses.
        let whole = try await client.placeOrder(order("whole", .ioc))
        #expect(whole.order.status == .filled && whole.order.executedQty == ExactDecimal("0.01001")!)
        #expect(h.venue.statistics.faultsHit == 2)
    }

    @Test func inAReplayLatencyIsVirtualTimePassingAndTheVenueStampsTheArrivalMid() async throws {
        let clock = VirtualTime()
        let h = try VenueHarness(
            configure: { $0.latency = LatencyProfile(baseMs: 400, jitterMs: 0, entryMs: 250, entryJitterMs: 0) },
            clock: clock, latencyMovesClock: true)
        defer { h.close() }
        let client = h.client()
        let before = clock.now()
        let ticker = try #require(try await client.bookTickers(["ETHUSDT"]).first)
        // 250 ms in and 400 ms out, on the virtual clock.
        #expect(abs(clock.now().timeIntervalSince(before) - 0.65) < 1e-6)
        // No real wait: a minute of latency passes on the virtual clock in far less than a minute
        // of wall time (a bound loose enough for a loaded machine running the suite in parallel).
        let slowClock = VirtualTime()
        let slow = try VenueHarness(
            configure: { $0.latency = LatencyProfile(baseMs: 60_000, jitterMs: 0) }, clock: slowClock,
            latencyMovesClock: true)
        defer { slow.close() }
        let slowBefore = slowClock.now()
        let wall = Date()
        _ = try await slow.client().bookTickers(["ETHUSDT"])
        #expect(abs(slowClock.now().timeIntervalSince(slowBefore) - 60) < 1e-6)
        #expect(Date().timeIntervalSince(wall) < 20)
        let sent = clock.now()
        let ack = try await client.placeOrder(
            NewOrder(
                symbol: "ETHUSDT", side: .buy, type: .limit, timeInForce: .gtc, quantity: ExactDecimal("0.01")!,
                price: ticker.bidPrice - ExactDecimal("5")!, clientOrderId: "stamped"))
        #expect(abs(ack.order.time.timeIntervalSince(sent) - 0.25) < 0.002)  // it reached the engine 250 ms later
        let order = try #require(h.venue.orders(apiKey: h.account.apiKey).first { $0.clientOrderId == "stamped" })
        let mids = h.venue.mids()
        #expect(order.arrivalMid.isPositive)
        #expect(abs((order.arrivalMid - mids["ETHUSDT"]!).doubleValue) / mids["ETHUSDT"]!.doubleValue < 0.01)
    }

    @Test func theSameSeedAndClockGiveTheSameMarket() async throws {
        func run() async throws -> [String] {
            let clock = VirtualTime()
            var config = VenueConfig(name: "sim-d")
            config.latency = LatencyProfile(baseMs: 0, jitterMs: 0)
            let simulator = try Simulator(config: SimulatorConfig(seed: 42, venues: [config]), clock: clock)
            let curl = CurlClient()
            defer {
                curl.close()
                simulator.stop()
            }
            var bodies: [String] = []
            for _ in 0..<20 {
                clock.advance(by: 30)
                let response = try await curl.send(
                    .init(
                        method: .get, url: simulator.venues[0].baseURL + "/api/v3/ticker/bookTicker", headers: [],
                        body: []))
                bodies.append(String(decoding: response.body, as: UTF8.self))
            }
            return bodies
        }
        let first = try await run()
        let second = try await run()
        #expect(first == second)
        #expect(Set(first).count > 10)  // the market moved
    }

    @Test func anUnmodifiedThirdPartyClientWorks() throws {
        let h = try VenueHarness()
        defer { h.close() }
        let script = """
            import sys, json
            from binance.spot import Spot
            from binance.error import ClientError
            url, key, secret = sys.argv[1:4]
            c = Spot(api_key=key, api_secret=secret, base_url=url)
            out = {}
            out["time"] = c.time()["serverTime"] > 0
            info = c.exchange_info(symbol="ETHUSDT")
            out["filters"] = [f["filterType"] for f in info["symbols"][0]["filters"]]
            bt = c.book_ticker(symbol="ETHUSDT")
            price = "%.2f" % (float(bt["bidPrice"]) - 20)
            o = c.new_order(symbol="ETHUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.5",
                            price=price, newClientOrderId="tp-1")
            out["new"] = o["status"]
            try:
                c.new_order(symbol="ETHUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.5",
                            price=price, newClientOrderId="tp-1")
            except ClientError as e:
                out["dup"] = [e.status_code, e.error_code]
            out["query"] = c.get_order(symbol="ETHUSDT", origClientOrderId="tp-1")["status"]
            out["open"] = len(c.get_open_orders(symbol="ETHUSDT"))
            out["cancel"] = c.cancel_order(symbol="ETHUSDT", origClientOrderId="tp-1")["status"]
            m = c.new_order(symbol="ETHUSDT", side="SELL", type="MARKET", quantity="1.25")
            out["market"] = [m["status"], m["executedQty"]]
            out["trades"] = len(c.my_trades(symbol="ETHUSDT"))
            out["all"] = len(c.get_orders(symbol="ETHUSDT"))
            bal = {b["asset"]: b["free"] for b in c.account()["balances"]}
            out["eth"] = bal["ETH"]
            print(json.dumps(out))
            """
        let data = try Openpyxl.runPython(script, arguments: [h.venue.baseURL, h.account.apiKey, h.account.secret])
        let out = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(out["time"] as? Bool == true)
        #expect(out["filters"] as? [String] == ["PRICE_FILTER", "LOT_SIZE", "MARKET_LOT_SIZE", "NOTIONAL"])
        #expect(out["new"] as? String == "NEW")
        #expect(out["dup"] as? [Int] == [400, -2010])
        #expect(out["query"] as? String == "NEW")
        #expect(out["open"] as? Int == 1)
        #expect(out["cancel"] as? String == "CANCELED")
        #expect(out["market"] as? [String] == ["FILLED", "1.25000000"])
        #expect(out["all"] as? Int == 2)
        #expect(out["eth"] as? String == "18.75000000")
        #expect((out["trades"] as? Int ?? 0) >= 1)
    }
}

/// A transport that passes requests on and keeps the body of the last answer.
final class BodyRecorder: HTTPTransport, @unchecked Sendable {
    // Safe to share: `body` is only touched while holding `lock`.
    private let lock = NSLock()
    private var body: String?
    private let next: any HTTPTransport

    init(_ next: any HTTPTransport) { self.next = next }

    /// The body of the last answer.
    var last: String? { lock.withLock { body } }

    func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        let response = try await next.send(request)
        lock.withLock { body = String(decoding: response.body, as: UTF8.self) }
        return response
    }
}
