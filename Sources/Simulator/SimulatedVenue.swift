public import BallastCore
import Digest
public import Foundation
import LoopbackHTTP

/// One simulated venue on loopback: its exchange, its HTTP server, and the
/// gatekeeping every request passes first — bans, scripted faults, request
/// weight and order-count limits, API keys, signatures and `recvWindow` —
/// then network latency on the way out.
public final class SimulatedVenue: @unchecked Sendable {
    // Safe to share: every mutable field below is read and written under `lock`;
    // responses are delayed (latency) outside it, on the connection's thread.
    public let name: String
    public let config: VenueConfig
    let exchange: Exchange
    let clock: any TimeSource
    let lock = NSLock()
    private var server: HTTPServer?
    var faults: [ActiveFault]
    var network: SeededRandom
    var skewMs: Int
    var autoIDs: SeededRandom

    // Limits.
    private var weightWindow = Date.distantPast
    private var usedWeight = 0
    private var orderWindow10s = Date.distantPast
    private var orders10s = 0
    private var orderDay = Date.distantPast
    private var ordersDay = 0
    var backoffUntil = Date.distantPast
    private var violations = 0
    var bannedUntil = Date.distantPast

    /// What a Kraken-dialect front keeps per key: last nonces and call counters.
    var kraken = KrakenState()
    /// What a Coinbase-dialect front keeps: public keys, request counts, quote-sized orders.
    var coinbase = CoinbaseState()

    // Counters.
    var stats = VenueStats()
    private var onTheWayIn = 0

    /// In a replay, latency is time passing on the virtual clock rather than a wait (see `init`).
    let virtualClock: VirtualTime?

    /// Starts the venue on 127.0.0.1 (`config.port`, 0 for a free port).
    ///
    /// With `latencyMovesClock` and a `VirtualTime` clock (a replay), no request waits for real:
    /// the venue sees it at now + its entry latency, and once it has answered, the clock moves
    /// on by the entry and the response latency, so the caller reads the answer that much later in
    /// virtual time. This holds for a caller that sends one request at a time.
    public init(config: VenueConfig, seed: UInt64, clock: any TimeSource, latencyMovesClock: Bool = false)
        throws(SimulatorError)
    {
        try config.validate()
        self.name = config.name
        self.config = config
        self.clock = clock
        self.virtualClock = latencyMovesClock ? clock as? VirtualTime : nil
        self.exchange = try Exchange(config: config, seed: seed, now: clock.now())
        self.faults = config.faults.map { ActiveFault(rule: $0) }
        self.network = SeededRandom(seed: seed ^ 0x5EED_0F_4E7_0000)
        self.autoIDs = SeededRandom(seed: seed ^ 0xC11E_47_1D)
        self.skewMs = config.clockSkewMs
        do {
            server = try HTTPServer(port: config.port, tls: config.tlsIdentity) { [unowned self] request in
                self.handle(request)
            }
        } catch {
            throw .startFailed("venue '\(config.name)' cannot start on port \(config.port): \(error)")
        }
    }

    /// `http://127.0.0.1:port`, or `https://127.0.0.1:port` when the venue serves TLS.
    public var baseURL: String { server?.baseURL ?? "" }

    /// Stops serving; open connections are closed.
    public func stop() {
        server?.stop()
    }

    /// The JSON line `ballast sim` prints for this venue: its name, base URL and demo credentials.
    public var announcement: String {
        var json = JSONText()
        json.raw("{")
        json.field("venue", name)
        json.field("baseURL", baseURL)
        json.key("accounts")
        json.raw("[")
        for (i, account) in config.accounts.enumerated() {
            if i > 0 { json.raw(",") }
            json.raw("{")
            json.field("apiKey", account.apiKey)
            json.field("secret", account.secret, comma: false)
            json.raw("}")
        }
        json.raw("]}")
        return json.text
    }

    // MARK: Control (tests and the /sim endpoints)

    /// What the venue has seen so far.
    public var statistics: VenueStats { lock.withLock { stats } }

    /// API requests received but not yet seen by the venue (held by their entry latency).
    public var requestsOnTheWayIn: Int { lock.withLock { onTheWayIn } }

