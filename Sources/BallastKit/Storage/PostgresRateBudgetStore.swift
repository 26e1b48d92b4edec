public import Foundation
import Postgres
public import Venues

/// The rate budget of each (venue, API key) kept in `rate_budgets`, so every
/// Ballast process using the key draws from the same counts. Each reservation
/// is one short transaction holding the row lock (`SELECT … FOR UPDATE`).
public final class PostgresRateBudgetStore: RateBudgetStore {
    let database: LockedConnection

    /// A store writing through `database`.
    public init(database: LockedConnection) { self.database = database }

    public func reserve(venue: String, key: String, weight: Int, orders: Int, limits: RateLimits, now: Date) throws
        -> RateReservation
    {
        try update(venue: venue, key: key, now: now) {
            $0.reserve(weight: weight, orders: orders, limits: limits, now: now)
        }
    }

    public func observe(venue: String, key: String, usedWeight1m: Int?, orderCount10s: Int?, now: Date) throws {
        try update(venue: venue, key: key, now: now) {
            $0.observe(usedWeight1m: usedWeight1m, orderCount10s: orderCount10s, now: now)
        }
    }

    public func backOff(venue: String, key: String, until: Date) throws {
        try update(venue: venue, key: key, now: until) { $0.backoffUntil = max($0.backoffUntil ?? until, until) }
    }

    public func ban(venue: String, key: String, until: Date) throws {
        try update(venue: venue, key: key, now: until) { $0.bannedUntil = max($0.bannedUntil ?? until, until) }
    }

    /// Loads the row under lock (creating it if absent), applies `change`, writes it back.
    private func update<T>(venue: String, key: String, now: Date, _ change: (inout RateBudget) -> T) throws -> T {
        try database.with { connection in
            try connection.withTransaction {
                let fresh = RateBudget(now: now)
                try connection.execute(
                    """
                    INSERT INTO rate_budgets (venue_id, key_fingerprint, window_start, orders_window_start)
                    VALUES (\(venue), \(key), \(fresh.weightWindow), \(fresh.orderWindow))
                    ON CONFLICT DO NOTHING
                    """)
                let row = try connection.query(
                    """
                    SELECT window_start, weight_used, orders_window_start, orders_used, backoff_until, banned_until
                    FROM rate_budgets WHERE venue_id = \(venue) AND key_fingerprint = \(key) FOR UPDATE
                    """
                ).first!
                var budget = RateBudget(
                    weightWindow: try row.decode("window_start"), weightUsed: try row.decode("weight_used"),
                    orderWindow: try row.decode("orders_window_start"), ordersUsed: try row.decode("orders_used"),
                    backoffUntil: try row.decode("backoff_until", as: Date?.self),
                    bannedUntil: try row.decode("banned_until", as: Date?.self))
                let result = change(&budget)
                try connection.execute(
                    """
                    UPDATE rate_budgets SET window_start = \(budget.weightWindow), weight_used = \(budget.weightUsed),
                        orders_window_start = \(budget.orderWindow), orders_used = \(budget.ordersUsed),
                        backoff_until = \(budget.backoffUntil), banned_until = \(budget.bannedUntil), updated_at = now()
                    WHERE venue_id = \(venue) AND key_fingerprint = \(key)
                    """)
                return result
            }
        }
    }
}
