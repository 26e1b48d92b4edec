import BallastCore
import BallastKit
import Foundation
import Postgres

/// The portfolios `ballast bench propose` decides for: N portfolios, each with
/// one account per venue (`p<i>-v<j>`) holding the five assets and USDT off
/// target by a varied amount, so calm portfolios sit inside their bands and
/// stressed ones breach them. Band and router settings vary too (volatility
/// or fixed bands, sized to target or band edge, urgency low, normal or high).
///
/// Written with COPY (accounts, portfolios with their targets and accounts,
/// one balance snapshot per account) and described by the `JobConfig` that
/// names them. Deterministic for a given seed.
struct SyntheticPortfolios {
    /// A generated portfolio: its settings and its balances at each venue.
    struct Portfolio {
        var settings: PortfolioSettings
        /// Balances per venue, in `SyntheticMarket.venues` order.
        var balances: [[Balance]]
    }

    /// Target weights in bps (summing to 10 000), by asset; USDT is the quote.
    static let targetTemplates: [[String: Int128]] = [
        ["BTC": 4000, "ETH": 2500, "SOL": 1000, "BNB": 1000, "XRP": 500, "USDT": 1000],
        ["BTC": 3000, "ETH": 3000, "SOL": 1500, "BNB": 500, "XRP": 1000, "USDT": 1000],
        ["BTC": 5000, "ETH": 2000, "SOL": 500, "BNB": 500, "XRP": 500, "USDT": 1500],
    ]
    /// How far holdings stray from target: σ of each asset's value factor, per mille.
    static let amplitudes: [Int] = [40, 120, 250, 400]

    let connection: Connection

    /// Generates `count` portfolios, writes them and their accounts and balances, and returns the job configuration.
    func generate(count: Int, now: Date, rng: inout SplitMixRandom) throws -> (config: JobConfig, balances: Int) {
        let portfolios = (1...count).map { Self.portfolio($0, rng: &rng) }
        let venues = SyntheticMarket.venues
        try connection.copyIn("COPY accounts (id, venue_id, key_fingerprint, maker_fee, taker_fee) FROM STDIN") { w in
            for portfolio in portfolios {
                for (account, venue) in zip(portfolio.settings.accounts, venues) {
                    try w.field(account)
                    try w.field(venue.id)
                    try w.field("bench-" + venue.id)
                    try w.field(venue.makerFee)
                    try w.field(venue.takerFee)
                    try w.endRow()
                }
            }
        }
        try writePortfolios(portfolios)
        let balances = try writeBalances(portfolios, now: now)
        for table in ["accounts", "portfolios", "balance_snapshots", "balances"] {
            try connection.execute("ANALYZE \(identifier: table)")
        }
        let config = try JobConfig(
            venues: venues.map { VenueSettings(id: $0.id, baseURL: "http://127.0.0.1:9/" + $0.id) },
            accounts: portfolios.flatMap { portfolio in
                zip(portfolio.settings.accounts, venues).map { account, venue in
                    AccountSettings(
                        id: account, venue: venue.id, apiKeyEnv: "BENCH_KEY_" + venue.id,
                        apiSecretEnv: "BENCH_SECRET_" + venue.id)
                }
            },
            portfolios: portfolios.map(\.settings))
        for portfolio in config.portfolios { try portfolio.validate() }
        return (config, balances)
    }

