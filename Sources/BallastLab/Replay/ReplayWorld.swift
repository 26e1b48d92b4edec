import BallastCore
import CurlHTTP
import Foundation
import Simulator
import Venues

/// One policy's copy of the market: its virtual clock, its simulated venues (started from the
/// same configuration and seed as every other policy's), and a venue client per venue speaking
/// the Binance dialect over real HTTP on loopback.
///
/// The replay itself (not the policy) reads the venues' true state here — mids, balances,
/// orders and trades — to fund the accounts, move cash and measure.
final class ReplayWorld {
    let clock: VirtualTime
    let simulator: Simulator
    // Requests are strictly sequential and the venues answer at once: no hand-off to a queue per request.
    let curl = CurlClient(connectTimeout: .seconds(5), timeout: .seconds(30), performsInline: true)
    /// The venues this policy trades on, in order, with their account's key.
    let venues: [(name: String, apiKey: String)]
    let sink = DiscardingEventSink()

    init(settings: ReplaySettings, config: SimulatorConfig, start: Date, venueCount: Int) throws(ReplayError) {
        clock = VirtualTime(start)
        do {
            simulator = try Simulator(config: config, clock: clock, latencyMovesClock: true)
        } catch {
            throw .invalid(error.description)
        }
        venues = simulator.venues.prefix(venueCount).map { ($0.name, $0.config.accounts[0].apiKey) }
    }

    /// A venue client for `venue`'s account. `limits` are what the client's governor holds it to.
    func client(_ venue: String, limits: RateLimits) -> BinanceSpotClient {
        let simulated = simulator.venue(venue)!
        let account = simulated.config.accounts[0]
        let credentials = Credentials(apiKey: account.apiKey, secret: account.secret)
        let governor = RateGovernor(
            venue: venue, keyFingerprint: credentials.fingerprint, limits: limits, store: LocalRateBudgetStore(),
            events: sink, clock: clock)
        return BinanceSpotClient(
            venue: venue, account: "\(venue)-replay", baseURL: simulated.baseURL, credentials: credentials,
            transport: curl, governor: governor, events: sink, clock: clock)
    }

    /// The mean over this policy's venues of each symbol's mid, as the venues show it now.
    func mids() -> [String: ExactDecimal] {
        var sums: [String: ExactDecimal] = [:]
        for venue in venues {
            for (symbol, mid) in simulator.venue(venue.name)!.mids() { sums[symbol, default: .zero] += mid }
        }
        return sums.mapValues { $0.divided(by: ExactDecimal(venues.count), scale: 12)! }
    }

    /// Σ (free + locked) per asset over this policy's accounts.
    func holdings() -> [String: ExactDecimal] {
        var total: [String: ExactDecimal] = [:]
        for venue in venues {
            for (asset, balance) in simulator.venue(venue.name)!.balances(apiKey: venue.apiKey) {
                total[asset, default: .zero] += balance.total
            }
        }
        return total
    }

    /// Credits `amount` of `asset` spread evenly over the accounts (a deposit), or takes it (a
    /// withdrawal, negative) from the accounts' free balances in proportion to them. Returns
    /// what moved (a withdrawal takes no more than is free).
    @discardableResult
    func move(_ asset: String, _ amount: ExactDecimal) -> ExactDecimal {
        let count = ExactDecimal(venues.count)
        if !amount.isNegative {
            let each = amount.divided(by: count, scale: 8, .down)!
            for venue in venues {
                simulator.venue(venue.name)!.deposit(apiKey: venue.apiKey, asset: asset, amount: each)
            }
            return each * count
        }
        let free = venues.map { simulator.venue($0.name)!.balances(apiKey: $0.apiKey)[asset]?.free ?? .zero }
        let total = free.reduce(ExactDecimal.zero, +)
        guard total.isPositive else { return .zero }
        let wanted = min(-amount, total)
        var moved = ExactDecimal.zero
        for (venue, held) in zip(venues, free) where held.isPositive {
            let share = min(held, (wanted * held).divided(by: total, scale: 8, .down)!)
            simulator.venue(venue.name)!.deposit(apiKey: venue.apiKey, asset: asset, amount: -share)
            moved += share
        }
        return -moved
    }

    /// Every order and trade at this policy's venues.
    func record() -> [(venue: String, orders: [OrderView], trades: [TradeView])] {
        venues.map { venue in
            let simulated = simulator.venue(venue.name)!
            return (venue.name, simulated.orders(apiKey: venue.apiKey), simulated.trades(apiKey: venue.apiKey))
        }
    }

    /// Rate-limit refusals and bans the venues counted.
    func limitsHit() -> (rateLimited: Int, banned: Int) {
        venues.reduce((0, 0)) { sum, venue in
            let stats = simulator.venue(venue.name)!.statistics
            return (sum.0 + stats.rateLimited, sum.1 + stats.banned)
        }
    }

    func close() {
        curl.close()
        simulator.stop()
    }
}

/// Keeps no HTTP attempts: a month's replay makes hundreds of thousands of requests.
final class DiscardingEventSink: VenueEventSink, @unchecked Sendable {
    // Safe to share: stateless.
    func begin(_ attempt: HTTPAttempt) async throws -> Int64? { nil }
    func complete(_ attempt: HTTPAttempt, id: Int64?) async -> Int64? { nil }
    func record(_ event: ThrottleEvent) async {}
}
