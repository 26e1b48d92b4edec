public import BallastCore
import Foundation
import Synchronization
public import Transport

/// A client for one account (or none, for public data) at one venue speaking
/// the Binance Spot REST dialect.
///
/// Every call takes budget from the rate governor, is signed when the endpoint
/// needs it, is recorded as an `HTTPAttempt`, and maps the venue's answers to
/// core types or to a `VenueError`. Reads are retried after a 429 (once
/// Retry-After passes), a −1021 (after re-measuring the clock offset), a 5xx or
/// a dropped connection; an order request is never repeated blindly: an
/// ambiguous outcome is thrown as `outcomeUnknown` for the caller to resolve.
public final class BinanceSpotClient: Sendable {
    /// The venue id (as configured).
    public let venue: String
    /// The account id (as configured), nil for a public-data client.
    public let account: String?
    let baseURL: String
    let credentials: Credentials?
    let transport: any HTTPTransport
    let governor: RateGovernor
    let events: any VenueEventSink
    let clock: any TimeSource
    /// `recvWindow` sent with signed requests (ms, at most 60000).
    public let recvWindow: Int
    /// Server time minus local time, in milliseconds.
    private let clockOffset = Mutex<Int64>(0)

    /// Creates a client. `baseURL` is like `https://api.binance.com` (no trailing slash).
    public init(
        venue: String, account: String?, baseURL: String, credentials: Credentials?, transport: any HTTPTransport,
        governor: RateGovernor, events: any VenueEventSink, clock: any TimeSource = SystemTime(),
        recvWindow: Int = 5000
    ) {
        self.venue = venue
        self.account = account
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.credentials = credentials
        self.transport = transport
        self.governor = governor
        self.events = events
        self.clock = clock
        self.recvWindow = min(max(recvWindow, 1), 60_000)
    }

    /// The measured server-minus-local clock offset.
    public var serverClockOffset: Duration { .milliseconds(clockOffset.withLock { $0 }) }

    /// Measures the venue's clock against ours (midpoint of the round trip) and
    /// uses the offset for every signed request's timestamp.
    @discardableResult
    public func synchroniseClock() async throws(VenueError) -> Duration {
        let before = clock.now()
        let time: WireServerTime = try await call(.time, [])
        let after = clock.now()
        let midpoint = before.timeIntervalSince1970 * 1000 + after.timeIntervalSince(before) * 500
        let offset = time.serverTime - Int64(midpoint.rounded())
        clockOffset.withLock { $0 = offset }
        return .milliseconds(offset)
    }

    // MARK: The request loop

    /// Sends one call and decodes its body, with the retries described on the type.
    func call<T: Decodable & Sendable>(
        _ endpoint: BinanceEndpoint, _ params: [(String, String)], clientOrderId: String? = nil
    ) async throws(VenueError) -> T {
        try await answer(endpoint, params, clientOrderId: clientOrderId).value
    }

