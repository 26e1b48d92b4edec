public import Foundation

/// A budget store in this process's memory, for a single worker or tests.
/// Several workers sharing one key need the PostgreSQL store instead.
public final class LocalRateBudgetStore: RateBudgetStore, @unchecked Sendable {
    // Safe to share: `budgets` is only touched while holding `lock`.
    private let lock = NSLock()
    private var budgets: [String: RateBudget] = [:]

    public init() {}

    public func reserve(venue: String, key: String, weight: Int, orders: Int, limits: RateLimits, now: Date)
        -> RateReservation
    {
        lock.withLock {
            var budget = budgets["\(venue)/\(key)", default: RateBudget(now: now)]
            defer { budgets["\(venue)/\(key)"] = budget }
            return budget.reserve(weight: weight, orders: orders, limits: limits, now: now)
        }
    }

    public func observe(venue: String, key: String, usedWeight1m: Int?, orderCount10s: Int?, now: Date) {
        lock.withLock {
            budgets["\(venue)/\(key)", default: RateBudget(now: now)].observe(
                usedWeight1m: usedWeight1m, orderCount10s: orderCount10s, now: now)
        }
    }

    public func backOff(venue: String, key: String, until: Date) {
        lock.withLock {
            var budget = budgets["\(venue)/\(key)", default: RateBudget(now: until)]
            budget.backoffUntil = max(budget.backoffUntil ?? until, until)
            budgets["\(venue)/\(key)"] = budget
        }
    }

    public func ban(venue: String, key: String, until: Date) {
        lock.withLock {
            var budget = budgets["\(venue)/\(key)", default: RateBudget(now: until)]
            budget.bannedUntil = max(budget.bannedUntil ?? until, until)
            budgets["\(venue)/\(key)"] = budget
        }
    }
}

/// The counters of one budget and the rule that spends them. Shared by every store.
public struct RateBudget: Sendable, Equatable {
    public var weightWindow: Date
    public var weightUsed: Int
    public var orderWindow: Date
    public var ordersUsed: Int
    public var backoffUntil: Date?
    public var bannedUntil: Date?

    public init(
        weightWindow: Date, weightUsed: Int, orderWindow: Date, ordersUsed: Int, backoffUntil: Date?,
        bannedUntil: Date?
    ) {
        self.weightWindow = weightWindow
        self.weightUsed = weightUsed
        self.orderWindow = orderWindow
        self.ordersUsed = ordersUsed
        self.backoffUntil = backoffUntil
        self.bannedUntil = bannedUntil
    }

    /// An empty budget at `now`.
    public init(now: Date) {
        self.init(
            weightWindow: RateLimits.weightWindow(now), weightUsed: 0, orderWindow: RateLimits.orderWindow(now),
            ordersUsed: 0, backoffUntil: nil, bannedUntil: nil)
    }

    /// Rolls the windows forward to `now`, resetting their counts. Under a decaying call counter,
    /// `weightUsed` holds the counter in thousandths of a point and `weightWindow` when it was last
    /// drained; rolling drains it.
    mutating func roll(to now: Date, counter: RateLimits.CallCounter? = nil) {
        if let counter {
            let elapsed = max(0, now.timeIntervalSince(weightWindow))
            weightUsed = max(0, weightUsed - Int((elapsed * counter.decayPerSecond * 1000).rounded(.down)))
            weightWindow = max(weightWindow, now)
            rollOrders(to: now)
            return
        }
        let minute = RateLimits.weightWindow(now)
        if minute > weightWindow {
            weightWindow = minute
            weightUsed = 0
        }
        rollOrders(to: now)
    }

    private mutating func rollOrders(to now: Date) {
        let tenSeconds = RateLimits.orderWindow(now)
        if tenSeconds > orderWindow {
            orderWindow = tenSeconds
            ordersUsed = 0
        }
    }

    /// Takes capacity if the windows allow it; otherwise says until when to wait.
    public mutating func reserve(weight: Int, orders: Int, limits: RateLimits, now: Date) -> RateReservation {
        if let bannedUntil, bannedUntil > now { return .banned(until: bannedUntil) }
        if let backoffUntil, backoffUntil > now {
            return .wait(until: backoffUntil, reason: "Retry-After from the venue")
        }
        roll(to: now, counter: limits.callCounter)
        if let counter = limits.callCounter, let budget = limits.counterBudget {
            let needed = weightUsed + weight * 1000
            if Double(needed) > budget * 1000, weight > 0 {
                let excess = Double(needed) - budget * 1000
                return .wait(
                    until: now.addingTimeInterval(excess / (counter.decayPerSecond * 1000)),
                    reason:
                        "call counter \(Double(weightUsed) / 1000)+\(weight) would pass \(budget) of \(counter.max)"
                )
            }
        } else if weightUsed + weight > limits.weightBudget {
            return .wait(
                until: weightWindow.addingTimeInterval(60),
                reason:
                    "weight \(weightUsed)+\(weight) would pass \(limits.weightBudget) of \(limits.requestWeightPerMinute)/min"
            )
        }
        if orders > 0, ordersUsed + orders > limits.orderBudget {
            return .wait(
                until: orderWindow.addingTimeInterval(10),
                reason:
                    "orders \(ordersUsed)+\(orders) would pass \(limits.orderBudget) of \(limits.ordersPerTenSeconds)/10s"
            )
        }
        weightUsed += limits.callCounter == nil ? weight : weight * 1000
        ordersUsed += orders
        return .granted
    }

    /// Raises the counts to the venue's own figures for the current windows.
    public mutating func observe(usedWeight1m: Int?, orderCount10s: Int?, now: Date) {
        guard usedWeight1m != nil || orderCount10s != nil else { return }
        roll(to: now)
        if let usedWeight1m { weightUsed = max(weightUsed, usedWeight1m) }
        if let orderCount10s { ordersUsed = max(ordersUsed, orderCount10s) }
    }
}
