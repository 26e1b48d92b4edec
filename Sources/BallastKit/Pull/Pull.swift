import BallastCore
import Foundation
public import Logging
import Postgres
import Venues

/// `ballast pull`: for every configured venue, concurrently — symbol rules,
/// balances, book tickers, depth, open orders, and fills since the stored
/// cursor — into PostgreSQL. A second pull stores nothing that is already
/// there; a pull killed at any moment resumes from its cursors.
public struct Pull: Sendable {
    /// What one venue's pull brought back.
    public struct VenueSummary: Sendable {
        public var venue: String
        public var symbols = 0
        public var tickers = 0
        public var depthSnapshots = 0
        public var balanceSnapshots = 0
        public var orders = 0
        public var fillsSeen = 0
        public var fillsNew = 0
        /// Why the venue's pull stopped early, if it did.
        public var failure: String?

        public init(venue: String) { self.venue = venue }
    }

    /// What a pull brings back.
    public enum Scope: Sendable {
        /// Symbol rules, books, balances, open orders and new fills.
        case full
        /// Symbol rules, books and balances: what a drift check decides on (no fill history).
        case balancesAndBooks
    }

    let config: JobConfig
    let databaseURL: String
    let wiring: VenueWiring
    let runID: String?
    let logger: Logger
    let scope: Scope

    public init(
        config: JobConfig, databaseURL: String, wiring: VenueWiring, runID: String?, logger: Logger,
        scope: Scope = .full
    ) {
        self.config = config
        self.databaseURL = databaseURL
        self.wiring = wiring
        self.runID = runID
        self.logger = logger
        self.scope = scope
    }

    /// Pulls every venue concurrently; one venue failing does not stop the others.
    public func run() async -> [VenueSummary] {
        await withTaskGroup(of: VenueSummary.self) { group in
            for venue in config.venues {
                group.addTask {
                    var summary = VenueSummary(venue: venue.id)
                    do {
                        try await pull(venue, into: &summary)
                    } catch {
                        summary.failure = "\(error)"
                        logger.error("pull failed: \(error)", metadata: ["venue": "\(venue.id)"])
                    }
                    return summary
                }
            }
            var summaries: [VenueSummary] = []
            for await summary in group { summaries.append(summary) }
            return summaries.sorted { $0.venue < $1.venue }
        }
    }

    /// A venue's rules, then its accounts, then its books: the books are read last, so that a job
    /// with many accounts decides on books that are not already old.
    private func pull(_ venue: VenueSettings, into summary: inout VenueSummary) async throws {
        var logger = self.logger
        logger[metadataKey: "venue"] = "\(venue.id)"
        let connection = try Connection(conninfo: databaseURL, logger: logger)
        defer { connection.close() }
        let store = MarketStore(connection: connection, runID: runID)
        let (limits, listed) = try await pullRules(venue, store: store, into: &summary, logger: logger)
        for account in config.accounts where account.venue == venue.id {
            try await pullAccount(
                venue, account, limits: limits, listed: listed, store: store, into: &summary, logger: logger)
        }
        try await pullBooks(venue, limits: limits, listed: listed, store: store, into: &summary, logger: logger)
    }

    /// One unit of a worker's pull: `venue`'s symbol rules and limits (what its accounts' and books'
    /// pulls rely on).
    public func pullRules(_ venue: VenueSettings) async throws -> VenueSummary {
        var logger = self.logger
        logger[metadataKey: "venue"] = "\(venue.id)"
        let connection = try Connection(conninfo: databaseURL, logger: logger)
        defer { connection.close() }
        var summary = VenueSummary(venue: venue.id)
        _ = try await pullRules(
            venue, store: MarketStore(connection: connection, runID: runID), into: &summary, logger: logger)
        return summary
    }

    /// One unit of a worker's pull: `venue`'s book tickers and depth, within the limits and symbols
    /// its rules pull stored.
    public func pullBooks(_ venue: VenueSettings) async throws -> VenueSummary {
        var logger = self.logger
        logger[metadataKey: "venue"] = "\(venue.id)"
        let connection = try Connection(conninfo: databaseURL, logger: logger)
        defer { connection.close() }
        let (limits, listed) = try Self.stored(venue, on: connection)
        var summary = VenueSummary(venue: venue.id)
        try await pullBooks(
            venue, limits: limits, listed: listed, store: MarketStore(connection: connection, runID: runID),
            into: &summary, logger: logger)
        return summary
    }

