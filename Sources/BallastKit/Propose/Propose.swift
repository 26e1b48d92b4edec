public import BallastCore
public import Foundation
public import Logging
public import Postgres
import Venues

/// The propose step (DESIGN.md "The pipeline", step 4): where a portfolio's
/// drift exceeds its volatility-adjusted band, size the trades, route each one,
/// and write a batch (`proposed`) with its child orders and one hash-chained
/// decision record per order. Sends nothing.
///
/// Invariants:
/// - Everything a decision used comes from stored snapshots, named by id in its record.
/// - A batch, its orders and their decision records commit together or not at all.
/// - `dryRun` reads and decides exactly the same way and writes nothing.
public struct Propose {
    /// What was decided for one portfolio.
    public struct Proposal: Sendable {
        public var portfolio: String
        public var quote: String
        public var plan: RebalancePlan
        public var routes: [RoutingDecision]
        public var inputs: DecisionInputs
        /// The stored batch (nil on a dry run or when nothing is to be traded).
        public var batchID: Int64?
        /// `proposed`, `approved` (under the cap), `deferred`, or nil when nothing was stored.
        public var status: String?
        /// Σ child quantity × limit price, in quote.
        public var notional: ExactDecimal
        /// Orders written, in leg order (client order ids).
        public var clientOrderIDs: [String] = []
        /// Why nothing was routed although the portfolio was decided: a batch of it is in flight.
        public var held: String?
        /// Batches of the portfolio this proposal superseded (never sent; `execute` now refuses them).
        public var superseded: [Int64] = []
        /// What the plan was computed from, and each route (in `routes` order): recorded so that
        /// `audit recompute` can redo the decision from the record alone.
        public var planInputs: RecomputeInputs.Plan?
        public var routeInputs: [RecomputeInputs.Route] = []
    }

    let connection: Connection
    let logger: Logger

