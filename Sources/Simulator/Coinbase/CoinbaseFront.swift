import BallastCore
import Digest
import Foundation
import LoopbackHTTP

/// What the Coinbase front keeps: each key's public key (read once from its PEM), the requests
/// counted in the current second per key and per client address, and the quote budget of market
/// orders placed by `quote_size` (the engine keeps only the base quantity it bought).
struct CoinbaseState {
    var publicKeys: [String: ECPublicKey] = [:]
    /// The second the counts below belong to.
    var window = Date.distantPast
    var privateRequests: [String: Int] = [:]
    var publicRequests: [String: Int] = [:]
    var quoteSizes: [Int64: ExactDecimal] = [:]
}

/// A refusal in Coinbase's words: an HTTP status and a body `{"error", "error_details", "message"}`.
struct CoinbaseError: Error {
    let status: Int
    let code: String
    let message: String

    static func invalid(_ message: String) -> CoinbaseError {
        CoinbaseError(status: 400, code: "INVALID_ARGUMENT", message: message)
    }
    static func notFound(_ message: String) -> CoinbaseError {
        CoinbaseError(status: 404, code: "NOT_FOUND", message: message)
    }
    static func unauthenticated(_ message: String) -> CoinbaseError {
        CoinbaseError(status: 401, code: "UNAUTHENTICATED", message: message)
    }

    var body: String {
        var json = JSONText()
        json.raw("{")
        json.field("error", code)
        json.field("error_details", message)
        json.field("message", message, comma: false)
        json.raw("}")
        return json.text
    }
}

/// The Coinbase Advanced Trade REST dialect in front of the same exchange the other fronts use:
/// products named `BASE-QUOTE`, a short-lived ES256 JWT per private request (`Authorization:
/// Bearer …`), JSON bodies, string (UUID) ids, cursor pagination, `client_order_id` idempotency
/// for as long as the venue remembers the order, per-second request limits (per key for private
/// calls, per address for public ones), and the same scripted fault kinds. Runs under the venue's
/// lock.
extension SimulatedVenue {
    static let coinbasePrefix = "/api/v3/brokerage"

