import BallastCore
public import BallastKit
import Foundation
public import Simulator

/// A fund-sized job on simulated venues: `portfolios` portfolios, each holding one account of its
/// own at one of `venues` venues (round robin). Every `offTargetEvery`-th portfolio starts 15
/// points overweight in BTC (its band, fixed at 5 %, is breached); the others start on target.
/// Used by the workers' tests and `ballast bench workers`.
public final class SimulatedFleet: Sendable {
    public let simulator: Simulator
    public let jobTOML: String
    public let config: JobConfig
    /// The accounts' credential variables (demo credentials only).
    public let environment: [String: String]
    /// The API key of each portfolio's account, by portfolio id.
    public let keys: [String: String]
    /// Portfolios whose band is breached at the start.
    public let offTarget: Set<String>

    public init(
        portfolios count: Int, venues venueCount: Int = 3, seed: UInt64 = 1, offTargetEvery: Int = 4,
        limits: LimitConfig = LimitConfig(requestWeightPerMinute: 60_000, ordersPer10s: 1000),
        latency: LatencyProfile? = nil
    ) throws {
        var settings = SimulatorConfig.demo(venues: venueCount, seed: seed)
        var keys: [String: String] = [:]
        var environment: [String: String] = [:]
        let ids = (1...max(count, 1)).map { String(format: "p%05d", $0) }
        for (index, id) in ids.enumerated() {
            let venue = index % venueCount
            let key = "fleet-key-\(id)"
            keys[id] = key
            settings.venues[venue].accounts.append(
                AccountConfig(
                    apiKey: key, secret: "fleet-secret-\(id)-0123456789abcdef",
                    balances: ["BTC": ExactDecimal("0.5")!, "ETH": ExactDecimal("5")!, "USDT": ExactDecimal("40000")!]))
            environment["FLEET_KEY_\(id.uppercased())"] = key
            environment["FLEET_SECRET_\(id.uppercased())"] = "fleet-secret-\(id)-0123456789abcdef"
        }
        for i in settings.venues.indices {
            settings.venues[i].limits = limits
            if let latency { settings.venues[i].latency = latency }
        }
        do {
            simulator = try Simulator(config: settings)
        } catch {
            throw BallastError.venue("cannot start the simulated venues: \(error.description)")
        }
        // Targets from the first venue's mids: the accounts' own weights, rounded to the percent.
        let mids = simulator.venues[0].mids()
        guard let btc = mids["BTCUSDT"], let eth = mids["ETHUSDT"] else {
            simulator.stop()
            throw BallastError.venue("the simulated venues have no BTCUSDT or ETHUSDT")
        }
        let values = [ExactDecimal("0.5")! * btc, ExactDecimal(5) * eth, ExactDecimal(40000)]
        let total = values.reduce(ExactDecimal.zero, +)
        let weights = values.map { Int(($0.divided(by: total, scale: 6)!.doubleValue * 100).rounded()) }
        var toml = "# Generated: a fleet of \(ids.count) portfolios on simulated venues (demo credentials).\n"
        for venue in simulator.venues {
            toml += """

                [[venues]]
                id = "\(venue.name)"
                base_url = "\(venue.baseURL)"
                rate_limit_margin = 0.1

                """
        }
        var offTarget: Set<String> = []
        for (index, id) in ids.enumerated() {
            let venue = simulator.venues[index % venueCount].name
            var btcWeight = weights[0]
            var usdtWeight = 100 - weights[0] - weights[1]
            if offTargetEvery > 0, index % offTargetEvery == 0 {
                // The account holds 15 points too little BTC for these targets.
                btcWeight += 15
                usdtWeight -= 15
                offTarget.insert(id)
            }
            toml += """

                [[accounts]]
                id = "\(id)-acct"
                venue = "\(venue)"
                api_key_env = "FLEET_KEY_\(id.uppercased())"
                api_secret_env = "FLEET_SECRET_\(id.uppercased())"

                [[portfolios]]
                id = "\(id)"
                quote = "USDT"
                accounts = ["\(id)-acct"]
                approval_cap = "1000000"
                targets = { BTC = "0.\(String(format: "%02d", btcWeight))", ETH = "0.\(String(format: "%02d", weights[1]))", USDT = "0.\(String(format: "%02d", usdtWeight))" }
                bands = { mode = "fixed", fixed = "0.05" }

                """
        }
        jobTOML = toml
        self.environment = environment
        self.keys = keys
        self.offTarget = offTarget
        do {
            config = try TOMLFile.decode(JobConfig.self, text: toml, source: "simulated fleet")
        } catch {
            simulator.stop()
            throw error
        }
    }

    /// Orders the venues hold whose client order id was sent more than once (duplicates), and all orders.
    public func orderCounts() -> (orders: Int, duplicates: Int) {
        var orders = 0
        var duplicates = 0
        for venue in simulator.venues {
            for account in venue.config.accounts {
                let views = venue.orders(apiKey: account.apiKey)
                orders += views.count
                duplicates += views.count - Set(views.map(\.clientOrderId)).count
            }
        }
        return (orders, duplicates)
    }

    public func stop() { simulator.stop() }
}
