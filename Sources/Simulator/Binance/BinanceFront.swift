import BallastCore
import Digest
import Foundation
import LoopbackHTTP

/// What the Binance front keeps: the request-weight and order-count windows, and the back-off a
/// 429 imposed with the 429s ignored since.
struct BinanceState {
    var weightWindow = Date.distantPast
    var usedWeight = 0
    var orderWindow10s = Date.distantPast
    var orders10s = 0
    var orderDay = Date.distantPast
    var ordersDay = 0
    var backoffUntil = Date.distantPast
    var violations = 0

    /// Lifts the back-off and forgets the 429s ignored (when the scripted faults are cleared).
    mutating func forgive() {
        backoffUntil = .distantPast
        violations = 0
    }
}

/// One API request as it passed Binance's gate: who sent it, when the venue saw it, and the
/// `x-mbx-*` headers its answer carries.
struct BinanceCall {
    let request: ServerRequest
    let params: RequestParams
    let apiKey: String?
    let now: Date
    let headers: [(String, String)]
    /// `POST /api/v3/order`: counted against the order limits, and placed only when a fault says so.
    let placesOrder: Bool
}

/// The Binance Spot REST dialect in front of the exchange: bans (418), request weight per minute
/// and orders per 10 s and per day (429 with `Retry-After`), API keys, HMAC-SHA256 signatures and
/// `recvWindow`, scripted faults as Binance answers them, then the endpoints of
/// `BinanceHandlers.swift`. Runs under the venue's lock.
extension SimulatedVenue {
    /// Runs under `lock`: decides what happens to one API request.
    func binanceGate(_ request: ServerRequest, _ params: RequestParams, arrivalOffset: Duration)
        -> (ServerAction, Duration)
    {
        let now = clock.now().addingTimeInterval(Double(skewMs) / 1000 + arrivalOffset.timeInterval)
        stats.requests += 1
        stats.byEndpoint["\(request.method) \(request.path)", default: 0] += 1
        let delay = latency()

        if now < bannedUntil {
            stats.refusedWhileBanned += 1
            return (binanceBanned(now), delay)
        }
        let hit = scriptedFault(request)
        if let rule = hit, let refusal = binanceFaultBeforeWork(rule, now) { return (refusal, delay) }
        if let refusal = binanceCountWeight(request, params, now) { return (refusal, delay) }
        var headers = [
            ("x-mbx-used-weight", String(binance.usedWeight)), ("x-mbx-used-weight-1m", String(binance.usedWeight)),
        ]
        let placesOrder = request.method == "POST" && request.path == "/api/v3/order"
        if placesOrder, let refusal = binanceCountOrder(now, headers: &headers) { return (refusal, delay) }

        var apiKey: String?
        if Self.binanceSigned(path: request.path) {
            do throws(BinanceError) {
                apiKey = try binanceAuthenticate(request, params, now: now)
            } catch {
                stats.rejected += 1
                return (.respond(.json(error.status, error.body, headers: headers)), delay)
            }
        }
        let call = BinanceCall(
            request: request, params: params, apiKey: apiKey, now: now, headers: headers, placesOrder: placesOrder)
        var extra = Duration.zero
        if let rule = hit {
            if let answer = binanceFaultAnswer(rule, call, delay: delay) { return answer }
            if rule.kind == .delay || rule.kind == .partialFill { extra = .milliseconds(rule.delayMs) }
        }
        return (binanceAnswer(call), delay + extra)
    }

    /// Runs under `lock`: the request carried out and answered with its headers.
    private func binanceAnswer(_ call: BinanceCall) -> ServerAction {
        exchange.advance(to: call.now)
        do throws(BinanceError) {
            let reply = try binanceDispatch(
                call.request.method, call.request.path, call.params, apiKey: call.apiKey, now: call.now)
            if reply.placedOrder { stats.ordersAccepted += 1 }
            return .respond(.json(reply.status, reply.body, headers: call.headers))
        } catch {
            stats.rejected += 1
            return .respond(.json(error.status, error.body, headers: call.headers))
        }
    }

