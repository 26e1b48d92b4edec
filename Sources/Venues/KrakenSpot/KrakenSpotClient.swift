public import BallastCore
import Digest
import Foundation
import Synchronization
public import Transport

/// A client for one account (or none, for public data) at one venue speaking the Kraken Spot REST
/// dialect.
///
/// Private calls are POSTs signed with HMAC-SHA512 over the URI path and SHA-256(nonce ‖ body),
/// the nonce drawn from a `NonceSource` shared by every process using the key. Kraken names
/// assets and pairs its own way (XXBT, ZUSD, XBTUSDT, XBT/USDT): the listing maps them to
/// Ballast's assets and symbols, and every call translates at the edge. Reads are retried after a
/// rate-limit error, an `EService`/`EGeneral:Internal error`, a 5xx or a dropped connection; an
/// order request is never repeated blindly (`outcomeUnknown`), and carries a deadline after which
/// the matching engine refuses it, which is the dialect's resend rule.
public final class KrakenSpotClient: Sendable {
    public let venue: String
    public let account: String?
    let baseURL: String
    let credentials: Credentials?
    let transport: any HTTPTransport
    let governor: RateGovernor
    let events: any VenueEventSink
    let clock: any TimeSource
    let nonces: any NonceSource
    /// How long an order request stays valid at the venue (its `deadline`), in ms.
    public let orderWindowMs: Int
    private let cachedNames = Mutex<KrakenNames?>(nil)

    public init(
        venue: String, account: String?, baseURL: String, credentials: Credentials?, transport: any HTTPTransport,
        governor: RateGovernor, events: any VenueEventSink, clock: any TimeSource = SystemTime(),
        nonces: any NonceSource, orderWindowMs: Int = 5000
    ) {
        self.venue = venue
        self.account = account
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.credentials = credentials
        self.transport = transport
        self.governor = governor
        self.events = events
        self.clock = clock
        self.nonces = nonces
        self.orderWindowMs = min(max(orderWindowMs, 1000), 60_000)
    }

    /// Kraken's starting tier: a call counter of 15 per key that drains by 0.33 a second (higher
    /// tiers have more); orders have their own per-pair counter, kept here as 10 orders per 10 s.
    public static let starterCounter = RateLimits.CallCounter(max: 15, decayPerSecond: 0.33)

    /// Kraken's pro tier: a counter of 20 draining 1 a second.
    public static let proCounter = RateLimits.CallCounter(max: 20, decayPerSecond: 1)

    /// Public market data: about one call a second per IP, with a little burst.
    public static let publicCounter = RateLimits.CallCounter(max: 10, decayPerSecond: 1)

    /// The limits the listing reports: the starter tier's counter.
    public static let publishedLimits = RateLimits(
        requestWeightPerMinute: 20, ordersPerTenSeconds: 10, callCounter: starterCounter)

    // MARK: Names

    /// The venue's assets and pairs under Ballast's names, from the listing: read once per client,
    /// and shared by the process's clients of the same venue for `namesLifetime` (the listing is
    /// public and changes rarely; every client reading it again would spend the venue's budget).
    func names() async throws(VenueError) -> KrakenNames {
        if let names = cachedNames.withLock({ $0 }) { return names }
        let now = clock.now()
        if let shared = Self.sharedNames.withLock({ $0[baseURL] }),
            now.timeIntervalSince(shared.at) < Self.namesLifetime
        {
            cachedNames.withLock { $0 = shared.names }
            return shared.names
        }
        let assets: [String: KrakenAsset] = try await call(.assets, [])
        let pairs: [String: KrakenPair] = try await call(.assetPairs, [])
        let names = KrakenNames(assets: assets, pairs: pairs)
        cachedNames.withLock { $0 = names }
        Self.sharedNames.withLock { $0[baseURL] = (names, now) }
        return names
    }

    /// Seconds a venue's listing is shared between clients of one process.
    static let namesLifetime: TimeInterval = 600
    private static let sharedNames = Mutex<[String: (names: KrakenNames, at: Date)]>([:])

    func wirePair(_ symbol: String) async throws(VenueError) -> KrakenNames.Pair {
        guard let pair = try await names().bySymbol[symbol] else {
            throw .rejected(
                venue: venue, endpoint: "/0/public/AssetPairs", httpStatus: 200, code: 0,
                message: "symbol \(symbol) is not listed at this venue")
        }
        return pair
    }

