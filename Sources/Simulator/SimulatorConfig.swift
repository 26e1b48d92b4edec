// Simulated venues on loopback, each speaking one REST dialect (Binance Spot,
// Kraken Spot, Coinbase Advanced) over one matching engine: a price process, a
// synthetic book, matching of our orders, balances, fees, latency, rate limits
// and scriptable faults. The engine (`Engine/`) speaks no dialect; each front
// (`Binance/`, `Kraken/`, `Coinbase/`) words requests and refusals its own way.
//
// Invariants:
// - Deterministic for a seed, a clock and a sequence of requests: every random
//   draw comes from seeded generators (market and network draw separately).
// - Time comes from the injected `TimeSource`, never from `Date()`.
// - A fault never leaves the venue inconsistent: an order accepted under a
//   fault is really there, visible to order queries, open orders and trades.
// - Amounts are exact decimals; only the price process uses `Double`.
public import BallastCore
import Foundation

/// Everything the simulator runs: venues and a seed.
public struct SimulatorConfig: Codable, Sendable {
    /// The run's seed; also the price paths' seed of venues that set no `path_seed`, so
    /// every venue listing a symbol follows the same path.
    public var seed: UInt64 { didSet { sharePathSeed() } }
    public var venues: [VenueConfig] { didSet { sharePathSeed() } }

    public init(seed: UInt64 = 1, venues: [VenueConfig]) {
        self.seed = seed
        self.venues = venues
        sharePathSeed()
    }

    /// Hands the run's seed to every venue as its default path seed.
    private mutating func sharePathSeed() {
        for i in venues.indices where venues[i].sharedPathSeed != seed { venues[i].sharedPathSeed = seed }
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case seed, venues }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try StrictKeys.check(decoder, known: CodingKeys.self, section: "the simulator file")
        seed = UInt64(try c.decodeIfPresent(Int.self, forKey: .seed) ?? 1)
        venues = try c.decode([VenueConfig].self, forKey: .venues)
        sharePathSeed()
    }

    /// `count` venues (sim-a, sim-b, …) with different latency profiles, the
    /// symbols BTCUSDT, ETHUSDT, SOLUSDT, BNBUSDT and ETHBTC, and one funded demo account each.
    /// `count` demo venues; venue i speaks `dialects[i]` (Binance Spot where the list is short).
    /// Venue i is the i-th cheapest on every symbol (tighter spread, deeper book first); with
    /// `bestRotates`, the cheapest venue rotates by symbol instead (venue (i + j) mod count is the
    /// i-th cheapest on symbol j), so a rebalance of several assets routes to every venue.
    public static func demo(
        venues count: Int = 3, seed: UInt64 = 1, dialects: [SimDialect] = [], bestRotates: Bool = false
    ) -> SimulatorConfig {
        let profiles: [LatencyProfile] = [
            .init(baseMs: 2, jitterMs: 1, spikeProbability: 0.01, spikeMs: 40),
            .init(baseMs: 8, jitterMs: 4, spikeProbability: 0.03, spikeMs: 120),
            .init(baseMs: 20, jitterMs: 10, spikeProbability: 0.05, spikeMs: 300),
        ]
        let venues = (0..<max(1, count)).map { i -> VenueConfig in
            let letter = String(UnicodeScalar(UInt8(ascii: "a") + UInt8(i % 26)))
            var venue = VenueConfig(name: "sim-\(letter)", dialect: i < dialects.count ? dialects[i] : .binanceSpot)
            venue.latency = profiles[i % profiles.count]
            // Venues differ slightly in spread and depth, so routes differ in cost. Rotating, each
            // rank is 4 bps wider: more than a tick of every demo symbol at its price (ETHBTC's is
            // about 2 bps), so the order of venues survives the book's rounding to ticks.
            for j in venue.symbols.indices {
                let rank = bestRotates ? (i + j) % max(1, count) : i
                venue.symbols[j].spreadBps += Double(rank) * (bestRotates ? 4 : 1.5)
                venue.symbols[j].levelQty = venue.symbols[j].levelQty * ExactDecimal(max(1, 3 - rank))
            }
            venue.accounts = [AccountConfig.demo(venue: venue.name)]
            if venue.dialect == .krakenSpot {
                // Kraken secrets are base64.
                venue.accounts[0].secret = Data(venue.accounts[0].secret.utf8).base64EncodedString()
            }
            if venue.dialect == .coinbaseAdvanced {
                // A CDP key name and a P-256 private key, both derived from the venue's name.
                venue.accounts = [AccountConfig.coinbaseDemo(venue: venue.name)]
            }
            return venue
        }
        return SimulatorConfig(seed: seed, venues: venues)
    }

    /// Checks every venue; the error names the venue and the field.
    public func validate() throws(SimulatorError) {
        guard !venues.isEmpty else { throw .invalidConfig("no venues configured") }
        var names: Set<String> = []
        for venue in venues {
            guard names.insert(venue.name).inserted else {
                throw .invalidConfig("venue '\(venue.name)' is configured twice")
            }
            try venue.validate()
        }
    }
}

