public import Foundation

/// A venue's published request limits and the headroom Ballast keeps below them.
public struct RateLimits: Sendable, Equatable {
    /// REQUEST_WEIGHT per minute (Binance: 6000).
    public var requestWeightPerMinute: Int
    /// ORDERS per 10 seconds (Binance: 100).
    public var ordersPerTenSeconds: Int
    /// Fraction of each limit kept free for safety (0.1 = use at most 90 %).
    public var safetyMargin: Double
    /// The longest the governor will wait for budget before refusing.
    public var maxWait: Duration
    /// A call counter that decays instead of a weight per minute (Kraken): a key may hold up to
    /// `max` points, and they drain at `decayPerSecond`. When set, request weights are points on
    /// this counter and `requestWeightPerMinute` is not used.
    public var callCounter: CallCounter?

    /// A decaying call counter's size and drain rate.
    public struct CallCounter: Sendable, Equatable {
        public var max: Int
        public var decayPerSecond: Double

        public init(max: Int, decayPerSecond: Double) {
            self.max = max
            self.decayPerSecond = decayPerSecond
        }
    }

    public init(
        requestWeightPerMinute: Int = 6000, ordersPerTenSeconds: Int = 100, safetyMargin: Double = 0.1,
        maxWait: Duration = .seconds(65), callCounter: CallCounter? = nil
    ) {
        self.callCounter = callCounter
        self.requestWeightPerMinute = requestWeightPerMinute
        self.ordersPerTenSeconds = ordersPerTenSeconds
        self.safetyMargin = safetyMargin
        self.maxWait = maxWait
    }

    /// The points Ballast lets a decaying counter reach (its size less the safety margin).
    public var counterBudget: Double? { callCounter.map { Double($0.max) * (1 - safetyMargin) } }

    /// The weight Ballast allows itself per minute.
    public var weightBudget: Int { max(1, Int(Double(requestWeightPerMinute) * (1 - safetyMargin))) }
    /// The orders Ballast allows itself per 10 seconds.
    public var orderBudget: Int { max(1, Int(Double(ordersPerTenSeconds) * (1 - safetyMargin))) }

    /// Start of the one-minute weight window containing `date` (windows align to UTC minutes).
    public static func weightWindow(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 60).rounded(.down) * 60)
    }

    /// Start of the ten-second order window containing `date`.
    public static func orderWindow(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 10).rounded(.down) * 10)
    }
}

/// The answer of a budget store to a request for capacity.
public enum RateReservation: Sendable, Equatable {
    /// Capacity taken: send now.
    case granted
    /// Not before `until` (next window, or the venue's Retry-After).
    case wait(until: Date, reason: String)
    /// A ban runs until `until`: send nothing.
    case banned(until: Date)
}

/// Shared counters for one (venue, API key): every process using the key takes
/// capacity from the same store, so together they stay under the limits.
public protocol RateBudgetStore: Sendable {
    /// Takes `weight` (and `orders` order slots) from the current windows if
    /// they allow it, atomically; otherwise says how long to wait.
    func reserve(venue: String, key: String, weight: Int, orders: Int, limits: RateLimits, now: Date) async throws
        -> RateReservation
    /// Raises the stored counts to what the venue reports (it also counts other clients of the key or IP).
    func observe(venue: String, key: String, usedWeight1m: Int?, orderCount10s: Int?, now: Date) async throws
    /// Holds every request until `until` (HTTP 429 Retry-After).
    func backOff(venue: String, key: String, until: Date) async throws
    /// Refuses every request until `until` (HTTP 418 ban).
    func ban(venue: String, key: String, until: Date) async throws
}
