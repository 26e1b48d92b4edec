import BallastCore
import Digest
import Foundation
public import Venues

/// A job file: the venues, the accounts held there, and the portfolios to keep on target.
///
///     [[venues]]
///     id = "binance"
///     dialect = "binance-spot"
///     base_url = "https://api.binance.com"
///
///     [[accounts]]
///     id = "binance-main"
///     venue = "binance"
///     api_key_env = "BINANCE_KEY"          # or credentials_file = "/etc/ballast/binance.toml" (mode 0600)
///     api_secret_env = "BINANCE_SECRET"
///
///     [[portfolios]]
///     id = "core"
///     quote = "USDT"
///     accounts = ["binance-main"]
///     targets = { BTC = "0.5", ETH = "0.3", USDT = "0.2" }
public struct JobConfig: Sendable, Decodable {
    public var venues: [VenueSettings]
    public var accounts: [AccountSettings]
    public var portfolios: [PortfolioSettings]
    /// What Ballast may assume of its database.
    public var database = DatabaseSettings()
    /// How venue connections are secured.
    public var tls = TLSSettings()
    /// Which job `ballast run` runs by default.
    public var run = RunSettings()

    enum CodingKeys: String, CodingKey, CaseIterable { case venues, accounts, portfolios, database, tls, run }

    public init(venues: [VenueSettings], accounts: [AccountSettings], portfolios: [PortfolioSettings]) throws {
        self.venues = venues
        self.accounts = accounts
        self.portfolios = portfolios
        try validate()
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(
            try decoder.container(keyedBy: AnyKey.self), known: CodingKeys.self, section: "the job file")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        venues = try c.decode([VenueSettings].self, forKey: .venues)
        accounts = try c.decodeIfPresent([AccountSettings].self, forKey: .accounts) ?? []
        portfolios = try c.decodeIfPresent([PortfolioSettings].self, forKey: .portfolios) ?? []
        database = try c.decodeIfPresent(DatabaseSettings.self, forKey: .database) ?? DatabaseSettings()
        tls = try c.decodeIfPresent(TLSSettings.self, forKey: .tls) ?? TLSSettings()
        run = try c.decodeIfPresent(RunSettings.self, forKey: .run) ?? RunSettings()
        do { try validate() } catch let error as BallastError {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: error.description))
        }
    }

    /// Reads and validates a job file.
    public static func load(path: String) throws -> JobConfig {
        try TOMLFile.decode(JobConfig.self, path: path)
    }

    /// A SHA-256 over the file's meaning (not its secrets), to tie reports to the configuration.
    public var fingerprint: String {
        var text = ""
        for v in venues { text += "venue \(v.id) \(v.dialect) \(v.baseURL)\n" }
        for a in accounts { text += "account \(a.id) \(a.venue)\n" }
        for p in portfolios {
            text += "portfolio \(p.id) \(p.quote) \(p.accounts.sorted())"
            text += " \(p.targets.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })\n"
        }
        return Digest.hex(Digest.sha256(text))
    }

    /// The venue named `id`.
    public func venue(_ id: String) -> VenueSettings? { venues.first { $0.id == id } }

    /// Cross-checks ids and references.
    package func validate() throws {
        guard !venues.isEmpty else { throw BallastError.invalidInput("no [[venues]] configured") }
        try unique(venues.map(\.id), "venue")
        try unique(accounts.map(\.id), "account")
        try unique(portfolios.map(\.id), "portfolio")
        let venueIDs = Set(venues.map(\.id))
        for account in accounts where !venueIDs.contains(account.venue) {
            throw BallastError.invalidInput(
                "account '\(account.id)' names venue '\(account.venue)', which is not configured")
        }
        let accountIDs = Set(accounts.map(\.id))
        for portfolio in portfolios {
            for account in portfolio.accounts where !accountIDs.contains(account) {
                throw BallastError.invalidInput(
                    "portfolio '\(portfolio.id)' names account '\(account)', which is not configured")
            }
            for venue in portfolio.venues ?? [] where !venueIDs.contains(venue) {
                throw BallastError.invalidInput(
                    "portfolio '\(portfolio.id)' allows venue '\(venue)', which is not configured")
            }
        }
    }

    private func unique(_ ids: [String], _ kind: String) throws {
        var seen: Set<String> = []
        for id in ids {
            guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw BallastError.invalidInput("\(kind) id '\(id)' must be letters, digits, '-' or '_'")
            }
            guard seen.insert(id).inserted else { throw BallastError.invalidInput("\(kind) id '\(id)' is used twice") }
        }
    }
}