/// The REST dialects a simulated venue can speak.
public enum SimDialect: String, Codable, Sendable, CaseIterable {
    case binanceSpot = "binance-spot"
    case krakenSpot = "kraken-spot"
    case coinbaseAdvanced = "coinbase-advanced"

    /// Whether the venue takes its fees in the pair's quote asset by default (Kraken's and
    /// Coinbase's way) rather than in the asset received (Binance's).
    var feesInQuoteByDefault: Bool { self != .binanceSpot }
}

/// One simulated venue.
public struct VenueConfig: Codable, Sendable {
    public var name: String
    /// The REST dialect the venue speaks; the matching engine and market model are the same for all.
    public var dialect: SimDialect
    /// Whether fees are taken in the pair's quote asset (Kraken's way) rather than the asset received.
    public var feesInQuote: Bool
    /// The port on 127.0.0.1 (0: a free one).
    public var port: UInt16
    public var symbols: [SymbolConfig]
    public var accounts: [AccountConfig]
    public var latency: LatencyProfile
    public var limits: LimitConfig
    public var faults: [FaultRule]
    /// The venue's clock runs this far ahead of ours (negative: behind).
    public var clockSkewMs: Int
    /// Seconds of market time per price step.
    public var stepSeconds: Double
    /// How long a ban lasts after a client ignores 429s (HTTP 418).
    public var banSeconds: Int
    /// Half-life of the short-horizon volatility estimate σ_s, in seconds.
    public var volHalfLifeSeconds: Double
    /// Half-life at which depth taken from the book comes back, in seconds.
    public var resilienceHalfLifeSeconds: Double
    /// Half-life at which the signed volume behind the permanent impact fades, in seconds.
    public var impactHalfLifeSeconds: Double
    /// Seed of the price paths (with each symbol); nil: the simulator's seed.
    public var pathSeed: UInt64?
    /// Serve HTTPS with this PEM certificate chain (the venue's certificate first) instead of plain
    /// HTTP; set together with `tlsPrivateKey` or not at all. Read when the venue starts.
    public var tlsCertificate: String?
    /// The PEM private key of `tlsCertificate`.
    public var tlsPrivateKey: String?
    /// The simulator's seed, handed down by `SimulatorConfig` (the default path seed).
    var sharedPathSeed: UInt64?