    /// Adds a scripted fault; it counts matching requests from now on.
    public func addFault(_ rule: FaultRule) { lock.withLock { faults.append(ActiveFault(rule: rule)) } }

    /// Removes every scripted fault and lifts any ban.
    public func clearFaults() {
        lock.withLock {
            faults.removeAll()
            bannedUntil = .distantPast
            backoffUntil = .distantPast
            violations = 0
        }
    }

    /// Sets how far the venue's clock runs ahead of ours, in milliseconds.
    public func setClockSkew(milliseconds: Int) { lock.withLock { skewMs = milliseconds } }

    /// Gives `apiKey` `count` generated historical trades on `symbol`.
    public func seedTrades(apiKey: String, symbol: String, count: Int) throws(SimulatorError) {
        let now = clock.now()
        lock.lock()
        defer { lock.unlock() }
        do throws(APIError) {
            try exchange.seedHistory(apiKey: apiKey, symbol: symbol, count: count, now: now)
        } catch { throw .invalidConfig("cannot seed trades: \(error.message)") }
    }

    /// A market order placed for `apiKey` by someone other than Ballast (a person
    /// at the venue's website, another system): it trades and moves balances
    /// like any order. Returns its trades.
    @discardableResult
    public func tradeElsewhere(apiKey: String, symbol: String, side: Side, quantity: ExactDecimal)
        throws(SimulatorError)
        -> [TradeView]
    {
        lock.lock()
        defer { lock.unlock() }
        let now = clock.now().addingTimeInterval(Double(skewMs) / 1000)
        exchange.advance(to: now)
        let request = Exchange.NewOrder(
            symbol: symbol, side: side, type: .market, timeInForce: nil, quantity: quantity, quoteOrderQty: nil,
            price: nil, clientOrderId: "web_" + generatedClientID())
        do throws(APIError) {
            let (_, trades) = try exchange.place(request, apiKey: apiKey, at: now)
            return trades.map { TradeView(symbol: symbol, trade: $0) }
        } catch {
            throw .invalidConfig("order refused: \(error.message)")
        }
    }

    /// Credits `amount` of `asset` to `apiKey`'s free balance (a deposit).
    public func deposit(apiKey: String, asset: String, amount: ExactDecimal) {
        lock.withLock {
            let now = clock.now()
            exchange.accounts[apiKey]?.credit(asset, amount, at: now)
        }
    }

    /// The mid, (best bid + best ask) / 2, of every symbol as the venue shows it now (after stepping
    /// its markets to now), read in-process rather than over HTTP.
    public func mids() -> [String: ExactDecimal] {
        lock.withLock {
            exchange.advance(to: clock.now().addingTimeInterval(Double(skewMs) / 1000))
            return exchange.markets.mapValues { ($0.touch.bid + $0.touch.ask).divided(by: 2, scale: 12) ?? .zero }
        }
    }

    /// Every order of `apiKey`, oldest first, as the venue holds them.
    public func orders(apiKey: String) -> [OrderView] {
        lock.withLock {
            exchange.orders.values.filter { $0.apiKey == apiKey }.sorted { $0.orderId < $1.orderId }.map(OrderView.init)
        }
    }

    /// Balances of `apiKey`: asset → (free, locked).
    public func balances(apiKey: String) -> [String: BalanceView] {
        lock.withLock {
            guard let account = exchange.accounts[apiKey] else { return [:] }
            var out: [String: BalanceView] = [:]
            for asset in Set(account.free.keys).union(account.locked.keys) {
                out[asset] = BalanceView(
                    free: account.free[asset] ?? .zero, locked: account.locked[asset] ?? .zero)
            }
            return out
        }
    }

    /// Trades of `apiKey` made through orders (not seeded history), by symbol.
    public func trades(apiKey: String) -> [TradeView] {
        lock.withLock {
            guard let account = exchange.accounts[apiKey] else { return [] }
            return account.trades.keys.sorted().flatMap { symbol in
                account.trades[symbol]!.map { TradeView(symbol: symbol, trade: $0) }
            }
        }
    }

    // MARK: Requests