    // MARK: The request loop

    /// Sends one call and decodes its result, with the retries described on the type.
    func call<T: Decodable & Sendable>(
        _ endpoint: KrakenEndpoint, _ params: [(String, String)], clientOrderId: String? = nil
    ) async throws(VenueError) -> T {
        try await answer(endpoint, params, clientOrderId: clientOrderId).value
    }

    /// Sends one call and decodes its result, with the retries described on the type; the answer
    /// names the attempt it came in, as a failure does. `clientOrderId` names the order the call
    /// is about, for the attempt's record.
    func answer<T: Decodable & Sendable>(
        _ endpoint: KrakenEndpoint, _ params: [(String, String)], clientOrderId: String? = nil
    ) async throws(VenueError) -> Answer<T> {
        let call = Call(endpoint: endpoint, clientOrderId: clientOrderId)
        var attempts = 0
        while true {
            attempts += 1
            try await governor.acquire(weight: endpoint.cost, orders: endpoint.placesOrder ? 1 : 0)
            let outcome: ExchangeOutcome<T>
            if endpoint.isPrivate {
                guard let credentials else { throw .missingCredentials(venue: venue) }
                guard Data(base64Encoded: credentials.secret) != nil else {
                    throw .rejected(
                        venue: venue, endpoint: endpoint.path, httpStatus: 0, code: 0,
                        message: "the account's API secret is not base64 (Kraken shows its secrets in base64); "
                            + "nothing was sent")
                }
                let now = UInt64(max(0, clock.now().timeIntervalSince1970 * 1_000_000))
                outcome = try await nonces.withNonce(venue: venue, key: credentials.fingerprint, now: now) {
                    (nonce) async throws(VenueError) -> ExchangeOutcome<T> in
                    try await self.once(call, [("nonce", String(nonce))] + params, credentials: credentials)
                }
            } else {
                outcome = try await once(call, params, credentials: nil)
            }
            switch outcome {
            case .done(let answer): return answer
            case .retry(let detail, let id):
                if attempts < 4 { continue }
                throw .outcomeUnknown(
                    venue: venue, endpoint: endpoint.path, detail: "gave up after \(attempts) attempts: \(detail)",
                    httpAttemptId: id)
            }
        }
    }

    /// One call as its attempts are recorded: the endpoint and the order it is about.
    struct Call: Sendable {
        var endpoint: KrakenEndpoint
        var clientOrderId: String?
    }

    /// One exchange: build, record, send, classify.
    private func once<T: Decodable & Sendable>(
        _ call: Call, _ params: [(String, String)], credentials: Credentials?
    ) async throws(VenueError) -> ExchangeOutcome<T> {
        let endpoint = call.endpoint
        let request = Self.build(endpoint, params, baseURL: baseURL, credentials: credentials)
        let started = clock.now()
        let pending = try await begin(call, started)
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch {
            let id = await record(
                call, started, nil, pending, outcome: error.kind == .timedOut ? .timeout : .transportError,
                error: error.description)
            if endpoint.idempotent { return .retry(error.description, id) }
            if error.reach == .never {
                throw .unreachable(venue: venue, endpoint: endpoint.path, detail: error.description, httpAttemptId: id)
            }
            throw .outcomeUnknown(venue: venue, endpoint: endpoint.path, detail: error.description, httpAttemptId: id)
        }
        let body = Data(response.body)
        switch response.status {
        case 200..<300: break
        case 429:
            let id = await record(call, started, response, pending, outcome: .rateLimited)
            await governor.rateLimited(retryAfter: .seconds(Self.rateLimitPause))
            return .retry("HTTP 429", id)
        case 500...:
            let id = await record(call, started, response, pending, outcome: .serverError)
            if endpoint.idempotent { return .retry("HTTP \(response.status)", id) }
            throw .outcomeUnknown(
                venue: venue, endpoint: endpoint.path, detail: "HTTP \(response.status)", httpAttemptId: id)
        default:
            let id = await record(
                call, started, response, pending, outcome: .malformed, error: "HTTP \(response.status)")
            throw .malformed(
                venue: venue, endpoint: endpoint.path, reason: "HTTP \(response.status)", raw: response.text,
                httpAttemptId: id)
        }
        let errors = (try? JSONDecoder().decode(KrakenErrors.self, from: body))?.error ?? []
        if let first = errors.first {
            let message = errors.joined(separator: "; ")
            if first.hasSuffix("Rate limit exceeded") {
                let id = await record(call, started, response, pending, outcome: .rateLimited, error: message)
                await governor.rateLimited(retryAfter: .seconds(Self.rateLimitPause))
                return .retry(message, id)
            }
            let id = await record(call, started, response, pending, outcome: .venueError, error: message)
            // Refused before it was looked at: sending again (with a new nonce) cannot double anything.
            if first == "EAPI:Invalid nonce" { return .retry(message, id) }
            if Self.unknownOutcome.contains(first) {
                if endpoint.idempotent { return .retry(message, id) }
                throw .outcomeUnknown(venue: venue, endpoint: endpoint.path, detail: message, httpAttemptId: id)
            }
            throw .rejected(
                venue: venue, endpoint: endpoint.path, httpStatus: response.status, code: 0, message: message,
                httpAttemptId: id)
        }
        do {
            let envelope = try JSONDecoder().decode(KrakenEnvelope<T>.self, from: body)
            guard let result = envelope.result else {
                throw DecodingError.valueNotFound(
                    T.self, .init(codingPath: [], debugDescription: "no result and no error"))
            }
            let id = await record(call, started, response, pending, outcome: .ok)
            return .done(Answer(result, httpAttemptId: id))
        } catch {
            let reason = FormEncoding.reason(error)
            let id = await record(
                call, started, response, pending, outcome: .malformed,
                error: "\(reason); body: \(response.text.prefix(4096))")
            throw .malformed(
                venue: venue, endpoint: endpoint.path, reason: reason, raw: response.text, httpAttemptId: id)
        }
    }

