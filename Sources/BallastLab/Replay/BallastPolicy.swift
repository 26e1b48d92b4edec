import BallastCore
import BallastKit
import Foundation
import Venues

/// Ballast in a replay: at each check it reads every venue's balances and book tickers over
/// HTTP, builds the market view the proposal step would load from its snapshots (holdings,
/// books, fees, rules, σ of the mids it has seen over the band window, venue health from
/// the latency and errors it has met), and hands it to `Propose.decide` — the production
/// decision: bands, sizing and the latency-weighted router, with what its own passive legs have
/// cost so far (`MeasuredRouteCost`, as the proposal step loads it from the orders it stored). When that routes anything, it
/// reads the depth of the symbols to trade, decides again with it, and drives the children
/// with `ReplayExecutor`, which follows execute's rules.
///
/// `fixed-band` is the same with the portfolio's bands fixed at 5 %.
final class BallastPolicy: ReplayPolicy {
    let kind: ReplayPolicyKind
    let clients: [String: BinanceSpotClient]
    let job: JobConfig
    let portfolio: PortfolioSettings
    let clock: any TimeSource
    private var rules: [String: [String: SymbolRules]] = [:]
    /// Mids seen per symbol and venue (for σ over the band window).
    private var seen: [String: [String: [(time: Date, price: Double)]]] = [:]
    /// Latency (seconds) and outcomes of the requests made per venue, latest last.
    private var calls: [String: [(seconds: Double, failed: Bool)]] = [:]
    private var nextID: Int64 = 1
    /// Passive legs' cost (quote) and base (m₀ · quantity), per "venue␁symbol".
    private var passiveLegs: [String: [(cost: Double, notional: Double)]] = [:]

    init(kind: ReplayPolicyKind, clients: [String: BinanceSpotClient], job: JobConfig, clock: any TimeSource) {
        self.kind = kind
        self.clients = clients
        self.job = job
        self.portfolio = job.portfolios[0]
        self.clock = clock
    }

    /// The job file the policy's portfolio is read from: the product's defaults but for the
    /// bands (`fixed` at 5 % for fixed-band) and urgency `low` (rest passively, chase, cross within the cap).
    static func job(kind: ReplayPolicyKind, venues: [(name: String, url: String)], targets: [String: ExactDecimal])
        throws -> JobConfig
    {
        let symbols = targets.keys.filter { $0 != ReplaySettings.quote }.sorted().map {
            TradingPair.symbol(base: $0, quote: ReplaySettings.quote)
        }
        var toml = ""
        for venue in venues {
            toml += """
                [[venues]]
                id = "\(venue.name)"
                dialect = "binance-spot"
                base_url = "\(venue.url)"
                symbols = [\(symbols.map { "\"\($0)\"" }.joined(separator: ", "))]

                [[accounts]]
                id = "\(venue.name)-replay"
                venue = "\(venue.name)"
                api_key_env = "REPLAY_UNUSED_KEY"
                api_secret_env = "REPLAY_UNUSED_SECRET"


                """
        }
        let weights = targets.sorted { $0.key < $1.key }.map { "\($0.key) = \"\($0.value)\"" }
        toml += """
            [[portfolios]]
            id = "replay"
            quote = "\(ReplaySettings.quote)"
            accounts = [\(venues.map { "\"\($0.name)-replay\"" }.joined(separator: ", "))]
            approval_cap = "1000000000"
            targets = { \(weights.joined(separator: ", ")) }

            [portfolios.bands]
            mode = "\(kind == .fixedBand ? "fixed" : "volatility")"
            fixed = "\(NaiveCronPolicy.threshold)"

            [portfolios.router]
            urgency = "low"

            """
        return try TOMLFile.decode(JobConfig.self, text: toml, source: "replay job (\(kind.rawValue))")
    }

    func check(_ index: Int, at now: Date, ledger: ReplayLedger) async {
        var view = MarketView()
        for (venue, client) in clients.sorted(by: { $0.key < $1.key }) {
            await observe(venue, client, into: &view)
        }
        guard !view.holdings.isEmpty else { return }
        view.measuredPassive = measuredPassive()
        let decided: Propose.Proposal
        do {
            decided = try Propose.decide(portfolio, config: job, view: view, now: clock.now())
        } catch {
            return
        }
        let bands = decided.inputs.bands.values
        if !bands.isEmpty { ledger.bands.append(bands.reduce(0, +) / Double(bands.count)) }
        guard decided.routes.contains(where: { !$0.children.isEmpty }) else {
            ledger.deferred += decided.routes.count
            return
        }
        // Decide again with the depth of what is to be traded.
        let traded = Set(decided.routes.map(\.parent.symbol))
        for (venue, client) in clients.sorted(by: { $0.key < $1.key }) {
            for symbol in traded.sorted() where view.books[venue]?[symbol] != nil {
                if let depth = try? await timed(venue, { try await client.depth(symbol, limit: 100) }) {
                    view.books[venue]![symbol]!.depth = depth
                    view.books[venue]![symbol]!.depthId = id()
                    view.books[venue]![symbol]!.depthObservedAt = clock.now()
                }
            }
        }
        guard let proposal = try? Propose.decide(portfolio, config: job, view: view, now: clock.now()) else { return }
        ledger.rebalances += 1
        var legs: [ReplayExecutor.Leg] = []
        for route in proposal.routes {
            let parent = ledger.parent(
                check: index, asset: route.parent.asset, side: route.parent.side, quantity: route.parent.quantity)
            if route.children.isEmpty { ledger.deferred += 1 }
            for child in route.children {
                legs.append(ReplayExecutor.Leg(parent: parent, index: legs.count, child: child))
            }
        }
        let executor = ReplayExecutor(
            clients: clients, rules: rules, policy: portfolio.router, clock: clock, batch: Int64(index))
        await executor.run(&legs, ledger: ledger)
        for leg in legs where leg.child.style == .passive { measure(leg) }
    }

