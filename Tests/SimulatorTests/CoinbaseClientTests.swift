import BallastCore
import BallastTesting
import CurlHTTP
import Digest
import Foundation
import Simulator
import Testing
import Transport

@testable import Venues

/// A simulated venue speaking Coinbase Advanced Trade over TLS (a throwaway CA), and Ballast's
/// Coinbase client talking to it with peer and host verification on against that CA.
final class CoinbaseHarness: @unchecked Sendable {
    let simulator: Simulator
    let venue: SimulatedVenue
    let curl: CurlClient
    let events = MemoryEventSink()
    let store = LocalRateBudgetStore()
    let account = AccountConfig.coinbaseDemo(venue: "sim-cb")
    let directory: URL

    init(configure: (inout VenueConfig) -> Void = { _ in }) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-cb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let tls = try TestCertificateAuthority.make(in: directory)
        curl = CurlClient(connectTimeout: .seconds(2), timeout: .seconds(5), caBundle: tls.caFile)
        var config = VenueConfig(name: "sim-cb", dialect: .coinbaseAdvanced)
        config.latency = LatencyProfile(baseMs: 0, jitterMs: 0)
        config.accounts = [account]
        config.tlsCertificate = tls.certificateFile
        config.tlsPrivateKey = tls.privateKeyFile
        configure(&config)
        simulator = try Simulator(config: SimulatorConfig(seed: 12, venues: [config]), clock: SystemTime())
        venue = simulator.venues[0]
    }

    /// The venue's address under the name its certificate lists.
    var baseURL: String { venue.baseURL.replacingOccurrences(of: "127.0.0.1", with: "localhost") }

    func client(secret: String? = nil, signed: Bool = true) -> CoinbaseAdvancedClient {
        let credentials = signed ? Credentials(apiKey: account.apiKey, secret: secret ?? account.secret) : nil
        let governor = RateGovernor(
            venue: "sim-cb", keyFingerprint: credentials?.fingerprint ?? "host",
            limits: RateLimits(maxWait: .seconds(10), callCounter: CoinbaseAdvancedClient.privateCounter), store: store,
            events: events, clock: SystemTime())
        return CoinbaseAdvancedClient(
            venue: "sim-cb", account: "acct", baseURL: baseURL, credentials: credentials, transport: curl,
            governor: governor, events: events)
    }

    func close() {
        curl.close()
        simulator.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}

@Suite(.serialized) struct CoinbaseClientTests {
    static func away(_ price: ExactDecimal, percent: Int, tick: ExactDecimal) -> ExactDecimal {
        KrakenDialectTests.away(price, percent: percent, tick: tick)
    }

