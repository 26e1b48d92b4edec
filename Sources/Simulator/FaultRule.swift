import BallastCore
import Foundation

/// A scripted failure: which requests it hits and what goes wrong.
///
///     { "kind": "server-error", "method": "POST", "path": "/api/v3/order", "after": 2, "count": 1, "placed": true }
///
/// hits the third order request only: the order is placed, then the venue answers HTTP 503.
public struct FaultRule: Codable, Sendable, Equatable {
    /// What goes wrong.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// HTTP 429 with Retry-After (−1003).
        case rateLimit = "rate-limit"
        /// HTTP 418 with Retry-After: every request is refused until it passes.
        case ban
        /// HTTP 503; with `placed` the order is accepted first.
        case serverError = "server-error"
        /// −1007 "execution status unknown" (HTTP 503); with `placed` the order is accepted first.
        case unknownStatus = "unknown-status"
        /// The request is carried out, then no response ever comes (the client times out).
        case dropResponse = "drop-response"
        /// The connection is reset; with `placed` the order is accepted first.
        case reset
        /// The answer the request had (or an order not placed would have had), with its status,
        /// its body cut in half: not valid JSON.
        case malformed
        /// An extra delay of `delayMs` before the normal response.
        case delay
        /// The request is held `delayMs` on its way in, before the venue (its recvWindow check and
        /// matching engine) sees it: a client that times out first may look the order up, find
        /// nothing, and resend while the original is still coming.
        case delayInbound = "delay-inbound"
        /// An order that crosses takes only half its quantity (on the step) from the book, as if the
        /// book had thinned since it was read: an IOC order expires with the rest, a GTC one rests.
        case partialFill = "partial-fill"
    }

    public var kind: Kind
    /// `GET`, `POST`, `DELETE`; nil for any.
    public var method: String?
    /// An exact path, or a prefix ending in `*`; nil for any.
    public var path: String?
    /// Matching requests to let through first.
    public var after: Int
    /// Matching requests to hit after that (nil, or 0 in a file: every one).
    public var count: Int?
    /// Hit a matching request with this probability instead (drawn from the venue's seeded generator).
    public var probability: Double?
    /// For order requests: accept the order before failing.
    public var placed: Bool
    public var retryAfterSeconds: Int
    public var delayMs: Double

    public init(
        kind: Kind, method: String? = nil, path: String? = nil, after: Int = 0, count: Int? = 1,
        probability: Double? = nil, placed: Bool = false, retryAfterSeconds: Int = 2, delayMs: Double = 0
    ) {
        self.kind = kind
        self.method = method
        self.path = path
        self.after = after
        self.count = count
        self.probability = probability
        self.placed = placed
        self.retryAfterSeconds = retryAfterSeconds
        self.delayMs = delayMs
    }

    enum CodingKeys: String, CodingKey {
        case kind, method, path, after, count, probability, placed
        case retryAfterSeconds = "retry_after_seconds", delayMs = "delay_ms"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            kind: try c.decode(Kind.self, forKey: .kind), method: try c.decodeIfPresent(String.self, forKey: .method),
            path: try c.decodeIfPresent(String.self, forKey: .path),
            after: try c.decodeIfPresent(Int.self, forKey: .after) ?? 0,
            count: c.contains(.count)
                ? try c.decodeIfPresent(Int.self, forKey: .count).flatMap { $0 > 0 ? $0 : nil } : 1,
            probability: try c.decodeNumberIfPresent(forKey: .probability),
            placed: try c.decodeIfPresent(Bool.self, forKey: .placed) ?? false,
            retryAfterSeconds: try c.decodeIfPresent(Int.self, forKey: .retryAfterSeconds) ?? 2,
            delayMs: try c.decodeNumberIfPresent(forKey: .delayMs) ?? 0)
    }

    func matches(method: String, path: String) -> Bool {
        if let m = self.method, m.uppercased() != method { return false }
        guard let p = self.path else { return true }
        return p.hasSuffix("*") ? path.hasPrefix(String(p.dropLast())) : p == path
    }
}

/// A rule and how many matching requests it has seen.
struct ActiveFault {
    var rule: FaultRule
    var seen = 0

    /// Counts a matching request and says whether the fault hits it.
    mutating func hits(_ draw: () -> Double) -> Bool {
        seen += 1
        if let probability = rule.probability { return seen > rule.after && draw() < probability }
        guard seen > rule.after else { return false }
        if let count = rule.count { return seen <= rule.after + count }
        return true
    }
}

/// SplitMix64: the simulator's seeded generator (also the lab's: generated OHLCV files, fuzz mutations).
public struct SeededRandom: Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Double {
        let u1 = max(unit(), 1e-300)
        let u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}