    func coinbaseGate(_ request: ServerRequest, arrivalOffset: Duration) -> (ServerAction, Duration) {
        let now = clock.now().addingTimeInterval(Double(skewMs) / 1000 + arrivalOffset.timeInterval)
        stats.requests += 1
        stats.byEndpoint["\(request.method) \(request.path)", default: 0] += 1
        let delay = latency()
        func refuse(_ error: CoinbaseError, _ headers: [(String, String)] = []) -> (ServerAction, Duration) {
            (.respond(.json(error.status, error.body, headers: headers)), delay)
        }
        if now < bannedUntil {
            stats.refusedWhileBanned += 1
            return refuse(coinbaseBanned(now))
        }
        let hit = scriptedFault(request)
        if let rule = hit {
            switch rule.kind {
            case .rateLimit:
                stats.rateLimited += 1
                return refuse(Self.coinbaseTooMany, [("Retry-After", String(max(1, rule.retryAfterSeconds)))])
            case .ban:
                stats.banned += 1
                bannedUntil = now.addingTimeInterval(Double(rule.retryAfterSeconds))
                return refuse(coinbaseBanned(now))
            default: break
            }
        }
        guard request.path.hasPrefix(Self.coinbasePrefix) else {
            return refuse(.notFound("no such endpoint: \(request.method) \(request.path)"))
        }
        let route = String(request.path.dropFirst(Self.coinbasePrefix.count))
        let isPublic = route.hasPrefix("/market/") || route == "/time"
        let placesOrder = request.method == "POST" && route == "/orders"
        // Requests per second: per client address for public calls, per key for private ones.
        let second = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        if second != coinbase.window {
            coinbase.window = second
            coinbase.privateRequests.removeAll(keepingCapacity: true)
            coinbase.publicRequests.removeAll(keepingCapacity: true)
        }
        var apiKey: String?
        var headers: [(String, String)] = []
        if isPublic {
            let address = String(request.peer.split(separator: ":").first ?? "")
            let used = coinbase.publicRequests[address, default: 0] + 1
            coinbase.publicRequests[address] = used
            if used > config.limits.publicRequestsPerSecond {
                stats.rateLimited += 1
                return refuse(Self.coinbaseTooMany)
            }
        } else {
            do throws(CoinbaseError) {
                apiKey = try coinbaseAuthenticate(request, now: now)
            } catch {
                stats.rejected += 1
                return refuse(error)
            }
            let limit = config.limits.requestsPerSecond
            let used = coinbase.privateRequests[apiKey!, default: 0] + 1
            coinbase.privateRequests[apiKey!] = used
            headers = [
                ("x-ratelimit-limit", String(limit)), ("x-ratelimit-remaining", String(max(0, limit - used))),
                ("x-ratelimit-reset", String(Int64(second.timeIntervalSince1970) + 1)),
            ]
            if used > limit {
                stats.rateLimited += 1
                return refuse(Self.coinbaseTooMany, headers)
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
            if perform {
                exchange.advance(to: now)
                if rule.kind == .partialFill { exchange.takeShare = ExactDecimal(significand: 5, scale: 1) }
                reply = coinbaseDispatch(request, route, apiKey: apiKey, now: now)
                exchange.takeShare = nil
            }
            stats.faultsHit += 1
            switch rule.kind {
            case .serverError: return refuse(Self.coinbaseInternal, headers)
            case .unknownStatus: return refuse(Self.coinbaseUnavailable, headers)
            case .dropResponse: return (.stall, .zero)
            case .reset: return (.reset, .zero)
            case .malformed:
                let body = reply?.body ?? Self.coinbaseInternal.body
                let status = reply?.status ?? Self.coinbaseInternal.status
                return (.respond(.json(status, String(body.prefix(max(1, body.count / 2))), headers: headers)), delay)
            case .delay, .partialFill:
                extra = .milliseconds(rule.delayMs)
                if let reply { return (.respond(.json(reply.status, reply.body, headers: headers)), delay + extra) }
            case .rateLimit, .ban, .delayInbound: break
            }
        }
        exchange.advance(to: now)
        let reply = coinbaseDispatch(request, route, apiKey: apiKey, now: now)
        return (.respond(.json(reply.status, reply.body, headers: headers)), delay + extra)
    }

    static let coinbaseTooMany = CoinbaseError(status: 429, code: "RESOURCE_EXHAUSTED", message: "Too many requests")
    static let coinbaseInternal = CoinbaseError(status: 500, code: "INTERNAL", message: "Internal server error")
    static let coinbaseUnavailable = CoinbaseError(
        status: 503, code: "UNAVAILABLE", message: "The service timed out; the request's outcome is unknown")

    private func coinbaseBanned(_ now: Date) -> CoinbaseError {
        CoinbaseError(
            status: 403, code: "PERMISSION_DENIED",
            message: "Too many requests: access denied until \(CoinbaseText.time(bannedUntil))")
    }

    // MARK: Authentication

    /// Verifies the request's JWT as Coinbase does and returns the key it names: ES256 with a `kid`,
    /// `sub` a key of this venue, `iss` `cdp` (or the older `coinbase-cloud`), `nbf`/`exp` around the
    /// venue's clock and at most two minutes apart, `uri` the method, host and path called, and the
    /// signature the key's.
    func coinbaseAuthenticate(_ request: ServerRequest, now: Date) throws(CoinbaseError) -> String {
        guard let authorization = request.header("authorization"), authorization.hasPrefix("Bearer ") else {
            throw .unauthenticated("missing the Authorization: Bearer <JWT> header")
        }
        let token = authorization.dropFirst("Bearer ".count).trimmingCharacters(in: .whitespaces)
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let headerBytes = Base64URL.decode(parts[0]),
            let claimBytes = Base64URL.decode(parts[1]), let signature = Base64URL.decode(parts[2]),
            let header = (try? JSONSerialization.jsonObject(with: Data(headerBytes))) as? [String: Any],
            let claims = (try? JSONSerialization.jsonObject(with: Data(claimBytes))) as? [String: Any]
        else { throw .unauthenticated("the bearer token is not a JWT") }
        guard header["alg"] as? String == "ES256" else { throw .unauthenticated("the JWT must be signed with ES256") }
        guard let key = claims["sub"] as? String, let account = exchange.accounts[key] else {
            throw .unauthenticated("the JWT's sub is not a known API key")
        }
        guard header["kid"] as? String == key else { throw .unauthenticated("the JWT's kid must be the key name") }
        let publicKey: ECPublicKey
        if let known = coinbase.publicKeys[key] {
            publicKey = known
        } else {
            guard let privateKey = try? ECPrivateKey(pem: account.config.secret) else {
                throw .unauthenticated("the API key has no EC key")
            }
            publicKey = privateKey.publicKey
            coinbase.publicKeys[key] = publicKey
        }
        guard publicKey.verify(signature: signature, message: Array("\(parts[0]).\(parts[1])".utf8)) else {
            throw .unauthenticated("the JWT's signature does not verify with the key")
        }
        guard let issuer = claims["iss"] as? String, issuer == "cdp" || issuer == "coinbase-cloud" else {
            throw .unauthenticated("the JWT's iss must be cdp")
        }
        guard let notBefore = (claims["nbf"] as? NSNumber)?.doubleValue,
            let expiry = (claims["exp"] as? NSNumber)?.doubleValue
        else { throw .unauthenticated("the JWT needs nbf and exp") }
        let time = now.timeIntervalSince1970
        // A second's grace for a client clock a little ahead; a lifetime of two minutes and a few
        // seconds (the SDK reads the clock twice).
        guard notBefore <= time + 1 else { throw .unauthenticated("the JWT is not valid yet (nbf)") }
        guard time < expiry else { throw .unauthenticated("the JWT has expired (exp)") }
        guard expiry > notBefore, expiry - notBefore <= 125 else {
            throw .unauthenticated("the JWT may live at most 120 seconds")
        }
        let host = request.header("host") ?? ""
        let uri = claims["uri"] as? String
        guard
            uri == "\(request.method) \(host)\(request.path)"
                || uri == "\(request.method) https://\(host)\(request.path)"
        else {
            throw .unauthenticated("the JWT's uri must be \"\(request.method) \(host)\(request.path)\"")
        }
        return key
    }

    // MARK: Routing

    /// Runs the endpoint; every answer, refusals included, as a reply with its status.
    private func coinbaseDispatch(_ request: ServerRequest, _ route: String, apiKey: String?, now: Date) -> Reply {
        let query = CoinbaseQuery(request.queryString)
        let parts = route.split(separator: "/").map(String.init)
        do throws(CoinbaseError) {
            let body: String
            switch (request.method, parts.first ?? "", parts.count) {
            case ("GET", "time", 1): body = coinbaseServerTime(now)
            case ("GET", "market", _), ("GET", "products", _), ("GET", "product_book", 1), ("GET", "best_bid_ask", 1):
                body = try coinbaseMarketData(Array(parts.drop(while: { $0 == "market" })), query, now: now)
            case ("GET", "accounts", 1): body = try coinbaseAccounts(query, apiKey: apiKey!)
            case ("GET", "accounts", 2): body = try coinbaseAccount(parts[1], apiKey: apiKey!)
            case ("GET", "transaction_summary", 1): body = coinbaseTransactionSummary(apiKey: apiKey!)
            case ("POST", "orders", 1):
                let reply = coinbaseCreateOrder(try Self.coinbaseJSON(request), apiKey: apiKey!, now: now)
                if reply.placedOrder { stats.ordersAccepted += 1 }
                return reply
            case ("POST", "orders", 2) where parts[1] == "batch_cancel":
                body = try coinbaseCancel(try Self.coinbaseJSON(request), apiKey: apiKey!, now: now)
            case ("GET", "orders", 3) where parts[1] == "historical" && parts[2] == "batch":
                body = try coinbaseListOrders(query, apiKey: apiKey!)
            case ("GET", "orders", 3) where parts[1] == "historical" && parts[2] == "fills":
                body = try coinbaseFills(query, apiKey: apiKey!)
            case ("GET", "orders", 3) where parts[1] == "historical":
                body = try coinbaseGetOrder(parts[2], apiKey: apiKey!)
            default: throw .notFound("no such endpoint: \(request.method) \(request.path)")
            }
            return Reply(body: body)
        } catch {
            stats.rejected += 1
            return Reply(status: error.status, body: error.body)
        }
    }

    /// A POST's JSON object body.
    private static func coinbaseJSON(_ request: ServerRequest) throws(CoinbaseError) -> [String: Any] {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] else {
            throw .invalid("the request body must be a JSON object")
        }
        return object
    }

