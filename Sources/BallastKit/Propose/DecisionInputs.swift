public import BallastCore
public import Foundation

/// Everything a portfolio's decision saw, as recorded in its decision records:
/// balance snapshots (by id), holdings, mids, σ, bands, drift inputs and venue health.
public struct DecisionInputs: Sendable, Encodable {
    /// Balance snapshot id per account.
    public var snapshots: [String: Int64]
    /// Free balances per account, then asset.
    public var free: [String: [String: ExactDecimal]]
    /// Σ (free + locked) over the portfolio's accounts, per asset.
    public var holdings: [String: ExactDecimal]
    /// Mid per asset in the quote, averaged over allowed venues (the decision mid m_dec).
    public var mids: [String: ExactDecimal]
    /// Annualised σ per asset, as `volatilityBasis` says it was found.
    public var volatility: [String: Double]
    /// Per asset, where σ came from: the portfolio's window, the fallback window, or the prior.
    public var volatilityBasis: [String: String] = [:]
    /// Band half-width per asset, as a weight.
    public var bands: [String: Double]
    /// How each band was set.
    public var bandBasis: [String: String]
    /// Health per allowed venue.
    public var health: [String: VenueHealth]
    /// The portfolio's account at each allowed venue.
    public var accountAt: [String: String]
    /// The stored snapshots behind each symbol's book, per venue.
    public var books: [String: [String: BookIDs]] = [:]
    /// Books not used, by "SYMBOL@venue", and why (older than `max_book_age_s`).
    public var excludedBooks: [String: String] = [:]
    /// Depth snapshots not combined with their ticker, by "SYMBOL@venue", and why (further apart
    /// than `max_depth_skew_s`): the route sees the touch only.
    public var touchOnly: [String: String] = [:]
    /// Every input of each asset's band, for `audit recompute`.
    public var bandInputs: [String: RecomputeInputs.Band] = [:]

    /// Ids of the stored book ticker and depth snapshot a quote came from.
    public struct BookIDs: Sendable, Encodable {
        public var ticker: Int64
        public var depth: Int64?
        public var observedAt: Date
        public var depthObservedAt: Date?
    }

