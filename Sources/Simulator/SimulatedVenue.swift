public import BallastCore
public import Foundation
import LoopbackHTTP

/// One simulated venue on loopback: its exchange, its HTTP server, the latency
/// on the way in and out, and the front of its dialect, which every API request
/// passes (`front(_:_:arrivalOffset:)`). The venue itself speaks no dialect: the
/// fronts (`Binance/`, `Kraken/`, `Coinbase/`) turn requests into calls on the
/// exchange (`Engine/`) and its refusals into their venue's words.
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

    /// A ban in force (418 at Binance, a lockout at Kraken, 429 at Coinbase) lasts until then.
    var bannedUntil = Date.distantPast

    // What each dialect's front keeps.
    /// The Binance front's request-weight and order-count windows and its back-off.
    var binance = BinanceState()
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
            binance.forgive()
        }
    }

    /// Sets how far the venue's clock runs ahead of ours, in milliseconds.
    public func setClockSkew(milliseconds: Int) { lock.withLock { skewMs = milliseconds } }

    /// Gives `apiKey` `count` generated historical trades on `symbol`.
    public func seedTrades(apiKey: String, symbol: String, count: Int) throws(SimulatorError) {
        let now = clock.now()
        lock.lock()
        defer { lock.unlock() }
        do throws(ExchangeRefusal) {
            try exchange.seedHistory(apiKey: apiKey, symbol: symbol, count: count, now: now)
        } catch { throw .invalidConfig("cannot seed trades: \(error)") }
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
        do throws(ExchangeRefusal) {
            let (_, trades) = try exchange.place(request, apiKey: apiKey, at: now)
            return trades.map { TradeView(symbol: symbol, trade: $0) }
        } catch {
            throw .invalidConfig("order refused: \(error)")
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
            return front(request, params, arrivalOffset: arrival)
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

    /// Runs under `lock`: the front of the venue's dialect takes the request — its limits, keys and
    /// faults in the venue's words, then its endpoints over the exchange — and says what to answer
    /// and how long the answer takes. The one place a dialect is registered: a new `SimDialect` case
    /// gets its line here (the compiler asks for it) and its front in a folder of its own.
    private func front(_ request: ServerRequest, _ params: RequestParams, arrivalOffset: Duration)
        -> (ServerAction, Duration)
    {
        switch config.dialect {
        case .binanceSpot: binanceGate(request, params, arrivalOffset: arrivalOffset)
        case .krakenSpot: krakenGate(request, params, arrivalOffset: arrivalOffset)
        case .coinbaseAdvanced: coinbaseGate(request, arrivalOffset: arrivalOffset)
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

    /// A client order id in the venue's style, for orders sent without one.
    func generatedClientID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<22).map { _ in alphabet[Int(autoIDs.next() % UInt64(alphabet.count))] })
    }
}

/// What a front's handler produced.
struct Reply {
    var status = 200
    var body: String
    var placedOrder = false
}