    private func handle(_ request: ServerRequest) -> ServerAction {
        if request.path.hasPrefix("/sim/") { return control(request) }
        let params = RequestParams(request)
        // On the way in: the venue sees the request only after its entry latency. On the wall
        // clock the connection's thread waits; in virtual time the arrival is that much later.
        let entry = lock.withLock {
            onTheWayIn += 1
            return entryLatency(request)
        }
        var arrival = Duration.zero
        if entry > .zero {
            if clock is SystemTime {
                Thread.sleep(forTimeInterval: entry.timeInterval)
            } else {
                arrival = entry
            }
        }
        let (action, delay) = lock.withLock {
            defer { onTheWayIn -= 1 }
            if config.dialect == .krakenSpot { return krakenGate(request, params, arrivalOffset: arrival) }
            if config.dialect == .coinbaseAdvanced { return coinbaseGate(request, arrivalOffset: arrival) }
            return gate(request, params, arrivalOffset: arrival)
        }
        if let virtualClock {
            virtualClock.advance(by: (arrival + delay).timeInterval)
            if case .respondAfter(_, let response) = action { return .respond(response) }
            return action
        }
        guard delay > .zero else { return action }
        switch action {
        case .respond(let response): return .respondAfter(delay, response)
        case .respondAfter(let extra, let response): return .respondAfter(delay + extra, response)
        default: return action
        }
    }