    /// Collects the inputs for `portfolio`, or says which one is missing.
    static func gather(_ portfolio: PortfolioSettings, config: JobConfig, view: MarketView, now: Date) throws
        -> DecisionInputs
    {
        func bad(_ why: String) -> BallastError { .invalidInput("portfolio '\(portfolio.id)': \(why)") }
        var inputs = DecisionInputs(
            snapshots: [:], free: [:], holdings: [:], mids: [:], volatility: [:], bands: [:], bandBasis: [:],
            health: [:], accountAt: [:])
        for account in portfolio.accounts {
            guard let held = view.holdings[account] else {
                throw bad("account '\(account)' has no balance snapshot yet: run `ballast pull` first")
            }
            inputs.snapshots[account] = held.snapshotId
            for balance in held.balances.values {
                inputs.free[account, default: [:]][balance.asset] = balance.free
                inputs.holdings[balance.asset, default: .zero] += balance.total
            }
            if let venue = view.accountVenue[account], inputs.accountAt[venue] == nil {
                inputs.accountAt[venue] = account
            }
        }
        let allowed = Set(portfolio.venues ?? Array(inputs.accountAt.keys))
        inputs.accountAt = inputs.accountAt.filter { allowed.contains($0.key) }
        for venue in inputs.accountAt.keys { inputs.health[venue] = view.health[venue] ?? VenueHealth.unmeasured }
        let venues = inputs.accountAt.keys.sorted()
        for asset in portfolio.targets.keys.sorted() where asset != portfolio.quote {
            let symbol = TradingPair.symbol(base: asset, quote: portfolio.quote)
            let stored = view.books(of: symbol, at: venues)
            let books = inputs.fresh(stored, symbol: symbol, policy: portfolio.router, now: now)
            if books.isEmpty, let newest = stored.map(\.book.observedAt).max() {
                throw bad(
                    "every book of \(symbol) is older than max_book_age_s = \(portfolio.router.maxBookAgeSeconds.formatted()) "
                        + "(the newest is \(now.timeIntervalSince(newest).fixed(1)) s old): run `ballast pull` first")
            }
            guard !books.isEmpty else {
                let listed = venues.contains { view.rules[$0]?[symbol] != nil }
                throw bad(
                    listed
                        ? "no book ticker stored for \(symbol) at an allowed venue: run `ballast pull` first"
                        : "unknown asset '\(asset)': no allowed venue lists \(symbol)")
            }
            for (venue, book) in books {
                inputs.books[symbol, default: [:]][venue] = BookIDs(
                    ticker: book.tickerId, depth: book.depthId, observedAt: book.observedAt,
                    depthObservedAt: book.depthObservedAt)
            }
            inputs.mids[asset] = MarketView.averageMid(books.map(\.book))
            let (sigma, basis, sigmaInputs) = Self.sigma(of: symbol, settings: portfolio.bands, view: view, now: now)
            inputs.volatility[asset] = sigma
            inputs.volatilityBasis[asset] = basis
            let cost = inputs.bandCost(symbol: symbol, view: view)
            (inputs.bands[asset], inputs.bandBasis[asset]) = Self.band(
                cost: cost, sigma: sigma, settings: portfolio.bands)
            inputs.bandInputs[asset] = RecomputeInputs.Band(
                mode: portfolio.bands.mode, fixed: portfolio.bands.fixed.doubleValue, cost: cost, sigma: sigma,
                sigmaInputs: sigmaInputs, multiplier: portfolio.bands.multiplier,
                minimum: portfolio.bands.minimum.doubleValue,
                maximum: portfolio.bands.maximum.doubleValue)
        }
        // Held assets outside the targets are valued (their weight counts) where an allowed venue
        // lists them against the quote; the proposal does not trade them.
        for asset in inputs.holdings.keys.sorted() where asset != portfolio.quote && inputs.mids[asset] == nil {
            let books = view.books(of: TradingPair.symbol(base: asset, quote: portfolio.quote), at: venues)
            if !books.isEmpty { inputs.mids[asset] = MarketView.averageMid(books.map(\.book)) }
        }
        return inputs
    }

    /// σ of `symbol` for a portfolio (annualised), where it came from, and what it was computed from:
    /// `Bands.sigma`'s rule over the portfolio's `window_hours`, the fallback window
    /// (`MarketView.fallbackWindowHours`) and the portfolio's `sigma_prior`.
    static func sigma(of symbol: String, settings: BandSettings, view: MarketView, now: Date)
        -> (sigma: Double, basis: String, inputs: RecomputeInputs.Sigma)
    {
        let window = settings.windowHours
        let fallback = MarketView.fallbackWindowHours
        let (sigma, source) = Bands.sigma(windowHours: window, fallbackHours: fallback, prior: settings.sigmaPrior) {
            view.sigma(symbol, windowHours: $0)
        }
        let longer = max(window, fallback)
        let basis =
            switch source {
            case .window: "σ over \(window.formatted()) h"
            case .fallback: "σ over \(fallback.formatted()) h: fewer than 3 prices in \(window.formatted()) h"
            case .prior:
                "σ prior \(settings.sigmaPrior.formatted())/√yr: fewer than 3 prices in \(longer.formatted()) h"
            }
        let prices =
            view.volatilityPrices[longer]?[symbol]
            ?? RecomputeInputs.Prices([], windowHours: longer, since: now.addingTimeInterval(-longer * 3600))
        let inputs = RecomputeInputs.Sigma(
            symbol: symbol, windowHours: window, fallbackWindowHours: fallback, prior: settings.sigmaPrior,
            source: source.rawValue, until: now.timeIntervalSince1970, prices: prices)
        return (sigma, basis, inputs)
    }

