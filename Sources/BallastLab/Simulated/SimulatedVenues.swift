import BallastCore
public import BallastKit
import Foundation
public import Simulator
public import Venues

/// Ballast's embedded default: simulated venues on loopback and a job
/// configuration pointing at them, so the whole job runs with no accounts or keys.
public final class SimulatedVenues: Sendable {
    public let simulator: Simulator
    /// The job configuration (TOML) for these venues.
    public let jobTOML: String
    public let config: JobConfig
    /// Where the job's credential variables are set (demo credentials only).
    public let environment: [String: String]

    /// The dialects of the embedded default's venues, in order: a job there routes across dialects.
    public static let demoDialects: [SimDialect] = [.krakenSpot, .coinbaseAdvanced, .binanceSpot]

    /// The demo's Kraken Spot account is on Kraken's Pro tier (a call counter of 20 draining 1 a
    /// second), as a trading desk's would be; the starter tier drains 0.33 a second.
    public static let krakenDemoTier = KrakenSpotClient.proCounter

    /// The most history a demo Kraken Spot account starts with. Kraken pages trade history 50 at a
    /// time at 2 points of its call counter: 500 fills fit in the Pro tier's first 20 points, where
    /// 20,000 would take Ballast (or any client) about 13 minutes to read (40 on the starter tier).
    public static let krakenDemoHistory = 500

    /// Starts `count` demo venues (venue i speaking `dialects[i]`, Binance Spot past the list's
    /// end; with `bestRotates`, the cheapest venue differs by symbol, so a rebalance routes to
    /// each, else venue i is the i-th cheapest on every symbol); each account gets `history`
    /// historical BTCUSDT trades (a Kraken Spot venue's account `krakenHistory`, when given).
    /// `venueSettings` are lines added to each `[[venues]]` table of the job (`timeout_ms = 600`);
    /// `depthDivisor` divides every level's quantity (thin books, so an order walks several levels).
    public init(
        venues count: Int = 3, seed: UInt64 = 1, history: Int = 0, limits: LimitConfig? = nil,
        latency: LatencyProfile? = nil, venueSettings: String = "", depthDivisor: Int = 1, dialects: [SimDialect] = [],
        krakenTier: RateLimits.CallCounter? = nil, bestRotates: Bool = true, krakenHistory: Int? = nil
    ) throws {
        var settings = SimulatorConfig.demo(venues: count, seed: seed, dialects: dialects, bestRotates: bestRotates)
        for i in settings.venues.indices {
            if let krakenTier {
                settings.venues[i].limits.callCounterMax = Double(krakenTier.max)
                settings.venues[i].limits.callCounterDecayPerSecond = krakenTier.decayPerSecond
            }
            if let limits { settings.venues[i].limits = limits }
            if let latency { settings.venues[i].latency = latency }
            for j in settings.venues[i].symbols.indices where depthDivisor > 1 {
                settings.venues[i].symbols[j].levelQty =
                    settings.venues[i].symbols[j].levelQty.divided(by: ExactDecimal(depthDivisor), scale: 12)!
            }
        }
        do {
            simulator = try Simulator(config: settings)
        } catch {
            throw BallastError.venue("cannot start the simulated venues: \(error.description)")
        }
        var toml = "# Generated for the simulated venues of this run (demo credentials, loopback only).\n"
        var environment: [String: String] = [:]
        var accounts: [String] = []
        for venue in simulator.venues {
            let variable = venue.name.uppercased().replacingOccurrences(of: "-", with: "_")
            let account = venue.config.accounts[0]
            environment["\(variable)_KEY"] = account.apiKey
            environment["\(variable)_SECRET"] = account.secret
            accounts.append("\(venue.name)-main")
            let trades = venue.config.dialect == .krakenSpot ? krakenHistory ?? history : history
            if trades > 0 {
                do {
                    try venue.seedTrades(apiKey: account.apiKey, symbol: "BTCUSDT", count: trades)
                } catch {
                    simulator.stop()
                    throw BallastError.venue(error.description)
                }
            }
            toml += """

                [[venues]]
                id = "\(venue.name)"
                dialect = "\(venue.config.dialect.rawValue)"
                base_url = "\(venue.baseURL)"
                symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "ETHBTC"]
                rate_limit_margin = 0.1
                \(venue.config.dialect == .krakenSpot ? krakenTier.map { "call_counter_max = \($0.max)\ncall_counter_decay_per_s = \($0.decayPerSecond)" } ?? "" : "")
                \(venueSettings)

                [[accounts]]
                id = "\(venue.name)-main"
                venue = "\(venue.name)"
                api_key_env = "\(variable)_KEY"
                api_secret_env = "\(variable)_SECRET"

                """
        }
        toml += """

            [[portfolios]]
            id = "demo"
            quote = "USDT"
            accounts = [\(accounts.map { "\"\($0)\"" }.joined(separator: ", "))]
            approval_cap = "500000"     # simulated money: the demo approves its own batches
            targets = { BTC = "0.40", ETH = "0.30", SOL = "0.10", USDT = "0.20" }

            """
        jobTOML = toml
        self.environment = environment
        do {
            config = try TOMLFile.decode(JobConfig.self, text: toml, source: "simulated job")
        } catch {
            simulator.stop()
            throw error
        }
    }

    /// Stops every venue.
    public func stop() { simulator.stop() }
}