    /// One unit of a worker's pull: `account`'s balances (and, in full scope, open orders and new
    /// fills), within the limits and symbols its venue's rules pull stored.
    public func pullAccount(_ account: AccountSettings) async throws -> VenueSummary {
        try await pullAccount(account, on: nil)
    }

    /// `pullAccount` on `existing` (a worker's connection) instead of a connection of its own.
    func pullAccount(_ account: AccountSettings, on existing: Connection?) async throws -> VenueSummary {
        guard let venue = config.venue(account.venue) else {
            throw BallastError.invalidInput(
                "account '\(account.id)' names venue '\(account.venue)', which is not configured")
        }
        var logger = self.logger
        logger[metadataKey: "venue"] = "\(venue.id)"
        let connection = try existing ?? Connection(conninfo: databaseURL, logger: logger)
        defer { if existing == nil { connection.close() } }
        let (limits, listed) = try Self.stored(venue, on: connection)
        var summary = VenueSummary(venue: venue.id)
        try await pullAccount(
            venue, account, limits: limits, listed: listed, store: MarketStore(connection: connection, runID: runID),
            into: &summary, logger: logger)
        return summary
    }

    /// The limits and listed symbols a rules pull stored for `venue`.
    static func stored(_ venue: VenueSettings, on connection: Connection) throws -> (RateLimits, Set<String>) {
        let rows = try connection.query(
            """
            SELECT v.request_weight_per_minute AS weight, v.orders_per_10s,
                   (SELECT string_agg(s.symbol, ' ') FROM symbols s WHERE s.venue_id = v.id) AS listed
            FROM venues v WHERE v.id = \(venue.id)
            """)
        guard let row = rows.first, let weight = try row.decode("weight", as: Int?.self) else {
            throw BallastError.invalidInput("venue \(venue.id) has no stored limits: its rules pull has not run")
        }
        var limits = RateLimits()
        limits.requestWeightPerMinute = weight
        if let orders = try row.decode("orders_per_10s", as: Int?.self) { limits.ordersPerTenSeconds = orders }
        let listed = Set((try row.decode("listed", as: String?.self) ?? "").split(separator: " ").map(String.init))
        return (limits, listed)
    }

    /// The venue's rules and limits; returns the limits and the symbols it lists.
    private func pullRules(
        _ venue: VenueSettings, store: MarketStore, into summary: inout VenueSummary, logger: Logger
    ) async throws -> (RateLimits, Set<String>) {
        try store.saveVenue(venue)
        let bootstrap = try wiring.client(venue, account: nil, limits: RateLimits())
        let info = try await bootstrap.listing()
        summary.symbols = try store.saveSymbols(info.symbols, venue: venue.id)
        try store.saveVenueLimits(
            venue.id, weightPerMinute: info.limits.requestWeightPerMinute, ordersPer10s: info.limits.ordersPerTenSeconds
        )
        let listed = Set(info.symbols.map(\.pair.symbol))
        let wanted = symbols(for: venue, accounts: config.accounts.filter { $0.venue == venue.id })
        for missing in wanted.subtracting(listed).sorted() {
            logger.warning("symbol \(missing) is not listed at this venue; skipped")
        }
        logger.info(
            "venue has \(info.symbols.count) symbols; pulling \(wanted.intersection(listed).sorted().joined(separator: ", "))"
        )
        return (info.limits, listed)
    }

    /// The venue's book tickers and depth for the symbols its accounts' portfolios need.
    private func pullBooks(
        _ venue: VenueSettings, limits: RateLimits, listed: Set<String>, store: MarketStore,
        into summary: inout VenueSummary, logger: Logger
    ) async throws {
        let symbols = symbols(for: venue, accounts: config.accounts.filter { $0.venue == venue.id })
            .intersection(listed).sorted()
        guard !symbols.isEmpty else { return }
        // Within the limits the venue publishes.
        let market = try wiring.client(venue, account: nil, limits: limits)
        // Each observation is stamped when its answer arrived: a depth fetched after a retry is
        // not passed off as taken with the tickers (propose combines them only when close).
        let tickers = try await market.bookTickers(symbols)
        summary.tickers = try store.saveBookTickers(tickers, venue: venue.id, at: wiring.clock.now())
        for symbol in symbols {
            let depth = try await market.depth(symbol, limit: venue.depthLimit)
            summary.depthSnapshots += try store.saveDepth(depth, venue: venue.id, at: wiring.clock.now())
        }
    }

