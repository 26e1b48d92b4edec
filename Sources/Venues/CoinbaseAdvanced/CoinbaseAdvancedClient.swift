public import BallastCore
import Digest
import Foundation
import Synchronization
public import Transport

/// A client for one account (or none, for public data) at one venue speaking the Coinbase
/// Advanced Trade REST dialect.
///
/// Every private request carries a fresh JWT (ES256, signed with the CDP key's EC private key,
/// valid for two minutes, bound to the request's method, host and path). Products are named
/// `BASE-QUOTE`; the listing maps them to Ballast's symbols from their base and quote ids. Reads
/// are retried after a 429, a 5xx or a dropped connection. Unlike Binance and Kraken, Coinbase
/// keeps a client order id unique for good: sending an order again with the same
/// `client_order_id` places nothing and answers with the original order. So an order request is
/// retried here like a read, and the dialect's resend rule has no window to wait out.
public final class CoinbaseAdvancedClient: Sendable {
    public let venue: String
    public let account: String?
    let baseURL: String
    /// The host (and port) the JWT's `uri` claim names: the base URL without its scheme.
    let host: String
    let credentials: Credentials?
    let transport: any HTTPTransport
    let governor: RateGovernor
    let events: any VenueEventSink
    let clock: any TimeSource
    private let cachedNames = Mutex<CoinbaseNames?>(nil)
    /// Venue order ids of the orders this client placed or found, by client order id: a lookup
    /// of one of them reads it by id instead of searching the order history.
    let knownOrders = Mutex<[String: String]>([:])

    public init(
        venue: String, account: String?, baseURL: String, credentials: Credentials?, transport: any HTTPTransport,
        governor: RateGovernor, events: any VenueEventSink, clock: any TimeSource = SystemTime()
    ) {
        self.venue = venue
        self.account = account
        let trimmed = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.baseURL = trimmed
        host = trimmed.components(separatedBy: "://").last ?? trimmed
        self.credentials = credentials
        self.transport = transport
        self.governor = governor
        self.events = events
        self.clock = clock
    }

    /// Private REST: about 30 requests a second per key. A counter of 15 draining 15 a second
    /// never lets more than 30 through in any one second, whatever second the venue counts.
    public static let privateCounter = RateLimits.CallCounter(max: 15, decayPerSecond: 15)

    /// Public REST: about 10 requests a second per IP.
    public static let publicCounter = RateLimits.CallCounter(max: 5, decayPerSecond: 5)

    /// The limits the listing reports.
    public static let publishedLimits = RateLimits(
        requestWeightPerMinute: 1800, ordersPerTenSeconds: 100, callCounter: privateCounter)

    /// Seconds a JWT stays valid (Coinbase takes at most two minutes).
    static let tokenLifetime = 120

    // MARK: Names

    /// The venue's products under Ballast's symbols, read once per client.
    func names() async throws(VenueError) -> CoinbaseNames {
        if let names = cachedNames.withLock({ $0 }) { return names }
        let wire: CoinbaseProducts = try await call(.products(signed: credentials != nil), [("product_type", "SPOT")])
        let names = CoinbaseNames(wire.products)
        cachedNames.withLock { $0 = names }
        return names
    }

    func productId(_ symbol: String) async throws(VenueError) -> String {
        guard let product = try await names().bySymbol[symbol]?.productId else {
            throw .rejected(
                venue: venue, endpoint: CoinbaseEndpoint.products(signed: credentials != nil).path, httpStatus: 200,
                code: 0,
                message: "symbol \(symbol) is not listed at this venue")
        }
        return product
    }

    // MARK: The request loop

    /// Sends one call and decodes its answer, with the retries described on the type. `serving`
    /// names the client order id the call is about, for the attempt's record.
    func call<T: Decodable & Sendable>(
        _ endpoint: CoinbaseEndpoint, _ query: [(String, String)] = [], body: [String: any Sendable]? = nil,
        serving clientOrderId: String? = nil
    ) async throws(VenueError) -> T {
        try await answer(endpoint, query, body: body, serving: clientOrderId).value
    }

