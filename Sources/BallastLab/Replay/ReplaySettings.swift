public import BallastCore
public import Foundation
public import Simulator

/// What one replay compares, on which path, and the rules every policy meets alike.
///
/// The experiment (README "Replay"): each policy gets its own copy of the same simulated
/// venues — same seed, so the same exogenous price path and the same other traders' flow
/// draws — and starts with the same portfolio. The same cash flows arrive at the same
/// times; the same fault rate hits order requests; the same fees, latency and limits apply.
/// Nothing in the simulator knows which policy it serves.
public struct ReplaySettings: Sendable {
    /// Where prices come from.
    public enum Path: Sendable, Equatable {
        /// A built-in seeded scenario.
        case scenario(Scenario)
        /// OHLCV CSV files, one per asset (asset → file).
        case ohlcv([String: String])
    }

    public var path: Path
    public var seed: UInt64 = 1
    public var policies: [ReplayPolicyKind] = ReplayPolicyKind.allCases
    /// Simulated venues (the ballast policies may use all; naive-cron uses the first).
    public var venues = 3
    /// Length of a scenario path (an OHLCV path runs from its first bar to its last).
    public var scenarioSeconds: TimeInterval = 7200
    /// How often every policy looks at its portfolio (naive-cron's cron interval).
    public var checkEvery: TimeInterval = 300
    /// The markets' step: other traders' flow, resting fills and the path move once per step.
    public var stepSeconds: Double = 1
    /// The portfolio's starting value in the quote currency.
    public var portfolioValue: ExactDecimal = ExactDecimal(1_000_000)
    /// Cash flows: at each fraction of the path, this share of the starting value is deposited
    /// (positive) or withdrawn (negative) in the quote currency.
    public var cashFlows: [(at: Double, share: Double)] = [(0.2, 0.25), (0.4, -0.2), (0.6, 0.25), (0.8, -0.2)]
    /// Share of order requests the venue answers "execution status unknown" (HTTP 503, −1007)
    /// after placing the order.
    public var orderFaultRate = 0.01
    /// Where virtual time starts (a scenario; an OHLCV path starts at its first bar).
    public var start = Date(timeIntervalSince1970: 1_767_225_600)

    /// The quote currency and the target weights of the replayed portfolio.
    public static let quote = "USDT"

    public init(path: Path) { self.path = path }

    /// Assets and target weights: BTC 40 %, ETH 30 %, SOL 10 %, USDT 20 % on a scenario; on OHLCV
    /// files, 80 % split evenly over the files' assets and 20 % USDT.
    public var targets: [String: ExactDecimal] {
        switch path {
        case .scenario:
            return [
                "BTC": ExactDecimal("0.4")!, "ETH": ExactDecimal("0.3")!, "SOL": ExactDecimal("0.1")!,
                "USDT": ExactDecimal("0.2")!,
            ]
        case .ohlcv(let files):
            let each = ExactDecimal("0.8")!.divided(by: ExactDecimal(files.count), scale: 6, .down)!
            var targets = Dictionary(uniqueKeysWithValues: files.keys.map { ($0, each) })
            targets[Self.quote] = .one - each * ExactDecimal(files.count)
            return targets
        }
    }

    /// The traded assets, sorted.
    public var assets: [String] { targets.keys.filter { $0 != Self.quote }.sorted() }

    /// The simulated venues' configuration: the demo venues (their latency profiles, spreads and
    /// depths differ), only the replayed assets' symbols, each on this path, with an account
    /// per venue that starts empty (the replay funds it) and the order fault rate.
    func simulatorConfig() throws(ReplayError) -> SimulatorConfig {
        var config = SimulatorConfig.demo(venues: venues, seed: seed)
        for i in config.venues.indices {
            config.venues[i].stepSeconds = stepSeconds
            var symbols: [SymbolConfig] = []
            for asset in assets {
                guard var symbol = config.venues[i].symbols.first(where: { $0.base == asset && $0.quote == Self.quote })
                else {
                    let known = SymbolConfig.demo.filter { $0.quote == Self.quote }.map(\.base).joined(separator: ", ")
                    throw .invalid("replay knows the assets \(known); '\(asset)' is not one of them")
                }
                switch path {
                case .scenario(let scenario):
                    symbol.scenario = scenario
                    symbol.scenarioSeconds = scenarioSeconds
                case .ohlcv(let files):
                    symbol.ohlcvPath = files[asset]
                }
                symbols.append(symbol)
            }
            config.venues[i].symbols = symbols
            let name = config.venues[i].name
            config.venues[i].accounts = [
                AccountConfig(
                    apiKey: "replay-key-\(name)", secret: "replay-secret-\(name)-0123456789abcdef", balances: [:])
            ]
            if orderFaultRate > 0 {
                config.venues[i].faults = [
                    FaultRule(
                        kind: .unknownStatus, method: "POST", path: "/api/v3/order", count: nil,
                        probability: orderFaultRate, placed: true)
                ]
            }
        }
        return config
    }

    /// The path's span: a scenario's length, or the OHLCV files' first to last bar (the
    /// shortest file decides the end), with the start moved to the first bar.
    func span() throws(ReplayError) -> (start: Date, seconds: TimeInterval) {
        switch path {
        case .scenario: return (start, scenarioSeconds)
        case .ohlcv(let files):
            var first: Date?
            var last: Date?
            for (_, file) in files.sorted(by: { $0.key < $1.key }) {
                let series: OHLCVSeries
                do { series = try OHLCVSeries.load(file) } catch { throw .invalid(error.description) }
                guard let head = series.bars.first, let tail = series.bars.last else {
                    throw .invalid("\(file): no bars")
                }
                first = min(first ?? head.time, head.time)
                let end = tail.time.addingTimeInterval(series.interval)
                last = min(last ?? end, end)
            }
            guard let first, let last, last > first else { throw .invalid("the OHLCV files do not overlap in time") }
            return (first, last.timeIntervalSince(first))
        }
    }

    /// The checks' times from `start` through `start + seconds`.
    static func checkTimes(start: Date, seconds: TimeInterval, every: TimeInterval) -> [Date] {
        let count = Int((seconds / every).rounded(.down))
        return (0...count).map { start.addingTimeInterval(Double($0) * every) }
    }
}

/// The policies a replay can compare.
public enum ReplayPolicyKind: String, CaseIterable, Sendable, Codable {
    /// Every check: a fixed 5 % threshold, MARKET orders on one venue, immediate retry on any error.
    case naiveCron = "naive-cron"
    /// Ballast's decision and execution with fixed 5 % bands.
    case fixedBand = "fixed-band"
    /// Ballast: volatility bands, latency-weighted routing, passive limits and chasing, idempotent keys.
    case ballast
}

/// What stops a replay.
public enum ReplayError: Error, CustomStringConvertible, Sendable {
    /// The settings or an input file are wrong.
    case invalid(String)
    /// A policy or the venues failed.
    case failed(String)

    public var description: String {
        switch self {
        case .invalid(let why): "replay: \(why)"
        case .failed(let why): "replay failed: \(why)"
        }
    }
}
