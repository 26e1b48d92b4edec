public import Foundation

/// Time as Ballast's decide → execute → measure path sees it: reading it and waiting.
///
/// The one clock abstraction that venue clients, the simulated venues and execute share, so a
/// replay or a test runs them all in virtual time: nothing on that path reads the wall clock or
/// sleeps for real except through a `TimeSource`. Real runs use `SystemTime`.
public protocol TimeSource: Sendable {
    /// The current time.
    func now() -> Date
    /// Waits `duration` (or, in virtual time, lets that much time pass).
    func sleep(for duration: Duration) async throws
}

/// The wall clock and real sleeps.
public struct SystemTime: TimeSource {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}

/// Virtual time: it moves only when told to, and a sleep moves it by the time slept, at once.
public final class VirtualTime: TimeSource, @unchecked Sendable {
    // Safe to share: `current` and `slept` are only touched while holding `lock`.
    private let lock = NSLock()
    private var current: Date
    private var slept: [Duration] = []

    /// Starts at `start` (by default 2026-01-01T00:00:00Z).
    public init(_ start: Date = Date(timeIntervalSince1970: 1_767_225_600)) { current = start }

    public func now() -> Date { lock.withLock { current } }

    public func sleep(for duration: Duration) async throws {
        lock.withLock {
            slept.append(duration)
            current = current.addingTimeInterval(duration.timeInterval)
        }
    }

    /// Moves time forward by `seconds`.
    public func advance(by seconds: TimeInterval) { lock.withLock { current = current.addingTimeInterval(seconds) } }

    /// Sets the time (never backwards).
    public func set(_ date: Date) { lock.withLock { current = max(current, date) } }

    /// Every sleep asked for so far.
    public var sleeps: [Duration] { lock.withLock { slept } }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    public var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
