public import BallastCore
import Foundation

/// One portfolio of a job file. Encoded (canonically) it is the portfolio's stored configuration:
/// the job file's keys, the router's settings by their own names, every number at full precision.
public struct PortfolioSettings: Sendable, Codable {
    public var id: String
    public var quote: String
    public var accounts: [String]
    /// Target weights by asset, as decimal strings.
    public var targets: [String: ExactDecimal]
    /// Notional (in quote) under which batches are approved automatically.
    public var approvalCap: ExactDecimal
    /// Venues the router may use (default: those of the portfolio's accounts).
    public var venues: [String]?
    /// Band settings for the proposal step.
    public var bands: BandSettings
    /// How the router weighs cost against patience.
    public var router: RouterPolicy

    /// Target weights must add up to 1 within this.
    public static let weightTolerance = ExactDecimal(significand: 1, scale: 6)

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, quote, accounts, targets, approvalCap = "approval_cap", venues, bands, router
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(
            try decoder.container(keyedBy: AnyKey.self), known: CodingKeys.self, section: "[[portfolios]]")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        quote = try c.decode(String.self, forKey: .quote)
        accounts = try c.decode([String].self, forKey: .accounts)
        targets = try c.decode([String: ExactDecimal].self, forKey: .targets)
        approvalCap = try c.decodeIfPresent(ExactDecimal.self, forKey: .approvalCap) ?? .zero
        venues = try c.decodeIfPresent([String].self, forKey: .venues)
        bands = try c.decodeIfPresent(BandSettings.self, forKey: .bands) ?? BandSettings()
        router = try c.decodeIfPresent(RouterSettings.self, forKey: .router)?.policy ?? RouterPolicy()
        do { try validate() } catch let error as BallastError {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(quote, forKey: .quote)
        try c.encode(accounts, forKey: .accounts)
        try c.encode(targets, forKey: .targets)
        try c.encode(approvalCap, forKey: .approvalCap)
        try c.encodeIfPresent(venues, forKey: .venues)
        try c.encode(bands, forKey: .bands)
        try c.encode(router, forKey: .router)
    }

    /// Checks the targets: asset codes, weights in [0, 1] that add up to 1, a quote and a cap that make sense.
    package func validate() throws {
        func bad(_ why: String) -> BallastError { .invalidInput("portfolio '\(id)': \(why)") }
        guard Self.isAssetCode(quote) else { throw bad("quote '\(quote)' is not an asset code (A–Z, 0–9)") }
        guard !targets.isEmpty else { throw bad("targets is empty: give each asset its weight") }
        for (asset, weight) in targets.sorted(by: { $0.key < $1.key }) {
            guard Self.isAssetCode(asset) else { throw bad("target '\(asset)' is not an asset code (A–Z, 0–9)") }
            guard !weight.isNegative else { throw bad("target \(asset) = \(weight) is negative") }
            guard weight <= .one else { throw bad("target \(asset) = \(weight) is above 1") }
        }
        let sum = targets.values.reduce(ExactDecimal.zero, +)
        guard (sum - .one).magnitude <= Self.weightTolerance else {
            throw bad("targets add up to \(sum), not 1 (tolerance \(Self.weightTolerance))")
        }
        guard !approvalCap.isNegative else { throw bad("approval_cap \(approvalCap) is negative") }
        guard !accounts.isEmpty else { throw bad("accounts is empty: name the accounts that hold it") }
    }

    /// Upper-case letters and digits, as venues spell assets.
    static func isAssetCode(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 20
            && text.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }

    public init(
        id: String, quote: String, accounts: [String], targets: [String: ExactDecimal],
        approvalCap: ExactDecimal = .zero,
        venues: [String]? = nil, bands: BandSettings = BandSettings(), router: RouterPolicy = RouterPolicy()
    ) {
        self.id = id
        self.quote = quote
        self.accounts = accounts
        self.targets = targets
        self.approvalCap = approvalCap
        self.venues = venues
        self.bands = bands
        self.router = router
    }