    /// `call`, naming the attempt the answer came in (the last, after retries), as a failure does.
    func answer<T: Decodable & Sendable>(
        _ endpoint: CoinbaseEndpoint, _ query: [(String, String)] = [], body: [String: any Sendable]? = nil,
        serving clientOrderId: String? = nil
    ) async throws(VenueError) -> Answer<T> {
        var attempts = 0
        while true {
            attempts += 1
            try await governor.acquire(weight: 1, orders: endpoint.placesOrder ? 1 : 0)
            let request = try build(endpoint, query, body: body)
            switch try await once(endpoint, request, serving: clientOrderId) as ExchangeOutcome<T> {
            case .done(let answer): return answer
            case .retry(let detail, let id):
                if attempts < 4 { continue }
                throw .outcomeUnknown(
                    venue: venue, endpoint: endpoint.path, detail: "gave up after \(attempts) attempts: \(detail)",
                    httpAttemptId: id)
            }
        }
    }

    /// One exchange: send, record, classify.
    private func once<T: Decodable & Sendable>(
        _ endpoint: CoinbaseEndpoint, _ request: HTTPRequest, serving clientOrderId: String?
    ) async throws(VenueError) -> ExchangeOutcome<T> {
        let started = clock.now()
        let recorder = AttemptRecorder(client: self, endpoint: endpoint, started: started, clientOrderId: clientOrderId)
        let pending = try await recorder.begin()
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch {
            let id = await recorder.record(
                nil, pending, outcome: error.kind == .timedOut ? .timeout : .transportError, error: error.description)
            if endpoint.repeatable { return .retry(error.description, id) }
            if error.reach == .never {
                throw .unreachable(venue: venue, endpoint: endpoint.path, detail: error.description, httpAttemptId: id)
            }
            throw .outcomeUnknown(venue: venue, endpoint: endpoint.path, detail: error.description, httpAttemptId: id)
        }
        let body = Data(response.body)
        let problem = (try? JSONDecoder().decode(CoinbaseErrorBody.self, from: body))?.text ?? ""
        switch response.status {
        case 200..<300: break
        case 429:
            let id = await recorder.record(response, pending, outcome: .rateLimited, error: problem)
            await governor.rateLimited(retryAfter: .seconds(1))
            return .retry("HTTP 429", id)
        case 500...:
            let id = await recorder.record(response, pending, outcome: .serverError, error: problem)
            if endpoint.repeatable { return .retry("HTTP \(response.status)", id) }
            throw .outcomeUnknown(
                venue: venue, endpoint: endpoint.path, detail: "HTTP \(response.status) \(problem)", httpAttemptId: id)
        default:
            let id = await recorder.record(
                response, pending, outcome: .venueError, error: "HTTP \(response.status) \(problem)")
            throw .rejected(
                venue: venue, endpoint: endpoint.path, httpStatus: response.status, code: 0,
                message: problem.isEmpty ? "HTTP \(response.status)" : problem, httpAttemptId: id)
        }
        do {
            let value = try JSONDecoder().decode(T.self, from: body)
            let id: HTTPAttempt.ID?
            if let created = value as? CoinbaseCreateOrder, !created.success {
                // Refused in a 200: on record as the venue's error, as a 4xx refusal is.
                id = await recorder.record(
                    response, pending, outcome: .venueError, error: created.error_response?.text ?? "refused")
            } else {
                id = await recorder.record(response, pending, outcome: .ok)
            }
            return .done(Answer(value, httpAttemptId: id))
        } catch {
            let reason = FormEncoding.reason(error)
            let id = await recorder.record(
                response, pending, outcome: .malformed, error: "\(reason); body: \(response.text.prefix(4096))")
            throw .malformed(
                venue: venue, endpoint: endpoint.path, reason: reason, raw: response.text, httpAttemptId: id)
        }
    }