    /// Runs under `lock`: decides what happens to one API request.
    private func gate(_ request: ServerRequest, _ params: RequestParams, arrivalOffset: Duration)
        -> (ServerAction, Duration)
    {
        let now = clock.now().addingTimeInterval(Double(skewMs) / 1000 + arrivalOffset.timeInterval)
        stats.requests += 1
        let endpoint = "\(request.method) \(request.path)"
        stats.byEndpoint[endpoint, default: 0] += 1
        let delay = latency()

        if now < bannedUntil {
            stats.refusedWhileBanned += 1
            return (banned(now), delay)
        }
        // Scripted faults that refuse before any work.
        let hit = scriptedFault(request)
        if let rule = hit {
            switch rule.kind {
            case .rateLimit:
                stats.rateLimited += 1
                backoffUntil = now.addingTimeInterval(Double(rule.retryAfterSeconds))
                return (refuse(429, -1003, weightMessage, retryAfter: backoffUntil, now), delay)
            case .ban:
                return (ban(for: rule.retryAfterSeconds, now), delay)
            default: break
            }
        }
        // Request weight, per UTC minute.
        let weight = Self.weight(method: request.method, path: request.path, params)
        let minute = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 60).rounded(.down) * 60)
        if minute != weightWindow {
            weightWindow = minute
            usedWeight = 0
        }
        if now < backoffUntil || usedWeight + weight > config.limits.requestWeightPerMinute {
            if now < backoffUntil {
                violations += 1
                if violations >= config.limits.violationsBeforeBan {
                    violations = 0
                    return (ban(for: config.banSeconds, now), delay)
                }
            } else {
                backoffUntil = minute.addingTimeInterval(60)
            }
            stats.rateLimited += 1
            return (refuse(429, -1003, weightMessage, retryAfter: backoffUntil, now), delay)
        }
        usedWeight += weight
        stats.maxWeightPerMinute = max(stats.maxWeightPerMinute, usedWeight)
        var headers = [("x-mbx-used-weight", String(usedWeight)), ("x-mbx-used-weight-1m", String(usedWeight))]

        // Orders per 10 s and per day.
        let placesOrder = request.method == "POST" && request.path == "/api/v3/order"
        if placesOrder {
            let tenSeconds = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 10).rounded(.down) * 10)
            if tenSeconds != orderWindow10s {
                orderWindow10s = tenSeconds
                orders10s = 0
            }
            let day = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
            if day != orderDay {
                orderDay = day
                ordersDay = 0
            }
            if orders10s >= config.limits.ordersPer10s || ordersDay >= config.limits.ordersPerDay {
                stats.rateLimited += 1
                let limit =
                    orders10s >= config.limits.ordersPer10s
                    ? "\(config.limits.ordersPer10s) orders per 10 SECOND"
                    : "\(config.limits.ordersPerDay) orders per 1 DAY"
                let response = ServerResponse.json(
                    429, JSONText.error(-1015, "Too many new orders; current limit is \(limit)."),
                    headers: headers + [("Retry-After", "10")])
                return (.respond(response), delay)
            }
            orders10s += 1
            ordersDay += 1
            headers += [("x-mbx-order-count-10s", String(orders10s)), ("x-mbx-order-count-1d", String(ordersDay))]
        }

        // Keys, signatures, recvWindow.
        var apiKey: String?
        if Self.signed(method: request.method, path: request.path) {
            do throws(APIError) {
                apiKey = try authenticate(request, params, now: now)
            } catch {
                stats.rejected += 1
                return (
                    .respond(.json(error.status, JSONText.error(error.code, error.message), headers: headers)), delay
                )
            }
        }

        // A fault after the work, instead of it, or (a partial fill) in it.
        var extra = Duration.zero
        if let rule = hit {
            // Reads are carried out anyway; an order only when the rule says it was placed.
            let perform =
                rule.placed || rule.kind == .dropResponse || rule.kind == .delay || rule.kind == .partialFill
                || !placesOrder
            var reply: Reply?
            var refusal: APIError?
            if perform {
                exchange.advance(to: now)
                if rule.kind == .partialFill { exchange.takeShare = ExactDecimal(significand: 5, scale: 1) }
                do throws(APIError) {
                    reply = try dispatch(request.method, request.path, params, apiKey: apiKey, now: now)
                } catch { refusal = error }
                exchange.takeShare = nil
                if let reply, reply.placedOrder { stats.ordersAccepted += 1 }
            } else if rule.kind == .malformed {
                // An order the fault does not place: its answer, computed without placing it.
                do throws(APIError) {
                    reply = try newOrder(params, apiKey: apiKey!, now: now, mode: .answerOnly)
                } catch { refusal = error }
            }
            stats.faultsHit += 1
            switch rule.kind {
            case .serverError:
                return (
                    .respond(
                        .json(
                            503,
                            "{\"code\":-1001,\"msg\":\"Internal error; unable to process your request. Please try again.\"}",
                            headers: headers)), delay
                )
            case .unknownStatus:
                return (
                    .respond(
                        .json(
                            503,
                            JSONText.error(
                                -1007,
                                "Timeout waiting for response from backend server. Send status unknown; execution status unknown."
                            ),
                            headers: headers)), delay
                )
            case .dropResponse: return (.stall, .zero)
            case .reset: return (.reset, .zero)
            case .malformed:
                // The answer this request had (or, for an order not placed, would have had), with its
                // status, cut in half.
                let body = reply?.body ?? refusal.map { JSONText.error($0.code, $0.message) } ?? "{}"
                let status = reply?.status ?? refusal?.status ?? 200
                return (.respond(.json(status, String(body.prefix(max(1, body.count / 2))), headers: headers)), delay)
            case .delay, .partialFill:
                extra = .milliseconds(rule.delayMs)
                if let reply { return (.respond(.json(reply.status, reply.body, headers: headers)), delay + extra) }
            case .rateLimit, .ban, .delayInbound: break
            }
        }

        exchange.advance(to: now)
        do throws(APIError) {
            let reply = try dispatch(request.method, request.path, params, apiKey: apiKey, now: now)
            if reply.placedOrder { stats.ordersAccepted += 1 }
            return (.respond(.json(reply.status, reply.body, headers: headers)), delay + extra)
        } catch {
            stats.rejected += 1
            return (
                .respond(.json(error.status, JSONText.error(error.code, error.message), headers: headers)),
                delay + extra
            )
        }
    }

    /// Runs under `lock`: the first scripted fault (other than `delay-inbound`, which acts on the
    /// way in) that matches the request and strikes this time, whichever dialect fronts the venue.
    func scriptedFault(_ request: ServerRequest) -> FaultRule? {
        for i in faults.indices
        where faults[i].rule.kind != .delayInbound && faults[i].rule.matches(method: request.method, path: request.path)
        {
            if faults[i].hits({ network.unit() }) { return faults[i].rule }
        }
        return nil
    }

    private var weightMessage: String {
        "Too much request weight used; current limit is \(config.limits.requestWeightPerMinute) request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."
    }

    /// Starts a ban of `seconds` and answers 418.
    func ban(for seconds: Int, _ now: Date) -> ServerAction {
        stats.banned += 1
        bannedUntil = now.addingTimeInterval(Double(seconds))
        return banned(now)
    }

    /// The 418 answer while a ban is in force.
    private func banned(_ now: Date) -> ServerAction {
        refuse(
            418, -1003, "Way too much request weight used; IP banned until \(bannedUntil.milliseconds).",
            retryAfter: bannedUntil, now)
    }

    private func refuse(_ status: Int, _ code: Int, _ message: String, retryAfter until: Date, _ now: Date)
        -> ServerAction
    {
        let seconds = max(1, Int(until.timeIntervalSince(now).rounded(.up)))
        return .respond(
            .json(
                status, JSONText.error(code, message),
                headers: [("Retry-After", String(seconds)), ("x-mbx-used-weight-1m", String(usedWeight))]))
    }

    /// Runs under `lock`: how long the request takes to reach the venue — the profile's entry
    /// latency, plus a scripted `delay-inbound` fault's delay when one hits it.
    private func entryLatency(_ request: ServerRequest) -> Duration {
        var ms = 0.0
        let profile = config.latency
        if profile.entryMs > 0 || profile.entryJitterMs > 0 {
            ms += profile.entryMs + profile.entryJitterMs * network.unit()
        }
        for i in faults.indices
        where faults[i].rule.kind == .delayInbound && faults[i].rule.matches(method: request.method, path: request.path)
        {
            if faults[i].hits({ network.unit() }) {
                stats.faultsHit += 1
                ms += faults[i].rule.delayMs
                break
            }
        }
        return ms > 0 ? .microseconds(Int64(ms * 1000)) : .zero
    }

    /// Base latency, jitter and the odd spike, from the venue's network generator.
    func latency() -> Duration {
        let profile = config.latency
        var ms = profile.baseMs + profile.jitterMs * network.unit()
        if profile.spikeProbability > 0, network.unit() < profile.spikeProbability { ms += profile.spikeMs }
        return ms > 0 ? .microseconds(Int64(ms * 1000)) : .zero
    }

    /// Checks the API key, timestamp, recvWindow and signature; returns the key.
    private func authenticate(_ request: ServerRequest, _ params: RequestParams, now: Date) throws(APIError) -> String {
        guard let key = request.header("x-mbx-apikey"), !key.isEmpty else {
            throw APIError(status: 401, code: -2014, message: "API-key format invalid.")
        }
        guard let account = exchange.accounts[key] else {
            throw APIError(status: 401, code: -2015, message: "Invalid API-key, IP, or permissions for action.")
        }
        guard let timestamp = try params.integer("timestamp") else {
            throw .badRequest(-1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
        }
        let window = try params.integer("recvWindow") ?? 5000
        guard window <= 60_000 else { throw .badRequest(-1131, "recvWindow must be less than 60000") }
        let serverTime = now.milliseconds
        if timestamp >= serverTime + 1000 {
            throw .badRequest(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
        }
        if serverTime - timestamp > window {
            throw .badRequest(-1021, "Timestamp for this request is outside of the recvWindow.")
        }
        guard let signature = params.signature, !signature.isEmpty else {
            throw .badRequest(-1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
        }
        let expected = Digest.hex(Digest.hmacSHA256(key: account.config.secret, message: params.signedPayload))
        guard signature.lowercased() == expected else {
            throw .badRequest(-1022, "Signature for this request is not valid.")
        }
        return key
    }

    static func signed(method: String, path: String) -> Bool {
        switch path {
        case "/api/v3/account", "/api/v3/myTrades", "/api/v3/openOrders", "/api/v3/allOrders", "/api/v3/order",
            "/api/v3/order/test":
            return true
        default: return false
        }
    }

    /// The venue's published request weights. Written here again on purpose, not
    /// shared with the client's table in Venues: the simulator is the venue's side,
    /// so a wrong weight in the client shows up as a 429 in tests instead of agreeing with itself.
    static func weight(method: String, path: String, _ params: RequestParams) -> Int {
        switch path {
        case "/api/v3/exchangeInfo", "/api/v3/account", "/api/v3/allOrders": return 20
        case "/api/v3/ticker/bookTicker", "/api/v3/ticker/price":
            if params["symbol"] != nil { return 2 }
            return 4
        case "/api/v3/depth":
            switch Int(params["limit"] ?? "") ?? 100 {
            case ...100: return 5
            case ...500: return 25
            case ...1000: return 50
            default: return 250
            }
        case "/api/v3/myTrades": return params["orderId"] != nil ? 5 : 20
        case "/api/v3/openOrders": return params["symbol"] != nil ? 6 : 80
        case "/api/v3/order": return method == "GET" ? 4 : 1
        default: return 1
        }
    }

    /// A client order id in the venue's style, for orders sent without one.
    func generatedClientID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<22).map { _ in alphabet[Int(autoIDs.next() % UInt64(alphabet.count))] })
    }
}

