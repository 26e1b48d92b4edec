// HTTP as venues see it: plain request and response values, and the one
// protocol every transport (libcurl, a recorded fake) implements.
//
// Invariants:
// - A transport error always says whether the request may have reached the
//   server (`reach`). Order logic depends on it: after `.never` a resend is
//   safe; after `.maybe` the order must be looked up first.
// - Every response carries its timings; they are the venue-health data.

/// Sends HTTP requests. Implementations must be safe to call from many tasks.
public protocol HTTPTransport: Sendable {
    /// Sends `request` and returns the response, whatever its status code.
    func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse
}

/// An HTTP request.
public struct HTTPRequest: Sendable, Equatable {
    /// The request method.
    public enum Method: String, Sendable { case get = "GET", post = "POST", put = "PUT", delete = "DELETE" }

    /// The method.
    public var method: Method
    /// The absolute URL, query string included.
    public var url: String
    /// Header fields in order.
    public var headers: [HTTPHeader]
    /// The body (empty for none).
    public var body: [UInt8]
    /// Overall time limit for this request; nil uses the transport's default.
    public var timeout: Duration?

    /// Creates a request.
    public init(
        method: Method, url: String, headers: [HTTPHeader] = [], body: [UInt8] = [], timeout: Duration? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// One header field.
public struct HTTPHeader: Sendable, Equatable {
    /// The field name as sent.
    public var name: String
    /// The field value.
    public var value: String

    /// Creates a header field.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// An HTTP response with the timings of the exchange.
public struct HTTPResponse: Sendable {
    /// The status code.
    public var status: Int
    /// Header fields with lower-cased names (a repeated field keeps its last value).
    public var headers: [String: String]
    /// The body bytes.
    public var body: [UInt8]
    /// How long each phase took.
    public var timings: HTTPTimings

    /// Creates a response.
    public init(status: Int, headers: [String: String], body: [UInt8], timings: HTTPTimings) {
        self.status = status
        self.headers = headers
        self.body = body
        self.timings = timings
    }

    /// The value of the header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers[name.lowercased()]
    }

    /// The body decoded as UTF-8.
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Phase timings of one exchange, each measured from the start of the request.
///
/// On a reused connection DNS, connect and TLS are near zero.
public struct HTTPTimings: Sendable, Equatable {
    /// Name resolution done.
    public var dns: Duration
    /// TCP connection established.
    public var connect: Duration
    /// TLS handshake done (zero for plain HTTP).
    public var tls: Duration
    /// First response byte received.
    public var firstByte: Duration
    /// Whole exchange done.
    public var total: Duration

    /// Creates timings.
    public init(dns: Duration, connect: Duration, tls: Duration, firstByte: Duration, total: Duration) {
        self.dns = dns
        self.connect = connect
        self.tls = tls
        self.firstByte = firstByte
        self.total = total
    }

    /// All phases zero.
    public static let zero = HTTPTimings(dns: .zero, connect: .zero, tls: .zero, firstByte: .zero, total: .zero)
}

/// A request that produced no HTTP response.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: String, Sendable {
        case couldNotResolve, couldNotConnect, timedOut, connectionReset, emptyReply, sendFailed, receiveFailed
        case tls, badURL, tooLarge, other
    }

    /// Whether the request may have reached the server.
    public enum Reach: String, Sendable {
        /// The request certainly did not reach the server: safe to send again.
        case never
        /// It may have: the outcome is unknown until looked up.
        case maybe
    }

    /// What went wrong.
    public var kind: Kind
    /// Whether the request may have reached the server.
    public var reach: Reach
    /// The transport's own code (libcurl's `CURLcode`), if any.
    public var code: Int
    /// The transport's message.
    public var message: String
    /// Timings up to the failure.
    public var timings: HTTPTimings

    /// Creates an error.
    public init(kind: Kind, reach: Reach, code: Int, message: String, timings: HTTPTimings = .zero) {
        self.kind = kind
        self.reach = reach
        self.code = code
        self.message = message
        self.timings = timings
    }

    public var description: String {
        let outcome = reach == .never ? "never sent" : "outcome unknown"
        return "HTTP \(kind.rawValue) (\(outcome)): \(message)"
    }
}