    // MARK: Limits

    /// Runs under `lock`: counts the request's weight in its UTC minute; the 429 when that is over
    /// the limit or a back-off is in force, and the 418 once too many 429s were ignored.
    private func binanceCountWeight(_ request: ServerRequest, _ params: RequestParams, _ now: Date) -> ServerAction? {
        let weight = Self.binanceWeight(method: request.method, path: request.path, params)
        let minute = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 60).rounded(.down) * 60)
        if minute != binance.weightWindow {
            binance.weightWindow = minute
            binance.usedWeight = 0
        }
        if now < binance.backoffUntil {
            binance.violations += 1
            if binance.violations >= config.limits.violationsBeforeBan {
                binance.violations = 0
                return binanceBan(for: config.banSeconds, now)
            }
        } else if binance.usedWeight + weight > config.limits.requestWeightPerMinute {
            binance.backoffUntil = minute.addingTimeInterval(60)
        } else {
            binance.usedWeight += weight
            stats.maxWeightPerMinute = max(stats.maxWeightPerMinute, binance.usedWeight)
            return nil
        }
        stats.rateLimited += 1
        return binanceRefuse(429, -1003, binanceWeightMessage, retryAfter: binance.backoffUntil, now)
    }

    /// Runs under `lock`: counts a new order against the orders per 10 s and per day, adding the
    /// counts to `headers`; the 429 when either is used up.
    private func binanceCountOrder(_ now: Date, headers: inout [(String, String)]) -> ServerAction? {
        let tenSeconds = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 10).rounded(.down) * 10)
        if tenSeconds != binance.orderWindow10s {
            binance.orderWindow10s = tenSeconds
            binance.orders10s = 0
        }
        let day = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
        if day != binance.orderDay {
            binance.orderDay = day
            binance.ordersDay = 0
        }
        let limits = config.limits
        if binance.orders10s >= limits.ordersPer10s || binance.ordersDay >= limits.ordersPerDay {
            stats.rateLimited += 1
            let limit =
                binance.orders10s >= limits.ordersPer10s
                ? "\(limits.ordersPer10s) orders per 10 SECOND" : "\(limits.ordersPerDay) orders per 1 DAY"
            return .respond(
                .json(
                    429, JSONText.error(-1015, "Too many new orders; current limit is \(limit)."),
                    headers: headers + [("Retry-After", "10")]))
        }
        binance.orders10s += 1
        binance.ordersDay += 1
        headers += [
            ("x-mbx-order-count-10s", String(binance.orders10s)), ("x-mbx-order-count-1d", String(binance.ordersDay)),
        ]
        return nil
    }

    private var binanceWeightMessage: String {
        "Too much request weight used; current limit is \(config.limits.requestWeightPerMinute) request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."
    }

    /// Starts a ban of `seconds` and answers 418.
    private func binanceBan(for seconds: Int, _ now: Date) -> ServerAction {
        stats.banned += 1
        bannedUntil = now.addingTimeInterval(Double(seconds))
        return binanceBanned(now)
    }

    /// The 418 answer while a ban is in force.
    private func binanceBanned(_ now: Date) -> ServerAction {
        binanceRefuse(
            418, -1003, "Way too much request weight used; IP banned until \(bannedUntil.milliseconds).",
            retryAfter: bannedUntil, now)
    }

    private func binanceRefuse(_ status: Int, _ code: Int, _ message: String, retryAfter until: Date, _ now: Date)
        -> ServerAction
    {
        let seconds = max(1, Int(until.timeIntervalSince(now).rounded(.up)))
        return .respond(
            .json(
                status, JSONText.error(code, message),
                headers: [("Retry-After", String(seconds)), ("x-mbx-used-weight-1m", String(binance.usedWeight))]))
    }

    // MARK: Scripted faults

    /// Runs under `lock`: the answer of a fault that refuses before any work (a 429 or a ban).
    private func binanceFaultBeforeWork(_ rule: FaultRule, _ now: Date) -> ServerAction? {
        switch rule.kind {
        case .rateLimit:
            stats.rateLimited += 1
            binance.backoffUntil = now.addingTimeInterval(Double(rule.retryAfterSeconds))
            return binanceRefuse(429, -1003, binanceWeightMessage, retryAfter: binance.backoffUntil, now)
        case .ban:
            return binanceBan(for: rule.retryAfterSeconds, now)
        default:
            return nil
        }
    }

    /// Runs under `lock`: what a fault does after the work, instead of it, or (a partial fill) in
    /// it; nil when the request goes on to its ordinary answer (with the fault's extra delay).
    private func binanceFaultAnswer(_ rule: FaultRule, _ call: BinanceCall, delay: Duration)
        -> (ServerAction, Duration)?
    {
        let outcome = binanceFaultWork(rule, call)
        stats.faultsHit += 1
        switch rule.kind {
        case .serverError:
            let message = "Internal error; unable to process your request. Please try again."
            return (.respond(.json(503, JSONText.error(-1001, message), headers: call.headers)), delay)
        case .unknownStatus:
            let message =
                "Timeout waiting for response from backend server. Send status unknown; execution status unknown."
            return (.respond(.json(503, JSONText.error(-1007, message), headers: call.headers)), delay)
        case .dropResponse: return (.stall, .zero)
        case .reset: return (.reset, .zero)
        case .malformed:
            // The answer this request had (or, for an order not placed, would have had), with its
            // status, cut in half.
            let (status, body) =
                switch outcome {
                case .success(let reply)?: (reply.status, reply.body)
                case .failure(let error)?: (error.status, error.body)
                case nil: (200, "{}")
                }
            return (.respond(.json(status, String(body.prefix(max(1, body.count / 2))), headers: call.headers)), delay)
        case .delay, .partialFill:
            guard case .success(let reply)? = outcome else { return nil }
            let answer = ServerAction.respond(.json(reply.status, reply.body, headers: call.headers))
            return (answer, delay + .milliseconds(rule.delayMs))
        case .rateLimit, .ban, .delayInbound: return nil
        }
    }

    /// Runs under `lock`: the work a request does under a fault. Reads are carried out anyway; an
    /// order only when the rule says it was placed (or it is merely slowed or partly filled). An
    /// order a `malformed` fault does not place gets the answer it would have had, without placing it.
    private func binanceFaultWork(_ rule: FaultRule, _ call: BinanceCall) -> Result<Reply, BinanceError>? {
        let perform =
            rule.placed || rule.kind == .dropResponse || rule.kind == .delay || rule.kind == .partialFill
            || !call.placesOrder
        if perform {
            exchange.advance(to: call.now)
            if rule.kind == .partialFill { exchange.takeShare = ExactDecimal(significand: 5, scale: 1) }
            defer { exchange.takeShare = nil }
            do throws(BinanceError) {
                let reply = try binanceDispatch(
                    call.request.method, call.request.path, call.params, apiKey: call.apiKey, now: call.now)
                if reply.placedOrder { stats.ordersAccepted += 1 }
                return .success(reply)
            } catch {
                return .failure(error)
            }
        }
        guard rule.kind == .malformed, let apiKey = call.apiKey else { return nil }
        do throws(BinanceError) {
            return .success(try newOrder(call.params, apiKey: apiKey, now: call.now, mode: .answerOnly))
        } catch {
            return .failure(error)
        }
    }

    // MARK: Keys and signatures

    /// Checks the API key, timestamp, recvWindow and signature; returns the key.
    private func binanceAuthenticate(_ request: ServerRequest, _ params: RequestParams, now: Date)
        throws(BinanceError) -> String
    {
        guard let key = request.header("x-mbx-apikey"), !key.isEmpty else {
            throw BinanceError(status: 401, code: -2014, message: "API-key format invalid.")
        }
        guard let account = exchange.accounts[key] else { throw .invalidKey }
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

    /// Whether the endpoint needs an API key and a signature.
    static func binanceSigned(path: String) -> Bool {
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
    static func binanceWeight(method: String, path: String, _ params: RequestParams) -> Int {
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
}
