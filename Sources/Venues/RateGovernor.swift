public import BallastCore
public import Foundation

/// Holds requests to one venue and key within the venue's limits: takes
/// capacity before each request, waits out windows and Retry-After, refuses
/// during bans, and records each decision.
public struct RateGovernor: Sendable {
    public let venue: String
    public let keyFingerprint: String
    public let limits: RateLimits
    let store: any RateBudgetStore
    let events: any VenueEventSink
    let clock: any TimeSource

    public init(
        venue: String, keyFingerprint: String, limits: RateLimits, store: any RateBudgetStore,
        events: any VenueEventSink, clock: any TimeSource
    ) {
        self.venue = venue
        self.keyFingerprint = keyFingerprint
        self.limits = limits
        self.store = store
        self.events = events
        self.clock = clock
    }

    /// Waits until `weight` (and `orders` slots) may be spent, then spends them.
    /// Throws `banned` during a ban and `throttled` when the wait would exceed `limits.maxWait`.
    public func acquire(weight: Int, orders: Int) async throws(VenueError) {
        while true {
            let now = clock.now()
            let answer: RateReservation
            do {
                answer = try await store.reserve(
                    venue: venue, key: keyFingerprint, weight: weight, orders: orders, limits: limits, now: now)
            } catch {
                throw .throttled(venue: venue, until: now, reason: "rate budget store failed: \(error)")
            }
            switch answer {
            case .granted:
                return
            case .banned(let until):
                await note(.refused, wait: .zero, "ban until \(until)")
                throw .banned(venue: venue, until: until)
            case .wait(let until, let reason):
                let wait = Duration.milliseconds(Int64(max(0, until.timeIntervalSince(now)) * 1000) + 1)
                guard wait <= limits.maxWait else {
                    await note(.refused, wait: wait, reason)
                    throw .throttled(venue: venue, until: until, reason: reason)
                }
                await note(.waited, wait: wait, reason)
                do { try await clock.sleep(for: wait) } catch {
                    throw .throttled(venue: venue, until: until, reason: "cancelled while waiting")
                }
            }
        }
    }

    /// Feeds the venue's usage headers back into the shared counts.
    public func observe(usedWeight1m: Int?, orderCount10s: Int?) async {
        try? await store.observe(
            venue: venue, key: keyFingerprint, usedWeight1m: usedWeight1m, orderCount10s: orderCount10s,
            now: clock.now())
    }

    /// Records a 429: nothing is sent for `retryAfter`.
    public func rateLimited(retryAfter: Duration) async {
        let until = clock.now().addingTimeInterval(Double(retryAfter.components.seconds))
        try? await store.backOff(venue: venue, key: keyFingerprint, until: until)
        await note(.backedOff, wait: retryAfter, "HTTP 429 from the venue")
    }

    /// Records a 418: nothing is sent for `retryAfter`.
    public func banned(retryAfter: Duration) async -> Date {
        let until = clock.now().addingTimeInterval(Double(retryAfter.components.seconds))
        try? await store.ban(venue: venue, key: keyFingerprint, until: until)
        await note(.bannedByVenue, wait: retryAfter, "HTTP 418 from the venue")
        return until
    }

    private func note(_ decision: ThrottleEvent.Decision, wait: Duration, _ reason: String) async {
        await events.record(
            ThrottleEvent(
                venue: venue, keyFingerprint: keyFingerprint, decidedAt: clock.now(), decision: decision, wait: wait,
                reason: reason))
    }
}