    /// The venue symbols this portfolio trades: each non-quote target asset against the quote.
    public var symbols: [String] {
        targets.keys.filter { $0 != quote }.sorted().map { TradingPair.symbol(base: $0, quote: quote) }
    }
}

/// Band policy settings of a portfolio (interpreted by the proposal step).
public struct BandSettings: Sendable, Codable {
    /// `volatility` (cube-root law) or `fixed`.
    public var mode: String = "volatility"
    public var minimum: ExactDecimal = ExactDecimal(significand: 1, scale: 2)
    public var maximum: ExactDecimal = ExactDecimal(significand: 10, scale: 2)
    public var fixed: ExactDecimal = ExactDecimal(significand: 5, scale: 2)
    public var multiplier: Double = 1
    public var windowHours: Double = 24
    /// σ (annualised) assumed for an asset with too few prices in its window and the fallback window.
    public var sigmaPrior: Double = 0.8
    /// `target` or `band-edge`.
    public var sizeTo: String = "target"

    enum CodingKeys: String, CodingKey, CaseIterable {
        case mode, minimum = "min", maximum = "max", fixed, multiplier, windowHours = "window_hours", sizeTo = "size_to"
        case sigmaPrior = "sigma_prior"
    }

    public init() {}

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(mode, forKey: .mode)
        try c.encode(minimum, forKey: .minimum)
        try c.encode(maximum, forKey: .maximum)
        try c.encode(fixed, forKey: .fixed)
        try c.encode(multiplier, forKey: .multiplier)
        try c.encode(windowHours, forKey: .windowHours)
        try c.encode(sigmaPrior, forKey: .sigmaPrior)
        try c.encode(sizeTo, forKey: .sizeTo)
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(
            try decoder.container(keyedBy: AnyKey.self), known: CodingKeys.self, section: "[portfolios.bands]")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mode = try c.decodeIfPresent(String.self, forKey: .mode) ?? mode
        minimum = try c.decodeIfPresent(ExactDecimal.self, forKey: .minimum) ?? minimum
        maximum = try c.decodeIfPresent(ExactDecimal.self, forKey: .maximum) ?? maximum
        fixed = try c.decodeIfPresent(ExactDecimal.self, forKey: .fixed) ?? fixed
        multiplier = try c.decodeNumberIfPresent(forKey: .multiplier) ?? multiplier
        windowHours = try c.decodeNumberIfPresent(forKey: .windowHours) ?? windowHours
        sigmaPrior = try c.decodeNumberIfPresent(forKey: .sigmaPrior) ?? sigmaPrior
        sizeTo = try c.decodeIfPresent(String.self, forKey: .sizeTo) ?? sizeTo
        guard ["volatility", "fixed"].contains(mode) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: c.codingPath + [CodingKeys.mode], debugDescription: "must be volatility or fixed"))
        }
        guard minimum.isPositive, minimum <= maximum, maximum < .one else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: c.codingPath + [CodingKeys.minimum], debugDescription: "need 0 < min ≤ max < 1"))
        }
        guard fixed.isPositive, windowHours > 0, multiplier > 0, sigmaPrior > 0 else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: c.codingPath,
                    debugDescription: "fixed, window_hours, multiplier and sigma_prior must be positive"))
        }
        guard ["target", "band-edge"].contains(sizeTo) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: c.codingPath + [CodingKeys.sizeTo], debugDescription: "must be target or band-edge"))
        }
    }
}

/// A portfolio's `[portfolios.router]` section: the router's knobs, each optional.
///
///     [portfolios.router]
///     urgency = "normal"          # low: rest passively and chase; normal/high: marketable limits with a cap
///     budget_bps = 50             # defer a parent whose cheapest split costs more
///     price_cap_bps = 30          # a marketable limit never pays more than this beyond the arrival mid
///     z = 1.65                    # latency risk = z · σ per √s · √(p95 ack latency)
///     passive_timeout_s = 30      # reprice a resting order after this long …
///     max_chases = 2              # … this many times, then cross within the cap
///     measured_prior = 10         # legs the model counts as against measured passive legs
///     max_book_age_s = 60         # a venue's book older than this is not used
///     max_depth_skew_s = 1        # a depth further than this from its ticker is not combined with it
struct RouterSettings: Decodable {
    var policy = RouterPolicy()

