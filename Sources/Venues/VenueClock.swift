public import Foundation

/// Time as the venue client sees it: reading it and waiting. Injected so tests
/// can run rate-limit waits and bans without sleeping.
public protocol VenueClock: Sendable {
    /// The current time.
    func now() -> Date
    /// Waits `duration` (or pretends to).
    func sleep(for duration: Duration) async throws
}

/// The wall clock and real sleeps.
public struct SystemVenueClock: VenueClock {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}
