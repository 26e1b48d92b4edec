public import BallastCore
public import Logging
import Postgres
public import Transport
public import Venues

/// What every venue client of one run shares: the HTTP transport, the clock,
/// the credential loader, and where events and rate budgets are kept.
public struct VenueWiring: Sendable {
    public let transport: any HTTPTransport
    public let clock: any TimeSource
    public let credentials: CredentialLoader
    public let events: any VenueEventSink
    public let budgets: any RateBudgetStore
    public let nonces: any NonceSource
    public let logger: Logger

    public init(
        transport: any HTTPTransport, clock: any TimeSource, credentials: CredentialLoader, events: any VenueEventSink,
        budgets: any RateBudgetStore, nonces: any NonceSource = LocalNonceSource(), logger: Logger
    ) {
        self.transport = transport
        self.clock = clock
        self.credentials = credentials
        self.events = events
        self.budgets = budgets
        self.nonces = nonces
        self.logger = logger
    }

    /// The rate budget every client of a venue shares, where the dialect counts per venue (see `client`).
    public static let budgetKey = "host"

    /// A client for `account` at `venue` (nil account: public data only) within `limits`, in the
    /// venue's dialect.
    public func client(_ venue: VenueSettings, account: AccountSettings?, limits: RateLimits) throws
        -> any VenueClient
    {
        guard let dialect = VenueDialect.named(venue.dialect) else {
            throw BallastError.invalidInput(
                "venue \(venue.id): unknown dialect '\(venue.dialect)' (known: \(VenueDialect.names))")
        }
        let credentials = try account.map { try self.credentials.load($0) }
        var limits = limits
        limits.safetyMargin = venue.rateLimitMargin
        limits.callCounter = account == nil ? dialect.publicCallCounter : venue.callCounter ?? dialect.callCounter
        // Binance counts request weight per IP, so public and signed calls of every key from this
        // host draw on one budget per venue (orders counted there too: stricter than per account).
        // A dialect that counts per key draws on its key's budget; public calls on the host's.
        let key = dialect.budgetPerKey ? credentials?.fingerprint ?? Self.budgetKey : Self.budgetKey
        let governor = RateGovernor(
            venue: venue.id, keyFingerprint: key, limits: limits, store: budgets, events: events, clock: clock)
        return dialect.client(
            VenueClientParts(
                venue: venue.id, account: account?.id, baseURL: venue.baseURL, credentials: credentials,
                transport: TimeoutTransport(base: transport, timeout: .milliseconds(venue.timeoutMs)),
                governor: governor, events: events, clock: clock, recvWindowMs: venue.recvWindowMs,
                nonces: nonces))
    }
}

/// Applies a venue's configured time limit to requests that do not set one.
struct TimeoutTransport: HTTPTransport {
    let base: any HTTPTransport
    let timeout: Duration

    func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        var request = request
        if request.timeout == nil { request.timeout = timeout }
        return try await base.send(request)
    }
}
