import BallastKit
import Foundation
public import Logging
public import Postgres

/// `ballast bench propose`: the propose step for N portfolios of five assets
/// held at three venues, against a stored market (book tickers with history,
/// depth, venue health, one balance snapshot per account).
///
/// Times two phases of `Propose.run` separately: deciding alone (a dry run:
/// market load, bands, sizing and routing for every portfolio) and deciding
/// and storing (batches, parents, child orders and hash-chained decision
/// records). Then checks what was stored: the decision chain verifies, and
/// the stored batches, orders and records are exactly those the proposals
/// name, and as many orders as the dry run decided. Generation is timed apart.
///
/// Works in a scratch schema of its own (dropped afterwards unless BALLAST_BENCH_KEEP is set).
public struct ProposeBenchmark {
    public struct Result: Sendable {
        public var portfolios: Int
        public var accounts: Int
        public var balanceRows: Int
        public var bookTickers: Int
        public var depthSnapshots: Int
        public var httpAttempts: Int
        public var generateSeconds: Double
        /// Dry run: portfolios whose drift breached a band, their parent trades and planned child orders.
        public var decideSeconds: Double
        public var breaching: Int
        public var parents: Int
        public var plannedOrders: Int
        /// Decide and store: batches stored (of which deferred as a whole), orders and decision records.
        public var storeSeconds: Double
        public var batches: Int
        public var deferredBatches: Int
        public var orders: Int
        public var decisionRecords: Int
        /// The chain as `DecisionLog.verify` found it, and whether the stored counts match the proposals.
        public var verifiedRecords: Int
        public var chainBroken: String?
        public var countMismatches: [String]
        public var peakResidentBytesAfterDecide: Int?
        public var peakResidentBytes: Int?
        /// The exact split against the whole-slice baseline over the stored records, when asked for.
        public var split: SplitComparison.Result?

        public var decidePerSecond: Double { Double(portfolios) / max(decideSeconds, 1e-9) }
        public var storePerSecond: Double { Double(portfolios) / max(storeSeconds, 1e-9) }
        public var intact: Bool { chainBroken == nil && countMismatches.isEmpty }
    }

    /// The target: 10 000 portfolios proposed in under 5 s.
    public static let targetPortfolios = 10_000
    public static let targetSeconds = 5.0

    /// The time `seconds` for `portfolios` would take at the target's scale.
    public static func scaledToTarget(_ seconds: Double, portfolios: Int) -> Double {
        seconds * Double(targetPortfolios) / Double(max(portfolios, 1))
    }

    let connection: Connection
    let logger: Logger

    public init(connection: Connection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    public func run(portfolios count: Int, compareSplit: Bool = false) throws -> Result {
        let schema = try ScratchSchema(
            "ballast_bench_propose_\(ProcessInfo.processInfo.processIdentifier)", on: connection)
        defer { schema.drop() }
        let clock = ContinuousClock()
        let now = Date()

        var t = clock.now
        logger.info("generating \(count) portfolios × \(SyntheticMarket.listings.count) assets × 3 venues")
        var rng = SplitMixRandom(seed: 0xBA11_A57_0000 + UInt64(count))
        let market = try SyntheticMarket(connection: connection).generate(now: now, rng: &rng)
        let (config, balanceRows) = try SyntheticPortfolios(connection: connection).generate(
            count: count, now: now, rng: &rng)
        let generateSeconds = (clock.now - t).seconds

        let propose = Propose(connection: connection, logger: logger)
        logger.info("deciding for \(count) portfolios (dry run)")
        t = clock.now
        let decided = try propose.run(config: config, runID: nil, dryRun: true, now: now)
        let decideSeconds = (clock.now - t).seconds
        let rssDecide = ProcessStats.peakResidentBytes()

        let run = try JobRun.start("bench propose", configHash: config.fingerprint, on: connection)
        logger.info("deciding and storing for \(count) portfolios")
        t = clock.now
        let stored = try propose.run(config: config, runID: run.id, dryRun: false, now: now)
        let storeSeconds = (clock.now - t).seconds
        try run.finish(on: connection)

        logger.info("verifying the decision chain and the stored counts")
        let verification = try DecisionLog.verify(on: connection)
        let withBatch = stored.filter { $0.batchID != nil }
        let expectedRecords = withBatch.map { $0.clientOrderIDs.count + $0.routes.count { $0.deferred != nil } }.sum
        let plannedOrders = decided.map { $0.routes.map(\.children.count).sum }.sum
        let counts = try Self.storedCounts(connection)
        var mismatches: [String] = []
        func expect(_ what: String, _ stored: Int, _ expected: Int) {
            if stored != expected { mismatches.append("\(what): \(stored) stored, \(expected) expected") }
        }
        expect("batches", counts.batches, withBatch.count)
        expect("parents", counts.parents, withBatch.map(\.routes.count).sum)
        expect("orders", counts.orders, stored.map(\.clientOrderIDs.count).sum)
        expect("orders (as the dry run decided)", counts.orders, plannedOrders)
        expect("decision records", counts.decisions, expectedRecords)
        expect("decision records verified", verification.checked, counts.decisions)
        // Stored in chunks, decided on another thread: still every portfolio, in order, decided alike.
        expect("proposals", stored.count, decided.count)
        expect(
            "proposals that differ from the dry run's",
            zip(decided, stored).count {
                $0.portfolio != $1.portfolio || $0.routes.map(\.children) != $1.routes.map(\.children)
            }, 0)
        var split: SplitComparison.Result?
        if compareSplit {
            logger.info("splitting every stored parent again, exactly and in whole slices")
            split = try SplitComparison(connection: connection).run()
        }
        return Result(
            portfolios: count, accounts: config.accounts.count, balanceRows: balanceRows,
            bookTickers: market.bookTickers, depthSnapshots: market.depthSnapshots, httpAttempts: market.httpAttempts,
            generateSeconds: generateSeconds, decideSeconds: decideSeconds,
            breaching: decided.count { !$0.routes.isEmpty }, parents: decided.map(\.routes.count).sum,
            plannedOrders: plannedOrders, storeSeconds: storeSeconds, batches: counts.batches,
            deferredBatches: withBatch.count { $0.status == "deferred" }, orders: counts.orders,
            decisionRecords: counts.decisions, verifiedRecords: verification.checked,
            chainBroken: verification.firstBroken.map { "record \($0.id): \($0.reason)" },
            countMismatches: mismatches, peakResidentBytesAfterDecide: rssDecide,
            peakResidentBytes: ProcessStats.peakResidentBytes(), split: split)
    }

    /// Rows in the tables the propose step writes.
    static func storedCounts(_ connection: Connection) throws -> (
        batches: Int, parents: Int, orders: Int, decisions: Int
    ) {
        let row = try connection.query(
            """
            SELECT (SELECT count(*) FROM batches) AS batches, (SELECT count(*) FROM batch_parents) AS parents,
                   (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM decisions) AS decisions
            """
        ).first!
        return (
            try row.decode("batches"), try row.decode("parents"), try row.decode("orders"), try row.decode("decisions")
        )
    }
}

extension Sequence<Int> {
    /// The sum of the elements.
    fileprivate var sum: Int { reduce(0, +) }
}
