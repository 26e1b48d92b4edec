import BallastCore
import BallastTesting
import CurlHTTP
import Foundation
import Simulator
import Testing
import Transport

@testable import Venues

/// A simulated venue speaking Kraken Spot, and Ballast's Kraken client talking to it over real HTTP.
final class KrakenHarness: @unchecked Sendable {
    let simulator: Simulator
    let venue: SimulatedVenue
    let curl = CurlClient(connectTimeout: .seconds(2), timeout: .seconds(5))
    let events = MemoryEventSink()
    let store = LocalRateBudgetStore()
    let nonces = LocalNonceSource()
    var account = AccountConfig.demo(venue: "sim-k")

    init(configure: (inout VenueConfig) -> Void = { _ in }) throws {
        // Kraken secrets are base64.
        account.secret = Data("kraken-demo-secret-sim-k-0123456789abcdef".utf8).base64EncodedString()
        var config = VenueConfig(name: "sim-k", dialect: .krakenSpot)
        config.latency = LatencyProfile(baseMs: 0, jitterMs: 0)
        config.accounts = [account]
        // The pro tier on both sides (the client is told the account's tier, as a job file tells it).
        config.limits.callCounterMax = Double(KrakenSpotClient.proCounter.max)
        config.limits.callCounterDecayPerSecond = KrakenSpotClient.proCounter.decayPerSecond
        configure(&config)
        simulator = try Simulator(config: SimulatorConfig(seed: 11, venues: [config]), clock: SystemTime())
        venue = simulator.venues[0]
    }

    func client(nonces: (any NonceSource)? = nil, secret: String? = nil) -> KrakenSpotClient {
        let credentials = Credentials(apiKey: account.apiKey, secret: secret ?? account.secret)
        let governor = RateGovernor(
            venue: "sim-k", keyFingerprint: credentials.fingerprint,
            limits: RateLimits(maxWait: .seconds(10), callCounter: KrakenSpotClient.proCounter), store: store,
            events: events,
            clock: SystemTime())
        return KrakenSpotClient(
            venue: "sim-k", account: "acct", baseURL: venue.baseURL, credentials: credentials, transport: curl,
            governor: governor, events: events, nonces: nonces ?? self.nonces)
    }

    func close() {
        curl.close()
        simulator.stop()
    }
}

@Suite(.serialized) struct KrakenDialectTests {
    /// `price` moved by `percent` and put on the tick grid: far enough from the touch that the
    /// simulated market's walk while a test runs does not change what the order does.
    static func away(_ price: ExactDecimal, percent: Int, tick: ExactDecimal) -> ExactDecimal {
        let moved = price * (ExactDecimal(100 + percent).divided(by: ExactDecimal(100), scale: 4) ?? .one)
        return moved.rounded(toMultipleOf: tick, .down)
    }

    /// Kraken's documentation signs a limit buy of 1.25 XBTUSD at 37,500 with a given key and nonce.
    @Test func theDocumentedSignatureIsReproduced() {
        let credentials = Credentials(
            apiKey: "any",
            secret: "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==")
        let signature = KrakenSpotClient.sign(
            path: "/0/private/AddOrder", nonce: "1616492376594",
            body: "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25",
            secret: credentials)
        #expect(signature == "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ==")
    }