    /// Sends one call and decodes its body, with the retries described on the type; the answer
    /// names the attempt it came in, as a failure does. `clientOrderId` names the order the call
    /// is about, for the attempt's record.
    func answer<T: Decodable & Sendable>(
        _ endpoint: BinanceEndpoint, _ params: [(String, String)], clientOrderId: String? = nil
    ) async throws(VenueError) -> Answer<T> {
        let call = Call(endpoint: endpoint, params: params, clientOrderId: clientOrderId)
        var clockRetried = false
        var attempts = 0
        while true {
            attempts += 1
            try await governor.acquire(weight: endpoint.weight(params), orders: endpoint.placesOrder ? 1 : 0)
            let request = try build(endpoint, params)
            let started = clock.now()
            // On record before it leaves; if it cannot be recorded, it is not sent.
            let pending = try await begin(call, started)
            let response: HTTPResponse
            do {
                response = try await transport.send(request)
            } catch {
                let timedOut = error.kind == .timedOut
                let id = await record(
                    call, started, nil, pending, outcome: timedOut ? .timeout : .transportError,
                    error: error.description)
                if endpoint.idempotent && attempts < 3 { continue }
                if error.reach == .never {
                    throw .unreachable(
                        venue: venue, endpoint: endpoint.path, detail: error.description, httpAttemptId: id)
                }
                throw .outcomeUnknown(
                    venue: venue, endpoint: endpoint.path, detail: error.description, httpAttemptId: id)
            }
            switch try await classify(call, started, response, pending) {
            case .success:
                let decoded: T
                do {
                    decoded = try JSONDecoder().decode(T.self, from: Data(response.body))
                } catch {
                    // The payload itself goes into the attempt record (first 4 KiB) for the audit trail.
                    let id = await record(
                        call, started, response, pending, outcome: .malformed,
                        error: "\(FormEncoding.reason(error)); body: \(response.text.prefix(4096))")
                    throw .malformed(
                        venue: venue, endpoint: endpoint.path, reason: FormEncoding.reason(error), raw: response.text,
                        httpAttemptId: id)
                }
                let id = await record(call, started, response, pending, outcome: .ok)
                return Answer(decoded, httpAttemptId: id)
            case .retry(let id):
                if attempts < 4 { continue }
                throw .outcomeUnknown(
                    venue: venue, endpoint: endpoint.path, detail: "gave up after \(attempts) attempts",
                    httpAttemptId: id)
            case .resynchroniseClock(let id):
                guard !clockRetried else {
                    throw .rejected(
                        venue: venue, endpoint: endpoint.path, httpStatus: response.status, code: -1021,
                        message: "timestamp outside recvWindow even after re-measuring the clock offset",
                        httpAttemptId: id)
                }
                clockRetried = true
                try await synchroniseClock()
            }
        }
    }

    /// One call as its attempts are recorded: the endpoint, its parameters and the order it is about.
    private struct Call {
        var endpoint: BinanceEndpoint
        var params: [(String, String)]
        var clientOrderId: String?
    }

    /// What follows an answer; a retry or a clock resync names the attempt that led to it.
    private enum Next {
        case success
        case retry(HTTPAttempt.ID?)
        case resynchroniseClock(HTTPAttempt.ID?)
    }

    /// Records the exchange and decides what follows from its status and body.
    private func classify(
        _ call: Call, _ started: Date, _ response: HTTPResponse, _ pending: HTTPAttempt.ID?
    ) async throws(VenueError) -> Next {
        let endpoint = call.endpoint
        let usedWeight = response.header("x-mbx-used-weight-1m").flatMap { Int($0) }
        let orders10s = response.header("x-mbx-order-count-10s").flatMap { Int($0) }
        await governor.observe(usedWeight1m: usedWeight, orderCount10s: orders10s)
        let status = response.status
        let error = try? JSONDecoder().decode(WireError.self, from: Data(response.body))
        let retryAfter = Duration.seconds(Int64(response.header("retry-after").flatMap { Int($0) } ?? 60))
        switch status {
        case 200..<300:
            // Recorded by the caller once the body is read: `ok`, or `malformed` (one record per exchange).
            return .success
        case 429:
            let id = await record(call, started, response, pending, outcome: .rateLimited, code: error?.code)
            await governor.rateLimited(retryAfter: retryAfter)
            return .retry(id)
        case 418:
            let id = await record(call, started, response, pending, outcome: .banned, code: error?.code)
            let until = await governor.banned(retryAfter: retryAfter)
            throw .banned(venue: venue, until: until, httpAttemptId: id)
        case 500...:
            let id = await record(call, started, response, pending, outcome: .serverError, code: error?.code)
            if endpoint.idempotent { return .retry(id) }
            throw .outcomeUnknown(
                venue: venue, endpoint: endpoint.path, detail: "HTTP \(status)\(error.map { ": \($0.msg)" } ?? "")",
                httpAttemptId: id)
        default:
            guard let error else {
                let id = await record(
                    call, started, response, pending, outcome: .malformed,
                    error: "HTTP \(status) without an error body")
                throw .malformed(
                    venue: venue, endpoint: endpoint.path, reason: "HTTP \(status) without an error body",
                    raw: response.text, httpAttemptId: id)
            }
            let id = await record(
                call, started, response, pending, outcome: .venueError, code: error.code, error: error.msg)
            if error.code == -1021 { return .resynchroniseClock(id) }
            if error.code == -1006 || error.code == -1007 {
                if endpoint.idempotent { return .retry(id) }
                throw .outcomeUnknown(
                    venue: venue, endpoint: endpoint.path, detail: "code \(error.code): \(error.msg)",
                    httpAttemptId: id)
            }
            throw .rejected(
                venue: venue, endpoint: endpoint.path, httpStatus: status, code: error.code, message: error.msg,
                httpAttemptId: id)
        }
    }

