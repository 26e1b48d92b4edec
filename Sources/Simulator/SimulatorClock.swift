public import Foundation

/// The simulator's notion of now: the wall clock, or virtual time for replays and tests.
public protocol SimulatorClock: Sendable {
    func now() -> Date
}

/// The wall clock.
public struct SystemSimulatorClock: SimulatorClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// Virtual time that moves only when told to.
public final class ManualSimulatorClock: SimulatorClock, @unchecked Sendable {
    // Safe to share: `current` is only touched while holding `lock`.
    private let lock = NSLock()
    private var current: Date

    public init(_ start: Date = Date(timeIntervalSince1970: 1_767_225_600)) { current = start }

    public func now() -> Date { lock.withLock { current } }

    /// Moves time forward by `seconds`.
    public func advance(by seconds: TimeInterval) { lock.withLock { current = current.addingTimeInterval(seconds) } }

    /// Sets the time (never backwards).
    public func set(_ date: Date) { lock.withLock { current = max(current, date) } }
}