    /// One account's balances, open orders and new fills.
    private func pullAccount(
        _ venue: VenueSettings, _ account: AccountSettings, limits: RateLimits, listed: Set<String>,
        store: MarketStore, into summary: inout VenueSummary, logger: Logger
    ) async throws {
        let symbols = symbols(for: venue, accounts: [account]).intersection(listed).sorted()
        let client = try wiring.client(venue, account: account, limits: limits)
        try await client.synchroniseClock()
        let snapshot = try await client.account()
        try store.saveAccount(
            id: account.id, venue: venue.id, fingerprint: try wiring.credentials.load(account).fingerprint,
            makerFee: snapshot.makerRate, takerFee: snapshot.takerRate)
        if try store.saveBalances(snapshot, account: account.id, at: wiring.clock.now()) != nil {
            summary.balanceSnapshots += 1
        }
        guard scope == .full else { return }
        if client.readsAccountWide {
            // One call for every symbol's open orders, one paged read of every symbol's fills.
            let wanted = Set(symbols)
            summary.orders += try store.saveVenueOrders(
                try await client.openOrders(nil).filter { wanted.contains($0.symbol) }, venue: venue.id,
                account: account.id)
            let (seen, new) = try await pullFills(
                client, store: store, venue: venue.id, account: account.id, symbol: nil, logger: logger)
            summary.fillsSeen += seen
            summary.fillsNew += new
            return
        }
        for symbol in symbols {
            summary.orders += try store.saveVenueOrders(
                try await client.openOrders(symbol), venue: venue.id, account: account.id)
            let (seen, new) = try await pullFills(
                client, store: store, venue: venue.id, account: account.id, symbol: symbol, logger: logger)
            summary.fillsSeen += seen
            summary.fillsNew += new
        }
    }

    /// Where the cursor of an account-wide fills read is kept (in place of a symbol).
    static let accountWideCursor = "*"

    /// The symbols to pull at `venue`: those configured, plus each portfolio
    /// target asset against its quote for portfolios holding an account here.
    func symbols(for venue: VenueSettings, accounts: [AccountSettings]) -> Set<String> {
        let ids = Set(accounts.map(\.id))
        var symbols = Set(venue.symbols)
        for portfolio in config.portfolios where !ids.isDisjoint(with: portfolio.accounts) {
            symbols.formUnion(portfolio.symbols)
        }
        return symbols
    }

    /// Pages through the account's fills from the stored cursor until the venue has no more,
    /// fetching the next page while the current one is stored.
    private func pullFills(
        _ client: any VenueClient, store: MarketStore, venue: String, account: String, symbol: String?,
        logger: Logger
    ) async throws -> (seen: Int, new: Int) {
        let pageSize = 1000
        let key = symbol ?? Self.accountWideCursor
        let start = try store.fillCursor(account: account, symbol: key)
        var next: Task<FillPage, any Error>? = Task { try await client.fillPage(symbol, from: start, limit: pageSize) }
        var seen = 0
        var new = 0
        var progress = Progress("fills \(key) (\(account))", total: nil, unit: "fills", logger: logger)
        var cursor = start
        while let pending = next {
            let page = try await pending.value
            next = nil
            // A page that does not move the cursor ends the pull (no venue may loop us forever).
            let moved = page.next != cursor
            if page.more, moved, let after = page.next {
                next = Task { try await client.fillPage(symbol, from: after, limit: pageSize) }
            }
            do {
                new += try store.saveFills(
                    page.fills, venue: venue, account: account, symbol: key, cursor: moved ? page.next : nil)
                cursor = page.next
            } catch {
                next?.cancel()
                throw error
            }
            seen += page.fills.count
            progress.advance(by: page.fills.count)
        }
        progress.finish()
        if seen > 0 {
            logger.info("fills \(key): \(seen) seen, \(new) new", metadata: ["account": "\(account)"])
        }
        return (seen, new)
    }
}