    public init(connection: Connection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Decides for every portfolio of `config` (or those named in `only`) and, unless `dryRun`, stores batches.
    public func run(config: JobConfig, only: [String] = [], runID: String?, dryRun: Bool, now: Date = Date())
        throws -> [Proposal]
    {
        let portfolios = config.portfolios.filter { only.isEmpty || only.contains($0.id) }
        if let missing = only.first(where: { id in !config.portfolios.contains { $0.id == id } }) {
            throw BallastError.invalidInput("no portfolio '\(missing)' in the job file")
        }
        // σ over each portfolio's own window (and the fallback window for those with too few prices).
        let windows = Set(portfolios.map(\.bands.windowHours))
        let view = try MarketView.load(connection: connection, volatilityWindows: windows, now: now)
        return try decideInChunks(portfolios, config: config, view: view, runID: runID, store: !dryRun, now: now)
    }

    /// Portfolios decided and written together: one transaction per chunk.
    static let chunkSize = 250

    /// Threads deciding and encoding chunks while this one writes: one per core, at most four.
    static var deciders: Int { max(1, min(ProcessInfo.processInfo.activeProcessorCount, 4)) }

    /// Decides (and, when `store`, stores) chunk by chunk: `deciders` worker threads each decide every
    /// n-th chunk and encode its records, while this thread writes the chunks in order, each in one
    /// transaction. Batch ids are drawn in chunk order (on a connection of their own), so ids, the
    /// chain and the portfolios' order agree however the workers interleave. A failure anywhere
    /// stops every thread; what was written before it stays written, whole chunks only. A dry run
    /// decides the same way and writes nothing.
    private func decideInChunks(
        _ portfolios: [PortfolioSettings], config: JobConfig, view: MarketView, runID: String?, store: Bool,
        now: Date
    ) throws -> [Proposal] {
        let settings = Dictionary(portfolios.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        // Each venue's dialect spells the client order ids of its orders.
        let dialects = config.venues.reduce(into: [String: VenueDialect]()) {
            $0[$1.id] = VenueDialect.named($1.dialect)
        }
        let ids = store ? Unshared(try connection.sibling(logger: logger)) : nil
        defer { ids?.value.close() }
        let chunks = stride(from: 0, to: portfolios.count, by: Self.chunkSize).map {
            $0..<min($0 + Self.chunkSize, portfolios.count)
        }
        let deciders = min(Self.deciders, max(chunks.count, 1))
        let turns = InTurn()
        let queues = (0..<deciders).map { _ in BoundedQueue<PreparedChunk>(capacity: 1) }
        @Sendable func stopAll(_ error: any Error) {
            turns.fail(error)
            for queue in queues { queue.fail(error) }
        }
        let workers = (0..<deciders).map { worker in
            Worker("propose-decide-\(worker)") {
                do {
                    for index in stride(from: worker, to: chunks.count, by: deciders) {
                        let decided = try portfolios[chunks[index]].map {
                            try Self.decide($0, config: config, view: view, now: now)
                        }
                        guard let ids else {
                            try queues[worker].put(PreparedChunk(proposals: decided, batches: [], drift: []))
                            continue
                        }
                        let chunk = try Self.prepare(decided, settings: settings, dialects: dialects) { count in
                            try turns.inTurn(index) { try Self.drawBatchIDs(count, on: ids.value) }
                        }
                        try queues[worker].put(chunk)
                    }
                    queues[worker].close()
                } catch {
                    stopAll(error)
                    throw error
                }
            }
        }
        var proposals: [Proposal] = []
        proposals.reserveCapacity(portfolios.count)
        var progress = Progress("propose", total: portfolios.count, unit: "portfolios", logger: logger)
        defer { progress.finish() }
        do {
            for index in chunks.indices {
                guard let chunk = try queues[index % deciders].take() else {
                    throw BallastError.internalFailure("chunk \(index) of the proposal never arrived")
                }
                proposals += store ? try write(chunk, runID: runID, now: now) : chunk.proposals
                progress.advance(by: chunk.proposals.count)
            }
        } catch {
            stopAll(error)
            for worker in workers { try? worker.join() }
            throw error
        }
        for worker in workers { try worker.join() }
        return proposals
    }

    /// The decision for one portfolio, from the loaded market view: the policy seam, the one place
    /// where state (holdings, books, health, σ, time) becomes routed orders.
    package static func decide(_ portfolio: PortfolioSettings, config: JobConfig, view: MarketView, now: Date) throws
        -> Proposal
    {
        let inputs = try DecisionInputs.gather(portfolio, config: config, view: view, now: now)
        let plan: RebalancePlan
        do {
            plan = try Rebalance.plan(
                holdings: inputs.holdings, mids: inputs.mids, targets: portfolio.targets, quote: portfolio.quote,
                bands: inputs.bands, sizeTo: Rebalance.SizeTo(rawValue: portfolio.bands.sizeTo) ?? .target,
                // A holding outside the targets (a fee token, say) is valued, never sold.
                tradable: Set(portfolio.targets.keys))
        } catch {
            throw BallastError.invalidInput("portfolio '\(portfolio.id)': \(error)")
        }
        func held(_ why: String) -> Proposal {
            Proposal(
                portfolio: portfolio.id, quote: portfolio.quote, plan: plan, routes: [], inputs: inputs, batchID: nil,
                status: nil, notional: .zero, held: why)
        }
        if let flight = view.inFlight[portfolio.id] {
            return held(
                "batch \(flight.batch) is \(flight.status) with orders sent: finish it "
                    + "(`ballast execute \(flight.batch)`) before proposing again")
        }
        if let account = portfolio.accounts.filter({ view.staleBalances[$0] != nil }).min() {
            return held(
                "account \(account)'s stored balances predate its fill at "
                    + "\(Timestamp.iso8601(view.staleBalances[account]!)): run `ballast pull` before proposing")
        }
        // Sells go first: their proceeds (at the limit, net of fees) add to the quote a venue's buys may
        // spend; each buy then uses up quote (at its limit, with the fee) that later buys cannot spend again.
        var proceeds: [String: ExactDecimal] = [:]
        var routes: [RoutingDecision] = []
        var routeInputs: [RecomputeInputs.Route] = []
        for trade in plan.trades {
            let symbol = trade.symbol
            var quotes = inputs.quotes(for: symbol, side: trade.side, view: view)
            if trade.side == .buy {
                for i in quotes.indices { quotes[i].available += proceeds[quotes[i].venue] ?? .zero }
            }
            let perSecond = RouteCostModel.volatilityPerSqrtSecond(annualised: inputs.volatility[trade.asset] ?? 0)
            let decision = Router.route(
                trade, quotes: quotes, volatilityPerSqrtSecond: perSecond, policy: portfolio.router, now: now)
            routeInputs.append(
                RecomputeInputs.Route(
                    quotes: quotes, volatilityPerSqrtSecond: perSecond, policy: portfolio.router, now: now,
                    digests: quotes.reduce(into: [:]) { digests, quote in
                        digests[quote.venue] = view.books[quote.venue]?[symbol]?.depthDigest
                    }))
            for child in decision.children {
                guard let quote = quotes.first(where: { $0.venue == child.venue }) else { continue }
                let notional = child.quantity * child.limitPrice
                proceeds[child.venue, default: .zero] +=
                    trade.side == .sell
                    ? notional * (.one - quote.takerFee)
                    : -RouteCostModel.buyCost(child.quantity, at: child.limitPrice, on: quote)
            }
            routes.append(decision)
        }
        let notional = routes.flatMap(\.children).map { $0.quantity * $0.limitPrice }.reduce(ExactDecimal.zero, +)
        return Proposal(
            portfolio: portfolio.id, quote: portfolio.quote, plan: plan, routes: routes, inputs: inputs,
            batchID: nil, status: nil, notional: notional,
            planInputs: RecomputeInputs.Plan(
                holdings: inputs.holdings, mids: inputs.mids, targets: portfolio.targets, quote: portfolio.quote,
                bands: inputs.bands, sizeTo: portfolio.bands.sizeTo, tradable: portfolio.targets.keys.sorted()),
            routeInputs: routeInputs)
    }
}