    @Test func everyEndpointRoundTripsUnderBallastsNames() async throws {
        let h = try KrakenHarness()
        defer { h.close() }
        let client = h.client()
        // The listing: Kraken's XXBT and XBTUSDT are Ballast's BTC and BTCUSDT.
        let listing = try await client.listing()
        let btc = try #require(listing.symbols.first { $0.pair.base == "BTC" })
        #expect(btc.pair.symbol == "BTCUSDT" && btc.pair.quote == "USDT" && btc.status == "TRADING")
        #expect(btc.tickSize.isPositive && btc.stepSize.isPositive)
        let account = try await client.account()
        #expect(account.balances.first { $0.asset == "BTC" }?.free == 2)
        #expect(account.balances.first { $0.asset == "USDT" }?.total == 100_000)
        #expect(account.takerRate == ExactDecimal("0.001"))
        let tickers = try await client.bookTickers(["BTCUSDT", "ETHUSDT"])
        #expect(tickers.map(\.symbol) == ["BTCUSDT", "ETHUSDT"])
        let touch = try #require(tickers.first)
        #expect(touch.bidPrice < touch.askPrice)
        let depth = try await client.depth("BTCUSDT", limit: 5)
        #expect(depth.bids.count == 5 && depth.asks.count == 5 && depth.bids[0].price < depth.asks[0].price)

        // An IOC buy that crosses: Kraken answers with the order's id; the lookup says what it did.
        let taker = VenueDialect.krakenSpot.clientOrderId(String(repeating: "ab", count: 32))
        #expect(taker.count == 32)
        let ack = try await client.placeOrder(
            NewOrder(
                symbol: "BTCUSDT", side: .buy, type: .limit, timeInForce: .ioc, quantity: ExactDecimal("0.01")!,
                price: Self.away(touch.askPrice, percent: 1, tick: btc.tickSize), clientOrderId: taker))
        #expect(ack.order.orderId.hasPrefix("O") && ack.order.orderId.count == 19)
        // Read back by its id at once: an IOC order's answer is already final, with the venue's time.
        #expect(ack.order.status == .filled && ack.order.executedQty == ExactDecimal("0.01"))
        let filled = try #require(try await client.queryOrder("BTCUSDT", clientOrderId: taker).value)
        #expect(filled.status == .filled && filled.executedQty == ExactDecimal("0.01"))
        #expect(filled.orderId == ack.order.orderId && filled.symbol == "BTCUSDT")
        let fills = try await client.orderFills("BTCUSDT", orderId: filled.orderId).value
        #expect(fills.map(\.qty).reduce(.zero, +) == ExactDecimal("0.01"))
        #expect(fills.allSatisfy { $0.tradeId.hasPrefix("T") && $0.commissionAsset == "USDT" && !$0.isMaker })

        // A post-only order rests; its client id is refused again while it is open; cancel by client id.
        let maker = String(repeating: "cd", count: 16)
        let resting = NewOrder(
            symbol: "BTCUSDT", side: .buy, type: .postOnly, timeInForce: nil, quantity: ExactDecimal("0.01")!,
            price: Self.away(touch.bidPrice, percent: -2, tick: btc.tickSize), clientOrderId: maker)
        _ = try await client.placeOrder(resting)
        #expect(try await client.openOrders("BTCUSDT").map(\.clientOrderId) == [maker])
        await #expect(throws: VenueError.self) { _ = try await client.placeOrder(resting) }
        let cancelled = try #require(try await client.cancelOrder("BTCUSDT", clientOrderId: maker).value)
        #expect(cancelled.status == .cancelled && cancelled.type == .postOnly)
        #expect(try await client.cancelOrder("BTCUSDT", clientOrderId: maker).value == nil)
        #expect(try await client.queryOrder("BTCUSDT", clientOrderId: "0123456789abcdef0123456789abcdef").value == nil)
        // Every call was on record, none refused for its signature or nonce.
        #expect(h.events.attempts.allSatisfy { $0.outcome == .ok || $0.outcome == .venueError })
        #expect(h.events.attempts.filter { $0.outcome == .venueError }.count == 2)
    }

