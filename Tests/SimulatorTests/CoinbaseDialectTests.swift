import BallastCore
import BallastTesting
import CurlHTTP
import Digest
import Foundation
import Simulator
import Testing
import Transport

/// A simulated venue speaking Coinbase Advanced Trade on loopback, on a virtual clock (the book
/// holds still and a second passes only when a test says so), and a hand-made client: each request
/// carries a JWT built here, so a test can get any part of it wrong on purpose.
final class CoinbaseVenueHarness: @unchecked Sendable {
    let simulator: Simulator
    let venue: SimulatedVenue
    let curl = CurlClient(connectTimeout: .seconds(2), timeout: .seconds(5))
    let clock = VirtualTime()
    let account = AccountConfig.coinbaseDemo(venue: "sim-cbv")
    let key: ECPrivateKey

    init(configure: (inout VenueConfig) -> Void = { _ in }) throws {
        key = try ECPrivateKey(pem: account.secret)
        var config = VenueConfig(name: "sim-cbv", dialect: .coinbaseAdvanced)
        config.latency = LatencyProfile(baseMs: 0, jitterMs: 0)
        config.accounts = [account]
        configure(&config)
        simulator = try Simulator(config: SimulatorConfig(seed: 13, venues: [config]), clock: clock)
        venue = simulator.venues[0]
    }

    /// `127.0.0.1:port`: what curl sends as `Host`, so what the JWT's `uri` names.
    var host: String { venue.baseURL.replacingOccurrences(of: "http://", with: "") }

    /// A JWT for `method path` as the official SDK builds one, with any part replaceable.
    func token(
        _ method: String, _ path: String, key: ECPrivateKey? = nil, uri: String? = nil, notBefore: Date? = nil,
        lifetime: Int = 120, issuer: String = "cdp", algorithm: String = "ES256"
    ) throws -> String {
        let nbf = Int((notBefore ?? clock.now()).timeIntervalSince1970)
        let header: [String: Any] = ["alg": algorithm, "kid": account.apiKey, "nonce": "0123abcd", "typ": "JWT"]
        let claims: [String: Any] = [
            "sub": account.apiKey, "iss": issuer, "nbf": nbf, "exp": nbf + lifetime,
            "uri": uri ?? "\(method) \(host)\(path)",
        ]
        func part(_ object: [String: Any]) throws -> String {
            Base64URL.encode(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
        }
        let input = "\(try part(header)).\(try part(claims))"
        return input + "." + Base64URL.encode(try (key ?? self.key).sign(Array(input.utf8)))
    }

    /// Sends a request (signed with a fresh good token unless `token` says otherwise: `.some(nil)`
    /// sends none) and returns the status, the JSON object answered and the headers.
    func call(
        _ method: HTTPRequest.Method, _ path: String, query: String = "", body: Any? = nil, token: String?? = .none
    ) async throws -> (status: Int, json: [String: Any], headers: [String: String]) {
        let bearer: String?
        switch token {
        case .none: bearer = path.hasPrefix("/api/v3/brokerage/market/") ? nil : try self.token(method.rawValue, path)
        case .some(let given): bearer = given
        }
        var headers = [HTTPHeader("Content-Type", "application/json")]
        if let bearer { headers.append(HTTPHeader("Authorization", "Bearer \(bearer)")) }
        let bytes = try body.map { Array(try JSONSerialization.data(withJSONObject: $0)) } ?? []
        let response = try await curl.send(
            HTTPRequest(
                method: method, url: venue.baseURL + path + (query.isEmpty ? "" : "?" + query), headers: headers,
                body: bytes))
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return (response.status, json, response.headers)
    }

    /// A limit GTC order's body.
    func limitGTC(_ clientID: String, _ side: String, size: String, price: ExactDecimal, postOnly: Bool = true)
        -> [String: Any]
    {
        [
            "client_order_id": clientID, "product_id": "BTC-USDT", "side": side,
            "order_configuration": [
                "limit_limit_gtc": ["base_size": size, "limit_price": price.description, "post_only": postOnly]
            ],
        ]
    }

    /// The best bid and ask of BTC-USDT as the venue shows them.
    func touch() async throws -> (bid: ExactDecimal, ask: ExactDecimal) {
        let (_, json, _) = try await call(.get, "/api/v3/brokerage/best_bid_ask", query: "product_ids=BTC-USDT")
        let book = (json["pricebooks"] as? [[String: Any]])?.first
        let bid = ((book?["bids"] as? [[String: Any]])?.first?["price"] as? String).flatMap(ExactDecimal.init)
        let ask = ((book?["asks"] as? [[String: Any]])?.first?["price"] as? String).flatMap(ExactDecimal.init)
        return (try #require(bid), try #require(ask))
    }

    /// The venue's orders of the account, read through `/sim/orders` over HTTP.
    func simOrders() async throws -> [[String: Any]] {
        let key = account.apiKey.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let response = try await curl.send(HTTPRequest(method: .get, url: venue.baseURL + "/sim/orders?apiKey=\(key)"))
        return try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]])
    }

    func close() {
        curl.close()
        simulator.stop()
    }
}