    /// The HTTP request: a query string for GETs, a JSON body for POSTs, and a bearer JWT on
    /// private endpoints.
    func build(_ endpoint: CoinbaseEndpoint, _ query: [(String, String)], body: [String: any Sendable]?)
        throws(VenueError) -> HTTPRequest
    {
        let encoded = FormEncoding.encode(query)
        let url = baseURL + endpoint.path + (encoded.isEmpty ? "" : "?" + encoded)
        var headers = [HTTPHeader("Content-Type", "application/json")]
        if endpoint.isPrivate {
            guard let credentials else { throw .missingCredentials(venue: venue) }
            let token = try Self.token(
                method: endpoint.method.rawValue, host: host, path: endpoint.path, credentials: credentials,
                now: clock.now(), venue: venue)
            headers.append(HTTPHeader("Authorization", "Bearer \(token)"))
        }
        var bytes: [UInt8] = []
        if let body {
            guard
                let data = try? JSONSerialization.data(
                    withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])
            else {
                throw .rejected(
                    venue: venue, endpoint: endpoint.path, httpStatus: 0, code: 0,
                    message: "the request body could not be written as JSON; nothing was sent")
            }
            bytes = Array(data)
        }
        return HTTPRequest(method: endpoint.method, url: url, headers: headers, body: bytes)
    }

    /// A JWT for one request: header `{alg: ES256, kid, nonce, typ: JWT}`, claims `{sub, iss:
    /// "cdp", nbf, exp, uri: "<METHOD> <host><path>"}`, signed with the key's EC private key.
    static func token(
        method: String, host: String, path: String, credentials: Credentials, now: Date, venue: String
    ) throws(VenueError) -> String {
        let key: ECPrivateKey
        do {
            key = try ECPrivateKey(pem: pemText(credentials.secret))
        } catch {
            throw .rejected(
                venue: venue, endpoint: path, httpStatus: 0, code: 0,
                message: "the account's API secret is not a PEM EC private key (Coinbase's CDP keys are): "
                    + "\(error.description); nothing was sent")
        }
        let seconds = Int(now.timeIntervalSince1970.rounded(.down))
        let nonce = Digest.hex((0..<16).map { _ in UInt8.random(in: 0...255) })
        let header: [String: Any] = [
            "alg": "ES256", "kid": credentials.apiKey, "nonce": nonce, "typ": "JWT",
        ]
        let claims: [String: Any] = [
            "sub": credentials.apiKey, "iss": "cdp", "nbf": seconds, "exp": seconds + tokenLifetime,
            "uri": "\(method) \(host)\(path)",
        ]
        guard
            let headerJSON = try? JSONSerialization.data(
                withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes]),
            let claimsJSON = try? JSONSerialization.data(
                withJSONObject: claims, options: [.sortedKeys, .withoutEscapingSlashes])
        else {
            throw .rejected(
                venue: venue, endpoint: path, httpStatus: 0, code: 0, message: "cannot write the JWT; nothing was sent")
        }
        let input = Base64URL.encode(headerJSON) + "." + Base64URL.encode(claimsJSON)
        do {
            return input + "." + Base64URL.encode(try key.sign(Array(input.utf8)))
        } catch {
            throw .rejected(
                venue: venue, endpoint: path, httpStatus: 0, code: 0,
                message: "cannot sign the request: \(error.description); nothing was sent")
        }
    }

    /// A PEM key as a job file or environment variable may hold it: with real line breaks, or
    /// with `\n` written out (as in the JSON file Coinbase hands out).
    static func pemText(_ secret: String) -> String {
        secret.contains("\n") ? secret : secret.replacingOccurrences(of: "\\n", with: "\n")
    }
}

/// Records one HTTP exchange of a Coinbase client as an attempt (opened before it is sent).
struct AttemptRecorder {
    let client: CoinbaseAdvancedClient
    let endpoint: CoinbaseEndpoint
    let started: Date
    let clientOrderId: String?

    func begin() async throws(VenueError) -> HTTPAttempt.ID? {
        do {
            return try await client.events.begin(attempt(nil, outcome: .pending, error: nil))
        } catch {
            throw .notRecorded(venue: client.venue, endpoint: endpoint.path, detail: "\(error)")
        }
    }

