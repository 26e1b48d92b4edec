import BallastCore
import BallastTesting
import Digest
import Foundation
import Testing
import Transport
import Venues

@Suite struct BinanceSpotClientTests {
    static let secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"

    static func client(
        _ transport: ScriptedTransport, clock: VirtualTime = VirtualTime(),
        events: MemoryEventSink = MemoryEventSink(),
        store: LocalRateBudgetStore = LocalRateBudgetStore(), limits: RateLimits = RateLimits()
    ) -> BinanceSpotClient {
        let credentials = Credentials(apiKey: "demo-key", secret: secret)
        let governor = RateGovernor(
            venue: "v", keyFingerprint: credentials.fingerprint, limits: limits, store: store, events: events,
            clock: clock)
        return BinanceSpotClient(
            venue: "v", account: "acct", baseURL: "http://venue.test", credentials: credentials, transport: transport,
            governor: governor, events: events, clock: clock)
    }

    @Test func signedGetCarriesKeyTimestampAndAValidSignature() async throws {
        let transport = ScriptedTransport()
        transport.reply(
            200,
            #"{"balances":[{"asset":"BTC","free":"0.50000000","locked":"0.00100000"}],"commissionRates":{"maker":"0.00100000","taker":"0.00100000","buyer":"0","seller":"0"},"updateTime":1767225600000}"#
        )
        let account = try await Self.client(transport).account()
        #expect(
            account.balances == [
                Balance(
                    asset: "BTC", free: try ExactDecimal(parsing: "0.5"), locked: try ExactDecimal(parsing: "0.001"))
            ])
        #expect(account.balances[0].free.description == "0.50000000")
        let request = try #require(transport.requests.first)
        #expect(request.headers.contains(HTTPHeader("X-MBX-APIKEY", "demo-key")))
        #expect(
            request.url.hasPrefix("http://venue.test/api/v3/account?recvWindow=5000&timestamp=1767225600000&signature=")
        )
        let query = String(request.url.split(separator: "?")[1])
        let payload = query.components(separatedBy: "&signature=")[0]
        let signature = query.components(separatedBy: "&signature=")[1]
        #expect(signature == hmacHex(key: Self.secret, payload: payload))
        // The secret never appears in what was sent.
        #expect(!request.url.contains(Self.secret))
    }

    @Test func postPutsParametersInTheSignedFormBody() async throws {
        let transport = ScriptedTransport()
        transport.reply(
            200,
            #"{"symbol":"BTCUSDT","orderId":7,"orderListId":-1,"clientOrderId":"bl-1","transactTime":1767225600000,"price":"43000.00","origQty":"0.00100000","executedQty":"0.00100000","cummulativeQuoteQty":"43.00000000","status":"FILLED","timeInForce":"IOC","type":"LIMIT","side":"BUY","fills":[{"price":"43000.00","qty":"0.00100000","commission":"0.00000100","commissionAsset":"BTC","tradeId":99}]}"#
        )
        let ack = try await Self.client(transport).placeOrder(
            NewOrder(
                symbol: "BTCUSDT", side: .buy, type: .limit, timeInForce: .ioc,
                quantity: try ExactDecimal(parsing: "0.00100000"),
                price: try ExactDecimal(parsing: "43000.00"), clientOrderId: "bl-1"))
        #expect(ack.order.status == .filled)
        #expect(ack.order.cumulativeQuoteQty == 43)
        #expect(ack.fills.map(\.tradeId) == ["99"])
        let request = try #require(transport.requests.first)
        #expect(request.method == .post)
        #expect(!request.url.contains("?"))
        let body = String(decoding: request.body, as: UTF8.self)
        #expect(
            body.hasPrefix(
                "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=IOC&quantity=0.00100000&price=43000.00&newClientOrderId=bl-1&newOrderRespType=FULL&recvWindow=5000&timestamp="
            ))
        let parts = body.components(separatedBy: "&signature=")
        #expect(parts[1] == hmacHex(key: Self.secret, payload: parts[0]))
    }

    @Test func rateLimitWaitsRetryAfterThenSucceeds() async throws {
        let transport = ScriptedTransport()
        let clock = VirtualTime()
        let events = MemoryEventSink()
        transport.reply(429, #"{"code":-1003,"msg":"Too much request weight used."}"#, headers: ["retry-after": "7"])
        transport.reply(200, #"{"serverTime":1767225607000}"#)
        let time = try await Self.client(transport, clock: clock, events: events).serverTime()
        #expect(time == Date(timeIntervalSince1970: 1_767_225_607))
        #expect(transport.requests.count == 2)
        // The governor waited out Retry-After (7 s) before the second request.
        #expect(clock.sleeps.reduce(Duration.zero, +) >= .seconds(7))
        #expect(events.attempts.map(\.outcome) == [.rateLimited, .ok])
        #expect(events.throttles.map(\.decision) == [.backedOff, .waited])
    }

    @Test func banSendsNothingUntilItPasses() async throws {
        let transport = ScriptedTransport()
        let clock = VirtualTime()
        let store = LocalRateBudgetStore()
        transport.reply(
            418, #"{"code":-1003,"msg":"Way too much request weight used; IP banned."}"#,
            headers: ["retry-after": "120"])
        let client = Self.client(transport, clock: clock, store: store)
        await #expect(throws: VenueError.self) { _ = try await client.serverTime() }
        clock.advance(by: 60)
        let during = await #expect(throws: VenueError.self) { _ = try await client.serverTime() }
        if case .banned = during {} else { Issue.record("expected a ban, got \(String(describing: during))") }
        #expect(transport.requests.count == 1, "nothing may be sent during the ban")
        clock.advance(by: 61)
        transport.reply(200, #"{"serverTime":1767225781000}"#)
        _ = try await client.serverTime()
        #expect(transport.requests.count == 2)
    }

    @Test func weightBudgetWaitsForTheNextWindow() async throws {
        let transport = ScriptedTransport()
        let clock = VirtualTime(Date(timeIntervalSince1970: 1_767_225_630))  // 30 s into a minute
        let limits = RateLimits(requestWeightPerMinute: 100, safetyMargin: 0.1)  // budget 90
        let client = Self.client(transport, clock: clock, limits: limits)
        for _ in 0..<5 { transport.reply(200, #"{"balances":[]}"#) }
        for _ in 0..<4 { _ = try await client.account() }  // 4 × 20 = 80
        #expect(clock.sleeps.isEmpty)
        _ = try await client.account()  // 100 > 90: wait for the next minute
        #expect(clock.now() >= Date(timeIntervalSince1970: 1_767_225_660))
        #expect(transport.requests.count == 5)
    }

    @Test func clockSkewIsCorrectedOnce() async throws {
        let transport = ScriptedTransport()
        transport.reply(400, #"{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}"#)
        transport.reply(200, #"{"serverTime":1767225610000}"#)  // venue is 10 s ahead
        transport.reply(200, #"{"balances":[]}"#)
        let client = Self.client(transport)
        _ = try await client.account()
        #expect(client.serverClockOffset == .seconds(10))
        let retried = transport.requests[2].url
        #expect(retried.contains("timestamp=1767225610000"))
    }

    @Test func malformedBodiesAreNamedAndKeepTheRawPayload() async throws {
        let transport = ScriptedTransport()
        transport.reply(200, #"{"balances":[{"asset":"BTC","free":"lots","locked":"0"}]}"#)
        let error = await #expect(throws: VenueError.self) { _ = try await Self.client(transport).account() }
        guard case .malformed(_, let endpoint, let reason, let raw, _) = error else {
            Issue.record("expected malformed, got \(String(describing: error))")
            return
        }
        #expect(endpoint == "/api/v3/account")
        #expect(reason.contains("balances"))
        #expect(raw.contains("lots"))
    }

    @Test func orderRequestsAreNeverRetriedOnAnUnknownOutcome() async throws {
        let transport = ScriptedTransport()
        transport.reply(503, #"{"code":-1007,"msg":"Timeout waiting for response from backend server."}"#)
        let order = NewOrder(
            symbol: "BTCUSDT", side: .sell, type: .postOnly, timeInForce: nil, quantity: 1, price: 2,
            clientOrderId: "x")
        let error = await #expect(throws: VenueError.self) { _ = try await Self.client(transport).placeOrder(order) }
        if case .outcomeUnknown = error {
        } else {
            Issue.record("expected outcomeUnknown, got \(String(describing: error))")
        }
        #expect(transport.requests.count == 1)
        // A timeout after sending is also unknown, and also not retried.
        let again = ScriptedTransport()
        again.fail(TransportError(kind: .timedOut, reach: .maybe, code: 28, message: "timed out"))
        let timeout = await #expect(throws: VenueError.self) { _ = try await Self.client(again).placeOrder(order) }
        if case .outcomeUnknown = timeout {
        } else {
            Issue.record("expected outcomeUnknown, got \(String(describing: timeout))")
        }
        #expect(again.requests.count == 1)
    }

    /// An answer names the attempt it came in (the last, after a retry), and so does a failure,
    /// each the attempt on record for that order's request.
    @Test func answersAndFailuresNameTheAttemptTheyCameIn() async throws {
        let transport = ScriptedTransport()
        let events = MemoryEventSink()
        let client = Self.client(transport, events: events)
        transport.reply(503, #"{"code":-1001,"msg":"Internal error"}"#)
        transport.reply(
            200,
            #"{"symbol":"BTCUSDT","orderId":7,"orderListId":-1,"clientOrderId":"bl-1","transactTime":1767225600000,"price":"43000.00","origQty":"0.00100000","executedQty":"0","cummulativeQuoteQty":"0","status":"NEW","timeInForce":"GTC","type":"LIMIT","side":"BUY"}"#
        )
        let found = try await client.queryOrder("BTCUSDT", clientOrderId: "bl-1")
        #expect(found.value?.orderId == "7" && found.httpAttemptId == 2)
        #expect(events.attempts.map(\.outcome) == [.serverError, .ok])
        #expect(events.attempts.map(\.clientOrderId) == ["bl-1", "bl-1"])

        transport.reply(503, #"{"code":-1007,"msg":"Timeout waiting for response from backend server."}"#)
        let order = NewOrder(
            symbol: "BTCUSDT", side: .buy, type: .limit, timeInForce: .gtc, quantity: 1, price: 2,
            clientOrderId: "bl-2")
        let error = await #expect(throws: VenueError.self) { _ = try await client.placeOrder(order) }
        #expect(error?.httpAttemptId == 3)
        #expect(events.attempts[2].endpoint == "/api/v3/order" && events.attempts[2].clientOrderId == "bl-2")

        transport.reply(400, #"{"code":-2013,"msg":"Order does not exist."}"#)
        let missing = try await client.queryOrder("BTCUSDT", clientOrderId: "bl-2")
        #expect(missing.value == nil && missing.httpAttemptId == 4)
        // A call that names no order leaves the attempt's client order id empty.
        transport.reply(200, "[]")
        #expect(try await client.orderFills("BTCUSDT", orderId: "7").httpAttemptId == 5)
        #expect(events.attempts[4].clientOrderId == nil)
    }

    @Test func lookupsReturnNilForOrdersTheVenueDoesNotKnow() async throws {
        let transport = ScriptedTransport()
        transport.reply(400, #"{"code":-2013,"msg":"Order does not exist."}"#)
        #expect(try await Self.client(transport).queryOrder("BTCUSDT", clientOrderId: "nope").value == nil)
    }

    @Test func credentialsNeverPrintTheirSecret() {
        let credentials = Credentials(apiKey: "k", secret: Self.secret)
        #expect(!"\(credentials)".contains(Self.secret))
        #expect(!String(reflecting: credentials).contains(Self.secret))
    }
}

/// Lowercase hex HMAC-SHA256, as the venue verifies signatures.
func hmacHex(key: String, payload: String) -> String {
    Digest.hex(Digest.hmacSHA256(key: key, message: payload))
}