    /// Errors after which an order's fate is unknown (the request may or may not have been acted on).
    static let unknownOutcome: Set<String> = ["EService:Unavailable", "EService:Busy", "EGeneral:Internal error"]

    /// Seconds to hold every call of the key after a rate-limit error (Kraken names no wait).
    static let rateLimitPause: Int64 = 5

    /// The HTTP request: public calls are GETs with a query; private calls POST a form body signed
    /// in the `API-Sign` header.
    static func build(
        _ endpoint: KrakenEndpoint, _ params: [(String, String)], baseURL: String, credentials: Credentials?
    ) -> HTTPRequest {
        let encoded = FormEncoding.encode(params)
        guard endpoint.isPrivate, let credentials else {
            return HTTPRequest(
                method: .get, url: baseURL + endpoint.path + (encoded.isEmpty ? "" : "?" + encoded), headers: [],
                body: [])
        }
        let nonce = params.first { $0.0 == "nonce" }?.1 ?? ""
        return HTTPRequest(
            method: .post, url: baseURL + endpoint.path,
            headers: [
                HTTPHeader("API-Key", credentials.apiKey),
                HTTPHeader("API-Sign", sign(path: endpoint.path, nonce: nonce, body: encoded, secret: credentials)),
                HTTPHeader("Content-Type", "application/x-www-form-urlencoded"),
            ], body: Array(encoded.utf8))
    }

    /// `API-Sign`: base64(HMAC-SHA512(key: base64-decoded secret, message: path ‖ SHA-256(nonce ‖ body))).
    static func sign(path: String, nonce: String, body: String, secret credentials: Credentials) -> String {
        let key = Data(base64Encoded: credentials.secret) ?? Data()
        let message = Array(path.utf8) + Digest.sha256(nonce + body)
        return Data(Digest.hmacSHA512(key: Array(key), message: message)).base64EncodedString()
    }

    private func begin(_ call: Call, _ started: Date) async throws(VenueError) -> HTTPAttempt.ID? {
        do {
            return try await events.begin(attempt(call, started, nil, outcome: .pending, error: nil))
        } catch {
            throw .notRecorded(venue: venue, endpoint: call.endpoint.path, detail: "\(error)")
        }
    }

    /// Records how an attempt ended; returns its id in the store.
    private func record(
        _ call: Call, _ started: Date, _ response: HTTPResponse?, _ pending: HTTPAttempt.ID?,
        outcome: HTTPAttempt.Outcome, error: String? = nil
    ) async -> HTTPAttempt.ID? {
        await events.complete(attempt(call, started, response, outcome: outcome, error: error), id: pending)
    }