    public init(name: String, dialect: SimDialect = .binanceSpot) {
        self.name = name
        self.dialect = dialect
        self.feesInQuote = dialect.feesInQuoteByDefault
        self.port = 0
        self.symbols = SymbolConfig.demo
        self.accounts = []
        self.latency = LatencyProfile()
        self.limits = LimitConfig()
        self.faults = []
        self.clockSkewMs = 0
        self.stepSeconds = 1
        self.banSeconds = 120
        self.volHalfLifeSeconds = 60
        self.resilienceHalfLifeSeconds = 5
        self.impactHalfLifeSeconds = 1800
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, dialect, port, symbols, accounts, latency, limits, faults
        case feesInQuote = "fees_in_quote"
        case clockSkewMs = "clock_skew_ms", stepSeconds = "step_seconds", banSeconds = "ban_seconds"
        case volHalfLifeSeconds = "vol_half_life_s", resilienceHalfLifeSeconds = "resilience_half_life_s"
        case impactHalfLifeSeconds = "impact_half_life_s", pathSeed = "path_seed"
        case tlsCertificate = "tls_certificate", tlsPrivateKey = "tls_private_key"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try StrictKeys.check(decoder, known: CodingKeys.self, section: "[[venues]]")
        let name = try c.decode(String.self, forKey: .name)
        let dialectName = try c.decodeIfPresent(String.self, forKey: .dialect) ?? SimDialect.binanceSpot.rawValue
        guard let dialect = SimDialect(rawValue: dialectName) else {
            throw DecodingError.dataCorruptedError(
                forKey: .dialect, in: c,
                debugDescription: "venue \(name): unknown dialect '\(dialectName)' (known: "
                    + SimDialect.allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }
        self.init(name: name, dialect: dialect)
        feesInQuote = try c.decodeIfPresent(Bool.self, forKey: .feesInQuote) ?? dialect.feesInQuoteByDefault
        port = try c.decodeIfPresent(UInt16.self, forKey: .port) ?? 0
        symbols = try c.decodeIfPresent([SymbolConfig].self, forKey: .symbols) ?? SymbolConfig.demo
        let demo = dialect == .coinbaseAdvanced ? AccountConfig.coinbaseDemo(venue: name) : .demo(venue: name)
        accounts = try c.decodeIfPresent([AccountConfig].self, forKey: .accounts) ?? [demo]
        latency = try c.decodeIfPresent(LatencyProfile.self, forKey: .latency) ?? LatencyProfile()
        limits = try c.decodeIfPresent(LimitConfig.self, forKey: .limits) ?? LimitConfig()
        faults = try c.decodeIfPresent([FaultRule].self, forKey: .faults) ?? []
        clockSkewMs = try c.decodeIfPresent(Int.self, forKey: .clockSkewMs) ?? 0
        stepSeconds = try c.decodeNumberIfPresent(forKey: .stepSeconds) ?? 1
        banSeconds = try c.decodeIfPresent(Int.self, forKey: .banSeconds) ?? 120
        volHalfLifeSeconds = try c.decodeNumberIfPresent(forKey: .volHalfLifeSeconds) ?? 60
        resilienceHalfLifeSeconds = try c.decodeNumberIfPresent(forKey: .resilienceHalfLifeSeconds) ?? 5
        impactHalfLifeSeconds = try c.decodeNumberIfPresent(forKey: .impactHalfLifeSeconds) ?? 1800
        pathSeed = try c.decodeIfPresent(Int.self, forKey: .pathSeed).map { UInt64(bitPattern: Int64($0)) }
        tlsCertificate = try c.decodeIfPresent(String.self, forKey: .tlsCertificate)
        tlsPrivateKey = try c.decodeIfPresent(String.self, forKey: .tlsPrivateKey)
    }

    func validate() throws(SimulatorError) {
        func bad(_ field: String, _ why: String) -> SimulatorError {
            .invalidConfig("venue '\(name)': \(field): \(why)")
        }
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw bad("name", "must be letters, digits, '-' or '_'")
        }
        guard !symbols.isEmpty else { throw bad("symbols", "at least one symbol is needed") }
        var seen: Set<String> = []
        for symbol in symbols {
            guard seen.insert(symbol.symbol).inserted else { throw bad("symbols", "\(symbol.symbol) is listed twice") }
            if let problem = symbol.problem { throw bad("symbols.\(symbol.symbol)", problem) }
        }
        var keys: Set<String> = []
        for account in accounts {
            guard !account.apiKey.isEmpty, !account.secret.isEmpty else {
                throw bad("accounts", "apiKey and secret are required")
            }
            guard keys.insert(account.apiKey).inserted else { throw bad("accounts", "an API key is used twice") }
            if dialect == .coinbaseAdvanced, let problem = AccountConfig.coinbaseSecretProblem(account.secret) {
                throw bad("accounts", problem)
            }
        }
        guard stepSeconds > 0 else { throw bad("stepSeconds", "must be positive") }
        if (tlsCertificate == nil) != (tlsPrivateKey == nil) {
            let (missing, given) =
                tlsCertificate == nil ? ("tls_certificate", "tls_private_key") : ("tls_private_key", "tls_certificate")
            throw bad(missing, "missing while \(given) is set: give both PEM files to serve HTTPS, or neither")
        }
        guard volHalfLifeSeconds > 0, resilienceHalfLifeSeconds >= 0, impactHalfLifeSeconds >= 0 else {
            throw bad("half-lives", "vol_half_life_s must be positive, the others ≥ 0")
        }
        guard limits.requestWeightPerMinute > 0, limits.ordersPer10s > 0, limits.requestsPerSecond > 0,
            limits.publicRequestsPerSecond > 0
        else {
            throw bad("limits", "must be positive")
        }
        guard latency.baseMs >= 0, latency.jitterMs >= 0, (0...1).contains(latency.spikeProbability) else {
            throw bad("latency", "times must be ≥ 0 and spikeProbability in 0…1")
        }
    }
}