    /// The JWT verifies under the key's public half, carries the claims Coinbase reads, and
    /// PyJWT (the library the official SDK signs with) accepts it.
    @Test func theJWTVerifiesAndPyJWTAcceptsIt() throws {
        let key = ECPrivateKey(derivedFrom: Array("jwt-test".utf8))
        let credentials = Credentials(apiKey: "organizations/o/apiKeys/k", secret: key.pem)
        let now = Date()
        let seconds = Int(now.timeIntervalSince1970)
        let token = try CoinbaseAdvancedClient.token(
            method: "GET", host: "api.coinbase.com", path: "/api/v3/brokerage/accounts", credentials: credentials,
            now: now, venue: "cb")
        let parts = token.split(separator: ".").map(String.init)
        #expect(parts.count == 3)
        let signature = try #require(Base64URL.decode(parts[2]))
        #expect(key.publicKey.verify(signature: signature, message: Array((parts[0] + "." + parts[1]).utf8)))
        let header = try #require(
            JSONSerialization.jsonObject(with: Data(Base64URL.decode(parts[0]) ?? [])) as? [String: Any])
        #expect(header["alg"] as? String == "ES256" && header["kid"] as? String == credentials.apiKey)
        #expect((header["nonce"] as? String)?.count == 32 && header["typ"] as? String == "JWT")
        // PyJWT checks the signature, nbf and exp (now) and hands back the claims.
        let claims = try String(
            decoding: Openpyxl.runPython(
                """
                import sys, json, jwt
                print(json.dumps(jwt.decode(sys.argv[1], sys.argv[2], algorithms=["ES256"]), sort_keys=True))
                """, arguments: [token, key.publicKey.pem]), as: UTF8.self)
        #expect(
            claims.trimmingCharacters(in: .whitespacesAndNewlines)
                == #"{"exp": \#(seconds + 120), "iss": "cdp", "nbf": \#(seconds), "sub": "organizations/o/apiKeys/k", "#
                + #""uri": "GET api.coinbase.com/api/v3/brokerage/accounts"}"#)
        // A key written with `\n` escapes (as Coinbase's JSON key file holds it) signs the same way.
        let escaped = Credentials(apiKey: "k", secret: key.pem.replacingOccurrences(of: "\n", with: "\\n"))
        #expect(
            throws: Never.self,
            performing: {
                try CoinbaseAdvancedClient.token(
                    method: "GET", host: "h", path: "/p", credentials: escaped, now: now, venue: "cb")
            })
    }

    @Test func everyEndpointRoundTripsOverVerifiedTLS() async throws {
        let h = try CoinbaseHarness()
        defer { h.close() }
        #expect(h.baseURL.hasPrefix("https://localhost:"))
        let client = h.client()
        let listing = try await client.listing()
        let btc = try #require(listing.symbols.first { $0.pair.symbol == "BTCUSDT" })
        #expect(btc.pair.base == "BTC" && btc.pair.quote == "USDT" && btc.status == "TRADING")
        #expect(btc.tickSize.isPositive && btc.stepSize.isPositive)
        let account = try await client.account()
        #expect(account.balances.first { $0.asset == "BTC" }?.free == 2)
        #expect(account.balances.first { $0.asset == "USDT" }?.total == 100_000)
        #expect(account.takerRate == ExactDecimal("0.001") && account.makerRate == ExactDecimal("0.001"))
        let tickers = try await client.bookTickers(["BTCUSDT", "ETHUSDT"])
        #expect(tickers.map(\.symbol) == ["BTCUSDT", "ETHUSDT"])
        let touch = try #require(tickers.first)
        #expect(touch.bidPrice < touch.askPrice)
        // Without a key the touch comes from the public book, one level deep.
        let publicTouch = try await h.client(signed: false).bookTickers(["BTCUSDT"])
        #expect(publicTouch.count == 1 && publicTouch[0].bidPrice < publicTouch[0].askPrice)
        let depth = try await client.depth("BTCUSDT", limit: 5)
        #expect(depth.bids.count == 5 && depth.asks.count == 5 && depth.bids[0].price < depth.asks[0].price)

        // An IOC buy that crosses; read back by its id, final at once.
        let taker = VenueDialect.coinbaseAdvanced.clientOrderId(String(repeating: "ab", count: 32))
        #expect(taker == "abababab-abab-abab-abab-abababababab")
        let ack = try await client.placeOrder(
            NewOrder(
                symbol: "BTCUSDT", side: .buy, type: .limit, timeInForce: .ioc, quantity: ExactDecimal("0.01")!,
                price: Self.away(touch.askPrice, percent: 1, tick: btc.tickSize), clientOrderId: taker))
        #expect(ack.order.status == .filled && ack.order.executedQty == ExactDecimal("0.01"))
        #expect(ack.order.clientOrderId == taker && ack.order.timeInForce == .ioc)
        let fills = try await client.orderFills("BTCUSDT", orderId: ack.order.orderId).value
        #expect(fills.map(\.qty).reduce(.zero, +) == ExactDecimal("0.01"))
        #expect(fills.allSatisfy { $0.commissionAsset == "USDT" && !$0.isMaker && $0.orderId == ack.order.orderId })
        #expect(fills.allSatisfy { $0.quoteQty == $0.price * $0.qty && $0.commission.isPositive })

        // A post-only order rests. Sent again with its id, it comes back as the same order and
        // nothing new is placed (Coinbase's idempotency); cancel by client id.
        let maker = VenueDialect.coinbaseAdvanced.clientOrderId(String(repeating: "cd", count: 32))
        let resting = NewOrder(
            symbol: "BTCUSDT", side: .buy, type: .postOnly, timeInForce: nil, quantity: ExactDecimal("0.01")!,
            price: Self.away(touch.bidPrice, percent: -2, tick: btc.tickSize), clientOrderId: maker)
        let first = try await client.placeOrder(resting)
        #expect(first.order.status == .open && first.order.type == .postOnly)
        let accepted = h.venue.statistics.ordersAccepted
        let again = try await client.placeOrder(resting)
        #expect(again.order.orderId == first.order.orderId)
        #expect(h.venue.statistics.ordersAccepted == accepted)
        #expect(try await client.openOrders("BTCUSDT").map(\.clientOrderId) == [maker])
        #expect(try await client.openOrders(nil).map(\.clientOrderId) == [maker])
        let cancelled = try #require(try await client.cancelOrder("BTCUSDT", clientOrderId: maker).value)
        #expect(cancelled.status == .cancelled && cancelled.orderId == first.order.orderId)
        #expect(try await client.openOrders(nil).isEmpty)
        // A fresh client (no memory of what it placed) finds orders by searching the history.
        let fresh = h.client()
        #expect(try await fresh.queryOrder("BTCUSDT", clientOrderId: taker).value?.status == .filled)
        #expect(try await fresh.queryOrder("BTCUSDT", clientOrderId: maker).value?.status == .cancelled)
        #expect(
            try await fresh.queryOrder("BTCUSDT", clientOrderId: "00000000-0000-0000-0000-000000000000").value == nil)
        // A refusal names the venue's reason.
        do {
            _ = try await client.placeOrder(
                NewOrder(
                    symbol: "BTCUSDT", side: .buy, type: .postOnly, timeInForce: nil,
                    quantity: ExactDecimal("0.01")!,
                    price: Self.away(touch.askPrice, percent: 1, tick: btc.tickSize),
                    clientOrderId: VenueDialect.coinbaseAdvanced.clientOrderId(String(repeating: "ef", count: 32))))
            Issue.record("a post-only order that crosses must be refused")
        } catch {
            guard case .rejected(_, _, _, _, let message, _) = error else {
                Issue.record("expected a rejection, got \(error)")
                return
            }
            #expect(!message.isEmpty)
        }
        // Every call was answered and on record, over TLS; the refusal as the venue's error.
        #expect(h.events.attempts.filter { $0.outcome != .ok }.map(\.outcome) == [.venueError])
        #expect(h.events.attempts.contains { $0.endpoint == "/api/v3/brokerage/orders" && $0.clientOrderId == taker })
    }

    /// Fills are paged by the venue's cursor; the stored cursor resumes the pull, and a second
    /// pull brings back only the overlap of the last second.
    @Test func fillsArePagedAcrossPageBoundariesAndResume() async throws {
        let h = try CoinbaseHarness()
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
        #expect(seen.count == 137, "\(seen.count) ETHUSDT fills of 137")
        #expect(seen.values.allSatisfy { $0.symbol == "ETHUSDT" && $0.commissionAsset == "USDT" })
        #expect(pages == 3, "137 fills in pages of 50")
        // Account-wide, every product.
        var all: Set<String> = []
        var wide: String?
        repeat {
            let page = try await client.fillPage(nil, from: wide, limit: 50)
            all.formUnion(page.fills.map(\.tradeId))
            wide = page.next
            if !page.more { break }
        } while true
        #expect(all.count == 157)
        let again = try await client.fillPage("ETHUSDT", from: cursor, limit: 50)
        #expect(again.fills.allSatisfy { seen[$0.tradeId] != nil })
        #expect(again.fills.count < 137)
        await #expect(throws: VenueError.self) { _ = try await client.fillPage("ETHUSDT", from: "1234", limit: 50) }
    }

    /// An order request answered 503 may have been placed: the client sends it again with the
    /// same id, and the venue answers with the order the first request placed — one order.
    @Test func anUnknownOutcomeIsResolvedBySendingTheSameIdAgain() async throws {
        let h = try CoinbaseHarness {
            $0.faults = [
                FaultRule(kind: .unknownStatus, method: "POST", path: "/api/v3/brokerage/orders", placed: true)
            ]
        }
        defer { h.close() }
        let client = h.client()
        let touch = try #require(try await client.bookTickers(["BTCUSDT"]).first)
        let id = VenueDialect.coinbaseAdvanced.clientOrderId(String(repeating: "e1", count: 32))
        let ack = try await client.placeOrder(
            NewOrder(
                symbol: "BTCUSDT", side: .sell, type: .limit, timeInForce: .ioc, quantity: ExactDecimal("0.01")!,
                price: Self.away(touch.bidPrice, percent: -1, tick: ExactDecimal("0.01")!), clientOrderId: id))
        #expect(ack.order.status == .filled)
        #expect(h.venue.statistics.ordersAccepted == 1)
        #expect(h.venue.orders(apiKey: h.account.apiKey).filter { $0.clientOrderId == id }.count == 1)
        let creates = h.events.attempts.filter { $0.endpoint == "/api/v3/brokerage/orders" }
        #expect(creates.map(\.httpStatus) == [503, 200])
    }

    /// Past the per-second limit the venue answers 429; the client holds the key and tries again.
    @Test func aRateLimitAnswerIsWaitedOut() async throws {
        let h = try CoinbaseHarness {
            $0.faults = [FaultRule(kind: .rateLimit, method: "GET", path: "/api/v3/brokerage/accounts")]
        }
        defer { h.close() }
        let client = h.client()
        let started = Date()
        let account = try await client.account()
        #expect(account.balances.contains { $0.asset == "ETH" })
        #expect(Date().timeIntervalSince(started) >= 0.9, "held the key after the 429")
        #expect(h.events.attempts.contains { $0.outcome == .rateLimited && $0.httpStatus == 429 })
    }

    /// A secret that is not a PEM EC key is named before anything is sent; a wrong key is refused
    /// by the venue (401) and reported as such.
    @Test func aBadKeyIsNamedAndAWrongOneRefused() async throws {
        let h = try CoinbaseHarness()
        defer { h.close() }
        do {
            _ = try await h.client(secret: "not-a-key").account()
            Issue.record("a secret that is not a key must not sign")
        } catch {
            #expect("\(error)".contains("PEM EC private key"))
        }
        #expect(h.events.attempts.isEmpty, "nothing was sent")
        let other = ECPrivateKey(derivedFrom: Array("someone else".utf8)).pem
        do {
            _ = try await h.client(secret: other).account()
            Issue.record("a token signed with another key must be refused")
        } catch {
            guard case .rejected(_, _, 401, _, _, _) = error else {
                Issue.record("expected HTTP 401, got \(error)")
                return
            }
        }
    }
}