/// What a handler produced.
struct Reply {
    var status = 200
    var body: String
    var placedOrder = false
}

/// Counters a venue keeps about the requests it saw.
public struct VenueStats: Sendable, Codable, Equatable {
    /// API requests received (control requests excluded).
    public var requests = 0
    /// Requests per `METHOD /path`.
    public var byEndpoint: [String: Int] = [:]
    /// Requests refused with 418 because a ban was in force.
    public var refusedWhileBanned = 0
    /// 429 responses sent.
    public var rateLimited = 0
    /// Bans imposed (418 after ignored 429s, or scripted).
    public var banned = 0
    /// Requests refused by the venue's rules (signature, filters, balance…).
    public var rejected = 0
    /// Orders accepted.
    public var ordersAccepted = 0
    /// Scripted faults that hit.
    public var faultsHit = 0
    /// The most request weight used in any one minute.
    public var maxWeightPerMinute = 0
}

/// An order as the venue holds it (for tests and `/sim/orders`, whatever the front's dialect): its
/// side, type and status in Ballast's words (`buy`, `post_only`, `filled`), as the engine keeps them.
public struct OrderView: Sendable, Codable, Equatable {
    public var orderId: Int64
    public var clientOrderId: String
    public var symbol: String
    public var side: String
    public var type: String
    public var status: String
    public var price: ExactDecimal
    public var origQty: ExactDecimal
    public var executedQty: ExactDecimal
    /// The venue's mid when the order reached its matching engine, before it traded.
    public var arrivalMid: ExactDecimal
    /// When the venue accepted it.
    public var time: Date