/// A symbol listed at a simulated venue, with its filters and market.
public struct SymbolConfig: Codable, Sendable {
    public var symbol: String
    public var base: String
    public var quote: String
    public var tickSize: ExactDecimal
    public var stepSize: ExactDecimal
    public var minQty: ExactDecimal
    public var maxQty: ExactDecimal
    public var minNotional: ExactDecimal
    public var startPrice: ExactDecimal
    /// Quoted spread, in bps of the mid.
    public var spreadBps: Double
    /// Levels per side in the synthetic book.
    public var depthLevels: Int
    /// Quantity at the touch; deeper levels hold more.
    public var levelQty: ExactDecimal
    /// Volatility per √day of the random walk (e.g. 0.03 = 3 %).
    public var volatility: Double
    /// Optional OHLCV CSV (timestamp,open,high,low,close,volume) the price follows instead.
    public var ohlcvPath: String?
    /// Optional built-in scenario the price follows (when no OHLCV file is given).
    public var scenario: Scenario?
    /// How long the scenario runs, in seconds, from the venue's start; then it holds.
    public var scenarioSeconds: Double = 7200
    /// a: the half-spread is at least a times one second's volatility σ_s.
    public var spreadVolMultiple: Double = 1
    /// γ: depth per level scales with min(1, σ_ref / σ_s)^γ.
    public var depthVolExponent: Double = 1
    /// Y of the square-root impact law ΔP/P = Y · σ_daily · √(Q / V_daily).
    public var impactY: Double = 0.5
    /// V_daily of the impact law (base units); nil: the OHLCV file's, else the flow's expected daily volume.
    public var dailyVolume: Double?
    /// λ₀: other traders' market orders per second at calm volatility.
    public var flowRatePerSecond: Double = 1
    /// Mean size of other traders' market orders; nil: a tenth of `levelQty`.
    public var flowOrderQty: ExactDecimal?
    /// κ: how strongly other traders' flow follows the price move (0: buys and sells alike).
    public var flowImbalance: Double = 1.5
    /// How far ahead (seconds) the price move other traders' flow follows reaches: the flow is informed.
    public var flowHorizonSeconds: Double = 10

    enum CodingKeys: String, CodingKey, CaseIterable {
        case symbol, base, quote, tickSize = "tick_size", stepSize = "step_size", minQty = "min_qty"
        case maxQty = "max_qty", minNotional = "min_notional", startPrice = "start_price", spreadBps = "spread_bps"
        case depthLevels = "depth_levels", levelQty = "level_qty", volatility, ohlcvPath = "ohlcv_path"
        case scenario, scenarioSeconds = "scenario_seconds", spreadVolMultiple = "spread_vol_multiple"
        case depthVolExponent = "depth_vol_exponent", impactY = "impact_y", dailyVolume = "daily_volume"
        case flowRatePerSecond = "flow_rate_per_s", flowOrderQty = "flow_order_qty", flowImbalance = "flow_imbalance"
        case flowHorizonSeconds = "flow_horizon_s"
    }