    /// Trades are read newest first, 50 a page, by offset; the cursor resumes a pull and a second
    /// pull finds nothing it has not seen.
    @Test func tradesArePagedAcrossPageBoundariesAndResume() async throws {
        let h = try KrakenHarness()
        defer { h.close() }
        try h.venue.seedTrades(apiKey: h.account.apiKey, symbol: "ETHUSDT", count: 137)
        try h.venue.seedTrades(apiKey: h.account.apiKey, symbol: "BTCUSDT", count: 20)
        let client = h.client()
        var cursor: String?
        var seen: [String: Fill] = [:]
        var pages = 0
        while true {
            let page = try await client.fillPage("ETHUSDT", from: cursor, limit: 50)
            pages += 1
            for fill in page.fills { seen[fill.tradeId] = fill }
            cursor = page.next
            if !page.more { break }
        }
        #expect(seen.count == 137, "\(seen.count) ETHUSDT trades of 137")
        #expect(seen.values.allSatisfy { $0.symbol == "ETHUSDT" })
        #expect(pages == 4, "157 trades in pages of 50")
        // Pulled again from the stored cursor: only the overlap of the last second comes back.
        let again = try await client.fillPage("ETHUSDT", from: cursor, limit: 50)
        #expect(again.fills.allSatisfy { seen[$0.tradeId] != nil })
        #expect(again.fills.count < 137)
        // A cursor that is not Kraken's is refused by name.
        await #expect(throws: VenueError.self) { _ = try await client.fillPage("ETHUSDT", from: "1234", limit: 50) }
    }

    /// An order request answered `EService:Busy` may have been placed: the client says the outcome
    /// is unknown, and the lookup by client id finds the order.
    @Test func anUnknownOutcomeIsFollowedByALookup() async throws {
        let h = try KrakenHarness {
            $0.faults = [FaultRule(kind: .unknownStatus, method: "POST", path: "/0/private/AddOrder", placed: true)]
        }
        defer { h.close() }
        let client = h.client()
        let touch = try #require(try await client.bookTickers(["BTCUSDT"]).first)
        let id = String(repeating: "e1", count: 16)
        do {
            _ = try await client.placeOrder(
                NewOrder(
                    symbol: "BTCUSDT", side: .sell, type: .limit, timeInForce: .ioc, quantity: ExactDecimal("0.01")!,
                    price: Self.away(touch.bidPrice, percent: -1, tick: ExactDecimal("0.01")!), clientOrderId: id))
            Issue.record("EService:Busy must not read as placed")
        } catch {
            guard case .outcomeUnknown = error else {
                Issue.record("expected outcomeUnknown, got \(error)")
                return
            }
        }
        let found = try #require(try await client.queryOrder("BTCUSDT", clientOrderId: id).value)
        #expect(found.status == .filled)
        #expect(h.venue.statistics.ordersAccepted == 1)
    }

    /// The key's call counter: past it the venue says "EAPI:Rate limit exceeded"; the client holds
    /// the key's calls and tries again.
    @Test func theCallCounterIsRespectedAfterARateLimitError() async throws {
        let h = try KrakenHarness {
            $0.faults = [FaultRule(kind: .rateLimit, method: "POST", path: "/0/private/BalanceEx")]
        }
        defer { h.close() }
        let client = h.client()
        let started = Date()
        _ = try await client.listing()
        let account = try await client.account()
        #expect(account.balances.contains { $0.asset == "ETH" })
        #expect(Date().timeIntervalSince(started) >= 4.5, "held the key after the rate-limit error")
        #expect(h.events.attempts.contains { $0.outcome == .rateLimited && $0.endpoint == "/0/private/BalanceEx" })
    }