    init(_ order: SimOrder) {
        orderId = order.orderId
        clientOrderId = order.clientOrderId
        symbol = order.symbol
        side = order.side.rawValue
        type = order.type.rawValue
        status = order.status.rawValue
        price = order.price
        origQty = order.origQty
        executedQty = order.executedQty
        arrivalMid = order.arrivalMid
        time = order.time
    }

    /// Whether it can still trade (open, partially filled or pending a cancel).
    public var isOpen: Bool { VenueOrderStatus(rawValue: status)?.isOpen ?? false }
}

/// One asset's balance.
public struct BalanceView: Sendable, Codable, Equatable {
    public var free: ExactDecimal
    public var locked: ExactDecimal
    public var total: ExactDecimal { free + locked }
}

/// One trade of an account.
public struct TradeView: Sendable, Codable, Equatable {
    public var symbol: String
    public var id: Int64
    public var orderId: Int64
    public var isBuyer: Bool
    public var price: ExactDecimal
    public var qty: ExactDecimal
    public var commission: ExactDecimal
    public var commissionAsset: String

    init(symbol: String, trade: SimTrade) {
        self.symbol = symbol
        id = trade.id
        orderId = trade.orderId
        isBuyer = trade.isBuyer
        price = trade.price
        qty = trade.qty
        commission = trade.commission
        commissionAsset = trade.commissionAsset
    }
}