    private func attempt(
        _ call: Call, _ started: Date, _ response: HTTPResponse?, outcome: HTTPAttempt.Outcome, error: String?
    ) -> HTTPAttempt {
        let endpoint = call.endpoint
        return HTTPAttempt(
            venue: venue, account: account, method: endpoint.isPrivate ? "POST" : "GET", endpoint: endpoint.path,
            weight: endpoint.cost, startedAt: started, timings: response?.timings, httpStatus: response?.status,
            venueCode: nil, outcome: outcome, usedWeight1m: nil, orderCount10s: nil, orderCount1d: nil,
            retryAfterSeconds: nil, error: error, clientOrderId: call.clientOrderId)
    }
}

/// Kraken's endpoints: path, whether private (signed POST), the points a call adds to the key's
/// counter, whether it places an order, and whether repeating it is harmless.
enum KrakenEndpoint: Sendable {
    case time, assets, assetPairs, ticker, depth
    case balanceEx, tradeVolume, tradesHistory, queryTrades, openOrders, closedOrders, queryOrders
    case addOrder, cancelOrder

    var name: String {
        switch self {
        case .time: "Time"
        case .assets: "Assets"
        case .assetPairs: "AssetPairs"
        case .ticker: "Ticker"
        case .depth: "Depth"
        case .balanceEx: "BalanceEx"
        case .tradeVolume: "TradeVolume"
        case .tradesHistory: "TradesHistory"
        case .queryTrades: "QueryTrades"
        case .openOrders: "OpenOrders"
        case .closedOrders: "ClosedOrders"
        case .queryOrders: "QueryOrders"
        case .addOrder: "AddOrder"
        case .cancelOrder: "CancelOrder"
        }
    }

    var isPrivate: Bool {
        switch self {
        case .time, .assets, .assetPairs, .ticker, .depth: false
        default: true
        }
    }

    var path: String { (isPrivate ? "/0/private/" : "/0/public/") + name }

    /// History calls count 2 on Kraken's counter; order placement and cancels count on the
    /// matching engine's counter instead (the governor's order budget); public calls are limited
    /// per IP, separately, and count 1 here to stay polite.
    var cost: Int {
        switch self {
        case .tradesHistory, .queryTrades, .closedOrders: 2
        case .addOrder, .cancelOrder: 0
        default: 1
        }
    }

    var placesOrder: Bool { self == .addOrder }
    var idempotent: Bool { self != .addOrder && self != .cancelOrder }
}

/// The venue's assets and pairs under Ballast's names, and back.
struct KrakenNames: Sendable {
    struct Pair: Sendable {
        /// Kraken's key of the pair (`XXBTZUSD`): results are keyed by it.
        var key: String
        /// The name Ballast sends (`XBTUSDT`).
        var altname: String
        var rules: SymbolRules
    }

    /// Ballast's symbol → pair.
    var bySymbol: [String: Pair] = [:]
    /// Any of Kraken's names of a pair (key, altname, wsname) → Ballast's symbol.
    var symbolOf: [String: String] = [:]
    /// Kraken's asset key (`XXBT`) → Ballast's asset (`BTC`).
    var assetOf: [String: String] = [:]

    /// Kraken's own spellings of assets other venues spell differently.
    static let aliases = ["XBT": "BTC", "XDG": "DOGE"]

    init(assets: [String: KrakenAsset], pairs: [String: KrakenPair]) {
        for (key, asset) in assets { assetOf[key] = Self.aliases[asset.altname] ?? asset.altname }
        for (key, wire) in pairs {
            guard let base = assetOf[wire.base], let quote = assetOf[wire.quote] else { continue }
            let symbol = TradingPair.symbol(base: base, quote: quote)
            let tick = wire.tick_size ?? ExactDecimal(significand: 1, scale: wire.pair_decimals)
            let rules = SymbolRules(
                pair: TradingPair(symbol: symbol, base: base, quote: quote),
                status: wire.status == nil || wire.status == "online" ? "TRADING" : wire.status!, tickSize: tick,
                stepSize: ExactDecimal(significand: 1, scale: wire.lot_decimals), minQty: wire.ordermin ?? .zero,
                minNotional: wire.costmin ?? .zero)
            bySymbol[symbol] = Pair(key: key, altname: wire.altname, rules: rules)
            for name in [key, wire.altname, wire.wsname].compactMap({ $0 }) { symbolOf[name] = symbol }
        }
    }
}