    /// The band of `symbol`'s asset and how it was set: fixed; or k·(c·σ²)^⅓ clamped, with c the
    /// cheapest allowed venue's taker fee + half-spread.
    static func band(cost: Double, sigma: Double, settings: BandSettings) -> (Double, String) {
        if settings.mode == "fixed" { return (settings.fixed.doubleValue, "fixed") }
        let width = Bands.halfWidth(
            cost: cost, volatility: sigma, multiplier: settings.multiplier, minimum: settings.minimum.doubleValue,
            maximum: settings.maximum.doubleValue)
        let basis = String(
            format: "k·(c·σ²)^⅓ with c = %.5f, σ = %.4f/√yr, clamped to [%@, %@]", cost, sigma,
            settings.minimum.description, settings.maximum.description)
        return (width, basis)
    }

    /// c of the band: the cheapest allowed venue's taker fee plus its half-spread, as a fraction.
    func bandCost(symbol: String, view: MarketView) -> Double {
        accountAt.compactMap { venue, account -> Double? in
            guard let book = view.books[venue]?[symbol], let fee = view.fees[account]?.1 else { return nil }
            return fee.doubleValue + book.ticker.spread.doubleValue / 2 / book.ticker.mid.doubleValue
        }.min() ?? MarketView.defaultFee.doubleValue
    }

    /// The books young enough to use (a ticker no older than `max_book_age_s`); notes the others,
    /// and the depth snapshots taken too far from their ticker to be combined with it.
    mutating func fresh(
        _ books: [(venue: String, book: MarketView.Book)], symbol: String, policy: RouterPolicy, now: Date
    ) -> [(venue: String, book: MarketView.Book)] {
        books.filter { venue, book in
            let key = "\(symbol)@\(venue)"
            let age = now.timeIntervalSince(book.observedAt)
            guard age <= policy.maxBookAgeSeconds else {
                excludedBooks[key] =
                    "ticker \(age.fixed(1)) s old > max_book_age_s \(policy.maxBookAgeSeconds.formatted()): not used"
                return false
            }
            if let depthAt = book.depthObservedAt, book.depth != nil {
                let skew = abs(depthAt.timeIntervalSince(book.observedAt))
                if skew > policy.maxDepthSkewSeconds {
                    touchOnly[key] =
                        "depth taken \(skew.fixed(3)) s from its ticker > max_depth_skew_s "
                        + "\(policy.maxDepthSkewSeconds.formatted()): routed on the touch only"
                }
            }
            return true
        }
    }

    /// The venue quotes for `symbol` at every allowed venue that lists it and has a stored book.
    func quotes(for symbol: String, side: Side, view: MarketView) -> [VenueQuote] {
        accountAt.sorted { $0.key < $1.key }.compactMap { venue, account in
            guard let rules = view.rules[venue]?[symbol], let book = view.books[venue]?[symbol],
                excludedBooks["\(symbol)@\(venue)"] == nil
            else { return nil }
            let depth = touchOnly["\(symbol)@\(venue)"] == nil ? book.depth : nil
            let fees = view.fees[account] ?? (MarketView.defaultFee, MarketView.defaultFee)
            let asset = side == .sell ? rules.pair.base : rules.pair.quote
            var quote = VenueQuote(
                venue: venue, account: account, rules: rules, ticker: book.ticker, depth: depth,
                makerFee: fees.0, takerFee: fees.1, available: free[account]?[asset] ?? .zero,
                health: health[venue] ?? .unmeasured, tickerId: book.tickerId, depthId: book.depthId)
            quote.measuredPassive = view.measuredPassive[venue]?[symbol]
            return quote
        }
    }
}

extension VenueHealth {
    /// A venue with no attempts recorded yet: no penalty, no latency measured.
    static let unmeasured = VenueHealth(p95AckSeconds: 0, errorRate: 0, timeoutRate: 0, weightUsed: 0)
}