/// One venue of a job file.
public struct VenueSettings: Sendable, Decodable {
    public var id: String
    /// The dialect the venue speaks (`VenueDialect.all` lists them).
    public var dialect: String
    public var baseURL: String
    /// `recvWindow` for signed requests, in ms (default 5000, at most 60000).
    public var recvWindowMs: Int
    /// Overall time limit per request, in ms.
    public var timeoutMs: Int
    /// Fraction of each rate limit kept free (default 0.1).
    public var rateLimitMargin: Double
    /// Symbols to pull besides those the portfolios need.
    public var symbols: [String]
    /// Depth levels to snapshot per symbol.
    public var depthLimit: Int
    /// The account tier's call counter, where the dialect counts calls that way and the account's
    /// tier differs from the dialect's default (Kraken: starter 15 at 0.33/s, intermediate 20 at
    /// 0.5/s, pro 20 at 1/s).
    public var callCounter: RateLimits.CallCounter?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, dialect, baseURL = "base_url", recvWindowMs = "recv_window_ms", timeoutMs = "timeout_ms"
        case rateLimitMargin = "rate_limit_margin", symbols, depthLimit = "depth_limit"
        case callCounterMax = "call_counter_max", callCounterDecay = "call_counter_decay_per_s"
    }

    public init(
        id: String, dialect: String = "binance-spot", baseURL: String, recvWindowMs: Int = 5000,
        timeoutMs: Int = 10_000, rateLimitMargin: Double = 0.1, symbols: [String] = [], depthLimit: Int = 20
    ) {
        self.id = id
        self.dialect = dialect
        self.baseURL = baseURL
        self.recvWindowMs = recvWindowMs
        self.timeoutMs = timeoutMs
        self.rateLimitMargin = rateLimitMargin
        self.symbols = symbols
        self.depthLimit = depthLimit
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(try decoder.container(keyedBy: AnyKey.self), known: CodingKeys.self, section: "[[venues]]")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decode(String.self, forKey: .id),
            dialect: try c.decodeIfPresent(String.self, forKey: .dialect) ?? "binance-spot",
            baseURL: try c.decode(String.self, forKey: .baseURL),
            recvWindowMs: try c.decodeIfPresent(Int.self, forKey: .recvWindowMs) ?? 5000,
            timeoutMs: try c.decodeIfPresent(Int.self, forKey: .timeoutMs) ?? 10_000,
            rateLimitMargin: try c.decodeNumberIfPresent(forKey: .rateLimitMargin) ?? 0.1,
            symbols: try c.decodeIfPresent([String].self, forKey: .symbols) ?? [],
            depthLimit: try c.decodeIfPresent(Int.self, forKey: .depthLimit) ?? 20)
        let counterMax = try c.decodeIfPresent(Int.self, forKey: .callCounterMax)
        let counterDecay: Double? = try c.decodeNumberIfPresent(forKey: .callCounterDecay)
        func bad(_ key: CodingKeys, _ why: String) -> DecodingError {
            .dataCorrupted(.init(codingPath: c.codingPath + [key], debugDescription: why))
        }
        guard let known = VenueDialect.named(dialect) else {
            throw bad(.dialect, "unknown dialect '\(dialect)' (known: \(VenueDialect.names))")
        }
        if counterMax != nil || counterDecay != nil {
            guard known.callCounter != nil else {
                throw bad(
                    counterMax != nil ? .callCounterMax : .callCounterDecay,
                    "dialect '\(dialect)' has no call counter (it limits request weight per minute)")
            }
            guard let counterMax, let counterDecay else {
                throw bad(
                    counterMax == nil ? .callCounterMax : .callCounterDecay,
                    "give both call_counter_max and call_counter_decay_per_s")
            }
            guard counterMax >= 2 else { throw bad(.callCounterMax, "must be at least 2") }
            guard counterDecay > 0, counterDecay <= 100 else {
                throw bad(.callCounterDecay, "must be in (0, 100]")
            }
            callCounter = RateLimits.CallCounter(max: counterMax, decayPerSecond: counterDecay)
        }
        guard let url = URL(string: baseURL), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw bad(.baseURL, "'\(baseURL)' is not an http(s) URL")
        }
        guard (1...60_000).contains(recvWindowMs) else { throw bad(.recvWindowMs, "must be 1…60000") }
        guard timeoutMs >= 100 else { throw bad(.timeoutMs, "must be at least 100") }
        guard (0..<1).contains(rateLimitMargin) else { throw bad(.rateLimitMargin, "must be in [0, 1)") }
        guard [5, 10, 20, 50, 100, 500, 1000, 5000].contains(depthLimit) else {
            throw bad(.depthLimit, "must be one of 5, 10, 20, 50, 100, 500, 1000, 5000")
        }
    }
}