    /// Builds the HTTP request: parameters in the query (GET, DELETE) or the
    /// form body (POST); signed ones get `recvWindow`, `timestamp` and the
    /// HMAC-SHA256 `signature` over query string + body.
    func build(_ endpoint: BinanceEndpoint, _ params: [(String, String)]) throws(VenueError) -> HTTPRequest {
        var fields = params
        var headers: [HTTPHeader] = []
        if endpoint.signed {
            guard let credentials else { throw .missingCredentials(venue: venue) }
            let offset = clockOffset.withLock { $0 }
            let timestamp = Int64((clock.now().timeIntervalSince1970 * 1000).rounded(.down)) + offset
            fields.append(("recvWindow", String(recvWindow)))
            fields.append(("timestamp", String(timestamp)))
            headers.append(HTTPHeader("X-MBX-APIKEY", credentials.apiKey))
        }
        let encoded = FormEncoding.encode(fields)
        var query = endpoint.method == "POST" ? "" : encoded
        var body = endpoint.method == "POST" ? encoded : ""
        if endpoint.signed, let credentials {
            let signature = credentials.sign(query + body)
            if endpoint.method == "POST" {
                body += "&signature=" + signature
            } else {
                query += "&signature=" + signature
            }
        }
        if endpoint.method == "POST" { headers.append(HTTPHeader("Content-Type", "application/x-www-form-urlencoded")) }
        let url = baseURL + endpoint.path + (query.isEmpty ? "" : "?" + query)
        return HTTPRequest(
            method: HTTPRequest.Method(rawValue: endpoint.method) ?? .get, url: url, headers: headers,
            body: Array(body.utf8))
    }

    /// Puts the request on record as `pending` before it leaves; a request that cannot be
    /// recorded is not sent (`notRecorded`).
    private func begin(_ call: Call, _ started: Date) async throws(VenueError) -> HTTPAttempt.ID? {
        let attempt = Self.attempt(
            venue: venue, account: account, call, started, nil, outcome: .pending, code: nil, error: nil)
        do {
            return try await events.begin(attempt)
        } catch {
            throw .notRecorded(venue: venue, endpoint: call.endpoint.path, detail: "\(error)")
        }
    }

    /// Records how an attempt ended; returns its id in the store.
    private func record(
        _ call: Call, _ started: Date, _ response: HTTPResponse?, _ pending: HTTPAttempt.ID?,
        outcome: HTTPAttempt.Outcome, code: Int? = nil, error: String? = nil
    ) async -> HTTPAttempt.ID? {
        let attempt = Self.attempt(
            venue: venue, account: account, call, started, response, outcome: outcome, code: code, error: error)
        return await events.complete(attempt, id: pending)
    }

    private static func attempt(
        venue: String, account: String?, _ call: Call, _ started: Date, _ response: HTTPResponse?,
        outcome: HTTPAttempt.Outcome, code: Int?, error: String?
    ) -> HTTPAttempt {
        let endpoint = call.endpoint
        return HTTPAttempt(
            venue: venue, account: account, method: endpoint.method, endpoint: endpoint.path,
            weight: endpoint.weight(call.params), startedAt: started, timings: response?.timings,
            httpStatus: response?.status, venueCode: code, outcome: outcome,
            usedWeight1m: response?.header("x-mbx-used-weight-1m").flatMap { Int($0) },
            orderCount10s: response?.header("x-mbx-order-count-10s").flatMap { Int($0) },
            orderCount1d: response?.header("x-mbx-order-count-1d").flatMap { Int($0) },
            retryAfterSeconds: response?.header("retry-after").flatMap { Int($0) }, error: error,
            clientOrderId: call.clientOrderId)
    }
}
