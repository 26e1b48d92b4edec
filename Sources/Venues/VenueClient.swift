public import BallastCore
public import Foundation
public import Transport

/// What the executor needs from a venue: place, look up, cancel, fills of an order, and the touch
/// for a reprice. Every call of a real client goes through its rate-limit governor.
///
/// The order calls name the HTTP attempt their answer came in (`OrderAck.httpAttemptId`,
/// `Answer.httpAttemptId`), and so does a failure of a request that was sent
/// (`VenueError.httpAttemptId`): the executor records, for each step of an order, the very
/// request it came of. Where a call makes several requests, the attempt named is the one that
/// decided the answer: the order request of a place or a cancel (not a read-back after it), the
/// last read of a lookup or of the fills.
public protocol OrderVenue: Sendable {
    func placeOrder(_ order: NewOrder) async throws(VenueError) -> OrderAck
    /// nil when the venue says the order does not exist.
    func queryOrder(_ symbol: String, clientOrderId: String) async throws(VenueError) -> Answer<VenueOrder?>
    /// nil when the venue does not know the order.
    func cancelOrder(_ symbol: String, clientOrderId: String) async throws(VenueError) -> Answer<VenueOrder?>
    func orderFills(_ symbol: String, orderId: String) async throws(VenueError) -> Answer<[Fill]>
    func bookTickers(_ symbols: [String]) async throws(VenueError) -> [BookTicker]
    /// The resend rule of the dialect: when an order request that may still be in flight at
    /// `sentBy` (on our clock: it left no later than that) can no longer execute at the venue.
    /// Only after that time does "no such order" mean the request never will execute, so the
    /// same client order id may be sent again.
    func inFlightRequestsExpire(sentBy: Date) -> Date
    /// The client order id this venue is sent for an intent key (lower-case hex SHA-256), in a
    /// form the venue accepts.
    func clientOrderId(intentKey: String) -> String
}

/// The one protocol Pull, Propose's market view and Execute talk to a venue through, whatever
/// dialect it speaks. Ids, symbols and enums are Ballast's: each dialect maps its own at the edge.
public protocol VenueClient: OrderVenue {
    /// The venue id (as configured).
    var venue: String { get }
    /// Measures the venue's clock against ours, where the dialect signs with a timestamp.
    @discardableResult func synchroniseClock() async throws(VenueError) -> Duration
    /// The venue's listing (each symbol's base, quote, own name and rules) and published limits.
    func listing() async throws(VenueError) -> ExchangeInfo
    /// Balances and fee rates of the client's account.
    func account() async throws(VenueError) -> AccountSnapshot
    /// The order book of `symbol`, `limit` levels a side.
    func depth(_ symbol: String, limit: Int) async throws(VenueError) -> DepthSnapshot
    /// Open orders on `symbol` (all symbols when nil).
    func openOrders(_ symbol: String?) async throws(VenueError) -> [VenueOrder]
    /// One page of the account's fills on `symbol` (nil: on every symbol, where the dialect reads
    /// history account-wide) from `cursor` (nil: from the start), and the cursor after it. The
    /// cursor is the dialect's own text, stored between pulls.
    func fillPage(_ symbol: String?, from cursor: String?, limit: Int) async throws(VenueError) -> FillPage
    /// Whether the venue answers open orders and fill history for the whole account at once (one
    /// call, then filtered) rather than per symbol.
    var readsAccountWide: Bool { get }
}

/// Everything a dialect needs to make a client for one account (or none) at one venue.
public struct VenueClientParts: Sendable {
    public var venue: String
    public var account: String?
    public var baseURL: String
    public var credentials: Credentials?
    public var transport: any HTTPTransport
    public var governor: RateGovernor
    public var events: any VenueEventSink
    public var clock: any TimeSource
    /// How long a signed request stays valid at the venue, where the dialect has such a window (ms).
    public var recvWindowMs: Int
    /// Where a dialect that signs with an always-increasing number draws it.
    public var nonces: any NonceSource

    public init(
        venue: String, account: String?, baseURL: String, credentials: Credentials?, transport: any HTTPTransport,
        governor: RateGovernor, events: any VenueEventSink, clock: any TimeSource, recvWindowMs: Int,
        nonces: any NonceSource = LocalNonceSource()
    ) {
        self.venue = venue
        self.account = account
        self.baseURL = baseURL
        self.credentials = credentials
        self.transport = transport
        self.governor = governor
        self.events = events
        self.clock = clock
        self.recvWindowMs = recvWindowMs
        self.nonces = nonces
    }
}

/// A venue dialect: its name in the job file, how it spells a client order id, whose rate budget a
/// request draws on, and how to make its client. Adding a dialect means one folder under
/// `Sources/Venues` and one entry in `VenueDialect.all`.
public struct VenueDialect: Sendable {
    /// The name a job file's `dialect` field uses.
    public let name: String
    /// The client order id this dialect sends for an intent key (lower-case hex SHA-256).
    public let clientOrderId: @Sendable (_ intentKey: String) -> String
    /// The rate budget a client draws on: per venue (`nil` key fingerprint: one budget for the
    /// host, as Binance counts weight per IP) or per API key.
    public let budgetPerKey: Bool
    /// The decaying call counter the dialect's venue keeps per key, if it counts that way.
    public let callCounter: RateLimits.CallCounter?
    /// The counter its public calls (no key) draw on, per host, where the venue limits them so.
    public let publicCallCounter: RateLimits.CallCounter?
    let make: @Sendable (VenueClientParts) -> any VenueClient

    public init(
        name: String, clientOrderId: @escaping @Sendable (String) -> String, budgetPerKey: Bool,
        callCounter: RateLimits.CallCounter? = nil, publicCallCounter: RateLimits.CallCounter? = nil,
        make: @escaping @Sendable (VenueClientParts) -> any VenueClient
    ) {
        self.callCounter = callCounter
        self.publicCallCounter = publicCallCounter
        self.name = name
        self.clientOrderId = clientOrderId
        self.budgetPerKey = budgetPerKey
        self.make = make
    }

    /// A client of this dialect.
    public func client(_ parts: VenueClientParts) -> any VenueClient { make(parts) }

    /// Every dialect Ballast speaks.
    public static let all: [VenueDialect] = [.binanceSpot, .krakenSpot, .coinbaseAdvanced]

    /// The dialect called `name`, if Ballast speaks it.
    public static func named(_ name: String) -> VenueDialect? { all.first { $0.name == name } }

    /// The names of every dialect, for messages.
    public static var names: String { all.map(\.name).joined(separator: ", ") }
}