    /// Portfolio `i`: a target template, a size, settings and off-target balances spread over the venues.
    static func portfolio(_ i: Int, rng: inout SplitMixRandom) -> Portfolio {
        let targets = targetTemplates[Int(rng.next() % UInt64(targetTemplates.count))]
        var bands = BandSettings()
        switch rng.next() % 4 {
        case 0, 1: break
        case 2:
            bands.multiplier = 0.5
            bands.maximum = ExactDecimal(significand: 5, scale: 2)
        default:
            bands.mode = "fixed"
            bands.fixed = ExactDecimal(significand: 3, scale: 2)
        }
        if rng.next() % 5 == 0 { bands.sizeTo = "band-edge" }
        var router = RouterPolicy()
        let urgency = rng.next() % 10
        router.urgency = urgency < 2 ? .low : (urgency < 9 ? .normal : .high)
        let settings = PortfolioSettings(
            id: "p\(i)", quote: SyntheticMarket.quote,
            accounts: SyntheticMarket.venues.indices.map { "p\(i)-v\($0 + 1)" },
            targets: targets.mapValues { ExactDecimal(significand: $0, scale: 4) }, approvalCap: .zero, bands: bands,
            router: router)
        // Total value from 2 000 to 300 000 USDT (log-uniform), in cents.
        let size = Int128(2_000 * pow(150, Double(rng.next() >> 11) / 9_007_199_254_740_992)) * 100
        let amplitude = amplitudes[Int(rng.next() % UInt64(amplitudes.count))]
        var balances = [[Balance]](repeating: [], count: SyntheticMarket.venues.count)
        for asset in targets.keys.sorted() {
            let factor = max(0, 1000 + Int((rng.nextGaussian() * Double(amplitude)).rounded()))
            let value = ExactDecimal(significand: size * targets[asset]! * Int128(factor) / 10_000_000, scale: 2)
            let mid = SyntheticMarket.listings.first { $0.base == asset }?.mid ?? .one
            let quantity = value.divided(by: mid, scale: 8, .down)!
            for (venue, part) in split(quantity, rng: &rng).enumerated() where part.isPositive {
                let locked =
                    rng.next() % 10 == 0
                    ? (part * ExactDecimal(significand: 5, scale: 2)).rounded(scale: 8, .down) : .zero
                balances[venue].append(Balance(asset: asset, free: part - locked, locked: locked))
            }
        }
        return Portfolio(settings: settings, balances: balances)
    }

    /// `quantity` shared out over the venues at random (a venue may hold none); the parts add up to it exactly.
    static func split(_ quantity: ExactDecimal, rng: inout SplitMixRandom) -> [ExactDecimal] {
        var shares = SyntheticMarket.venues.map { _ in rng.next() % 7 == 0 ? 0 : Int(1 + rng.next() % 1000) }
        if shares.allSatisfy({ $0 == 0 }) { shares[0] = 1 }
        let total = ExactDecimal(shares.reduce(0, +))
        let last = shares.lastIndex { $0 > 0 }!
        var left = quantity
        return shares.enumerated().map { venue, share in
            guard share > 0 else { return .zero }
            let part =
                venue == last ? left : (quantity * ExactDecimal(share)).divided(by: total, scale: 8, .down)!
            left -= part
            return part
        }
    }

    private func writePortfolios(_ portfolios: [Portfolio]) throws {
        try connection.copyIn("COPY portfolios (id, quote_asset) FROM STDIN") { w in
            for portfolio in portfolios {
                try w.field(portfolio.settings.id)
                try w.field(portfolio.settings.quote)
                try w.endRow()
            }
        }
        try connection.copyIn("COPY portfolio_targets (portfolio_id, asset, weight) FROM STDIN") { w in
            for portfolio in portfolios {
                for (asset, weight) in portfolio.settings.targets.sorted(by: { $0.key < $1.key }) {
                    try w.field(portfolio.settings.id)
                    try w.field(asset)
                    try w.field(weight)
                    try w.endRow()
                }
            }
        }
        try connection.copyIn("COPY portfolio_accounts (portfolio_id, account_id) FROM STDIN") { w in
            for portfolio in portfolios {
                for account in portfolio.settings.accounts {
                    try w.field(portfolio.settings.id)
                    try w.field(account)
                    try w.endRow()
                }
            }
        }
    }

    /// One snapshot per account (ids assigned here, the sequence moved past them), then its balances.
    private func writeBalances(_ portfolios: [Portfolio], now: Date) throws -> Int {
        try connection.copyIn("COPY balance_snapshots (id, account_id, taken_at, venue_time) FROM STDIN") { w in
            var id = 0
            for portfolio in portfolios {
                for account in portfolio.settings.accounts {
                    id += 1
                    let taken = now.addingTimeInterval(-20 - Double(id % 40))
                    try w.field(id)
                    try w.field(account)
                    try w.field(taken)
                    try w.field(taken.addingTimeInterval(-0.1))
                    try w.endRow()
                }
            }
        }
        try connection.execute(
            "SELECT setval('balance_snapshots_id_seq', \(portfolios.count * SyntheticMarket.venues.count))")
        return try connection.copyIn("COPY balances (snapshot_id, asset, free, locked) FROM STDIN") { w in
            var id = 0
            for portfolio in portfolios {
                for balances in portfolio.balances {
                    id += 1
                    for balance in balances {
                        try w.field(id)
                        try w.field(balance.asset)
                        try w.field(balance.free)
                        try w.field(balance.locked)
                        try w.endRow()
                    }
                }
            }
        }
    }
}