    /// Records how the attempt ended; returns its id in the store.
    func record(
        _ response: HTTPResponse?, _ pending: HTTPAttempt.ID?, outcome: HTTPAttempt.Outcome, error: String? = nil
    ) async -> HTTPAttempt.ID? {
        await client.events.complete(attempt(response, outcome: outcome, error: error), id: pending)
    }

    private func attempt(_ response: HTTPResponse?, outcome: HTTPAttempt.Outcome, error: String?) -> HTTPAttempt {
        HTTPAttempt(
            venue: client.venue, account: client.account, method: endpoint.method.rawValue, endpoint: endpoint.path,
            weight: 1, startedAt: started, timings: response?.timings, httpStatus: response?.status, venueCode: nil,
            outcome: outcome, usedWeight1m: nil, orderCount10s: nil, orderCount1d: nil, retryAfterSeconds: nil,
            error: error, clientOrderId: clientOrderId)
    }
}

/// Coinbase's endpoints: method, path, whether signed, and whether sending again is harmless.
enum CoinbaseEndpoint: Sendable {
    /// The listing and the book, signed (on the key's budget) or public (on the host's).
    case products(signed: Bool), productBook(signed: Bool)
    case bestBidAsk, accounts, transactionSummary
    case listOrders, order(String), fills, createOrder, cancelOrders

    var path: String {
        let root = "/api/v3/brokerage"
        switch self {
        case .products(let signed): return root + (signed ? "/products" : "/market/products")
        case .productBook(let signed): return root + (signed ? "/product_book" : "/market/product_book")
        case .bestBidAsk: return root + "/best_bid_ask"
        case .accounts: return root + "/accounts"
        case .transactionSummary: return root + "/transaction_summary"
        case .listOrders: return root + "/orders/historical/batch"
        case .order(let id):
            let escaped = id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? id
            return root + "/orders/historical/" + escaped
        case .fills: return root + "/orders/historical/fills"
        case .createOrder: return root + "/orders"
        case .cancelOrders: return root + "/orders/batch_cancel"
        }
    }

    var method: HTTPRequest.Method {
        switch self {
        case .createOrder, .cancelOrders: .post
        default: .get
        }
    }

    var isPrivate: Bool {
        switch self {
        case .products(let signed), .productBook(let signed): signed
        default: true
        }
    }

    var placesOrder: Bool {
        if case .createOrder = self { return true }
        return false
    }

    /// Every call may be sent again: reads change nothing, a create with the same client order
    /// id returns the original order, and cancelling twice cancels once.
    var repeatable: Bool { true }
}

/// The venue's products under Ballast's symbols, and back.
struct CoinbaseNames: Sendable {
    struct Product: Sendable {
        var productId: String
        var rules: SymbolRules
    }

    /// Ballast's symbol → product.
    var bySymbol: [String: Product] = [:]
    /// Product id (`BTC-USDT`) → Ballast's symbol.
    var symbolOf: [String: String] = [:]

    init(_ products: [CoinbaseProduct]) {
        for product in products where product.product_type == nil || product.product_type == "SPOT" {
            let base = product.base_currency_id
            let quote = product.quote_currency_id
            let symbol = TradingPair.symbol(base: base, quote: quote)
            let trading =
                (product.status ?? "online") == "online" && product.trading_disabled != true
                && product.is_disabled != true
            let rules = SymbolRules(
                pair: TradingPair(symbol: symbol, base: base, quote: quote),
                status: trading ? "TRADING" : "HALT",
                tickSize: product.price_increment ?? product.quote_increment ?? ExactDecimal(significand: 1, scale: 8),
                stepSize: product.base_increment, minQty: product.base_min_size ?? .zero,
                minNotional: product.quote_min_size ?? .zero)
            bySymbol[symbol] = Product(productId: product.product_id, rules: rules)
            symbolOf[product.product_id] = symbol
        }
    }
}