    enum CodingKeys: String, CodingKey, CaseIterable {
        case urgency, budgetBps = "budget_bps", priceCapBps = "price_cap_bps", z
        case passiveTimeout = "passive_timeout_s", maxChases = "max_chases"
        case errorPenaltyBps = "error_penalty_bps", weightPenaltyBps = "weight_penalty_bps"
        case maxErrorRate = "max_error_rate", slices, measuredPrior = "measured_prior"
        case maxBookAge = "max_book_age_s", maxDepthSkew = "max_depth_skew_s"
    }

    init(from decoder: any Decoder) throws {
        try StrictKeys.check(
            try decoder.container(keyedBy: AnyKey.self), known: CodingKeys.self, section: "[portfolios.router]")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func bad(_ key: CodingKeys, _ why: String) -> DecodingError {
            .dataCorrupted(.init(codingPath: c.codingPath + [key], debugDescription: why))
        }
        if let text = try c.decodeIfPresent(String.self, forKey: .urgency) {
            guard let urgency = Urgency(rawValue: text) else { throw bad(.urgency, "must be low, normal or high") }
            policy.urgency = urgency
        }
        policy.urgencyBudgetBps = try c.decodeNumberIfPresent(forKey: .budgetBps) ?? policy.urgencyBudgetBps
        policy.priceCapBps = try c.decodeNumberIfPresent(forKey: .priceCapBps) ?? policy.priceCapBps
        policy.z = try c.decodeNumberIfPresent(forKey: .z) ?? policy.z
        policy.passiveTimeoutSeconds =
            try c.decodeNumberIfPresent(forKey: .passiveTimeout) ?? policy.passiveTimeoutSeconds
        policy.maxChases = try c.decodeIfPresent(Int.self, forKey: .maxChases) ?? policy.maxChases
        policy.errorPenaltyBps = try c.decodeNumberIfPresent(forKey: .errorPenaltyBps) ?? policy.errorPenaltyBps
        policy.weightPenaltyBps = try c.decodeNumberIfPresent(forKey: .weightPenaltyBps) ?? policy.weightPenaltyBps
        policy.maxErrorRate = try c.decodeNumberIfPresent(forKey: .maxErrorRate) ?? policy.maxErrorRate
        policy.slices = try c.decodeIfPresent(Int.self, forKey: .slices) ?? policy.slices
        policy.measuredPrior = try c.decodeNumberIfPresent(forKey: .measuredPrior) ?? policy.measuredPrior
        guard policy.measuredPrior >= 0 else { throw bad(.measuredPrior, "must not be negative") }
        policy.maxBookAgeSeconds = try c.decodeNumberIfPresent(forKey: .maxBookAge) ?? policy.maxBookAgeSeconds
        policy.maxDepthSkewSeconds = try c.decodeNumberIfPresent(forKey: .maxDepthSkew) ?? policy.maxDepthSkewSeconds
        guard policy.maxBookAgeSeconds > 0 else { throw bad(.maxBookAge, "must be positive") }
        guard policy.maxDepthSkewSeconds >= 0 else { throw bad(.maxDepthSkew, "must not be negative") }
        guard policy.urgencyBudgetBps > 0 else { throw bad(.budgetBps, "must be positive") }
        guard policy.priceCapBps > 0 && policy.priceCapBps < 10_000 else {
            throw bad(.priceCapBps, "must be in (0, 10000)")
        }
        guard policy.z >= 0 else { throw bad(.z, "must not be negative") }
        guard policy.passiveTimeoutSeconds > 0 else { throw bad(.passiveTimeout, "must be positive") }
        guard (0...20).contains(policy.maxChases) else { throw bad(.maxChases, "must be 0…20") }
        guard (0...1).contains(policy.maxErrorRate) else { throw bad(.maxErrorRate, "must be in [0, 1]") }
        guard (1...1000).contains(policy.slices) else { throw bad(.slices, "must be 1…1000") }
    }
}