/// One account of a job file: where its API key and secret come from (never the values themselves).
public struct AccountSettings: Sendable, Decodable {
    public var id: String
    public var venue: String
    public var apiKeyEnv: String?
    public var apiSecretEnv: String?
    public var credentialsFile: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, venue, apiKeyEnv = "api_key_env", apiSecretEnv = "api_secret_env", credentialsFile = "credentials_file"
    }

    public init(
        id: String, venue: String, apiKeyEnv: String? = nil, apiSecretEnv: String? = nil, credentialsFile: String? = nil
    ) {
        self.id = id
        self.venue = venue
        self.apiKeyEnv = apiKeyEnv
        self.apiSecretEnv = apiSecretEnv
        self.credentialsFile = credentialsFile
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(
            try decoder.container(keyedBy: AnyKey.self), known: CodingKeys.self, section: "[[accounts]]")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decode(String.self, forKey: .id), venue: try c.decode(String.self, forKey: .venue),
            apiKeyEnv: try c.decodeIfPresent(String.self, forKey: .apiKeyEnv),
            apiSecretEnv: try c.decodeIfPresent(String.self, forKey: .apiSecretEnv),
            credentialsFile: try c.decodeIfPresent(String.self, forKey: .credentialsFile))
        let viaEnv = apiKeyEnv != nil || apiSecretEnv != nil
        guard viaEnv != (credentialsFile != nil), !viaEnv || (apiKeyEnv != nil && apiSecretEnv != nil) else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: c.codingPath,
                    debugDescription:
                        "account '\(id)': give either api_key_env and api_secret_env, or credentials_file"))
        }
    }
}

/// The job file's `[database]` table: what Ballast may assume of its database.
public struct DatabaseSettings: Sendable, Decodable {
    /// True when a commit the server acknowledged may still be lost — behind asynchronous
    /// replication, where a failover drops the standby's missing tail. Execute then looks every
    /// order up at its venue before its first send (one order lookup per order, paid once per
    /// generation), since the ledger's "never sent" may be a lost `sending` row.
    public var mayLoseCommits = false

    enum CodingKeys: String, CodingKey, CaseIterable { case mayLoseCommits = "may_lose_commits" }

    public init(mayLoseCommits: Bool = false) { self.mayLoseCommits = mayLoseCommits }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(try decoder.container(keyedBy: AnyKey.self), known: CodingKeys.self, section: "[database]")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mayLoseCommits = try c.decodeIfPresent(Bool.self, forKey: .mayLoseCommits) ?? false
    }
}

/// What starts a run, and so what it does (`ballast run --trigger`, or the job file's `[run]` table).
public enum Trigger: String, Sendable, CaseIterable, Decodable {
    /// The full job: pull with fill history, reconcile, propose, approve under cap, execute, pull
    /// again, reconcile again, measure and report.
    case nightly
    /// The frequent check: balances and books only; propose only for portfolios whose band is
    /// breached and whose venues all answered; execute, measure, and report only what was traded.
    case driftCheck = "drift-check"

    /// The `job_runs.command` of a run of this trigger (a nightly is a plain `run`).
    public var command: String { self == .nightly ? "run" : rawValue }
}

/// The job file's `[run]` table.
///
///     [run]
///     trigger = "drift-check"     # or "nightly" (the default); `--trigger` overrides it
public struct RunSettings: Sendable, Decodable {
    public var trigger: Trigger = .nightly

    enum CodingKeys: String, CodingKey, CaseIterable { case trigger }

    public init(trigger: Trigger = .nightly) { self.trigger = trigger }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(try decoder.container(keyedBy: AnyKey.self), known: CodingKeys.self, section: "[run]")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let text = try c.decodeIfPresent(String.self, forKey: .trigger) {
            guard let trigger = Trigger(rawValue: text) else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: c.codingPath + [CodingKeys.trigger],
                        debugDescription: "unknown trigger '\(text)' (known: nightly, drift-check)"))
            }
            self.trigger = trigger
        }
    }
}

/// The job file's `[tls]` table. Venue connections always verify the peer's certificate and host
/// name; there is no setting that turns verification off.
///
///     [tls]
///     ca_bundle = "/etc/ssl/certs/venue-ca.pem"   # verify against these CAs instead of the system's
public struct TLSSettings: Sendable, Decodable {
    /// A PEM file of CA certificates (nil: the system's trust store).
    public var caBundle: String?

    enum CodingKeys: String, CodingKey, CaseIterable { case caBundle = "ca_bundle" }

    public init(caBundle: String? = nil) { self.caBundle = caBundle }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(try decoder.container(keyedBy: AnyKey.self), known: CodingKeys.self, section: "[tls]")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        caBundle = try c.decodeIfPresent(String.self, forKey: .caBundle)
        if let bundle = caBundle, !FileManager.default.isReadableFile(atPath: bundle) {
            throw DecodingError.dataCorrupted(
                .init(codingPath: c.codingPath + [CodingKeys.caBundle], debugDescription: "cannot read \(bundle)"))
        }
    }
}