    /// Only `symbol`, `base`, `quote`, `tick_size`, `step_size`, `start_price` and `level_qty` are required.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try StrictKeys.check(decoder, known: CodingKeys.self, section: "[[venues.symbols]]")
        symbol = try c.decode(String.self, forKey: .symbol)
        base = try c.decode(String.self, forKey: .base)
        quote = try c.decode(String.self, forKey: .quote)
        tickSize = try c.decode(ExactDecimal.self, forKey: .tickSize)
        stepSize = try c.decode(ExactDecimal.self, forKey: .stepSize)
        minQty = try c.decodeIfPresent(ExactDecimal.self, forKey: .minQty) ?? stepSize
        maxQty = try c.decodeIfPresent(ExactDecimal.self, forKey: .maxQty) ?? ExactDecimal(9000)
        minNotional = try c.decodeIfPresent(ExactDecimal.self, forKey: .minNotional) ?? ExactDecimal(5)
        startPrice = try c.decode(ExactDecimal.self, forKey: .startPrice)
        spreadBps = try c.decodeNumberIfPresent(forKey: .spreadBps) ?? 2
        depthLevels = try c.decodeIfPresent(Int.self, forKey: .depthLevels) ?? 20
        levelQty = try c.decode(ExactDecimal.self, forKey: .levelQty)
        volatility = try c.decodeNumberIfPresent(forKey: .volatility) ?? 0.03
        ohlcvPath = try c.decodeIfPresent(String.self, forKey: .ohlcvPath)
        scenario = try c.decodeIfPresent(Scenario.self, forKey: .scenario)
        scenarioSeconds = try c.decodeNumberIfPresent(forKey: .scenarioSeconds) ?? 7200
        spreadVolMultiple = try c.decodeNumberIfPresent(forKey: .spreadVolMultiple) ?? 1
        depthVolExponent = try c.decodeNumberIfPresent(forKey: .depthVolExponent) ?? 1
        impactY = try c.decodeNumberIfPresent(forKey: .impactY) ?? 0.5
        dailyVolume = try c.decodeNumberIfPresent(forKey: .dailyVolume)
        flowRatePerSecond = try c.decodeNumberIfPresent(forKey: .flowRatePerSecond) ?? 1
        flowOrderQty = try c.decodeIfPresent(ExactDecimal.self, forKey: .flowOrderQty)
        flowImbalance = try c.decodeNumberIfPresent(forKey: .flowImbalance) ?? 1.5
        flowHorizonSeconds = try c.decodeNumberIfPresent(forKey: .flowHorizonSeconds) ?? 10
    }

    init(
        symbol: String, base: String, quote: String, tickSize: ExactDecimal, stepSize: ExactDecimal,
        minQty: ExactDecimal, maxQty: ExactDecimal, minNotional: ExactDecimal, startPrice: ExactDecimal,
        spreadBps: Double, depthLevels: Int, levelQty: ExactDecimal, volatility: Double, ohlcvPath: String?
    ) {
        self.symbol = symbol
        self.base = base
        self.quote = quote
        self.tickSize = tickSize
        self.stepSize = stepSize
        self.minQty = minQty
        self.maxQty = maxQty
        self.minNotional = minNotional
        self.startPrice = startPrice
        self.spreadBps = spreadBps
        self.depthLevels = depthLevels
        self.levelQty = levelQty
        self.volatility = volatility
        self.ohlcvPath = ohlcvPath
    }

    static func make(
        _ symbol: String, _ base: String, _ quote: String, tick: String, step: String, minQty: String,
        minNotional: String,
        price: String, qty: String, volatility: Double
    ) -> SymbolConfig {
        SymbolConfig(
            symbol: symbol, base: base, quote: quote, tickSize: ExactDecimal(tick)!, stepSize: ExactDecimal(step)!,
            minQty: ExactDecimal(minQty)!, maxQty: ExactDecimal("9000")!, minNotional: ExactDecimal(minNotional)!,
            startPrice: ExactDecimal(price)!, spreadBps: 2, depthLevels: 20, levelQty: ExactDecimal(qty)!,
            volatility: volatility, ohlcvPath: nil)
    }

    /// BTCUSDT, ETHUSDT, SOLUSDT, BNBUSDT and ETHBTC with realistic filters.
    public static let demo: [SymbolConfig] = [
        make(
            "BTCUSDT", "BTC", "USDT", tick: "0.01", step: "0.00001", minQty: "0.00001", minNotional: "5",
            price: "43000.00", qty: "0.5", volatility: 0.03),
        make(
            "ETHUSDT", "ETH", "USDT", tick: "0.01", step: "0.0001", minQty: "0.0001", minNotional: "5",
            price: "2300.00", qty: "8", volatility: 0.04),
        make(
            "SOLUSDT", "SOL", "USDT", tick: "0.01", step: "0.001", minQty: "0.001", minNotional: "5", price: "140.00",
            qty: "120", volatility: 0.06),
        make(
            "BNBUSDT", "BNB", "USDT", tick: "0.01", step: "0.001", minQty: "0.001", minNotional: "5", price: "310.00",
            qty: "40", volatility: 0.04),
        make(
            "ETHBTC", "ETH", "BTC", tick: "0.00001", step: "0.0001", minQty: "0.0001", minNotional: "0.0001",
            price: "0.05349", qty: "8", volatility: 0.02),
    ]

    /// What is wrong with this symbol's settings, if anything.
    var problem: String? {
        let positive: [(String, ExactDecimal)] = [
            ("tickSize", tickSize), ("stepSize", stepSize), ("startPrice", startPrice), ("levelQty", levelQty),
        ]
        for (field, value) in positive where !value.isPositive { return "\(field) must be positive" }
        guard startPrice.isMultiple(of: tickSize) else { return "startPrice must be a multiple of tickSize" }
        guard depthLevels > 0, depthLevels <= 5000 else { return "depthLevels must be 1…5000" }
        guard spreadBps >= 0, volatility >= 0 else { return "spreadBps and volatility must be ≥ 0" }
        let model = [
            spreadVolMultiple, depthVolExponent, impactY, flowRatePerSecond, flowImbalance, flowHorizonSeconds,
        ]
        guard model.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            return "spread_vol_multiple, depth_vol_exponent, impact_y and the flow_ settings must be ≥ 0"
        }
        guard scenarioSeconds > 0, dailyVolume.map({ $0 > 0 }) ?? true, flowOrderQty?.isPositive ?? true else {
            return "scenario_seconds, daily_volume and flow_order_qty must be positive"
        }
        return nil
    }

    var rules: SymbolRules {
        SymbolRules(
            pair: TradingPair(symbol: symbol, base: base, quote: quote), tickSize: tickSize, minPrice: tickSize,
            maxPrice: ExactDecimal(1_000_000_000), stepSize: stepSize, minQty: minQty, maxQty: maxQty,
            minNotional: minNotional, maxNotional: nil)
    }
}

