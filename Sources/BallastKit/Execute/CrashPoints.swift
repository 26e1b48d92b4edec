public import Foundation

/// Injected crash points for the crash-safety tests: `BALLAST_CRASH_AT=point`
/// or `point:n` makes the process SIGKILL itself the n-th time (default 1st)
/// it reaches `point`. Unset — the normal case — it does nothing.
///
/// Points: `before-send` (the `sending` row committed, request not yet made),
/// `after-send` (the venue answered, nothing recorded), `between-fills` (some
/// of an order's fills stored), `after-cancel` (a passive order cancelled at
/// the venue, not recorded), `mid-chase` (the cancel recorded, the next
/// generation not yet created), `after-lookup` (a lookup answered, not recorded).
public final class CrashPoints: @unchecked Sendable {
    // Safe to share: `hits` is only touched under `lock` (execute's venue lanes reach points at once).
    private let target: (point: String, hit: Int)?
    private let lock = NSLock()
    private var hits: [String: Int] = [:]

    public static let names = [
        "before-send", "after-send", "between-fills", "after-cancel", "mid-chase", "after-lookup",
    ]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let spec = environment["BALLAST_CRASH_AT"], !spec.isEmpty else {
            target = nil
            return
        }
        let parts = spec.split(separator: ":")
        target = (String(parts[0]), parts.count > 1 ? Int(parts[1]) ?? 1 : 1)
    }

    /// Kills the process here if this is the configured point and hit.
    public func reach(_ point: String) {
        guard let target, target.point == point else { return }
        let hit = lock.withLock {
            hits[point, default: 0] += 1
            return hits[point]!
        }
        if hit == target.hit {
            FileHandle.standardError.write(Data("crash point \(point):\(target.hit) reached: SIGKILL\n".utf8))
            kill(getpid(), SIGKILL)
        }
    }
}