@Suite(.serialized) struct CoinbaseDialectTests {
    static func away(_ price: ExactDecimal, percent: Int) -> ExactDecimal {
        (price * (ExactDecimal(100 + percent).divided(by: ExactDecimal(100), scale: 4) ?? .one))
            .rounded(toMultipleOf: ExactDecimal("0.01")!, .down)
    }

    @Test func aTokenSignedWithTheAccountKeyPassesAndAnyOtherIsRefused() async throws {
        let h = try CoinbaseVenueHarness()
        defer { h.close() }
        let path = "/api/v3/brokerage/accounts"
        let now = h.clock.now()
        #expect(try await h.call(.get, path).status == 200)
        // The uri names no query; the https:// spelling and the older issuer are accepted.
        #expect(try await h.call(.get, path, query: "limit=2").status == 200)
        #expect(
            try await h.call(.get, path, token: try h.token("GET", path, uri: "GET https://\(h.host)\(path)")).status
                == 200)
        #expect(try await h.call(.get, path, token: try h.token("GET", path, issuer: "coinbase-cloud")).status == 200)

        let refused: [(String, String?)] = [
            ("another key", try h.token("GET", path, key: ECPrivateKey(derivedFrom: Array("other".utf8)))),
            ("another path", try h.token("GET", "/api/v3/brokerage/transaction_summary")),
            ("another method", try h.token("POST", path)),
            ("another host", try h.token("GET", path, uri: "GET api.coinbase.com\(path)")),
            ("expired", try h.token("GET", path, notBefore: now.addingTimeInterval(-200))),
            ("not yet valid", try h.token("GET", path, notBefore: now.addingTimeInterval(60))),
            ("living too long", try h.token("GET", path, lifetime: 600)),
            ("another issuer", try h.token("GET", path, issuer: "someone")),
            ("another algorithm", try h.token("GET", path, algorithm: "HS256")),
            ("not a JWT", "not.a.jwt"),
            ("no token", nil),
        ]
        for (why, token) in refused {
            let (status, json, _) = try await h.call(.get, path, token: .some(token))
            #expect(status == 401, "\(why): \(status)")
            #expect(json["error"] as? String == "UNAUTHENTICATED" && json["message"] is String, "\(why): \(json)")
        }
        #expect(h.venue.statistics.rejected == refused.count)
        // Public market data needs no token.
        #expect(try await h.call(.get, "/api/v3/brokerage/market/products").status == 200)
    }

    @Test func productsAndBooksAreNamedBaseDashQuote() async throws {
        let h = try CoinbaseVenueHarness()
        defer { h.close() }
        let (_, listing, _) = try await h.call(.get, "/api/v3/brokerage/products")
        let products = try #require(listing["products"] as? [[String: Any]])
        #expect(
            products.compactMap { $0["product_id"] as? String } == [
                "BTC-USDT", "ETH-USDT", "SOL-USDT", "BNB-USDT", "ETH-BTC",
            ])
        #expect(listing["num_products"] as? Int == 5)
        let (status, btc, _) = try await h.call(.get, "/api/v3/brokerage/market/products/BTC-USDT")
        #expect(status == 200)
        #expect(btc["base_increment"] as? String == "0.00001" && btc["quote_increment"] as? String == "0.01")
        #expect(btc["price_increment"] as? String == "0.01" && btc["base_min_size"] as? String == "0.00001")
        #expect(btc["status"] as? String == "online" && btc["product_type"] as? String == "SPOT")
        #expect(btc["base_currency_id"] as? String == "BTC" && btc["quote_currency_id"] as? String == "USDT")
        #expect(try await h.call(.get, "/api/v3/brokerage/products/BTC-EUR").status == 404)

        let (_, bba, _) = try await h.call(
            .get, "/api/v3/brokerage/best_bid_ask", query: "product_ids=BTC-USDT&product_ids=ETH-BTC")
        let books = try #require(bba["pricebooks"] as? [[String: Any]])
        #expect(books.compactMap { $0["product_id"] as? String } == ["BTC-USDT", "ETH-BTC"])
        #expect(books.allSatisfy { ($0["bids"] as? [Any])?.count == 1 && ($0["asks"] as? [Any])?.count == 1 })
        let (_, book, _) = try await h.call(
            .get, "/api/v3/brokerage/product_book", query: "product_id=ETH-USDT&limit=3")
        let pricebook = try #require(book["pricebook"] as? [String: Any])
        let bids = try #require(pricebook["bids"] as? [[String: String]])
        let asks = try #require(pricebook["asks"] as? [[String: String]])
        #expect(bids.count == 3 && asks.count == 3)
        #expect(ExactDecimal(bids[0]["price"]!)! < ExactDecimal(asks[0]["price"]!)!)
        #expect(ExactDecimal(bids[0]["price"]!)! > ExactDecimal(bids[1]["price"]!)!)
        #expect((pricebook["time"] as? String)?.hasSuffix("Z") == true && book["spread_bps"] is String)
    }

    @Test func accountsArePagedByCursorAcrossPageBoundaries() async throws {
        let h = try CoinbaseVenueHarness()
        defer { h.close() }
        var currencies: [String] = []
        var cursor = ""
        var pages: [Int] = []
        repeat {
            let (status, json, _) = try await h.call(
                .get, "/api/v3/brokerage/accounts", query: "limit=2" + (cursor.isEmpty ? "" : "&cursor=\(cursor)"))
            #expect(status == 200)
            let accounts = try #require(json["accounts"] as? [[String: Any]])
            pages.append(accounts.count)
            #expect(json["size"] as? Int == accounts.count)
            currencies += accounts.compactMap { $0["currency"] as? String }
            cursor = json["cursor"] as? String ?? ""
            #expect((json["has_next"] as? Bool) == !cursor.isEmpty)
        } while !cursor.isEmpty
        #expect(pages == [2, 2, 1])
        #expect(currencies == ["BNB", "BTC", "ETH", "SOL", "USDT"])

        // A resting buy holds quote; the default page holds every wallet.
        let touch = try await h.touch()
        let order = h.limitGTC("hold-1", "BUY", size: "0.01", price: Self.away(touch.bid, percent: -5))
        #expect(try await h.call(.post, "/api/v3/brokerage/orders", body: order).status == 200)
        let (_, all, _) = try await h.call(.get, "/api/v3/brokerage/accounts")
        #expect(all["has_next"] as? Bool == false && all["cursor"] as? String == "")
        let usdt = try #require((all["accounts"] as? [[String: Any]])?.first { $0["currency"] as? String == "USDT" })
        let hold = try #require((usdt["hold"] as? [String: String])?["value"].flatMap(ExactDecimal.init))
        let available = try #require(
            (usdt["available_balance"] as? [String: String])?["value"].flatMap(ExactDecimal.init))
        #expect(hold == Self.away(touch.bid, percent: -5) * ExactDecimal("0.01")!)
        #expect(hold + available == 100_000)
        let uuid = try #require(usdt["uuid"] as? String)
        let (_, one, _) = try await h.call(.get, "/api/v3/brokerage/accounts/\(uuid)")
        #expect((one["account"] as? [String: Any])?["currency"] as? String == "USDT")
    }

    /// Seeded history through `/sim/seed-trades`, read newest first in pages of 50 by cursor.
    @Test func fillsArePagedNewestFirstAcrossPageBoundaries() async throws {
        let h = try CoinbaseVenueHarness()
        defer { h.close() }
        let key = h.account.apiKey.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        for (symbol, count) in [("ETHUSDT", 137), ("BTCUSDT", 20)] {
            let seeded = try await h.curl.send(
                HTTPRequest(
                    method: .post,
                    url: h.venue.baseURL + "/sim/seed-trades?symbol=\(symbol)&count=\(count)&apiKey=\(key)"
                ))
            #expect(seeded.status == 200, "\(seeded.text)")
        }
        func pull(_ filter: String) async throws -> (ids: [String], pages: [Int], fills: [[String: Any]]) {
            var cursor = ""
            var out: ([String], [Int], [[String: Any]]) = ([], [], [])
            repeat {
                let (status, json, _) = try await h.call(
                    .get, "/api/v3/brokerage/orders/historical/fills",
                    query: filter + "limit=50" + (cursor.isEmpty ? "" : "&cursor=\(cursor)"))
                #expect(status == 200)
                let fills = try #require(json["fills"] as? [[String: Any]])
                out.0 += fills.compactMap { $0["trade_id"] as? String }
                out.1.append(fills.count)
                out.2 += fills
                cursor = json["cursor"] as? String ?? ""
            } while !cursor.isEmpty
            return out
        }
        let eth = try await pull("product_ids=ETH-USDT&")
        #expect(eth.pages == [50, 50, 37])
        #expect(Set(eth.ids).count == 137)
        #expect(
            eth.fills.allSatisfy { $0["product_id"] as? String == "ETH-USDT" && $0["trade_type"] as? String == "FILL" })
        let times = eth.fills.compactMap { $0["sequence_timestamp"] as? String }
        #expect(times == times.sorted(by: >), "newest first")
        let all = try await pull("")
        #expect(all.pages == [50, 50, 50, 7] && Set(all.ids).count == 157)
        // Ids are stable: the first page read again names the same fills.
        #expect(try await pull("product_ids=ETH-USDT&").ids == eth.ids)
        // A time window: fills at or after the 20th newest ETH fill's time.
        let (_, windowed, _) = try await h.call(
            .get, "/api/v3/brokerage/orders/historical/fills",
            query: "product_ids=ETH-USDT&limit=500&start_sequence_timestamp=\(times[19])")
        #expect((windowed["fills"] as? [Any])?.count == 20)
    }

    @Test func aClientOrderIdUsedBeforePlacesNothingAndAnswersWithTheOriginal() async throws {
        let h = try CoinbaseVenueHarness()
        defer { h.close() }
        let touch = try await h.touch()
        let price = Self.away(touch.bid, percent: -3)
        let (status, created, _) = try await h.call(
            .post, "/api/v3/brokerage/orders", body: h.limitGTC("dup-1", "BUY", size: "0.01", price: price))
        #expect(status == 200 && created["success"] as? Bool == true, "\(created)")
        let success = try #require(created["success_response"] as? [String: Any])
        let orderID = try #require(success["order_id"] as? String)
        #expect(UUID(uuidString: orderID) != nil)
        #expect(success["client_order_id"] as? String == "dup-1" && success["product_id"] as? String == "BTC-USDT")
        #expect(success["side"] as? String == "BUY")
        let configuration = (created["order_configuration"] as? [String: Any])?["limit_limit_gtc"] as? [String: Any]
        #expect(configuration?["post_only"] as? Bool == true && configuration?["base_size"] as? String == "0.01")

        // Sent again, even with other terms: the original, nothing placed.
        let (_, again, _) = try await h.call(
            .post, "/api/v3/brokerage/orders", body: h.limitGTC("dup-1", "BUY", size: "0.02", price: price))
        #expect((again["success_response"] as? [String: Any])?["order_id"] as? String == orderID)
        #expect(try await h.simOrders().count == 1)

        // Still after the order is finished.
        let (_, cancelled, _) = try await h.call(
            .post, "/api/v3/brokerage/orders/batch_cancel", body: ["order_ids": [orderID, "not-an-order"]])
        let results = try #require(cancelled["results"] as? [[String: Any]])
        #expect(results.map { $0["success"] as? Bool } == [true, false])
        #expect(results.last?["failure_reason"] as? String == "UNKNOWN_CANCEL_ORDER")
        let (_, late, _) = try await h.call(
            .post, "/api/v3/brokerage/orders", body: h.limitGTC("dup-1", "BUY", size: "0.01", price: price))
        #expect((late["success_response"] as? [String: Any])?["order_id"] as? String == orderID)
        #expect(try await h.simOrders().count == 1)
        #expect(h.venue.statistics.ordersAccepted == 1)

        let (_, fetched, _) = try await h.call(.get, "/api/v3/brokerage/orders/historical/\(orderID)")
        let order = try #require(fetched["order"] as? [String: Any])
        #expect(order["status"] as? String == "CANCELLED" && order["client_order_id"] as? String == "dup-1")
        #expect(
            order["time_in_force"] as? String == "GOOD_UNTIL_CANCELLED" && order["order_type"] as? String == "LIMIT")
        #expect(order["filled_size"] as? String == "0" && order["number_of_fills"] as? String == "0")
        #expect((order["created_time"] as? String)?.contains(".") == true)
        let (missing, error, _) = try await h.call(
            .get, "/api/v3/brokerage/orders/historical/00000000-0000-4000-8000-000000000001")
        #expect(missing == 404 && error["error"] as? String == "NOT_FOUND")
    }

    @Test func aMarketableOrderFillsAndIsListedWithItsFills() async throws {
        let h = try CoinbaseVenueHarness()
        defer { h.close() }
        let touch = try await h.touch()
        let ioc: [String: Any] = [
            "client_order_id": "ioc-1", "product_id": "BTC-USDT", "side": "SELL",
            "order_configuration": [
                "sor_limit_ioc": ["base_size": "0.01", "limit_price": Self.away(touch.bid, percent: -1).description]
            ],
        ]
        let (_, created, _) = try await h.call(.post, "/api/v3/brokerage/orders", body: ioc)
        let orderID = try #require((created["success_response"] as? [String: Any])?["order_id"] as? String)
        let market: [String: Any] = [
            "client_order_id": "mkt-1", "product_id": "ETH-USDT", "side": "BUY",
            "order_configuration": ["market_market_ioc": ["quote_size": "100"]],
        ]
        let (_, bought, _) = try await h.call(.post, "/api/v3/brokerage/orders", body: market)
        let marketID = try #require((bought["success_response"] as? [String: Any])?["order_id"] as? String)
        _ = try await h.call(
            .post, "/api/v3/brokerage/orders",
            body: h.limitGTC("rest-1", "BUY", size: "0.01", price: Self.away(touch.bid, percent: -4)))

        let (_, got, _) = try await h.call(.get, "/api/v3/brokerage/orders/historical/\(orderID)")
        let order = try #require(got["order"] as? [String: Any])
        #expect(order["status"] as? String == "FILLED" && order["filled_size"] as? String == "0.01")
        #expect(order["time_in_force"] as? String == "IMMEDIATE_OR_CANCEL")
        #expect(ExactDecimal(order["total_fees"] as? String ?? "")?.isPositive == true)
        #expect(order["last_fill_time"] is String)
        let (_, gotMarket, _) = try await h.call(.get, "/api/v3/brokerage/orders/historical/\(marketID)")
        let marketOrder = try #require(gotMarket["order"] as? [String: Any])
        #expect(marketOrder["order_type"] as? String == "MARKET" && marketOrder["size_in_quote"] as? Bool == true)
        #expect(
            ((marketOrder["order_configuration"] as? [String: Any])?["market_market_ioc"] as? [String: Any])?[
                "quote_size"] as? String == "100")

        let (_, listed, _) = try await h.call(.get, "/api/v3/brokerage/orders/historical/batch")
        let orders = try #require(listed["orders"] as? [[String: Any]])
        #expect(orders.compactMap { $0["client_order_id"] as? String } == ["rest-1", "mkt-1", "ioc-1"])
        let (_, open, _) = try await h.call(
            .get, "/api/v3/brokerage/orders/historical/batch", query: "order_status=OPEN&product_ids=BTC-USDT")
        #expect((open["orders"] as? [[String: Any]])?.compactMap { $0["client_order_id"] as? String } == ["rest-1"])
        let (_, paged, _) = try await h.call(.get, "/api/v3/brokerage/orders/historical/batch", query: "limit=2")
        #expect(paged["has_next"] as? Bool == true && (paged["orders"] as? [Any])?.count == 2)
        let (_, rest, _) = try await h.call(
            .get, "/api/v3/brokerage/orders/historical/batch",
            query: "limit=2&cursor=\(paged["cursor"] as? String ?? "")")
        #expect((rest["orders"] as? [[String: Any]])?.compactMap { $0["client_order_id"] as? String } == ["ioc-1"])
        #expect(rest["has_next"] as? Bool == false)

        let (_, fills, _) = try await h.call(
            .get, "/api/v3/brokerage/orders/historical/fills", query: "order_ids=\(orderID)")
        let sold = try #require(fills["fills"] as? [[String: Any]])
        #expect(!sold.isEmpty && sold.allSatisfy { $0["order_id"] as? String == orderID })
        #expect(sold.compactMap { ExactDecimal($0["size"] as? String ?? "") }.reduce(.zero, +) == ExactDecimal("0.01")!)
        #expect(sold.allSatisfy { $0["liquidity_indicator"] as? String == "TAKER" && $0["side"] as? String == "SELL" })
        #expect(
            sold.allSatisfy {
                $0["size_in_quote"] as? Bool == false && UUID(uuidString: $0["entry_id"] as? String ?? "") != nil
            })
        // Commission in the quote asset, whichever the side.
        let trades = h.venue.trades(apiKey: h.account.apiKey)
        #expect(!trades.isEmpty && trades.allSatisfy { $0.commissionAsset == "USDT" && $0.commission.isPositive })

        let (_, summary, _) = try await h.call(.get, "/api/v3/brokerage/transaction_summary")
        let tier = try #require(summary["fee_tier"] as? [String: Any])
        #expect(tier["maker_fee_rate"] as? String == "0.001" && tier["taker_fee_rate"] as? String == "0.001")
    }

    @Test func refusalsAnswerSuccessFalseWithCoinbasesReasons() async throws {
        let h = try CoinbaseVenueHarness()
        defer { h.close() }
        let touch = try await h.touch()
        let below = Self.away(touch.bid, percent: -5)
        var unknownProduct = h.limitGTC("r-5", "BUY", size: "0.01", price: below)
        unknownProduct["product_id"] = "BTC-EUR"
        let cases: [(String, [String: Any], String, String)] = [
            (
                "funds", h.limitGTC("r-1", "BUY", size: "100", price: below), "INSUFFICIENT_FUND",
                "PREVIEW_INSUFFICIENT_FUND"
            ),
            (
                "post-only", h.limitGTC("r-2", "BUY", size: "0.01", price: Self.away(touch.ask, percent: 1)),
                "INVALID_LIMIT_PRICE_POST_ONLY", "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY"
            ),
            (
                "size step", h.limitGTC("r-3", "BUY", size: "0.000001", price: below), "INVALID_SIZE_PRECISION",
                "PREVIEW_INVALID_SIZE_PRECISION"
            ),
            (
                "price tick", h.limitGTC("r-4", "BUY", size: "0.01", price: below + ExactDecimal("0.001")!),
                "INVALID_PRICE_PRECISION", "PREVIEW_INVALID_PRICE_PRECISION"
            ),
            ("product", unknownProduct, "INVALID_PRODUCT_ID", "PREVIEW_INVALID_PRODUCT_ID"),
        ]
        for (why, body, error, preview) in cases {
            let (status, json, _) = try await h.call(.post, "/api/v3/brokerage/orders", body: body)
            #expect(status == 200 && json["success"] as? Bool == false, "\(why): \(json)")
            let response = json["error_response"] as? [String: Any]
            #expect(response?["error"] as? String == error, "\(why): \(json)")
            #expect(response?["preview_failure_reason"] as? String == preview, "\(why): \(json)")
            #expect(response?["new_order_failure_reason"] as? String == error, "\(why): \(json)")
        }
        var anonymous = h.limitGTC("x", "BUY", size: "0.01", price: below)
        anonymous["client_order_id"] = nil
        let (status, json, _) = try await h.call(.post, "/api/v3/brokerage/orders", body: anonymous)
        #expect(status == 400 && json["error"] as? String == "INVALID_ARGUMENT")
        #expect(try await h.simOrders().isEmpty)
        // A refused order's client id is not taken.
        let (_, placed, _) = try await h.call(
            .post, "/api/v3/brokerage/orders", body: h.limitGTC("r-1", "BUY", size: "0.01", price: below))
        #expect(placed["success"] as? Bool == true)
    }

    @Test func requestsPastThePerSecondLimitsAre429UntilTheNextSecond() async throws {
        let h = try CoinbaseVenueHarness { $0.limits.requestsPerSecond = 5 }
        defer { h.close() }
        for i in 1...5 {
            let (status, _, headers) = try await h.call(.get, "/api/v3/brokerage/transaction_summary")
            #expect(status == 200)
            #expect(headers["x-ratelimit-remaining"] == String(5 - i))
        }
        let (status, json, _) = try await h.call(.get, "/api/v3/brokerage/transaction_summary")
        #expect(status == 429 && json["error"] as? String == "RESOURCE_EXHAUSTED")
        // Public calls are counted per address, ten a second.
        for _ in 1...10 { #expect(try await h.call(.get, "/api/v3/brokerage/market/products").status == 200) }
        #expect(try await h.call(.get, "/api/v3/brokerage/market/products").status == 429)
        h.clock.advance(by: 1)
        #expect(try await h.call(.get, "/api/v3/brokerage/transaction_summary").status == 200)
        #expect(try await h.call(.get, "/api/v3/brokerage/market/products").status == 200)
        #expect(h.venue.statistics.rateLimited == 2)
    }

    @Test func scriptedFaultsAnswerAsCoinbaseWould() async throws {
        let orders = "/api/v3/brokerage/orders"
        let h = try CoinbaseVenueHarness {
            $0.faults = [
                FaultRule(kind: .unknownStatus, method: "POST", path: "/api/v3/brokerage/orders", placed: true),
                FaultRule(kind: .serverError, method: "POST", path: "/api/v3/brokerage/orders", after: 1),
                FaultRule(kind: .ban, path: "/api/v3/brokerage/accounts", retryAfterSeconds: 30),
            ]
        }
        defer { h.close() }
        let touch = try await h.touch()
        let body = h.limitGTC("f-1", "BUY", size: "0.01", price: Self.away(touch.bid, percent: -2))
        // 503: placed, but the client cannot know; sending the same id again finds it.
        let (unknown, _, _) = try await h.call(.post, orders, body: body)
        #expect(unknown == 503)
        #expect(try await h.simOrders().count == 1)
        let (_, found, _) = try await h.call(.post, orders, body: body)
        #expect(found["success"] as? Bool == true)
        #expect(try await h.simOrders().count == 1)
        // 500 without `placed`: nothing placed; the retry places it.
        let other = h.limitGTC("f-2", "BUY", size: "0.01", price: Self.away(touch.bid, percent: -2))
        #expect(try await h.call(.post, orders, body: other).status == 500)
        #expect(try await h.simOrders().count == 1)
        #expect(try await h.call(.post, orders, body: other).status == 200)
        #expect(try await h.simOrders().count == 2)
        // A ban: 403 for everything until it passes.
        #expect(try await h.call(.get, "/api/v3/brokerage/accounts").status == 403)
        #expect(try await h.call(.get, "/api/v3/brokerage/transaction_summary").status == 403)
        h.clock.advance(by: 31)
        #expect(try await h.call(.get, "/api/v3/brokerage/accounts").status == 200)
        #expect(h.venue.statistics.faultsHit == 2 && h.venue.statistics.banned == 1)
    }

    /// coinbase-advanced-py, unmodified, against the venue over TLS (it builds only https:// URLs;
    /// `REQUESTS_CA_BUNDLE` names a throwaway CA): products, books, accounts page by page, fees, a
    /// post-only order placed twice under one client id, looked up, listed and cancelled, then a
    /// marketable IOC order and its fills.
    @Test func theOfficialSDKUnmodifiedTradesAgainstTheVenueOverTLS() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-cbsdk-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let tls = try TestCertificateAuthority.make(in: directory)
        let account = AccountConfig.coinbaseDemo(venue: "sim-sdk")
        var config = VenueConfig(name: "sim-sdk", dialect: .coinbaseAdvanced)
        config.latency = LatencyProfile(baseMs: 0, jitterMs: 0)
        config.accounts = [account]
        config.tlsCertificate = tls.certificateFile
        config.tlsPrivateKey = tls.privateKeyFile
        let simulator = try Simulator(config: SimulatorConfig(seed: 14, venues: [config]), clock: SystemTime())
        defer { simulator.stop() }
        let venue = simulator.venues[0]
        let baseURL = venue.baseURL.replacingOccurrences(of: "https://127.0.0.1", with: "localhost")
        let script = """
            import json, os, sys
            from decimal import Decimal
            base_url, key, secret, ca = sys.argv[1:5]
            os.environ["REQUESTS_CA_BUNDLE"] = ca
            from coinbase.rest import RESTClient
            c = RESTClient(api_key=key, api_secret=secret, base_url=base_url, timeout=10)
            out = {}
            out["products"] = [p.product_id for p in c.get_products().products]
            p = c.get_product("BTC-USDT")
            out["product"] = [p.product_id, p.base_increment, p.quote_increment, p.status, p.product_type]
            out["public"] = [p.product_id for p in c.get_public_products().products][:1]
            out["public"] += [c.get_public_product_book("ETH-USDT", limit=2).pricebook.product_id]
            out["time"] = c.get_unix_time().iso[-1:]
            bba = c.get_best_bid_ask(product_ids=["BTC-USDT", "ETH-USDT"])
            out["bba"] = [b.product_id for b in bba.pricebooks]
            bid = Decimal(bba.pricebooks[0].bids[0].price)
            book = c.get_product_book("BTC-USDT", limit=5).pricebook
            out["book"] = [str(len(book.bids)), str(len(book.asks)), str(Decimal(book.bids[0].price) < Decimal(book.asks[0].price))]
            accounts, cursor, pages = [], None, 0
            while True:
                page = c.get_accounts(limit=2, cursor=cursor)
                pages += 1
                accounts += [[a.currency, a.available_balance["value"]] for a in page.accounts]
                if not page.has_next:
                    break
                cursor = page.cursor
            out["accounts"] = [pages, accounts]
            first = c.get_accounts(limit=1).accounts[0]
            out["account"] = c.get_account(first.uuid).account.currency
            tier = c.get_transaction_summary().fee_tier
            out["fees"] = [tier["maker_fee_rate"], tier["taker_fee_rate"]]
            price = str((bid * Decimal("0.95")).quantize(Decimal("0.01")))
            o = c.limit_order_gtc_buy("sdk-gtc-1", "BTC-USDT", base_size="0.01", limit_price=price, post_only=True)
            oid = o.success_response["order_id"]
            again = c.limit_order_gtc_buy("sdk-gtc-1", "BTC-USDT", base_size="0.01", limit_price=price, post_only=True)
            out["created"] = [o.success, again.success, again.success_response["order_id"] == oid]
            got = c.get_order(oid).order
            out["order"] = [got.status, got.client_order_id, str(got.order_configuration.limit_limit_gtc.post_only),
                            str(got.order_configuration.limit_limit_gtc.limit_price == price)]
            out["listed"] = [x.order_id == oid for x in c.list_orders(product_ids=["BTC-USDT"], order_status=["OPEN"]).orders]
            out["cancel"] = [r.success for r in c.cancel_orders([oid]).results]
            out["after"] = c.get_order(oid).order.status
            sell = str((bid * Decimal("0.99")).quantize(Decimal("0.01")))
            ioc = c.limit_order_ioc_sell("sdk-ioc-1", "BTC-USDT", base_size="0.01", limit_price=sell)
            ioc_id = ioc.success_response["order_id"]
            out["ioc"] = c.get_order(ioc_id).order.status
            fills = c.get_fills(order_ids=[ioc_id])
            out["fills"] = [str(sum(Decimal(f.size) for f in fills.fills)),
                            ",".join(sorted({f.liquidity_indicator for f in fills.fills})), fills.cursor]
            m = c.market_order_buy("sdk-mkt-1", "ETH-USDT", quote_size="50")
            out["market"] = [c.get_order(m.success_response["order_id"]).order.status,
                             c.get_order(m.success_response["order_id"]).order.order_type]
            print(json.dumps(out))
            """
        let data = try Openpyxl.runPython(script, arguments: [baseURL, account.apiKey, account.secret, tls.caFile])
        let out = try #require(
            try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(String(decoding: data, as: UTF8.self))")
        #expect(out["products"] as? [String] == ["BTC-USDT", "ETH-USDT", "SOL-USDT", "BNB-USDT", "ETH-BTC"])
        #expect(out["product"] as? [String] == ["BTC-USDT", "0.00001", "0.01", "online", "SPOT"])
        #expect(out["public"] as? [String] == ["BTC-USDT", "ETH-USDT"])
        #expect(out["time"] as? String == "Z")
        #expect(out["account"] as? String == "BNB")
        #expect(out["market"] as? [String] == ["FILLED", "MARKET"])
        #expect(out["bba"] as? [String] == ["BTC-USDT", "ETH-USDT"])
        #expect(out["book"] as? [String] == ["5", "5", "True"])
        let accounts = out["accounts"] as? [Any]
        #expect(accounts?.first as? Int == 3)
        #expect((accounts?.last as? [[String]])?.first { $0[0] == "BTC" }?[1] == "2")
        #expect((accounts?.last as? [[String]])?.map { $0[0] } == ["BNB", "BTC", "ETH", "SOL", "USDT"])
        #expect(out["fees"] as? [String] == ["0.001", "0.001"])
        #expect(out["created"] as? [Bool] == [true, true, true])
        #expect(out["order"] as? [String] == ["OPEN", "sdk-gtc-1", "True", "True"])
        #expect(out["listed"] as? [Bool] == [true])
        #expect(out["cancel"] as? [Bool] == [true])
        #expect(out["after"] as? String == "CANCELLED")
        #expect(out["ioc"] as? String == "FILLED")
        #expect(out["fills"] as? [String] == ["0.01", "TAKER", ""])
        // Two orders placed (the second request under the first's client id placed nothing), none refused.
        #expect(venue.orders(apiKey: account.apiKey).map(\.clientOrderId) == ["sdk-gtc-1", "sdk-ioc-1", "sdk-mkt-1"])
        #expect(venue.statistics.rejected == 0 && venue.statistics.ordersAccepted == 3)
    }

    /// The kinds that act on the answer: half a body, a partial fill, a reset connection.
    @Test func theOtherFaultKindsActAsOnTheOtherFronts() async throws {
        let h = try CoinbaseVenueHarness {
            $0.faults = [
                FaultRule(kind: .malformed, method: "GET", path: "/api/v3/brokerage/accounts"),
                FaultRule(kind: .partialFill, method: "POST", path: "/api/v3/brokerage/orders"),
                FaultRule(kind: .reset, method: "POST", path: "/api/v3/brokerage/orders", placed: true),
            ]
        }
        defer { h.close() }
        let (status, json, _) = try await h.call(.get, "/api/v3/brokerage/accounts")
        #expect(status == 200 && json.isEmpty, "half a body is not JSON")
        let touch = try await h.touch()
        let ioc: [String: Any] = [
            "client_order_id": "half-1", "product_id": "BTC-USDT", "side": "BUY",
            "order_configuration": [
                "sor_limit_ioc": ["base_size": "0.02", "limit_price": Self.away(touch.ask, percent: 1).description]
            ],
        ]
        let (_, created, _) = try await h.call(.post, "/api/v3/brokerage/orders", body: ioc)
        let id = try #require((created["success_response"] as? [String: Any])?["order_id"] as? String)
        let (_, got, _) = try await h.call(.get, "/api/v3/brokerage/orders/historical/\(id)")
        let order = try #require(got["order"] as? [String: Any])
        #expect(order["status"] as? String == "EXPIRED" && order["filled_size"] as? String == "0.01")
        // A reset after the order was placed: the client hears nothing; the same id finds it.
        let resting = h.limitGTC("reset-1", "BUY", size: "0.01", price: Self.away(touch.bid, percent: -2))
        await #expect(throws: TransportError.self) {
            _ = try await h.call(.post, "/api/v3/brokerage/orders", body: resting)
        }
        let (_, found, _) = try await h.call(.post, "/api/v3/brokerage/orders", body: resting)
        #expect(found["success"] as? Bool == true)
        #expect(try await h.simOrders().count == 2)
    }

    @Test func aDemoCoinbaseVenueGetsACDPKeyNameAndAPEMKey() throws {
        let demo = SimulatorConfig.demo(venues: 2, dialects: [.coinbaseAdvanced])
        let venue = demo.venues[0]
        #expect(venue.dialect == .coinbaseAdvanced && venue.feesInQuote)
        let account = try #require(venue.accounts.first)
        let parts = account.apiKey.split(separator: "/").map(String.init)
        #expect(parts.count == 4 && parts[0] == "organizations" && parts[2] == "apiKeys")
        #expect(UUID(uuidString: parts[1]) != nil && UUID(uuidString: parts[3]) != nil)
        #expect(account.secret.hasPrefix("-----BEGIN EC PRIVATE KEY-----"))
        _ = try ECPrivateKey(pem: account.secret)
        // Derived from the venue's name: the same again, another for another venue.
        #expect(
            SimulatorConfig.demo(venues: 1, dialects: [.coinbaseAdvanced]).venues[0].accounts[0].apiKey
                == account.apiKey)
        #expect(AccountConfig.coinbaseDemo(venue: "sim-z").apiKey != account.apiKey)
        #expect(demo.venues[1].dialect == .binanceSpot && !demo.venues[1].feesInQuote)

        // From a file: no accounts gives the Coinbase demo account; a secret that is no PEM is named.
        let file =
            #"{"venues": [{"name": "cb-f", "dialect": "coinbase-advanced", "limits": {"requests_per_second": 7}}]}"#
        let decoded = try JSONDecoder().decode(SimulatorConfig.self, from: Data(file.utf8))
        #expect(decoded.venues[0].accounts[0].apiKey == AccountConfig.coinbaseDemo(venue: "cb-f").apiKey)
        #expect(
            decoded.venues[0].limits.requestsPerSecond == 7 && decoded.venues[0].limits.publicRequestsPerSecond == 10)
        try decoded.validate()
        var bad = decoded
        bad.venues[0].accounts[0].secret = "demo-secret"
        let error = #expect(throws: SimulatorError.self) { try bad.validate() }
        #expect(error?.description.contains("P-256 private key") == true, "\(String(describing: error))")
    }
}