    private func coinbaseServerTime(_ now: Date) -> String {
        var json = JSONText()
        json.raw("{")
        json.field("iso", CoinbaseText.time(now))
        json.field("epochSeconds", String(Int64(now.timeIntervalSince1970.rounded(.down))))
        json.field("epochMillis", String(now.milliseconds), comma: false)
        json.raw("}")
        return json.text
    }

    // MARK: Names and ids

    /// The product id of a listed symbol: `BASE-QUOTE` from its configured assets.
    static func coinbaseProductID(_ symbol: SymbolConfig) -> String { "\(symbol.base)-\(symbol.quote)" }

    /// The listed symbol a product id names.
    func coinbaseSymbol(_ productID: String) -> SymbolConfig? {
        config.symbols.first { Self.coinbaseProductID($0) == productID }
    }

    /// A UUID-shaped id for (`kind`, `number`) at this venue, the same on every call: 80 bits of
    /// SHA-256 over the venue, kind and number, then the number itself in the last 48 bits, so the
    /// id leads back to its number (see `coinbaseNumber`).
    func coinbaseID(_ kind: String, _ number: Int64) -> String {
        var bytes = Array(Digest.sha256("\(name)|\(kind)|\(number)").prefix(10))
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let low = UInt64(bitPattern: number) & 0xFFFF_FFFF_FFFF
        for shift in stride(from: 40, through: 0, by: -8) { bytes.append(UInt8((low >> UInt64(shift)) & 0xFF)) }
        return CoinbaseText.uuid(bytes)
    }

    /// The number behind an id `coinbaseID(kind, …)` gave, or nil for any other text.
    func coinbaseNumber(_ kind: String, _ id: String) -> Int64? {
        let id = id.lowercased()
        guard id.count == 36, let number = Int64(id.suffix(12), radix: 16), coinbaseID(kind, number) == id else {
            return nil
        }
        return number
    }

    /// The user and portfolio ids of a key.
    func coinbaseUserID(_ apiKey: String) -> String { CoinbaseText.uuid(seed: "\(name)|user|\(apiKey)") }
    func coinbasePortfolioID(_ apiKey: String) -> String { CoinbaseText.uuid(seed: "\(name)|portfolio|\(apiKey)") }
}