/// A trading account at a simulated venue.
public struct AccountConfig: Codable, Sendable {
    public var apiKey: String
    public var secret: String
    /// Starting balances, asset → amount.
    public var balances: [String: ExactDecimal]
    public var makerFee: ExactDecimal
    public var takerFee: ExactDecimal
    /// Pay fees in this asset (e.g. BNB) when the account holds enough of it.
    public var feeAsset: String?

    enum CodingKeys: String, CodingKey {
        case apiKey = "api_key", secret, balances, makerFee = "maker_fee", takerFee = "taker_fee"
        case feeAsset = "fee_asset"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            apiKey: try c.decode(String.self, forKey: .apiKey), secret: try c.decode(String.self, forKey: .secret),
            balances: try c.decodeIfPresent([String: ExactDecimal].self, forKey: .balances) ?? [:],
            makerFee: try c.decodeIfPresent(ExactDecimal.self, forKey: .makerFee) ?? ExactDecimal("0.001")!,
            takerFee: try c.decodeIfPresent(ExactDecimal.self, forKey: .takerFee) ?? ExactDecimal("0.001")!,
            feeAsset: try c.decodeIfPresent(String.self, forKey: .feeAsset))
    }

    public init(
        apiKey: String, secret: String, balances: [String: ExactDecimal],
        makerFee: ExactDecimal = ExactDecimal("0.001")!,
        takerFee: ExactDecimal = ExactDecimal("0.001")!, feeAsset: String? = nil
    ) {
        self.apiKey = apiKey
        self.secret = secret
        self.balances = balances
        self.makerFee = makerFee
        self.takerFee = takerFee
        self.feeAsset = feeAsset
    }

    /// A funded demo account with credentials derived from the venue name (demo only).
    public static func demo(venue: String) -> AccountConfig {
        AccountConfig(
            apiKey: "demo-key-\(venue)", secret: "demo-secret-\(venue)-0123456789abcdef",
            balances: [
                "BTC": ExactDecimal("2")!, "ETH": ExactDecimal("20")!, "SOL": ExactDecimal("150")!,
                "USDT": ExactDecimal("100000")!, "BNB": ExactDecimal("10")!,
            ])
    }
}

/// How long a venue takes: on the way in (request → matching engine: `entry_ms` plus up to
/// `entry_jitter_ms`), and on the way out (engine → client: `base_ms` plus up to `jitter_ms`,
/// and now and then `spike_ms` more). Two separate draws: an order meets the book as it is
/// when it arrives, and the venue checks its recvWindow then, not when it was sent.
public struct LatencyProfile: Codable, Sendable {
    public var baseMs: Double
    public var jitterMs: Double
    public var spikeProbability: Double
    public var spikeMs: Double
    public var entryMs: Double
    public var entryJitterMs: Double

    public init(
        baseMs: Double = 1, jitterMs: Double = 0.5, spikeProbability: Double = 0, spikeMs: Double = 0,
        entryMs: Double = 0, entryJitterMs: Double = 0
    ) {
        self.baseMs = baseMs
        self.jitterMs = jitterMs
        self.spikeProbability = spikeProbability
        self.spikeMs = spikeMs
        self.entryMs = entryMs
        self.entryJitterMs = entryJitterMs
    }