    /// Notes what a passive leg cost, from its first order's arrival mid (the decision's view of
    /// the venue, as execute records it) to its end: fills, and the move on what stayed unfilled.
    private func measure(_ leg: ReplayExecutor.Leg) {
        let m0 = leg.child.arrivalMid.doubleValue
        let total = leg.child.quantity.doubleValue
        guard m0 > 0, total > 0 else { return }
        let s = Double(leg.child.side.sign)
        var cost = s * (leg.filledQuote.doubleValue - m0 * leg.filledBefore.doubleValue)
        let unfilled = total - leg.filledBefore.doubleValue
        if unfilled > 0, let end = leg.endMid { cost += s * (end.doubleValue - m0) * unfilled }
        let key = leg.child.venue + "\u{1}" + leg.child.symbol
        passiveLegs[key, default: []].append((cost, m0 * total))
        if passiveLegs[key]!.count > Self.measuredLegs { passiveLegs[key]!.removeFirst() }
    }

    /// The passive legs measured per route (the latest ones).
    static let measuredLegs = 50

    /// What this policy's passive legs cost per venue and symbol.
    private func measuredPassive() -> [String: [String: MeasuredRouteCost]] {
        var out: [String: [String: MeasuredRouteCost]] = [:]
        for (key, legs) in passiveLegs {
            let parts = key.split(separator: "\u{1}").map(String.init)
            let base = legs.map(\.notional).reduce(0, +)
            guard base > 0 else { continue }
            out[parts[0], default: [:]][parts[1]] = MeasuredRouteCost(
                legs: legs.count, slippageBps: legs.map(\.cost).reduce(0, +) / base * 10_000)
        }
        return out
    }

    /// Reads one venue (rules the first time, then balances and tickers) into the view.
    private func observe(_ venue: String, _ client: BinanceSpotClient, into view: inout MarketView) async {
        let account = "\(venue)-replay"
        let symbols = portfolio.targets.keys.filter { $0 != portfolio.quote }.sorted().map {
            TradingPair.symbol(base: $0, quote: portfolio.quote)
        }
        do {
            if rules[venue] == nil {
                let info = try await timed(venue) { try await client.exchangeInfo() }
                rules[venue] = Dictionary(
                    info.symbols.filter { symbols.contains($0.pair.symbol) }.map { ($0.pair.symbol, $0) },
                    uniquingKeysWith: { first, _ in first })
            }
            let snapshot = try await timed(venue) { try await client.account() }
            let tickers = try await timed(venue) { try await client.bookTickers(symbols) }
            let now = clock.now()
            view.rules[venue] = rules[venue]
            view.accountVenue[account] = venue
            view.fees[account] = (
                snapshot.makerRate ?? ExactDecimal("0.001")!, snapshot.takerRate ?? ExactDecimal("0.001")!
            )
            view.holdings[account] = MarketView.Holdings(
                snapshotId: id(), takenAt: now,
                balances: Dictionary(snapshot.balances.map { ($0.asset, $0) }, uniquingKeysWith: { first, _ in first }))
            for ticker in tickers {
                view.books[venue, default: [:]][ticker.symbol] = MarketView.Book(
                    ticker: ticker, tickerId: id(), observedAt: now, depth: nil, depthId: nil)
                seen[ticker.symbol, default: [:]][venue, default: []].append((now, ticker.mid.doubleValue))
            }
        } catch {
            // The venue is left out of this decision; its failure counts against its health.
        }
        view.health[venue] = health(venue)
        let window = portfolio.bands.windowHours * 3600
        for symbol in symbols {
            var sigmas: [Double] = []
            for venue in (seen[symbol] ?? [:]).keys.sorted() {
                seen[symbol]![venue]!.removeAll { $0.time < clock.now().addingTimeInterval(-window) }
                if let sigma = Bands.annualisedVolatility(seen[symbol]![venue]!) { sigmas.append(sigma) }
            }
            if !sigmas.isEmpty {
                view.volatility[portfolio.bands.windowHours, default: [:]][symbol] =
                    sigmas.reduce(0, +) / Double(sigmas.count)
            }
        }
    }

    /// The venue's health from the last 200 requests: p95 latency, error share, and no weight
    /// share (the governor keeps the client inside the limits).
    private func health(_ venue: String) -> VenueHealth {
        let recent = calls[venue] ?? []
        guard !recent.isEmpty else { return VenueHealth(p95AckSeconds: 0, errorRate: 0, timeoutRate: 0, weightUsed: 0) }
        let sorted = recent.map(\.seconds).sorted()
        let p95 = sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.95).rounded(.down)))]
        let errors = Double(recent.filter(\.failed).count) / Double(recent.count)
        return VenueHealth(p95AckSeconds: p95, errorRate: errors, timeoutRate: 0, weightUsed: 0, attempts: recent.count)
    }

    /// Runs one call, noting its virtual latency and whether it failed.
    private func timed<T>(_ venue: String, _ call: () async throws -> T) async throws -> T {
        let started = clock.now()
        do {
            let value = try await call()
            note(venue, clock.now().timeIntervalSince(started), failed: false)
            return value
        } catch {
            note(venue, clock.now().timeIntervalSince(started), failed: true)
            throw error
        }
    }

    private func note(_ venue: String, _ seconds: Double, failed: Bool) {
        calls[venue, default: []].append((seconds, failed))
        if calls[venue]!.count > 200 { calls[venue]!.removeFirst(calls[venue]!.count - 200) }
    }

    private func id() -> Int64 {
        defer { nextID += 1 }
        return nextID
    }
}