    /// Two clients of one key sending at once, sharing a nonce source: no nonce is refused.
    @Test func concurrentCallsOfOneKeyNeverTripTheNonce() async throws {
        let h = try KrakenHarness()
        defer { h.close() }
        let first = h.client()
        let second = h.client()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<12 {
                let client = i % 2 == 0 ? first : second
                group.addTask { _ = try await client.openOrders(nil) }
            }
            try await group.waitForAll()
        }
        #expect(!h.events.attempts.contains { $0.error?.contains("Invalid nonce") == true })
        #expect(h.events.attempts.filter { $0.endpoint == "/0/private/OpenOrders" }.count == 12)
    }

    /// krakenex, unmodified, against the simulated Kraken venue: pairs, assets, ticker, balances,
    /// place, query, cancel an order, and trades.
    @Test func anUnmodifiedThirdPartyClientWorks() throws {
        let h = try KrakenHarness()
        defer { h.close() }
        let script = """
            import sys, json, krakenex
            url, key, secret = sys.argv[1:4]
            k = krakenex.API(key=key, secret=secret)
            k.uri = url
            out = {}
            pairs = k.query_public("AssetPairs")["result"]
            out["pair"] = [pairs["XXBTUSDT" if "XXBTUSDT" in pairs else "XBTUSDT"]["wsname"]]
            out["assets"] = sorted(k.query_public("Assets")["result"].keys())
            t = k.query_public("Ticker", {"pair": "XBTUSDT"})["result"]
            bid = float(list(t.values())[0]["b"][0])
            out["balance"] = k.query_private("Balance")["result"]["XXBT"]
            price = "%.2f" % (bid - 500)
            o = k.query_private("AddOrder", {"pair": "XBTUSDT", "type": "buy", "ordertype": "limit",
                                             "price": price, "volume": "0.01", "cl_ord_id": "tp-kraken-1"})
            out["added"] = o["error"]
            txid = o["result"]["txid"][0]
            out["dup"] = k.query_private("AddOrder", {"pair": "XBTUSDT", "type": "buy", "ordertype": "limit",
                                                      "price": price, "volume": "0.01",
                                                      "cl_ord_id": "tp-kraken-1"})["error"]
            out["open"] = [v["cl_ord_id"] for v in k.query_private("OpenOrders")["result"]["open"].values()]
            out["query"] = k.query_private("QueryOrders", {"txid": txid})["result"][txid]["status"]
            out["cancel"] = k.query_private("CancelOrder", {"cl_ord_id": "tp-kraken-1"})["result"]["count"]
            out["after"] = k.query_private("QueryOrders", {"txid": txid})["result"][txid]["status"]
            m = k.query_private("AddOrder", {"pair": "XBTUSDT", "type": "sell", "ordertype": "market",
                                             "volume": "0.02"})
            out["market"] = m["error"]
            th = k.query_private("TradesHistory")["result"]
            out["trades"] = [th["count"], sorted(set(v["pair"] for v in th["trades"].values()))]
            print(json.dumps(out))
            """
        let data = try Openpyxl.runPython(script, arguments: [h.venue.baseURL, h.account.apiKey, h.account.secret])
        let out = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(out["pair"] as? [String] == ["XBT/USDT"])
        #expect((out["assets"] as? [String])?.contains("XXBT") == true)
        #expect(out["balance"] as? String == "2")
        #expect(out["added"] as? [String] == [])
        #expect(out["dup"] as? [String] == ["EOrder:Duplicate order"])
        #expect(out["open"] as? [String] == ["tp-kraken-1"])
        #expect(out["query"] as? String == "open")
        #expect(out["cancel"] as? Int == 1)
        #expect(out["after"] as? String == "canceled")
        #expect(out["market"] as? [String] == [])
        let trades = out["trades"] as? [Any]
        #expect((trades?.first as? Int ?? 0) >= 1)
        #expect(trades?.last as? [String] == ["XXBTUSDT"] || trades?.last as? [String] == ["XBTUSDT"])
    }

    /// A secret that is not base64 cannot be Kraken's: the client says so and sends nothing signed.
    @Test func aSecretThatIsNotBase64IsNamedAndNothingIsSent() async throws {
        let h = try KrakenHarness()
        defer { h.close() }
        let client = h.client(secret: "not base64 at all!")
        do {
            _ = try await client.openOrders(nil)
            Issue.record("a non-base64 secret must be refused")
        } catch {
            #expect("\(error)".contains("not base64"), "\(error)")
        }
        #expect(h.venue.statistics.byEndpoint["POST /0/private/OpenOrders"] == nil)
    }
}