    enum CodingKeys: String, CodingKey {
        case baseMs = "base_ms", jitterMs = "jitter_ms", spikeProbability = "spike_probability", spikeMs = "spike_ms"
        case entryMs = "entry_ms", entryJitterMs = "entry_jitter_ms"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            baseMs: try c.decodeNumberIfPresent(forKey: .baseMs) ?? 1,
            jitterMs: try c.decodeNumberIfPresent(forKey: .jitterMs) ?? 0.5,
            spikeProbability: try c.decodeNumberIfPresent(forKey: .spikeProbability) ?? 0,
            spikeMs: try c.decodeNumberIfPresent(forKey: .spikeMs) ?? 0,
            entryMs: try c.decodeNumberIfPresent(forKey: .entryMs) ?? 0,
            entryJitterMs: try c.decodeNumberIfPresent(forKey: .entryJitterMs) ?? 0)
    }
}

/// Published request limits.
public struct LimitConfig: Codable, Sendable {
    public var requestWeightPerMinute: Int
    public var ordersPer10s: Int
    public var ordersPerDay: Int
    /// Requests a client may send during a 429 back-off before it is banned (HTTP 418).
    public var violationsBeforeBan: Int
    /// A Kraken-dialect venue's call counter per key: its size and how fast it drains (the
    /// starter tier by default).
    public var callCounterMax: Double
    public var callCounterDecayPerSecond: Double
    /// A Coinbase-dialect venue's private requests per second per key, and public requests per
    /// second per client address.
    public var requestsPerSecond: Int
    public var publicRequestsPerSecond: Int

    public init(
        requestWeightPerMinute: Int = 6000, ordersPer10s: Int = 100, ordersPerDay: Int = 200_000,
        violationsBeforeBan: Int = 3, callCounterMax: Double = 15, callCounterDecayPerSecond: Double = 0.33,
        requestsPerSecond: Int = 30, publicRequestsPerSecond: Int = 10
    ) {
        self.requestsPerSecond = requestsPerSecond
        self.publicRequestsPerSecond = publicRequestsPerSecond
        self.callCounterMax = callCounterMax
        self.callCounterDecayPerSecond = callCounterDecayPerSecond
        self.requestWeightPerMinute = requestWeightPerMinute
        self.ordersPer10s = ordersPer10s
        self.ordersPerDay = ordersPerDay
        self.violationsBeforeBan = violationsBeforeBan
    }

    enum CodingKeys: String, CodingKey {
        case requestWeightPerMinute = "request_weight_per_minute", ordersPer10s = "orders_per_10s"
        case ordersPerDay = "orders_per_day", violationsBeforeBan = "violations_before_ban"
        case callCounterMax = "call_counter_max", callCounterDecayPerSecond = "call_counter_decay_per_s"
        case requestsPerSecond = "requests_per_second", publicRequestsPerSecond = "public_requests_per_second"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            requestWeightPerMinute: try c.decodeIfPresent(Int.self, forKey: .requestWeightPerMinute) ?? 6000,
            ordersPer10s: try c.decodeIfPresent(Int.self, forKey: .ordersPer10s) ?? 100,
            ordersPerDay: try c.decodeIfPresent(Int.self, forKey: .ordersPerDay) ?? 200_000,
            violationsBeforeBan: try c.decodeIfPresent(Int.self, forKey: .violationsBeforeBan) ?? 3,
            callCounterMax: try c.decodeIfPresent(Double.self, forKey: .callCounterMax) ?? 15,
            callCounterDecayPerSecond: try c.decodeIfPresent(Double.self, forKey: .callCounterDecayPerSecond) ?? 0.33,
            requestsPerSecond: try c.decodeIfPresent(Int.self, forKey: .requestsPerSecond) ?? 30,
            publicRequestsPerSecond: try c.decodeIfPresent(Int.self, forKey: .publicRequestsPerSecond) ?? 10)
    }
}

/// Why the simulator could not do something.
public enum SimulatorError: Error, Sendable, CustomStringConvertible {
    case invalidConfig(String)
    case startFailed(String)

    public var description: String {
        switch self {
        case .invalidConfig(let why): "simulator configuration: \(why)"
        case .startFailed(let why): "simulator: \(why)"
        }
    }
}
